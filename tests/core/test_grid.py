"""Experiment grid: cache keys, atomic per-cell files, resume after interruption, failures, backends."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pytest

from semiad.core.cache import ResultCache, config_hash
from semiad.core.grid import cell_task, run_grid
from semiad.deep_sad import odds
from tests.conftest import requires_real_data

CALLS: list[int] = []


@cell_task("test_square")
def _square(config, runtime):
    CALLS.append(config["x"])
    if config.get("interrupt"):
        raise KeyboardInterrupt  # what Ctrl-C / a killed batch looks like from inside a cell
    if config.get("fail"):
        raise RuntimeError("boom")
    return {"metrics": {"y": config["x"] ** 2}}


def test_config_hash_depends_on_content_and_version():
    a = {"task": "t", "x": 1, "nested": {"b": 2, "a": 1}}
    b = {"nested": {"a": 1, "b": 2}, "x": 1, "task": "t"}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash({**a, "x": 2})
    assert config_hash(a, version="0.0.0") != config_hash(a)


def test_cache_reuses_finished_cells(tmp_path):
    CALLS.clear()
    cfgs = [{"task": "test_square", "x": i} for i in range(4)]
    recs = run_grid(_square, cfgs, backend="sequential", cache_root=tmp_path, progress=False)
    assert [r["metrics"]["y"] for r in recs] == [0, 1, 4, 9] and CALLS == [0, 1, 2, 3]
    recs2 = run_grid(_square, cfgs + [{"task": "test_square", "x": 5}], backend="sequential",
                     cache_root=tmp_path, progress=False)
    assert CALLS == [0, 1, 2, 3, 5]  # only the new cell ran
    assert recs2[-1]["metrics"]["y"] == 25
    files = list((tmp_path / "cells" / "test_square").glob("*.json"))
    assert len(files) == 5 and not list(tmp_path.rglob("*.tmp"))


def test_priority_orders_the_work_but_not_the_results(tmp_path):
    CALLS.clear()
    cfgs = [{"task": "test_square", "x": i} for i in range(4)]
    recs = run_grid(_square, cfgs, backend="sequential", cache_root=tmp_path, progress=False,
                    priority=lambda c: -c["x"])
    assert CALLS == [3, 2, 1, 0]  # submitted largest key first
    assert [r["metrics"]["y"] for r in recs] == [0, 1, 4, 9]  # returned in config order


def test_resume_after_interrupted_grid(tmp_path):
    CALLS.clear()
    cfgs = [{"task": "test_square", "x": i} for i in range(5)]
    broken = [dict(c, interrupt=True) if c["x"] == 3 else c for c in cfgs]
    with pytest.raises(KeyboardInterrupt):
        run_grid(_square, broken, backend="sequential", cache_root=tmp_path, progress=False)
    assert CALLS == [0, 1, 2, 3]
    cache = ResultCache(tmp_path)
    assert [cache.get(c) is not None for c in cfgs] == [True, True, True, False, False]
    CALLS.clear()
    recs = run_grid(_square, cfgs, backend="sequential", cache_root=tmp_path, progress=False)
    assert CALLS == [3, 4]  # finished cells were not recomputed
    assert [r["metrics"]["y"] for r in recs] == [0, 1, 4, 9, 16]


def test_failed_cell_is_recorded_with_traceback_and_retried(tmp_path):
    CALLS.clear()
    cfgs = [{"task": "test_square", "x": 1}, {"task": "test_square", "x": 2, "fail": True}]
    recs = run_grid(_square, cfgs, backend="sequential", cache_root=tmp_path, progress=False,
                    on_failure="record")
    assert recs[0]["status"] == "ok"
    assert recs[1]["status"] == "failed" and "boom" in recs[1]["error"]
    assert "Traceback" in recs[1]["traceback"] and "metrics" not in recs[1]
    failed_file = tmp_path / "failed" / "test_square" / f"{config_hash(cfgs[1])}.json"
    assert json.loads(failed_file.read_text())["status"] == "failed"
    run_grid(_square, cfgs, backend="sequential", cache_root=tmp_path, progress=False, on_failure="record")
    assert CALLS == [1, 2, 2]  # the failure is retried, the success is not


def test_grid_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="cell names task 'nope' but is run with 'test_square'"):
        run_grid(_square, [{"task": "nope"}], cache_root=tmp_path)
    with pytest.raises(TypeError, match="cell_task"):
        run_grid(lambda config, runtime: {}, [{"task": "test_square", "x": 1}], cache_root=tmp_path)
    with pytest.raises(ValueError, match="backend"):
        run_grid(_square, [{"task": "test_square", "x": 1}], backend="mpi", cache_root=tmp_path)


def test_run_odds_rejects_bad_inputs_before_computing():
    with pytest.raises(ValueError, match="unknown profile"):
        odds.run_odds("fast")
    with pytest.raises(ValueError, match="unknown ODDS dataset"):
        odds.build_configs("smoke", datasets=["mnist"])
    with pytest.raises(ValueError, match="labeled_anomaly_ratio"):
        odds.build_configs("smoke", labeled_anomaly_ratio=1.2)
    with pytest.raises(ValueError, match="unknown method"):
        odds.build_configs("smoke", methods=[odds.MethodSpec("X", "deep_sadd")])
    with pytest.raises(ValueError, match="unknown protocol"):
        odds.build_configs("smoke", gamma_l=0.1)


def _tiny_cells(method, params=()):
    spec = odds.MethodSpec("m", method, tuple(params))
    return odds.build_configs("smoke", datasets=["thyroid"], seeds=[0], methods=[spec])


def _run_odds(cfgs, **kwargs):
    """The ODDS grid's two tasks in order: autoencoders, then the method cells (as ``run_odds`` does)."""
    ae = [c for c in cfgs if c["task"] == "odds_ae"]
    if ae:
        run_grid(odds.pretrain_autoencoder_cell, ae, **kwargs)
    return run_grid(odds.odds_cell, [c for c in cfgs if c["task"] == "odds"], **kwargs)


@requires_real_data
def test_odds_cell_is_deterministic_on_cpu(tmp_path):
    cfgs = _tiny_cells("deep_sad", [("eta", 1.0)])
    rt = {"device": "cpu"}
    a = _run_odds(cfgs, backend="sequential", runtime=rt, cache_root=tmp_path / "a", progress=False)
    b = _run_odds(cfgs, backend="sequential", runtime=rt, cache_root=tmp_path / "b", progress=False)
    assert a[-1]["status"] == "ok", a[-1].get("traceback")
    assert a[-1]["metrics"]["auc"] == b[-1]["metrics"]["auc"]


@requires_real_data
def test_loky_and_dask_backends_give_the_sequential_result(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfgs = _tiny_cells("supervised")
    seq = _run_odds(cfgs, backend="sequential", cache_root=tmp_path / "s", progress=False)
    loky = _run_odds(cfgs, backend="loky", n_jobs=2, cache_root=tmp_path / "l", progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        dask = _run_odds(cfgs, backend="dask", n_jobs=2, cache_root=tmp_path / "d", progress=False)
    aucs = [r[-1]["metrics"]["auc"] for r in (seq, loky, dask)]
    assert aucs[0] == aucs[1] == aucs[2]
    assert 0 <= aucs[0] <= 1


def test_backend_that_cannot_stream_returns_all_records_in_order(tmp_path, monkeypatch):
    """Ray's joblib backend is a ``MultiprocessingBackend``, which refuses ``return_as="generator*"``:
    ``run_grid`` then takes the records as one ordered list. joblib's own ``MultiprocessingBackend``,
    registered here under the name "ray", stands in for it where ray is not installed."""
    from joblib._parallel_backends import MultiprocessingBackend

    assert not MultiprocessingBackend().supports_return_generator
    monkeypatch.setitem(joblib.parallel.BACKENDS, "ray", MultiprocessingBackend)
    cfgs = [{"task": "test_square", "x": i} for i in range(5)]
    recs = run_grid(_square, cfgs, n_jobs=2, backend="ray", cache_root=tmp_path, progress=False)
    assert [r["metrics"]["y"] for r in recs] == [0, 1, 4, 9, 16]
    assert all(ResultCache(tmp_path).get(c) is not None for c in cfgs)


def test_ray_backend_unregistered_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.delitem(joblib.parallel.BACKENDS, "ray", raising=False)
    with pytest.raises(ValueError, match="register_ray.*dask"):
        run_grid(_square, [{"task": "test_square", "x": 1}, {"task": "test_square", "x": 2}], n_jobs=2,
                 backend="ray", cache_root=tmp_path, progress=False)


@requires_real_data
def test_ray_backend_gives_the_sequential_result(tmp_path):
    """Optional: runs where ray is installed (not pinned: a 79 MB wheel; tested with ray 2.60.0)."""
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    cfgs = _tiny_cells("supervised")
    seq = _run_odds(cfgs, backend="sequential", cache_root=tmp_path / "s", progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        via_ray = _run_odds(cfgs, backend="ray", n_jobs=2, cache_root=tmp_path / "r", progress=False)
    finally:
        ray.shutdown()
    assert via_ray[-1]["status"] == "ok" and via_ray[-1]["metrics"] == seq[-1]["metrics"]
    assert ResultCache(tmp_path / "r").get(cfgs[-1]) is not None


@requires_real_data
def test_odds_smoke_grid_results_are_sane(tmp_path):
    df = odds.run_odds("smoke", datasets=["thyroid"], seeds=[0], n_jobs=1,
                       cache_root=str(tmp_path), progress=False)
    auc = df[df.metric == "auc"]
    assert (df.status == "ok").all()
    assert set(auc.method) == {m.label for m in odds.TABLE2_METHODS}
    assert auc.value.between(0, 1).all() and auc.value.nunique() > 1
    assert set(df.columns) >= {"method", "dataset", "setting", "seed", "metric", "value"}
    assert np.isfinite(df[df.metric == "selected_gamma"].value).all()


@requires_real_data
def test_hybrid_and_cae_cells_reuse_the_cached_autoencoder(tmp_path, monkeypatch):
    specs = [m for m in odds.ALL_METHODS if m.label in ("IF Hybrid", "CAE", "SSAD Hybrid")]
    cfgs = odds.build_configs("smoke", datasets=["thyroid"], seeds=[0], methods=specs)
    ae_cfgs = [c for c in cfgs if c["task"] == "odds_ae"]
    assert len(ae_cfgs) == 1 and all(c["ae"] == ae_cfgs[0] for c in cfgs if c["task"] == "odds")
    run_grid(odds.pretrain_autoencoder_cell, ae_cfgs, backend="sequential", cache_root=tmp_path,
             progress=False)

    def no_training(*args, **kwargs):
        raise AssertionError("the autoencoder was retrained instead of loaded from the cache")

    monkeypatch.setattr(odds, "train_autoencoder", no_training)
    recs = run_grid(odds.odds_cell, [c for c in cfgs if c["task"] == "odds"], backend="sequential",
                    cache_root=tmp_path, progress=False)
    assert [r["status"] for r in recs] == ["ok"] * 3, [r.get("error") for r in recs]
    ae = odds.cached_autoencoder(ae_cfgs[0], {"cache_root": str(tmp_path)})
    assert not ae.training and ae.encoder.rep_dim == 4  # thyroid: 32-16-4 (App. D)
