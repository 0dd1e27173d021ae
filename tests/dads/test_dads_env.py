"""DADS anomaly-search environment and agent: gymnasium contract, pool rules, rewards, determinism."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from semiad.dads.env import POOL_A, POOL_T, POOL_U, DADSEnv, IndexPool


def _data(n=120, d=4, n_labeled=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:10] += 4.0  # rows 0-9 are anomalies, the first n_labeled of them labeled
    y_semi = np.zeros(n, int)
    y_semi[:n_labeled] = -1
    y_true = (np.arange(n) < 10).astype(int)
    return X, y_semi, y_true


@pytest.fixture()
def env():
    X, y_semi, y_true = _data()
    return DADSEnv(X, y_semi, th_conf=3, episode_length=50, y_true=y_true, detector_max_fit=100, seed=0)


def test_passes_gymnasium_check_env(env):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box / no spec notices
        check_env(env, skip_render_check=True)


def test_initial_pools_and_reset_restores_them(env):
    env.reset(seed=1)
    assert env.pool_sizes() == {"A": 4, "T": 0, "U": 116}
    for i in (10, 11, 12):
        env.transition(i, POOL_U, anomalous=True)
    assert env.pool_sizes() == {"A": 4, "T": 3, "U": 113}
    env.reset()
    assert env.pool_sizes() == {"A": 4, "T": 0, "U": 116}
    assert env.conf.sum() == 0 and env.promoted == []


def test_pool_transitions_and_counters(env):
    env.reset(seed=0)
    if_s = env.scores.if_probability
    # U judged anomalous -> T with conf 1
    env.transition(20, POOL_U, anomalous=True)
    assert env.pool_of(20) == POOL_T and env.conf[20] == 1
    # T judged anomalous -> conf + 1, promotion to A at conf >= th_conf (3), with reward r_t * IF
    assert env.transition(20, POOL_T, anomalous=True) == 0.0
    assert env.pool_of(20) == POOL_T and env.conf[20] == 2
    reward = env.transition(20, POOL_T, anomalous=True)
    assert env.pool_of(20) == POOL_A and reward == pytest.approx(if_s[20])
    assert env.promoted == [20]
    # T judged normal -> back to U and the consecutive count restarts
    env.transition(30, POOL_U, anomalous=True)
    env.transition(30, POOL_T, anomalous=True)
    assert env.transition(30, POOL_T, anomalous=False) == 0.0
    assert env.pool_of(30) == POOL_U and env.conf[30] == 0
    # A never shrinks, whatever the judgement
    env.transition(0, POOL_A, anomalous=False)
    env.transition(20, POOL_A, anomalous=False)
    assert env.pool_of(0) == POOL_A and env.pool_of(20) == POOL_A
    # U judged normal stays in U
    env.transition(40, POOL_U, anomalous=False)
    assert env.pool_of(40) == POOL_U


def test_reward_signs(env):
    env.reset(seed=0)
    if_s = env.scores.if_probability
    assert env.transition(1, POOL_A, anomalous=True) == pytest.approx(if_s[1]) and if_s[1] > 0
    assert env.transition(1, POOL_A, anomalous=False) == pytest.approx(-if_s[1])
    # paper: the unlabeled reward is IF(s) whatever the action
    assert env.transition(50, POOL_U, anomalous=False) == pytest.approx(if_s[50])
    assert env.transition(51, POOL_U, anomalous=True) == pytest.approx(if_s[51])
    X, y_semi, _ = _data()
    signed = DADSEnv(X, y_semi, unlabeled_reward="signed", detector_max_fit=100)
    signed.reset(seed=0)
    expected = 0.5 - signed.scores.if_probability[60]
    assert signed.transition(60, POOL_U, anomalous=False) == pytest.approx(expected)
    assert np.all((env.scores.if_probability >= 0) & (env.scores.if_probability <= 1))


def test_unlabeled_draw_takes_the_best_candidate():
    X, y_semi, _ = _data(n=30)
    env = DADSEnv(X, y_semi, pool_probs=(0.0, 0.0, 1.0), n_candidates=2000, detector_max_fit=100)
    env.reset(seed=3)
    u = env.pools[POOL_U].members()
    best = u[np.argmax(env.scores.ensemble[u])]
    for _ in range(5):
        i, pool = env._sample()
        assert pool == POOL_U and i == best


def test_step_follows_threshold_and_truncates(env):
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (4,)
    truncated = False
    for _ in range(50):
        row, pool = env.current, env.current_pool
        obs, r, terminated, truncated, info = env.step(np.array([0.9], np.float32))
        assert not terminated
        if pool == POOL_U:
            assert env.pool_of(row) in (POOL_T, POOL_A)
    assert truncated and env.t == 50
    assert info["A"] + info["T"] + info["U"] == 120


def test_bad_arguments_raise():
    X, y_semi, _ = _data()
    with pytest.raises(ValueError, match="th_score"):
        DADSEnv(X, y_semi, th_score=1.5)
    with pytest.raises(ValueError, match="pool_probs"):
        DADSEnv(X, y_semi, pool_probs=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="sampling"):
        DADSEnv(X, y_semi, sampling="nope")
    with pytest.raises(ValueError, match="unlabeled"):
        DADSEnv(X, -np.ones(len(X), int))


def test_index_pool_is_a_set():
    pool = IndexPool(10)
    for i in (3, 5, 7):
        pool.add(i)
    pool.remove(5)
    assert sorted(pool.members()) == [3, 7] and 5 not in pool and len(pool) == 2
    with pytest.raises(KeyError):
        pool.add(3)
    draws = pool.draw(np.random.default_rng(0), 100)
    assert set(draws) == {3, 7}
    pool.reset_to(np.array([1, 2]))
    assert sorted(pool.members()) == [1, 2] and 3 not in pool


def test_short_training_is_deterministic_and_learns_the_known_anomalies():
    from semiad.dads.agent import DADS

    X, y_semi, y_true = _data(n=200, seed=1)
    kw = dict(n_episodes=2, episode_length=150, learning_starts=50, batch_size=64, random_state=7,
              env_kwargs={"detector_max_fit": 200})
    a = DADS(**kw).fit(X, y_semi, X_val=X, y_val=y_true, y_true=y_true)
    b = DADS(**kw).fit(X, y_semi, X_val=X, y_val=y_true, y_true=y_true)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    assert len(a.history_.val_auc) == 2 and a.best_val_auc_ == max(a.history_.val_auc)
    assert a.history_.size_A[0] >= 4
