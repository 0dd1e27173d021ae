"""Shallow baselines wrapped in the semiad contract (scikit-learn / PyOD do the work)."""

from __future__ import annotations

import numpy as np
from sklearn.svm import OneClassSVM

from semiad.core.detectors.base import BaseDetector

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


class IsolationForestDetector(BaseDetector):
    """Isolation Forest (Liu et al., 2008) via ``sklearn.ensemble.IsolationForest``.

    Deep SAD App. E: "We set the number of trees to t = 100 and the sub-sampling size to psi = 256,
    as recommended in the original work".
    """

    def __init__(self, n_estimators: int = 100, max_samples: int = 256, random_state: int = 0):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state

    def _fit(self, X, y_semi):
        from sklearn.ensemble import IsolationForest

        self.model_ = IsolationForest(n_estimators=self.n_estimators,
                                      max_samples=min(self.max_samples, len(X)),
                                      random_state=self.random_state).fit(X)

    def _score(self, X):
        return -self.model_.score_samples(X)  # sklearn: lower = more abnormal


#: Deep SAD App. E: Gaussian-kernel bandwidth h in {2^0.5, 2^1, ..., 2^5}.
KDE_BANDWIDTHS: tuple[float, ...] = tuple(2.0 ** (k / 2) for k in range(1, 11))


class KDEDetector(BaseDetector):
    """Gaussian kernel density estimator (Parzen, 1962); score = negative log-density.

    Deep SAD App. E: bandwidth selected from {2^0.5, ..., 2^5} "via 5-fold cross-validation using
    the log-likelihood score" — ``GridSearchCV`` over ``KernelDensity.score`` (total log-likelihood
    of the held-out fold). ``max_train_samples`` caps the rows the density is built on (KDE scoring
    costs O(n_train) per test point); the cap is drawn uniformly with ``random_state``.
    """

    def __init__(self, bandwidths: tuple[float, ...] = KDE_BANDWIDTHS, cv: int = 5,
                 max_train_samples: int | None = None, random_state: int = 0):
        if not bandwidths or min(bandwidths) <= 0:
            raise ValueError(f"bandwidths must be positive, got {bandwidths}")
        self.bandwidths = tuple(bandwidths)
        self.cv = cv
        self.max_train_samples = max_train_samples
        self.random_state = random_state

    def _fit(self, X, y_semi):
        from sklearn.model_selection import GridSearchCV, KFold
        from sklearn.neighbors import KernelDensity

        if self.max_train_samples is not None and len(X) > self.max_train_samples:
            rng = np.random.default_rng(self.random_state)
            X = X[rng.choice(len(X), self.max_train_samples, replace=False)]
        folds = KFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        search = GridSearchCV(KernelDensity(kernel="gaussian"),
                              {"bandwidth": list(self.bandwidths)}, cv=folds)
        search.fit(X.astype(np.float64))
        self.bandwidth_ = float(search.best_params_["bandwidth"])
        self.model_ = search.best_estimator_

    def _score(self, X):
        return -self.model_.score_samples(X.astype(np.float64))
