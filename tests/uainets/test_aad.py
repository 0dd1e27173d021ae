"""LODA-AAD (Das et al. 2016) and Tree-AAD (Das et al. 2017) active anomaly discovery baselines."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from pyod.models.loda import LODA
from scipy.stats import rankdata, spearmanr
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError

from semiad.uainets.aad import LodaAAD, TreeAAD, aad_loss, solve_aad_weights

# per detector: a toy whose second anomaly cluster the unsupervised score ranks below the first,
# and an audit budget in which the static ranking does not reach all anomalies
TOYS = {LodaAAD: dict(n_b=30, loc=1.5, scale=0.02, budget=45),
        TreeAAD: dict(n_b=20, loc=2.5, scale=0.2, budget=60)}


def toy(n_b: int, loc: float, scale: float, seed: int = 0, **_):
    """500 standard normals in 4-D, 10 far anomalies (cluster A) and a tight cluster B near the bulk."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(size=(500, 4))
    a = rng.normal(loc=6.0, scale=0.3, size=(10, 4))
    b = rng.normal(loc=[loc, loc, 0.0, 0.0], scale=scale, size=(n_b, 4))
    X = np.vstack([normal, a, b])
    y = np.r_[np.zeros(500), np.ones(10 + n_b)].astype(int)
    return X, y, np.arange(500), np.arange(500, 510), np.arange(510, 510 + n_b)


def active_loop(det, X: np.ndarray, y: np.ndarray, budget: int, k: int = 3) -> int:
    """Top-k unaudited rows -> oracle -> update, until the budget is spent; anomalies found."""
    det.fit(X)
    seen = np.zeros(len(X), dtype=bool)
    found = 0
    while seen.sum() < budget:
        s = det.score()
        s[seen] = -np.inf
        q = np.argsort(-s, kind="stable")[:k]
        seen[q] = True
        found += int(y[q].sum())
        det.update(q, y[q])
    return found


def test_uniform_weights_reproduce_loda_ranking():
    X, *_ = toy(**TOYS[LodaAAD])
    det = LodaAAD(n_projections=50, n_bins=10, random_state=3).fit(X)
    ref = LODA(n_bins=10, n_random_cuts=50, random_state=3).fit(X)
    assert spearmanr(det.score(), ref.decision_function(X))[0] > 0.9999
    assert spearmanr(det.score(), ref.decision_scores_)[0] > 0.9999
    np.testing.assert_allclose(det.weights_, 1 / np.sqrt(50))


def test_loda_auto_bins():
    X, *_ = toy(**TOYS[LodaAAD])
    det = LodaAAD(n_projections=20, n_bins="auto", random_state=0).fit(X)
    ref = LODA(n_bins="auto", n_random_cuts=20, random_state=0).fit(X)
    assert spearmanr(det.score(), ref.decision_scores_)[0] > 0.9999


@pytest.mark.parametrize("node_features", ["nodes", "leaves"])
def test_uniform_weights_reproduce_iforest_ranking(node_features):
    X, *_ = toy(**TOYS[TreeAAD])
    det = TreeAAD(n_estimators=50, max_samples=128, node_features=node_features, random_state=1).fit(X)
    assert sp.issparse(det.features_)
    ref = IsolationForest(n_estimators=50, max_samples=128, random_state=1).fit(X)
    # score_samples: lower = more abnormal, so the AAD score must be its increasing transform negated
    assert spearmanr(det.score(), -ref.score_samples(X))[0] > 0.9999
    np.testing.assert_allclose(det.score(), det.features_ @ det.weights_)


@pytest.mark.parametrize("cls", [LodaAAD, TreeAAD])
def test_feedback_moves_scores_towards_labels(cls):
    X, y, normals, _, B = toy(**TOYS[cls])
    det = cls(random_state=0).fit(X)
    r0 = rankdata(det.score()) / len(X)
    top_normals = normals[np.argsort(-det.score()[normals])[:10]]
    det.update(np.r_[B[:5], top_normals], np.r_[np.ones(5), np.zeros(10)].astype(int))
    r1 = rankdata(det.score()) / len(X)
    assert r1[B].mean() > r0[B].mean()
    assert r1[B[5:]].mean() > r0[B[5:]].mean()  # generalises to the unlabeled cluster members
    assert r1[top_normals].mean() < r0[top_normals].mean()
    assert np.isclose(np.linalg.norm(det.weights_), 1.0)
    assert det.n_updates_ == 1


@pytest.mark.parametrize("cls", [LodaAAD, TreeAAD])
def test_deterministic_given_random_state(cls):
    X, y, *_ = toy(**TOYS[cls])
    a, b = cls(random_state=5).fit(X), cls(random_state=5).fit(X)
    np.testing.assert_array_equal(a.score(), b.score())
    idx = np.argsort(-a.score())[:6]
    a.update(idx, y[idx])
    b.update(idx, y[idx])
    np.testing.assert_array_equal(a.score(), b.score())
    assert not np.array_equal(cls(random_state=6).fit(X).score(), b.score())


@pytest.mark.parametrize("cls", [LodaAAD, TreeAAD])
def test_active_loop_beats_static_ranking(cls):
    cfg = TOYS[cls]
    X, y, *_ = toy(**cfg)
    static = int(y[np.argsort(-cls(random_state=0).fit(X).score(), kind="stable")[:cfg["budget"]]].sum())
    found = active_loop(cls(random_state=0), X, y, cfg["budget"])
    assert found > static + 3, (found, static)


def test_feedback_memory_keeps_newest():
    X, y, *_ = toy(**TOYS[TreeAAD])
    det = TreeAAD(n_estimators=20, max_feedback_memory=4, random_state=0).fit(X)
    det.update(np.array([0, 1, 2]), np.array([0, 0, 0]))
    det.update(np.array([510, 511, 1]), np.array([1, 1, 1]))  # row 1 re-labeled: newest label wins
    idx, lab = det.feedback_
    np.testing.assert_array_equal(idx, [2, 510, 511, 1])
    np.testing.assert_array_equal(lab, [0, 1, 1, 1])


def test_dual_solution_minimises_primal_loss():
    rng = np.random.default_rng(0)
    Z = np.abs(rng.normal(size=(12, 7)))
    w0 = np.full(7, 1 / np.sqrt(7))
    rows_a, rows_n, row_tau = np.array([0, 1, 2]), np.array([3, 4, 5, 6, 7]), 8
    s0 = Z @ w0
    q = float(np.sort(s0)[-3])
    args = dict(C_a=100.0, C_n=1.0, C_tau=1.0, C_xi=1000.0, prior_weight=2.0, pairwise=True)
    w = solve_aad_weights(Z, rows_a, rows_n, row_tau, q, w0, **args)

    def primal(v):
        return aad_loss(v, Z[rows_a], Z[rows_n], q, Z[row_tau], w0, **args)

    best = primal(w)
    assert best < primal(w0)
    for _ in range(200):
        assert primal(w + rng.normal(scale=1e-2, size=7)) >= best - 1e-6


@pytest.mark.parametrize("cls", [LodaAAD, TreeAAD])
def test_input_validation(cls):
    X, *_ = toy(**TOYS[cls])
    with pytest.raises(NotFittedError):
        cls().score()
    det = cls(random_state=0).fit(X)
    with pytest.raises(IndexError):
        det.update(np.array([len(X)]), np.array([1]))
    with pytest.raises(IndexError):
        det.update(np.array([-1]), np.array([0]))
    with pytest.raises(ValueError):
        det.update(np.array([0, 1]), np.array([1, 2]))
    with pytest.raises(ValueError):
        det.update(np.array([0, 1]), np.array([1]))
    with pytest.raises(ValueError):
        det.update(np.array([0.5]), np.array([1]))
    with pytest.raises(ValueError):
        det.fit(X[:, 0])
    with pytest.raises(ValueError):
        cls(tau=1.5).fit(X)
    det.update(np.array([], dtype=int), np.array([], dtype=int))  # empty feedback is a no-op
    assert det.n_updates_ == 0


def test_cached_gram_matches_fresh_product():
    X, y, *_ = toy(**TOYS[TreeAAD])
    det = TreeAAD(n_estimators=20, max_feedback_memory=8, random_state=0).fit(X)
    for start in (0, 505, 3, 512):
        idx = np.arange(start, start + 3)
        det.update(idx, y[idx])
    rows, K = det._gram_cache
    Z = det.features_[rows]
    np.testing.assert_allclose(K, (Z @ Z.T).toarray(), rtol=1e-10, atol=1e-12)


def test_max_iter_caps_the_dual_solve_short_of_the_optimum():
    """The weight solve stops at ``max_iter`` (the committed cells use 500; benchmarks/aad_convergence.py):
    a capped solve is feasible but above the converged one's loss."""
    rng = np.random.default_rng(1)
    Z = np.abs(rng.normal(size=(60, 9)))
    w0 = np.full(9, 1 / 3)
    rows_a, rows_n, row_tau = np.arange(0, 15), np.arange(15, 59), 59
    q = float(np.sort(Z @ w0)[-5])
    args = dict(C_a=100.0, C_n=1.0, C_tau=1.0, C_xi=1000.0, prior_weight=2.0, pairwise=True)

    def primal(w):
        return aad_loss(w, Z[rows_a], Z[rows_n], q, Z[row_tau], w0, **args)

    capped = solve_aad_weights(Z, rows_a, rows_n, row_tau, q, w0, max_iter=2, **args)
    converged = solve_aad_weights(Z, rows_a, rows_n, row_tau, q, w0, max_iter=20_000, **args)
    assert primal(converged) < primal(capped) - 1e-6
    assert primal(converged) < primal(w0)
    np.testing.assert_array_equal(converged, solve_aad_weights(Z, rows_a, rows_n, row_tau, q, w0,
                                                               max_iter=50_000, **args))
