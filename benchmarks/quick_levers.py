"""What resizing the quick profile would save: the cold minutes of ``run_all`` under fewer seeds (issue #19).

Reads the cell ledgers of a warm batch run (as ``cold_calibration.py`` does) and the per-notebook cold
minutes of ``docs/quick_timings.csv`` (a timed cold run where there is one, else the calibrated estimate).
Per notebook it splits the cells' recorded CPU into the ODDS ablation grids (cells under another test
split or the min-max scaling than the default protocol's) and the rest, and counts the seeds of each cell
group (a config with its seeds removed). A notebook's grid time (cold minus warm minutes) is then scaled
by the share of cells a resized profile keeps, assuming time proportional to seeds. Rows, cumulative:

1. the ODDS ablation grids at 3 of the quick profile's 10 seeds;
2. DADS, RLAD, UaiNets and the residual-map policy at 1 seed per cell group;
3. the default ODDS grid of Tables 2/6 (and the ablation presets) at 3 seeds.

    python -m semiad.core.batch --profile quick --ledger-dir L --summary-csv S.csv   # warm, minutes
    python benchmarks/quick_levers.py --ledgers L [--timings docs/quick_timings.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from pathlib import Path

from cold_calibration import read_ledgers

from semiad.core.paths import results_dir
from semiad.deep_sad.odds import OddsConfig

SEEDED_PAPERS = ("dads", "rlad", "uainets", "residual_rl")
ODDS_TASKS = ("odds", "odds_ae")


def _without_seeds(obj):
    if isinstance(obj, dict):
        return {k: _without_seeds(v) for k, v in obj.items() if k not in ("seed", "seeds")}
    if isinstance(obj, list):
        return [_without_seeds(v) for v in obj]
    return obj


def is_ablation(config: dict) -> bool:
    """An ODDS cell outside the default protocol's data side (the disjoint split or the min-max scaling)."""
    protocol = config.get("protocol") if isinstance(config.get("protocol"), dict) else {}
    return config["task"] in ODDS_TASKS and (protocol.get("test_split") != "resampled"
                                             or bool(protocol.get("minmax_after_standardize")))


def notebook_shares(records: list[dict]) -> tuple[float, float]:
    """(share of recorded CPU in ODDS ablation cells, mean seeds per cell group) of a notebook's new cells."""
    total = sum(r["runtime_s"] for r in records) or 1.0
    ablation = sum(r["runtime_s"] for r in records if is_ablation(r["config"]))
    groups = Counter(json.dumps(_without_seeds(r["config"]), sort_keys=True, default=str) for r in records)
    return ablation / total, (len(records) / len(groups) if groups else 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ledgers", type=Path, required=True, help="the warm run's --ledger-dir")
    ap.add_argument("--timings", type=Path, default=Path("docs/quick_timings.csv"))
    args = ap.parse_args()
    timings = {row["notebook"]: row for row in csv.DictReader(args.timings.open())}
    keep_odds = 3 / len(OddsConfig.for_profile("quick").seeds)
    totals = [0.0, 0.0, 0.0, 0.0]
    print(f"{'notebook':48s} {'cold':>6s} {'abl.':>5s} {'seeds':>5s} {'(1)':>6s} {'(2)':>6s} {'(3)':>6s}")
    for notebook, records in read_ledgers(args.ledgers, Path(results_dir())):
        row = timings[notebook]
        cold = float(row["measured_cold_min"] or row["cold_est_min"])
        warm = float(row["warm_min"])
        grid = max(cold - warm, 0.0)
        ablation, seeds = notebook_shares(records)
        one = grid * (1 - ablation + ablation * keep_odds)
        two = one / seeds if notebook.split("/")[0] in SEEDED_PAPERS and seeds > 1 else one
        three = two * keep_odds if ablation > 0 else two
        rows = (cold, warm + one, warm + two, warm + three)
        totals = [t + r for t, r in zip(totals, rows, strict=True)]
        print(f"{notebook:48s} {cold:6.1f} {ablation:5.2f} {seeds:5.1f} {rows[1]:6.1f} {rows[2]:6.1f} "
              f"{rows[3]:6.1f}")
    print(f"{'total (minutes, 2 cores)':48s} {totals[0]:6.1f} {'':11s} "
          + " ".join(f"{t:6.1f}" for t in totals[1:]))


if __name__ == "__main__":
    main()
