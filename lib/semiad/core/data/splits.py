"""Semi-supervised training sets with exact labeled/pollution ratios (Deep SAD Sec. 4.2, App. B).

Definitions (paper Sec. 4.2): with n unlabeled and m labeled training samples,
``labeled_anomaly_ratio`` gamma_l = m / (n + m) and ``pollution_ratio`` gamma_p = share of
anomalies among the n unlabeled samples. All draws use an explicit ``np.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED
from semiad.core.detectors.protocol import TEST_SPLITS, TestSplit


@dataclass(frozen=True)
class SemiSupervisedSplit:
    """A train/test split; ``y_semi`` follows the package convention (+1 / 0 / -1)."""

    X_train: np.ndarray
    y_semi: np.ndarray
    y_train: np.ndarray  # ground truth of the training rows (1 = anomaly); for diagnostics only
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_labeled_anomalies(self) -> int:
        return int(np.sum(self.y_semi == KNOWN_ANOMALY))

    @property
    def n_unlabeled(self) -> int:
        return int(np.sum(self.y_semi == UNLABELED))

    @property
    def n_pollution(self) -> int:
        return int(np.sum((self.y_semi == UNLABELED) & (self.y_train == 1)))


def check_ratio(name: str, value: float, upper_open: bool = True) -> None:
    """Ratios must lie in [0, 1) (a ratio of 1 would leave no normal data)."""
    ok = 0 <= value < 1 if upper_open else 0 <= value <= 1
    if not ok or not np.isfinite(value):
        raise ValueError(f"{name} must be in [0, 1{')' if upper_open else ']'}, got {value!r}")


def semisupervised_counts(n_normal: int, labeled_anomaly_ratio: float,
                          pollution_ratio: float) -> tuple[int, int]:
    """(m labeled anomalies, p polluting anomalies) when all ``n_normal`` normals are unlabeled.

    n = n_normal + p unlabeled with p / n = gamma_p  =>  p = round(n_normal * gamma_p / (1 - gamma_p));
    m / (n + m) = gamma_l  =>  m = round(n * gamma_l / (1 - gamma_l)).
    """
    check_ratio("labeled_anomaly_ratio", labeled_anomaly_ratio)
    check_ratio("pollution_ratio", pollution_ratio)
    p = int(round(n_normal * pollution_ratio / (1 - pollution_ratio)))
    n = n_normal + p
    m = int(round(n * labeled_anomaly_ratio / (1 - labeled_anomaly_ratio)))
    return m, p


def odds_split(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, *,
               train_fraction: float = 0.6, labeled_anomaly_ratio: float = 0.01,
               pollution_ratio: float = 0.0, standardize: bool = True,
               minmax_after_standardize: bool = False,
               test_split: TestSplit = "disjoint") -> SemiSupervisedSplit:
    """Deep SAD App. B protocol for the classic AD benchmarks.

    1. Random ``train_fraction`` : rest split that keeps the anomaly proportion in both parts.
    2. Training set: every training normal is unlabeled; ``m`` training anomalies are labeled and
       ``p`` more pollute the unlabeled part (counts from :func:`semisupervised_counts`); the other
       training anomalies are dropped. Labeled and polluting anomalies are disjoint.
    3. "We standardize features to have zero mean and unit variance as the only pre-processing
       step" — the scaler is fit on the training set. ``minmax_after_standardize=True`` adds the
       extra min-max scaling to [0, 1] that the authors' code applies (off by default: paper text).
    4. ``test_split``: ``"disjoint"`` (App. B: the test set is the 40 % that the training set left out)
       or ``"resampled"`` (the authors' code, ``base/odds_dataset.py``: the train and the test dataset
       objects each draw their own 60:40 split from one shared ``RandomState``, so the test set is the
       40 % of a *second, independent* split and about 60 % of its rows are training rows; each split
       fits its scalers on its whole 60 % part, anomalies included). See :func:`_resampled_test`.
    """
    check_ratio("train_fraction", train_fraction)
    if train_fraction == 0:
        raise ValueError("train_fraction must be > 0")
    y = np.asarray(y).astype(np.int64)
    idx_norm, idx_anom = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    n_tr_norm = int(round(train_fraction * len(idx_norm)))
    n_tr_anom = int(round(train_fraction * len(idx_anom)))
    perm_norm, perm_anom = rng.permutation(idx_norm), rng.permutation(idx_anom)
    train_norm, test_norm = perm_norm[:n_tr_norm], perm_norm[n_tr_norm:]
    train_anom, test_anom = perm_anom[:n_tr_anom], perm_anom[n_tr_anom:]

    m, p = semisupervised_counts(len(train_norm), labeled_anomaly_ratio, pollution_ratio)
    if m + p > len(train_anom):
        raise ValueError(
            f"labeled_anomaly_ratio={labeled_anomaly_ratio} and pollution_ratio={pollution_ratio} "
            f"need {m} labeled + {p} polluting anomalies, but the training split has only "
            f"{len(train_anom)}")
    labeled, polluting = train_anom[:m], train_anom[m:m + p]

    train_idx = np.concatenate([train_norm, polluting, labeled])
    y_semi = np.concatenate([np.zeros(len(train_norm) + p, np.int64),
                             np.full(m, KNOWN_ANOMALY, np.int64)])
    order = rng.permutation(len(train_idx))
    train_idx, y_semi = train_idx[order], y_semi[order]
    test_idx = rng.permutation(np.concatenate([test_norm, test_anom]))

    if test_split not in TEST_SPLITS:
        raise ValueError(f"test_split must be one of {TEST_SPLITS}, got {test_split!r}")
    X = np.asarray(X, dtype=np.float64)
    if test_split == "disjoint":
        fit_rows = train_idx  # the rows the methods see
        X_train, X_test = _scale(X[fit_rows], (X[train_idx], X[test_idx]), standardize,
                                 minmax_after_standardize)
    else:
        # training rows: scaled with the first split's scalers, fit on its whole 60 % part
        fit_rows = np.concatenate([train_norm, train_anom])
        (X_train,) = _scale(X[fit_rows], (X[train_idx],), standardize, minmax_after_standardize)
        test_idx, fit_rows2 = _resampled_test(idx_norm, idx_anom, n_tr_norm, n_tr_anom, rng)
        (X_test,) = _scale(X[fit_rows2], (X[test_idx],), standardize, minmax_after_standardize)
    return SemiSupervisedSplit(X_train.astype(np.float32), y_semi, y[train_idx],
                               X_test.astype(np.float32), y[test_idx])


def _resampled_test(idx_norm: np.ndarray, idx_anom: np.ndarray, n_tr_norm: int, n_tr_anom: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The authors' test set: the 40 % of a second 60:40 split drawn from the same generator after the
    first (their ``ODDSDataset(train=False, random_state=rs)`` re-splits with the ``RandomState`` the
    training set already consumed). Returns (test rows, rows the test scalers are fit on)."""
    perm_norm, perm_anom = rng.permutation(idx_norm), rng.permutation(idx_anom)
    test_idx = rng.permutation(np.concatenate([perm_norm[n_tr_norm:], perm_anom[n_tr_anom:]]))
    return test_idx, np.concatenate([perm_norm[:n_tr_norm], perm_anom[:n_tr_anom]])


def scale_parts(X_fit: np.ndarray, parts: tuple[np.ndarray, ...], scalers: tuple[type, ...]
                ) -> tuple[np.ndarray, ...]:
    """Apply ``scalers`` in order (e.g. ``(StandardScaler, MinMaxScaler)``) to ``parts``, each scaler fit on
    ``X_fit`` as transformed by the scalers before it; empty parts pass through unchanged."""
    for make in scalers:
        scaler = make().fit(X_fit)
        X_fit = scaler.transform(X_fit)
        parts = tuple(scaler.transform(P) if len(P) else P for P in parts)
    return parts


def _scale(X_fit: np.ndarray, parts: tuple[np.ndarray, ...], standardize: bool,
           minmax: bool) -> tuple[np.ndarray, ...]:
    """Standardise (and optionally then min-max scale) ``parts`` with scalers fit on ``X_fit``."""
    return scale_parts(X_fit, parts, (StandardScaler,) * standardize + (MinMaxScaler,) * minmax)
