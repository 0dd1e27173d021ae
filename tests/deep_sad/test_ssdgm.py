"""SS-DGM (Kingma et al., 2014): Eq. (7) unlabeled bound, fit/score for M2 and M1+M2, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from semiad.deep_sad.ssdgm import M2, SSDGM, ReleasedM2, m2_loss, released_m2_loss, unlabeled_from_parts

FAST = dict(hidden_dims=(16, 8), rep_dim=2, n_epochs=40, lr=1e-3, lr_milestones=(40,),
            batch_size=100, device="cpu")


def _blobs(n=300, d=5, seed=0):
    """Normals N(0, I), anomalies N(3, I) (last 30 rows), five of them labeled."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[-30:] += 3.0
    y = np.zeros(n, int)
    y[-30:] = 1
    y_semi = np.zeros(n, int)
    y_semi[-30:-25] = -1
    return X, y, y_semi


@pytest.fixture(scope="module")
def fitted():
    X, _, y_semi = _blobs()
    return {m: SSDGM(model=m, **FAST).fit(X, y_semi) for m in ("M2", "M1+M2")}


def test_unlabeled_bound_is_expected_loss_minus_entropy():
    neg_elbo = torch.tensor([[2.0, 5.0]])
    q = torch.tensor([[0.75, 0.25]])
    entropy = -(q * q.log()).sum()
    expected = (q * neg_elbo).sum() - entropy
    assert unlabeled_from_parts(neg_elbo, q.log()).item() == pytest.approx(expected.item(), rel=1e-6)


def test_m2_loss_labels_and_alpha():
    torch.manual_seed(0)
    model = M2(3, (8,), 2).eval()
    x = torch.randn(4, 3)
    unl = torch.zeros(4, dtype=torch.long)
    # the classification term is only active for labeled rows (same seed = same z samples)
    torch.manual_seed(1)
    without = m2_loss(model, x, unl, 0.0, 1.0).item()
    torch.manual_seed(1)
    assert m2_loss(model, x, unl, 5.0, 1.0).item() == pytest.approx(without, rel=1e-6)
    lab = torch.tensor([-1, -1, 1, 1])
    torch.manual_seed(1)
    base = m2_loss(model, x, lab, 0.0, 2.0).item()
    torch.manual_seed(1)
    weighted = m2_loss(model, x, lab, 0.1, 2.0).item()
    log_q = torch.log_softmax(model.class_logits(x), 1)
    ce = -log_q[torch.arange(4), torch.tensor([1, 1, 0, 0])].mean().item()
    assert weighted - base == pytest.approx(0.1 * 2.0 * ce, rel=1e-4)


@pytest.mark.parametrize("model", ["M2", "M1+M2"])
def test_fit_score_and_learning(fitted, model):
    det = fitted[model]
    X_test, y_test, _ = _blobs(seed=1)
    scores = det.decision_function(X_test)
    assert scores.shape == (len(X_test),)
    assert np.isfinite(scores).all() and scores.min() >= 0.0 and scores.max() <= 1.0
    assert scores.std() > 1e-3  # not constant
    assert det.history_[-1] < det.history_[0]  # -ELBO (+ CE) decreases
    if model == "M1+M2":
        assert det.m1_history_[-1] < det.m1_history_[0]
    assert np.isfinite(det.elbo(X_test))
    assert roc_auc_score(y_test, scores) > 0.8  # the labeled anomalies' cluster scores higher


def test_deterministic_on_cpu(fitted):
    X, _, y_semi = _blobs()
    again = SSDGM(model="M1+M2", **FAST).fit(X, y_semi)
    np.testing.assert_array_equal(again.decision_function(X), fitted["M1+M2"].decision_function(X))
    assert again.history_ == fitted["M1+M2"].history_
    assert again.elbo(X) == fitted["M1+M2"].elbo(X)


def test_fit_leaves_global_rng_untouched():
    X, _, y_semi = _blobs(n=60)
    y_semi[:] = 0
    y_semi[-3:] = -1
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    SSDGM(**{**FAST, "n_epochs": 1}).fit(X, y_semi)
    assert torch.rand(1).item() == before.item()


def test_bad_arguments_raise():
    X, _, y_semi = _blobs()
    with pytest.raises(ValueError, match="model"):  # validated by fit (scikit-learn convention)
        SSDGM(model="M3").fit(X, y_semi)
    with pytest.raises(ValueError, match="alpha"):
        SSDGM(alpha=-1.0).fit(X, y_semi)
    with pytest.raises(NotFittedError):
        SSDGM().elbo(np.zeros((3, 2), np.float32))


def test_row_cap_trains_on_a_stratified_subsample():
    X, y, y_semi = _blobs()
    fast = {**FAST, "n_epochs": 2}
    a = SSDGM(max_train_samples=100, random_state=1, **fast).fit(X, y_semi)
    b = SSDGM(max_train_samples=100, random_state=1, **fast).fit(X, y_semi)
    assert len(a.train_index_) == 100
    np.testing.assert_array_equal(a.train_index_, b.train_index_)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), rtol=0, atol=0)
    kept = y_semi[a.train_index_]
    assert (kept == -1).sum() == 2  # 5 of 300 labeled -> 5/3 of 100, largest remainder -> 2
    assert len(SSDGM(**fast).fit(X, y_semi).train_index_) == 300
    with pytest.raises(ValueError, match="max_train_samples"):
        SSDGM(max_train_samples=1).fit(X, y_semi)


# --------------------------------------------------------------------- the authors' released M2 (variant)
def test_released_variant_learns_is_deterministic_and_scales_its_inputs():
    X, y, y_semi = _blobs()
    kw = dict(variant="authors_code", hidden_dims=(16, 8), rep_dim=4, n_epochs=30, lr=1e-3,
              lr_milestones=(), batch_size=64, device="cpu", random_state=3)
    a, b = SSDGM(**kw).fit(X, y_semi), SSDGM(**kw).fit(X, y_semi)
    assert np.array_equal(a.decision_function(X), b.decision_function(X))
    assert isinstance(a.m2_, ReleasedM2)
    assert np.allclose(a.input_min_, X.min(axis=0)) and np.allclose(a.input_span_, np.ptp(X, axis=0))
    assert roc_auc_score(y, a.decision_function(X)) > 0.8
    with pytest.raises(ValueError, match="M2 only"):
        SSDGM(variant="authors_code", model="M1+M2").fit(X, y_semi)
    with pytest.raises(ValueError, match="variant"):
        SSDGM(variant="kingma2014").fit(X, y_semi)
    with pytest.raises(ValueError, match="kingma"):
        a.elbo(X)


def test_released_loss_drops_the_labeled_terms_below_two_labeled_rows():
    torch.manual_seed(0)
    model = ReleasedM2(4, (8,), 2)
    x = torch.rand(10, 4)
    one = torch.tensor([-1] + [0] * 9)
    none = torch.zeros(10, dtype=torch.long)
    two = torch.tensor([-1, -1] + [0] * 8)

    def loss(y_semi, alpha=5.0):
        torch.manual_seed(1)  # the same reparameterisation noise
        return released_m2_loss(model, x, y_semi, alpha).item()

    # one labeled row: U over the nine unlabeled rows only, as if the row were not in the batch
    torch.manual_seed(1)
    u_only = released_m2_loss(model, x[1:], none[1:], 5.0).item()
    assert loss(one) == pytest.approx(u_only)
    # two labeled rows: the labeled terms join, alpha scales the cross-entropy
    assert loss(two, alpha=0.0) != pytest.approx(loss(two, alpha=5.0))
    assert loss(none) == pytest.approx(loss(none, alpha=100.0))
