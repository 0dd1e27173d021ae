"""Training throughput of AE pre-training and Deep SAD on each ODDS set (samples / second).

Usage:  SEMIAD_DATA_DIR=../shared/data python benchmarks/deep_sad_speed.py [--epochs 5] [--threads 1]

Prints one row per (dataset, device, phase). Targets (what we aim for, per CPU thread): the full
quick profile of Table 2 (10 seeds x 150 + 150 epochs for every deep method) must fit in ~15 min on
2 cores, which needs >= ~150k samples/s on the 32-16-8 MLPs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from semiad.core.data.splits import odds_split
from semiad.core.data.tabular import ODDS_DATASETS, load_odds
from semiad.core.detectors.autoencoder import train_autoencoder
from semiad.core.detectors.deep_sad import deep_sad_loss, init_center
from semiad.core.detectors.networks import architecture_for
from semiad.core.detectors.training import TrainSchedule, train_minibatch


def measure(dataset: str, device: str, epochs: int) -> list[dict]:
    data = load_odds(dataset, on_missing="demo")
    split = odds_split(data.X, data.y, np.random.default_rng(0))
    X = torch.as_tensor(split.X_train, device=device)
    y = torch.as_tensor(split.y_semi, device=device)
    hidden, rep = architecture_for(dataset)
    schedule = TrainSchedule(n_epochs=epochs)
    rows = []
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    ae, _ = train_autoencoder(X, hidden, rep, schedule, seed=0)
    if device == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    rows.append({"dataset": dataset, "source": data.source, "device": device,
                 "phase": "AE pre-training", "n_train": len(X), "epochs": epochs,
                 "seconds": dt, "samples_per_s": len(X) * epochs / dt})
    enc = ae.encoder
    c = init_center(enc, X, y)
    t = time.perf_counter()
    train_minibatch(enc, (X, y), lambda xb, yb: deep_sad_loss(enc(xb), c, yb), schedule, seed=0)
    if device == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    rows.append({"dataset": dataset, "source": data.source, "device": device,
                 "phase": "Deep SAD", "n_train": len(X), "epochs": epochs, "seconds": dt,
                 "samples_per_s": len(X) * epochs / dt})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--datasets", nargs="*", default=list(ODDS_DATASETS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = [r for dev in devices for ds in args.datasets for r in measure(ds, dev, args.epochs)]
    table = pd.DataFrame(rows)
    table["seconds"] = table["seconds"].round(2)
    table["samples_per_s"] = table["samples_per_s"].round(0).astype(int)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s), "
          f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
