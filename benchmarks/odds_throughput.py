"""Deep SAD training throughput on the ODDS sets: the authors' DataLoader loop vs ours vs the batched trainer.

Usage:  SEMIAD_DATA_DIR=../shared/data python benchmarks/odds_throughput.py [--ks 10 30] [--phase deep_sad]
        [--datasets thyroid cardio] [--samples 60000] [--repeats 2]

For each ODDS set, the Deep SAD phase (Eq. 7, the App. D MLP, batch 128, the default protocol's
optimiser settings, phi from a Glorot-initialised network: weights do not change the cost) is timed three
ways, all on one CPU thread (``torch.set_num_threads(1)``):

(a) ``dataloader``: a plain loop like the authors' ``DeepSADTrainer.train`` (lukasruff/Deep-SAD-PyTorch): a
    ``torch.utils.data.DataLoader`` over a ``TensorDataset`` (per-sample indexing and collation, shuffle,
    batch 128, ``drop_last=True``), Adam, ``loss.item()`` per batch;
(b) ``one-model``: semiad's one-model path, ``DeepSAD(...).fit`` (tensor slicing, one permutation per epoch);
(c) ``batched K``: :func:`semiad.deep_sad.batched_tabular.fit_hyperspheres_batched` training K seeds (each
    on its own seed's split, as in the grid) as one batched model.

``--phase ae`` times the AE pre-training instead (a: the same DataLoader loop on the MSE; b:
``train_autoencoder``; c: ``train_autoencoders_batched``). Each timing runs enough epochs for about
``--samples`` training rows per model (at least one epoch) and keeps the fastest of ``--repeats`` runs.
samples/s counts training rows over all models per second; runs/min extrapolates that throughput to the
full 150-epoch training of one model (runs/min = samples/s x 60 / (150 x n_train)); ratios are against (a),
measured in the same run. The numbers depend on the machine and on its load; this docstring claims none.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset

from semiad.core.data.splits import odds_split
from semiad.core.data.tabular import ODDS_DATASETS, load_odds
from semiad.core.detectors.autoencoder import train_autoencoder
from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED
from semiad.core.detectors.deep_sad import DEEP_SAD_EPS, DeepSAD
from semiad.core.detectors.networks import build_autoencoder, build_encoder
from semiad.core.detectors.protocol import DEFAULT, init_weights_
from semiad.core.detectors.training import TrainSchedule
from semiad.deep_sad.batched_tabular import (
    HypersphereSpec,
    fit_hyperspheres_batched,
    train_autoencoders_batched,
)

FULL_EPOCHS = 150


def _schedule(phase: str, epochs: int) -> TrainSchedule:
    """The default protocol's optimiser settings for ``phase`` (lr 1e-4, batch 128, drop_last)."""
    role = "ae" if phase == "ae" else "hypersphere"
    train = DEFAULT.schedule(role, epochs, (50,))
    return TrainSchedule(n_epochs=epochs, lr=train["lr"], lr_milestones=tuple(train["lr_milestones"]),
                         batch_size=train["batch_size"], weight_decay=train["weight_decay"],
                         drop_last=train["drop_last"])


def dataloader_loop(X: np.ndarray, y: np.ndarray, hidden, rep: int, schedule: TrainSchedule, phase: str,
                    seed: int = 0) -> None:
    """(a) The authors' style: DataLoader over a TensorDataset, a Python loop over its batches."""
    torch.manual_seed(seed)
    if phase == "ae":
        net = init_weights_(build_autoencoder(X.shape[1], hidden, rep, leaky_slope=DEFAULT.leaky_slope),
                            DEFAULT.init)
    else:
        net = init_weights_(build_encoder(X.shape[1], hidden, rep, leaky_slope=DEFAULT.leaky_slope), "glorot")
    data = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    loader = DataLoader(data, batch_size=schedule.batch_size, shuffle=True, drop_last=schedule.drop_last,
                        num_workers=0)
    optimizer = torch.optim.Adam(net.parameters(), lr=schedule.lr, weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(schedule.lr_milestones),
                                                     gamma=0.1)
    c = None
    if phase != "ae":  # the authors' center: a pass over the loader in eval mode
        net.eval()
        with torch.no_grad():
            c = torch.cat([net(xb) for xb, _ in loader]).mean(dim=0)
    net.train()
    for _ in range(schedule.n_epochs):
        epoch_loss, n_batches = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            out = net(xb)
            if phase == "ae":
                loss = torch.mean(torch.sum((out - xb) ** 2, dim=tuple(range(1, out.dim()))))
            else:
                dist = torch.sum((out - c) ** 2, dim=1)
                losses = torch.where(yb == UNLABELED, dist, (dist + DEEP_SAD_EPS) ** yb.float())
                loss = torch.mean(losses)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
            n_batches += 1
        scheduler.step()


def one_model(X: np.ndarray, y: np.ndarray, hidden, rep: int, schedule: TrainSchedule, phase: str,
              seed: int = 0) -> None:
    """(b) semiad's one-model path."""
    if phase == "ae":
        train_autoencoder(torch.as_tensor(X[y != KNOWN_ANOMALY]), hidden, rep, schedule, seed=seed,
                          init=DEFAULT.init, leaky_slope=DEFAULT.leaky_slope)
        return
    DeepSAD(hidden_dims=hidden, rep_dim=rep, n_epochs=schedule.n_epochs, lr=schedule.lr,
            lr_milestones=schedule.lr_milestones, batch_size=schedule.batch_size,
            weight_decay=schedule.weight_decay, drop_last=schedule.drop_last, device="cpu",
            random_state=seed, pretrain=False, leaky_slope=DEFAULT.leaky_slope).fit(X, y)


def batched(splits: list, hidden, rep: int, schedule: TrainSchedule, phase: str) -> None:
    """(c) K models (seed k on split k) as one batched model."""
    seeds = list(range(len(splits)))
    if phase == "ae":
        train_autoencoders_batched([s.X_train[s.y_semi != KNOWN_ANOMALY] for s in splits], hidden, rep,
                                   schedule, seeds, init=DEFAULT.init, leaky_slope=DEFAULT.leaky_slope)
        return
    fit_hyperspheres_batched([s.X_train for s in splits], [s.y_semi for s in splits],
                             [HypersphereSpec(seed) for seed in seeds], hidden, rep, schedule,
                             leaky_slope=DEFAULT.leaky_slope)


def _best_seconds(fn: Callable[[], None], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(dataset: str, ks: list[int], phase: str, samples: int, repeats: int) -> list[dict]:
    from semiad.core.detectors.networks import architecture_for

    data = load_odds(dataset)
    splits = [odds_split(data.X, data.y, np.random.default_rng(seed)) for seed in range(max(ks))]
    hidden, rep = architecture_for(dataset)
    s0 = splits[0]
    n = int((s0.y_semi != KNOWN_ANOMALY).sum()) if phase == "ae" else len(s0.y_semi)
    epochs = max(1, round(samples / n))
    schedule = _schedule(phase, epochs)
    one_model(s0.X_train, s0.y_semi, hidden, rep, _schedule(phase, 1), phase)  # warm-up
    rows = []

    def row(engine: str, k: int, seconds: float) -> dict:
        rate = k * n * epochs / seconds
        return {"dataset": dataset, "phase": phase, "n_train": n, "epochs": epochs, "engine": engine, "K": k,
                "seconds": seconds, "samples_per_s": rate, "runs_per_min": rate * 60 / (FULL_EPOCHS * n)}

    rows.append(row("(a) dataloader", 1, _best_seconds(
        lambda: dataloader_loop(s0.X_train, s0.y_semi, hidden, rep, schedule, phase), repeats)))
    rows.append(row("(b) one-model", 1, _best_seconds(
        lambda: one_model(s0.X_train, s0.y_semi, hidden, rep, schedule, phase), repeats)))
    for k in ks:
        rows.append(row(f"(c) batched K={k}", k, _best_seconds(
            lambda k=k: batched(splits[:k], hidden, rep, schedule, phase), repeats)))
    base = rows[0]["samples_per_s"]
    for r in rows:
        r["x_vs_a"] = r["samples_per_s"] / base
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(ODDS_DATASETS))
    parser.add_argument("--ks", nargs="+", type=int, default=[10, 30])
    parser.add_argument("--phase", choices=("deep_sad", "ae"), default="deep_sad")
    parser.add_argument("--samples", type=int, default=60_000, help="training rows per model per timing")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for ds in args.datasets:
        rows += measure(ds, args.ks, args.phase, args.samples, args.repeats)
        print(pd.DataFrame(rows[-(2 + len(args.ks)):]).drop(columns="phase").to_string(
            index=False, float_format=lambda v: f"{v:,.2f}"), flush=True)
    table = pd.DataFrame(rows)
    print(f"\nsummary ({args.phase}, one thread; samples/s and ratio vs (a) per dataset):")
    summary = table.pivot(index="dataset", columns="engine", values="samples_per_s").round(0)
    ratio = table.pivot(index="dataset", columns="engine", values="x_vs_a").round(1)
    ratio.columns = [f"x vs (a): {c}" for c in ratio.columns]
    print(pd.concat([summary, ratio.drop(columns=ratio.columns[0])], axis=1).to_string())


if __name__ == "__main__":
    main()
