"""SSAD (Görnitz et al., 2013): dual feasibility, OC-SVM limit without labels, labels help, inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr
from sklearn.exceptions import NotFittedError
from sklearn.svm import OneClassSVM

pytest.importorskip("cvxopt")

from semiad.core.detectors.ssad import SSAD  # noqa: E402  (after the importorskip)


def _toy(n=160, seed=0):
    """2-D normal blob plus a small anomalous cluster; five of its points are labeled."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    X[-16:] = rng.normal(loc=(2.2, 2.2), scale=0.5, size=(16, 2))
    y_semi = np.zeros(n, int)
    y_semi[-16:-11] = -1  # labeled anomalies
    y_semi[:4] = 1  # labeled normals
    return X.astype(np.float32), y_semi


def _rank_pct(scores, idx):
    return rankdata(scores)[idx].mean() / len(scores)


def test_fit_scores_finite_and_labels_raise_anomaly_scores():
    X, y_semi = _toy()
    with_labels = SSAD(gamma=0.5).fit(X, y_semi).decision_function(X)
    no_labels = SSAD(gamma=0.5).fit(X).decision_function(X)
    for s in (with_labels, no_labels):
        assert s.shape == (len(X),) and np.isfinite(s).all() and np.ptp(s) > 0
    labeled = np.flatnonzero(y_semi == -1)
    cluster = np.arange(len(X) - 16, len(X))
    # the labeled anomalies (and their unlabeled neighbours) move up the ranking
    assert _rank_pct(with_labels, labeled) > _rank_pct(no_labels, labeled)
    assert _rank_pct(with_labels, cluster) > _rank_pct(no_labels, cluster)
    assert with_labels[labeled].mean() > no_labels[labeled].mean()
    # with labels they rank above the typical normal point (without labels they sit deep inside)
    assert _rank_pct(with_labels, labeled) > 0.5 > _rank_pct(no_labels, labeled)


@pytest.mark.parametrize("nu", [0.1, None])
def test_dual_solution_satisfies_constraints(nu):
    X, y_semi = _toy()
    # nu=None: literal per-point weights; eta_u small enough that the box is not slack everywhere
    eta_u = 1.0 if nu is not None else 0.05
    m = SSAD(gamma=0.5, nu=nu, eta_unlabeled=eta_u).fit(X, y_semi)
    a, c, yt = m.alpha_, m.upper_bounds_, m.y_tilde_
    tol = 1e-6
    assert a.min() >= -tol * c.max() and (a - c).max() <= tol * c.max()  # box
    assert abs(yt @ a - 1.0) <= tol  # equality (from rho)
    assert a[y_semi != 0].sum() >= m.kappa_eff_ * (1 - tol)  # labeled mass (from gamma >= 0)
    assert m.kkt_violation() <= tol
    assert set(m.constraint_violations()) == {"box", "equality", "labeled_mass"}
    # bookkeeping: support vectors / dual_coef_ are consistent with alpha
    np.testing.assert_allclose(m.dual_coef_, a[m.support_] * yt[m.support_])
    # threshold from margin SVs agrees with the QP's equality multiplier
    assert m.rho_source_ == "margin_svs"
    assert m.rho_ == pytest.approx(m.rho_from_multiplier_, rel=1e-3, abs=1e-6)
    # margin SVs of the unlabeled part sit on the boundary: score ~ 0 there
    free = (a > 1e-2 * c) & (a < 0.99 * c) & (y_semi == 0)
    assert free.any()
    assert np.abs(m.decision_function(X[free])).max() < 1e-3 * max(m.rho_, 1e-3)


@pytest.mark.parametrize("nu, eta_u, nu_oc", [(0.1, 1.0, 0.1), (0.2, 2.0, 0.1), (None, 0.05, None)])
def test_no_labels_reduces_to_one_class_svm(nu, eta_u, nu_oc):
    X, _ = _toy()
    n = len(X)
    nu_oc = nu_oc if nu_oc is not None else 1.0 / (eta_u * n)  # literal weights: nu = 1 / (eta_u n)
    ours = SSAD(gamma=0.5, nu=nu, eta_unlabeled=eta_u).fit(X).decision_function(X)
    oc = OneClassSVM(kernel="rbf", gamma=0.5, nu=nu_oc, tol=1e-8).fit(X.astype(np.float64))
    theirs = -oc.decision_function(X.astype(np.float64))
    assert spearmanr(ours, theirs).statistic > 0.99
    # same dual up to libsvm's factor nu * n on alpha: the scores are proportional
    np.testing.assert_allclose(ours * nu_oc * n, theirs, atol=2e-3 * np.abs(theirs).max())


@pytest.mark.parametrize("kwargs", [
    {"gamma": 0.0}, {"gamma": -1.0}, {"gamma": float("nan")}, {"kappa": -0.1},
    {"eta_unlabeled": 0.0}, {"eta_labeled": -1.0}, {"nu": 0.0}, {"nu": 1.5},
    {"max_train_samples": 1}, {"max_train_samples": 2.5}, {"solver": "libsvm"},
])
def test_bad_hyperparameters_raise(kwargs):
    X, y_semi = _toy(n=20)
    with pytest.raises(ValueError):  # validated by fit, before any solve (scikit-learn convention)
        SSAD(**kwargs).fit(X, y_semi)


def test_infeasible_setting_raises_value_error_and_bad_labels_rejected():
    X, y_semi = _toy()
    with pytest.raises(ValueError, match="infeasible"):
        SSAD(kappa=20.0, nu=0.1).fit(X, y_semi)  # kappa * nu > eta_l: labeled mass unreachable
    with pytest.raises(ValueError):
        SSAD().fit(X, np.full(len(X), 2))


def test_solver_failure_raises_runtime_error(monkeypatch):
    import cvxopt.solvers

    real_qp = cvxopt.solvers.qp

    def failing_qp(*args, **kwargs):
        sol = real_qp(*args, **kwargs)
        return {**sol, "status": "unknown"}

    monkeypatch.setattr(cvxopt.solvers, "qp", failing_qp)
    X, y_semi = _toy(n=60)
    with pytest.raises(RuntimeError, match="did not solve"):
        SSAD().fit(X, y_semi)


def test_deterministic_and_subsample_keeps_the_labeled_ratio():
    X, y_semi = _toy(n=200, seed=1)
    a = SSAD(gamma=0.5, max_train_samples=80, random_state=3).fit(X, y_semi)
    b = SSAD(gamma=0.5, max_train_samples=80, random_state=3).fit(X, y_semi)
    np.testing.assert_array_equal(a.train_index_, b.train_index_)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), rtol=0, atol=1e-12)
    assert a.n_train_ == 80
    kept = y_semi[a.train_index_]
    for label in (-1, 1, 0):  # proportional: the subsample keeps each semi-label's share
        share, full = (kept == label).mean(), (y_semi == label).mean()
        assert abs(share - full) <= 1.5 / 80 or (kept == label).sum() == 1
    c = SSAD(gamma=0.5, max_train_samples=80, random_state=4).fit(X, y_semi)
    assert not np.array_equal(a.train_index_, c.train_index_)


def test_unfitted_use_raises():
    with pytest.raises(NotFittedError, match="not fitted"):
        SSAD().decision_function(np.zeros((3, 2)))
    with pytest.raises(NotFittedError):
        SSAD().kkt_violation()
