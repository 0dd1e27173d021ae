"""UaiNets baseline-miss analyses: quick-vs-paper tables, Tree-AAD settings, the misses table."""

from __future__ import annotations

import pandas as pd

from semiad.uainets import real as R
from semiad.uainets import reduction as B


def _rows(profile: str, cells: dict[tuple[str, str], list[float]]) -> list[dict]:
    return [{"dataset": d, "method": m, "seed": i, "metric": metric, "value": v, "status": "ok",
             "profile": profile, "setting": "x", "error": ""}
            for (d, m), vals in cells.items() for i, v in enumerate(vals)
            for metric in ("precision", "recall", "f1")]


def test_reduction_table_says_which_profile_is_closer_to_the_paper():
    quick = {("thyroid", "DAGMM (clean)"): [0.1, 0.1], ("thyroid", "DAE"): [0.3, 0.3]}
    paper = {("thyroid", "DAGMM (clean)"): [0.4, 0.5], ("thyroid", "DAE"): [0.4, 0.4]}
    study = pd.DataFrame(_rows("quick", quick) + _rows("paper", paper))
    tab = B.reduction_table(study).set_index("method")
    assert tab.loc["DAGMM (clean)", "paper"] == 0.44 and tab.loc["DAGMM (clean)", "closer"] == "paper profile"
    assert tab.loc["DAE", "paper"] == 0.09 and tab.loc["DAE", "closer"] == "quick profile"


def test_misses_table_lists_every_miss_with_its_measurements():
    res = pd.DataFrame(_rows("quick", {("thyroid", "DAGMM (clean)"): [0.1, 0.1],
                                       ("thyroid", "Tree-AAD"): [0.6, 0.6],
                                       ("thyroid", "DAE_uai"): [0.57, 0.58]}))
    t1 = R.table1_comparison(res, datasets=["thyroid"])
    study = pd.DataFrame(_rows("quick", {("thyroid", "DAGMM (clean)"): [0.1, 0.1]})
                         + _rows("paper", {("thyroid", "DAGMM (clean)"): [0.4, 0.5]}))
    aad = pd.DataFrame([{"dataset": "thyroid", "seed": 0, "setting": s, "metric": "f1", "value": v,
                         "status": "ok"} for s, v in (("ours", 0.6), ("C_a = 1", 0.8))])
    miss = B.misses_table(t1, study, aad).set_index("method")
    assert "DAE_uai" not in miss.index  # within 0.10
    assert "paper profile 0.45 vs quick 0.10" in miss.loc["DAGMM (clean)", "measured"]
    assert "C_a = 1 0.80" in miss.loc["Tree-AAD", "measured"]
    assert "ad_examples" in miss.loc["Tree-AAD", "documented difference"]


def test_aad_settings_study_runs_each_setting_on_the_grid_pool():
    from semiad.uainets import grid as U

    if U.dataset_sources(["abalone"], None, "demo")["abalone"] != "real":
        return  # a study of the real sets
    st = B.aad_settings_study("smoke", ["abalone"], seeds=(0,))
    assert set(st["setting"]) == set(B.TREE_AAD_SETTINGS) and st["value"].between(0, 1).all()
    tab = B.aad_settings_table(st)
    assert tab.loc[0, "paper"] == 0.53
