"""Active Anomaly Discovery (AAD) baselines of the UaiNets paper (Sec. 4.2, App. A.3).

* :class:`LodaAAD` -- Das et al. (2016), "Incorporating Expert Feedback into Active Anomaly
  Discovery", ICDM: a LODA ensemble (Pevny, 2016) whose per-projection scores are re-weighted
  from analyst feedback.
* :class:`TreeAAD` -- Das et al. (2017), "Incorporating Feedback into Tree-based Anomaly
  Detection", KDD IDEA workshop (arXiv 1708.09441): an Isolation Forest whose node weights are
  re-learned from feedback.

Both share the AAD model: every pool row ``x`` has a fixed feature vector ``phi(x)`` (one entry
per ensemble member / tree node) and the anomaly score is linear, ``score(x) = w . phi(x)``.
``w`` starts at the uniform prior ``w_0 = 1 / sqrt(m)`` (unit norm), for which the ranking is
exactly the base detector's. After each batch of feedback ``w`` is re-learned by minimising the
AAD loss (Das et al. 2016 Sec. III, Eq. (2)-(4); Das et al. 2017 Sec. 3, Eq. (3))::

    L(w) = C_a/|A| sum_{a in A} l(q_tau - w.z_a)    + C_n/|N| sum_{n in N} l(w.z_n - q_tau)
         + C_tau/|A| sum_{a in A} l(w.z_tau - w.z_a) + C_tau/|N| sum_{n in N} l(w.z_n - w.z_tau)
         + C_xi/(|A||N|) sum_{a, n} l(w.z_n - w.z_a)                           (pairwise, 2016)
         + prior_weight/2 * ||w - w_0||^2

``A`` / ``N`` are the labeled anomalies / nominals kept in memory, ``q_tau`` is the score of the
``tau``-quantile row (the ``ceil(tau n)``-th highest score) under the previous weights and
``z_tau`` is that row's feature vector (the "tau-instance" constraint of Das et al. 2017), and
``l(u) = max(0, u)`` is the hinge. The solved ``w`` is renormalised to unit length (Das et al.
2017). Defaults: ``tau = 0.03``, ``C_a = 100``, ``C_n = 1`` (Das et al. 2016 Sec. IV),
``C_tau = 1``, ``C_xi = 1000`` (the ICDM'16 slack weight), ``prior_weight = 2`` (= ``1/sigma^2``
with the authors' ``sigma^2 = 0.5``). Deviations, documented on purpose:

* the (unsmoothed) problem is solved through its box-constrained dual with scipy's L-BFGS-B
  (:func:`solve_aad_weights`) instead of the papers' CVXOPT / gradient solvers; the dual only
  needs the Gram matrix of the labeled rows, so an update costs the same for 100 LODA projections
  and ~13k tree nodes. Each solve stops at convergence or after ``max_iter = 500`` iterations
  (``solver_iterations_`` records them). With LODA-AAD's pairwise terms most solves on KDDCUP and
  Covtype stop at that cap, short of the optimum: solved to convergence, LODA-AAD's F1 on quick's
  KDDCUP pools rises by 4-8 points and moves by less than 0.01 on Covtype, at 1.4-3.4x the time
  (``benchmarks/aad_convergence.py``, 2 seeds each); ``max_iter`` is a size of the grid
  (:class:`semiad.uainets.grid.UaiNetsConfig`);
* the pairwise slack terms are averaged over pairs (the 2016 code sums them) so one ``C_xi``
  works for any amount of feedback; they are on for LODA-AAD and off for Tree-AAD by default;
* features are divided by one global constant (mean row norm -> 1) so the default constants
  do not depend on the data scale; this does not change any ranking;
* ``max_feedback_memory`` keeps only the newest labels (UaiNets App. B.2 had to limit the memory
  of both baselines on KDDCUP).

Active-learning interface (:class:`~semiad.core.detectors.base.QueryStrategy`, driven by
:func:`semiad.uainets.active.run_active_loop`)::

    det = LodaAAD(random_state=0).fit(X)   # unsupervised fit on the whole pool
    s = det.score()                        # (n,) current scores, higher = more anomalous
    det.update(idx, labels)                # labels: 1 = anomaly, 0 = nominal
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp
from pyod.models.loda import LODA
from scipy.optimize import Bounds, minimize
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from threadpoolctl import threadpool_limits

from semiad.core.detectors.base import check_fitted

__all__ = ["LodaAAD", "TreeAAD", "aad_loss", "solve_aad_weights"]

_EULER_GAMMA = 0.5772156649015329


def _dense(A) -> np.ndarray:
    return np.asarray(A.toarray() if sp.issparse(A) else A, dtype=np.float64)


def aad_loss(w: np.ndarray, Z_a, Z_n, q_tau: float, z_tau: np.ndarray | None, w0: np.ndarray, *,
             C_a: float, C_n: float, C_tau: float, C_xi: float, prior_weight: float,
             pairwise: bool) -> float:
    """Primal AAD objective of the module docstring with the exact hinge (used for checks).

    ``Z_a`` (|A|, m) / ``Z_n`` (|N|, m) are the features of the labeled anomalies / nominals (dense
    or scipy.sparse), ``q_tau`` the previous tau-quantile score, ``z_tau`` the tau-instance
    (``None`` drops those terms).
    """
    loss = 0.5 * prior_weight * float(np.dot(w - w0, w - w0))
    n_a, n_n = Z_a.shape[0], Z_n.shape[0]
    s_a = np.asarray(Z_a @ w).ravel() if n_a else np.zeros(0)
    s_n = np.asarray(Z_n @ w).ravel() if n_n else np.zeros(0)
    s_tau = float(z_tau @ w) if z_tau is not None else None
    if n_a:
        loss += C_a / n_a * np.maximum(0, q_tau - s_a).sum()
        if s_tau is not None:
            loss += C_tau / n_a * np.maximum(0, s_tau - s_a).sum()
    if n_n:
        loss += C_n / n_n * np.maximum(0, s_n - q_tau).sum()
        if s_tau is not None:
            loss += C_tau / n_n * np.maximum(0, s_n - s_tau).sum()
    if pairwise and n_a and n_n:
        loss += C_xi / (n_a * n_n) * np.maximum(0, s_n[None, :] - s_a[:, None]).sum()
    return float(loss)


def solve_aad_weights(Z, rows_a: np.ndarray, rows_n: np.ndarray, row_tau: int | None, q_tau: float,
                      w0: np.ndarray, *, C_a: float, C_n: float, C_tau: float, C_xi: float,
                      prior_weight: float, pairwise: bool, max_iter: int = 500,
                      gram: np.ndarray | None = None, iterations: list[int] | None = None) -> np.ndarray:
    """Minimise the AAD loss through its box-constrained dual; return the (unnormalised) ``w``.

    ``Z`` (r, m, dense or sparse) holds the feature rows that feedback refers to; ``rows_a`` /
    ``rows_n`` index the anomalies / nominals in it and ``row_tau`` the tau-instance. Every hinge
    term ``k`` is ``c_k max(0, b_k - g_k . w)`` with ``g_k`` a signed sum of at most two rows of
    ``Z`` (anomaly: ``g = z_a``, ``b = q_tau`` and ``g = z_a - z_tau``, ``b = 0``; nominal:
    ``g = -z_n``, ``b = -q_tau`` and ``g = z_tau - z_n``, ``b = 0``; pair: ``g = z_a - z_n``,
    ``b = 0``), so with ``lambda = prior_weight`` the dual is
    ``max_{0 <= beta <= c} sum_k beta_k (b_k - g_k . w_0) - |sum_k beta_k g_k|^2 / (2 lambda)`` and
    ``w = w_0 + sum_k beta_k g_k / lambda``. It only needs the Gram matrix ``Z Z^T`` (r x r), so
    its cost does not grow with the number of tree nodes m (pass it as ``gram`` when cached).
    Solved by L-BFGS-B with bounds, stopped at convergence or after ``max_iter`` iterations; the
    iteration count is appended to ``iterations`` when given.
    """
    # Hand-written: no maintained library implements the AAD weight learning of Das et al.
    n_a, n_n = len(rows_a), len(rows_n)
    plus: list[np.ndarray] = []
    minus: list[np.ndarray] = []
    b: list[np.ndarray] = []
    c: list[np.ndarray] = []
    none = np.full(0, -1)
    if n_a:
        plus.append(rows_a), minus.append(np.full(n_a, -1)), b.append(np.full(n_a, q_tau))
        c.append(np.full(n_a, C_a / n_a))
        if row_tau is not None:
            plus.append(rows_a), minus.append(np.full(n_a, row_tau)), b.append(np.zeros(n_a))
            c.append(np.full(n_a, C_tau / n_a))
    if n_n:
        plus.append(np.full(n_n, -1)), minus.append(rows_n), b.append(np.full(n_n, -q_tau))
        c.append(np.full(n_n, C_n / n_n))
        if row_tau is not None:
            plus.append(np.full(n_n, row_tau)), minus.append(rows_n), b.append(np.zeros(n_n))
            c.append(np.full(n_n, C_tau / n_n))
    if pairwise and n_a and n_n and C_xi > 0:
        pa, pn = np.meshgrid(rows_a, rows_n, indexing="ij")
        plus.append(pa.ravel()), minus.append(pn.ravel()), b.append(np.zeros(n_a * n_n))
        c.append(np.full(n_a * n_n, C_xi / (n_a * n_n)))
    if not plus:
        return w0.copy()
    p, q = np.concatenate(plus or [none]), np.concatenate(minus or [none])
    bb, cc = np.concatenate(b), np.concatenate(c)
    n_terms, n_rows = len(p), Z.shape[0]
    # M (rows x terms): g_k = (M[:, k])^T Z, entries +1 / -1
    has_p, has_q = p >= 0, q >= 0
    M = sp.csr_matrix((np.r_[np.ones(has_p.sum()), -np.ones(has_q.sum())],
                       (np.r_[p[has_p], q[has_q]], np.r_[np.flatnonzero(has_p), np.flatnonzero(has_q)])),
                      shape=(n_rows, n_terms))
    K = _dense(Z @ Z.T) if gram is None else gram
    s0 = np.asarray(Z @ w0, dtype=np.float64).ravel()
    lin = bb - M.T @ s0  # b_k - g_k . w_0
    lam = prior_weight

    def neg_dual(beta: np.ndarray) -> tuple[float, np.ndarray]:
        v = M @ beta
        Kv = K @ v
        return float(v @ Kv / (2 * lam) - lin @ beta), M.T @ Kv / lam - lin

    # one BLAS thread: many tiny products, where thread hand-offs dominate (100x slower otherwise)
    with threadpool_limits(1):
        res = minimize(neg_dual, np.zeros(n_terms), jac=True, method="L-BFGS-B",
                       bounds=Bounds(np.zeros(n_terms), cc),
                       options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-10})
    if iterations is not None:
        iterations.append(int(res.nit))
    v = M @ res.x
    return w0 + np.asarray(Z.T @ v, dtype=np.float64).ravel() / lam


class _AADBase(BaseEstimator):
    """Shared AAD machinery: precomputed features, linear scores, feedback memory, weight learning.

    A scikit-learn estimator (``get_params``, ``set_params``, ``clone``) that follows
    :class:`~semiad.core.detectors.base.ActiveDetector` (``fit`` on the pool, ``decision_function``
    of new rows) and :class:`~semiad.core.detectors.base.QueryStrategy` (``score`` / ``update`` in
    the audit loop of :func:`semiad.uainets.active.run_active_loop`).

    Parameters
    ----------
    tau : float, default=0.03
        Quantile defining q_tau (the ``ceil(tau n)``-th highest score), in (0, 1).
    C_a, C_n, C_tau, C_xi : float, default=100, 1, 1, 1000
        Weights of the anomaly, nominal, tau-instance and pairwise hinge terms of the AAD loss
        (module docstring; Das et al. 2016 Sec. IV), >= 0.
    prior_weight : float, default=2.0
        Weight of ``||w - w_0||^2 / 2`` (= 1 / sigma^2 with the authors' sigma^2 = 0.5), > 0.
    max_iter : int, default=500
        Cap on the L-BFGS-B iterations of each dual solve (:func:`solve_aad_weights`); a solve may
        stop there before converging (module docstring).
    max_feedback_memory : int or None, default=None
        Keep only the newest feedback (UaiNets App. B.2); ``None``: all.
    random_state : int, default=0
        Seed of the base ensemble.

    Attributes
    ----------
    features_ : ndarray or scipy.sparse.csr_matrix
        phi of the pool rows, divided by ``feature_scale_`` (mean row norm).
    w0_, weights_ : ndarray
        Uniform prior and current unit-norm weights.
    n_samples_, n_weights_, n_updates_ : int
        Pool size, number of weights, feedback rounds so far.
    solver_iterations_ : list of int
        L-BFGS-B iterations of each update's dual solve (``== max_iter``: stopped at the cap).
    """

    pairwise: bool

    def __init__(self, tau: float, C_a: float, C_n: float, C_tau: float, C_xi: float, prior_weight: float,
                 max_iter: int, max_feedback_memory: int | None, random_state: int):
        self.tau = tau
        self.C_a = C_a
        self.C_n = C_n
        self.C_tau = C_tau
        self.C_xi = C_xi
        self.prior_weight = prior_weight
        self.max_iter = max_iter
        self.max_feedback_memory = max_feedback_memory
        self.random_state = random_state

    def _check_params(self) -> None:
        """Validate the hyperparameters (called first by :meth:`fit`)."""
        if not 0 < self.tau < 1:
            raise ValueError(f"tau must be in (0, 1), got {self.tau}")
        if min(self.C_a, self.C_n, self.C_tau, self.C_xi) < 0 or self.prior_weight <= 0:
            raise ValueError("need C_a, C_n, C_tau, C_xi >= 0 and prior_weight > 0")
        if self.max_feedback_memory is not None and self.max_feedback_memory < 1:
            raise ValueError(f"max_feedback_memory must be None or >= 1, got {self.max_feedback_memory}")

    # -- subclass hook -------------------------------------------------------------------------
    def _features(self, X: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- public API ----------------------------------------------------------------------------
    def fit(self, X: np.ndarray) -> _AADBase:
        """Unsupervised fit on the whole pool ``X`` (n, d); weights start at the uniform prior."""
        self._check_params()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 2:
            raise ValueError(f"X must be 2-D with at least two rows, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or inf")
        phi = self._features(X)
        norms = (np.sqrt(np.asarray(phi.multiply(phi).sum(axis=1))).ravel() if sp.issparse(phi)
                 else np.linalg.norm(phi, axis=1))
        self.feature_scale_ = scale = float(norms.mean()) or 1.0
        self.features_ = phi / scale if not sp.issparse(phi) else (phi * (1.0 / scale)).tocsr()
        self.n_samples_, self.n_weights_ = self.features_.shape
        self.w0_ = np.full(self.n_weights_, 1.0 / math.sqrt(self.n_weights_))
        self.weights_ = self.w0_.copy()
        self._feedback: OrderedDict[int, int] = OrderedDict()
        self._gram_cache: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64), np.zeros((0, 0)))
        self.solver_iterations_: list[int] = []
        self._scores = self._compute_scores(self.weights_)
        self.n_updates_ = 0
        return self

    def score_new(self, X: np.ndarray) -> np.ndarray:
        """Scores ``w . phi(x)`` of rows outside the pool with the current weights (Fig. 4's test set)."""
        self._check_fitted()
        phi = self._transform(np.asarray(X, dtype=np.float64))
        return np.asarray(phi @ self.weights_, dtype=np.float64).ravel() / self.feature_scale_

    def decision_function(self, X) -> np.ndarray:
        """scikit-learn name of :meth:`score_new`: scores of rows ``X`` under the current weights."""
        return self.score_new(X)

    def _transform(self, X: np.ndarray):  # pragma: no cover - per subclass
        raise NotImplementedError(f"{type(self).__name__} cannot score rows outside its pool")

    def score(self) -> np.ndarray:
        """Current anomaly scores ``w . phi(x)`` of every pool row (n,), higher = more anomalous."""
        self._check_fitted()
        return self._scores.copy()

    @property
    def feedback_(self) -> tuple[np.ndarray, np.ndarray]:
        """Feedback in memory, oldest first: (pool indices, labels with 1 = anomaly, 0 = nominal)."""
        self._check_fitted()
        idx = np.fromiter(self._feedback.keys(), dtype=np.int64, count=len(self._feedback))
        lab = np.fromiter(self._feedback.values(), dtype=np.int64, count=len(self._feedback))
        return idx, lab

    def update(self, idx: np.ndarray, labels: np.ndarray) -> None:
        """Add feedback (pool rows ``idx``, ``labels`` 1 = anomaly / 0 = nominal) and re-learn ``w``.

        All feedback so far is kept (a re-labeled row keeps its newest label), truncated to the
        newest ``max_feedback_memory`` entries, and ``w`` is re-fit on it (module docstring).
        """
        self._check_fitted()
        idx = np.atleast_1d(np.asarray(idx))
        labels = np.atleast_1d(np.asarray(labels))
        if idx.ndim != 1 or labels.ndim != 1 or len(idx) != len(labels):
            raise ValueError(f"idx and labels must be 1-D of equal length, got {idx.shape}, {labels.shape}")
        if len(idx) == 0:
            return
        if not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"idx must hold integers, got dtype {idx.dtype}")
        if idx.min() < 0 or idx.max() >= self.n_samples_:
            raise IndexError(f"idx out of range [0, {self.n_samples_})")
        if not (np.issubdtype(labels.dtype, np.number) or labels.dtype == bool):
            raise ValueError(f"labels must be 0/1, got dtype {labels.dtype}")
        bad = set(np.unique(labels).tolist()) - {0, 1}
        if bad:
            raise ValueError(f"labels must be 1 (anomaly) or 0 (nominal), got {sorted(bad)}")
        for i, y in zip(idx.tolist(), labels.astype(int).tolist(), strict=True):
            self._feedback.pop(i, None)
            self._feedback[i] = y
        if self.max_feedback_memory is not None:
            while len(self._feedback) > self.max_feedback_memory:
                self._feedback.popitem(last=False)
        self.weights_ = self._learn_weights()
        self._scores = self._compute_scores(self.weights_)
        self.n_updates_ += 1

    # -- internals -----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        check_fitted(self, "features_", call="fit(X)")

    def _compute_scores(self, w: np.ndarray) -> np.ndarray:
        return np.asarray(self.features_ @ w, dtype=np.float64).ravel()

    def _rows(self, rows: np.ndarray):
        return self.features_[rows]

    def _gram(self, rows: np.ndarray) -> np.ndarray:
        """Gram matrix ``Z_R Z_R^T`` of the sorted unique pool ``rows``, reusing the previous update's."""
        old_rows, old = self._gram_cache
        known = np.isin(rows, old_rows)
        K = np.empty((len(rows), len(rows)))
        pos = np.searchsorted(old_rows, rows[known])
        K[np.ix_(known, known)] = old[np.ix_(pos, pos)]
        new = np.flatnonzero(~known)
        if len(new):
            cross = _dense(self._rows(rows[new]) @ self._rows(rows).T)  # (new, r)
            K[new, :] = cross
            K[:, new] = cross.T
        self._gram_cache = (rows, K)
        return K

    def _learn_weights(self) -> np.ndarray:
        idx, lab = self.feedback_
        s = self._scores
        k = max(1, math.ceil(self.tau * self.n_samples_))
        tau_row = int(np.argpartition(-s, k - 1)[k - 1])
        q_tau = float(s[tau_row])
        rows, inverse = np.unique(np.r_[idx, tau_row], return_inverse=True)
        pos_fb, pos_tau = inverse[:-1], int(inverse[-1])
        w = solve_aad_weights(self._rows(rows), pos_fb[lab == 1], pos_fb[lab == 0], pos_tau, q_tau,
                              self.w0_, C_a=self.C_a, C_n=self.C_n, C_tau=self.C_tau, C_xi=self.C_xi,
                              prior_weight=self.prior_weight, pairwise=self.pairwise,
                              max_iter=self.max_iter, gram=self._gram(rows),
                              iterations=self.solver_iterations_)
        norm = float(np.linalg.norm(w))
        return w / norm if norm > 0 else self.w0_.copy()


class LodaAAD(_AADBase):
    """LODA-AAD (Das et al. 2016, ICDM): AAD weight learning on top of pyod's LODA.

    ``phi_j(x) = -log p_j(w_j^T x)``, the negative log histogram density of projection ``j``
    (Pevny 2016, Eq. (1)), read from pyod's fitted ``projections_`` / ``histograms_`` /
    ``limits_``. Uniform weights reproduce pyod's ``decision_scores_`` ranking exactly.
    Pairwise anomaly-above-nominal terms (Das et al. 2016) are on by default.

    Parameters
    ----------
    n_projections : int, default=100
        Number of random projections m of LODA, >= 1.
    n_bins : int or str, default=10
        Histogram bins per projection (pyod's ``n_bins``).
    tau, C_a, C_n, C_tau, C_xi, prior_weight, max_iter, max_feedback_memory, random_state
        The AAD loss and solver settings; see :class:`_AADBase`.

    Attributes
    ----------
    features_, w0_, weights_, n_samples_, n_weights_, n_updates_
        See :class:`_AADBase`.
    loda_ : pyod.models.loda.LODA
        The fitted LODA ensemble.

    References
    ----------
    .. [1] S. Das, W.-K. Wong, T. Dietterich, A. Fern, A. Emmott. "Incorporating Expert Feedback into
       Active Anomaly Discovery", ICDM 2016, Sec. III, Eqs. (2)-(4).
    .. [2] T. Pevny. "Loda: Lightweight on-line detector of anomalies", Machine Learning 102(2), 2016.
    """

    def __init__(self, n_projections: int = 100, n_bins: int | str = 10, tau: float = 0.03,
                 C_a: float = 100.0, C_n: float = 1.0, C_tau: float = 1.0, C_xi: float = 1000.0,
                 prior_weight: float = 2.0,
                 pairwise: bool = True, max_iter: int = 500,
                 max_feedback_memory: int | None = None, random_state: int = 0):
        super().__init__(tau, C_a, C_n, C_tau, C_xi, prior_weight, max_iter, max_feedback_memory,
                         random_state)
        self.n_projections = n_projections
        self.n_bins = n_bins
        self.pairwise = pairwise

    def _check_params(self) -> None:
        super()._check_params()
        if self.n_projections < 1:
            raise ValueError(f"n_projections must be >= 1, got {self.n_projections}")

    def _features(self, X: np.ndarray) -> np.ndarray:
        self.loda_ = LODA(n_bins=self.n_bins, n_random_cuts=self.n_projections,
                          random_state=self.random_state).fit(X)
        return self._transform(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        """phi(x) of any rows under the fitted projections and histograms."""
        loda = self.loda_
        proj = X @ loda.projections_.T  # (n, m)
        phi = np.empty_like(proj)
        for j in range(self.n_projections):
            if isinstance(self.n_bins, numbers.Integral):
                hist, lim, nb = loda.histograms_[j], loda.limits_[j], self.n_bins
            else:
                hist, lim, nb = loda.histograms_[j], loda.limits_[j], loda.n_bins_[j]
            # same bin lookup as pyod's LODA.decision_function
            bins = np.searchsorted(lim[:nb - 1], proj[:, j], side="left")
            phi[:, j] = -np.log(hist[bins])
        return phi


def _avg_path_length(n: np.ndarray) -> np.ndarray:
    """c(n) of Liu et al. (2008): mean unsuccessful-search path length in a BST of n points."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + _EULER_GAMMA) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class TreeAAD(_AADBase):
    """Tree-AAD (Das et al. 2017, arXiv 1708.09441): AAD weights on Isolation Forest nodes.

    One feature per tree node (``node_features="nodes"``, Das et al. 2017 Sec. 3: every node is a
    subspace region with its own weight) or per leaf (``"leaves"``), stored as a sparse CSR
    matrix. Values are signed so that the uniform prior reproduces the Isolation Forest score:
    a non-root node on the path of ``x`` contributes ``-1`` (one edge of path length) and the leaf
    additionally ``-c(n_leaf)`` (Liu et al. 2008); with ``"leaves"`` the leaf carries the whole
    ``-h(x) = -(depth + c(n_leaf))``. Hence ``w_0 . phi(x) ~ -sum_t h_t(x)``, a strictly increasing
    function of scikit-learn's ``IsolationForest.score_samples``. Pairwise terms are off by default
    (the 2017 formulation has only the q_tau and tau-instance hinges).

    Parameters
    ----------
    n_estimators : int, default=100
        Trees of the Isolation Forest.
    max_samples : int, float or str, default=256
        Sub-sampling size of each tree (scikit-learn's ``max_samples``).
    node_features : {"nodes", "leaves"}, default="nodes"
        One weight per tree node (Das et al. 2017 Sec. 3) or per leaf.
    pairwise : bool, default=False
        Add the pairwise anomaly-above-nominal terms.
    tau, C_a, C_n, C_tau, C_xi, prior_weight, max_iter, max_feedback_memory, random_state
        The AAD loss and solver settings; see :class:`_AADBase`.

    Attributes
    ----------
    features_, w0_, weights_, n_samples_, n_weights_, n_updates_
        See :class:`_AADBase`.
    forest_ : sklearn.ensemble.IsolationForest
        The fitted forest.
    kept_columns_ : ndarray
        Columns of the node matrix that are not zero for every pool row.

    References
    ----------
    .. [1] S. Das, W.-K. Wong, A. Fern, T. Dietterich, M. A. Siddiqui. "Incorporating Feedback into
       Tree-based Anomaly Detection", KDD IDEA workshop 2017 (arXiv 1708.09441), Sec. 3, Eq. (3).
    .. [2] F. T. Liu, K. M. Ting, Z.-H. Zhou. "Isolation Forest", ICDM 2008.
    """

    def __init__(self, n_estimators: int = 100, max_samples: int | float | str = 256, tau: float = 0.03,
                 C_a: float = 100.0, C_n: float = 1.0, C_tau: float = 1.0, C_xi: float = 1000.0,
                 prior_weight: float = 2.0,
                 node_features: str = "nodes", pairwise: bool = False, max_iter: int = 500,
                 max_feedback_memory: int | None = None, random_state: int = 0):
        super().__init__(tau, C_a, C_n, C_tau, C_xi, prior_weight, max_iter, max_feedback_memory,
                         random_state)
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.node_features = node_features
        self.pairwise = pairwise

    def _check_params(self) -> None:
        super()._check_params()
        if self.node_features not in ("nodes", "leaves"):
            raise ValueError(f"node_features must be 'nodes' or 'leaves', got {self.node_features!r}")

    def _features(self, X: np.ndarray) -> sp.csr_matrix:
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                                       random_state=self.random_state).fit(X)
        phi = self._node_values(X)
        phi.eliminate_zeros()
        # drop columns that are zero for every row (e.g. the root): they never affect a score
        keep = np.flatnonzero(np.diff(phi.tocsc().indptr))
        self.kept_columns_ = keep
        return phi[:, keep].tocsr()

    def _transform(self, X: np.ndarray) -> sp.csr_matrix:
        """phi(x) of any rows under the fitted forest, in the columns kept at fit time (the dropped
        ones, e.g. the root's, hold the value 0 for every row; the forest grew on pool rows, so no
        other node is unvisited by the pool)."""
        return self._node_values(X)[:, self.kept_columns_].tocsr()

    def _node_values(self, X: np.ndarray) -> sp.csr_matrix:
        """The signed node (or leaf) values of every row under the fitted forest, all columns."""
        blocks = []
        for est, feats in zip(self.forest_.estimators_, self.forest_.estimators_features_, strict=True):
            tree = est.tree_
            Xt = X[:, feats]
            is_leaf = tree.children_left == -1
            leaf_corr = np.where(is_leaf, _avg_path_length(tree.n_node_samples), 0.0)
            if self.node_features == "nodes":
                values = -1.0 - leaf_corr
                values[0] = -leaf_corr[0]  # the root adds no edge
                ind = est.decision_path(Xt).tocsr().astype(np.float64)
                blocks.append(ind @ sp.diags(values))
            else:
                depth = np.zeros(tree.node_count)
                for node in range(tree.node_count):  # children always have larger ids than parents
                    for child in (tree.children_left[node], tree.children_right[node]):
                        if child != -1:
                            depth[child] = depth[node] + 1
                leaves = np.flatnonzero(is_leaf)
                col = np.full(tree.node_count, -1)
                col[leaves] = np.arange(len(leaves))
                leaf_of = est.apply(Xt)
                vals = -(depth[leaf_of] + leaf_corr[leaf_of])
                blocks.append(sp.csr_matrix((vals, (np.arange(len(X)), col[leaf_of])),
                                            shape=(len(X), len(leaves))))
        return sp.hstack(blocks, format="csr")
