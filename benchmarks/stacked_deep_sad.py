"""Time per epoch of K stacked LeNet trainings vs a loop over K single models (Deep SAD App. C/E image grid).

Usage:  python benchmarks/stacked_deep_sad.py [--n 200] [--ks 1 4 10] [--epochs 2] [--batch-size 50]

For each device (CPU with ``--threads`` threads; CUDA when available, else "no GPU: not measured") and each
K, both phases of one Deep SAD experiment are timed on random flattened images: AE pre-training (MSE,
encoder + decoder) and the Deep SAD phase (encoder only). "stacked" trains the K models as one
:class:`~semiad.core.detectors.lenet.StackedLeNet` with
:func:`~semiad.deep_sad.stacked_training.train_stacked`;
"loop" trains K single modules one after the other with
:func:`~semiad.core.detectors.training.train_minibatch`
(the same seeds, hence the same batches). One untimed warm-up epoch precedes each timing. The numbers
depend on the machine; this docstring claims none.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from semiad.core.detectors.deep_sad import deep_sad_loss, init_center
from semiad.core.detectors.lenet import FlatLeNetAutoencoder, get_arch, glorot_uniform_
from semiad.core.detectors.training import TrainSchedule, train_minibatch
from semiad.deep_sad.stacked_training import (
    stack_autoencoders,
    stacked_centers,
    stacked_hypersphere_loss,
    stacked_reconstruction_loss,
    train_stacked,
)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _per_epoch(fn: Callable[[TrainSchedule], object], schedule: TrainSchedule, device: torch.device) -> float:
    """Seconds per epoch of ``fn(schedule)`` after one untimed warm-up epoch."""
    fn(TrainSchedule(n_epochs=1, batch_size=schedule.batch_size))
    _sync(device)
    t = time.perf_counter()
    fn(schedule)
    _sync(device)
    return (time.perf_counter() - t) / schedule.n_epochs


def _autoencoders(k: int, arch: str, device: torch.device) -> list[FlatLeNetAutoencoder]:
    aes = []
    for seed in range(k):
        torch.manual_seed(seed)
        aes.append(glorot_uniform_(FlatLeNetAutoencoder(arch, output_sigmoid=True)).to(device))
    return aes


def measure(k: int, n: int, arch: str, schedule: TrainSchedule, device: torch.device) -> list[dict]:
    """Per-epoch seconds of both phases, stacked and looped, for K models on ``device``."""
    n_features = get_arch(arch).in_shape
    X = torch.rand(k, n, n_features[0] * n_features[1] * n_features[2], device=device)
    y = torch.zeros(k, n, dtype=torch.int64, device=device)
    y[:, : max(1, n // 20)] = -1
    seeds = list(range(k))
    singles = _autoencoders(k, arch, device)
    stacked = stack_autoencoders(singles, device)

    def ae_loss(ae):
        return lambda xb: torch.mean((ae(xb) - xb) ** 2)

    rec_loss = stacked_reconstruction_loss(stacked)
    ae_stacked = _per_epoch(lambda s: train_stacked(stacked, X, None, rec_loss, s, seeds), schedule, device)
    ae_loop = _per_epoch(lambda s: [train_minibatch(ae, (X[i],), ae_loss(ae), s, seeds[i])
                                    for i, ae in enumerate(singles)], schedule, device)

    keep = y != -1
    enc = stacked.encoder
    centers = stacked_centers(enc, X, keep)
    sad_loss = stacked_hypersphere_loss(enc, centers, "deep-sad", 1.0, 1e-6)
    sad_stacked = _per_epoch(lambda s: train_stacked(enc, X, y, sad_loss, s, seeds), schedule, device)
    encs = [ae.encoder for ae in singles]
    cs = [init_center(e, X[i], y[i]) for i, e in enumerate(encs)]

    def sad_single(i):
        return lambda xb, yb: deep_sad_loss(encs[i](xb), cs[i], yb)

    sad_loop = _per_epoch(lambda s: [train_minibatch(e, (X[i], y[i]), sad_single(i), s, seeds[i])
                                     for i, e in enumerate(encs)], schedule, device)
    return [{"device": device.type, "K": k, "phase": phase, "stacked_s": st, "loop_s": lo}
            for phase, st, lo in (("AE", ae_stacked, ae_loop), ("Deep SAD", sad_stacked, sad_loop))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="training rows per experiment")
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4, 10], help="numbers of stacked models")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs (after one warm-up epoch)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--arch", default="mnist", choices=["mnist", "fashion_mnist", "cifar10"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    schedule = TrainSchedule(n_epochs=args.epochs, batch_size=args.batch_size)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"arch={args.arch} n={args.n} batch={args.batch_size} epochs={args.epochs} "
          f"cpu_threads={args.threads}")
    print(f"{'device':>6} {'K':>3} {'phase':>8} {'stacked s/epoch':>16} {'loop s/epoch':>13} "
          f"{'loop/stacked':>13}")
    for device in devices:
        for k in args.ks:
            for r in measure(k, args.n, args.arch, schedule, device):
                print(f"{r['device']:>6} {r['K']:>3} {r['phase']:>8} {r['stacked_s']:>16.4f} "
                      f"{r['loop_s']:>13.4f} {r['loop_s'] / r['stacked_s']:>13.2f}")
    if not torch.cuda.is_available():
        print("  cuda: no GPU: not measured")


if __name__ == "__main__":
    main()
