"""DADS Figure 2 baselines: XGBoost, DevNet, VIME and DPLAN (environment rules + detector)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from sklearn.metrics import roc_auc_score

from semiad.dads.devnet import DevNetDetector, deviation_loss
from semiad.dads.dplan import DPLANDetector, DPLANEnv
from semiad.dads.vime import VIMEDetector, corrupt
from semiad.dads.xgb import XGBoostDetector

FAST = {
    "xgb": lambda seed=0: XGBoostDetector(n_estimators=50, random_state=seed),
    "devnet": lambda seed=0: DevNetDetector(epochs=10, n_batches=10, batch_size=128, device="cpu",
                                            random_state=seed),
    "vime": lambda seed=0: VIMEDetector(epochs=3, n_iterations=200, device="cpu", random_state=seed),
    "dplan": lambda seed=0: DPLANDetector(total_timesteps=2000, episode_length=500, device="cpu",
                                          random_state=seed),
}


def _data(seed=0, d=6):
    """Normals N(0, I); a known cluster around +3 (5 of its rows labeled); an unknown cluster that only
    contaminates the unlabeled data. Returns training (X, y_semi) and a held-out (X, y) of normals and
    known-cluster anomalies."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(size=(700, d))
    known = 3.0 + 0.5 * rng.normal(size=(45, d))
    unknown = 0.5 * rng.normal(size=(15, d))
    unknown[:, :3] -= 3.0
    X = np.vstack([normal[:500], known[:25], unknown]).astype(np.float32)
    y_semi = np.zeros(len(X), dtype=int)
    y_semi[500:505] = -1
    X_test = np.vstack([normal[500:], known[25:]]).astype(np.float32)
    y_test = np.r_[np.zeros(200), np.ones(20)].astype(int)
    return X, y_semi, X_test, y_test


@pytest.fixture(scope="module")
def fitted():
    X, y_semi, X_test, y_test = _data()
    # a module fixture runs before conftest's per-test set_num_threads(1): do it here too
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:  # the DADS-style validation keywords are accepted (only DPLAN uses them)
        return {name: make().fit(X, y_semi, X_val=X_test, y_val=y_test) for name, make in FAST.items()}
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("name", list(FAST))
def test_ranks_held_out_anomalies_above_normals(fitted, name):
    _, _, X_test, y_test = _data()
    scores = fitted[name].decision_function(X_test)
    assert scores.shape == (len(X_test),) and np.isfinite(scores).all()
    assert roc_auc_score(y_test, scores) > 0.9


@pytest.mark.parametrize("name", list(FAST))
def test_deterministic_for_a_fixed_seed(fitted, name):
    X, y_semi, X_test, y_test = _data()
    again = FAST[name]().fit(X, y_semi, X_val=X_test, y_val=y_test)
    np.testing.assert_array_equal(again.decision_function(X_test), fitted[name].decision_function(X_test))


@pytest.mark.parametrize("name", list(FAST))
def test_needs_a_labeled_anomaly(name):
    X, y_semi, _, _ = _data()
    y_semi[y_semi == -1] = 0
    with pytest.raises(ValueError, match="labeled anomaly"):
        FAST[name]().fit(X, y_semi)


@pytest.mark.parametrize("name", ["vime", "dplan"])
def test_fit_leaves_global_rng_untouched(name):
    X, y_semi, _, _ = _data()
    torch.manual_seed(123)
    np.random.seed(123)
    expected = torch.rand(1), np.random.rand()
    torch.manual_seed(123)
    np.random.seed(123)
    FAST[name]().fit(X, y_semi)
    assert (torch.rand(1), np.random.rand()) == expected


def test_deviation_loss_by_hand():
    reference = torch.tensor([-1.0, 0.0, 1.0])  # mu_R = 0, sigma_R = 1
    loss = deviation_loss(torch.tensor([0.5, 2.0, 6.0]), torch.tensor([0.0, 1.0, 1.0]), reference, 5.0)
    assert loss.item() == pytest.approx((0.5 + 3.0 + 0.0) / 3)


def test_vime_corruption_extremes():
    x = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    gen = torch.Generator().manual_seed(0)
    mask, same = corrupt(x, 0.0, gen)
    assert mask.sum() == 0 and torch.equal(same, x)
    mask, shuffled = corrupt(x, 1.0, gen)
    assert mask.all()  # every entry replaced by a draw from its own column's marginal
    assert torch.equal(shuffled.sort(dim=0).values, x)
    assert not torch.equal(shuffled, x)


# ---- DPLAN environment -----------------------------------------------------------------------


@pytest.mark.parametrize("space", ["raw", "representation"])
def test_dplan_env_passes_gymnasium_checker(space):
    X, y_semi, _, _ = _data()
    proj = np.random.default_rng(0).normal(size=(X.shape[1], 4)).astype(np.float32)
    env = DPLANEnv(X[y_semi == 0], X[y_semi == -1], episode_length=20, subset_size=50,
                   distance_space=space, intrinsic_space=space,
                   representation=lambda data: np.maximum(data @ proj, 0.0))
    check_env(env, skip_render_check=True)


def test_dplan_rewards_have_the_right_signs():
    X_u = np.array([[0.0], [1.0], [3.0], [10.0]], dtype=np.float32)
    X_a = np.array([[20.0]], dtype=np.float32)
    env = DPLANEnv(X_u, X_a, p_anomaly=1.0, intrinsic_space="raw", distance_space="raw")
    env.reset(seed=0)
    # unlabeled state, action normal: no external reward, intrinsic iForest score in [0, 1]
    _, reward, _, _, info = env.step(0)
    assert info["external_reward"] == 0.0 and 0.0 <= info["intrinsic_reward"] <= 1.0
    assert reward == info["external_reward"] + info["intrinsic_reward"]
    assert info["labeled_anomaly"]  # p_anomaly = 1: the next state is a labeled anomaly
    _, reward, _, _, info = env.step(1)  # anomaly labeled anomaly: +1, no intrinsic reward
    assert (reward, info["external_reward"], info["intrinsic_reward"]) == (1.0, 1.0, 0.0)
    env.p_anomaly = 0.0
    _, reward, _, _, info = env.step(0)  # anomaly labeled normal: -1
    assert (reward, info["external_reward"]) == (-1.0, -1.0)
    assert not info["labeled_anomaly"]
    _, _, _, _, info = env.step(1)  # unlabeled point labeled anomaly: the paper's -1
    assert info["external_reward"] == -1.0
    assert env.intrinsic_.min() == 0.0 and env.intrinsic_.max() == pytest.approx(1.0)  # min-max scaled
    neutral = DPLANEnv(X_u, X_a, p_anomaly=0.0, false_alarm_reward=0.0, intrinsic_space="raw")
    neutral.reset(seed=0)
    assert neutral.step(1)[4]["external_reward"] == 0.0


def test_dplan_nearest_after_anomaly_farthest_after_normal():
    X_u = np.array([[0.0], [1.0], [3.0], [10.0], [10.5]], dtype=np.float32)
    X_a = np.array([[2.2]], dtype=np.float32)
    # by hand: (nearest other point, farthest point) of every unlabeled index
    expected = {0: (1, 4), 1: (0, 4), 2: (1, 0), 3: (4, 0), 4: (3, 0)}
    env = DPLANEnv(X_u, X_a, p_anomaly=0.0, subset_size=1000, distance_space="raw", intrinsic_space="raw")
    _, info = env.reset(seed=1)
    actions = np.random.default_rng(0).integers(2, size=30)
    for action in actions:
        here = info["index"]
        _, _, _, _, info = env.step(int(action))
        assert not info["labeled_anomaly"]
        assert info["index"] == expected[here][0 if action == 1 else 1]
    # from the labeled anomaly 2.2: nearest unlabeled point is 3.0 (index 2), farthest 10.5 (index 4)
    for action, target in ((1, 2), (0, 4)):
        env.p_anomaly = 1.0
        env.step(0)
        env.p_anomaly = 0.0
        assert env.step(action)[4]["index"] == target


def test_dplan_env_embeds_once_per_episode_not_per_step():
    X, y_semi, _, _ = _data()
    calls = []

    def representation(data):
        calls.append(len(data))
        return data[:, :3]

    env = DPLANEnv(X[y_semi == 0], X[y_semi == -1], episode_length=5, representation=representation)
    env.reset(seed=0)
    after_reset = len(calls)
    assert after_reset == 2  # D_u and D_a, embedded once
    for _ in range(4):
        env.step(env.action_space.sample())
    assert len(calls) == after_reset
    *_, truncated, _ = env.step(0)
    assert truncated
    env.reset()
    assert len(calls) == 2 * after_reset


def test_dplan_score_is_q_of_the_anomaly_action(fitted):
    det = fitted["dplan"]
    _, _, X_test, _ = _data()
    with torch.no_grad():
        q = det.q_net_(torch.as_tensor(X_test[:7]))
    np.testing.assert_allclose(det.decision_function(X_test[:7]), q[:, 1].numpy(), rtol=1e-6)
    assert det.hidden_features(X_test[:7]).shape == (7, 20)


def test_dplan_keeps_best_policy_by_validation_auc():
    X, y_semi, X_test, y_test = _data()
    det = DPLANDetector(total_timesteps=400, episode_length=100, device="cpu")
    det.fit(X, y_semi, X_val=X_test, y_val=y_test)
    assert det.validation_auc_ == pytest.approx(roc_auc_score(y_test, det.decision_function(X_test)))
    short = dict(total_timesteps=400, episode_length=100, device="cpu")
    ignoring = DPLANDetector(select_by_validation=False, **short)
    plain = DPLANDetector(**short).fit(X, y_semi)
    np.testing.assert_array_equal(ignoring.fit(X, y_semi, X_val=X_test, y_val=y_test).decision_function(X),
                                  plain.decision_function(X))
    assert not hasattr(plain, "validation_auc_")
