"""Speed of LODA-AAD / Tree-AAD: fit + updates on a 12k x 9 synthetic pool (KDDCUP-like size).

Usage: ``python benchmarks/aad_speed.py [--n 12000] [--d 9] [--labels 30 300]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from semiad.uainets.aad import LodaAAD, TreeAAD


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12000)
    ap.add_argument("--d", type=int, default=9)
    ap.add_argument("--labels", type=int, nargs="+", default=[30, 300])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n, args.d))
    y = (rng.random(args.n) < 0.1).astype(int)
    configs = [("LodaAAD", LodaAAD, {}), ("LodaAAD no-pairwise", LodaAAD, {"pairwise": False}),
               ("TreeAAD nodes", TreeAAD, {}), ("TreeAAD leaves", TreeAAD, {"node_features": "leaves"})]
    for name, cls, kw in configs:
        t = time.perf_counter()
        det = cls(random_state=0, **kw).fit(X)
        t_fit = time.perf_counter() - t
        line = f"{name:22s} features {det.features_.shape}  fit {t_fit:6.2f}s"
        for n_lab in args.labels:
            det = cls(random_state=0, **kw).fit(X)
            idx = rng.choice(args.n, n_lab, replace=False)
            det.update(idx[:-3], y[idx[:-3]])  # feedback already in memory
            t = time.perf_counter()
            det.update(idx[-3:], y[idx[-3:]])  # one loop step (k = 3)
            line += f"  | update with {n_lab:4d} labels {time.perf_counter() - t:6.3f}s"
        t = time.perf_counter()
        for _ in range(100):
            det.score()
        line += f"  | score() {1e3 * (time.perf_counter() - t) / 100:.3f}ms (cached per update)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
