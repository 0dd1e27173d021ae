"""Shallow baselines (App. E): OC-SVM, Isolation Forest, KDE, and the selection protocols."""

from __future__ import annotations

import numpy as np
import pytest

from semiad.core.data.splits import SemiSupervisedSplit
from semiad.core.detectors.shallow import KDE_BANDWIDTHS, OCSVM, IsolationForestDetector, KDEDetector
from semiad.deep_sad.selection import select_and_score, stratified_subset


def _data(seed=0, n=300, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[-30:] += 4
    y = np.zeros(n, int)
    y[-30:] = 1
    return X, y


@pytest.mark.parametrize("make", [lambda: OCSVM(gamma=0.25, nu=0.1),
                                  lambda: IsolationForestDetector(random_state=0),
                                  lambda: KDEDetector(random_state=0)])
def test_detectors_rank_outliers_high(make):
    X, y = _data()
    scores = make().fit(X[:250]).decision_function(X)
    assert np.isfinite(scores).all() and np.ptp(scores) > 0
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score(y, scores) > 0.95


def test_kde_bandwidth_grid_is_the_papers_and_is_honoured():
    np.testing.assert_allclose(KDE_BANDWIDTHS, 2.0 ** np.arange(0.5, 5.01, 0.5))
    X, _ = _data()
    grid = (0.7, 1.3)
    kde = KDEDetector(bandwidths=grid).fit(X)
    assert kde.bandwidth_ in grid
    assert KDEDetector().fit(X).bandwidth_ in KDE_BANDWIDTHS
    with pytest.raises(ValueError, match="bandwidths"):
        KDEDetector(bandwidths=(0.0, 1.0)).fit(X)


def test_isolation_forest_uses_paper_settings():
    X, _ = _data()
    det = IsolationForestDetector().fit(X)
    assert det.model_.n_estimators == 100 and det.model_.max_samples == 256


def test_stratified_subset_keeps_both_classes():
    y = np.r_[np.zeros(95, int), np.ones(5, int)]
    idx = stratified_subset(y, 0.1, np.random.default_rng(0))
    assert set(y[idx]) == {0, 1} and len(idx) == 10 + 1


@pytest.mark.parametrize("selection", ["test10", "validation"])
def test_selection_protocols_pick_a_candidate_and_score(selection):
    X, y = _data()
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(y))
    X, y = X[perm], y[perm]
    y_semi = np.where(y[:200] == 1, -1, 0)
    split = SemiSupervisedSplit(X[:200], y_semi, y[:200], X[200:], y[200:])
    cands = [{"gamma": g, "nu": 0.1} for g in (0.01, 0.1, 1.0)]
    out = select_and_score(lambda **p: OCSVM(**p), cands, split, selection, rng)
    assert out["info"]["selected"] in cands and 0.5 < out["metrics"]["auc"] <= 1
    with pytest.raises(ValueError, match="selection"):
        select_and_score(lambda **p: OCSVM(**p), cands, split, "test100", rng)
