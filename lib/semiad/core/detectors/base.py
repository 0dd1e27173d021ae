"""The detector contracts of semiad: one for detectors, one for the active and RL methods.

**Detectors** (:class:`BaseDetector`) are scikit-learn estimators in the PyOD style:
``fit(X, y_semi=None) -> self`` and ``decision_function(X) -> scores`` with *higher = more
anomalous*; ``get_params``, ``set_params`` and :func:`sklearn.base.clone` work. ``y_semi`` uses the
package-wide semi-label convention: ``+1`` known normal, ``-1`` known anomaly, ``0`` unlabeled;
``None`` means "all unlabeled".

**Active and RL methods** (:class:`ActiveDetector`) learn from a pool ``X`` whose labels they do not
all see up front: labels are revealed by an oracle (ground truth or an analyst) under a query
budget, or, for the RL agents of DADS/DPLAN, the few labeled anomalies of ``y_semi`` shape the
reward while the agent explores the unlabeled rest. Whatever the route, the result is the same
object: after ``fit`` it scores rows with ``decision_function`` (higher = more anomalous), like a
detector. The methods that are driven round by round by an external audit loop (UaiNets'
Algorithm 1, :func:`semiad.uainets.active.run_active_loop`) also follow :class:`QueryStrategy`:
``score()`` ranks the pool, ``update(idx, labels)`` takes the oracle's answers.

======================  =====================================  ===========================================
method                  fit: pool, labels, oracle, budget       after fit (scores of rows X)
======================  =====================================  ===========================================
RLAD                    ``fit(windows, labels, budget=...)``;   ``decision_function(windows)`` = q1 - q0;
(rlad.agent.            ``labels`` are the ground truth, seen   ``predict`` = argmax action (Sec. 5.2)
RLADDetector)           only via the warm-up and its Oracle
                        (margin sampling, ``n_al`` per episode)
UaiNets, LODA-AAD,      ``fit(X)`` (UaiNet: ``fit(X, classes)``  ``decision_function(X)`` (= ``score_new``);
Tree-AAD                pre-trains on the pool), then           pool ranking ``score()``
(uainets.model,         ``run_active_loop(det, Oracle(y),
uainets.aad)            budget, k)`` calls ``score`` /
                        ``update`` (:class:`QueryStrategy`)
DADS (dads.agent.DADS)  ``fit(X, y_semi, X_val, y_val)``: the   ``decision_function(X)`` = the actor's
                        labeled anomalies of ``y_semi`` drive   pre-squash mean action
                        the SAC agent's reward; no oracle, the
                        budget is the labeled share
DPLAN (dads.dplan.      ``fit(X, y_semi, X_val, y_val)``: as    ``decision_function(X)`` = Q(s, anomaly)
DPLANDetector)          DADS, with a DQN agent
Residual-map policy     ``fit(states, labels)``: the labeled    ``decision_function(states)`` = P(action =
(residual_rl.policy.    images are the oracle's answers         anomalous) (= ``predict_proba``);
ResidualPolicy)         (PPO on a one-step bandit)              ``predict`` = greedy action
======================  =====================================  ===========================================

The tests (``tests/core/test_contract.py``) check with ``isinstance`` that each of these classes
follows :class:`ActiveDetector`, and the UaiNets-loop ones :class:`QueryStrategy`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

KNOWN_NORMAL, UNLABELED, KNOWN_ANOMALY = 1, 0, -1


def check_inputs(X, y_semi=None, min_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Validate a feature matrix and semi-labels; return float32 ``X`` and int ``y_semi``.

    ``y_semi`` must hold integers in {-1, 0, +1} (floats are accepted only when integral: a 0.5 is an
    error, never silently truncated). ``min_rows``: 2 for fitting, 1 for scoring.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] < min_rows:
        raise ValueError(f"X needs at least {min_rows} row(s), got {X.shape[0]}")
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf")
    if y_semi is None:
        y_semi = np.zeros(len(X), dtype=np.int64)
    y_raw = np.asarray(y_semi)
    if y_raw.dtype.kind not in "biuf":
        raise ValueError(f"y_semi must be integers in {{-1, 0, +1}}, got dtype {y_raw.dtype}")
    if y_raw.dtype.kind == "f" and not np.all(np.isfinite(y_raw) & (y_raw == np.round(y_raw))):
        bad_values = np.unique(y_raw[~(np.isfinite(y_raw) & (y_raw == np.round(y_raw)))])[:5]
        raise ValueError("y_semi must be integers in {-1, 0, +1} (+1 known normal, 0 unlabeled, -1 known "
                         f"anomaly); got non-integer values {bad_values.tolist()}")
    y_semi = y_raw.astype(np.int64)
    if y_semi.shape != (len(X),):
        raise ValueError(f"y_semi must have shape ({len(X)},), got {y_semi.shape}")
    bad = set(np.unique(y_semi)) - {KNOWN_NORMAL, UNLABELED, KNOWN_ANOMALY}
    if bad:
        raise ValueError("y_semi may only hold +1 (known normal), 0 (unlabeled), -1 (known anomaly); "
                         f"got {sorted(bad)}")
    return X, y_semi


def stratified_subsample(y_semi: np.ndarray, cap: int | None, random_state: int = 0) -> np.ndarray:
    """Sorted row indices of a proportional, semi-label-stratified subsample of at most ``cap`` rows.

    All rows when ``cap`` is ``None`` or not binding. Each semi-label group (known anomaly, known
    normal, unlabeled) keeps its share of the rows (largest-remainder rounding; a group that is
    present keeps at least one row), so a capped fit keeps the experiment's labeled-anomaly ratio
    gamma_l. Every group is drawn uniformly with ``random_state``.
    """
    y_semi = np.asarray(y_semi)
    n = len(y_semi)
    if cap is None or n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    groups = [g for g in (np.flatnonzero(y_semi == v) for v in
                          (KNOWN_ANOMALY, KNOWN_NORMAL, UNLABELED)) if len(g)]
    sizes = np.array([len(g) for g in groups], dtype=float)
    quota = cap * sizes / sizes.sum()
    take = np.maximum(np.floor(quota).astype(int), 1)
    for k in np.argsort(-(quota - take)):
        if take.sum() >= cap:
            break
        take[k] += 1
    picked = [rng.choice(g, min(t, len(g)), replace=False) for g, t in zip(groups, take, strict=True)]
    return np.sort(np.concatenate(picked))


#: The not-fitted message (``%(name)s``: the class name), raised as sklearn's ``NotFittedError``.
NOT_FITTED = "%(name)s is not fitted; call {call} first"


def check_fitted(detector, attribute: str = "is_fitted_", call: str = "fit(X, y_semi)") -> None:
    """Raise :class:`sklearn.exceptions.NotFittedError` unless ``detector`` has ``attribute``.

    A thin wrapper of :func:`sklearn.utils.validation.check_is_fitted` with semiad's message
    ("<class> is not fitted; call <call> first"), for the scoring and inspection methods of every
    detector (``decision_function``, ``transform``, ``score``, ...).
    """
    check_is_fitted(detector, attribute, msg=NOT_FITTED.format(call=call))


class BaseDetector(BaseEstimator, ABC):
    """Base class of every semiad detector: a scikit-learn estimator with the semi-label contract.

    Subclasses follow scikit-learn's rules, so that ``get_params``, ``set_params`` and
    :func:`sklearn.base.clone` work: ``__init__`` stores each argument unchanged under its own name
    and does nothing else; hyperparameters are validated in :meth:`_check_params`, which ``fit``
    calls first; everything learned from data lives in attributes with a trailing underscore.
    They implement ``_fit(X, y_semi)`` on validated data and ``_score(X)`` (higher = more anomalous).

    ``sklearn.utils.estimator_checks.check_estimator`` is not expected to pass: ``y_semi`` is a
    semi-label vector (+1 known normal, 0 unlabeled, -1 known anomaly), not a target that sklearn's
    checks know how to generate, several detectors need a labeled anomaly to fit at all, and the
    deep ones need more rows than the checks provide.

    Attributes
    ----------
    uses_labeled_anomalies : bool
        Class attribute. True for methods that learn from labeled anomalies (Deep SAD, SSAD, the
        supervised baselines); unsupervised methods drop rows with ``y_semi == -1`` before ``_fit``
        (Deep SAD paper, Sec. 4.2).
    n_features_in_ : int
        Number of features seen in ``fit``.
    is_fitted_ : bool
        Set once ``fit`` has completed; :func:`check_fitted` tests for it.
    """

    #: True for methods that learn from labeled anomalies (Deep SAD, SSAD, supervised, ...).
    uses_labeled_anomalies: bool = False

    def fit(self, X, y_semi=None) -> BaseDetector:
        """Fit on ``X`` (n_samples, n_features) with semi-labels ``y_semi`` (``None``: all unlabeled).

        Returns
        -------
        self : BaseDetector
        """
        self._check_params()
        X, y_semi = check_inputs(X, y_semi)
        if not self.uses_labeled_anomalies:
            # Unsupervised methods learn from the unlabeled (and known-normal) data only: a labeled
            # anomaly is not part of the "mostly normal" sample they model (paper Sec. 4.2).
            keep = y_semi != KNOWN_ANOMALY
            X, y_semi = X[keep], y_semi[keep]
        self.n_features_in_ = X.shape[1]
        self._fit(X, y_semi)
        self.is_fitted_ = True
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores of the rows of ``X``, shape (n_samples,), float64; higher = more anomalous.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        check_fitted(self)
        X, _ = check_inputs(X, min_rows=1)
        expected = getattr(self, "n_features_in_", X.shape[1])
        if X.shape[1] != expected:
            raise ValueError(f"{type(self).__name__} was fitted on {expected} features, X has {X.shape[1]}")
        scores = np.asarray(self._score(X), dtype=np.float64).ravel()
        if not np.isfinite(scores).all():
            raise FloatingPointError(f"{type(self).__name__} produced non-finite anomaly scores")
        return scores

    def _check_params(self) -> None:
        """Validate the hyperparameters (raise ``ValueError``); called first by ``fit``."""

    def _fit(self, X: np.ndarray, y_semi: np.ndarray) -> None:
        """Learn from validated float32 ``X`` and int ``y_semi`` (detectors that override ``fit``
        itself, such as the RL agents, need not implement it)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither _fit nor fit")

    @abstractmethod
    def _score(self, X: np.ndarray) -> np.ndarray:
        """Raw anomaly scores of validated float32 ``X`` (higher = more anomalous)."""


class IgnoresValidation(BaseDetector):
    """Base for detectors that take DADS-style validation data in ``fit`` but do not use it, so that
    every method of a grid is called the same way (``fit(X, y_semi, X_val=..., y_val=...)``)."""

    def fit(self, X, y_semi=None, X_val=None, y_val=None) -> BaseDetector:
        """Fit on ``(X, y_semi)``; ``X_val`` and ``y_val`` are accepted and ignored."""
        return super().fit(X, y_semi)


@runtime_checkable
class ActiveDetector(Protocol):
    """An active or RL anomaly detector: fit on a pool with labels revealed under a budget, then score.

    ``fit(X, y, **options) -> self``: ``X`` is the pool; ``y`` is the label source the method is
    allowed to query (the ground truth behind an oracle, the semi-labels ``y_semi``, or the labeled
    subset), ``options`` the method's budget and validation arguments (see the module table).
    ``decision_function(X) -> ndarray`` (n_samples,): scores, higher = more anomalous.
    """

    def fit(self, X, *args, **kwargs): ...

    def decision_function(self, X) -> np.ndarray: ...


@runtime_checkable
class QueryStrategy(Protocol):
    """One round of an audit loop (UaiNets Algorithm 1): rank the pool, then learn from the audits.

    ``score() -> ndarray`` (n_pool,): current scores of every pool item, higher = more anomalous;
    ``update(idx, labels)``: feedback on pool items ``idx``, ``labels`` 1 = anomaly, 0 = normal.
    Driven by :func:`semiad.uainets.active.run_active_loop` under a budget.
    """

    def score(self) -> np.ndarray: ...

    def update(self, idx: np.ndarray, labels: np.ndarray) -> None: ...
