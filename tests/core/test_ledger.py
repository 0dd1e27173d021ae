"""The cell ledger behind run_all's per-notebook accounting (semiad.core.ledger)."""

from __future__ import annotations

import time

from semiad.core.batch import NotebookRun, account_shared, format_summary, summary_rows, write_summary_csv
from semiad.core.grid import cell_task, run_grid
from semiad.core.ledger import ENV_VAR, CellCost, summarize


@cell_task("test_sleep")
def _sleep(config, runtime):
    time.sleep(config["s"])
    return {"metrics": {"s": config["s"]}}


def test_ledger_counts_computed_and_cached_cells_across_workers(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cfgs = [{"task": "test_sleep", "s": s} for s in (0.05, 0.1)]
    first = tmp_path / "first.jsonl"
    monkeypatch.setenv(ENV_VAR, str(first))
    run_grid(_sleep, cfgs, n_jobs=2, cache_root=cache, progress=False)  # loky workers inherit the file
    cost = summarize(first)
    assert (cost.cells, cost.computed) == (2, 2)
    assert 0.15 <= cost.cpu_s < 2.0 and cost.cached_cpu_s == 0.0

    second = tmp_path / "second.jsonl"
    monkeypatch.setenv(ENV_VAR, str(second))
    more = cfgs + [{"task": "test_sleep", "s": 0.0}]
    run_grid(_sleep, more + more, backend="sequential", cache_root=cache, progress=False)
    warm = summarize(second)
    assert (warm.cells, warm.computed) == (3, 1)  # repeated configs count once
    assert abs(warm.cached_cpu_s - cost.cpu_s) < 1e-9  # what the cache saved = what the first run spent


def test_no_ledger_without_the_variable_and_absent_file_is_empty(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    run_grid(_sleep, [{"task": "test_sleep", "s": 0.0}], backend="sequential", cache_root=tmp_path,
             progress=False)
    assert not list(tmp_path.glob("*.jsonl"))
    assert summarize(tmp_path / "absent.jsonl") == CellCost(0, 0, 0.0, 0.0)


def test_summary_estimates_the_cold_time_from_cached_cells(tmp_path):
    base = tmp_path / "notebooks"
    warm = NotebookRun(base / "a" / "x.ipynb", "ok", 1.0, 5, None, cells=CellCost(10, 2, 600.0, 120.0),
                       workers=2)
    assert warm.cold_minutes == 1.0 + 480.0 / 60.0 / 2  # cached 8 CPU-min over 2 workers
    rows = summary_rows([warm], base)
    assert rows[0] == {"notebook": "a/x.ipynb", "status": "ok", "minutes": 1.0, "artifacts": 5, "cells": 10,
                       "computed": 2, "cell_cpu_min": 10.0, "shared_cpu_min": 0.0, "cold_est_min": 5.0}
    assert "estimated from an empty cache: 5.0 min" in format_summary([warm], base)
    path = write_summary_csv([warm], tmp_path / "s.csv", base)
    assert path.read_text().splitlines()[1] == "a/x.ipynb,ok,1.0,5,10,2,10.0,0.0,5.0"


def test_a_cell_shared_by_notebooks_counts_once_where_first_used(tmp_path):
    def run(name, costs, computed=()):
        cost = CellCost(len(costs), len(computed), sum(costs.values()), sum(costs[h] for h in computed),
                        runtime_s=costs, computed_hashes=frozenset(computed))
        return NotebookRun(tmp_path / name, "ok", 0.0, 0, None, cells=cost, workers=1)

    first = run("t2.ipynb", {"a": 60.0, "b": 60.0})
    second = run("t6.ipynb", {"a": 60.0, "b": 60.0, "c": 120.0})  # t6 reuses t2's cells and adds c
    third = run("x.ipynb", {"c": 120.0, "d": 60.0}, computed=("d",))  # d computed now: in its minutes
    account_shared([first, second, third])
    assert [r.shared_cpu_s for r in (first, second, third)] == [0.0, 120.0, 120.0]
    assert [r.cold_minutes for r in (first, second, third)] == [2.0, 2.0, 0.0]


def test_workers_follow_joblib_n_jobs(monkeypatch):
    from semiad.core import batch

    monkeypatch.setattr(batch.os, "cpu_count", lambda: 8)
    assert [batch._workers(n) for n in (2, 1, -1, -2, None, 0, "x")] == [2, 1, 8, 7, 1, 1, 1]
