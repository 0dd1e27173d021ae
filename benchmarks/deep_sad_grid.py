"""Throughput of the Deep SAD image grid (Tables 3-5): experiments / hour for one scenario point, and an
estimate for the full grid.

Usage (the real measurement, on an idle machine; MNIST idx files under SEMIAD_DATA_DIR):

    SEMIAD_DATA_DIR=/work/shared/data python benchmarks/deep_sad_grid.py \\
        [--dataset mnist] [--gamma-l 0.05] [--normal-classes 0 1 2] [--n-known 3] [--epochs 3] \\
        [--max-normal N] [--jobs 2] [--gpu-jobs 1] [--no-tensor-loop]

Why: the full grid of Tables 3-5 is thousands of small-network trainings (150 AE + 150 Deep SAD epochs
each, App. C/E). The issue's targets: the full grid in <= 2 h on one H100-class GPU, and on CPU >= 5x
the throughput of a plain one-model-at-a-time PyTorch loop with a DataLoader. This script measures, for
ONE scenario point (default: scenario (i) "labeled", gamma_l = 0.05; experiments = normal classes x the
first ``--n-known`` known classes of the paper's seeded draw), with the same epochs and training data:

* ``baseline (DataLoader)``: a self-contained loop the way a typical reproduction is written: for every
  experiment a fresh LeNet autoencoder (App. D) trained through ``DataLoader(TensorDataset(...),
  batch_size=200, shuffle=True)``, then Deep SAD on its encoder (Adam, lr 1e-4, weight decay 1e-6), then
  the test set scored through a DataLoader; experiments run one after another with torch's threads.
* ``tensor loop`` (optional, ``--no-tensor-loop`` skips it): the same loop with tensor-resident batches
  (one permutation per epoch, contiguous slices) instead of the DataLoader, to separate that effect.
  Both loops use PyTorch's default NCHW layout, as a plain loop does.
* ``tensor loop, channels-last`` (skipped with the tensor loop): the same loop with semiad's channels-last
  LeNets (:data:`semiad.core.detectors.lenet.CHANNELS_LAST`), to separate the layout's share from the grid's.
* ``semiad``: the real grid path (the cells of :func:`semiad.deep_sad.images.build_grid`
  run by :func:`semiad.core.grid.run_grid`, AE cells first, as ``run_image_grid`` does) with
  ``--jobs`` worker processes of one thread each and a fresh cache. It trains one autoencoder per distinct
  unlabeled training set: the unlabeled data depend on (normal class, gamma_p, seed) only (the pollution is
  drawn before the labels, :mod:`semiad.deep_sad.image_settings`), so every known class of a normal class
  shares one AE, in every scenario. That is part of its design; the table counts AE trainings of each path.
  Its LeNets run channels-last (:data:`semiad.core.detectors.lenet.CHANNELS_LAST`).

The mean test AUC of every path is printed, so a reader can check that the same science was done (the
AUCs differ a little: the paths see the same data but different random mini-batch orders). With a GPU,
the baseline and semiad paths are also run with ``device="cuda"``.

The full-grid estimate is an *extrapolation*, not a measurement. It is given for semiad and, training
only, for the plain loop (:func:`plain_loop_seconds`: one AE per distinct experiment, NCHW, ``--threads``
threads in one process), whose ratio is the grid-level training speed-up. The distinct AE and deep-method
cells of the paper profile (all three scenarios and datasets, counted by config hash) are costed by their
optimiser steps (150 epochs, batch 200, training-set sizes from the nominal class sizes) times a per-step cost
measured here on random tensors for each dataset's LeNet (F-MNIST's and CIFAR-10's nets are bigger than
MNIST's), divided over the workers, plus a fixed cost per cell (split construction, test scoring: a
0-epoch cell timed in this process) and a one-time cost (worker start-up and data loading: what is left
of the measured point's wall time); see :func:`estimate`. Only the measured point (MNIST by default) is
timed end to end; the other datasets' parts rest on the per-step costs (and MNIST's fixed costs) alone.
"""

from __future__ import annotations

import argparse
import copy
import math
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, TensorDataset

from semiad.core.cache import config_hash
from semiad.core.detectors.base import KNOWN_ANOMALY
from semiad.core.detectors.deep_sad import deep_sad_loss, init_center
from semiad.core.detectors.lenet import (
    FlatLeNetAutoencoder,
    FlatLeNetEncoder,
    get_arch,
    glorot_uniform_,
    use_channels_last,
)
from semiad.core.grid import run_cell, run_grid
from semiad.deep_sad.image_settings import (
    IMAGE_DATASETS,
    ImageSetting,
    known_classes_draw,
    setting_counts,
    unique_settings,
)
from semiad.deep_sad.images import (
    AE_TASK,
    build_grid,
    cells_for,
    dataset_sources,
    experiments,
    image_cell,
    make_split,
    methods_by_label,
    pretrain_autoencoder_cell,
    run_stacked,
)

BATCH = 200
LR, WEIGHT_DECAY, MILESTONE = 1e-4, 1e-6, 50
SCENARIOS = ("labeled", "pollution", "known_classes")
#: Training images per class of the official splits (MNIST varies 5,421-6,742 around 6,000).
NOMINAL_NORMAL = {"mnist": 6000, "fashion_mnist": 6000, "cifar10": 5000}
#: The methods of Tables 3-5 that train a LeNet beyond the shared autoencoder (SS-DGM is an MLP, the shallow
#: methods are not deep: both are left out of the estimate).
LENET_METHODS = ("Deep SAD", "Deep SVDD", "Supervised Classifier")
DEFAULT_THREADS = torch.get_num_threads()


@dataclass
class PathResult:
    path: str
    device: str
    threads: str
    experiments: int
    ae_trainings: int
    wall_s: float
    aucs: list[float]

    @property
    def per_hour(self) -> float:
        return 3600.0 * self.experiments / self.wall_s


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


# ------------------------------------------------------------------------------------------ grid configs
def point_settings(dataset: str, gamma_l: float, normal_classes: Sequence[int], n_known: int
                   ) -> list[ImageSetting]:
    """Scenario (i) at ``gamma_l``: each normal class x the ``n_known`` first classes of its seeded draw."""
    out = []
    for s in experiments(dataset, "labeled", "paper", values=(gamma_l,)):
        known = known_classes_draw(dataset, s.normal_class, 0, n_known)
        if s.normal_class in normal_classes and s.known_classes[0] in known:
            out.append(s)
    return out


def _patch(cell: dict, epochs: int, max_normal: int | None) -> dict:
    cell["sizes"] = {**cell["sizes"], "max_normal": max_normal}
    cell["train"] = {**cell["train"], "n_epochs": int(epochs)}
    if "ae" in cell:
        cell["ae"] = _patch(copy.deepcopy(cell["ae"]), epochs, max_normal)
    return cell


def point_cells(settings: Sequence[ImageSetting], epochs: int, max_normal: int | None
                ) -> tuple[list[dict], list[dict]]:
    """(distinct AE cells, Deep SAD cells) of the measured point: paper-profile configs with the epochs and
    the normal-image cap overridden."""
    sources = dataset_sources(sorted({s.dataset for s in settings}))
    _, rows = build_grid(settings, methods_by_label(["Deep SAD"]), "paper", sources)
    cells = [_patch(copy.deepcopy(r["cell"]), epochs, max_normal) for r in rows]
    aes = {config_hash(c["ae"]): c["ae"] for c in cells}
    return list(aes.values()), cells


# ------------------------------------------------------------------------------------------ baseline loops
Batches = Callable[[Sequence[torch.Tensor], bool], Iterator[list[torch.Tensor]]]


def dataloader_batches(tensors: Sequence[torch.Tensor], shuffle: bool) -> Iterator[list[torch.Tensor]]:
    """The typical reproduction: a DataLoader over a TensorDataset (per-sample indexing + collate)."""
    yield from DataLoader(TensorDataset(*tensors), batch_size=BATCH, shuffle=shuffle)


def tensor_batches(tensors: Sequence[torch.Tensor], shuffle: bool) -> Iterator[list[torch.Tensor]]:
    """Tensor-resident batches: one permutation, contiguous slices (on the tensors' device)."""
    n = len(tensors[0])
    if shuffle:
        perm = torch.randperm(n, device=tensors[0].device)
        tensors = [t[perm] for t in tensors]
    for i in range(0, n, BATCH):
        yield [t[i:i + BATCH] for t in tensors]


def _fit(module: torch.nn.Module, tensors: Sequence[torch.Tensor], loss_fn: Callable, epochs: int,
         batches: Batches, device: str) -> None:
    opt = torch.optim.Adam(module.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[MILESTONE], gamma=0.1)
    module.train()
    for _ in range(epochs):
        for batch in batches(tensors, True):
            batch = [b.to(device, non_blocking=True) for b in batch]
            if len(batch[0]) < 2:  # BatchNorm needs two samples
                continue
            loss = loss_fn(*batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    module.eval()


@torch.no_grad()
def _scores(encoder: torch.nn.Module, c: torch.Tensor, X: torch.Tensor, batches: Batches,
            device: str) -> np.ndarray:
    out = [torch.sqrt(torch.sum((encoder(xb.to(device)) - c) ** 2, dim=1)).cpu()
           for (xb,) in batches((X,), False)]
    return torch.cat(out).numpy()


def one_experiment(cell: dict, epochs: int, batches: Batches, device: str) -> float:
    """AE pre-training, Deep SAD and test AUC of one experiment, from scratch; returns the AUC. The
    DataLoader keeps the data on the CPU and moves each batch; ``tensor_batches`` gets device tensors."""
    split = make_split(cell, {})
    seed, dataset = int(cell["setting"]["seed"]), cell["dataset"]
    home = device if batches is tensor_batches else "cpu"
    X, y = torch.as_tensor(split.X_train, device=home), torch.as_tensor(split.y_semi, device=home)
    torch.manual_seed(seed)
    ae = glorot_uniform_(FlatLeNetAutoencoder(dataset)).to(device)
    _fit(ae, (X[y != KNOWN_ANOMALY],), lambda xb: torch.mean((ae(xb) - xb) ** 2), epochs, batches, device)
    encoder = ae.encoder
    c = init_center(encoder, X.to(device), y.to(device))
    _fit(encoder, (X, y), lambda xb, yb: deep_sad_loss(encoder(xb), c, yb), epochs, batches, device)
    X_test = torch.as_tensor(split.X_test, device=home)
    return float(roc_auc_score(split.y_test, _scores(encoder, c, X_test, batches, device)))


def run_loop(name: str, cells: Sequence[dict], epochs: int, batches: Batches, device: str,
             threads: int, channels_last: bool = False) -> PathResult:
    """One experiment after another. ``channels_last=False`` (the plain loops): PyTorch's default NCHW
    layout; ``True``: the channels-last layout of semiad's LeNets
    (:data:`semiad.core.detectors.lenet.CHANNELS_LAST`), to separate the layout's share of the speed-up
    from the
    grid's."""
    torch.set_num_threads(threads)
    _sync(device)
    start = time.perf_counter()
    with use_channels_last(channels_last):
        aucs = [one_experiment(c, epochs, batches, device) for c in cells]
    _sync(device)
    return PathResult(name, device, str(threads), len(cells), len(cells), time.perf_counter() - start, aucs)


# ------------------------------------------------------------------------------------------ semiad path
def run_semiad(ae_cells: Sequence[dict], cells: Sequence[dict], device: str, jobs: int,
               stacked: bool = False) -> tuple[PathResult, float]:
    """The grid path on a fresh cache; returns the result and the wall time of its AE phase.

    ``stacked``: the Deep SAD cells are trained K at a time as one stacked LeNet in this process
    (``run_image_grid(engine="stacked")``, :func:`semiad.deep_sad.images.run_stacked`)."""
    with tempfile.TemporaryDirectory(prefix="semiad-grid-bench-") as root:
        runtime = {"device": device, "cache_root": root, "torch_threads": 1}
        start = time.perf_counter()
        run_grid(pretrain_autoencoder_cell, ae_cells, n_jobs=jobs, runtime=runtime, cache_root=root,
                 progress=False)
        ae_wall = time.perf_counter() - start
        if stacked:
            run_stacked(cells, runtime, root, progress=False)
        records = run_grid(image_cell, cells, n_jobs=jobs, runtime=runtime, cache_root=root, progress=False)
        wall = time.perf_counter() - start
    failed = [r for r in records if r["status"] != "ok"]
    if failed:
        print(f"[semiad] {len(failed)} cell(s) failed, first: {failed[0]['error']}")
    aucs = [r["metrics"]["auc"] for r in records if r["status"] == "ok"]
    name = "semiad stacked" if stacked else "semiad"
    return PathResult(name, device, f"{jobs} x 1", len(cells), len(ae_cells), wall, aucs), ae_wall


# ------------------------------------------------------------------------------------------ extrapolation
def step_seconds(dataset: str, part: str, device: str, steps: int, channels_last: bool = True) -> float:
    """Seconds per Adam step (forward + backward, batch 200) of one LeNet AE or encoder with the current
    torch threads, in semiad's layout (``channels_last=True``) or PyTorch's default (``False``)."""
    torch.manual_seed(0)
    with use_channels_last(channels_last):  # weights are laid out at build time, activations at run time
        net = (FlatLeNetAutoencoder(dataset) if part == "ae" else FlatLeNetEncoder(dataset)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
        x = torch.rand(BATCH, math.prod(get_arch(dataset).in_shape), device=device)
        net.train()

        def step() -> None:
            out = net(x)
            loss = torch.mean((out - x) ** 2) if part == "ae" else torch.mean(out ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(2):
            step()
        _sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(device)
    return (time.perf_counter() - start) / steps


def cell_steps(cell: dict) -> int:
    """Optimiser steps of one AE or method cell: epochs x ceil(training rows / 200), with the nominal class
    size (capped by the cell's ``max_normal``); an AE trains on the unlabeled rows only."""
    s = cell["setting"]
    n_normal = NOMINAL_NORMAL[cell["dataset"]]
    if cell["sizes"]["max_normal"] is not None:
        n_normal = min(n_normal, cell["sizes"]["max_normal"])
    _, p, m = setting_counts(n_normal, s["gamma_l"], s["gamma_p"], max(len(s["known_classes"]), 1))
    rows = n_normal + p + (0 if cell["task"] == AE_TASK else m)
    return cell["train"]["n_epochs"] * math.ceil(rows / BATCH)


def full_grid_cells(labels: Sequence[str]) -> tuple[dict[str, dict], dict[str, dict]]:
    """Distinct (by config hash) AE cells and method cells of Tables 3-5, paper profile, for ``labels``."""
    sources = {ds: "real" for ds in IMAGE_DATASETS}
    aes: dict[str, dict] = {}
    cells: dict[str, dict] = {}
    for ds in IMAGE_DATASETS:
        for sc in SCENARIOS:
            settings = experiments(ds, sc, "paper")
            ae_cells, rows = build_grid(settings, methods_by_label(labels), "paper", sources)
            aes.update({config_hash(c): c for c in ae_cells})
            cells.update({config_hash(r["cell"]): r["cell"] for r in rows})
    return aes, cells


def plain_loop_seconds(labels: Sequence[str], step_s: dict[tuple[str, str], float]) -> float:
    """Training time of the full grid for the plain one-model-at-a-time loop: every distinct experiment of
    Tables 3-5 (paper profile, identical settings of the three scenarios counted once, as the paper reused
    them) trains its own autoencoder, then each of its LeNet method runs, one after another in one process.
    Conservative for the loop: one AE per experiment serves all of its methods, and no DataLoader or
    scoring cost is counted (``step_s``: the loop's per-step costs)."""
    sources = {ds: "real" for ds in IMAGE_DATASETS}
    methods = methods_by_label(labels)
    total = 0.0
    for ds in IMAGE_DATASETS:
        settings = unique_settings(s for sc in SCENARIOS for s in experiments(ds, sc, "paper")).values()
        for setting in settings:
            ae, cells = cells_for(setting, methods, "paper", sources[ds])
            total += cell_steps(ae) * step_s[(ds, "ae")]
            total += sum(cell_steps(c) * step_s[(ds, "encoder")] for _, c in cells)
    return total


def compute_seconds(aes: Sequence[dict], cells: Sequence[dict], step_s: dict[tuple[str, str], float],
                    workers: int) -> float:
    """Predicted training time: per phase, the summed step costs over min(workers, cells) parallel workers."""
    def phase(group: Sequence[dict], part: str) -> float:
        total = sum(cell_steps(c) * step_s[(c["dataset"], part)] for c in group)
        return total / max(1, min(workers, len(group)))
    return phase(aes, "ae") + phase(cells, "encoder")


def cell_rounds(aes: Sequence[dict], cells: Sequence[dict], workers: int) -> float:
    """Cells per busy worker, summed over the two phases (what a fixed per-cell cost is multiplied by)."""
    return sum(len(g) / max(1, min(workers, len(g))) for g in (aes, cells))


def per_cell_seconds(ae_cell: dict, cell: dict, device: str) -> float:
    """Fixed cost of one AE cell plus one Deep SAD cell without training (0 epochs): split construction,
    center init, test scoring, artifact I/O; measured in this process (data already loaded, 1 thread)."""
    threads = torch.get_num_threads()
    zero_ae = _patch(copy.deepcopy(ae_cell), 0, ae_cell["sizes"]["max_normal"])
    zero = _patch(copy.deepcopy(cell), 0, cell["sizes"]["max_normal"])
    with tempfile.TemporaryDirectory(prefix="semiad-grid-bench-") as root:
        runtime = {"device": device, "cache_root": root, "torch_threads": 1}
        start = time.perf_counter()
        for c in (zero_ae, zero):
            run_cell(pretrain_autoencoder_cell if c["task"] == AE_TASK else image_cell, c, runtime, root)
        _sync(device)
        seconds = time.perf_counter() - start
    torch.set_num_threads(threads)
    return seconds / 2


def estimate(measured: PathResult, point: tuple[list[dict], list[dict]], device: str, workers: int,
             steps: int, loop_threads: int) -> pd.DataFrame:
    """Full-grid extrapolation from per-step costs on ``device``, calibrated on the measured point.

    Model: wall = training time (per-step costs on random tensors, perfect scaling over the workers)
    + fixed cost per cell (:func:`per_cell_seconds`) x cells per worker + a one-time cost (worker start-up,
    each worker's data loading) = what is left of the measured point's wall time (clipped at 0).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    step_s = {(ds, part): step_seconds(ds, part, device, steps)
              for ds in IMAGE_DATASETS for part in ("ae", "encoder")}
    torch.set_num_threads(loop_threads)
    loop_s = {(ds, part): step_seconds(ds, part, device, steps, channels_last=False)
              for ds in IMAGE_DATASETS for part in ("ae", "encoder")}
    torch.set_num_threads(threads)
    print(f"\nper-step cost on {device} (batch {BATCH}, Adam), ms, semiad (channels-last, 1 thread on CPU): "
          + ", ".join(f"{ds} {part} {1e3 * s:.1f}" for (ds, part), s in step_s.items()))
    print(f"per-step cost on {device}, ms, plain loop (NCHW, {loop_threads} thread(s) on CPU): "
          + ", ".join(f"{ds} {part} {1e3 * s:.1f}" for (ds, part), s in loop_s.items()))
    fixed = per_cell_seconds(point[0][0], point[1][0], device)
    predicted = compute_seconds(*point, step_s, workers)
    rounds = cell_rounds(*point, workers)
    once = max(0.0, measured.wall_s - predicted - fixed * rounds)
    print(f"[{device}] measured point: {measured.wall_s:.1f} s = predicted training {predicted:.1f} s + "
          f"{fixed:.2f} s per cell x {rounds:.1f} cells per worker + one-time {once:.1f} s")
    rows = []
    for name, labels in (("Deep SAD (AE + Deep SAD)", ["Deep SAD"]),
                         ("all LeNet methods (AE, Deep SAD, Deep SVDD x3, supervised)", list(LENET_METHODS))):
        aes, cells = (list(d.values()) for d in full_grid_cells(labels))
        train_s = compute_seconds(aes, cells, step_s, workers)
        fixed_s = fixed * cell_rounds(aes, cells, workers) + once
        loop_train_s = plain_loop_seconds(labels, loop_s)
        rows.append({"device": device, "workers": workers, "cells": name, "AE cells": len(aes),
                     "method cells": len(cells), "training h": round(train_s / 3600, 2),
                     "fixed h": round(fixed_s / 3600, 2), "est. hours": round((train_s + fixed_s) / 3600, 2),
                     "plain-loop training h": round(loop_train_s / 3600, 2),
                     "training speed-up": round(loop_train_s / train_s, 2)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ main
def table(results: Sequence[PathResult]) -> pd.DataFrame:
    """One row per path; the speedup is against the DataLoader baseline on the same device."""
    baseline = {r.device: r for r in results if r.path.startswith("baseline")}
    return pd.DataFrame([{"path": r.path, "device": r.device, "threads": r.threads,
                          "experiments": r.experiments, "AE trainings": r.ae_trainings,
                          "wall s": round(r.wall_s, 1), "experiments/hour": round(r.per_hour, 1),
                          "speedup vs baseline": round(r.per_hour / baseline[r.device].per_hour, 2),
                          "mean AUC": round(float(np.mean(r.aucs)), 4) if r.aucs else float("nan")}
                         for r in results])


def measure_device(device: str, ae_cells: list[dict], cells: list[dict], args: argparse.Namespace,
                   jobs: int) -> tuple[list[PathResult], PathResult]:
    """All paths on one device; returns (results, the semiad result). One untimed 1-epoch experiment first
    warms this process up (kernel selection, CUDA context), so the first timed loop does not pay for it."""
    torch.set_num_threads(args.threads)
    for channels_last in (False, True):
        with use_channels_last(channels_last):
            one_experiment(cells[0], 1, tensor_batches, device)
    loop = "baseline (DataLoader)"
    results = [run_loop(loop, cells, args.epochs, dataloader_batches, device, args.threads)]
    if not args.no_tensor_loop:
        results.append(run_loop("tensor loop", cells, args.epochs, tensor_batches, device, args.threads))
        results.append(run_loop("tensor loop, channels-last", cells, args.epochs, tensor_batches, device,
                                args.threads, channels_last=True))
    semiad, ae_wall = run_semiad(ae_cells, cells, device, jobs)
    torch.set_num_threads(args.threads)  # run_cell sets 1 thread in this process when jobs == 1
    results.append(semiad)
    print(f"[{device}] semiad AE phase {ae_wall:.1f} s of {semiad.wall_s:.1f} s")
    if args.stacked or device.startswith("cuda"):
        results.append(run_semiad(ae_cells, cells, device, jobs, stacked=True)[0])
        torch.set_num_threads(args.threads)
    return results, semiad


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=IMAGE_DATASETS)
    parser.add_argument("--gamma-l", type=float, default=0.05)
    parser.add_argument("--normal-classes", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-known", type=int, default=3, help="known classes per normal class (1..9)")
    parser.add_argument("--epochs", type=int, default=3, help="AE epochs = Deep SAD epochs")
    parser.add_argument("--max-normal", type=int, default=None, help="cap on normal training images")
    parser.add_argument("--jobs", type=int, default=2, help="semiad worker processes on CPU (1 thread each)")
    parser.add_argument("--gpu-jobs", type=int, default=1, help="semiad worker processes sharing the GPU")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="torch threads of the baseline loops (default: torch's default)")
    parser.add_argument("--bench-steps", type=int, default=10, help="timed steps per net for the estimate")
    parser.add_argument("--no-tensor-loop", action="store_true", help="skip the tensor-resident loop")
    parser.add_argument("--stacked", action="store_true",
                        help="also time the stacked engine on CPU (always timed on a GPU)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    settings = point_settings(args.dataset, args.gamma_l, args.normal_classes, args.n_known)
    if not settings:
        raise SystemExit("no experiments selected: check --normal-classes / --n-known")
    ae_cells, cells = point_cells(settings, args.epochs, args.max_normal)
    n_rows = len(make_split(cells[0], {}).X_train)  # also warms the data cache of this process
    gpu = torch.cuda.is_available()
    print(f"torch {torch.__version__}; default threads {DEFAULT_THREADS}; baseline threads {args.threads}; "
          f"semiad {args.jobs} worker(s) x 1 thread on CPU; GPU: "
          f"{torch.cuda.get_device_name(0) if gpu else 'none'}")
    print(f"point: {args.dataset}, scenario (i) gamma_l={args.gamma_l}, normal classes {args.normal_classes} "
          f"x {args.n_known} known -> {len(cells)} experiments, {len(ae_cells)} distinct unlabeled sets; "
          f"{args.epochs} AE + {args.epochs} Deep SAD epochs; max_normal={args.max_normal} "
          f"(first experiment: {n_rows} training rows)")
    results, semiad_cpu = measure_device("cpu", ae_cells, cells, args, args.jobs)
    estimates = [estimate(semiad_cpu, (ae_cells, cells), "cpu", args.jobs, args.bench_steps, args.threads)]
    if gpu:
        gpu_results, semiad_gpu = measure_device("cuda", ae_cells, cells, args, args.gpu_jobs)
        results += gpu_results
        estimates.append(estimate(semiad_gpu, (ae_cells, cells), "cuda", args.gpu_jobs, args.bench_steps,
                                  args.threads))
    print("\n" + table(results).to_string(index=False))
    if not gpu:
        print("no GPU here: GPU rows not measured")
    print("\nFull Tables 3-5 grid, paper profile (150 + 150 epochs, 3 datasets, 3 scenarios) -- an "
          "EXTRAPOLATION from per-step costs, calibrated on the measured point (module docstring); "
          "SS-DGM and the shallow methods are not included:")
    print(pd.concat(estimates, ignore_index=True).to_string(index=False))


if __name__ == "__main__":
    main()
