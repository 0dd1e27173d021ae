"""RLAD method (issue #7): environment contract, rewards, warm-up, margin sampling, label accounting,
label propagation, determinism and a small end-to-end run on an obvious-spike series."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from semiad.core.oracle import Oracle
from semiad.rlad.agent import (
    SRC_QUERIED,
    SRC_WARMUP,
    LabelLedger,
    LSTMQNetwork,
    RLADDetector,
    RLADEnv,
    margin_sampling,
    precision_recall_f1,
    propagate_labels,
    rlad_reward,
    series_windows,
    warmup_selection,
)
from semiad.rlad.data import TimeSeries, make_demo_series


def _spike_series(length: int = 1000, n_spikes: int = 20, seed: int = 0, width: int = 1) -> TimeSeries:
    """Sine + small noise with upward bursts (``width`` points) of 3 amplitudes: obvious anomalies."""
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)
    values = np.sin(2 * np.pi * t / 24) + rng.normal(scale=0.05, size=length)
    starts = rng.choice(np.arange(30, length - width), n_spikes, replace=False)
    where = (starts[:, None] + np.arange(width)).ravel()
    values[where] += 3.0
    labels = np.zeros(length, np.int64)
    labels[where] = 1
    return TimeSeries("spikes", values, labels, t.astype(np.int64), "demo")


def _tiny(**kw) -> RLADDetector:
    params = dict(n_al=2, steps_per_episode=8, warmup_updates=10, lp_max_unlabeled=100, random_state=3)
    params.update(kw)
    return RLADDetector(**params)


@pytest.fixture(scope="module")
def demo_windows():
    X, y, g = series_windows([make_demo_series("rlad_test", length=300, seed=1, n_anomalies=6)])
    return X, y


def test_series_windows_shapes(demo_windows):
    X, y = demo_windows
    assert X.shape == (276, 25) and X.dtype == np.float32 and y.shape == (276,)
    assert 0.0 <= X.min() and X.max() <= 1.0


def test_env_passes_check_env(demo_windows):
    X, y = demo_windows
    labels = np.full(len(y), -1)
    labels[:40] = y[:40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(RLADEnv(X, labels, episode_length=10), skip_render_check=True)


def test_reward_table():
    # (action, label) -> reward: TP r1, TN r2, FN -r1, FP -r2
    assert rlad_reward(1, 1) == 5.0 and rlad_reward(0, 0) == 1.0
    assert rlad_reward(0, 1) == -5.0 and rlad_reward(1, 0) == -1.0
    np.testing.assert_array_equal(rlad_reward([1, 0, 0, 1], [1, 0, 1, 0], r1=3, r2=2), [3, 2, -3, -2])


def test_env_rewards_use_available_labels_and_skip_unlabeled(demo_windows):
    X, y = demo_windows
    labels = np.full(len(y), -1)
    labels[[3, 7]] = [1, 0]  # e.g. one true anomaly, one pseudo-normal
    env = RLADEnv(X, labels, episode_length=200)
    _, info = env.reset(seed=0)
    seen = {info["index"]}
    for a in np.random.default_rng(0).integers(0, 2, 200):
        s = info["index"]
        _, r, terminated, truncated, info = env.step(int(a))
        assert info["acted_index"] == s and r == rlad_reward(int(a), labels[s])
        seen.add(info["index"])
        assert not terminated
    assert truncated and seen == {3, 7}
    with pytest.raises(ValueError):
        env.set_labels(np.full(len(y), -1))


def test_lstm_forget_bias_is_one():
    net = LSTMQNetwork(8)
    total = net.lstm.bias_ih_l0 + net.lstm.bias_hh_l0
    assert torch.allclose(total[8:16], torch.ones(8))
    assert net(torch.zeros(5, 25)).shape == (5, 2)


def test_warmup_picks_five_five_five(demo_windows):
    X, _ = demo_windows
    picks = warmup_selection(X, 5, seed=0)
    s = picks["score"]
    sets = [set(picks[k].tolist()) for k in ("anomalous", "normal", "middle")]
    assert [len(p) for p in sets] == [5, 5, 5] and len(set.union(*sets)) == 15
    assert s[picks["anomalous"]].min() >= np.sort(s)[-5]
    assert s[picks["normal"]].max() <= np.sort(s)[4]
    rest = np.setdiff1d(np.arange(len(X)), np.concatenate([picks["anomalous"], picks["normal"]]))
    assert np.abs(s[picks["middle"]] - 0.5).max() <= np.sort(np.abs(s[rest] - 0.5))[4] + 1e-12


def test_margin_sampling_smallest_and_eligible_only():
    q = np.array([[0.0, 0.5], [1.0, 1.05], [2.0, 0.0], [0.3, 0.3], [0.0, 0.01], [5.0, 4.9]])
    eligible = np.array([True, True, True, False, True, True])
    np.testing.assert_array_equal(margin_sampling(q, eligible, 3), [4, 1, 5])  # index 3 is labeled
    assert len(margin_sampling(q, np.zeros(6, bool), 3)) == 0


def test_oracle_never_requeries():
    oracle = Oracle([0, 1, 0, 1])
    np.testing.assert_array_equal(oracle.query([1, 2]), [1, 0])
    with pytest.raises(ValueError):
        oracle.query([2, 3])
    assert oracle.n_queries == 2


def test_ledger_counts_and_pseudo_replacement():
    led = LabelLedger(10)
    led.add_true([0, 1], [0, 1], SRC_WARMUP)
    led.add_true([2], [1], SRC_QUERIED)
    led.set_pseudo([1, 3, 4], [0, 0, 1])  # window 1 has a true label: not overwritten
    assert led.counts() == {"warmup": 2, "queried": 1, "pseudo": 2, "labels_used": 3}
    assert led.label[1] == 1
    led.set_pseudo([5], [0])  # replaces all previous pseudo-labels
    assert led.counts()["pseudo"] == 1 and led.label[3] == -1
    with pytest.raises(ValueError):
        led.add_true([2], [0], SRC_QUERIED)


def test_propagation_gives_confident_pseudo_labels_only_to_unlabeled():
    X, y, _ = series_windows([_spike_series(400, 8)])
    led = LabelLedger(len(X))
    normal = np.flatnonzero(y == 0)[::25]
    led.add_true(normal, y[normal], SRC_WARMUP)
    led.add_true(np.flatnonzero(y == 1)[:2], [1, 1], SRC_QUERIED)
    idx, lab = propagate_labels(X, led, np.random.default_rng(0), max_unlabeled=200)
    assert len(idx) > 0 and not led.true_mask[idx].any()
    assert (lab == y[idx]).mean() > 0.95


def test_propagation_stops_at_its_tolerance_not_at_max_iter(monkeypatch):
    """LabelSpreading's max_iter=30 is not what ends a propagation (alpha=0.2 contracts 5x a step)."""
    from sklearn.semi_supervised import LabelSpreading

    steps = []
    fit = LabelSpreading.fit

    def counting_fit(self, X, y):
        out = fit(self, X, y)
        steps.append(self.n_iter_)
        return out

    monkeypatch.setattr(LabelSpreading, "fit", counting_fit)
    X, y, _ = series_windows([_spike_series(400, 8)])
    rng = np.random.default_rng(0)
    for _ in range(5):
        led = LabelLedger(len(X))
        picked = rng.choice(len(X), 30, replace=False)
        picked = np.union1d(picked, np.flatnonzero(y == 1)[:2])
        led.add_true(picked, y[picked], SRC_QUERIED)
        propagate_labels(X, led, rng, max_unlabeled=200)
    assert len(steps) == 5 and max(steps) < 30


def test_label_accounting_exact_in_a_fit(demo_windows):
    X, y = demo_windows
    det = _tiny(n_al=3).fit(X, y, n_episodes=4)
    led, hist = det.ledger_, det.history_
    assert [h["queried"] for h in hist] == [3, 6, 9, 12]
    assert all(h["warmup"] == 15 and h["labels_used"] == 15 + h["queried"] for h in hist)
    assert det.oracle_.n_queries == 12 == int((led.source == SRC_QUERIED).sum())
    assert hist[-1]["pseudo"] == int((led.source == 3).sum())
    warm = np.concatenate(list(v for k, v in det.warmup_.items()))
    assert set(warm.tolist()) == set(np.flatnonzero(led.source == SRC_WARMUP).tolist())
    # queried windows are exactly what the oracle was asked, all distinct, none from the warm-up
    assert not det.oracle_.was_queried(warm).any()
    # a budget fixes the number of queries: round(0.02 * 276) = 6 -> 3 episodes of 2
    det2 = _tiny(n_al=2).fit(X, y, budget=0.02)
    assert len(det2.history_) == 3 and det2.history_[-1]["queried"] == 6


def test_warmup_is_per_series():
    a, b = make_demo_series("a", 200, 0, 3), make_demo_series("b", 200, 1, 3)
    det = _tiny().fit_series([a, b], n_episodes=1)
    assert det.history_[0]["warmup"] == 30
    X, _, g = series_windows([a, b])
    for key in ("anomalous", "normal", "middle"):
        assert np.bincount(g[det.warmup_[key]]).tolist() == [5, 5]


def test_determinism(demo_windows):
    X, y = demo_windows
    d1 = _tiny().fit(X, y, n_episodes=3)
    d2 = _tiny().fit(X, y, n_episodes=3)
    np.testing.assert_array_equal(d1.decision_function(X), d2.decision_function(X))
    assert str(d1.history_) == str(d2.history_)  # (nan-safe equality)
    d3 = _tiny(random_state=4).fit(X, y, n_episodes=3)
    assert not np.array_equal(d1.decision_function(X), d3.decision_function(X))


def test_point_adjust_metric():
    y = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0])
    p = np.array([0, 0, 1, 0, 0, 1, 0, 0, 0])
    plain = precision_recall_f1(y, p)
    assert (plain["tp"], plain["fp"], plain["fn"]) == (1, 1, 4)
    adj = precision_recall_f1(y, p, point_adjust=True)
    assert (adj["tp"], adj["fp"], adj["fn"]) == (3, 1, 2)
    # segments do not cross series boundaries
    grouped = precision_recall_f1([1, 1], [1, 0], point_adjust=True, groups=[0, 1])
    assert grouped["fn"] == 1


def test_short_run_detects_obvious_spikes():
    s = _spike_series(1000, 20, seed=0)
    cut = 800
    train = TimeSeries("tr", s.values[:cut], s.labels[:cut], s.timestamps[:cut], "demo")
    test = TimeSeries("te", s.values[cut:], s.labels[cut:], s.timestamps[cut:], "demo")
    Xtr, ytr, _ = series_windows([train])
    Xte, yte, _ = series_windows([test])
    assert yte.sum() >= 3
    # 15 episodes x 4 queries = 60 labels (7.7 % of 776 windows). With warmup_score="entering" seeds
    # 0-3 reached test F1 >= 0.83 when this was written; 0.5 leaves room for platform differences.
    # (The paper's "window" warm-up failed on seed 2: no anomalous window was ever labeled.)
    det = RLADDetector(n_al=4, steps_per_episode=128, lp_max_unlabeled=300, warmup_score="entering",
                       random_state=0)
    det.fit(Xtr, ytr, n_episodes=15)
    assert precision_recall_f1(yte, det.predict(Xte))["f1"] > 0.5
    assert precision_recall_f1(ytr, det.predict(Xtr))["f1"] > 0.5


# ---------------------------------------------------------------------------------------------
# CleanRL-style arguments and training function (issue #18)


def test_args_are_the_estimators_parameters_with_the_same_defaults():
    import inspect
    from dataclasses import fields

    from semiad.rlad.agent import RLADArgs
    from semiad.rlad.protocol import AUTHORS_CODE, PAPER_TEXT

    signature = inspect.signature(RLADDetector.__init__).parameters
    names = [f.name for f in fields(RLADArgs)]
    assert names == [p for p in signature if p != "self"]
    assert all(signature[f.name].default == f.default for f in fields(RLADArgs))
    assert RLADDetector().args == RLADArgs()
    assert _tiny(n_al=4).args.n_al == 4
    defaults = RLADArgs()
    assert (defaults.gamma, defaults.replay_size) == (PAPER_TEXT.discount("yahoo"), PAPER_TEXT.replay_size)
    code_kpi = RLADArgs.from_protocol(AUTHORS_CODE, "kpi", n_al=3)
    assert (code_kpi.gamma, code_kpi.replay_size, code_kpi.n_al) == (1.0, 500_000, 3)
    assert RLADArgs.from_protocol(PAPER_TEXT, "kpi").gamma == 0.98
    for doc_field in names:  # every field documents where its value comes from
        assert f"    {doc_field}:" in inspect.getsource(RLADArgs)


@pytest.mark.parametrize("bad", [{"warmup_score": "x"}, {"gamma": 1.5}, {"batch_size": 0}, {"n_al": -1},
                                 {"epsilon_min": 0.5, "epsilon_start": 0.2}, {"lp_sigma": 0.0}])
def test_args_are_validated_when_built(bad, demo_windows):
    from semiad.rlad.agent import RLADArgs

    with pytest.raises(ValueError):
        RLADArgs(**bad)
    X, y = demo_windows
    with pytest.raises(ValueError):  # the estimator validates at fit (scikit-learn convention)
        _tiny(**bad).fit(X, y, n_episodes=1)


def test_train_rlad_is_what_fit_runs(demo_windows):
    from semiad.rlad.agent import q_values_batched, train_rlad

    X, y = demo_windows
    det = _tiny().fit(X, y, n_episodes=3)
    run = train_rlad(_tiny().args, X, y, n_episodes=3)
    np.testing.assert_array_equal(q_values_batched(run.q_net, torch.as_tensor(X)), det.q_values(X))
    assert str(run.history) == str(det.history_)
    assert run.env_steps == 3 * 8 and run.n_updates == 10 + 3 * 8  # warm-up updates + one per step
    assert det.epsilon_start - det.args.epsilon(run.env_steps) == pytest.approx(24 / 500000)
