"""Deep SAD image grid on one GPU: experiments / hour of the one-model and the stacked path, and the full
Tables 3-5 grid (``paper`` profile) extrapolated from them.

One command on a CUDA machine (MNIST, Fashion-MNIST and CIFAR-10 files under SEMIAD_DATA_DIR; only MNIST is
trained on, the other two are costed from their nets' step times), a few minutes on one H100 and well under
the 10-minute budget:

    SEMIAD_DATA_DIR=/path/to/data python benchmarks/gpu_image_grid.py

and a tiny check of the script itself on a CPU (what ``tests/core/test_cluster.py`` runs, ~20 s):

    SEMIAD_DATA_DIR=/path/to/data python benchmarks/gpu_image_grid.py --device cpu --smoke

What it measures. The point: MNIST, scenario (i) at gamma_l = 0.05, normal class 0, the first
``--experiments`` experiments of the paper profile (seeds x known classes: one training-set size, so they
stack), the paper's AE and Deep SAD cells with the epochs overridden. The AE phase (``run_grid`` of the AE
cells, which both paths share: the stacked engine starts from the cached AEs) and the Deep SAD phase of each
path are timed on a fresh cache at two epoch counts ``--epochs E1 E2``:

* ``one-model``: ``run_grid(image_cell, ...)``, one LeNet per cell (``--gpu-jobs`` worker processes);
* ``stacked``: :func:`semiad.deep_sad.images.run_stacked` (up to ``--max-stack`` experiments per
  stacked LeNet), then ``run_grid`` finds every cell cached (``run_image_grid(engine="stacked")``).

The difference between the two epoch counts gives each phase's seconds per experiment-step (one optimiser step
of one experiment: ceil(rows / 200) steps per epoch) and, by subtraction, its fixed seconds per cell (split,
centre init, test scoring, I/O). Experiments / hour are given as measured (at E2 epochs) and predicted at the
paper's 150 + 150 epochs.

The full-grid estimate is an EXTRAPOLATION: every distinct AE and method cell of Tables 3-5 (paper profile,
counted by config hash) costs its steps (``deep_sad_grid.cell_steps``, nominal class sizes) x the measured
MNIST seconds per step x the ratio of its dataset's step time to MNIST's (one LeNet, random tensors,
``deep_sad_grid.step_seconds``: F-MNIST's and CIFAR-10's nets are bigger), plus the fixed cost per cell. The
stacked path is assumed to keep its measured per-step cost on every dataset (its stacks in the full grid hold
up to ``--max-stack`` experiments, as here). Rows: the Deep SAD cells (AE + Deep SAD) and all LeNet methods
(AE, Deep SAD, Deep SVDD, supervised; a cell the stacked engine cannot take is costed at the one-model rate).
Shallow methods and SS-DGM (CPU work) are not included; their cell counts are printed.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from semiad.core.cache import config_hash
from semiad.core.grid import run_grid
from semiad.deep_sad.image_settings import IMAGE_DATASETS
from semiad.deep_sad.images import (
    ALL_METHODS,
    build_grid,
    experiments,
    image_cell,
    pretrain_autoencoder_cell,
    run_stacked,
    stack_objective,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
dsg = importlib.import_module("deep_sad_grid")  # the grid benchmark's cost model (cell_steps, step_seconds)

PAPER_EPOCHS = 150


@dataclass
class Phase:
    """Seconds per experiment-step and fixed seconds per cell of one phase, from two timed runs."""
    per_step: float
    per_cell: float

    def seconds(self, steps: int, cells: int) -> float:
        return self.per_step * steps + self.per_cell * cells


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _cap_test(cell: dict, max_test: int) -> dict:
    cell = {**cell, "sizes": {**cell["sizes"], "max_test": int(max_test)}}
    if "ae" in cell:
        cell["ae"] = _cap_test(cell["ae"], max_test)
    return cell


def point(n: int, epochs: int, max_normal: int | None, max_test: int | None = None
          ) -> tuple[list[dict], list[dict]]:
    """(AE cells, Deep SAD cells) of the measured point at ``epochs`` (see the module docstring); the caps
    on normal training and test images are the paper profile's unless given."""
    labeled = experiments("mnist", "labeled", "paper", values=(0.05,))
    settings = [s for s in labeled if s.normal_class == 0][:n]
    _, cells = dsg.point_cells(settings, epochs, max_normal)
    if max_test is not None:
        cells = [_cap_test(c, max_test) for c in cells]
    return list({config_hash(c["ae"]): c["ae"] for c in cells}.values()), cells


def timed(fn: Callable[[], object], device: str) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def measure(aes: list[dict], cells: list[dict], device: str, jobs: int, max_stack: int) -> dict[str, float]:
    """Wall seconds of the AE phase and of each path's Deep SAD phase, on fresh caches."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="semiad-gpu-grid-") as tmp:
        one, stacked = f"{tmp}/one", f"{tmp}/stacked"
        rt = {"device": device, "cache_root": one, "torch_threads": 1}
        out["ae"] = timed(lambda: run_grid(pretrain_autoencoder_cell, aes, n_jobs=jobs, runtime=rt,
                                           cache_root=one, progress=False), device)
        shutil.copytree(one, stacked)  # both paths start from the same cached autoencoders
        recs: dict[str, list[dict]] = {}
        out["one-model"] = timed(lambda: recs.__setitem__("one-model", run_grid(
            image_cell, cells, n_jobs=jobs, runtime=rt, cache_root=one, progress=False)), device)
        srt = {**rt, "cache_root": stacked}

        def stack() -> None:
            computed = run_stacked(cells, srt, stacked, max_stack=max_stack, progress=False)
            assert computed == len(cells), f"the stacked engine took {computed} of {len(cells)} cells"
            recs["stacked"] = run_grid(image_cell, cells, runtime=srt, cache_root=stacked, progress=False)
        out["stacked"] = timed(stack, device)
    torch.set_num_threads(1)
    for path, records in recs.items():
        failed = [r for r in records if r["status"] != "ok"]
        if failed:
            raise SystemExit(f"{path}: {len(failed)} cell(s) failed, first: {failed[0]['error']}")
        out[f"{path} AUC"] = sum(r["metrics"]["auc"] for r in records) / len(records)
    return out


def fit_phase(t1: float, t2: float, steps1: int, steps2: int, cells: int) -> Phase:
    """Per-step and per-cell costs from the same cells timed at two epoch counts (clipped at 0)."""
    per_step = max(0.0, (t2 - t1) / (steps2 - steps1))
    return Phase(per_step, max(0.0, (t1 - per_step * steps1) / cells))


def extrapolate(phases: dict[str, Phase], ratio: dict[tuple[str, str], float], labels: Sequence[str]
                ) -> tuple[dict[str, float], int, int]:
    """Hours of the full grid's distinct AE + method cells (``labels``) per path, and the cell counts."""
    aes, cells = (list(d.values()) for d in dsg.full_grid_cells(labels))
    ae_s = sum(phases["ae"].seconds(dsg.cell_steps(c) * ratio[(c["dataset"], "ae")], 1) for c in aes)
    hours = {}
    for path in ("one-model", "stacked"):
        total = ae_s
        for c in cells:
            phase = phases[path] if path == "one-model" or stack_objective(c) else phases["one-model"]
            total += phase.seconds(dsg.cell_steps(c) * ratio[(c["dataset"], "encoder")], 1)
        hours[path] = total / 3600
    return hours, len(aes), len(cells)


def full_grid_counts() -> pd.Series:
    """Distinct cells of Tables 3-5 (paper profile, all methods), by method."""
    sources = {ds: "real" for ds in IMAGE_DATASETS}
    cells: dict[str, str] = {}
    for ds in IMAGE_DATASETS:
        for sc in dsg.SCENARIOS:
            aes, rows = build_grid(experiments(ds, sc, "paper"), ALL_METHODS, "paper", sources)
            cells.update({config_hash(c): "AE pre-training" for c in aes})
            cells.update({config_hash(r["cell"]): r["cell"]["method"] for r in rows})
    return pd.Series(cells).value_counts()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--experiments", type=int, default=32, help="experiments in the measured point")
    parser.add_argument("--epochs", type=int, nargs=2, default=(2, 12), metavar=("E1", "E2"),
                        help="the two epoch counts timed (AE epochs = Deep SAD epochs)")
    parser.add_argument("--max-stack", type=int, default=16, help="experiments per stacked LeNet")
    parser.add_argument("--gpu-jobs", type=int, default=1,
                        help="one-model worker processes sharing the device")
    parser.add_argument("--max-normal", type=int, default=None, help="cap on normal training images")
    parser.add_argument("--max-test", type=int, default=None, help="cap on test images")
    parser.add_argument("--bench-steps", type=int, default=20,
                        help="timed steps per net for the dataset ratios")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script "
                        "(2 experiments, 200 normal and 500 test images, 1 and 2 epochs)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.experiments, args.epochs, args.max_stack, args.bench_steps = 2, (1, 2), 2, 2
        args.max_normal, args.max_test = 200, 500
    if not args.epochs[0] < args.epochs[1]:
        parser.error("--epochs E1 E2 needs E1 < E2")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(1)
    device = args.device
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else "CPU (1 thread)"
    print(f"torch {torch.__version__}, device {device}: {name}")
    e1, e2 = args.epochs
    runs = {e: point(args.experiments, e, args.max_normal, args.max_test) for e in (e1, e2)}
    aes, cells = runs[e2]
    print(f"point: MNIST scenario (i) gamma_l=0.05, normal class 0, {len(cells)} experiments, {len(aes)} "
          f"AEs, epochs {e1} and {e2}, max_normal={args.max_normal}, max_test={args.max_test}, stacks of <= "
          f"{args.max_stack}")
    if device.startswith("cuda"):  # untimed: CUDA context, kernel selection, data loading
        warm = point(1, 1, args.max_normal, args.max_test)
        measure(warm[0], warm[1], device, 1, 1)
    t = {e: measure(*runs[e], device, args.gpu_jobs, args.max_stack) for e in (e1, e2)}
    steps = {e: (sum(map(dsg.cell_steps, runs[e][0])), sum(map(dsg.cell_steps, runs[e][1])))
             for e in (e1, e2)}
    phases = {"ae": fit_phase(t[e1]["ae"], t[e2]["ae"], steps[e1][0], steps[e2][0], len(aes))}
    for path in ("one-model", "stacked"):
        phases[path] = fit_phase(t[e1][path], t[e2][path], steps[e1][1], steps[e2][1], len(cells))
    paper_aes, paper_cells = point(args.experiments, PAPER_EPOCHS, args.max_normal, args.max_test)
    rows = []
    for path in ("one-model", "stacked"):
        wall = t[e2]["ae"] + t[e2][path]
        paper_s = (phases["ae"].seconds(sum(map(dsg.cell_steps, paper_aes)), len(paper_aes))
                   + phases[path].seconds(sum(map(dsg.cell_steps, paper_cells)), len(paper_cells)))
        rows.append({"path": path, "device": device,
                     f"AE s ({e1}/{e2} ep)": f"{t[e1]['ae']:.1f}/{t[e2]['ae']:.1f}",
                     f"Deep SAD s ({e1}/{e2} ep)": f"{t[e1][path]:.1f}/{t[e2][path]:.1f}",
                     "ms / step": round(1e3 * phases[path].per_step, 3),
                     "s fixed / cell": round(phases[path].per_cell, 2),
                     f"exp/h measured ({e2} ep)": round(3600 * len(cells) / wall, 1),
                     "exp/h at 150+150 ep (pred.)": round(3600 * len(cells) / paper_s, 1),
                     "mean AUC": round(t[e2][f"{path} AUC"], 4)})
    print(f"\nAE phase: {1e3 * phases['ae'].per_step:.3f} ms / step, "
          f"{phases['ae'].per_cell:.2f} s fixed / cell")
    print(pd.DataFrame(rows).to_string(index=False))
    step = {(ds, part): dsg.step_seconds(ds, part, device, args.bench_steps)
            for ds in IMAGE_DATASETS for part in ("ae", "encoder")}
    ratio = {k: v / step[("mnist", k[1])] for k, v in step.items()}
    print("\nstep-time ratio to MNIST (one LeNet, batch 200): "
          + ", ".join(f"{ds} {part} {r:.2f}" for (ds, part), r in ratio.items()))
    counts = full_grid_counts()
    print(f"\nFull Tables 3-5 grid, paper profile: {int(counts.sum())} distinct cells: "
          + ", ".join(f"{m} {n}" for m, n in counts.items()))
    est = []
    lenet = "all LeNet methods (AE, Deep SAD, Deep SVDD, supervised)"
    for label, methods in (("Deep SAD (AE + Deep SAD)", ["Deep SAD"]), (lenet, list(dsg.LENET_METHODS))):
        hours, n_ae, n_cells = extrapolate(phases, ratio, methods)
        est.append({"cells": label, "AE cells": n_ae, "method cells": n_cells,
                    "one-model h": round(hours["one-model"], 2), "stacked h": round(hours["stacked"], 2),
                    "stacked speed-up": round(hours["one-model"] / max(hours["stacked"], 1e-9), 2)})
    print(f"EXTRAPOLATED hours on this {device} ({args.gpu_jobs} one-model worker(s); module docstring):")
    print(pd.DataFrame(est).to_string(index=False))
    print(f"\ntotal time of this script: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
