r"""SSAD — semi-supervised anomaly detection (Görnitz, Kloft, Rieck & Brefeld, JAIR 46, 2013).

The shallow semi-supervised kernel baseline of Deep SAD (Ruff et al., ICLR 2020, Sec. 4.1 and
App. E): a one-class SVM / SVDD that also learns from labeled normals and labeled anomalies.
Solved exactly as a dense convex QP in the dual with ``cvxopt.solvers.qp``.

Where the formulation comes from
--------------------------------
Görnitz et al. (2013, Sec. 3) state SSAD as a support-vector data description (hypersphere with
centre ``c`` and radius ``R``) over ``n`` unlabeled points ``x_i`` and ``m`` labeled points
``(x_j, y_j)``, ``y_j = +1`` normal / ``-1`` anomaly::

    min_{R, c, gamma, xi}  R^2 - kappa*gamma + eta_u * sum_i xi_i + eta_l * sum_j xi_j
    s.t.  ||phi(x_i) - c||^2 <= R^2 + xi_i                        (unlabeled)
          y_j * (||phi(x_j) - c||^2 - R^2) <= -gamma + xi_j        (labeled)
          xi >= 0

``gamma`` is an extra margin that labeled points must keep from the boundary, rewarded with
weight ``kappa``. The problem is non-convex because of the labeled-anomaly constraints; the paper
(its convex-reformulation section, following Sec. 3) shows that for kernels with constant
``k(x, x)`` — the RBF kernel used here and in Deep SAD App. E — it has a convex equivalent: the
sphere becomes a hyperplane in feature space (the SVDD <-> one-class SVM equivalence of
Schölkopf et al., 2001 / Tax & Duin, 2004). (Equation numbers are not quoted: the paper is not
in ``/work/shared/papers``; the section pointers above are from memory of the paper's layout.)

Primal solved here (hyperplane form)
------------------------------------
With ``y~_i = +1`` for unlabeled points and ``y~_j = y_j`` for labeled ones::

    (P)  min_{w, rho, gamma >= 0, xi >= 0}  1/2 ||w||^2 - rho - kappa_eff * gamma + sum_i C_i xi_i
         s.t.  <w, phi(x_i)> >= rho - xi_i                          i unlabeled
               y_j (<w, phi(x_j)> - rho) >= gamma - xi_j             j labeled

Lagrangian with multipliers ``alpha >= 0`` for the margin constraints: stationarity in ``w``
gives ``w = sum_i alpha_i y~_i phi(x_i)``; in ``rho``: ``sum_i y~_i alpha_i = 1``; in ``gamma``
(``gamma >= 0``): ``sum_{j labeled} alpha_j >= kappa_eff``; in ``xi``: ``alpha_i <= C_i``.
Hence the dual QP solved by :class:`SSAD`::

    (D)  min_alpha  1/2 sum_{i,k} alpha_i alpha_k y~_i y~_k k(x_i, x_k)
         s.t.  0 <= alpha_i <= C_i                 (box)
               sum_i y~_i alpha_i = 1              (equality, from rho)
               sum_{j labeled} alpha_j >= kappa_eff  (from gamma >= 0; absent without labels)

Decision function ``f(x) = <w, phi(x)> = sum_i alpha_i y~_i k(x_i, x)``; the anomaly score is
``rho - f(x)`` (positive outside the learned normal region; higher = more anomalous). ``rho``
comes from the KKT conditions: every *margin* support vector of the unlabeled part
(``0 < alpha_i < C_i``) has ``f(x_i) = rho``; we take the median over them (robust to solver
round-off on points that sit almost at a bound) and fall back to the QP's equality multiplier if
there is none. Labeled anomalies enter ``w`` with a negative sign: they push the normal region
away from themselves, labeled normals pull it in like unlabeled data.

Slack weights and their scaling with n (``nu``)
-----------------------------------------------
The paper's weights (and the Deep SAD baseline code, ``Cu = Cp = Cn = 1``) are *per point*:
``C_u = eta_u``, ``C_l = eta_l``, ``kappa_eff = kappa``. Without labels that is exactly a one-class
SVM with ``nu_OC = 1 / (eta_u * n)``: as ``n`` grows it drifts to the hard-margin solution that
encloses every (possibly polluted) training point, so the model changes with the subsample size.
Plain ``C = eta / n`` (a loss *mean*) does not work with the recommended defaults either: with
``eta_u = 1`` it is ``nu_OC = 1`` (all ``alpha_i = 1/n``: a Parzen window), and ``sum_L alpha_j
<= m * eta_l / n`` cannot reach ``kappa = 1``, so the dual is infeasible (primal unbounded).

We therefore use ``nu``-SVM scaling for *both* groups (default, ``nu=0.1``; ``n`` = all training
points, ``m`` = labeled ones)::

    C_u = eta_u / (nu * n),   C_l = eta_l / (nu * n),   kappa_eff = kappa * m / n

Reasons: (i) without labels (D) is *exactly* ``sklearn.svm.OneClassSVM(nu=nu / eta_u)`` (same
dual up to the factor ``nu_OC * n`` that libsvm puts on alpha; same ranking) for every ``n``;
(ii) the nu-property carries over to the labeled part: when ``gamma > 0`` at most a fraction
``kappa * nu / eta_l`` of labeled points are margin errors and at least that fraction are support
vectors — so ``kappa = eta_l = 1`` ("as recommended") means "labeled points are held to the same
``nu`` as the unlabeled ones"; (iii) per point, labeled and unlabeled slacks weigh
``eta_l : eta_u`` (1 : 1 by default — the equal weighting of Deep SAD's ``eta = 1``), and the
problem no longer depends on ``n`` except through the data. ``nu=None`` restores the literal
per-point weights (``C = eta``, ``kappa_eff = kappa``) of the paper / Deep SAD baseline code.
Infeasible settings (e.g. ``kappa * nu > eta_l``) raise ``ValueError`` before solving.

Cost: the dense kernel matrix is ``n^2`` doubles (n = 8000 -> 512 MB; cvxopt's Cholesky KKT
solver holds another ``n x n`` matrix and costs O(n^3) per interior-point iteration).
``max_train_samples`` caps ``n`` by a stratified subsample
(see :func:`semiad.core.detectors.base.stratified_subsample`).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import rbf_kernel

from semiad.core.detectors.base import (
    KNOWN_ANOMALY,
    KNOWN_NORMAL,
    UNLABELED,
    BaseDetector,
    check_fitted,
    stratified_subsample,
)

#: Deep SAD App. E: RBF scale gamma in {2^-7, ..., 2^2}; kappa = eta_u = eta_l = 1.
SSAD_GAMMAS: tuple[float, ...] = tuple(2.0 ** k for k in range(-7, 3))

SOLVERS = ("cvxopt",)
#: alpha_i below this fraction of its bound C_i counts as zero (not a support vector): the
#: interior-point solver leaves non-support vectors at ~1e-8..1e-5 C_i, true ones sit above ~1e-2 C_i.
SV_TOL = 1e-4
#: alpha_i within this fraction of its bounds counts as "at the bound" (not a margin SV).
MARGIN_TOL = 1e-3
#: cvxopt interior-point settings (its defaults, made explicit; progress printing off).
QP_OPTIONS = {"show_progress": False, "abstol": 1e-7, "reltol": 1e-6, "feastol": 1e-7, "maxiters": 200}
#: test rows per kernel block in ``_score`` (bounds scoring memory).
SCORE_CHUNK = 4096


def _check_positive(name: str, value, allow_zero: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}")
    return value


def _max_labeled_mass(upper_unl: float, upper_pos: float, upper_neg: float) -> float:
    """Largest ``sum_L alpha`` compatible with the box and ``sum y~ alpha = 1`` (-inf if none).

    Aggregate masses ``u`` (unlabeled), ``a`` (labeled normals), ``b`` (labeled anomalies) can be
    split over points freely, so (D) is feasible iff some ``u in [0, U], a in [0, A], b in [0, B]``
    with ``u + a - b = 1`` has ``a + b >= kappa_eff``. Maximise ``a + b`` over that 2-D polygon.
    """
    from scipy.optimize import linprog

    res = linprog(c=[0.0, -1.0, -1.0], A_eq=[[1.0, 1.0, -1.0]], b_eq=[1.0],
                  bounds=[(0.0, upper_unl), (0.0, upper_pos), (0.0, upper_neg)], method="highs")
    return -res.fun if res.status == 0 else -np.inf


class SSAD(BaseDetector):
    """Semi-supervised anomaly detection (Görnitz et al., 2013) with an RBF kernel; dual QP via cvxopt.

    The shallow semi-supervised baseline of Deep SAD (Sec. 4.1, App. E); the formulation, the dual
    (D) that is solved and the slack scaling are derived in the module docstring.

    Parameters
    ----------
    gamma : float, default=0.1
        RBF scale, ``k(x, x') = exp(-gamma ||x - x'||^2)`` (Deep SAD grid: :data:`SSAD_GAMMAS`).
    kappa : float, default=1.0
        Weight of the labeled margin ``gamma`` in the primal, >= 0 (paper default 1).
    eta_unlabeled, eta_labeled : float, default=1.0
        Slack weights ``eta_u``, ``eta_l`` (paper default 1 each).
    max_train_samples : int or None, default=None
        Fit on a stratified subsample of at most this many rows (>= 2; ``None``: all), see
        :func:`~semiad.core.detectors.base.stratified_subsample`.
    solver : {"cvxopt"}, default="cvxopt"
        Dense interior-point QP.
    random_state : int, default=0
        Seed of the subsample.
    nu : float or None, default=0.1
        Slack scaling (module docstring): ``C = eta / (nu * n)``, ``kappa_eff = kappa * m / n``;
        without labels this is ``OneClassSVM(nu=nu / eta_u)``. ``None``: the literal per-point
        weights ``C = eta``, ``kappa_eff = kappa`` (paper / Deep SAD baseline code).

    Attributes
    ----------
    support_ : ndarray
        Indices (into the training rows used) of the support vectors.
    support_vectors_ : ndarray
        The support vectors.
    dual_coef_ : ndarray
        ``alpha_i * y~_i`` of the support vectors.
    alpha_ : ndarray
        The full dual solution.
    upper_bounds_ : ndarray
        The box bounds ``C_i``.
    y_tilde_, labeled_mask_ : ndarray
        ``y~`` (+1 unlabeled / normal, -1 anomaly) and the labeled rows of the training subsample.
    kappa_eff_ : float
        Effective labeled-mass bound.
    rho_ : float
        The threshold; the score is ``rho_ - f(x)``.
    rho_source_ : str
        ``"margin_svs"`` or ``"equality_multiplier"``.
    rho_from_multiplier_ : float
        The same threshold read off the QP's equality multiplier (a cross-check of ``rho_``).
    labeled_margin_ : float
        ``gamma`` of the primal.
    train_index_ : ndarray
        Rows of the subsample.
    n_iter_, n_train_ : int
        Interior-point iterations and number of training rows used.

    References
    ----------
    .. [1] N. Görnitz, M. Kloft, K. Rieck, U. Brefeld. "Toward Supervised Anomaly Detection",
       JAIR 46, 2013.
    .. [2] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, Sec. 4.1 and App. E.
    """

    #: bump when the numerics change: the experiment grid puts it into cell configs (cache keys)
    impl_version = 2

    uses_labeled_anomalies = True

    def __init__(self, gamma: float = 0.1, kappa: float = 1.0, eta_unlabeled: float = 1.0,
                 eta_labeled: float = 1.0, max_train_samples: int | None = None, solver: str = "cvxopt",
                 random_state: int = 0, nu: float | None = 0.1):
        self.gamma = gamma
        self.kappa = kappa
        self.eta_unlabeled = eta_unlabeled
        self.eta_labeled = eta_labeled
        self.max_train_samples = max_train_samples
        self.solver = solver
        self.random_state = random_state
        self.nu = nu

    def _check_params(self) -> None:
        _check_positive("gamma", self.gamma)
        _check_positive("kappa", self.kappa, allow_zero=True)
        _check_positive("eta_unlabeled", self.eta_unlabeled)
        _check_positive("eta_labeled", self.eta_labeled)
        cap = self.max_train_samples
        if cap is not None and (int(cap) != cap or cap < 2):
            raise ValueError(f"max_train_samples must be None or an integer >= 2, got {cap!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if self.nu is not None and not 0 < self.nu <= 1:
            raise ValueError(f"nu must be in (0, 1] or None, got {self.nu!r}")

    # ------------------------------------------------------------------ fit
    def _weights(self, y_semi: np.ndarray) -> tuple[np.ndarray, float]:
        """Per-point upper bounds ``C_i`` and ``kappa_eff`` (see "Slack weights" above)."""
        n = len(y_semi)
        labeled = y_semi != UNLABELED
        eta_u, eta_l, kappa = float(self.eta_unlabeled), float(self.eta_labeled), float(self.kappa)
        if self.nu is None:
            c_u, c_l, kappa_eff = eta_u, eta_l, kappa
        else:
            c_u = eta_u / (self.nu * n)
            c_l = eta_l / (self.nu * n)
            kappa_eff = kappa * labeled.sum() / n
        upper = np.where(labeled, c_l, c_u).astype(np.float64)
        if not labeled.any():
            kappa_eff = 0.0
        return upper, float(kappa_eff)

    def _check_feasible(self, upper: np.ndarray, y_semi: np.ndarray, kappa_eff: float) -> None:
        sums = [float(upper[y_semi == g].sum()) for g in (UNLABELED, KNOWN_NORMAL, KNOWN_ANOMALY)]
        best = _max_labeled_mass(*sums)
        need = kappa_eff if (y_semi != UNLABELED).any() else 0.0
        if best < need * (1 + 1e-9):
            raise ValueError(
                "SSAD dual is infeasible for these hyperparameters (primal unbounded): the box "
                f"0 <= alpha <= C with sum y~ alpha = 1 allows a labeled mass of at most {best:.4g}, but "
                f"kappa_eff = {need:.4g} is required (kappa={self.kappa}, eta_unlabeled="
                f"{self.eta_unlabeled}, eta_labeled={self.eta_labeled}, nu={self.nu}, n={len(y_semi)}, "
                f"labeled={int((y_semi != UNLABELED).sum())}). Lower kappa or nu, or raise eta.")

    def _fit(self, X, y_semi):
        try:
            from cvxopt import matrix, solvers, spmatrix
        except ImportError as err:  # pragma: no cover - environment problem
            raise ImportError("SSAD needs cvxopt (pip install cvxopt)") from err

        cap = None if self.max_train_samples is None else int(self.max_train_samples)
        idx = stratified_subsample(y_semi, cap, self.random_state)
        X = np.ascontiguousarray(X[idx], dtype=np.float64)
        y_semi = y_semi[idx]
        n = len(X)
        y_t = np.where(y_semi == KNOWN_ANOMALY, -1.0, 1.0)  # y~: +1 unlabeled / normal, -1 anomaly
        labeled = y_semi != UNLABELED
        upper, kappa_eff = self._weights(y_semi)
        self._check_feasible(upper, y_semi, kappa_eff)

        Q = rbf_kernel(X, X, gamma=float(self.gamma))
        Q *= y_t[:, None]
        Q *= y_t[None, :]
        P = matrix(Q)  # cvxopt copies; free the numpy copy right away (n^2 doubles)
        del Q
        lab = np.flatnonzero(labeled)
        # G beta <= h: -beta <= 0, beta <= scale * C, and (with labels) -sum_L beta <= -scale * kappa_eff
        rows = list(range(2 * n)) + [2 * n] * len(lab)
        cols = list(range(n)) * 2 + lab.tolist()
        G = spmatrix([-1.0] * n + [1.0] * n + [-1.0] * len(lab), rows, cols, (2 * n + (len(lab) > 0), n))
        A = matrix(y_t.reshape(1, -1))
        # The QP is solved for beta = scale * alpha. cvxopt's stopping tests use *absolute* residuals
        # (q = 0 here), so the scale matters: 1/sqrt(max C) balances the box size against the size of
        # P beta; on shuttle, 1/max(C) stalled on a singular KKT matrix in ~2% of fits, this never did
        # (120 + 240 fits). A fit that still does not reach "optimal" is retried once in alpha units.
        tried = []
        for scale in (1.0 / np.sqrt(upper.max()), 1.0):
            h = np.concatenate([np.zeros(n), upper * scale, [-kappa_eff * scale] if len(lab) else []])
            sol = solvers.qp(P, matrix(0.0, (n, 1)), G, matrix(h), A, matrix(scale),
                             options=dict(QP_OPTIONS))
            tried.append(f"{sol['status']} after {sol['iterations']} iterations")
            if sol["status"] == "optimal":
                break
        else:
            raise RuntimeError(f"cvxopt did not solve the SSAD dual to optimality ({'; '.join(tried)}; "
                               f"n={n}, gamma={self.gamma}). Try another gamma or a smaller "
                               "max_train_samples.")
        beta = np.asarray(sol["x"]).ravel()
        alpha = beta / scale
        eq_multiplier = float(np.asarray(sol["y"]).ravel()[0])
        z = np.asarray(sol["z"]).ravel()
        kappa_multiplier = float(z[2 * n] / scale) if labeled.any() else 0.0

        sv = np.flatnonzero(alpha > SV_TOL * upper)
        coef = alpha[sv] * y_t[sv]
        # f(x_i) for the training rows from the kernel already held by cvxopt: Q beta = y~ * K (y~ beta).
        P_np = np.asarray(P)
        f_train = y_t * (P_np[:, sv] @ (coef * y_t[sv]))
        del P, P_np

        free = (alpha > MARGIN_TOL * upper) & (alpha < (1 - MARGIN_TOL) * upper)
        free_unl = free & ~labeled
        if free_unl.any():
            rho, source = float(np.median(f_train[free_unl])), "margin_svs"
        else:  # KKT of (D): stationarity for a free unlabeled beta_i gives scale*f_i + y = 0
            rho, source = -eq_multiplier / scale, "equality_multiplier"
        free_lab = free & labeled
        if free_lab.any():
            margin = float(np.median(y_t[free_lab] * (f_train[free_lab] - rho)))
        else:
            margin = kappa_multiplier

        self.train_index_ = idx
        self.y_tilde_ = y_t
        self.labeled_mask_ = labeled
        self.upper_bounds_ = upper
        self.kappa_eff_ = kappa_eff
        self.alpha_ = alpha
        self.support_ = sv
        self.support_vectors_ = X[sv]
        self.dual_coef_ = coef
        self.rho_ = rho
        self.rho_source_ = source
        self.rho_from_multiplier_ = -eq_multiplier / scale
        self.labeled_margin_ = max(margin, 0.0)
        self.n_iter_ = int(sol["iterations"])
        self.n_train_ = n

    # ------------------------------------------------------------------ score / diagnostics
    def decision_values(self, X) -> np.ndarray:
        """``f(x) = <w, phi(x)>`` (higher = more normal); the score is ``rho_ - f(x)``."""
        check_fitted(self)
        X = np.asarray(X, dtype=np.float64)
        out = np.empty(len(X))
        for start in range(0, len(X), SCORE_CHUNK):
            block = rbf_kernel(X[start:start + SCORE_CHUNK], self.support_vectors_, gamma=float(self.gamma))
            out[start:start + SCORE_CHUNK] = block @ self.dual_coef_
        return out

    def _score(self, X):
        return self.rho_ - self.decision_values(X)

    def constraint_violations(self) -> dict[str, float]:
        """Violations of (D)'s constraints at the solution, each relative to its natural scale.

        ``box``: ``max_i max(-alpha_i, alpha_i - C_i) / max(C)``; ``equality``:
        ``|sum y~ alpha - 1|`` (right-hand side 1); ``labeled_mass``:
        ``max(0, kappa_eff - sum_L alpha) / max(kappa_eff, max(C))`` (0 without labels).
        """
        check_fitted(self)
        a, c = self.alpha_, self.upper_bounds_
        box = float(max(np.max(-a), np.max(a - c), 0.0) / c.max())
        eq = float(abs(np.dot(self.y_tilde_, a) - 1.0))
        lab = 0.0
        if self.labeled_mask_.any():
            shortfall = self.kappa_eff_ - a[self.labeled_mask_].sum()
            lab = float(max(shortfall, 0.0) / max(self.kappa_eff_, c.max()))
        return {"box": box, "equality": eq, "labeled_mass": lab}

    def kkt_violation(self) -> float:
        """Largest relative violation of (D)'s box, equality and labeled-mass constraints."""
        return max(self.constraint_violations().values())
