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
    from semiad.core.data.tabular import TabularDataset  # local import: tabular imports this module

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
                          f"synthetic stand-in for {name} (semiad.core.data.demo)")


def make_demo_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic stand-in for MNIST-like images: uint8 (n, 28, 28), labels 0..9 (UaiNets and the Deep SAD
    image grid offline).

    Not the paper's data. Each class is a fixed pattern of three Gaussian strokes; an item is
    its class pattern with random stroke jitter, random contrast, a random share of a second
    class's pattern (so that some items are ambiguous) and pixel noise. Deterministic in ``seed``.
    """
    rng = np.random.default_rng(zlib.crc32(f"uainets-demo-images:{seed}".encode()))
    grid = np.stack(np.meshgrid(np.arange(28), np.arange(28), indexing="ij"), axis=-1).astype(float)
    centers = rng.uniform(6, 22, size=(10, 3, 2))
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = np.zeros((n, 28, 28))
    for i, cls in enumerate(labels):
        other = rng.integers(0, 10)
        mix = rng.beta(1.0, 4.0)
        for c, weight in ((cls, 1.0 - mix), (other, mix)):
            pts = centers[c] + rng.normal(scale=1.5, size=(3, 2))
            d2 = ((grid[None] - pts[:, None, None]) ** 2).sum(-1)
            images[i] += weight * np.exp(-d2 / 8.0).sum(0)
        images[i] *= rng.uniform(0.7, 1.0)
    images += rng.normal(scale=0.08, size=images.shape)
    return (np.clip(images, 0, 1) * 255).round().astype(np.uint8), labels.astype(np.int64)
