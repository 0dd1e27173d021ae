"""CIFAR-10 (Krizhevsky, 2009) without torchvision: the official python archive or a pickle-free ``.npz``.

Used by the Deep SAD image experiments (Ruff et al., ICLR 2020, Sec. 4.2: ten one-class AD setups on
CIFAR-10; App. D: the 32-64-128 LeNet-type CNN). Two on-disk sources are understood:

* ``cifar10/cifar-10-python.tar.gz``: the official archive
  (https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, md5 ``c58f30108f718f92721af3b95e74349a``
  as published on the dataset page). Its members ``cifar-10-batches-py/data_batch_1..5`` and
  ``test_batch`` are Python-2 pickles (protocol 2) of dicts ``{'batch_label', 'labels', 'data',
  'filenames'}``; ``data`` is a numpy ``uint8`` array (10000, 3072) whose rows are the 1024 red, then
  green, then blue values of a 32 x 32 image in row-major order; ``labels`` a list of ints 0..9.
  The batches are read **only** through :class:`RestrictedUnpickler`, which resolves exactly the three
  globals a numpy array needs (``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
  ``numpy.dtype``) and refuses every other global, so a tampered archive cannot run code (plain dicts,
  lists, ints and byte strings need no global at all). They are decoded with ``encoding="bytes"``
  (as the dataset page instructs), so keys are ``b"data"``/``b"labels"``; str keys are accepted too.
  Members are read from the tar in memory; nothing is extracted to disk.
* ``cifar10/cifar10.npz``: the converted file of ``../shared/data/cifar10/build_cifar10_npz.py``
  (arrays ``x_train`` (50000, 32, 32, 3) / ``x_test`` (10000, 32, 32, 3) uint8 HWC RGB, ``y_train`` /
  ``y_test`` int64, original order), read with ``np.load(..., allow_pickle=False)``. Its zip members
  carry build timestamps, so the *file* hash is not reproducible; instead the four arrays are checked
  against the sha256 values of ``PROVENANCE.md`` (:data:`NPZ_ARRAY_SHA256`).

Layout decision: images are returned **channels-first, uint8 (n, 3, 32, 32)** (the archive's native
row layout and PyTorch's), labels int64 (n,). Scaling to [0, 1] (paper Sec. 4.2: "min-max feature
scaling as the only data pre-processing step") is done by :mod:`semiad.deep_sad.image_settings`.

Verification (``official=True``, the default): 50000 / 10000 rows with 5000 / 1000 per class, plus the
archive's md5 (or the npz's array hashes); a mismatch raises :class:`CifarFormatError`.
``official=False`` keeps only the structural checks (used for the tiny files of the test-suite).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from semiad.core.data.registry import DatasetSpec, get_spec
from semiad.core.data.resolve import DataNotFoundError, resolve_files

SPLITS: tuple[str, ...] = ("train", "test")
CLASS_NAMES: tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                "ship", "truck")
IMAGE_SHAPE: tuple[int, int, int] = (3, 32, 32)
EXPECTED_ROWS: dict[str, int] = {"train": 50000, "test": 10000}

ARCHIVE_FILE = "cifar10/cifar-10-python.tar.gz"
NPZ_FILE = "cifar10/cifar10.npz"
ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
#: md5 published on https://www.cs.toronto.edu/~kriz/cifar.html for the python version.
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
#: Batch pickles inside the archive, per split, in the order their rows are concatenated.
ARCHIVE_MEMBERS: dict[str, tuple[str, ...]] = {
    "train": tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)),
    "test": ("cifar-10-batches-py/test_batch",),
}
#: sha256 of the raw C-order bytes of the npz arrays (HWC images), from ../shared/data/cifar10/PROVENANCE.md.
NPZ_ARRAY_SHA256: dict[str, str] = {
    "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
    "y_train": "f5cfe00b0f00968c0cc5ff3b1d2de51b10e33efa277c2986f4e0fa63e58c9f4f",
    "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
    "y_test": "cbb7365de8ed11f05cc4c3a1e7f78144127c5e851efd83762fb18202461230bb",
}
#: A decompressed batch is ~30 MB; anything far larger is refused before reading (decompression bomb).
MAX_MEMBER_BYTES = 64 << 20

_CITATION = ("Krizhevsky, A. (2009). Learning Multiple Layers of Features from Tiny Images. Tech. report, "
             "University of Toronto; https://www.cs.toronto.edu/~kriz/cifar.html")
#: The entries ``data/registry.json`` should hold (used as a fallback until they are added there).
REGISTRY_ENTRIES: dict[str, dict[str, Any]] = {
    "cifar10": {
        "kind": "cifar10",
        "files": {ARCHIVE_FILE: None},
        "urls": {ARCHIVE_FILE: ARCHIVE_URL},
        "homepage": "https://www.cs.toronto.edu/~kriz/cifar.html",
        "license": "no explicit license; distributed by the authors for research use",
        "citation": _CITATION,
        "paper_stats": {"n_train": 50000, "n_test": 10000, "d": 3072, "n_classes": 10},
    },
    "cifar10_npz": {
        "kind": "cifar10",
        "files": {NPZ_FILE: None},
        "urls": {},
        "homepage": "https://www.cs.toronto.edu/~kriz/cifar.html",
        "license": "no explicit license; distributed by the authors for research use",
        "citation": _CITATION + " (pickle-free conversion: ../shared/data/cifar10/PROVENANCE.md)",
        "paper_stats": {"n_train": 50000, "n_test": 10000, "d": 3072, "n_classes": 10},
    },
}


class CifarFormatError(ValueError):
    """A CIFAR-10 file is malformed, or (``official=True``) not the official data."""


# ------------------------------------------------------------------------------------------ pickles
def _numpy_reconstruct() -> Any:
    try:  # numpy >= 2 moved the implementation to numpy._core (numpy.core is a deprecated alias)
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that admits only the globals a pickled numpy array references.

    The official batches (Python 2, protocol 2) reference exactly ``numpy.core.multiarray._reconstruct``,
    ``numpy.ndarray`` and ``numpy.dtype``; the ``numpy._core.multiarray`` spelling of the first is what a
    numpy-2 re-pickle writes. Anything else (``os.system``, ``builtins.eval``, ``copyreg`` tricks, ...)
    raises :class:`pickle.UnpicklingError` before it is imported.
    """

    ALLOWED: frozenset[tuple[str, str]] = frozenset({
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name} in a CIFAR-10 batch "
                                         f"(only numpy array reconstruction is allowed)")
        if name == "_reconstruct":
            return _numpy_reconstruct()
        return np.ndarray if name == "ndarray" else np.dtype


def restricted_loads(data: bytes) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (``encoding="bytes"``, official batches)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()


def _get(batch: dict, key: str) -> Any:
    for k in (key.encode(), key):
        if k in batch:
            return batch[k]
    raise CifarFormatError(f"batch has no {key!r} entry (keys: {sorted(map(repr, batch))[:6]})")


def parse_batch(obj: Any, source: str = "<batch>") -> tuple[np.ndarray, np.ndarray]:
    """Validate one unpickled batch dict; return uint8 images (n, 3, 32, 32) and int64 labels (n,)."""
    if not isinstance(obj, dict):
        raise CifarFormatError(f"{source}: expected a dict, got {type(obj).__name__}")
    data, labels = _get(obj, "data"), _get(obj, "labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != int(np.prod(IMAGE_SHAPE)):
        raise CifarFormatError(f"{source}: 'data' must be a uint8 array (n, 3072), got {type(data).__name__} "
                               f"{getattr(data, 'dtype', '')} {getattr(data, 'shape', '')}")
    if isinstance(labels, np.ndarray) and labels.dtype.kind not in "iu":
        raise CifarFormatError(f"{source}: 'labels' must hold integers, got dtype {labels.dtype}")
    if not isinstance(labels, (list, np.ndarray)) or \
            (isinstance(labels, list) and not all(type(v) is int for v in labels)):
        raise CifarFormatError(f"{source}: 'labels' must be a list of ints")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(data),):
        raise CifarFormatError(f"{source}: {labels.shape} labels for {len(data)} images")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise CifarFormatError(f"{source}: labels outside 0..9")
    return np.ascontiguousarray(data.reshape(-1, *IMAGE_SHAPE)), labels


# ------------------------------------------------------------------------------------------ readers
def file_md5(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """md5 hex digest of a file (the checksum the CIFAR-10 page publishes)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _read_member(tf: tarfile.TarFile, name: str, source: str) -> bytes:
    try:
        member = tf.getmember(name)
    except KeyError:
        raise CifarFormatError(f"{source}: member {name!r} missing (an official archive holds "
                               f"{[*ARCHIVE_MEMBERS['train'], *ARCHIVE_MEMBERS['test']]})") from None
    if not member.isfile():
        raise CifarFormatError(f"{source}: member {name!r} is not a regular file")
    if member.size > MAX_MEMBER_BYTES:
        raise CifarFormatError(f"{source}: member {name!r} has {member.size} bytes (> {MAX_MEMBER_BYTES})")
    fh = tf.extractfile(member)
    assert fh is not None  # a regular file always has a file object
    return fh.read()


def read_cifar10_archive(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Both splits of an archive in the official layout: ``{split: (images (n,3,32,32) uint8, labels)}``."""
    source = str(path)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tf:
            for split, members in ARCHIVE_MEMBERS.items():
                parts = []
                for name in members:
                    raw = _read_member(tf, name, source)
                    try:
                        obj = restricted_loads(raw)
                    except Exception as exc:  # any unpickling failure means "not a CIFAR-10 batch"
                        raise CifarFormatError(f"{source}:{name}: not a valid CIFAR-10 batch "
                                               f"({exc})") from exc
                    parts.append(parse_batch(obj, f"{source}:{name}"))
                out[split] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CifarFormatError(f"{source}: not a readable .tar.gz archive ({exc})") from exc
    return out


def _array_sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def read_cifar10_npz(path: str | os.PathLike,
                     verify_hashes: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Both splits of a converted ``.npz`` (``np.load(allow_pickle=False)``), images made channels-first.

    ``verify_hashes``: compare the four arrays with :data:`NPZ_ARRAY_SHA256` (the complete official data).
    """
    source = str(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as exc:
        raise CifarFormatError(f"{source}: missing array {exc} "
                               "(need x_train, y_train, x_test, y_test)") from None
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise CifarFormatError(f"{source}: not a pickle-free .npz ({exc})") from exc
    if verify_hashes:
        for key, expected in NPZ_ARRAY_SHA256.items():
            if _array_sha256(arrays[key]) != expected:
                raise CifarFormatError(f"{source}: array {key} differs from the official CIFAR-10 "
                                       "(sha256 mismatch with PROVENANCE.md)")
    out = {}
    for split in SPLITS:
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
            raise CifarFormatError(f"{source}: x_{split} must be uint8 (n, 32, 32, 3), "
                                   f"got {x.dtype} {x.shape}")
        if y.dtype.kind not in "iu" or y.shape != (len(x),):
            raise CifarFormatError(f"{source}: y_{split} must be integer (n,), got {y.dtype} {y.shape}")
        y = y.astype(np.int64)
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise CifarFormatError(f"{source}: y_{split} outside 0..9")
        out[split] = (np.ascontiguousarray(x.transpose(0, 3, 1, 2)), y)
    return out


def check_official(arrays: dict[str, tuple[np.ndarray, np.ndarray]], source: str) -> None:
    """Raise unless the splits have the official sizes (50000 / 10000) and class counts (5000 / 1000)."""
    for split, (images, labels) in arrays.items():
        n = EXPECTED_ROWS[split]
        counts = np.bincount(labels, minlength=10)
        if len(images) != n or not np.all(counts == n // 10):
            raise CifarFormatError(f"{source}: {split} split has {len(images)} images with class counts "
                                   f"{counts.tolist()}; the official CIFAR-10 has {n} ({n // 10} per class)")


def check_archive(path: Path) -> None:
    """Structural + provenance check of a downloaded archive (for :func:`resolve_files`' ``check``).

    The registry pins no sha256 for the archive (no trusted copy was available to hash here); this
    check demands the md5 the CIFAR-10 page publishes and a parse of all six batches.
    """
    digest = file_md5(path)
    if digest != ARCHIVE_MD5:
        raise CifarFormatError(f"{path}: md5 {digest} is not the official {ARCHIVE_MD5}")
    check_official(read_cifar10_archive(path), str(path))


@lru_cache(maxsize=4)
def _read_cached(path: str, kind: str, official: bool,
                 _key: tuple) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if kind == "archive":
        if official and file_md5(path) != ARCHIVE_MD5:
            raise CifarFormatError(f"{path}: md5 {file_md5(path)} is not the official {ARCHIVE_MD5} "
                                   "(pass official=False to read a non-official archive)")
        arrays = read_cifar10_archive(path)
    else:
        arrays = read_cifar10_npz(path, verify_hashes=official)
    if official:
        check_official(arrays, path)
    for images, labels in arrays.values():  # shared between callers through the cache
        images.setflags(write=False)
        labels.setflags(write=False)
    return arrays


# ------------------------------------------------------------------------------------------ loader
@dataclass(frozen=True, eq=False)
class CifarImages:
    """Images (n, 3, 32, 32) uint8 and labels (n,) int64 of one split; unpacks as ``images, labels``."""

    split: str
    images: np.ndarray
    labels: np.ndarray
    origin: str

    name: str = "cifar10"

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.images, self.labels))

    def __len__(self) -> int:
        return len(self.labels)


def _spec(name: str) -> DatasetSpec:
    """Registry entry ``name``; the module's :data:`REGISTRY_ENTRIES` until the registry holds it."""
    try:
        return get_spec(name)
    except ValueError:
        return DatasetSpec(name=name, **REGISTRY_ENTRIES[name])


def cifar10_path(data_dir: str | os.PathLike | None = None, download: bool | None = None,
                 source: str = "auto", arrays_verified: bool = False) -> tuple[Path, str]:
    """(path, kind) of the CIFAR-10 file to read; ``kind`` is ``"npz"`` or ``"archive"``.

    ``source="auto"`` prefers a local ``cifar10/cifar10.npz`` (data dir, then cache; never downloaded —
    it has no URL) and otherwise resolves the official archive (data dir -> cache -> download, the
    download accepted only if :func:`check_archive` passes). ``arrays_verified``: the caller checks the
    npz's arrays against PROVENANCE.md's hashes, so the unpinned-file warning is not shown.
    """
    if source not in ("auto", "npz", "archive"):
        raise ValueError(f"source must be 'auto', 'npz' or 'archive', got {source!r}")
    errors = []
    if source in ("auto", "npz"):
        try:
            with warnings.catch_warnings():
                # the npz's *file* hash depends on how it was zipped; with official=True its *arrays* are
                # checked against PROVENANCE.md's sha256 values when read, so no file pin is needed
                if arrays_verified:
                    warnings.filterwarnings("ignore", message=".*no pinned sha256.*")
                return resolve_files(_spec("cifar10_npz"), data_dir, download=False)[NPZ_FILE], "npz"
        except DataNotFoundError as exc:
            if source == "npz":
                raise
            errors.append(str(exc))
    try:
        paths = resolve_files(_spec("cifar10"), data_dir, download=download, check=check_archive)
    except DataNotFoundError as exc:
        raise DataNotFoundError("\n".join([*errors, str(exc)])) from None
    return paths[ARCHIVE_FILE], "archive"


def load_cifar10(split: str = "train", data_dir: str | os.PathLike | None = None,
                 download: bool | None = None, source: str = "auto", official: bool = True) -> CifarImages:
    """Load CIFAR-10 ``split`` (``"train"``: data_batch_1..5 in order; ``"test"``: test_batch).

    Returns read-only uint8 images (n, 3, 32, 32) (channels-first, RGB) and int64 labels 0..9 in the
    original order (copy before modifying). Parsed files are memoised per file version. See the module
    docstring for sources, ``official`` and the safety of the pickle path.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path, kind = cifar10_path(data_dir, download, source, arrays_verified=official)
    stat = path.stat()
    arrays = _read_cached(str(path), kind, official, (stat.st_size, stat.st_mtime))
    images, labels = arrays[split]
    return CifarImages(split, images, labels, str(path))
