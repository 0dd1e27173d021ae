"""Shallow baselines of Deep SAD App. E wrapped in the semiad contract (scikit-learn does the work)."""

from __future__ import annotations

import numpy as np
from sklearn.svm import OneClassSVM

from semiad.core.detectors.base import BaseDetector

#: Deep SAD App. E: RBF scale gamma in {2^-7, ..., 2^2} and nu in {0.01, 0.05, 0.1, 0.2, 0.5}.
OCSVM_GAMMAS: tuple[float, ...] = tuple(2.0 ** k for k in range(-7, 3))
OCSVM_NUS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.5)


class OCSVM(BaseDetector):
    """One-Class SVM with RBF kernel via :class:`sklearn.svm.OneClassSVM`; unsupervised.

    Parameters
    ----------
    gamma : float, default=0.1
        RBF scale, ``k(x, x') = exp(-gamma ||x - x'||^2)`` (App. E grid: :data:`OCSVM_GAMMAS`).
    nu : float, default=0.1
        Upper bound on the share of margin errors, in (0, 1] (App. E grid: :data:`OCSVM_NUS`).
    max_train_samples : int or None, default=None
        Fit on a uniform random subsample of at most this many rows, drawn with ``random_state``:
        the documented way to keep the libsvm solve tractable on large sets.
    random_state : int, default=0
        Seed of the subsample.
    cache_size : float, default=500.0
        libsvm kernel cache in MB.

    Attributes
    ----------
    model_ : sklearn.svm.OneClassSVM
        The fitted model; the score is ``-model_.decision_function`` (higher = more anomalous).

    References
    ----------
    .. [1] B. Schölkopf et al. "Estimating the Support of a High-Dimensional Distribution",
       Neural Computation 13(7), 2001.
    .. [2] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, App. E (OC-SVM).
    """

    def __init__(self, gamma: float = 0.1, nu: float = 0.1, max_train_samples: int | None = None,
                 random_state: int = 0, cache_size: float = 500.0):
        self.gamma = gamma
        self.nu = nu
        self.max_train_samples = max_train_samples
        self.random_state = random_state
        self.cache_size = cache_size

    def _check_params(self) -> None:
        if not 0 < self.nu <= 1:
            raise ValueError(f"nu must be in (0, 1], got {self.nu}")
        if self.gamma <= 0:
            raise ValueError(f"gamma must be > 0, got {self.gamma}")

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
    """Isolation Forest via :class:`sklearn.ensemble.IsolationForest`; unsupervised.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees t (App. E: 100, "as recommended in the original work").
    max_samples : int, default=256
        Sub-sampling size psi (App. E: 256), capped at the number of training rows.
    random_state : int, default=0
        Seed of the forest.

    Attributes
    ----------
    model_ : sklearn.ensemble.IsolationForest
        The fitted forest; the score is ``-model_.score_samples`` (higher = more anomalous).

    References
    ----------
    .. [1] F. T. Liu, K. M. Ting, Z.-H. Zhou. "Isolation Forest", ICDM 2008.
    .. [2] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, App. E (IF).
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
    """Gaussian kernel density estimator; score = negative log-density; unsupervised.

    Parameters
    ----------
    bandwidths : sequence of float, default=KDE_BANDWIDTHS
        Candidate bandwidths h (App. E: {2^0.5, ..., 2^5}), selected "via 5-fold cross-validation
        using the log-likelihood score": ``GridSearchCV`` over ``KernelDensity.score`` (total
        log-likelihood of the held-out fold).
    cv : int, default=5
        Number of cross-validation folds (App. E: 5).
    max_train_samples : int or None, default=None
        Cap on the rows the density is built on (scoring costs O(n_train) per test point), drawn
        uniformly with ``random_state``.
    random_state : int, default=0
        Seed of the subsample and of the fold split.

    Attributes
    ----------
    bandwidth_ : float
        The selected bandwidth.
    model_ : sklearn.neighbors.KernelDensity
        The density with that bandwidth, fitted on the training rows.

    References
    ----------
    .. [1] E. Parzen. "On Estimation of a Probability Density Function and Mode", Ann. Math.
       Statist. 33(3), 1962.
    .. [2] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, App. E (KDE).
    """

    def __init__(self, bandwidths: tuple[float, ...] = KDE_BANDWIDTHS, cv: int = 5,
                 max_train_samples: int | None = None, random_state: int = 0):
        self.bandwidths = bandwidths
        self.cv = cv
        self.max_train_samples = max_train_samples
        self.random_state = random_state

    def _check_params(self) -> None:
        if not self.bandwidths or min(self.bandwidths) <= 0:
            raise ValueError(f"bandwidths must be positive, got {self.bandwidths}")

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
