"""K stacked Deep SAD trainings equal K single-model fits (Deep SAD App. C/E;
semiad.deep_sad.stacked_training).

Tiny CPU runs: K=3 experiments of 60 random 28x28 images (6 labeled anomalies each), MNIST LeNet, 2+2 epochs,
batch 20, lr 1e-3 (so that two epochs visibly move the weights).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from semiad.core.detectors.autoencoder import train_autoencoder
from semiad.core.detectors.deep_sad import DeepSAD, DeepSVDD
from semiad.core.detectors.training import TrainSchedule, train_minibatch
from semiad.deep_sad.stacked_training import fit_stacked_deep_sad, train_stacked

K, N, N_ANOM, F = 3, 60, 6, 784
SEEDS = (0, 1, 2)
SCHEDULE = TrainSchedule(n_epochs=2, lr=1e-3, lr_milestones=(1,), batch_size=20)
ATOL = 1e-5


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((K, N, F), dtype=np.float32)
    y = np.zeros((K, N), np.int64)
    for k in range(K):
        y[k, rng.choice(N, N_ANOM, replace=False)] = -1
    X_test = rng.random((25, F), dtype=np.float32)
    return X, y, X_test


def _single_kwargs(seed: int) -> dict:
    return dict(image_arch="mnist", hidden_dims=(), rep_dim=None, n_epochs=2, ae_n_epochs=2, lr=1e-3,
                lr_milestones=(1,), ae_lr_milestones=(1,), batch_size=20, device="cpu", random_state=seed,
                output_sigmoid=True)


def _stacked(X, y, **kw):
    return fit_stacked_deep_sad(X, y, "mnist", None, SCHEDULE, SCHEDULE, seeds=SEEDS, **kw)


def _assert_same_state(a: nn.Module, b: nn.Module, atol: float = ATOL) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        if not key.endswith("num_batches_tracked"):
            torch.testing.assert_close(sa[key], sb[key], atol=atol, rtol=0, msg=key)


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def stacked(data):
    torch.set_num_threads(1)
    X, y, _ = data
    return _stacked(X, y)


@pytest.fixture(scope="module")
def singles(data):
    torch.set_num_threads(1)
    X, y, _ = data
    return [DeepSAD(**_single_kwargs(s)).fit(X[k], y[k]) for k, s in enumerate(SEEDS)]


def test_stacked_encoders_centers_scores_equal_single_deep_sad(data, stacked, singles):
    X, y, X_test = data
    scores = stacked.score(X_test)
    assert scores.shape == (K, len(X_test))
    for k, det in enumerate(singles):
        _assert_same_state(stacked.encoders[k], det.net_)
        torch.testing.assert_close(stacked.centers[k], det.c_, atol=ATOL, rtol=0)
        np.testing.assert_allclose(scores[k], det.decision_function(X_test), atol=ATOL, rtol=0)
    # per-model test sets: slice k scored by model k
    X_per = np.stack([X_test, X_test[::-1], X_test])
    np.testing.assert_allclose(stacked.score(X_per)[1], scores[1][::-1], atol=ATOL, rtol=0)


def test_training_moved_the_weights(data, stacked):
    X, y, _ = data
    init, _ = train_autoencoder(torch.as_tensor(X[0][y[0] != -1]), (), 32,
                                TrainSchedule(n_epochs=0, batch_size=20), True, SEEDS[0], "mnist")
    w0 = init.encoder.state_dict()["1.net.0.weight"]
    assert (stacked.encoders[0].state_dict()["1.net.0.weight"] - w0).abs().max() > 1e-4


def test_loss_histories_equal_single(stacked, singles):
    for k, det in enumerate(singles):
        np.testing.assert_allclose(stacked.histories[k], det.history_, rtol=1e-5)
        np.testing.assert_allclose(stacked.ae_histories[k], det.ae_history_, rtol=1e-5)
        assert len(stacked.histories[k]) == SCHEDULE.n_epochs


def test_pretrained_and_one_class_equal_single_deep_svdd(data):
    X, y, X_test = data
    states = []
    for k, s in enumerate(SEEDS):
        ae, _ = train_autoencoder(torch.as_tensor(X[k][y[k] != -1]), (), 32, SCHEDULE, True, s, "mnist")
        states.append(ae.state_dict())
    res = _stacked(X, y, pretrained=states, objective="one-class")
    assert res.ae_histories is None
    scores = res.score(X_test)
    for k, s in enumerate(SEEDS):
        det = DeepSVDD(objective="one-class", pretrained_autoencoder=states[k], **_single_kwargs(s))
        det.fit(X[k], y[k])
        _assert_same_state(res.encoders[k], det.net_)
        np.testing.assert_allclose(res.histories[k], det.history_, rtol=1e-5)
        np.testing.assert_allclose(scores[k], det.decision_function(X_test), atol=ATOL, rtol=0)


def test_authors_code_settings_equal_single(data):
    """drop_last and the center over every row (the authors' code, semiad.core.detectors.protocol) in both
    engines."""
    X, y, X_test = data
    sched = TrainSchedule(n_epochs=2, lr=1e-3, lr_milestones=(0,), batch_size=25, weight_decay=0.5e-6,
                          drop_last=True)  # 60 rows: batches of 25, 25, and a dropped 10
    states = []
    for k, s in enumerate(SEEDS):
        ae, _ = train_autoencoder(torch.as_tensor(X[k][y[k] != -1]), (), 32, sched, True, s, "mnist",
                                  init="pytorch_default")
        states.append(ae.state_dict())
    res = fit_stacked_deep_sad(X, y, "mnist", None, sched, sched, seeds=SEEDS, pretrained=states,
                               center_includes_labeled=True)
    scores = res.score(X_test)
    kw = {**_single_kwargs(0), "lr_milestones": (0,), "batch_size": 25, "weight_decay": 0.5e-6}
    for k, s in enumerate(SEEDS):
        det = DeepSAD(pretrained_autoencoder=states[k], drop_last=True, center_includes_labeled=True,
                      **{**kw, "random_state": s}).fit(X[k], y[k])
        torch.testing.assert_close(res.centers[k], det.c_, atol=ATOL, rtol=0)
        np.testing.assert_allclose(scores[k], det.decision_function(X_test), atol=ATOL, rtol=0)


def test_models_do_not_interact(data, stacked):
    X, y, X_test = data
    X2 = X.copy()
    X2[0] = np.random.default_rng(99).random((N, F), dtype=np.float32)
    other = _stacked(X2, y)
    for k in range(1, K):
        _assert_same_state(other.encoders[k], stacked.encoders[k], atol=1e-6)
        torch.testing.assert_close(other.centers[k], stacked.centers[k], atol=1e-6, rtol=0)
    assert not torch.allclose(other.centers[0], stacked.centers[0])


def test_unequal_sizes_raise(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="same number of rows"):
        _stacked([X[0], X[1][:50], X[2]], [y[0], y[1][:50], y[2]])
    y_bad = y.copy()
    y_bad[1, np.flatnonzero(y_bad[1] == 0)[0]] = -1  # model 1: one more labeled anomaly
    with pytest.raises(ValueError, match="non-anomalous rows"):
        _stacked(X, y_bad)


def test_batch_order_follows_train_minibatch_per_seed():
    """Model k sees exactly the batches train_minibatch shows a single model seeded with seeds[k]."""
    n, sched = 23, TrainSchedule(n_epochs=3, batch_size=5)  # last batch of 3 rows per epoch
    X = torch.arange(K * n, dtype=torch.float32).reshape(K, n, 1)
    w = nn.Parameter(torch.ones(K, 1, 1))
    seen: list[torch.Tensor] = []

    def loss(xb, eb):
        seen.append(xb.detach().clone())
        assert torch.equal(eb, xb[..., 0].long())
        return ((xb * w) ** 2).mean(dim=(1, 2))

    train_stacked(nn.ParameterList([w]), X, X[..., 0].long(), loss, sched, SEEDS)
    for k, s in enumerate(SEEDS):
        solo: list[torch.Tensor] = []
        v = nn.Parameter(torch.ones(1, 1))

        def solo_loss(xb, solo=solo, v=v):
            solo.append(xb.detach().clone())
            return ((xb * v) ** 2).mean()

        train_minibatch(nn.ParameterList([v]), (X[k],), solo_loss, sched, s)
        assert len(solo) == len(seen)
        for a, b in zip(seen, solo, strict=True):
            assert torch.equal(a[k], b)


def test_non_finite_loss_raises():
    X = torch.ones(K, 10, 1)
    w = nn.Parameter(torch.tensor([1.0, float("nan"), 1.0]))  # only model 1 diverges

    def loss(xb, _eb):
        return xb.mean(dim=(1, 2)) * w

    with pytest.raises(FloatingPointError, match=r"model\(s\) \[1\]"):
        train_stacked(nn.ParameterList([w]), X, None, loss, TrainSchedule(n_epochs=1, batch_size=5), SEEDS)
