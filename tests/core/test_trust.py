"""Trustworthy runs (issue 21): a validated cache, failures that fail, bad input refused up front."""

from __future__ import annotations

import json

import numpy as np
import pytest

from semiad.core.cache import CacheWarning, ResultCache
from semiad.core.grid import CellsFailedError, cell_task, run_grid
from semiad.deep_sad.odds import make_detector

CALLS: list[int] = []


@cell_task("test_trust_square")
def _square(config, runtime):
    CALLS.append(config["x"])
    if config.get("fail"):
        raise RuntimeError("boom")
    return {"metrics": {"y": float(config["x"] ** 2)}}


CFG = {"task": "test_trust_square", "x": 3, "dataset": "a"}


def _warm(tmp_path):
    run_grid(_square, [CFG], backend="sequential", cache_root=tmp_path, progress=False)
    return ResultCache(tmp_path).cell_path(CFG)


@pytest.mark.parametrize("tamper", ["empty_list", "not_json", "edited_metric", "other_dataset",
                                    "no_checksum", "string_metric"])
def test_tampered_cache_file_is_named_and_recomputed(tmp_path, tamper):
    path = _warm(tmp_path)
    record = json.loads(path.read_text())
    if tamper == "empty_list":
        path.write_text("[]")
    elif tamper == "not_json":
        path.write_text('{"config": ')
    elif tamper == "edited_metric":
        record["metrics"]["y"] = 0.5
        path.write_text(json.dumps(record))
    elif tamper == "other_dataset":
        record["config"]["dataset"] = "b"
        path.write_text(json.dumps(record))
    elif tamper == "no_checksum":
        del record["checksum"]
        path.write_text(json.dumps(record))
    else:
        record["metrics"]["y"] = "9"
        path.write_text(json.dumps(record))
    CALLS.clear()
    with pytest.warns(CacheWarning, match=str(path.name)):
        recs = run_grid(_square, [CFG], backend="sequential", cache_root=tmp_path, progress=False)
    assert CALLS == [3] and recs[0]["metrics"]["y"] == 9.0
    assert ResultCache(tmp_path).get(CFG) is not None  # rewritten, valid again


def test_untouched_cache_file_is_reused(tmp_path):
    _warm(tmp_path)
    CALLS.clear()
    recs = run_grid(_square, [CFG], backend="sequential", cache_root=tmp_path, progress=False)
    assert CALLS == [] and recs[0]["metrics"]["y"] == 9.0


def test_failed_cells_raise_after_the_others_are_cached(tmp_path):
    cfgs = [CFG, {**CFG, "x": 4, "fail": True}]
    with pytest.raises(CellsFailedError, match="(?s)1 cell\\(s\\) failed.*boom"):
        run_grid(_square, cfgs, backend="sequential", cache_root=tmp_path, progress=False)
    assert ResultCache(tmp_path).get(CFG) is not None


@pytest.mark.parametrize("device", ["tpu", "gpu0", "meta"])
def test_bad_device_is_refused_before_any_cell(tmp_path, device):
    CALLS.clear()
    with pytest.raises(ValueError, match="device"):
        run_grid(_square, [CFG], backend="sequential", cache_root=tmp_path, progress=False,
                 runtime={"device": device})
    assert CALLS == []


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(60, 4)).astype(np.float32), np.r_[np.zeros(57), -np.ones(3)].astype(int)


def test_y_semi_must_be_integral_labels():
    X, y = _data()
    det = make_detector("deep_sad", hidden_dims=(8,), rep_dim=2, n_epochs=1, pretrain=False, device="cpu")
    with pytest.raises(ValueError, match="non-integer values \\[0.5\\]"):
        det.fit(X, np.where(y == -1, 0.5, 0.0))
    with pytest.raises(ValueError, match="integers"):
        det.fit(X, np.array(["a"] * len(X)))
    det.fit(X, y.astype(float))  # integral floats are fine


@pytest.mark.parametrize("method", ["deep_sad", "ocsvm", "iforest", "kde"])
def test_one_row_scoring_and_feature_count_message(method):
    X, y = _data()
    params = {"hidden_dims": (8,), "rep_dim": 2, "n_epochs": 1, "pretrain": False, "device": "cpu"} \
        if method == "deep_sad" else {}
    det = make_detector(method, **params).fit(X, y)
    one = det.decision_function(X[:1])
    assert one.shape == (1,)
    np.testing.assert_allclose(one, det.decision_function(X)[:1], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="fitted on 4 features, X has 3"):
        det.decision_function(X[:, :3])


def test_resolve_on_missing_rules(tmp_path, monkeypatch, capsys):
    from semiad.core import provenance

    monkeypatch.delenv("SEMIAD_DATA_DIR", raising=False)
    provenance.reset()
    assert provenance.resolve_on_missing("auto") == "demo" and provenance.demo_active()
    assert "DEMO DATA" in capsys.readouterr().out
    provenance.reset()
    assert provenance.resolve_on_missing("auto", tmp_path) == "error" and not provenance.demo_active()
    assert provenance.resolve_on_missing("error", tmp_path) == "error"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        provenance.resolve_on_missing("auto", tmp_path / "nope")
    with pytest.raises(ValueError, match="on_missing_data"):
        provenance.resolve_on_missing("maybe")
    assert provenance.output_subdir("quick", False) is None
    assert provenance.output_subdir("smoke", False) == "smoke"
    assert provenance.output_subdir("quick", True) == "quick-demo"
    provenance.reset()
