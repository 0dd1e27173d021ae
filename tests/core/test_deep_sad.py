"""Deep SAD / Deep SVDD: loss (Eq. 7), center init (App. C), collapse prevention, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from semiad.core.detectors.deep_sad import DeepSAD, DeepSVDD, deep_sad_loss, init_center
from semiad.core.detectors.networks import MLPAutoencoder, MLPEncoder, architecture_for
from semiad.core.detectors.training import TrainSchedule, train_minibatch
from semiad.deep_sad.supervised import SupervisedClassifier


def _blobs(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[-30:] += 4.0  # anomalies
    y = np.zeros(n, int)
    y[-30:] = 1
    y_semi = np.zeros(n, int)
    y_semi[-30:-20] = -1  # ten labeled anomalies
    return X, y, y_semi


def test_loss_unlabeled_is_squared_distance():
    z, c = torch.tensor([[3.0, 4.0]]), torch.zeros(2)
    assert deep_sad_loss(z, c, torch.tensor([0])).item() == pytest.approx(25.0)


def test_loss_sign_labeled_anomaly_rewards_distance():
    c = torch.zeros(2)
    near, far = torch.tensor([[0.1, 0.0]]), torch.tensor([[10.0, 0.0]])
    y = torch.tensor([-1])
    assert deep_sad_loss(far, c, y).item() < deep_sad_loss(near, c, y).item()
    assert deep_sad_loss(far, c, y).item() == pytest.approx(1 / (100 + 1e-6))
    # labeled normals are pulled in like unlabeled data
    assert deep_sad_loss(far, c, torch.tensor([1])).item() == pytest.approx(100 + 1e-6)


def test_loss_eta_weights_only_labeled_terms():
    z, c = torch.tensor([[1.0, 0.0], [2.0, 0.0]]), torch.zeros(2)
    y = torch.tensor([0, -1])
    base = deep_sad_loss(z, c, y, eta=1.0).item()
    scaled = deep_sad_loss(z, c, y, eta=10.0).item()
    unl, lab = 1.0 / 2, (1 / (4 + 1e-6)) / 2
    assert base == pytest.approx(unl + lab)
    assert scaled == pytest.approx(unl + 10 * lab)


def test_loss_eps_keeps_inverse_finite_at_center():
    z = torch.zeros(1, 3)
    val = deep_sad_loss(z, torch.zeros(3), torch.tensor([-1]), eps=1e-6).item()
    assert np.isfinite(val) and val == pytest.approx(1e6)


def test_center_excludes_labeled_anomalies_and_guards_small_coordinates():
    enc = torch.nn.Identity()
    X = torch.tensor([[1.0, 0.01, -0.02], [1.0, 0.03, -0.04], [100.0, 100.0, 100.0]])
    y = torch.tensor([0, 1, -1])
    c = init_center(enc, X, y, eps=0.1)
    assert c[0].item() == pytest.approx(1.0)  # the anomaly at 100 is excluded
    assert c[1].item() == pytest.approx(0.1)  # 0.02 -> +eps
    assert c[2].item() == pytest.approx(-0.1)  # -0.03 -> -eps
    with pytest.raises(ValueError, match="labeled anomaly"):
        init_center(enc, X[2:], y[2:])


@pytest.mark.parametrize("dataset", ["arrhythmia", "cardio", "thyroid"])
def test_encoders_have_no_bias_terms(dataset):
    hidden, rep = architecture_for(dataset)
    enc = MLPEncoder(10, hidden, rep)
    names = [n for n, _ in enc.named_parameters()]
    assert not any("bias" in n for n in names), names
    for m in enc.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            assert not m.affine  # an affine BN shift would be a bias
        assert not isinstance(m, (torch.nn.Sigmoid, torch.nn.Tanh))  # no bounded activations
    assert enc(torch.zeros(4, 10)).abs().max().item() == 0.0  # phi(0) = 0 without biases
    assert rep == {"arrhythmia": 32, "cardio": 8, "thyroid": 4}[dataset]


def test_autoencoder_encoder_matches_phi_architecture():
    ae = MLPAutoencoder(7, (32, 16), 8)
    phi = MLPEncoder(7, (32, 16), 8)
    phi.load_state_dict(ae.encoder.state_dict())  # same shapes -> pre-training can initialise phi


def test_deep_sad_learns_and_is_deterministic():
    X, y, y_semi = _blobs()
    kw = dict(hidden_dims=(16, 8), rep_dim=4, n_epochs=15, ae_n_epochs=10, lr=1e-3,
              batch_size=64, device="cpu", random_state=3)
    s1 = DeepSAD(**kw).fit(X, y_semi).decision_function(X)
    s2 = DeepSAD(**kw).fit(X, y_semi).decision_function(X)
    np.testing.assert_array_equal(s1, s2)
    assert np.ptp(s1) > 0  # scores vary (PyOD 3.6.0-3.6.2 DeepSVDD lesson)
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score(y, s1) > 0.9


def test_autoencoder_takes_its_own_lr_and_weight_decay(monkeypatch):
    """``ae_lr`` / ``ae_weight_decay`` reach the pre-training schedule alone; None keeps phi's."""
    from semiad.core.detectors import deep_sad as module

    seen = []
    real = module.train_autoencoder
    monkeypatch.setattr(module, "train_autoencoder",
                        lambda X, *a, **k: seen.append(a[2]) or real(X, *a, **k))
    X, _, y_semi = _blobs()
    kw = dict(hidden_dims=(8,), rep_dim=2, n_epochs=2, ae_n_epochs=2, lr=1e-3, weight_decay=1e-6,
              batch_size=64, device="cpu", random_state=0)
    a = DeepSAD(**kw).fit(X, y_semi)
    b = DeepSAD(**kw, ae_lr=1e-4, ae_weight_decay=0.5e-3).fit(X, y_semi)
    assert (seen[0].lr, seen[0].weight_decay) == (1e-3, 1e-6)
    assert (seen[1].lr, seen[1].weight_decay) == (1e-4, 0.5e-3)
    assert not np.array_equal(a.decision_function(X), b.decision_function(X))


def test_deep_sad_pushes_labeled_anomalies_out_compared_to_deep_svdd():
    X, y, y_semi = _blobs(seed=1)
    kw = dict(hidden_dims=(16, 8), rep_dim=4, n_epochs=20, ae_n_epochs=10, lr=1e-3,
              batch_size=64, device="cpu", random_state=0)
    sad = DeepSAD(**kw).fit(X, y_semi)
    svdd = DeepSVDD(**kw).fit(X, y_semi)
    lab = y_semi == -1
    ratio_sad = sad.decision_function(X[lab]).mean() / sad.decision_function(X[y == 0]).mean()
    ratio_svdd = svdd.decision_function(X[lab]).mean() / svdd.decision_function(X[y == 0]).mean()
    assert ratio_sad > ratio_svdd


def test_soft_boundary_radius_is_set():
    X, _, y_semi = _blobs()
    m = DeepSVDD(objective="soft-boundary", nu=0.1, hidden_dims=(8,), rep_dim=4, n_epochs=3,
                 ae_n_epochs=2, batch_size=64, device="cpu").fit(X, y_semi)
    assert float(m.R_) > 0
    assert np.isfinite(m.decision_function(X)).all()


def test_nan_loss_raises_clear_error():
    net = torch.nn.Linear(2, 1)
    X = torch.ones(10, 2)
    with pytest.raises(FloatingPointError, match="epoch 1"):
        train_minibatch(net, (X,), lambda xb: net(xb).sum() * float("nan"),
                        TrainSchedule(n_epochs=2, batch_size=5), seed=0)


def test_bad_inputs_fail_early():
    X, _, y_semi = _blobs()
    with pytest.raises(ValueError, match="eta"):  # validated by fit, as scikit-learn does
        DeepSAD(eta=0).fit(X, y_semi)
    with pytest.raises(ValueError, match="objective"):
        DeepSVDD(objective="hard").fit(X)
    with pytest.raises(ValueError, match="y_semi"):
        DeepSAD().fit(X, np.full(len(X), 2))
    with pytest.raises(ValueError, match="NaN"):
        DeepSAD().fit(np.full((5, 2), np.nan), None)
    with pytest.raises(ValueError, match="labeled anomaly"):
        SupervisedClassifier(n_epochs=1).fit(X, np.zeros(len(X), int))
    with pytest.raises(NotFittedError, match="not fitted"):
        DeepSAD().decision_function(X)


def test_fit_does_not_reset_the_callers_global_rng():
    X, _, y_semi = _blobs()
    np.random.seed(123)
    torch.manual_seed(123)
    expected_np, expected_torch = np.random.rand(), torch.rand(1).item()
    np.random.seed(123)
    torch.manual_seed(123)
    DeepSAD(hidden_dims=(8,), rep_dim=2, n_epochs=1, ae_n_epochs=1, device="cpu",
            random_state=7).fit(X, y_semi)
    assert np.random.rand() == expected_np and torch.rand(1).item() == expected_torch
