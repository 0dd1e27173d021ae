"""SSAD fit time, kernel-matrix memory and test AUC versus training-set size n on shuttle.

Usage:  SEMIAD_DATA_DIR=/work/shared/data python benchmarks/ssad_scaling.py \\
            [--sizes 500 1000 2000 4000 8000] [--gamma 0.125] [--nu 0.1] [--time-limit 120]

SSAD solves a dense QP in the dual: the kernel matrix is n x n doubles (O(n^2) memory) and each
interior-point iteration factorises an n x n matrix (O(n^3) time), which is why
``SSAD(max_train_samples=...)`` exists. Protocol: the ODDS shuttle set (embedded demo stand-in
if the real file is missing; the header says which) is split 60:40 as in Deep SAD App. B with
features standardised on the training part; for each n a training subset of n rows is drawn that
keeps 1% labeled anomalies (``--labeled-ratio``), the rest unlabeled normals; SSAD is fit with
BLAS limited to ``--threads`` threads and scored on the whole held-out test split (AUC). Sizes
stop after the first fit that takes longer than ``--time-limit`` seconds. Columns: ``kernel_MB``
= n^2 * 8 bytes, ``peak_RSS_MB`` = the process's peak resident memory so far.
"""

from __future__ import annotations

import argparse
import resource
import time

import cvxopt  # noqa: F401  (loaded first so threadpool_limits also caps its bundled BLAS)
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from semiad.core.data.splits import odds_split
from semiad.core.data.tabular import load_odds
from semiad.core.detectors.base import KNOWN_ANOMALY
from semiad.core.detectors.ssad import SSAD


def subsample(y_semi: np.ndarray, n: int, labeled_ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of n training rows with round(labeled_ratio * n) labeled anomalies (at least 1)."""
    lab, unl = np.flatnonzero(y_semi == KNOWN_ANOMALY), np.flatnonzero(y_semi != KNOWN_ANOMALY)
    m = min(max(int(round(labeled_ratio * n)), 1), len(lab))
    return np.sort(np.concatenate([rng.choice(lab, m, replace=False), rng.choice(unl, n - m, replace=False)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 1000, 2000, 4000, 8000])
    parser.add_argument("--gamma", type=float, default=2.0 ** -3, help="RBF scale (Deep SAD grid 2^-7..2^2)")
    parser.add_argument("--nu", type=lambda v: None if v.lower() == "none" else float(v), default=0.1,
                        help="SSAD slack scaling (semiad.core.detectors.ssad); "
                             "'none' = literal per-point weights")
    parser.add_argument("--labeled-ratio", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (cvxopt and numpy)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="stop after a fit slower than this")
    args = parser.parse_args()

    data = load_odds("shuttle", on_missing="demo")
    rng = np.random.default_rng(args.seed)
    split = odds_split(data.X, data.y, rng, labeled_anomaly_ratio=args.labeled_ratio)
    n_avail = len(split.y_semi)
    print(f"shuttle ({data.source}: {len(data.y)} rows, d={data.X.shape[1]}); train pool {n_avail} rows "
          f"({split.n_labeled_anomalies} labeled anomalies), test {len(split.y_test)} rows "
          f"({int(split.y_test.sum())} anomalies); SSAD gamma={args.gamma:g}, nu={args.nu}, kappa=eta_u="
          f"eta_l=1, {args.threads} BLAS thread(s), labeled ratio {args.labeled_ratio:g}")

    rows = []
    for n in sorted(args.sizes):
        if n > n_avail:
            print(f"n={n}: skipped, the training pool has only {n_avail} rows")
            continue
        idx = subsample(split.y_semi, n, args.labeled_ratio, rng)
        model = SSAD(gamma=args.gamma, nu=args.nu, random_state=args.seed)
        with threadpool_limits(limits=args.threads):
            t0 = time.perf_counter()
            model.fit(split.X_train[idx], split.y_semi[idx])
            fit_s = time.perf_counter() - t0
            auc = roc_auc_score(split.y_test, model.decision_function(split.X_test))
        rows.append({"n": n, "labeled": int((split.y_semi[idx] == KNOWN_ANOMALY).sum()),
                     "SVs": len(model.support_), "iters": model.n_iter_, "fit_s": round(fit_s, 2),
                     "kernel_MB": round(n * n * 8 / 2**20, 1),
                     "peak_RSS_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
                     "test_AUC": round(100 * auc, 2), "kkt_viol": f"{model.kkt_violation():.1e}"})
        if fit_s > args.time_limit:
            print(f"n={n}: fit took {fit_s:.0f} s > --time-limit {args.time_limit:g} s; stopping")
            break
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
