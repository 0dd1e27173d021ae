"""RLAD data layer (issue #7): windows, min-max, 80:20 splits, demo fallback, Table 1 statistics."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from semiad.core.data.registry import get_spec
from semiad.core.data.resolve import ChecksumError, DataNotFoundError
from semiad.rlad.data import (
    TIMESERIES_DATASETS,
    TimeSeries,
    TimeSeriesCollection,
    load_benchmark,
    load_kpi,
    load_yahoo,
    make_demo_collection,
    minmax_series,
    sliding_windows,
    train_test_split_series,
)


def _shared(rel: str) -> Path | None:
    """A file of the shared data folder, following the conftest convention ($SEMIAD_DATA_DIR)."""
    data_dir = os.environ.get("SEMIAD_DATA_DIR")
    path = Path(data_dir) / rel if data_dir else None
    return path if path is not None and path.exists() else None


requires_yahoo = pytest.mark.skipif(_shared("yahoo_s5/SHA256SUMS") is None,
                                    reason="SEMIAD_DATA_DIR does not hold yahoo_s5/ (Yahoo Webscope S5)")
requires_kpi = pytest.mark.skipif(_shared("kpi/SHA256SUMS") is None,
                                  reason="SEMIAD_DATA_DIR does not hold kpi/ (AIOps 2018 phase 2)")


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An empty data dir and cache: nothing can be found."""
    monkeypatch.delenv("SEMIAD_DATA_DIR", raising=False)
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def _series(values, labels, name="s") -> TimeSeries:
    return TimeSeries(name, np.asarray(values, float), np.asarray(labels), np.arange(len(values)), "real")


# --- pre-processing -------------------------------------------------------------------------

def test_sliding_windows_shapes_and_last_point_labels():
    values = np.arange(10, dtype=float)
    labels = np.array([0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    windows, y = sliding_windows(values, labels, window=4)
    assert windows.shape == (7, 4) and windows.dtype == np.float32
    np.testing.assert_array_equal(windows[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(windows[-1], [6, 7, 8, 9])
    np.testing.assert_array_equal(windows[:, -1], values[3:])
    np.testing.assert_array_equal(y, labels[3:])  # label of each window = label of its last point
    assert y.tolist() == [1, 0, 0, 0, 0, 1, 0]
    windows[0, 0] = 99.0  # a real copy, not a view of the input
    assert values[0] == 0.0
    default, _ = sliding_windows(np.zeros(30), np.zeros(30, int))
    assert default.shape == (6, 25)  # omega = 25 (RLAD Sec. 6.3)
    short, short_y = sliding_windows(np.zeros(3), np.zeros(3, int), window=4)
    assert short.shape == (0, 4) and short_y.shape == (0,)
    with pytest.raises(ValueError):
        sliding_windows(np.zeros(5), np.zeros(4, int), window=2)


def test_minmax_series():
    np.testing.assert_allclose(minmax_series(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(minmax_series(np.full(4, 7.0)), np.zeros(4))
    reference = np.array([0.0, 2.5])
    np.testing.assert_allclose(minmax_series(np.array([0.0, 5.0]), reference=reference), [0.0, 2.0])
    scaled = minmax_series(np.random.default_rng(0).normal(size=100))
    assert scaled.min() == 0.0 and scaled.max() == 1.0


def test_time_split_cuts_every_series_80_20():
    coll = TimeSeriesCollection("c", (_series(np.arange(100), np.zeros(100, int), "a"),
                                      _series(np.arange(11), np.r_[np.zeros(10, int), 1], "b")), "real", "t")
    train, test = train_test_split_series(coll)  # default: mode="time", test_fraction=0.2
    assert [len(s) for s in train] == [80, 9] and [len(s) for s in test] == [20, 2]
    np.testing.assert_array_equal(test[0].values, np.arange(80, 100))
    assert test[1].labels.tolist() == [0, 1] and test[0].timestamps[0] == 80
    train, test = train_test_split_series(coll, test_fraction=0.5)
    assert [len(s) for s in test] == [50, 6]


def test_series_split_assigns_whole_series_reproducibly():
    coll = make_demo_collection("d", n_series=10, length=60)
    train, test = train_test_split_series(coll, mode="series", seed=3)
    assert len(train) == 8 and len(test) == 2
    assert {s.name for s in train}.isdisjoint({s.name for s in test})
    assert all(len(s) == 60 for s in (*train, *test))
    again = train_test_split_series(coll, mode="series", seed=3)[1]
    assert [s.name for s in again] == [s.name for s in test]
    assert len(train_test_split_series(coll, test_fraction=0.01, mode="series")[1]) == 1  # at least one
    with pytest.raises(ValueError):
        train_test_split_series(coll, mode="random")


def test_timeseries_validates_its_arrays():
    with pytest.raises(ValueError):
        _series([1.0, 2.0], [0, 2])
    with pytest.raises(ValueError):
        TimeSeries("x", np.zeros(3), np.zeros(2, int), np.arange(3), "real")


# --- demo fallback and missing data --------------------------------------------------------

def test_demo_collection_is_a2_like_and_labelled_synthetic():
    coll = make_demo_collection("yahoo_a2", n_series=4)
    stats = coll.stats()
    assert coll.is_demo and "synthetic" in coll.origin
    assert stats["n_series"] == 4 and stats["n_points"] == 4 * 1421
    assert all(s.n_anomalies >= 2 for s in coll) and 0.1 < stats["anomaly_pct"] < 1.0
    assert np.all(np.diff(coll[0].timestamps) == 3600)
    np.testing.assert_array_equal(coll[0].values, make_demo_collection("yahoo_a2", n_series=4)[0].values)
    table = coll.series_stats()
    assert list(table.columns) == ["series", "n_points", "n_anomalies", "anomaly_pct"] and len(table) == 4


def test_missing_data_falls_back_to_demo_only_when_asked(no_data):
    for loader in (lambda **kw: load_yahoo("A2", no_data, **kw), lambda **kw: load_kpi(no_data, **kw)):
        demo = loader(on_missing="demo")
        assert demo.source == "demo" and len(demo) > 0
    with pytest.raises(DataNotFoundError) as yahoo_err:
        load_yahoo("A1", no_data)
    message = str(yahoo_err.value)
    assert "ydata-labeled-time-series-anomalies-v1_0" in message and "webscope.sandbox.yahoo.com" in message
    assert "SEMIAD_DATA_DIR" in message
    with pytest.raises(DataNotFoundError) as kpi_err:
        load_benchmark("kpi", no_data)
    kpi_message = str(kpi_err.value)
    assert "NetManAIOps/KPI-Anomaly-Detection" in kpi_message and "SEMIAD_DATA_DIR" in kpi_message
    with pytest.raises(ValueError):
        load_yahoo("A3", no_data)
    with pytest.raises(ValueError):
        load_benchmark("nab", no_data)


def test_registry_entries_pin_the_sums_files_and_have_no_urls():
    for name in TIMESERIES_DATASETS.values():
        spec = get_spec(name)
        assert spec.kind == "timeseries" and spec.urls == {}
        assert all(rel.endswith("SHA256SUMS") and len(digest) == 64 for rel, digest in spec.files.items())


# --- real data (skipped without the shared folder) -----------------------------------------

@requires_yahoo
def test_yahoo_table1_statistics():
    a1 = load_yahoo("A1").stats()
    assert (a1["n_series"], a1["n_points"], a1["n_anomalies"]) == (67, 94866, 1669)
    a2 = load_yahoo("A2")
    assert (a2.stats()["n_series"], a2.stats()["n_points"], a2.stats()["n_anomalies"]) == (100, 142100, 466)
    assert a2[0].name == "synthetic_1" and a2[1].name == "synthetic_2"  # natural order
    first = load_yahoo("A1", max_series=2)
    assert [s.name for s in first] == ["real_1", "real_2"] and first.source == "real"


@requires_yahoo
def test_yahoo_copy_without_sums_is_checked_as_a_whole(tmp_path):
    folder = tmp_path / "ydata-labeled-time-series-anomalies-v1_0" / "A1Benchmark"
    shutil.copytree(_shared("yahoo_s5/A1Benchmark"), folder)
    assert len(load_yahoo("A1", tmp_path)) == 67
    target = folder / "real_5.csv"
    target.write_text(target.read_text().replace(",0\n", ",1\n", 1))
    with pytest.raises(ChecksumError):
        load_yahoo("A1", tmp_path)


@requires_kpi
def test_kpi_table1_statistics():
    stats = load_kpi().stats()
    assert (stats["n_series"], stats["n_points"], stats["n_anomalies"]) == (29, 3_004_066, 79_554)


def test_kpi_official_single_file_is_split_by_kpi_id(no_data, monkeypatch):
    from semiad.rlad import data as timeseries

    monkeypatch.setattr(timeseries, "KPI_EXPECTED", {"n_series": 2, "n_points": 5})
    (no_data / "kpi").mkdir()
    (no_data / "kpi" / "phase2_train.csv").write_text(
        "timestamp,value,label,KPI ID\n120,1.5,0,b\n60,1.0,1,b\n60,3.0,0,a\n120,2.0,0,a\n180,9.0,1,a\n")
    with pytest.warns(UserWarning, match="no pinned sha256"):
        coll = load_kpi(no_data)
    assert [s.name for s in coll] == ["a", "b"] and coll.stats()["n_anomalies"] == 2
    np.testing.assert_array_equal(coll[1].values, [1.0, 1.5])  # sorted by timestamp
    monkeypatch.setattr(timeseries, "KPI_EXPECTED", {"n_series": 29, "n_points": 3_004_066})
    with pytest.raises(ValueError, match="expected"):
        load_kpi(no_data)
