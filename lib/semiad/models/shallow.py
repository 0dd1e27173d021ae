"""Shallow baselines wrapped in the semiad contract (scikit-learn / PyOD do the work)."""

from __future__ import annotations

import numpy as np
from sklearn.svm import OneClassSVM

from semiad.models.base import BaseDetector

#: Deep SAD App. E: RBF scale gamma in {2^-7, ..., 2^2} and nu in {0.01, 0.05, 0.1, 0.2, 0.5}.
OCSVM_GAMMAS: tuple[float, ...] = tuple(2.0 ** k for k in range(-7, 3))
OCSVM_NUS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.5)


class OCSVM(BaseDetector):
    """One-Class SVM with RBF kernel (Schoelkopf et al., 2001) via ``sklearn.svm.OneClassSVM``.

    ``max_train_samples`` (optional) fits on a uniform random subsample of that size drawn with
    ``random_state`` — the documented way to keep the libsvm solve tractable on large sets.
    """

    def __init__(self, gamma: float = 0.1, nu: float = 0.1, max_train_samples: int | None = None,
                 random_state: int = 0, cache_size: float = 500.0):
        if not 0 < nu <= 1:
            raise ValueError(f"nu must be in (0, 1], got {nu}")
        if gamma <= 0:
            raise ValueError(f"gamma must be > 0, got {gamma}")
        self.gamma = gamma
        self.nu = nu
        self.max_train_samples = max_train_samples
        self.random_state = random_state
        self.cache_size = cache_size

    def _fit(self, X, y_semi):
        if self.max_train_samples is not None and len(X) > self.max_train_samples:
            rng = np.random.default_rng(self.random_state)
            X = X[rng.choice(len(X), self.max_train_samples, replace=False)]
        self.model_ = OneClassSVM(kernel="rbf", gamma=self.gamma, nu=self.nu,
                                  cache_size=self.cache_size).fit(X.astype(np.float64))

    def _score(self, X):
        # sklearn: positive = inlier; negate so that higher = more anomalous.
        return -self.model_.decision_function(X.astype(np.float64))
