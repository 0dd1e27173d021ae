"""RLAD Tables 2-3 grid (semiad.rlad.grid): config validation and one tiny cell per method family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semiad.core.cache import config_hash
from semiad.core.reported import load_reported
from semiad.rlad import claims as C
from semiad.rlad import grid as E
from semiad.rlad import tables as T

DEMO = {"yahoo_a1": "demo", "yahoo_a2": "demo", "kpi": "demo"}


@pytest.mark.parametrize("kwargs", [{"methods": ("DAGMM",)}, {"methods": ("nope",)},
                                    {"benchmarks": ("yahoo_a3",)}, {"budgets": (0.0,)},
                                    {"budgets": (1.5,)}, {"budgets": (-0.01,)}, {"seeds": (-1,)},
                                    {"split_mode": "random"}])
def test_build_configs_rejects_bad_inputs_before_any_work(kwargs, monkeypatch):
    monkeypatch.setattr(E, "rlad_cell", lambda *a: pytest.fail("a cell ran"))
    with pytest.raises(ValueError):
        E.build_configs("smoke", **kwargs)


def test_unknown_profile_rejected():
    with pytest.raises(ValueError):
        E.build_configs("huge")


def test_unsupervised_cells_are_shared_across_budgets():
    configs = E.build_configs("smoke", benchmarks=("yahoo_a1",), budgets=(0.01, 0.05, 0.1), seeds=(0, 1),
                              methods=("rlad", "spot", "sr"), data_sources=DEMO)
    rlad = [c for c in configs if c["method"] == "rlad"]
    unsup = [c for c in configs if c["method"] != "rlad"]
    assert len(rlad) == 3 * 2 and len(unsup) == 2 * 2
    assert all(c["budget"] is None for c in unsup)
    again = E.build_configs("smoke", benchmarks=("yahoo_a1",), budgets=(0.1,), seeds=(0, 1),
                            methods=("spot", "sr"), data_sources=DEMO)
    assert {config_hash(c) for c in again} == {config_hash(c) for c in unsup}


def test_rlad_n_al_keeps_the_budget_exact_under_an_episode_cap():
    n_al, n_queries = E.rlad_n_al(0.01, 10_000, "yahoo_a1", max_episodes=40)
    assert n_queries == 100 and n_al == 3  # ceil(100 / 40); the paper's N_al = 1 would need 100 episodes
    n_al, _ = E.rlad_n_al(0.10, 1_000, "yahoo_a1", max_episodes=1000)
    assert n_al == 10  # the paper's N_al for 10%


@pytest.mark.parametrize("method", ["rlad", "spot", "sr", "autoencoder", "deep_sad", "dagmm"])
def test_one_smoke_cell_per_family_returns_metrics_in_unit_interval(method, tmp_path):
    config = next(c for c in E.build_configs("smoke", benchmarks=("yahoo_a2",), methods=(method,),
                                             data_sources=DEMO) if c["seed"] == 0)
    out = E.rlad_cell(config, {"data_dir": str(tmp_path), "on_missing": "demo"})  # empty dir: demo series
    m = out["metrics"]
    assert {"precision", "recall", "f1", "f1_pa"} <= set(m)
    assert set(E.TS_METRICS) <= set(m)  # every method: authors' tolerant F1 (+P/R), VUS-PR, range-F1
    rates = {k: v for k, v in m.items() if k.split("_")[0] in ("precision", "recall", "f1", "range", "vus")}
    assert all(0 <= v <= 1 for v in rates.values()), rates
    assert out["info"]["n_test_anomalies"] > 0
    if method == "rlad":
        info = out["info"]
        assert info["labels_queried"] == round(config["budget"] * info["n_train_windows"])
        assert m["label_fraction"] == pytest.approx(config["budget"], abs=1 / info["n_train_windows"])
    if method == "deep_sad":
        info = out["info"]
        n_labels = info["labels_anomaly"] + info["labels_normal"]
        assert n_labels == round(config["budget"] * info["n_train_windows"])
    if method in E.SCORE_BASED or method in E.WINDOW_DETECTORS:
        assert {"f1_test_opt", "precision_test_opt", "f1_authors_test_opt", "range_f1_test_opt"} <= set(m)
        assert m["f1_test_opt"] >= m["f1"] - 1e-12  # the test-optimal threshold is an upper bound


def test_tables_and_claims_from_a_synthetic_frame():
    rows = []
    for seed in (0, 1):
        for method, budget, f1 in (("RLAD", 0.01, 0.8), ("RLAD", 0.1, 0.85), ("SPOT", None, 0.4),
                                   ("SR", None, 0.2)):
            for metric, value in (("precision", f1), ("recall", f1), ("f1", f1)):
                rows.append({"method": method, "dataset": "yahoo_a1", "budget": budget, "seed": seed,
                             "metric": metric, "value": value})
    results = pd.DataFrame(rows)
    table = T.prf_table(results)
    assert len(table) == 2 * 3 and set(table["budget"]) == {"1%", "10%"}
    claims = C.check_claims(results, load_reported("rlad_claims"))
    a1_gain = claims[claims["claim"].str.contains("59%")].iloc[0]
    assert a1_gain["ours"] == pytest.approx(1.0) and a1_gain["holds"]
    a1_f1 = claims[claims["claim"].str.contains("0.8 with 10%")].iloc[0]
    assert a1_f1["holds"] and np.isclose(a1_f1["ours"], 0.85)
    assert (claims.loc[claims["dataset"] == "kpi", "status"] == "not run").all()
    assert not claims["claim"].str.contains("baseline \\(Tables 2-3\\)").any()  # every baseline runs


def test_budget_semi_labels_match_the_budget_and_the_anomaly_ratio():
    y = np.zeros(10_000, np.int64)
    y[:200] = 1  # 2 % anomalies
    ys = E.budget_semi_labels(y, 0.05, seed=3)
    assert np.sum(ys != 0) == 500
    assert np.sum(ys == -1) == 10 and np.all(y[ys == -1] == 1) and np.all(y[ys == 1] == 0)
    assert np.array_equal(ys, E.budget_semi_labels(y, 0.05, seed=3))
    assert not np.array_equal(ys, E.budget_semi_labels(y, 0.05, seed=4))
    tiny = E.budget_semi_labels(y, 0.0005, seed=0)  # 5 labels: 0.1 anomaly by ratio -> at least one
    assert np.sum(tiny == -1) == 1 and np.sum(tiny != 0) == 5
    with pytest.raises(ValueError, match="budget"):
        E.budget_semi_labels(y, 1.5, seed=0)


def test_cells_cached_before_the_new_metrics_are_listed_and_refreshed(tmp_path):
    from semiad.core.cache import ResultCache

    (tmp_path / "empty").mkdir()
    kwargs = {"benchmarks": ("yahoo_a2",), "methods": ("sr",), "data_dir": str(tmp_path / "empty"),
              "on_missing": "demo", "cache_root": str(tmp_path / "cache"), "progress": False}
    _, records = E.run_rlad_grid("smoke", **kwargs)
    assert E.stale_records(records) == []
    fresh = records[0]["metrics"]
    old = {k: v for k, v in fresh.items() if not k.startswith(("f1_authors", "range_f1", *E.TS_METRICS))}
    stripped = {k: v for k, v in records[0].items() if k != "checksum"}
    ResultCache(kwargs["cache_root"]).put({**stripped, "metrics": old})  # a record from before #16
    results, records = E.run_rlad_grid("smoke", **kwargs)
    assert E.stale_records(records) == [0] and "f1_authors" not in set(results["metric"])
    assert records[0]["metrics"]["f1"] == fresh["f1"]  # the old record was used as it is
    results, records = E.run_rlad_grid("smoke", refresh_metrics=True, **kwargs)
    assert E.stale_records(records) == [] and set(E.TS_METRICS) <= set(results["metric"])
    assert records[0]["metrics"] == pytest.approx(fresh)


def test_claims_under_every_metric_from_a_synthetic_frame():
    # per metric: RLAD vs SPOT / Deep SAD on A1 at 1 % and 10 %; values chosen so each claim's verdict differs
    values = {  # metric -> (RLAD 1%, RLAD 10%, SPOT, Deep SAD 1%, Deep SAD 10%)
        "f1": (0.32, 0.85, 0.2, 0.1, 0.5),          # gain 0.6 holds; 0.85 ~ 0.8 holds; max ratio 3.2 < 10
        "f1_authors": (0.5, 0.95, 0.4, 0.05, 0.9),  # gain 0.25 fails; 0.95 fails; ratio 10 holds
        "vus_pr": (0.3, 0.7, 0.1, 0.01, 0.7),       # gain 2.0 holds; 0.7 holds (|0.1| <= 0.1); ratio 30
    }
    rows = []
    for metric, (r1, r10, spot, d1, d10) in values.items():
        for method, budget, v in (("RLAD", 0.01, r1), ("RLAD", 0.1, r10), ("SPOT", None, spot),
                                  ("Deep SAD", 0.01, d1), ("Deep SAD", 0.1, d10)):
            rows.append({"method": method, "dataset": "yahoo_a1", "budget": budget, "seed": 0,
                         "metric": metric, "value": v})
    claims = C.claims_by_metric(pd.DataFrame(rows), load_reported("rlad_claims"))
    assert list(claims.columns[:4]) == ["claim", "metric", "holds", "evidence"]
    assert len(claims) == len(load_reported("rlad_claims")) * len(C.CLAIM_METRICS)

    def verdict(text, metric):
        row = claims[claims["claim"].str.contains(text, regex=False) & (claims["metric"] == metric)]
        assert len(row) == 1
        return row.iloc[0]

    assert verdict("59%", "f1")["holds"] and verdict("59%", "f1")["ours"] == pytest.approx(0.6)
    assert not verdict("59%", "f1_authors")["holds"]
    assert verdict("59%", "vus_pr")["ours"] == pytest.approx(2.0)
    assert verdict("0.8 with 10%", "f1")["holds"] and not verdict("0.8 with 10%", "f1_authors")["holds"]
    dsad = {m: verdict("10x Deep SAD", m) for m in ("f1", "f1_authors", "vus_pr")}
    assert dsad["f1"]["ours"] == pytest.approx(3.2) and not dsad["f1"]["holds"]  # max(0.32/0.1, 0.85/0.5)
    assert dsad["f1_authors"]["ours"] == pytest.approx(10.0) and dsad["f1_authors"]["holds"]
    assert dsad["vus_pr"]["ours"] == pytest.approx(30.0) and "1%" in dsad["vus_pr"]["evidence"]
    # a metric absent from the results (range_f1 here) and benchmarks not run: "not run", holds NA
    assert (claims.loc[claims["metric"] == "range_f1", "status"] == "not run").all()
    assert (claims.loc[claims["dataset"] == "kpi", "status"] == "not run").all()
    assert claims.loc[claims["status"] == "not run", "holds"].isna().all()


# ---------------------------------------------------------------------------------------------
# the typed grid config (issue #18): same cells, same cache keys


@pytest.mark.parametrize("notebook, benchmarks", [("table2_yahoo", ("yahoo_a1", "yahoo_a2")),
                                                  ("table3_kpi", ("kpi",))])
def test_quick_cells_have_exactly_the_hashes_of_the_committed_results(notebook, benchmarks):
    from tests.conftest import REPO

    committed = pd.read_csv(REPO / "figures" / "rlad" / notebook / "results.csv")
    for protocol, rows in committed.groupby("protocol"):
        cells = E.RLADGridConfig.for_profile("quick", benchmarks=benchmarks, protocol=protocol).cells()
        assert sorted(config_hash(c) for c in cells) == sorted(set(rows["cell"])), protocol


def test_grid_config_is_validated_once_and_frozen():
    config = E.RLADGridConfig.for_profile("quick", benchmarks=("kpi",))
    assert config.sizes["kpi"] == (None, 20_000) and config.max_episodes == 100
    assert config.split_axis("kpi") == "time" and config.split_fraction == 0.2
    with pytest.raises(AttributeError):
        config.max_episodes = 5  # frozen
    series = E.RLADGridConfig.for_profile("smoke", protocol="authors_code")
    assert series.split_axis("yahoo_a1") == "series" and series.split_fraction == 0.1
    assert series.method_params("rlad", "kpi")["gamma"] == 1.0
    for bad in ({"max_episodes": 0}, {"max_series": 0}, {"test_fraction": 1.0}, {"seeds": (0.5,)},
                {"benchmarks": ("a3",)}, {"split_mode": "random"}):
        with pytest.raises(ValueError):
            E.RLADGridConfig.for_profile("smoke", **bad)
    # build_configs is the config's cells
    assert E.build_configs("smoke", data_sources=DEMO) == E.RLADGridConfig.for_profile(
        "smoke", data_sources=DEMO).cells()
