"""RLAD training protocols (semiad.rlad.protocol): presets, and every field reaching the cell / agent."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from semiad.core.cache import config_hash
from semiad.rlad import agent as R
from semiad.rlad import claims as C
from semiad.rlad import figures as F
from semiad.rlad import grid as E
from semiad.rlad.protocol import AUTHORS_CODE, PAPER_TEXT, RLADProtocol, protocol_named

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
    for protocol, gamma, replay in ((AUTHORS_CODE, 1.0, 500_000), (PAPER_TEXT, 0.8, 1000),
                                    (PAPER_TEXT.switch(replay_size=77, discount_yahoo=0.5), 0.5, 77)):
        params = E.RLADGridConfig.for_profile("paper", protocol=protocol).method_params("rlad", "yahoo_a1")
        E.fit_rlad(parts, "yahoo_a1", 0.10, params, seed=0)
        n_queries = round(0.10 * seen["n_windows"])
        expected_n_al = (math.ceil(n_queries / 300) if protocol.queries_per_episode == "spread"
                         else max(10, math.ceil(n_queries / 1000)))
        assert (seen["gamma"], seen["replay_size"], seen["n_al"]) == (gamma, replay, expected_n_al)
    assert isinstance(AUTHORS_CODE, RLADProtocol)


# ---------------------------------------------------------------------------------------------
# the default, the notebooks' parameter and the side-by-side claims (issue #16, RLAD item 2)
def test_the_default_is_a_preset_and_both_table_notebooks_state_it():
    import nbformat

    from semiad.rlad.protocol import DEFAULT, PRESETS, other_preset
    from tests.conftest import REPO

    assert DEFAULT in PRESETS
    assert other_preset(DEFAULT) is not DEFAULT and other_preset(other_preset(DEFAULT).name) is DEFAULT
    with pytest.raises(ValueError):
        other_preset(None)
    for name in ("table2_yahoo", "table3_kpi"):
        nb = nbformat.read(REPO / "notebooks" / "rlad" / f"{name}.ipynb", as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert f'protocol = "{DEFAULT.name}"' in params.source, name
        assert "protocol=protocol" in "".join(c.source for c in nb.cells if c.cell_type == "code")
    # the grid's default is that preset (called without ``protocol``: the DEFAULT's configs)
    import inspect

    assert inspect.signature(E.run_rlad_grid).parameters["protocol"].default is DEFAULT
    assert [config_hash(c) for c in _configs(protocol=DEFAULT)] == [
        config_hash(c) for c in E.build_configs("quick", benchmarks=ALL, seeds=(0,), methods=("rlad", "spot"),
                                                data_sources=DEMO)]


def test_each_protocol_reaches_the_cells_and_labels_the_result_rows(tmp_path):
    (tmp_path / "empty").mkdir()
    kwargs = {"benchmarks": ("yahoo_a1",), "methods": ("rlad", "sr"), "data_dir": str(tmp_path / "empty"),
              "on_missing": "demo", "cache_root": str(tmp_path / "cache"), "progress": False}
    for protocol in (PAPER_TEXT, AUTHORS_CODE):
        results, records = E.run_rlad_grid("smoke", protocol=protocol.name, **kwargs)
        assert set(results["protocol"]) == {protocol.name}
        assert all(r["status"] == "ok" for r in records)
        for r in records:
            assert r["config"]["split"] == {"mode": protocol.split_mode("time"),
                                            "test_fraction": protocol.test_fraction}
        rlad = [r for r in records if r["config"]["method"] == "rlad"]
        assert rlad and all(r["config"]["params"]["gamma"] == protocol.discount("yahoo") for r in rlad)
        assert all(r["config"]["params"].get("replay_size", 1000) == protocol.replay_size for r in rlad)
        parts = E.split_parts(records[0]["config"], {"data_dir": kwargs["data_dir"], "on_missing": "demo"})
        tested = [p for p in parts if len(p["test"][1])]
        # 3 smoke series: the text cuts each in time, the code holds out one whole series (10 %, at least one)
        assert len(tested) == (1 if protocol is AUTHORS_CODE else 3)
    results, _ = E.run_rlad_grid("smoke", protocol=None, **kwargs)
    assert set(results["protocol"]) == {"pre_protocol"}


def _protocol_frame(values: dict) -> pd.DataFrame:
    """metric -> (RLAD 1 %, RLAD 10 %, SPOT, Deep SAD 1 %) on A1 (one seed)."""
    rows = []
    for metric, (r1, r10, spot, d1) in values.items():
        for method, budget, v in (("RLAD", 0.01, r1), ("RLAD", 0.1, r10), ("SPOT", None, spot),
                                  ("Deep SAD", 0.01, d1)):
            rows.append({"method": method, "dataset": "yahoo_a1", "budget": budget, "seed": 0,
                         "metric": metric, "value": v})
    return pd.DataFrame(rows)


def test_claims_side_by_side_per_protocol_and_the_tally_of_the_default_rule():
    from semiad.core.reported import load_reported

    claims = load_reported("rlad_claims")
    claims = claims[claims["dataset"].isin(("yahoo_a1", "*"))]
    runs = {"paper_text": _protocol_frame({"f1": (0.32, 0.85, 0.2, 0.1)}),          # gain 0.6, 0.85, x3.2
            "authors_code": _protocol_frame({"f1": (0.22, 0.5, 0.2, 0.01),          # gain 0.1, 0.5, x22
                                             "f1_authors": (0.4, 0.78, 0.2, 0.5)})}  # gain 1.0, 0.78, x0.8
    side = C.claims_by_protocol(runs, claims)
    assert len(side) == 2 * len(claims) * len(C.CLAIM_METRICS)
    assert list(side.columns[:3]) == ["claim", "metric", "protocol"]
    table = C.protocol_claims_table(side)
    assert list(table.columns) == ["paper_text", "authors_code"]
    assert list(table.index.get_level_values("metric")[:4]) == list(C.CLAIM_METRICS)
    gain, f1_10, dsad = (claims["claim"].iloc[k] for k in range(3))
    assert table.loc[(gain, "f1"), "paper_text"] == "holds 0.60"
    assert table.loc[(gain, "f1"), "authors_code"] == "fails 0.10"
    assert table.loc[(f1_10, "f1_authors"), "authors_code"] == "holds 0.78"
    assert table.loc[(f1_10, "f1_authors"), "paper_text"] == "not run"
    assert table.loc[(dsad, "f1"), "authors_code"] == "holds 22.00"
    tally = C.protocol_tally(side).set_index("protocol")
    # paper_text: f1 only, 2 of 3 (x3.2 < 10); authors_code: f1 1 of 3 (x22), f1_authors 2 of 3 (x0.8 < 10)
    assert tally.loc["paper_text", ["holds", "checked"]].tolist() == [2, 3]
    assert tally.loc["authors_code", ["holds", "checked"]].tolist() == [3, 6]
    assert tally.loc["authors_code", "share"] == pytest.approx(0.5)


def test_protocols_figure_draws_each_metric_of_each_protocol():
    import matplotlib

    matplotlib.use("Agg")
    runs = {"paper_text": _protocol_frame({"f1": (0.3, 0.8, 0.2, 0.1), "vus_pr": (0.5, 0.6, 0.2, 0.1)}),
            "authors_code": _protocol_frame({"f1": (0.2, 0.4, 0.2, 0.1)})}
    fig = F.protocols(runs, ("yahoo_a1",), {"yahoo_a1": "demo"})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3 and {tuple(ln.get_ydata()) for ln in lines} == {(0.3, 0.8), (0.5, 0.6), (0.2, 0.4)}
    assert {ln.get_linestyle() for ln in lines} == {"-", "--"}
