"""DAGMM (Zong et al. 2018): Eq. 2/5/6/7 building blocks, toy detection, determinism, presets, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.exceptions import NotFittedError

from semiad.core.detectors.dagmm import (
    DAGMM,
    DAGMM_CONTAMINATION,
    DAGMM_PRESETS,
    cov_diag_penalty,
    evaluate_at_contamination,
    gmm_parameters,
    reconstruction_features,
    sample_energy,
    threshold_by_contamination,
)
from semiad.core.metrics import auc

SMALL = {"hidden": (16, 8), "latent_dim": 1, "n_gmm": 2, "epochs": 25, "batch_size": 64, "lr": 1e-3,
         "device": "cpu"}


def _toy(seed: int = 0, n_train: int = 256):
    """Normal blob around (1, ..., 1); anomalies around 2 * (1, -1, 1, -1, 1) (another direction)."""
    rng = np.random.default_rng(seed)
    centre, other = np.ones(5), 2.0 * np.array([1.0, -1, 1, -1, 1])
    X = centre + 0.3 * rng.normal(size=(n_train, 5))
    Xt = np.vstack([centre + 0.3 * rng.normal(size=(150, 5)), other + 0.3 * rng.normal(size=(30, 5))])
    y = np.r_[np.zeros(150, int), np.ones(30, int)]
    return X.astype(np.float32), Xt.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    X, Xt, y = _toy()
    return DAGMM(**SMALL, random_state=0).fit(X), X, Xt, y


def test_gmm_parameters_match_eq5_with_hard_assignments():
    rng = np.random.default_rng(1)
    z = torch.as_tensor(rng.normal(size=(50, 3)))
    labels = np.r_[np.zeros(20, int), np.ones(30, int)]
    gamma = torch.nn.functional.one_hot(torch.as_tensor(labels), 2).double()
    phi, mu, cov = gmm_parameters(z, gamma)
    assert phi.shape == (2,) and mu.shape == (2, 3) and cov.shape == (2, 3, 3)
    for k in range(2):
        zk = z.numpy()[labels == k]
        np.testing.assert_allclose(phi[k].item(), len(zk) / 50)
        np.testing.assert_allclose(mu[k].numpy(), zk.mean(0), atol=1e-12)
        np.testing.assert_allclose(cov[k].numpy(), np.cov(zk.T, bias=True), atol=1e-12)


def test_sample_energy_matches_explicit_mixture_density():
    rng = np.random.default_rng(2)
    z = torch.as_tensor(rng.normal(size=(40, 3)))
    phi = torch.tensor([0.3, 0.7], dtype=torch.float64)
    mu = torch.as_tensor(rng.normal(size=(2, 3)))
    A = rng.normal(size=(2, 3, 3))
    cov = torch.as_tensor(A @ A.transpose(0, 2, 1) + 0.5 * np.eye(3))
    got = sample_energy(z, phi, mu, cov, eps=1e-6).numpy()
    comps = [multivariate_normal(mu[k].numpy(), cov[k].numpy() + 1e-6 * np.eye(3)) for k in range(2)]
    dens = sum(phi[k].item() * comps[k].pdf(z.numpy()) for k in range(2))
    np.testing.assert_allclose(got, -np.log(dens), rtol=1e-8)


def test_sample_energy_is_finite_far_away_and_for_singular_covariance():
    phi = torch.tensor([1.0], dtype=torch.float64)
    mu = torch.zeros(1, 3, dtype=torch.float64)
    singular = torch.zeros(1, 3, 3, dtype=torch.float64)  # a collapsed component: only the jitter is left
    z = torch.tensor([[0.0, 0.0, 0.0], [1e3, -1e3, 1e3]], dtype=torch.float64)
    for cov in (torch.eye(3, dtype=torch.float64)[None], singular):
        e = sample_energy(z, phi, mu, cov)
        assert torch.isfinite(e).all() and e[1] > e[0]
    assert cov_diag_penalty(torch.eye(3, dtype=torch.float64)[None].repeat(2, 1, 1), eps=0.0).item() == 6.0


def test_reconstruction_features_eq2():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    x_hat = torch.tensor([[3.0, 0.0], [0.0, 0.0]])
    f = reconstruction_features(x, x_hat)
    assert f.shape == (2, 2) and torch.isfinite(f).all()
    assert f[0, 0].item() == pytest.approx(4.0 / 5.0, rel=1e-5)  # ||x - x'|| / ||x||
    assert f[0, 1].item() == pytest.approx(9.0 / 15.0, rel=1e-5)  # cosine similarity


def test_toy_anomalies_get_higher_energy(fitted):
    model, X, Xt, y = fitted
    scores = model.decision_function(Xt)
    assert scores.shape == (len(Xt),) and np.isfinite(scores).all()
    assert auc(y, scores) > 0.9
    assert np.isfinite(model.history_).all() and len(model.history_) == SMALL["epochs"]
    d = SMALL["latent_dim"] + 2
    assert model.phi_.shape == (2,) and model.mu_.shape == (2, d) and model.cov_.shape == (2, d, d)
    assert model.phi_.sum().item() == pytest.approx(1.0)
    assert torch.allclose(model.cov_, model.cov_.transpose(1, 2))
    assert model.transform(Xt).shape == (len(Xt), d)
    res = evaluate_at_contamination(y, scores, 30 / 180)
    assert 0.0 <= res["f1"] <= 1.0 and res["tp"] + res["fp"] == 30


def test_determinism_and_labeled_anomalies_dropped(fitted):
    model, X, Xt, _ = fitted
    again = DAGMM(**SMALL, random_state=0).fit(X)
    np.testing.assert_array_equal(model.decision_function(Xt), again.decision_function(Xt))
    other = DAGMM(**SMALL, random_state=1).fit(X)
    assert not np.array_equal(model.decision_function(Xt), other.decision_function(Xt))
    # labeled anomalies (y_semi = -1) are dropped: same fit as on the normal rows alone
    small = {**SMALL, "epochs": 3}
    X_all = np.vstack([X[:100], Xt[-30:]])
    y_semi = np.r_[np.zeros(100, int), -np.ones(30, int)]
    a = DAGMM(**small).fit(X_all, y_semi).decision_function(Xt)
    b = DAGMM(**small).fit(X[:100]).decision_function(Xt)
    np.testing.assert_array_equal(a, b)


def _linear_sizes(seq: torch.nn.Sequential) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in seq if isinstance(m, torch.nn.Linear)]


@pytest.mark.parametrize("name, n_features, enc, est", [
    ("kddcup", 120, [(120, 60), (60, 30), (30, 10), (10, 1)], [(3, 10), (10, 4)]),
    ("thyroid", 6, [(6, 12), (12, 4), (4, 1)], [(3, 10), (10, 2)]),
    ("arrhythmia", 274, [(274, 10), (10, 2)], [(4, 10), (10, 2)]),
    ("kddcup_rev", 120, [(120, 60), (60, 30), (30, 10), (10, 1)], [(3, 10), (10, 2)]),
])
def test_presets_build_paper_layer_sizes(name, n_features, enc, est):
    model = DAGMM.preset(name)
    net = model.build_net(n_features)
    assert _linear_sizes(net.encoder) == enc
    assert _linear_sizes(net.decoder) == [(b, a) for a, b in reversed(enc)]
    assert _linear_sizes(net.estimation) == est
    assert sum(isinstance(m, torch.nn.Tanh) for m in net.encoder) == len(enc) - 1  # linear bottleneck
    assert isinstance(net.decoder[-1], torch.nn.Linear)  # linear output layer
    drop = [m for m in net.estimation if isinstance(m, torch.nn.Dropout)]
    assert len(drop) == 1 and drop[0].p == 0.5
    assert isinstance(net.estimation[-1], torch.nn.Softmax)
    assert (model.lambda_energy, model.lambda_cov, model.lr) == (0.1, 0.005, 1e-4)
    assert model.epochs == DAGMM_PRESETS[name]["epochs"] and name in DAGMM_CONTAMINATION
    assert DAGMM.preset(name, epochs=3).epochs == 3


def test_threshold_by_contamination():
    pred, thr = threshold_by_contamination([0.1, 5.0, 3.0, 0.2, 4.0], 0.4)
    np.testing.assert_array_equal(pred, [0, 1, 0, 0, 1])
    assert thr == 4.0
    pred, thr = threshold_by_contamination([1.0, 2.0], 0.0)
    assert pred.sum() == 0 and thr == math.inf
    res = evaluate_at_contamination([0, 1, 0, 0, 1], [0.1, 5.0, 3.0, 0.2, 4.0], 0.4)
    assert res["precision"] == res["recall"] == res["f1"] == 1.0


def test_bad_inputs(fitted):
    model, X, _, _ = fitted
    with pytest.raises(ValueError, match="2-D"):
        DAGMM(**SMALL).fit(X[:, 0])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DAGMM(**SMALL).fit(bad)
    with pytest.raises(NotFittedError, match="not fitted"):
        DAGMM(**SMALL).decision_function(X)
    with pytest.raises(ValueError, match="features"):
        model.decision_function(X[:, :3])
    with pytest.raises(ValueError, match="dropout"):
        DAGMM(**{**SMALL, "dropout": 1.0}).fit(X)
    with pytest.raises(ValueError, match="n_gmm"):
        DAGMM(**{**SMALL, "n_gmm": 0}).fit(X)
    with pytest.raises(ValueError, match="unknown DAGMM preset"):
        DAGMM.preset("mnist")
    with pytest.raises(ValueError, match="ratio"):
        threshold_by_contamination([1.0, 2.0], 1.5)
    with pytest.raises(ValueError, match="finite"):
        threshold_by_contamination([1.0, np.nan], 0.5)
