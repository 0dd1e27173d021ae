"""Loaders for the ODDS benchmark sets of Deep SAD Table 1 (``.mat`` files, no pickle)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.io

from semiad.core.data.demo import make_demo_tabular
from semiad.core.data.registry import get_spec, list_datasets
from semiad.core.data.resolve import DataNotFoundError, check_on_missing, resolve_files

#: Deep SAD Table 1, in the paper's order.
ODDS_DATASETS: tuple[str, ...] = ("arrhythmia", "cardio", "satellite", "satimage-2", "shuttle",
                                  "thyroid")


@dataclass(frozen=True)
class TabularDataset:
    """Features ``X`` (float64), ground truth ``y`` (1 = anomaly) and where they came from."""

    name: str
    X: np.ndarray
    y: np.ndarray
    source: str  # "real" or "demo"
    origin: str  # file path, or a description of the generator

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"

    def stats(self) -> dict[str, float | int | str]:
        n_out = int(self.y.sum())
        return {"dataset": self.name, "N": len(self.y), "D": self.X.shape[1], "outliers": n_out,
                "outlier_pct": round(100 * n_out / len(self.y), 1), "source": self.source}


def load_odds(name: str, data_dir: str | os.PathLike | None = None, on_missing: str = "error",
              download: bool | None = None) -> TabularDataset:
    """Load an ODDS ``.mat`` file (keys ``X``, ``y``; y = 1 marks outliers).

    ``on_missing="demo"`` returns the embedded synthetic stand-in (same dimensionality and outlier
    share, far fewer rows) when the real file cannot be found or downloaded; the result's
    ``source`` is then ``"demo"`` so notebooks can show their banner. ``"error"`` re-raises.
    """
    check_on_missing(on_missing)
    spec = get_spec(name)
    if spec.kind != "odds_mat":
        raise ValueError(f"{name!r} is not an ODDS dataset; ODDS sets: {list_datasets('odds_mat')}")
    try:
        paths = resolve_files(spec, data_dir, download=download)
    except DataNotFoundError:
        if on_missing == "demo":
            return make_demo_tabular(name, spec.paper_stats)
        raise
    path = next(iter(paths.values()))
    mat = scipy.io.loadmat(path)  # MATLAB v5 container: numeric arrays only, no code execution
    X = np.asarray(mat["X"], dtype=np.float64)
    y = np.asarray(mat["y"]).ravel().astype(np.int64)
    if X.shape[0] != y.shape[0] or set(np.unique(y)) - {0, 1}:
        raise ValueError(f"{path}: unexpected content (X {X.shape}, labels {np.unique(y)})")
    return TabularDataset(name, X, y, "real", str(path))
