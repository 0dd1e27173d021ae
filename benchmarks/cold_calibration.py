"""How long would ``./run_all.sh --profile quick`` take from an empty cache, on *this* machine, now?

A warm run hides the cost of its cells; each cached record keeps the ``runtime_s`` its cell took when it
was computed, but on whichever machine and under whichever load. This script calibrates those records: it
reads the cell ledgers of a warm batch run (``python -m semiad.core.batch --ledger-dir DIR --summary-csv
S``), and per notebook and stratum (task x method) recomputes the cell of median recorded runtime (big
strata: several cells at evenly spaced runtime quantiles), in a pool of ``--jobs`` workers with one torch
thread each (``run_all``'s setting), and compares the time now with the recorded one. The calibrated
estimate of a notebook is its warm wall time plus, per stratum, the recorded CPU of the cells it is first
to use times that stratum's ratio now/recorded, over ``--jobs``. Each recomputed cell's metrics are
compared with the cached ones (bit-identical or not): a reproducibility check of the committed numbers on
this machine, for free.

Approximations, stated in the output: one cell per stratum; the ODDS and image grids run their deep cells
through batched engines when cold (``engine="auto"``), while this recomputes one cell at a time, so their
estimate is an upper bound; tail effects (a grid's last cells running alone) are not modelled.

    python -m semiad.core.batch --profile quick --ledger-dir L --summary-csv S.csv   # warm, minutes
    python benchmarks/cold_calibration.py --ledgers L --summary S.csv [--jobs 2] [--dry-run]
    python benchmarks/cold_calibration.py --add-measured TIMINGS.csv COLD_SUMMARY.csv ...

``--add-measured``: fill the ``measured_cold_min`` column of a timings table from the summaries
(``--summary-csv``) of real cold runs, i.e. rows whose notebook computed every cell it used.

Nothing in the cache is modified: cells that write artifacts (the autoencoder stages) run against a
temporary cache; the others read the real cache's artifacts through a temporary root.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import joblib

from semiad.core.ledger import ok_entries

AE_TASKS = ("odds_ae", "deep_sad_images_ae", "residual_cae")


@functools.cache
def task_functions() -> dict:
    """Every cell task of the paper packages, by its cell name (found by attribute, not registered)."""
    import importlib

    found = {}
    for mod in ("semiad.deep_sad.odds", "semiad.deep_sad.images", "semiad.dads.grid", "semiad.rlad.grid",
                "semiad.uainets.grid", "semiad.residual_rl.grid"):
        for obj in vars(importlib.import_module(mod)).values():
            if callable(obj) and isinstance(getattr(obj, "task_name", None), str):
                found[obj.task_name] = obj
    return found


def read_ledgers(folder: Path, cache_root: Path) -> list[tuple[str, list[dict]]]:
    """``[(notebook, [record of each cell it is the first to use])]`` in batch (file name) order."""
    seen: set[str] = set()
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        notebook = path.stem.replace("__", "/") + ".ipynb"
        records = []
        for entry in ok_entries(path):
            if entry["hash"] in seen:
                continue
            seen.add(entry["hash"])
            rec = json.loads((cache_root / "cells" / entry["task"] / f"{entry['hash']}.json").read_text())
            records.append(rec)
        out.append((notebook, records))
    return out


def stratum(rec: dict) -> str:
    cfg = rec["config"]
    return f"{cfg['task']}:{cfg.get('method', '')}"


def _recompute(rec: dict, cache_root: str) -> dict:
    import torch

    torch.set_num_threads(1)
    task = task_functions()[rec["config"]["task"]]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if rec["config"]["task"] not in AE_TASKS:  # read the real artifacts, write nothing there
            (root / "artifacts").symlink_to(Path(cache_root) / "artifacts")
        start = time.perf_counter()
        out = task(rec["config"], {"cache_root": str(root), "torch_threads": 1})
        seconds = time.perf_counter() - start
    old, new = rec.get("metrics", {}), out.get("metrics", {})
    keys = sorted(k for k in old if isinstance(old[k], (int, float)))
    diff = max((abs(float(new.get(k, math.nan)) - float(old[k])) for k in keys), default=0.0)
    return {"seconds": seconds, "identical": all(new.get(k) == old[k] for k in keys), "max_abs_diff": diff}


def add_measured(timings: Path, summaries: list[Path]) -> None:
    """Set ``measured_cold_min`` in ``timings`` from batch summaries of cold runs (computed == cells)."""
    measured = {}
    for path in summaries:
        for row in csv.DictReader(path.open()):
            if row["status"] == "ok" and int(row["cells"]) > 0 and row["computed"] == row["cells"]:
                measured[row["notebook"]] = float(row["minutes"])
    rows = list(csv.DictReader(timings.open()))
    for row in rows:
        row["measured_cold_min"] = measured.get(row["notebook"], row.get("measured_cold_min") or "")
    with timings.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"measured cold times for {sorted(measured)} written to {timings}")


def main() -> None:
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "--add-measured":
        add_measured(Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledgers", type=Path, required=True)
    ap.add_argument("--summary", type=Path, required=True, help="the warm run's --summary-csv")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-share", type=float, default=0.01,
                    help="strata below this share of the total recorded CPU borrow their notebook's ratio")
    ap.add_argument("--share-per-sample", type=float, default=0.05,
                    help="one more sample per this share of the total recorded CPU (big strata: several)")
    ap.add_argument("--out", type=Path, default=None, help="write the per-notebook table as a CSV")
    ap.add_argument("--dry-run", action="store_true", help="only print the plan")
    args = ap.parse_args()
    from semiad.core.paths import results_dir

    cache_root = results_dir()
    warm = {row["notebook"]: float(row["minutes"]) for row in csv.DictReader(args.summary.open())}
    notebooks = read_ledgers(args.ledgers, cache_root)
    total = sum(r.get("runtime_s", 0.0) for _, recs in notebooks for r in recs)
    plan = []  # (notebook, stratum, recorded CPU of the stratum, [sampled records])
    for nb, recs in notebooks:
        groups = defaultdict(list)
        for r in recs:
            groups[stratum(r)].append(r)
        for key, members in sorted(groups.items()):
            cpu = sum(r.get("runtime_s", 0.0) for r in members)
            members.sort(key=lambda r: r.get("runtime_s", 0.0))
            n = 0 if cpu < args.min_share * total else min(len(members),
                                                         1 + int(cpu / (args.share_per_sample * total)))
            # evenly spaced runtime quantiles (one sample: the median cell)
            picks = [members[int((i + 0.5) * len(members) / n)] for i in range(n)]
            plan.append((nb, key, cpu, picks))
    sampled = [(p, rec) for p in plan for rec in p[3]]
    cost = sum(rec.get("runtime_s", 0.0) for _, rec in sampled)
    print(f"{len(notebooks)} notebooks, {sum(len(r) for _, r in notebooks)} distinct cells, recorded CPU "
          f"{total / 60:.1f} min; recomputing {len(sampled)} cells (recorded {cost / 60:.1f} CPU-min)")
    if args.dry_run:
        for nb, key, cpu, picks in plan:
            if picks:
                print(f"  {nb:<45} {key:<40} {cpu / 60:7.2f} CPU-min  {len(picks)} sample(s)")
        return
    order = sorted(range(len(sampled)), key=lambda i: -sampled[i][1].get("runtime_s", 0.0))  # longest first
    done = joblib.Parallel(n_jobs=args.jobs, backend="loky")(
        joblib.delayed(_recompute)(sampled[i][1], str(cache_root)) for i in order)
    results = [None] * len(sampled)
    for i, res in zip(order, done, strict=True):
        results[i] = res
    now_s, rec_s = defaultdict(float), defaultdict(float)
    for (p, rec), res in zip(sampled, results, strict=True):
        now_s[(p[0], p[1])] += res["seconds"]
        rec_s[(p[0], p[1])] += max(rec.get("runtime_s", 0.0), 1e-3)
    ratio = {k: now_s[k] / rec_s[k] for k in now_s}
    rows = []
    for nb, _ in notebooks:
        mine = [p for p in plan if p[0] == nb]
        own = [(p[2], ratio[(nb, p[1])]) for p in mine if (nb, p[1]) in ratio]
        nb_ratio = (sum(c * q for c, q in own) / sum(c for c, _ in own)) if own else 1.0
        recorded = sum(p[2] for p in mine)
        now = sum(p[2] * ratio.get((nb, p[1]), nb_ratio) for p in mine)
        rows.append({"notebook": nb, "warm_min": warm.get(nb, 0.0),
                     "recorded_cpu_min": round(recorded / 60, 2), "calibrated_cpu_min": round(now / 60, 2),
                     "cold_est_min": round(warm.get(nb, 0.0) + now / 60 / args.jobs, 2),
                     "measured_cold_min": ""})
    print(f"\n{'notebook':<45} {'warm':>6} {'recorded CPU':>13} {'now CPU':>9} {'cold est.':>10}  (minutes)")
    for r in rows:
        print(f"{r['notebook']:<45} {r['warm_min']:6.2f} {r['recorded_cpu_min']:13.2f} "
              f"{r['calibrated_cpu_min']:9.2f} {r['cold_est_min']:10.2f}")
    tot = {k: sum(float(r[k]) for r in rows) for k in ("warm_min", "recorded_cpu_min", "calibrated_cpu_min",
                                                  "cold_est_min")}
    print(f"{'total':<45} {tot['warm_min']:6.2f} {tot['recorded_cpu_min']:13.2f} "
          f"{tot['calibrated_cpu_min']:9.2f} {tot['cold_est_min']:10.2f}")
    print("\nsampled cells (ratio = now / recorded; identical = every metric bit-identical to the cache):")
    for (p, rec), res in zip(sampled, results, strict=True):
        print(f"  {p[0]:<45} {p[1]:<40} {res['seconds']:7.1f} s / {rec.get('runtime_s', 0):7.1f} s = "
              f"{res['seconds'] / max(rec.get('runtime_s', 0.0), 1e-3):.2f}  identical={res['identical']} "
              f"(max |diff| {res['max_abs_diff']:.2g})")
    if args.out is not None:
        with args.out.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
