"""Cluster paths (issue 19, docs/cluster.md): Dask on a LocalCluster of worker processes and submitit job
arrays on its local executor both fill the notebooks' JSON cache; the notebook then computes nothing."""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

import pytest

from semiad import grids
from semiad.core import cluster, grid
from semiad.core.cache import ResultCache, config_hash
from semiad.core.grid import CellsFailedError, cell_task, run_grid
from semiad.deep_sad import odds
from tests.conftest import REPO, requires_real_data


@cell_task("test_cluster_square")
def _square(config: dict, runtime: dict) -> dict:
    if config.get("fail"):
        raise RuntimeError("boom")
    time.sleep(config.get("sleep", 0.0))
    return {"metrics": {"y": float(config["x"] ** 2)}, "info": {"pid": os.getpid()}}


def _cells(n: int, **extra) -> list[dict]:
    return [{"task": "test_cluster_square", "x": i, **extra} for i in range(n)]


def _snapshot(root: Path) -> dict[str, int]:
    """Every cell file under ``root`` with its modification time (a rewrite changes it)."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in (root / "cells").rglob("*.json")}


def _refuse_compute(monkeypatch) -> None:
    """From here on, computing any cell in this process (or shipping run_cell to a worker) fails."""
    def refuse(*args, **kwargs):
        raise AssertionError("a cell was computed on a warm cache")
    monkeypatch.setattr(grid, "run_cell", refuse)


# ------------------------------------------------------------------------------------------ helpers
def test_pending_cells_skips_cached_and_duplicate_cells(tmp_path):
    cfgs = _cells(4)
    run_grid(_square, cfgs[:2], backend="sequential", cache_root=tmp_path, progress=False)
    assert cluster.pending_cells(cfgs + [dict(cfgs[3])], tmp_path) == cfgs[2:]
    assert [len(c) for c in cluster.chunked(_cells(7), 3)] == [3, 3, 1]
    with pytest.raises(ValueError, match="chunk_size"):
        cluster.chunked(cfgs, 0)


# ------------------------------------------------------------------------------------------ Dask
@pytest.fixture(scope="module")
def dask_client():
    """A LocalCluster of 3 worker processes (1 thread each): the shape of a SLURMCluster on one node."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as lc, distributed.Client(lc) as client:
        client.wait_for_workers(3)
        yield client


def test_dask_local_cluster_fills_the_shared_cache(dask_client, tmp_path, monkeypatch):
    cfgs = _cells(9, sleep=0.3)
    recs = run_grid(_square, cfgs, n_jobs=3, backend="dask", cache_root=tmp_path, progress=False)
    assert [r["metrics"]["y"] for r in recs] == [float(i * i) for i in range(9)]
    pids = {r["info"]["pid"] for r in recs}
    assert os.getpid() not in pids and len(pids) >= 2  # computed by several worker processes
    files = _snapshot(tmp_path)
    assert len(files) == 9 and all(ResultCache(tmp_path).get(c) is not None for c in cfgs)
    _refuse_compute(monkeypatch)
    again = run_grid(_square, cfgs, n_jobs=3, backend="dask", cache_root=tmp_path, progress=False)
    assert [{k: v for k, v in r.items() if k != "checksum"} for r in again] == recs  # the stored records
    assert _snapshot(tmp_path) == files


SMOKE_METHODS = [m for m in odds.TABLE2_METHODS if m.label in
                 ("Deep SAD", "OC-SVM Hybrid (nu=0.1)", "Deep SVDD (one-class)", "Supervised Classifier")]
SMOKE_GRID = {"datasets": ["thyroid"], "seeds": [0, 1], "methods": SMOKE_METHODS}


@pytest.fixture(scope="module")
def odds_reference(tmp_path_factory):
    """The ODDS smoke cells (2 autoencoders, 8 method cells) run one after another: what every engine must
    reproduce."""
    stages = grids.odds_grid("smoke", **SMOKE_GRID)
    root = tmp_path_factory.mktemp("sequential")
    records = cluster.run_stages(stages, backend="sequential", runtime={"device": "cpu"}, cache_root=root,
                                 progress=False)
    assert all(r["status"] == "ok" for rs in records for r in rs)
    return stages, {r["hash"]: r["metrics"] for rs in records for r in rs}


def _notebook_on_warm_cache(root: Path, reference: dict[str, dict], monkeypatch) -> None:
    """What the notebook runs (``run_odds``) on ``root``: no cell computed, the engine's numbers."""
    files = _snapshot(root)
    _refuse_compute(monkeypatch)
    df = odds.run_odds("smoke", **SMOKE_GRID, device="cpu", cache_root=str(root), progress=False)
    auc = df[df.metric == "auc"]
    assert len(auc) == 8 and dict(zip(auc.cell, auc.value, strict=True)) == {
        h: m["auc"] for h, m in reference.items() if "auc" in m}
    assert _snapshot(root) == files


@requires_real_data
def test_dask_odds_cells_equal_the_sequential_run_and_warm_the_notebook(dask_client, odds_reference, tmp_path,
                                                                       monkeypatch):
    stages, reference = odds_reference
    records = cluster.run_stages(stages, backend="dask", n_jobs=3, runtime={"device": "cpu"},
                                 cache_root=tmp_path, progress=False)
    assert {r["hash"]: r["metrics"] for rs in records for r in rs} == reference
    assert len(_snapshot(tmp_path)) == 10
    _notebook_on_warm_cache(tmp_path, reference, monkeypatch)


# ------------------------------------------------------------------------------------------ submitit
@pytest.fixture
def local_executor(tmp_path, monkeypatch):
    """submitit's local executor (the same AutoExecutor as on SLURM, ``cluster="local"``); its jobs are
    fresh Python processes that must import this test module."""
    submitit = pytest.importorskip("submitit")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    executor = submitit.AutoExecutor(folder=tmp_path / "submitit", cluster="local")
    executor.update_parameters(timeout_min=5)
    return executor


def test_submitit_job_array_fills_the_cache_and_resubmits_only_missing_cells(local_executor, tmp_path):
    root = tmp_path / "cache"
    cfgs = _cells(7) + [{"task": "test_cluster_square", "x": 7, "fail": True}]
    jobs = cluster.submit_cells(_square, cfgs, local_executor, chunk_size=4, cache_root=root)
    assert len(jobs) == 2
    with pytest.raises(CellsFailedError, match="(?s)1 cell\\(s\\) failed.*boom"):
        cluster.collect(jobs, cache_root=root)
    recs = cluster.collect(jobs, on_failure="record")
    assert [r["status"] for r in recs] == ["ok"] * 7 + ["failed"]
    assert [r["metrics"]["y"] for r in recs[:7]] == [float(i * i) for i in range(7)]
    pids = [r["info"]["pid"] for r in recs[:7]]
    assert len(set(pids)) == 2 and os.getpid() not in pids  # one process per array task
    assert len(set(pids[:4])) == 1 and pids[3] != pids[4]  # consecutive cells share a chunk
    assert len(_snapshot(root)) == 7 and len(list((root / "failed").rglob("*.json"))) == 1
    assert cluster.pending_cells(cfgs, root) == cfgs[-1:]  # a resubmission would retry the failed cell only


@requires_real_data
def test_submitit_odds_stages_equal_the_sequential_run_and_warm_the_notebook(local_executor, odds_reference,
                                                                            tmp_path, monkeypatch):
    stages, reference = odds_reference
    records = cluster.submit_stages(stages, local_executor, chunk_size=8, runtime={"device": "cpu"},
                                    cache_root=tmp_path, verbose=False)
    assert [len(rs) for rs in records] == [2, 8]
    assert {r["hash"]: r["metrics"] for rs in records for r in rs} == reference
    _notebook_on_warm_cache(tmp_path, reference, monkeypatch)
    assert cluster.submit_stages(stages, local_executor, cache_root=tmp_path, verbose=False) == [[], []]


# ------------------------------------------------------------------------------------------ the papers' grids
def _notebook_grid_calls(monkeypatch, module, run, *args, **kwargs) -> list[tuple]:
    """The (task, configs) that ``run`` (a notebook's ``run_*`` function) hands to ``run_grid``, recorded
    without computing: every cell gets a stand-in record."""
    calls = []

    def record(task, configs, **_):
        calls.append((task, list(configs)))
        return [{"config": c, "hash": config_hash(c), "status": "ok", "metrics": {"auc": 0.5, "f1": 0.5},
                 "info": {}, "runtime_s": 0.0} for c in configs]

    monkeypatch.setattr(module, "run_grid", record)
    try:
        run(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a results table may not build from stand-in records; the calls are made
        pass
    return calls


def _grid_cases():
    from semiad.dads import grid as dads
    from semiad.deep_sad import images as deep_sad_images
    from semiad.residual_rl import grid as residual
    from semiad.rlad import grid as rlad
    from semiad.uainets import grid as uainets

    return {
        "odds": (odds, odds.run_odds, grids.odds_grid, ("smoke",), {"datasets": ["thyroid"], "seeds": [0]}),
        "images (i)": (deep_sad_images, deep_sad_images.run_scenario, grids.image_scenario_grid,
                       ("labeled", "smoke"), {"datasets": ["mnist"]}),
        "images eta": (deep_sad_images, deep_sad_images.run_sensitivity, grids.image_sensitivity_grid,
                       ("eta", "smoke"), {"datasets": ["mnist"]}),
        "dads": (dads, dads.run_dads_grid, grids.dads_grid, ("smoke",), {}),
        "rlad": (rlad, rlad.run_rlad_grid, grids.rlad_grid, ("smoke",), {}),
        "uainets": (uainets, uainets.run_uainets_grid, grids.uainets_grid,
                    ("smoke", ["thyroid"], ["dae_uai", "loda_aad"]), {}),
        "residual": (residual, residual.run_residual_grid, grids.residual_grid, ("smoke",), {}),
    }


@requires_real_data
@pytest.mark.parametrize("case", ["odds", "images (i)", "images eta", "dads", "rlad", "uainets", "residual"])
def test_grid_stages_are_the_notebooks_cells(case, monkeypatch):
    module, run, stages_of, args, kwargs = _grid_cases()[case]
    stages = stages_of(*args, **kwargs)
    calls = _notebook_grid_calls(monkeypatch, module, run, *args, **kwargs)
    assert [t for t, _ in calls] == [t for t, _ in stages]
    for (_, got), (_, want) in zip(calls, stages, strict=True):
        assert {config_hash(c) for c in got} == {config_hash(c) for c in want} and want


# ------------------------------------------------------------------------------------------ SLURM recipes
def test_dask_jobqueue_slurm_recipe_renders_its_job_script():
    """The docs/cluster.md SLURMCluster recipe, checked against the pinned dask-jobqueue (no SLURM needed
    to render the job script; nothing is submitted)."""
    jobqueue = pytest.importorskip("dask_jobqueue")
    with jobqueue.SLURMCluster(cores=8, processes=8, memory="32GB", walltime="04:00:00", queue="cpu",
                               job_script_prologue=["source /shared/semiad/.venv/bin/activate",
                                                    "export SEMIAD_RESULTS_DIR=/shared/semiad-results"],
                               scheduler_options={"dashboard_address": None}) as slurm:
        script = slurm.job_script()
    for line in ("#SBATCH -p cpu", "#SBATCH --cpus-per-task=8", "#SBATCH -t 04:00:00",
                 "source /shared/semiad/.venv/bin/activate",
                 "export SEMIAD_RESULTS_DIR=/shared/semiad-results"):
        assert line in script
    assert "--nthreads 1" in script and "--nworkers 8" in script  # 8 one-thread worker processes per job


def test_submitit_slurm_recipe_submits_one_job_array(tmp_path, monkeypatch):
    """The docs/cluster.md submitit recipe against fake ``srun``/``sbatch`` commands: one sbatch call, one
    array task per chunk, the chunks' cells in the pickled submissions."""
    submitit = pytest.importorskip("submitit")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "sbatch").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/sbatch.log\n'
                                    'echo "Submitted batch job 4242"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    executor = submitit.AutoExecutor(folder=tmp_path / "logs" / "%j", cluster="slurm")
    executor.update_parameters(timeout_min=240, cpus_per_task=8, mem_gb=32, slurm_partition="cpu",
                               slurm_array_parallelism=50, name="semiad-grid",
                               slurm_setup=["source /shared/semiad/.venv/bin/activate"])
    cfgs = _cells(5)
    jobs = cluster.submit_cells(_square, cfgs, executor, chunk_size=2, n_jobs=8, cache_root=tmp_path / "c")
    assert [j.job_id for j in jobs] == ["4242_0", "4242_1", "4242_2"]
    assert len((tmp_path / "sbatch.log").read_text().splitlines()) == 1  # one array, one sbatch call
    script = (tmp_path / "logs" / "4242" / "4242_submission.sh").read_text()
    for line in ("#SBATCH --array=0-2%3", "#SBATCH --cpus-per-task=8", "#SBATCH --partition=cpu",
                 "source /shared/semiad/.venv/bin/activate"):
        assert line in script
    chunks = [j.submission().args for j in jobs]
    assert [c[1] for c in chunks] == [cfgs[:2], cfgs[2:4], cfgs[4:]]
    assert {c[3] for c in chunks} == {str((tmp_path / "c").resolve())} and {c[4] for c in chunks} == {8}


# ------------------------------------------------------------------------------------------ GPU benchmark
@requires_real_data
def test_gpu_image_grid_benchmark_runs_in_smoke_mode(capsys):
    """benchmarks/gpu_image_grid.py, tiny, on the CPU: both paths run, the same AUCs, an extrapolation."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        bench = importlib.import_module("gpu_image_grid")
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    bench.main(["--device", "cpu", "--smoke"])
    out = capsys.readouterr().out
    assert "one-model" in out and "stacked" in out and "EXTRAPOLATED hours" in out
    table = out[out.index("path device"):out.index("step-time ratio")].splitlines()[1:3]
    assert len({row.split()[-1] for row in table}) == 1  # the same mean AUC on both paths
