"""Active-loop speed of UaiNets on MNIST0 (issue #5): rounds/s and the cost of one round's parts.

One round of Algorithm 1 = score the whole pool (batched on tensors, no Python loop over items),
pick the top k, audit, then train ``steps_per_round`` iterations. Prints a table per base model,
pool size and iterations per round, plus the implied time of a full Fig. 3 curve (b = pool size,
k = 10) and of the quick profile's curve (b = 1,500).

    python benchmarks/uai_active_loop.py [--device cpu|cuda|auto] [--rounds 20] [--pools 15000,54000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from semiad.core.oracle import Oracle
from semiad.uainets.active import run_active_loop
from semiad.uainets.grid import load_dataset, pool_indices
from semiad.uainets.model import UaiNet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--pools", default="15000,54000")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (grid workers use 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    X, y, classes, source = load_dataset("mnist:0", on_missing="demo")
    print(f"MNIST0 ({source} data): {len(y)} items, {int(y.sum())} anomalies; device={args.device}, "
          f"torch threads={args.threads}")
    header = f"{'base':6} {'pool':>7} {'iters':>5} {'score pass s':>12} {'round s':>8} {'rounds/s':>8} " \
             f"{'quick curve min':>15} {'full curve h':>12}"
    print(header)
    print("-" * len(header))
    for pool in (int(p) for p in args.pools.split(",")):
        idx = pool_indices(y, min(pool, len(y)))
        Xp, yp, cp = X[idx], y[idx], classes[idx]
        for base in ("dae", "class"):
            for iters in (100, 25):
                net = UaiNet(base=base, pretrain_steps=20, steps_per_round=iters, device=args.device,
                             random_state=0).fit(Xp, cp)
                t = time.perf_counter()
                net.score()
                score_s = time.perf_counter() - t
                t = time.perf_counter()
                run_active_loop(net, Oracle(yp), budget=10 * args.rounds, k=10)
                round_s = (time.perf_counter() - t) / args.rounds
                quick_min = min(1500, len(yp)) / 10 * round_s / 60
                full_h = len(yp) / 10 * round_s / 3600
                print(f"{base:6} {len(yp):>7} {iters:>5} {score_s:>12.3f} {round_s:>8.3f} "
                      f"{1 / round_s:>8.2f} {quick_min:>15.1f} {full_h:>12.1f}")
    print("quick curve = b 1,500 (150 rounds); full curve = b = pool (Fig. 3's x-axis), k = 10. "
          f"numpy {np.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
