"""Univariate labelled time series for RLAD (issue #7): Yahoo S5 A1/A2, AIOps 2018 KPI, demo series.

Paper: RLAD, time-series anomaly detection with deep RL and active learning
(``../shared/papers/rlad_timeseries_rl_active.txt``): data sets in Section 6.1 / Table 1,
pre-processing in Section 5.1 (sliding windows of size omega = 25 whose label is the label of their
last point, values min-max scaled to [0, 1]) and the 0.8 : 0.2 train/test split in Section 6.3.

Data sets and where they are looked for (for each base directory of
:func:`semiad.core.data.resolve.candidate_dirs`: ``data_dir`` / ``$SEMIAD_DATA_DIR``, then the download
cache; first hit wins):

* **Yahoo! Webscope S5** ``ydata-labeled-time-series-anomalies-v1_0``, benchmarks A1 (67 real
  series) and A2 (100 synthetic series), original CSVs ``timestamp,value,is_anomaly`` in
  ``<base>/yahoo_s5/A1Benchmark/real_*.csv`` (the project's shared layout),
  ``<base>/ydata-labeled-time-series-anomalies-v1_0/A1Benchmark/`` (the unpacked Webscope archive)
  or ``<base>/A1Benchmark/``. The data may not be redistributed and has no public URL: users
  request it from Yahoo Webscope themselves, so nothing is ever downloaded.
* **KPI**: the AIOps Challenge 2018 final-round (phase 2) training set, 29 KPIs, 3,004,066 points
  (official source: GitHub ``NetManAIOps/KPI-Anomaly-Detection``, ``Finals_dataset/phase2_train.csv.zip``).
  Read from ``<base>/kpi/phase2_train/<KPI ID>.csv.gz`` (the shared layout: one headerless
  ``timestamp,value,label`` file per KPI) or from the official single file
  ``<base>/kpi/phase2_train.csv`` / ``phase2_train.csv.zip`` (columns timestamp, value, label, KPI ID).

Verification. ``data/registry.json`` pins the sha256 of each shared folder's ``SHA256SUMS`` file
(entries ``yahoo_s5_a1``, ``yahoo_s5_a2``, ``kpi_phase2_train``). When that file is present it is
checked against the pin, and every CSV that is read is checked against it (each file hashed once
per process: :func:`semiad.core.data.resolve.verify` memoises). A Yahoo folder without ``SHA256SUMS``
(a user's own Webscope download) is checked as a whole: the digest of its sorted
``"<sha256>  <file name>"`` listing must equal :data:`YAHOO_TREE_SHA256` (computed from the pinned
``SHA256SUMS``; the files are byte-identical to the official archive). The official KPI single
file has no pinned checksum: it gets a structural check (29 KPIs, 3,004,066 rows) and a warning.

``on_missing="demo"`` replaces missing data by :func:`make_demo_collection` (A2-like synthetic
series, ``source="demo"``); the notebook announces it with :func:`semiad.core.notebook.demo_banner`.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semiad.core.data.registry import get_spec
from semiad.core.data.resolve import (
    ChecksumError,
    DataNotFoundError,
    candidate_dirs,
    check_on_missing,
    sha256_of,
    verify,
)

YAHOO_BENCHMARKS = ("A1", "A2")
#: Loader names of :func:`load_benchmark` -> registry entries in ``data/registry.json``.
TIMESERIES_DATASETS: dict[str, str] = {"yahoo_a1": "yahoo_s5_a1", "yahoo_a2": "yahoo_s5_a2",
                                       "kpi": "kpi_phase2_train"}
YAHOO_ARCHIVE = "ydata-labeled-time-series-anomalies-v1_0"
YAHOO_WEBSCOPE_URL = "https://webscope.sandbox.yahoo.com/"
KPI_OFFICIAL_URL = "https://github.com/NetManAIOps/KPI-Anomaly-Detection"
#: sha256 of the sorted ``"<sha256>  <file name>\n"`` listing of each benchmark's CSVs (official files).
YAHOO_TREE_SHA256: dict[str, str] = {
    "A1": "d20669a0ed038baeb66e8497397f6314439275e378760913cd3bcffa1ed574aa",
    "A2": "a1f0de2646a0d18fa83c477773e5003677eaab228af3418cb2163984e25baefa",
}
_YAHOO_PATTERN = {"A1": re.compile(r"^real_(\d+)\.csv$"), "A2": re.compile(r"^synthetic_(\d+)\.csv$")}
#: Published size of the KPI phase-2 training set (structural check of the official single file).
KPI_EXPECTED = {"n_series": 29, "n_points": 3_004_066}
#: RLAD Section 6.3: window size omega.
WINDOW = 25


@dataclass(frozen=True, eq=False)
class TimeSeries:
    """One univariate series: float64 values, 0/1 point labels (1 = anomaly) and timestamps."""

    name: str
    values: np.ndarray
    labels: np.ndarray
    timestamps: np.ndarray
    source: str  # "real" or "demo"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", np.asarray(self.values, dtype=np.float64))
        object.__setattr__(self, "labels", np.asarray(self.labels).astype(np.int64))
        object.__setattr__(self, "timestamps", np.asarray(self.timestamps))
        if not (self.values.ndim == self.labels.ndim == self.timestamps.ndim == 1):
            raise ValueError(f"{self.name}: values, labels and timestamps must be 1-D")
        if not (len(self.values) == len(self.labels) == len(self.timestamps)):
            raise ValueError(f"{self.name}: values {len(self.values)}, labels {len(self.labels)} and "
                             f"timestamps {len(self.timestamps)} differ in length")
        if len(self.labels) and not np.isin(self.labels, (0, 1)).all():
            raise ValueError(f"{self.name}: labels must be 0 or 1, found {np.unique(self.labels)}")

    def __len__(self) -> int:
        return len(self.values)

    @property
    def n_anomalies(self) -> int:
        return int(self.labels.sum())


@dataclass(frozen=True, eq=False)
class TimeSeriesCollection:
    """A benchmark: its series (in the benchmark's natural order), data source and origin."""

    name: str
    series: tuple[TimeSeries, ...]
    source: str  # "real" or "demo"
    origin: str  # folder / files read, or a description of the generator

    def __post_init__(self) -> None:
        object.__setattr__(self, "series", tuple(self.series))

    def __len__(self) -> int:
        return len(self.series)

    def __iter__(self) -> Iterator[TimeSeries]:
        return iter(self.series)

    def __getitem__(self, index: int) -> TimeSeries:
        return self.series[index]

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"

    def stats(self) -> dict[str, Any]:
        """Table 1 quantities (RLAD Sec. 6.1): series, points, anomalous points and their share in %."""
        n_points = sum(len(s) for s in self.series)
        n_anom = sum(s.n_anomalies for s in self.series)
        return {"dataset": self.name, "n_series": len(self.series), "n_points": n_points,
                "n_anomalies": n_anom, "anomaly_pct": 100.0 * n_anom / n_points if n_points else 0.0,
                "source": self.source}

    def series_stats(self) -> pd.DataFrame:
        """One row per series: name, points, anomalies, anomaly share in %."""
        return pd.DataFrame({"series": [s.name for s in self.series],
                             "n_points": [len(s) for s in self.series],
                             "n_anomalies": [s.n_anomalies for s in self.series],
                             "anomaly_pct": [100.0 * s.n_anomalies / max(len(s), 1) for s in self.series]})


# ---------------------------------------------------------------------------------------------
# Pre-processing (RLAD Sec. 5.1) and the 80:20 split (Sec. 6.3)
# ---------------------------------------------------------------------------------------------

def minmax_series(values: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Min-max scale one series to [0, 1] (RLAD Sec. 5.1, "MaxMinScaler"), float64.

    The minimum and maximum come from ``reference`` when given (e.g. the training part of the
    series; values outside its range then fall outside [0, 1]), else from ``values`` itself, as in
    the paper. A constant reference maps everything to 0.
    """
    values = np.asarray(values, dtype=np.float64)
    ref = values if reference is None else np.asarray(reference, dtype=np.float64)
    if ref.size == 0:
        return values.copy()
    lo, hi = float(ref.min()), float(ref.max())
    if hi <= lo:
        return np.zeros_like(values)
    return (values - lo) / (hi - lo)


def sliding_windows(values: np.ndarray, labels: np.ndarray,
                    window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """States of RLAD Sec. 5.1: every window of ``window`` consecutive points and its label.

    Returns ``(windows, window_labels)``: ``windows`` is float32 ``(n - window + 1, window)`` (row
    ``i`` holds points ``i .. i + window - 1``), ``window_labels`` int64 ``(n - window + 1,)`` is the
    label of each window's **last** point. Vectorised (a strided view, then one copy); a series
    shorter than ``window`` gives zero windows.
    """
    values = np.asarray(values)
    labels = np.asarray(labels)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if values.ndim != 1 or values.shape != labels.shape:
        raise ValueError(f"values {values.shape} and labels {labels.shape} must be equal-length 1-D arrays")
    if len(values) < window:
        return np.empty((0, window), np.float32), np.empty(0, np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(values, window).astype(np.float32)
    return windows, labels[window - 1:].astype(np.int64)


def _sub_series(s: TimeSeries, part: slice) -> TimeSeries:
    return TimeSeries(s.name, s.values[part], s.labels[part], s.timestamps[part], s.source)


def train_test_split_series(collection: TimeSeriesCollection, test_fraction: float = 0.2,
                            mode: str = "time", seed: int = 0
                            ) -> tuple[TimeSeriesCollection, TimeSeriesCollection]:
    """The 0.8 : 0.2 train/test split of RLAD Sec. 6.3 (the paper does not say along which axis).

    * ``mode="time"`` (default): every series is cut in time; its first
      ``n - round(test_fraction * n)`` points train, the rest test (no future leaks into training;
      every series is seen in both parts). ``seed`` is unused. The test part starts fresh: windows
      of it cover its points from the ``window``-th on.
    * ``mode="series"``: whole series are assigned, ``round(test_fraction * n_series)`` of them
      (at least one of each when there are two or more series) drawn at random with ``seed``
      go to test; both parts keep the benchmark order.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if mode == "time":
        train, test = [], []
        for s in collection:
            cut = len(s) - int(round(test_fraction * len(s)))
            train.append(_sub_series(s, slice(0, cut)))
            test.append(_sub_series(s, slice(cut, None)))
    elif mode == "series":
        n = len(collection)
        n_test = int(round(test_fraction * n))
        if n >= 2:
            n_test = min(max(n_test, 1), n - 1)
        chosen = set(np.random.default_rng(seed).choice(n, size=n_test, replace=False).tolist())
        train = [s for i, s in enumerate(collection) if i not in chosen]
        test = [s for i, s in enumerate(collection) if i in chosen]
    else:
        raise ValueError(f"mode must be 'time' or 'series', got {mode!r}")
    note = f"{mode} split, test_fraction={test_fraction}" + (f", seed={seed}" if mode == "series" else "")
    return (TimeSeriesCollection(f"{collection.name} [train]", tuple(train), collection.source,
                                 f"{collection.origin}; {note}: train part"),
            TimeSeriesCollection(f"{collection.name} [test]", tuple(test), collection.source,
                                 f"{collection.origin}; {note}: test part"))


# ---------------------------------------------------------------------------------------------
# Demo stand-in
# ---------------------------------------------------------------------------------------------

def make_demo_series(name: str, length: int = 1421, seed: int = 0, n_anomalies: int | None = None
                     ) -> TimeSeries:
    """One A2-like synthetic series: trend + daily/weekly seasonality + noise + point anomalies.

    Hourly Unix timestamps like A2. Anomalies are isolated spikes of 4-8 noise-free seasonal
    amplitudes at random positions (at least 2, about 0.3 % of the points by default).
    """
    rng = np.random.default_rng([zlib.crc32(name.encode()), seed])
    t = np.arange(length, dtype=np.float64)
    amp = rng.uniform(50, 500)
    values = (rng.uniform(-0.2, 0.2) * t + amp * np.sin(2 * np.pi * t / 24 + rng.uniform(0, 2 * np.pi))
              + 0.3 * amp * np.sin(2 * np.pi * t / 168 + rng.uniform(0, 2 * np.pi))
              + rng.normal(scale=0.1 * amp, size=length) + rng.uniform(0, 1000))
    k = n_anomalies if n_anomalies is not None else max(2, int(round(0.003 * length)))
    labels = np.zeros(length, np.int64)
    if k:
        where = rng.choice(np.arange(WINDOW, length), size=min(k, length - WINDOW), replace=False)
        values[where] += rng.choice([-1.0, 1.0], size=len(where)) * rng.uniform(4, 8, size=len(where)) * amp
        labels[where] = 1
    timestamps = 1_416_726_000 + 3600 * np.arange(length, dtype=np.int64)
    return TimeSeries(name, values, labels, timestamps, "demo")


def make_demo_collection(name: str = "demo", n_series: int = 8, length: int = 1421,
                         seed: int = 0) -> TimeSeriesCollection:
    """A small set of :func:`make_demo_series` (``source="demo"``; not any paper's data)."""
    series = tuple(make_demo_series(f"{name}_synthetic_{i + 1}", length, seed) for i in range(n_series))
    return TimeSeriesCollection(name, series, "demo",
                                f"synthetic A2-like stand-in for {name} (semiad.rlad.data."
                                f"make_demo_collection, {n_series} x {length} points; not the paper's data)")


# ---------------------------------------------------------------------------------------------
# Verification helpers
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _read_sums(path: str, size: int, mtime: float) -> dict[str, str]:
    """``SHA256SUMS`` lines ``<sha256>  ./<relpath>`` -> {relpath: sha256} (cached per file version)."""
    sums = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            digest, rel = line.split(None, 1)
            sums[rel.strip().removeprefix("./")] = digest
    return sums


def _pinned_sums(sums_path: Path, registry_name: str) -> dict[str, str]:
    """Verify ``sums_path`` against the registry pin, then parse it."""
    spec = get_spec(registry_name)
    verify(sums_path, next(iter(spec.files.values())))
    stat = sums_path.stat()
    return _read_sums(str(sums_path.resolve()), stat.st_size, stat.st_mtime)


def _tree_digest(files: list[Path]) -> str:
    listing = "".join(f"{sha256_of(p)}  {p.name}\n" for p in sorted(files, key=lambda p: p.name))
    return hashlib.sha256(listing.encode()).hexdigest()


def _natural_key(path: Path) -> tuple[str, int]:
    match = re.search(r"(\d+)", path.name)
    return path.name[: match.start()] if match else path.name, int(match.group(1)) if match else -1


# ---------------------------------------------------------------------------------------------
# Yahoo S5
# ---------------------------------------------------------------------------------------------

def _yahoo_missing_message(benchmark: str, data_dir: str | os.PathLike | None) -> str:
    searched = ", ".join(str(d) for d in candidate_dirs(data_dir))
    folder = f"{benchmark}Benchmark"
    return (f"Yahoo S5 {benchmark}: folder {folder}/ not found under [{searched}] (looked for "
            f"yahoo_s5/{folder}, {YAHOO_ARCHIVE}/{folder} and {folder}).\n"
            f"The data may not be redistributed and has no public download URL. Fix: request "
            f"\"Yahoo! Webscope S5 ({YAHOO_ARCHIVE})\" from {YAHOO_WEBSCOPE_URL} (free for "
            "non-commercial research, after accepting Yahoo's data-sharing terms), unpack it, and point "
            f"SEMIAD_DATA_DIR (or the notebook's data_dir) at the folder that holds {folder}/ or "
            f"{YAHOO_ARCHIVE}/. Or run with on_missing='demo' for synthetic stand-in series.")


def _find_yahoo_folder(benchmark: str, data_dir: str | os.PathLike | None) -> Path | None:
    folder = f"{benchmark}Benchmark"
    for base in candidate_dirs(data_dir):
        for candidate in (base / "yahoo_s5" / folder, base / YAHOO_ARCHIVE / folder, base / folder):
            if candidate.is_dir():
                return candidate
    return None


def _listed_and_verified(folder: Path, sums_path: Path, registry_name: str, accept, max_series: int | None,
                         what: str, fix: str, order=None) -> list[Path]:
    """The files of ``folder`` that the pinned ``sums_path`` lists (names passing ``accept``, sorted
    by ``order`` applied to the relative path, default plain string order), each checked against its
    sha256; the first ``max_series`` if given."""
    sums = _pinned_sums(sums_path, registry_name)
    listed = sorted((rel for rel in sums if rel.startswith(f"{folder.name}/") and accept(rel.split("/")[-1])),
                    key=order)
    missing = [rel for rel in listed if not (folder.parent / rel).is_file()]
    if missing:
        raise DataNotFoundError(f"{what}: {len(missing)} file(s) listed in {sums_path} are missing, "
                                f"e.g. {missing[:3]}\n{fix}")
    files = [folder.parent / rel for rel in listed][:max_series]
    for path in files:
        verify(path, sums[f"{folder.name}/{path.name}"])
    return files


def _yahoo_files(folder: Path, benchmark: str, max_series: int | None) -> list[Path]:
    """The benchmark's CSVs (natural order), verified; the first ``max_series`` if given."""
    pattern = _YAHOO_PATTERN[benchmark]
    files = sorted((p for p in folder.iterdir() if pattern.match(p.name)), key=_natural_key)
    sums_path = folder.parent / "SHA256SUMS"
    registry_name = TIMESERIES_DATASETS[f"yahoo_{benchmark.lower()}"]
    if sums_path.is_file():
        return _listed_and_verified(folder, sums_path, registry_name, pattern.match, max_series,
                                    f"Yahoo S5 {benchmark}", _yahoo_missing_message(benchmark, None),
                                    order=lambda rel: _natural_key(Path(rel)))
    digest = _tree_digest(files)
    if digest != YAHOO_TREE_SHA256[benchmark]:
        raise ChecksumError(f"Yahoo S5 {benchmark}: the {len(files)} CSVs in {folder} do not match the "
                            f"official {YAHOO_ARCHIVE} files (listing digest {digest}); re-fetch them from "
                            f"{YAHOO_WEBSCOPE_URL}")
    return files[:max_series]


def read_yahoo_csv(path: Path, source: str = "real") -> TimeSeries:
    """One A1/A2 CSV (header ``timestamp,value,is_anomaly``) as a :class:`TimeSeries` named by its stem."""
    frame = pd.read_csv(path)
    if list(frame.columns[:3]) != ["timestamp", "value", "is_anomaly"]:
        raise ValueError(f"{path}: expected columns timestamp,value,is_anomaly, got {list(frame.columns)}")
    return TimeSeries(Path(path).stem, frame["value"].to_numpy(np.float64), frame["is_anomaly"].to_numpy(),
                      frame["timestamp"].to_numpy(np.int64), source)


def load_yahoo(benchmark: str = "A1", data_dir: str | os.PathLike | None = None, on_missing: str = "error",
               download: bool | None = None, *, max_series: int | None = None) -> TimeSeriesCollection:
    """Yahoo S5 benchmark ``"A1"`` (67 real series) or ``"A2"`` (100 synthetic), RLAD Sec. 6.1.1.

    Files are found and verified as the module docstring says; ``max_series`` reads only the first
    series (natural order ``real_1, real_2, ...``; smoke runs). ``download`` is accepted for
    symmetry with the other loaders and has no effect: there is no public URL. Missing data raises
    :class:`DataNotFoundError` saying how to request it from Yahoo Webscope, or, with
    ``on_missing="demo"``, returns :func:`make_demo_collection` (``source="demo"``).
    """
    benchmark = benchmark.upper()
    if benchmark not in YAHOO_BENCHMARKS:
        raise ValueError(f"benchmark must be one of {YAHOO_BENCHMARKS}, got {benchmark!r}")
    check_on_missing(on_missing)
    name = f"yahoo_{benchmark.lower()}"
    folder = _find_yahoo_folder(benchmark, data_dir)
    if folder is None:
        if on_missing == "demo":
            return make_demo_collection(name, n_series=min(max_series or 8, 8))
        raise DataNotFoundError(_yahoo_missing_message(benchmark, data_dir))
    files = _yahoo_files(folder, benchmark, max_series)
    series = tuple(read_yahoo_csv(p) for p in files)
    return TimeSeriesCollection(name, series, "real", f"{folder} ({len(series)} files)")


# ---------------------------------------------------------------------------------------------
# KPI (AIOps Challenge 2018, phase-2 training set)
# ---------------------------------------------------------------------------------------------

def _kpi_missing_message(data_dir: str | os.PathLike | None) -> str:
    searched = ", ".join(str(d) for d in candidate_dirs(data_dir))
    return (f"KPI (AIOps Challenge 2018, phase-2 training set): neither kpi/phase2_train/<KPI ID>.csv.gz nor "
            f"kpi/phase2_train.csv(.zip) found under [{searched}].\n"
            f"Fix: download Finals_dataset/phase2_train.csv.zip from {KPI_OFFICIAL_URL}, put it at "
            "<dir>/kpi/phase2_train.csv.zip (or unzipped as phase2_train.csv) and point SEMIAD_DATA_DIR "
            "(or the notebook's data_dir) at <dir>. Or run with on_missing='demo' for synthetic stand-in "
            "series.")


def _kpi_from_folder(folder: Path, max_series: int | None) -> tuple[TimeSeries, ...]:
    sums_path = folder.parent / "SHA256SUMS"
    files = sorted(folder.glob("*.csv.gz"))
    if sums_path.is_file():
        files = _listed_and_verified(folder, sums_path, TIMESERIES_DATASETS["kpi"], lambda name: True,
                                     max_series, "KPI", _kpi_missing_message(None))
    else:
        warnings.warn(f"KPI: {folder} has no SHA256SUMS next to it; its files are used unverified "
                      "(structure checked only)", stacklevel=3)
        files = files[:max_series]
    series = []
    for path in files:
        frame = pd.read_csv(path, header=None, names=["timestamp", "value", "label"],
                            dtype={"timestamp": np.int64, "value": np.float64, "label": np.int64})
        series.append(TimeSeries(path.name.removesuffix(".csv.gz"), frame["value"].to_numpy(),
                                 frame["label"].to_numpy(), frame["timestamp"].to_numpy(), "real"))
    return tuple(series)


def _kpi_from_official(path: Path, max_series: int | None) -> tuple[TimeSeries, ...]:
    """The official single ``phase2_train.csv`` (columns timestamp, value, label, KPI ID)."""
    frame = pd.read_csv(path)
    needed = {"timestamp", "value", "label", "KPI ID"}
    if needed - set(frame.columns):
        raise ValueError(f"{path}: expected columns {sorted(needed)}, got {list(frame.columns)}")
    found = (frame["KPI ID"].nunique(), len(frame))
    expected = (KPI_EXPECTED["n_series"], KPI_EXPECTED["n_points"])
    if found != expected:
        raise ValueError(f"{path}: (KPIs, rows) = {found}, expected {expected} for the phase-2 training set")
    warnings.warn(f"KPI: {path.name} has no pinned sha256 (structure checked: {found[0]} KPIs, {found[1]} "
                  f"rows); its sha256 is {sha256_of(path)}", stacklevel=3)
    series = []
    for kpi, group in sorted(frame.groupby("KPI ID"), key=lambda kv: str(kv[0]))[:max_series]:
        group = group.sort_values("timestamp")
        series.append(TimeSeries(str(kpi), group["value"].to_numpy(), group["label"].to_numpy(),
                                 group["timestamp"].to_numpy(np.int64), "real"))
    return tuple(series)


def load_kpi(data_dir: str | os.PathLike | None = None, on_missing: str = "error",
             download: bool | None = None, *, max_series: int | None = None) -> TimeSeriesCollection:
    """KPI data set of RLAD Sec. 6.1.2: AIOps Challenge 2018 phase-2 training set, 29 KPIs.

    Series are ordered by KPI ID; ``max_series`` reads only the first ones. ``download`` has no
    effect (no pinned URL: the official zip must be fetched by hand, see the error message). Missing
    data raises :class:`DataNotFoundError` naming the fix, or with ``on_missing="demo"`` returns
    :func:`make_demo_collection` (``source="demo"``).
    """
    check_on_missing(on_missing)
    for base in candidate_dirs(data_dir):
        folder = base / "kpi" / "phase2_train"
        if folder.is_dir() and any(folder.glob("*.csv.gz")):
            return TimeSeriesCollection("kpi", _kpi_from_folder(folder, max_series), "real", str(folder))
        for official in (base / "kpi" / "phase2_train.csv", base / "kpi" / "phase2_train.csv.zip"):
            if official.is_file():
                return TimeSeriesCollection("kpi", _kpi_from_official(official, max_series), "real",
                                            str(official))
    if on_missing == "demo":
        return make_demo_collection("kpi", n_series=min(max_series or 8, 8))
    raise DataNotFoundError(_kpi_missing_message(data_dir))


def load_benchmark(name: str, data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                   download: bool | None = None, *,
                   max_series: int | None = None) -> TimeSeriesCollection:
    """Dispatch on :data:`TIMESERIES_DATASETS`: ``"yahoo_a1"``, ``"yahoo_a2"`` or ``"kpi"``."""
    if name not in TIMESERIES_DATASETS:
        raise ValueError(f"unknown time-series data set {name!r}; available: {list(TIMESERIES_DATASETS)}")
    if name == "kpi":
        return load_kpi(data_dir, on_missing, download, max_series=max_series)
    return load_yahoo(name.split("_")[1].upper(), data_dir, on_missing, download, max_series=max_series)
