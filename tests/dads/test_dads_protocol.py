"""DADS protocol switch (paper text vs the authors' code, ``shared/protocols/dads.md``): presets, cache
keys, each field reaching env / agent / config, the TH_conf rule, the embedding refit, CTG columns and
the authors' split."""

from __future__ import annotations

import dataclasses
import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import train_test_split

from semiad.core.cache import config_hash
from semiad.core.data.resolve import DataNotFoundError
from semiad.dads import data as multiclass
from semiad.dads import grid as grid
from semiad.dads.contamination import make_contamination_split
from semiad.dads.data import (
    CTG_AUTHORS_FEATURES,
    CTG_FEATURES,
    CTG_PATTERN_INDICATORS,
    load_multiclass,
    make_demo_multiclass,
)
from semiad.dads.env import POOL_T, POOL_U, DADSEnv
from semiad.dads.protocol import (
    AGENT_FIELDS,
    AUTHORS_CODE,
    AUTHORS_SEEDS,
    ENV_FIELDS,
    PAPER_TEXT,
    SPLIT_FIELDS,
    dads_protocol_named,
)


def _data(n=160, d=5, n_labeled=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:12] += 4.0
    y_semi = np.zeros(n, int)
    y_semi[:n_labeled] = -1
    return X, y_semi, (np.arange(n) < 12).astype(int)


def _defaults(fn) -> dict:
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}


# ---------------------------------------------------------------------------------------------- presets
def test_paper_text_is_the_code_s_defaults():
    """PAPER_TEXT must describe what DADS / DADSEnv / the split do when given no option."""
    from semiad.dads.agent import DADS

    agent, env = _defaults(DADS.__init__), _defaults(DADSEnv.__init__)
    split = _defaults(make_contamination_split)
    settings = PAPER_TEXT.settings()
    for key in AGENT_FIELDS:
        expected = list(agent[key]) if isinstance(agent[key], tuple) else agent[key]
        assert settings[key] == expected, key
    assert settings["learning_starts"] == agent["learning_starts"]
    for key in ENV_FIELDS:
        assert settings[key] == env[key], key
    for key in SPLIT_FIELDS:
        assert settings[key] == split[key], key


def test_authors_code_values_and_switch():
    a = AUTHORS_CODE
    assert (a.th_score, a.th_conf, a.adaptive_th_conf) == (0.01, 9, True)
    assert (a.detector_max_fit, a.n_candidates) == (5000, 50)
    assert a.detector_mix == (0.0, 0.0, 0.0, 1.0) and a.ou_noise == (0.0, 0.1, 0.1)
    assert (a.learning_starts, a.train_freq, a.gradient_steps, a.target_entropy) == (10_000, 16, 16, -1.0)
    assert (a.actor_heads, a.keep_best_actor, a.n_episodes, a.episode_length) == ("sigmoid", True, 10, 5000)
    assert a.seeds == AUTHORS_SEEDS == (1, 20, 42, 50, 99, 101, 135, 145, 165, 200)
    ablation = PAPER_TEXT.switch(adaptive_th_conf=True)
    assert ablation.differences(PAPER_TEXT) == {"adaptive_th_conf": (True, False)}
    assert ablation.name == "paper_text | adaptive_th_conf=True" and "name" not in ablation.settings()
    with pytest.raises(ValueError, match="unknown protocol fields"):
        PAPER_TEXT.switch(th_cnof=3)
    with pytest.raises(ValueError, match="detector_mix"):
        PAPER_TEXT.switch(detector_mix=(0.5, 0.5, 0.5, 0.0))
    assert dads_protocol_named("authors_code") is AUTHORS_CODE and dads_protocol_named(None) is PAPER_TEXT


# ---------------------------------------------------------------------------------------------- cache keys
def _cells(protocol, profile="smoke", datasets=("annthyroid", "cardiotocography")):
    return grid.build_configs(profile, datasets=datasets, data_sources={d: "real" for d in datasets},
                              dads_protocol=protocol)


def test_paper_text_cells_carry_no_protocol_keys():
    for cell in _cells(PAPER_TEXT):
        assert set(cell["protocol"]) == {"labeled_fraction", "train_val_test", "scale", "max_train"}
        if cell["method"] == "dads":
            assert set(cell["params"]) == {"n_episodes", "episode_length"}
    assert _cells(None) == _cells("paper_text")


def test_keys_change_only_where_a_field_acts():
    base = {config_hash(c): c for c in _cells(PAPER_TEXT)}
    authors = [config_hash(c) for c in _cells(AUTHORS_CODE, datasets=("annthyroid",))]
    assert not set(authors) & set(base)  # the two protocols never share a cell
    agent_only = _cells(PAPER_TEXT.switch(th_conf=9))
    for cell in agent_only:  # only the DADS cells move, and they carry the field in env_kwargs
        assert (config_hash(cell) in base) == (cell["method"] != "dads")
        if cell["method"] == "dads":
            assert cell["params"]["env_kwargs"] == {"th_conf": 9}
    features_only = _cells(PAPER_TEXT.switch(feature_set="authors"))
    for cell in features_only:  # the feature set acts on CTG cells only
        assert (config_hash(cell) in base) == (cell["dataset"] != "cardiotocography")


def test_authors_cells_carry_every_acting_field():
    for cell in _cells(AUTHORS_CODE):
        proto = cell["protocol"]
        assert {k: proto[k] for k in SPLIT_FIELDS} == {
            "split": "sklearn", "scale": "standard_minmax", "labeled_of": "known_class",
            "labeled_rounding": "floor", "contamination_count": "per_normal"}
        assert ("feature_set" in proto) == (cell["dataset"] == "cardiotocography")
        assert cell["seed"] == 1
        if cell["method"] == "dads":
            p = cell["params"]
            differing = set(PAPER_TEXT.differences(AUTHORS_CODE))
            assert differing & set(AGENT_FIELDS) <= set(p)
            assert differing & set(ENV_FIELDS) == set(p["env_kwargs"])
            # 10,000 of 50,000 steps random: the same share of the smoke run (2 x 150)
            assert p["learning_starts"] == 60
    quick = grid.build_configs("quick", datasets=["annthyroid"], methods=["iforest"], contaminations=[0.0],
                               data_sources={"annthyroid": "real"}, dads_protocol="authors_code")
    assert [c["seed"] for c in quick] == [1, 20, 42]
    xgb = grid.method_params("xgboost", grid.Fig2Config(protocol=AUTHORS_CODE))
    assert xgb == {"learning_rate": 0.1, "n_estimators": 100, "max_depth": 3}
    sad = grid.method_params("deep_sad", grid.Fig2Config(protocol=AUTHORS_CODE))
    assert (sad["n_epochs"], sad["ae_n_epochs"]) == (50, 150)
    assert (sad["batch_size"], sad["weight_decay"]) == (128, 0.5e-6)
    assert (sad["ae_lr"], sad["ae_weight_decay"], sad["lr"]) == (1e-4, 0.5e-3, 1e-3)


# ---------------------------------------------------------------------------------------------- env / agent
def _promote(env: DADSEnv, i: int) -> None:
    env.transition(i, POOL_U, anomalous=True)
    while env.pool_of(i) == POOL_T:
        env.transition(i, POOL_T, anomalous=True)


def _finish_episode(env: DADSEnv) -> None:
    truncated = False
    while not truncated:
        truncated = env.step(np.array([0.0], np.float32))[3]  # "normal": A never shrinks


def test_th_conf_adapts_per_episode_by_the_authors_rule():
    X, y_semi, _ = _data()
    env = DADSEnv(X, y_semi, th_conf=9, adaptive_th_conf=True, episode_length=5, detector_max_fit=100)
    env.reset(seed=0)
    assert env.th_conf == 8  # the first reset takes the "A did not grow" branch
    for i in (20, 21, 22):  # |A| 4 -> 7 > 1.5 x 4
        _promote(env, i)
    _finish_episode(env)
    assert env.last_episode_size_A == 7
    env.reset()
    assert env.th_conf == 9
    _finish_episode(env)  # A did not grow
    env.reset()
    assert env.th_conf == 8
    for i in (30, 31):  # |A| 4 -> 6, not above 1.5 x 4: unchanged
        _promote(env, i)
    _finish_episode(env)
    env.reset()
    assert env.th_conf == 8 and env.th_conf_history == [8, 9, 8, 8]
    fixed = DADSEnv(X, y_semi, th_conf=9, episode_length=5, detector_max_fit=100)
    fixed.reset(seed=0)
    _finish_episode(fixed)
    fixed.reset()
    assert fixed.th_conf == 9 and fixed.th_conf_history == []


def test_authors_sampling_rules():
    X, y_semi, _ = _data(n=40)
    env = DADSEnv(X, y_semi, pool_probs=(0.0, 1.0, 0.0), t_min_draw=2, candidates_replace=False,
                  detector_mix=(0.0, 0.0, 0.0, 1.0), detector_max_fit=100)
    env.reset(seed=0)
    assert np.isnan(env.scores.per_detector[1:]).all()  # only IForest is fitted (the reward needs it)
    env.transition(10, POOL_U, anomalous=True)  # one row in T: too few to draw from
    assert all(env._sample()[1] != POOL_T for _ in range(20))
    env.transition(11, POOL_U, anomalous=True)
    assert all(env._sample()[1] == POOL_T for _ in range(20))
    cand = env.pools[POOL_U].sample(np.random.default_rng(0), 50)
    assert len(cand) == len(np.unique(cand)) == len(env.pools[POOL_U])  # without replacement, capped
    u_only = DADSEnv(X, y_semi, pool_probs=(0.0, 0.0, 1.0), n_candidates=500,
                     detector_mix=(0.0, 0.0, 0.0, 1.0), detector_max_fit=100)
    u_only.reset(seed=1)
    picks = {u_only._sample()[0] for _ in range(60)}
    assert len(picks) > 10  # the "random" detector does not always take the same best candidate


def _short(**extra):
    from semiad.dads.agent import DADS

    params = AUTHORS_CODE.agent_params(2, 60)
    params.update(extra)
    params["env_kwargs"] = {**params["env_kwargs"], "detector_max_fit": 100}
    return DADS(n_episodes=2, episode_length=60, random_state=3, **params)


def test_every_authors_field_reaches_env_and_agent():
    from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

    from semiad.dads.agent import ClippedAdam

    X, y_semi, y_true = _data()
    det = _short().fit(X, y_semi, X_val=X, y_val=y_true)
    env, model = det.env_, det.model_
    for key in ENV_FIELDS:
        value = getattr(AUTHORS_CODE, key)
        if key == "th_conf":
            assert env.initial_th_conf == value
        elif key == "detector_max_fit":
            assert env.detector_max_fit == 100  # overridden above for the small set
        elif key == "action_low":
            assert env.action_space.low[0] == value
        elif key == "detector_mix":
            np.testing.assert_array_equal(env.detector_mix, value)
        else:
            assert getattr(env, key) == value, key
    for key in AGENT_FIELDS:
        expected = getattr(AUTHORS_CODE, key)
        assert getattr(det, key) == expected, key
    assert det.learning_starts == model.learning_starts == 24  # 20 % of 2 x 60
    assert (model.train_freq.frequency, model.gradient_steps) == (16, 16)
    assert (model.batch_size, model.tau) == (64, 0.2)
    assert model.target_entropy == -1.0 and model.buffer_size == 100_000
    noise = model.action_noise
    assert isinstance(noise, OrnsteinUhlenbeckActionNoise) and (noise._theta, noise._dt) == (0.1, 1.0)
    assert model.replay_buffer.handle_timeout_termination is False
    for opt in (model.actor.optimizer, model.critic.optimizer):
        assert isinstance(opt, ClippedAdam) and opt.max_grad_norm == 5.0 and opt.defaults["eps"] == 1e-4
    assert isinstance(model.actor.mu[-1], torch.nn.Sigmoid)
    assert isinstance(model.actor.log_std[-1], torch.nn.Sigmoid)
    scores = det.decision_function(X)
    assert np.all((scores > 0) & (scores < 1)) and np.ptp(scores) > 0  # the sigmoid mean
    assert det.history_.th_conf == env.th_conf_history[:2]
    warm = model.replay_buffer.actions[:24, 0, 0]  # binary warm-up plus OU noise: not uniform on [-1, 1]
    assert np.all(np.isfinite(warm)) and np.ptp(warm) > 0
    again = _short().fit(X, y_semi, X_val=X, y_val=y_true)
    np.testing.assert_array_equal(scores, again.decision_function(X))


def test_detectors_are_refit_on_the_actor_embedding_at_every_reset():
    X, y_semi, y_true = _data()
    det = _short().fit(X, y_semi, X_val=X, y_val=y_true)
    env = det.env_
    n_unlabeled = int((y_semi == 0).sum())
    assert env.n_refits == 3  # SB3's first reset + one after each of the 2 episodes
    assert env.scores.fit_shape == (min(100, n_unlabeled), AUTHORS_CODE.net_arch[-1])
    calls = []

    def spy(Z):
        calls.append(Z.shape)
        return det._actor_forward(Z.astype(np.float32), hidden=True)

    env.set_embedding(spy)
    before = env.n_refits
    env.reset()
    env.reset()
    assert env.n_refits == before + 2 and calls == [X.shape, X.shape]
    expected = det._actor_forward(X, hidden=True)
    assert expected.shape[1] == 16 and env.scores.fit_shape[1] == 16
    raw = _short(detector_space="raw", ou_noise=None).fit(X, y_semi, X_val=X, y_val=y_true)
    assert raw.env_.n_refits == 1 and raw.env_.scores.fit_shape[1] == X.shape[1]  # fit once, raw features
    warm = raw.model_.replay_buffer.actions[:24, 0, 0]  # no noise: the warm-up actions are exactly binary
    assert set(np.unique(warm)) == {0.0, 1.0}


# ---------------------------------------------------------------------------------------------- CTG columns
def test_ctg_column_sets():
    assert len(CTG_FEATURES) == 21 and len(CTG_AUTHORS_FEATURES) == 34 == len(set(CTG_AUTHORS_FEATURES))
    assert set(CTG_AUTHORS_FEATURES) == {*CTG_FEATURES, "b", "e", "LBE", *CTG_PATTERN_INDICATORS}
    assert not {"DR", "CLASS", "NSP"} & set(CTG_AUTHORS_FEATURES)
    demo = load_multiclass("cardiotocography", "/nonexistent", on_missing="demo", download=False,
                           feature_set="authors")
    assert demo.X.shape[1] == 34
    with pytest.raises(TypeError, match="unexpected options"):
        load_multiclass("annthyroid", "/nonexistent", on_missing="demo", download=False,
                        feature_set="authors")


def _real_pair(name: str, **variant):
    """The real data set read both ways (the default and ``variant``); skips where the files are absent."""
    try:
        return load_multiclass(name, download=False), load_multiclass(name, download=False, **variant)
    except DataNotFoundError as exc:
        pytest.skip(f"real {name} files missing: {exc}")


def test_ctg_indicators_copy_class_on_the_real_file():
    clean, authors = _real_pair("cardiotocography", feature_set="authors")
    path = clean.origin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sheet = pd.read_excel(path, sheet_name="Raw Data", engine="xlrd").dropna(subset=["NSP"])
    assert clean.X.shape == (2126, 21) and authors.X.shape == (2126, 34)
    cols = list(authors.feature_names)
    np.testing.assert_array_equal(authors.X[:, [cols.index(c) for c in CTG_FEATURES]], clean.X)
    ind = authors.X[:, [cols.index(c) for c in CTG_PATTERN_INDICATORS]]
    assert set(np.unique(ind)) == {0.0, 1.0} and (ind.sum(axis=1) == 1).all()  # one-hot
    np.testing.assert_array_equal(ind.argmax(axis=1) + 1, sheet["CLASS"].to_numpy())  # = CLASS: the leak
    np.testing.assert_array_equal(authors.X[:, cols.index("LBE")], authors.X[:, cols.index("LB")])


def test_annthyroid_rows_of_the_authors_code():
    """The authors read ann-train.data alone: 3,772 rows, class 3 / 2 / 1 = 3,488 / 191 / 93 (dads.md)."""
    both, train = _real_pair("annthyroid", rows="train_file")
    assert both.X.shape == (7200, 21) and train.X.shape == (3772, 21)
    assert train.stats()["class_counts"] == {1: 93, 2: 191, 3: 3488}
    np.testing.assert_array_equal(both.X[:3772], train.X)  # train file first, then the test file
    assert "ann-test" not in train.origin
    with pytest.raises(ValueError, match="rows"):
        load_multiclass("annthyroid", download=False, rows="test_file")
    # the field reaches annthyroid cells only, as the loader's ``rows``
    assert AUTHORS_CODE.data_options("annthyroid")["annthyroid_rows"] == "train_file"
    assert "annthyroid_rows" not in AUTHORS_CODE.data_options("cardiotocography")
    assert "annthyroid_rows" not in PAPER_TEXT.data_options("annthyroid")


# ---------------------------------------------------------------------------------------------- split
def test_authors_split_pools_classes_too_small_to_stratify():
    from semiad.dads.contamination import _stratifiable

    big = np.array(["normal"] * 6 + ["2"] * 3 + ["5"] * 2)
    assert _stratifiable(big) is big  # the authors' sets: strata untouched, splits unchanged
    tiny = np.array(["normal"] * 6 + ["5"] * 3 + ["2"] * 2 + ["6", "7"])
    np.testing.assert_array_equal(_stratifiable(tiny)[-2:], ["rare", "rare"])
    lone = np.array(["normal"] * 6 + ["5"] * 3 + ["2"] * 2 + ["7"])
    assert _stratifiable(lone)[-1] == "2"  # a single rare row joins the smallest anomaly stratum
    # shuttle's classes 6 and 7 (4 and 2 rows) can be split the authors' way
    classes = np.array([1] * 300 + [5] * 30 + [2] * 5 + [6] * 4 + [7] * 2)
    demo = make_demo_multiclass("shuttle_aad", 4, multiclass._PROTOCOLS["shuttle_aad"])
    ds = dataclasses.replace(demo, X=np.random.default_rng(0).normal(size=(len(classes), 4)), classes=classes)
    split = make_contamination_split(ds, 0.04, 1, **{k: getattr(AUTHORS_CODE, k) for k in SPLIT_FIELDS})
    assert sorted((len(split.idx_val), len(split.idx_test))) == [68, 69]


def test_authors_split_and_labeled_count():
    ds = make_demo_multiclass("cardiotocography", 8, multiclass._PROTOCOLS["cardiotocography"])
    opts = {k: getattr(AUTHORS_CODE, k) for k in SPLIT_FIELDS}
    for seed, c in ((1, 0.0), (20, 0.04), (42, 0.1)):
        s = make_contamination_split(ds, c, seed, **opts)
        strata = np.where(ds.y == 0, "normal", ds.classes.astype(str))
        train, rest = train_test_split(np.arange(len(ds.y)), test_size=0.4, stratify=strata,
                                       random_state=seed)
        val, test = train_test_split(rest, test_size=0.5, stratify=strata[rest], random_state=seed)
        assert set(s.idx_train) <= set(train) and set(s.idx_val) == set(val) and set(s.idx_test) == set(test)
        known = train[ds.classes[train] == ds.known_class]
        assert s.n_labeled == max(1, int(0.1 * len(known)))
        normals = train[ds.y[train] == 0]
        assert s.info["n_unlabeled_normals"] == len(normals)  # every train normal kept
        pool = len(train[ds.y[train] == 1]) - s.n_labeled
        assert s.info["n_unlabeled_anomalies"] == min(int(len(normals) * min(c, ds.y.mean())), pool)
        # standardise then min-max, fit on the final training rows: train spans [0, 1] per column
        assert np.allclose(s.X_train.min(axis=0), 0, atol=1e-6)
        assert np.allclose(s.X_train.max(axis=0), 1, atol=1e-6)
    with pytest.raises(ValueError, match="split"):
        make_contamination_split(ds, 0.0, 0, split="pandas")
