"""Datasets that keep their original class labels, for known-vs-unknown anomaly protocols (DADS).

The DADS experiments (Figure 2: AUC-ROC vs contamination) need more than a 0/1 anomaly label:
a few anomalies of one *known* anomaly class are labeled, while the unlabeled data is contaminated
by anomalies of every class, including *unknown* classes never seen with a label. This follows the
multi-class protocol of DPLAN (Pang et al., KDD 2021), which DADS adopts. Every loader here
returns a :class:`MultiClassDataset` holding the original classes plus the protocol's split of
them into normal / known / unknown classes.

Protocols (class meanings from the data sets' own documentation; see
``shared/data/tabular/PROVENANCE.md`` for the files and their counts):

* ``annthyroid`` — UCI thyroid "ann" files (train + test, 7200 x 21). Class 3 normal, class 2
  (subnormal function) KNOWN, class 1 (hyperfunction) UNKNOWN. ``rows="train_file"`` reads
  ``ann-train.data`` alone (3,772 rows: 3,488 / 191 / 93), as the DADS authors' code does.
* ``cardiotocography`` — UCI CTG.xls, sheet "Raw Data" (2126 x 21 ODDS/UCI features). NSP 1
  (normal) normal, NSP 2 (suspect) KNOWN, NSP 3 (pathologic) UNKNOWN.
* ``shuttle_aad`` — the AAD benchmark's Statlog-shuttle sample ``shuttle_1v23567`` (Das et al.,
  ICDM 2016; 12345 x 9) with its ``orig_labels`` file. Class 1 normal, class 5 KNOWN, classes
  2, 3, 6, 7 UNKNOWN. Offline substitute for HAR.
* ``unsw_nb15`` — the 82,332-record UNSW-NB15 partition (file "UNSW_NB15_training-set.csv").
  ``label == 0`` ("Normal") normal; one attack category KNOWN (default ``"DoS"``, the first of
  the per-attack-class UNSW-NB15 sets of DPLAN/PReNet), every other category UNKNOWN.
* ``har`` — UCI Human Activity Recognition Using Smartphones (train + test, 10,299 x 561).
  Activities 1 (walking), 4 (sitting), 5 (standing), 6 (laying) normal, 2 (walking upstairs)
  KNOWN, 3 (walking downstairs) UNKNOWN. Not in the offline data folder; its registry entry has
  no pinned sha256 (see :func:`check_har_archive`).

Files are found through :func:`semiad.core.data.resolve.resolve_files` (data dir -> cache -> verified
download -> :class:`DataNotFoundError`). With ``on_missing="demo"`` a missing dataset is replaced
by a small synthetic stand-in (``source="demo"``) made by code, never silently.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semiad.core.data.registry import get_spec
from semiad.core.data.resolve import DataNotFoundError, check_on_missing, resolve_files

#: Rows of annthyroid: both UCI files (ODDS's 7,200) or ``ann-train.data`` alone (the DADS authors' 3,772).
ANNTHYROID_ROWS: tuple[str, ...] = ("train_and_test", "train_file")
#: Loader names accepted by :func:`load_multiclass` (DADS Figure 2 sets and their substitutes).
MULTICLASS_DATASETS: tuple[str, ...] = ("annthyroid", "cardiotocography", "shuttle_aad", "unsw_nb15",
                                        "har")
DEMO_MULTICLASS_ROWS = 600

#: Loader name -> registry entry (``data/registry.json``).
_REGISTRY_NAME = {"annthyroid": "annthyroid_multiclass", "cardiotocography": "cardiotocography_multiclass",
                  "shuttle_aad": "shuttle_aad", "unsw_nb15": "unsw_nb15_multiclass", "har": "har"}

ANNTHYROID_FEATURES: tuple[str, ...] = (
    "age", "sex", "on_thyroxine", "query_on_thyroxine", "on_antithyroid_medication", "sick", "pregnant",
    "thyroid_surgery", "I131_treatment", "query_hypothyroid", "query_hyperthyroid", "lithium", "goitre",
    "tumor", "hypopituitary", "psych", "TSH", "T3", "TT4", "T4U", "FTI")  # order of UCI ann.names
#: The 21 CTG features used by UCI and ODDS "cardio" (columns of the "Raw Data" sheet).
CTG_FEATURES: tuple[str, ...] = (
    "LB", "AC", "FM", "UC", "DL", "DS", "DP", "ASTV", "MSTV", "ALTV", "MLTV", "Width", "Min", "Max",
    "Nmax", "Nzeros", "Mode", "Mean", "Median", "Variance", "Tendency")
#: The ten FHR-pattern indicator columns of the "Raw Data" sheet: a one-hot copy of CLASS (label leak).
CTG_PATTERN_INDICATORS: tuple[str, ...] = ("A", "B", "C", "D", "E", "AD", "DE", "LD", "FS", "SUSP")
#: The DADS authors' 34 CTG columns, in their order: the header of ``data/multi_class_ad/cardio.csv`` at
#: commit 8a312af minus CLASS (dropped by their loader) and NSP (the label). The column the protocol note
#: left unrecorded is LBE (a copy of LB); DR (always 0) is not among them.
CTG_AUTHORS_FEATURES: tuple[str, ...] = (
    "b", "e", "LBE", "LB", "AC", "FM", "UC", "ASTV", "MSTV", "ALTV", "MLTV", "DL", "DS", "DP", "Width",
    "Min", "Max", "Nmax", "Nzeros", "Mode", "Mean", "Median", "Variance", "Tendency",
    *CTG_PATTERN_INDICATORS)
CTG_FEATURE_SETS: dict[str, tuple[str, ...]] = {"clean21": CTG_FEATURES, "authors": CTG_AUTHORS_FEATURES}
UNSW_CATEGORICAL: tuple[str, ...] = ("proto", "service", "state")
UNSW_DROP: tuple[str, ...] = ("id", "label", "attack_cat")
#: UCI HAR shapes (README of the official archive): 7352 train + 2947 test windows, 561 features.
HAR_EXPECTED: dict[str, int] = {"train": 7352, "test": 2947, "d": 561, "n_activities": 6}


@dataclass(frozen=True)
class _Protocol:
    normal_classes: tuple
    known_class: Any
    anomaly_classes: tuple  # every anomaly class, known one included


_PROTOCOLS: dict[str, _Protocol] = {
    "annthyroid": _Protocol((3,), 2, (1, 2)),
    "cardiotocography": _Protocol((1,), 2, (2, 3)),
    "shuttle_aad": _Protocol((1,), 5, (2, 3, 5, 6, 7)),
    "unsw_nb15": _Protocol(("Normal",), "DoS", ("Analysis", "Backdoor", "DoS", "Exploits", "Fuzzers",
                                                "Generic", "Reconnaissance", "Shellcode", "Worms")),
    "har": _Protocol((1, 4, 5, 6), 2, (2, 3)),
}


@dataclass(frozen=True, eq=False)
class MultiClassDataset:
    """Features, original class labels and the normal / known / unknown split of the classes.

    ``X`` is float64 (n, d); ``classes`` holds the original label of each row (ints, or strings
    for UNSW-NB15). ``y`` derives the package's ground truth (1 = anomaly = class not normal).
    """

    name: str
    X: np.ndarray
    classes: np.ndarray
    normal_classes: tuple
    known_class: Any
    unknown_classes: tuple
    feature_names: tuple[str, ...]
    source: str  # "real" or "demo"
    origin: str  # file path(s), or a description of the generator

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or len(self.X) != len(self.classes):
            raise ValueError(f"{self.name}: X {self.X.shape} and classes {self.classes.shape} disagree")
        if len(self.feature_names) != self.X.shape[1]:
            raise ValueError(f"{self.name}: {len(self.feature_names)} feature names for "
                             f"{self.X.shape[1]} columns")
        if self.known_class in self.normal_classes or set(self.unknown_classes) & (
                set(self.normal_classes) | {self.known_class}):
            raise ValueError(f"{self.name}: normal {self.normal_classes}, known {self.known_class!r} "
                             f"and unknown {self.unknown_classes} classes must be disjoint")

    @property
    def y(self) -> np.ndarray:
        """Ground truth, 1 = anomaly (any class outside ``normal_classes``), 0 = normal."""
        return (~np.isin(self.classes, list(self.normal_classes))).astype(np.int64)

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"

    @property
    def anomaly_classes(self) -> tuple:
        return (self.known_class, *self.unknown_classes)

    def stats(self) -> dict[str, Any]:
        """n, d, per-class counts, known / unknown anomaly counts and anomaly share."""
        values, counts = np.unique(self.classes, return_counts=True)
        per_class = {v.item(): int(c) for v, c in zip(values, counts, strict=True)}
        n_anom = int(self.y.sum())
        return {"dataset": self.name, "n": int(len(self.X)), "d": int(self.X.shape[1]),
                "class_counts": per_class,
                "n_normal": len(self.X) - n_anom,
                "n_known": int(np.sum(self.classes == self.known_class)),
                "n_unknown": int(np.isin(self.classes, list(self.unknown_classes)).sum()),
                "n_anomalies": n_anom, "anomaly_share": round(n_anom / len(self.X), 4),
                "known_class": _plain(self.known_class),
                "unknown_classes": [_plain(c) for c in self.unknown_classes],
                "source": self.source}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------------------------
# Readers (one per file format; each returns X float64, classes, feature names)
# ---------------------------------------------------------------------------------------------

def read_annthyroid(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """UCI thyroid "ann" files: 21 features then the class, comma-separated, trailing comma.

    Rows of ``paths`` are concatenated in order (train then test, as in ODDS annthyroid).
    """
    rows = []
    for path in paths:
        for line_no, line in enumerate(Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            fields = line.strip().rstrip(",").split(",")
            if len(fields) != 22:
                raise ValueError(f"{path}:{line_no}: expected 22 comma-separated fields, got {len(fields)}")
            rows.append([float(v) for v in fields])
    table = np.asarray(rows, dtype=np.float64)
    classes = table[:, 21].astype(np.int64)
    if set(np.unique(classes)) - {1, 2, 3}:
        raise ValueError(f"annthyroid: unexpected classes {np.unique(classes)}")
    return table[:, :21], classes, ANNTHYROID_FEATURES


@functools.lru_cache(maxsize=4)
def _ctg_raw_sheet(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    """The parsed "Raw Data" sheet, kept per file version (``size``, ``mtime_ns``) for the process.

    Parsing the .xls takes about 0.4 s and every DADS cell loads CTG; callers only read the frame.
    """
    del size, mtime_ns  # part of the cache key only
    try:
        import xlrd  # noqa: F401  (pandas' .xls engine; imported here for a clear error)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading CTG.xls needs xlrd: pip install xlrd==2.0.2") from exc
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*xlrd engine is deprecated.*")
        return pd.read_excel(path, sheet_name="Raw Data", engine="xlrd")


def read_ctg(path: Path, feature_set: str = "clean21") -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """UCI CTG.xls, sheet "Raw Data": the features and NSP; rows without NSP are dropped.

    ``feature_set``: ``"clean21"`` (the 21 UCI/ODDS measurements) or ``"authors"`` (the DADS authors'
    34 columns, :data:`CTG_AUTHORS_FEATURES`; their pattern indicators copy CLASS, which nearly fixes NSP).

    The .xls format is read by pandas through ``xlrd`` (pinned in requirements.txt).
    """
    stat = Path(path).stat()
    sheet = _ctg_raw_sheet(str(path), stat.st_size, stat.st_mtime_ns)
    if feature_set not in CTG_FEATURE_SETS:
        raise ValueError(f"feature_set must be one of {tuple(CTG_FEATURE_SETS)}, got {feature_set!r}")
    features = CTG_FEATURE_SETS[feature_set]
    missing = [c for c in (*features, "NSP") if c not in sheet.columns]
    if missing:
        raise ValueError(f"{path}: sheet 'Raw Data' lacks columns {missing}")
    sheet = sheet.dropna(subset=["NSP"])  # summary/blank rows, if a copy has them
    X = sheet[list(features)].to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{path}: missing feature values in rows with an NSP label")
    classes = sheet["NSP"].to_numpy().astype(np.int64)
    if set(np.unique(classes)) - {1, 2, 3}:
        raise ValueError(f"{path}: unexpected NSP values {np.unique(classes)}")
    return X, classes, features


def read_shuttle_aad(data_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """AAD ``shuttle_1v23567_1.csv`` (label, v1..v9) joined row-by-row with its orig_labels file.

    In ``*_orig_labels.csv`` the column ``ground.truth`` repeats nominal/anomaly and the column
    ``label`` holds the original Statlog class (the two files share the row order; this is
    checked: ``ground.truth`` must equal the data file's ``label`` on every row, and class 1 must
    be exactly the nominal rows).
    """
    data = pd.read_csv(data_path)
    labels = pd.read_csv(labels_path)
    if len(data) != len(labels) or not {"ground.truth", "label"} <= set(labels.columns):
        raise ValueError(f"{labels_path}: does not match {data_path} ({len(labels)} vs {len(data)} rows)")
    if not (data["label"].to_numpy() == labels["ground.truth"].to_numpy()).all():
        raise ValueError(f"{labels_path}: row order differs from {data_path}")
    classes = labels["label"].to_numpy().astype(np.int64)
    if not ((classes == 1) == (data["label"].to_numpy() == "nominal")).all():
        raise ValueError(f"{labels_path}: class 1 is not exactly the nominal rows")
    features = tuple(c for c in data.columns if c != "label")
    return data[list(features)].to_numpy(dtype=np.float64), classes, features


def read_unsw_nb15(path: Path, categorical: str = "onehot") -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """UNSW-NB15 CSV in a zip: drop id/label/attack_cat; one-hot (or drop) proto/service/state.

    One-hot columns are named ``proto=tcp`` etc., categories sorted, so the layout depends only
    on the file. ``classes`` is ``attack_cat`` ("Normal" for ``label == 0``; checked).
    """
    if categorical not in ("onehot", "drop"):
        raise ValueError(f"categorical must be 'onehot' or 'drop', got {categorical!r}")
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if n.endswith(".csv") and not n.startswith("__MACOSX")]
        if len(members) != 1:
            raise ValueError(f"{path}: expected one CSV inside, found {members}")
        with archive.open(members[0]) as fh:
            frame = pd.read_csv(fh)
    needed = {*UNSW_DROP, *UNSW_CATEGORICAL}
    if needed - set(frame.columns):
        raise ValueError(f"{path}: missing columns {sorted(needed - set(frame.columns))}")
    classes = frame["attack_cat"].astype(str).str.strip().to_numpy().astype(str)
    if not ((classes == "Normal") == (frame["label"].to_numpy() == 0)).all():
        raise ValueError(f"{path}: attack_cat 'Normal' and label 0 disagree")
    numeric = [c for c in frame.columns if c not in needed]
    blocks = [frame[numeric].to_numpy(dtype=np.float64)]
    names = list(numeric)
    if categorical == "onehot":
        for col in UNSW_CATEGORICAL:
            values = frame[col].astype(str).to_numpy()
            cats = np.unique(values)
            blocks.append((values[:, None] == cats[None, :]).astype(np.float64))
            names += [f"{col}={c}" for c in cats]
    return np.hstack(blocks), classes, tuple(names)


def _har_prefix(archive: zipfile.ZipFile) -> str | None:
    hits = [n for n in archive.namelist() if n.endswith("train/X_train.txt") and not n.startswith("__MACOSX")]
    return hits[0][: -len("train/X_train.txt")] if hits else None


def _open_har_tree(path: Path) -> tuple[zipfile.ZipFile, str]:
    """The zip holding ``.../train/X_train.txt`` and the member prefix of the dataset folder.

    The official UCI download nests ``UCI HAR Dataset.zip`` inside the outer zip; older copies
    hold the ``UCI HAR Dataset/`` folder directly. Both layouts are accepted.
    """
    with zipfile.ZipFile(path) as outer:
        prefix = _har_prefix(outer)
        if prefix is not None:
            return zipfile.ZipFile(path), prefix
        nested = [n for n in outer.namelist()
                  if n.endswith("UCI HAR Dataset.zip") and not n.startswith("__MACOSX")]
        if nested:
            inner = zipfile.ZipFile(io.BytesIO(outer.read(nested[0])))
            prefix = _har_prefix(inner)
            if prefix is not None:
                return inner, prefix
            inner.close()
    raise ValueError(f"{path}: no 'UCI HAR Dataset/train/X_train.txt' (directly or in a nested "
                     "'UCI HAR Dataset.zip')")


def read_har_archive(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], dict[str, int]]:
    """UCI HAR zip -> (X of train then test rows, activity ids 1..6, feature names, row counts).

    Files per part: ``X_<part>.txt`` (561 whitespace-separated floats a row) and ``y_<part>.txt``
    (activity id a row); ``features.txt`` ("<index> <name>") names the columns when present.
    Only consistency is checked here (561 columns, matching row counts, ids in 1..6); the exact
    official shapes are checked by :func:`check_har_archive`.
    """
    archive, prefix = _open_har_tree(Path(path))
    d = HAR_EXPECTED["d"]
    with archive:
        names = set(archive.namelist())
        blocks, labels, counts = [], [], {}
        for part in ("train", "test"):
            x_name, y_name = f"{prefix}{part}/X_{part}.txt", f"{prefix}{part}/y_{part}.txt"
            if x_name not in names or y_name not in names:
                raise ValueError(f"{path}: missing {x_name} or {y_name}")
            with archive.open(x_name) as fh:
                X = pd.read_csv(fh, sep=r"\s+", header=None, dtype=np.float64).to_numpy()
            with archive.open(y_name) as fh:
                y = pd.read_csv(fh, sep=r"\s+", header=None).to_numpy().ravel().astype(np.int64)
            if X.shape[1] != d or len(X) != len(y):
                raise ValueError(f"{path}: {part} has X {X.shape} and y {y.shape}; expected (n, {d}), (n,)")
            blocks.append(X)
            labels.append(y)
            counts[part] = len(X)
        feature_names = tuple(f"f{i}" for i in range(d))
        if f"{prefix}features.txt" in names:
            lines = archive.read(f"{prefix}features.txt").decode().split("\n")
            listed = [line.split(None, 1)[1].strip() for line in lines if line.strip()]
            if len(listed) == d:  # names repeat in the official file; prefix with the index
                feature_names = tuple(f"{i + 1}:{n}" for i, n in enumerate(listed))
    classes = np.concatenate(labels)
    if set(np.unique(classes)) - set(range(1, 7)):
        raise ValueError(f"{path}: activity ids outside 1..6: {np.unique(classes)}")
    return np.vstack(blocks), classes, feature_names, counts


def check_har_archive(path: Path) -> None:
    """Structural check for an *unpinned* HAR download (registry sha256 is ``null``).

    No checksum of the official zip could be computed offline, so a fresh download is accepted
    only if it parses and has the documented shapes: 7352 train + 2947 test rows, 561 features,
    all 6 activities. This proves the shape, not the provenance: the resolver warns with the
    file's sha256 so that it can be pinned in ``data/registry.json``.
    """
    X, classes, _, counts = read_har_archive(path)
    expected = (HAR_EXPECTED["train"], HAR_EXPECTED["test"], HAR_EXPECTED["n_activities"])
    found = (counts["train"], counts["test"], len(np.unique(classes)))
    if found != expected:
        raise ValueError(f"(train rows, test rows, activities) = {found}, expected {expected}")


# ---------------------------------------------------------------------------------------------
# Demo stand-in
# ---------------------------------------------------------------------------------------------

def make_demo_multiclass(name: str, d: int, protocol: _Protocol | None = None, known_class: Any = None,
                         n_rows: int = DEMO_MULTICLASS_ROWS) -> MultiClassDataset:
    """Synthetic multi-class stand-in: normal blobs, one known-anomaly cluster, unknown clusters.

    Not the paper's data (``source="demo"``). Class labels and dimensionality mimic the real set;
    the mix is fixed: 75 % normal (split over the normal classes), 10 % known class, 15 % spread
    over the unknown classes (at least 5 rows each). Normal classes are Gaussian blobs in a
    3-dimensional latent subspace; the known class is one tight cluster off that subspace; each
    unknown class is a wider cluster elsewhere. Deterministic: seeded from the name.
    """
    protocol = protocol or _Protocol((0,), 1, (1, 2))
    known = protocol.known_class if known_class is None else known_class
    unknown = tuple(c for c in protocol.anomaly_classes if c != known)
    rng = np.random.default_rng(zlib.crc32(f"multiclass:{name}".encode()))
    n_known = max(n_rows // 10, 5)
    n_unknown = [max(int(round(0.15 * n_rows / len(unknown))), 5) for _ in unknown]
    n_normal_total = n_rows - n_known - sum(n_unknown)
    normals = protocol.normal_classes
    n_normal = [n_normal_total // len(normals) + (i < n_normal_total % len(normals))
                for i in range(len(normals))]
    latent = min(3, d)
    basis = rng.normal(size=(latent, d)) / np.sqrt(latent)
    parts, labels = [], []
    for cls, n in zip(normals, n_normal, strict=True):
        center = rng.normal(scale=3.0, size=latent)
        parts.append((center + rng.normal(size=(n, latent))) @ basis + 0.3 * rng.normal(size=(n, d)))
        labels += [cls] * n
    parts.append(rng.normal(scale=2.0, size=d) + 0.5 * rng.normal(size=(n_known, d)))
    labels += [known] * n_known
    for cls, n in zip(unknown, n_unknown, strict=True):
        parts.append(rng.uniform(-4, 4, size=d) + rng.normal(size=(n, d)))
        labels += [cls] * n
    X = np.vstack(parts)
    classes = np.asarray(labels)
    order = rng.permutation(len(X))
    return MultiClassDataset(
        name=name, X=X[order], classes=classes[order], normal_classes=tuple(normals), known_class=known,
        unknown_classes=unknown, feature_names=tuple(f"x{i}" for i in range(d)), source="demo",
        origin=f"synthetic demo stand-in for {name} (semiad.dads.data; not the paper's data)")


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

def _canonical(name: str) -> str:
    reverse = {v: k for k, v in _REGISTRY_NAME.items()}
    if name in _REGISTRY_NAME:
        return name
    if name in reverse:
        return reverse[name]
    raise ValueError(f"unknown multi-class dataset {name!r}; available: {list(MULTICLASS_DATASETS)}")


def load_multiclass(name: str, data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                    download: bool | None = None, *, known_class: Any = None,
                    **kwargs: Any) -> MultiClassDataset:
    """Load a multi-class dataset with its DADS/DPLAN normal / known / unknown class protocol.

    ``name`` is one of :data:`MULTICLASS_DATASETS` (protocols in the module docstring);
    ``known_class`` overrides the protocol's known anomaly class (the other anomaly classes
    become unknown). ``cardiotocography`` takes ``feature_set="clean21"`` (default) or ``"authors"``
    (:func:`read_ctg`); ``annthyroid`` takes ``rows="train_and_test"`` (default, 7,200 rows) or
    ``"train_file"`` (``ann-train.data``, 3,772 rows). ``unsw_nb15`` also takes ``categorical="onehot"``
    (default; 39 numeric + 151 one-hot = 190 features) or ``"drop"`` (39 features).
    ``on_missing="demo"`` returns :func:`make_demo_multiclass` output when the files cannot be found or
    downloaded; ``"error"`` raises :class:`DataNotFoundError` naming the file, URL and fix.
    """
    check_on_missing(on_missing)
    key = _canonical(name)
    allowed = {"unsw_nb15": {"categorical"}, "cardiotocography": {"feature_set"},
               "annthyroid": {"rows"}}.get(key, set())
    if set(kwargs) - allowed:
        raise TypeError(f"load_multiclass({key!r}) got unexpected options {sorted(set(kwargs) - allowed)}")
    protocol = _PROTOCOLS[key]
    known = protocol.known_class if known_class is None else known_class
    if known not in protocol.anomaly_classes:
        raise ValueError(f"known_class for {key!r} must be one of {protocol.anomaly_classes}, got {known!r}")
    spec = get_spec(_REGISTRY_NAME[key])
    check: Callable[[Path], None] | None = check_har_archive if key == "har" else None
    try:
        paths = list(resolve_files(spec, data_dir, download=download, check=check).values())
    except DataNotFoundError:
        if on_missing == "demo":
            d = int(spec.paper_stats["d"])
            if key == "unsw_nb15" and kwargs.get("categorical", "onehot") == "drop":
                d = 39
            if key == "cardiotocography":
                d = len(CTG_FEATURE_SETS[kwargs.get("feature_set", "clean21")])
            return make_demo_multiclass(key, d, protocol, known)
        raise
    if key == "annthyroid":
        rows = kwargs.get("rows", "train_and_test")
        if rows not in ANNTHYROID_ROWS:
            raise ValueError(f"annthyroid rows must be one of {ANNTHYROID_ROWS}, got {rows!r}")
        if rows == "train_file":
            paths = [p for p in paths if Path(p).name == "ann-train.data"]
        X, classes, features = read_annthyroid(paths)
    elif key == "cardiotocography":
        X, classes, features = read_ctg(paths[0], **kwargs)
    elif key == "shuttle_aad":
        X, classes, features = read_shuttle_aad(paths[0], paths[1])
    elif key == "unsw_nb15":
        X, classes, features = read_unsw_nb15(paths[0], **kwargs)
    else:
        X, classes, features, _ = read_har_archive(paths[0])
    present = set(np.unique(classes).tolist())
    unknown = tuple(c for c in protocol.anomaly_classes if c != known and c in present)
    return MultiClassDataset(key, X, classes, protocol.normal_classes, known, unknown, features, "real",
                             " + ".join(str(p) for p in paths))
