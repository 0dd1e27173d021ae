"""UaiNets schedule studies: the cold-start rule in a cell, collapse counting and the study tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from semiad.uainets import grid as U
from semiad.uainets import schedule as S


def _tidy(values: dict[tuple[str, str], list[float]], by: str = "method") -> pd.DataFrame:
    rows = [{"dataset": d, by: m, "seed": i, "metric": "f1", "value": v, "status": "ok"}
            for (d, m), vals in values.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows)


def test_collapse_summary_counts_seeds_below_half_the_median():
    res = _tidy({("covtype", "DAE_uai"): [0.0, 0.62, 0.65, 0.70, 0.30],
                 ("yeast", "DAE_uai"): [0.0, 0.0, 0.1]})
    out = S.collapse_summary(res).set_index("dataset")
    assert out.loc["covtype", "collapsed"] == 2 and out.loc["covtype", "median"] == 0.62
    assert out.loc["covtype", "n"] == 5 and np.isclose(out.loc["covtype", "mean"], 0.454)
    assert out.loc["yeast", "collapsed"] == 0  # a median of 0 collapses nothing


def test_schedule_table_and_verdict_compare_with_table1():
    res = _tidy({("abalone", "default"): [0.5, 0.6], ("abalone", "literal cold start"): [0.2, 0.2],
                 ("yeast", "default"): [0.3, 0.4], ("yeast", "literal cold start"): [0.3, 0.35]},
                by="schedule")
    tab = S.schedule_table(res).set_index(["dataset", "schedule"])
    assert tab.loc[("abalone", "default"), "paper"] == 0.55 and tab.loc[("abalone", "default"), "agrees"]
    assert not tab.loc[("abalone", "literal cold start"), "agrees"]
    verdict = S.schedule_verdict(tab.reset_index()).set_index("schedule")
    assert verdict.loc["default", "within_0_10"] == 2
    assert verdict.loc["literal cold start", "within_0_10"] == 1


def test_schedules_are_typed_and_reach_the_cell_configs():
    assert S.SCHEDULES["default"] == S.UaiSchedule(U.DEFAULT_COLD_START, True)
    lit = S.SCHEDULES["paper literal"]
    cfg = U.build_configs("smoke", ["thyroid"], ["dae_uai", "tree_aad"], budget=None,
                          cold_start=lit.cold_start, wait_for_both_classes=lit.wait_for_both_classes)
    uai = next(c for c in cfg if c["method"] == "dae_uai")
    assert U.ColdStart.from_params(uai["params"]) == U.LITERAL_COLD_START
    assert uai["params"]["wait_for_both_classes"] is False
    assert "cold_start_calls" not in next(c for c in cfg if c["method"] == "tree_aad")["params"]
    assert "10 calls" in lit.name and "one class" in lit.name


def test_a_cell_applies_the_cold_start_reading_to_its_budget(tmp_path):
    """On Abalone (real, else its demo stand-in) with b = #anomalies and k = 3, the cell records the
    cold start it used."""
    rt = {"cache_root": str(tmp_path), "on_missing": "demo"}
    sources = U.dataset_sources(["abalone"], None, "demo")
    out = {}
    for label, cs in U.COLD_START_READINGS.items():
        cfg = U.build_configs("smoke", ["abalone"], ["dae_uai"], budget=None, data_sources=sources,
                              cold_start=cs)[0]
        rec = U.uainets_cell(cfg, rt)
        n_anom, k = rec["info"]["n_anomalies"], rec["info"]["k"]
        out[label] = (rec["info"]["cold_start_rounds"], cs.rounds(n_anom, k))
    assert out["literal"][0] == 10 == out["literal"][1]
    assert out["fraction"][0] == out["fraction"][1] < 10


def test_collapse_trace_replays_the_cell_and_locates_stalls(tmp_path, monkeypatch):
    """The trace of a run audits exactly what the grid cell audits (same seed, same schedule)."""
    monkeypatch.setenv("SEMIAD_RESULTS_DIR", str(tmp_path))
    sources = U.dataset_sources(["abalone"], None, "demo")
    sch = S.SCHEDULES["default"]
    cfg = U.build_configs("smoke", ["abalone"], ["dae_uai"], budget=None, data_sources=sources)[0]
    rec = U.uainets_cell(cfg, {"cache_root": str(tmp_path), "on_missing": "demo"})
    if sources["abalone"] == "demo":
        return  # collapse_trace reads the real file (it is an analysis of real runs)
    trace = S.collapse_trace("smoke", "abalone", 0, sch, pool_cap=cfg["pool_cap"], cache_root=str(tmp_path))
    assert trace["ranks_by"].iloc[-1] == "end" and trace["found"].is_monotonic_increasing
    assert trace["found"].iloc[-1] == rec["metrics"]["found"]
    assert (trace["ranks_by"].iloc[:-1] == "s").sum() >= rec["info"]["cold_start_rounds"]
    picked = [i for p in trace["picked"].iloc[:-1] for i in p]
    assert len(picked) == len(set(picked)) == rec["metrics"]["budget"]
    dist = S.stall_distances("smoke", "abalone", 0, trace, pool_cap=cfg["pool_cap"])
    assert list(dist["items"]) == ["normals audited during the longest stall",
                                   "random normal items of the pool"]
    assert (dist["median distance to nearest anomaly"].dropna() >= 0).all()
