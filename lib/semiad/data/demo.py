"""Embedded demo data, made by code: tiny stand-ins so every notebook runs on a fresh offline machine.

These sets are *not* the paper's data. They only mimic a dataset's dimensionality and outlier
share so that code paths run; every result computed on them is labelled ``source="demo"``.
"""

from __future__ import annotations

import zlib

import numpy as np

DEMO_BANNER = ("DEMO DATA — not the paper's. The real files were not found (set SEMIAD_DATA_DIR "
               "or data_dir); numbers below only show that the code runs.")
DEMO_MAX_ROWS = 600


def make_demo_tabular(name: str, paper_stats: dict | None = None, n_rows: int = DEMO_MAX_ROWS):
    """Normal data on a few Gaussian clusters in a low-dimensional subspace; anomalies scattered.

    Deterministic: the generator is seeded from the dataset name.
    """
    from semiad.data.tabular import TabularDataset  # local import: tabular imports this module

    stats = paper_stats or {"n": n_rows, "d": 8, "n_outliers": n_rows // 10}
    d = int(stats["d"])
    n = min(int(stats["n"]), n_rows)
    n_out = max(int(round(n * stats["n_outliers"] / stats["n"])), 5)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    latent_dim = min(3, d)
    basis = rng.normal(size=(latent_dim, d))
    centers = rng.normal(scale=3.0, size=(3, latent_dim))
    z = centers[rng.integers(0, 3, n - n_out)] + rng.normal(size=(n - n_out, latent_dim))
    normal = z @ basis + 0.3 * rng.normal(size=(n - n_out, d))
    anomalies = rng.uniform(-8, 8, size=(n_out, d))
    X = np.vstack([normal, anomalies])
    y = np.r_[np.zeros(n - n_out, np.int64), np.ones(n_out, np.int64)]
    order = rng.permutation(n)
    return TabularDataset(name, X[order], y[order], "demo",
                          f"synthetic stand-in for {name} (semiad.data.demo)")
