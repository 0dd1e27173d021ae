"""MNIST and Fashion-MNIST from their original idx ``.gz`` files (no torchvision, no pickle).

Used by the UaiNets synthetic sets (UaiNets, Sec. 4.1, App. A.2 and App. B.3: MNIST0, MNIST0-2,
MNISThard, MNISTpca and their Fashion-MNIST twins) and by any other image experiment of the
package. Files are found through :func:`semiad.core.data.resolve.resolve_files` (data dir -> cache ->
download verified against the sha256 pinned in ``data/registry.json``).

The idx format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian header
``0x00 0x00 <dtype code> <ndim>`` followed by ``ndim`` big-endian uint32 dimension sizes, then
the values in C order. MNIST/Fashion-MNIST images are ``0x00000803`` (uint8, 3 dims: n x 28 x
28), labels ``0x00000801`` (uint8, 1 dim: n).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from semiad.core.data.registry import get_spec
from semiad.core.data.resolve import resolve_files

#: Image sets with idx files in the registry (registry name = data folder name).
IDX_DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist")
SPLITS: tuple[str, ...] = ("train", "test")
#: idx dtype codes (third header byte) -> numpy big-endian dtype.
IDX_DTYPES: dict[int, str] = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
                              0x0E: ">f8"}
#: Official sizes of the four files of each set (checked after parsing).
EXPECTED_ROWS: dict[str, int] = {"train": 60000, "test": 10000}
_FILE_PREFIX = {"train": "train", "test": "t10k"}


class IdxFormatError(ValueError):
    """A file is not a well-formed idx file (bad magic number, dimensions or length)."""


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the raw (decompressed) bytes of one idx file into a native-endian numpy array.

    Raises :class:`IdxFormatError` on a bad magic number, an unknown dtype code, or a payload
    whose length does not equal the product of the header's dimensions.
    """
    if len(data) < 4:
        raise IdxFormatError(f"{source}: {len(data)} bytes, too short for an idx header")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or code not in IDX_DTYPES or ndim == 0:
        raise IdxFormatError(f"{source}: bad idx magic number 0x{data[:4].hex()} (expected "
                             "0x0000<dtype><ndim>, e.g. 0x00000803 images, 0x00000801 labels)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(f"{source}: truncated header ({len(data)} bytes, need {header})")
    dims = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise IdxFormatError(f"{source}: payload has {len(data) - header} bytes, header dims {dims} "
                             f"x {dtype.itemsize} bytes need {expected}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one idx file, gzip-compressed (by its ``1f 8b`` magic) or raw."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return parse_idx(raw, str(path))


@dataclass(frozen=True, eq=False)
class IdxImages:
    """Images (n, 28, 28) uint8 and labels (n,) int64 of one split; unpacks as ``images, labels``."""

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    origin: str

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.images, self.labels))

    def __len__(self) -> int:
        return len(self.labels)


def to_float01(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1] (division by 255), same shape."""
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels, got {images.dtype}")
    return images.astype(np.float32) / np.float32(255.0)


def flatten01(images: np.ndarray) -> np.ndarray:
    """uint8 (n, h, w) -> float32 (n, h*w) in [0, 1]: the input layout of the UaiNets MLPs."""
    return to_float01(images).reshape(len(images), -1)


def idx_files(split: str) -> tuple[str, str]:
    """File names (images, labels) of ``split`` in the original distribution."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    prefix = _FILE_PREFIX[split]
    return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


@lru_cache(maxsize=8)
def _read_pair(images_path: str, labels_path: str, _key: tuple) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    images.setflags(write=False)  # shared between callers through the cache
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def load_idx_dataset(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
                     download: bool | None = None) -> IdxImages:
    """Load ``name`` (``"mnist"`` or ``"fashion_mnist"``), ``split`` ``"train"`` or ``"test"``.

    Returns read-only uint8 images (n, 28, 28) and int64 labels 0..9 in the original order
    (copy before modifying; :func:`to_float01` / :func:`flatten01` return new arrays). The files
    are checksum-verified; a missing file raises :class:`~semiad.core.data.resolve.DataNotFoundError`
    naming the download URL. Parsed arrays are memoised per file version.
    """
    if name not in IDX_DATASETS:
        raise ValueError(f"unknown idx dataset {name!r}; available: {list(IDX_DATASETS)}")
    image_file, label_file = idx_files(split)
    spec = get_spec(name)
    paths = resolve_files(spec, data_dir, download=download)
    image_path = next(p for rel, p in paths.items() if rel.endswith(image_file))
    label_path = next(p for rel, p in paths.items() if rel.endswith(label_file))
    key = tuple((p.stat().st_size, p.stat().st_mtime) for p in (image_path, label_path))
    images, labels = _read_pair(str(image_path), str(label_path), key)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise IdxFormatError(f"{image_path}: expected uint8 (n, 28, 28) images, got {images.dtype} "
                             f"{images.shape}")
    if labels.shape != (len(images),) or len(images) != EXPECTED_ROWS[split]:
        raise IdxFormatError(f"{label_path}: {labels.shape} labels for {len(images)} images "
                             f"(expected {EXPECTED_ROWS[split]} of each)")
    if labels.min() < 0 or labels.max() > 9:
        raise IdxFormatError(f"{label_path}: labels outside 0..9")
    return IdxImages(name, split, images, labels, f"{image_path} + {label_path}")
