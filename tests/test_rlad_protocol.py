"""RLAD training protocols (semiad.rl.rlad_protocol): presets, and every field reaching the cell / agent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semiad.experiments import rlad as E
from semiad.experiments.cache import config_hash
from semiad.rl import rlad as R
from semiad.rl.rlad_protocol import AUTHORS_CODE, PAPER_TEXT, RLADProtocol, protocol_named

DEMO = {"yahoo_a1": "demo", "yahoo_a2": "demo", "kpi": "demo"}
ALL = ("yahoo_a1", "yahoo_a2", "kpi")


def _configs(profile="quick", protocol=None, methods=("rlad", "spot"), **kw):
    return E.build_configs(profile, benchmarks=ALL, seeds=(0,), methods=methods, data_sources=DEMO,
                           protocol=protocol, **kw)


def test_presets_hold_the_constants_of_the_paper_and_of_the_code():
    assert (PAPER_TEXT.discount("yahoo"), PAPER_TEXT.discount("kpi")) == (0.8, 0.98)
    assert (AUTHORS_CODE.discount("yahoo"), AUTHORS_CODE.discount("kpi")) == (1.0, 1.0)
    assert (PAPER_TEXT.replay_size, AUTHORS_CODE.replay_size) == (1000, 500_000)
    assert (PAPER_TEXT.episodes("yahoo"), PAPER_TEXT.episodes("kpi")) == (1000, 300)
    assert (AUTHORS_CODE.episodes("yahoo"), AUTHORS_CODE.episodes("kpi")) == (300, 300)
    assert (PAPER_TEXT.test_fraction, AUTHORS_CODE.test_fraction) == (0.2, 0.1)
    # the five differences of the note (KPI's 300 episodes agree)
    assert set(PAPER_TEXT.differences(AUTHORS_CODE)) == set(PAPER_TEXT.settings()) - {"episodes_kpi"}
    assert protocol_named("authors_code") is AUTHORS_CODE and protocol_named(None) is None
    with pytest.raises(ValueError):
        protocol_named("nope")


@pytest.mark.parametrize("bad", [{"discount_yahoo": 1.5}, {"replay_size": 0}, {"queries_per_episode": "x"},
                                 {"episodes_kpi": 0}, {"split": "time"}, {"test_fraction": 1.0}])
def test_invalid_fields_are_rejected(bad):
    with pytest.raises(ValueError):
        PAPER_TEXT.switch(**bad)
    with pytest.raises(ValueError, match="unknown"):
        PAPER_TEXT.switch(window=30)


def test_default_configs_are_unchanged_and_equal_paper_text_under_quick():
    default = _configs()
    assert all("replay_size" not in c["params"] and "queries_per_episode" not in c["params"] for c in default)
    assert all(c["split"]["test_fraction"] == 0.2 for c in default)
    assert [c["split"]["mode"] for c in default if c["method"] == "spot"] == ["time", "series", "time"]
    # quick caps episodes at 100 < 300 and 1000: the paper's text is the pre-protocol grid, same cache keys
    assert [config_hash(c) for c in _configs(protocol="paper_text")] == [config_hash(c) for c in default]
    # the paper profile does not cap KPI's 300 episodes: only KPI's RLAD cells change
    paper_default, paper_text = _configs("paper"), _configs("paper", protocol=PAPER_TEXT)
    changed = [c for c, d in zip(paper_text, paper_default, strict=True) if config_hash(c) != config_hash(d)]
    assert changed and all(c["method"] == "rlad" and c["benchmark"] == "kpi" for c in changed)
    assert all(c["params"]["max_episodes"] == 300 for c in changed)


def test_every_authors_code_field_reaches_the_cell_config():
    for c in _configs(protocol="authors_code"):
        assert c["split"] == {"mode": "series", "test_fraction": 0.1}
        if c["method"] == "rlad":
            p = c["params"]
            assert p["gamma"] == 1.0 and p["replay_size"] == 500_000
            assert p["queries_per_episode"] == "spread" and p["max_episodes"] == 100  # quick's cap < 300
    paper = [c for c in _configs("paper", protocol="authors_code") if c["method"] == "rlad"]
    assert {c["params"]["max_episodes"] for c in paper} == {300}
    # explicit split arguments override the protocol's split
    assert {c["split"]["mode"] for c in _configs(protocol=AUTHORS_CODE, split_mode="time")} == {"time"}


def test_a_one_field_switch_changes_only_the_cache_keys_it_acts_on():
    base = _configs(protocol=PAPER_TEXT)
    for change, rlad_only in (({"replay_size": 5000}, True), ({"discount_kpi": 0.5}, True),
                              ({"test_fraction": 0.1}, False)):
        other = _configs(protocol=PAPER_TEXT.switch(**change))
        changed = {(c["method"], c["benchmark"]) for c, d in zip(other, base, strict=True)
                   if config_hash(c) != config_hash(d)}
        if rlad_only:
            assert changed and {m for m, _ in changed} == {"rlad"}
            if "discount_kpi" in change:
                assert {b for _, b in changed} == {"kpi"}
        else:
            assert {m for m, _ in changed} == {"rlad", "spot"}


def test_spread_rule_spends_the_budget_evenly_over_the_episodes():
    assert E.rlad_n_al(0.01, 10_000, "yahoo_a1", max_episodes=300, rule="spread") == (1, 100)
    assert E.rlad_n_al(0.10, 90_000, "yahoo_a1", max_episodes=300, rule="spread") == (30, 9000)
    assert E.rlad_n_al(0.10, 90_000, "yahoo_a1", max_episodes=1000) == (10, 9000)  # the paper's table
    with pytest.raises(ValueError):
        E.rlad_n_al(0.1, 100, "yahoo_a1", 10, rule="other")


def test_protocol_fields_reach_the_agent(monkeypatch):
    seen = {}

    class Recording(R.RLADDetector):
        def fit(self, windows, labels, budget=None, **kw):
            seen.update(n_al=self.n_al, gamma=self.gamma, replay_size=self.replay_size, budget=budget,
                        n_windows=len(windows))
            self.ledger_ = R.LabelLedger(len(windows))
            self.history_ = []
            return self

    monkeypatch.setattr(R, "RLADDetector", Recording)
    rng = np.random.default_rng(0)
    parts = [{"name": f"s{k}", "train": (rng.random(400), np.zeros(400, np.int64), None)} for k in range(3)]
    sizes = E.sizes_for("paper", "yahoo_a1")
    for protocol, gamma, replay in ((AUTHORS_CODE, 1.0, 500_000), (PAPER_TEXT, 0.8, 1000),
                                    (PAPER_TEXT.switch(replay_size=77, discount_yahoo=0.5), 0.5, 77)):
        params = E.method_params("rlad", sizes, "yahoo_a1", protocol)
        E.fit_rlad(parts, "yahoo_a1", 0.10, params, seed=0)
        n_queries = round(0.10 * seen["n_windows"])
        expected_n_al = (math.ceil(n_queries / 300) if protocol.queries_per_episode == "spread"
                         else max(10, math.ceil(n_queries / 1000)))
        assert (seen["gamma"], seen["replay_size"], seen["n_al"]) == (gamma, replay, expected_n_al)
    assert isinstance(AUTHORS_CODE, RLADProtocol)
