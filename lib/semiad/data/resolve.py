"""Find a dataset's files: data dir -> project cache -> verified download -> (caller's) demo data.

Resolution order (issue #2, "Data layer"):

1. ``data_dir`` argument, else ``$SEMIAD_DATA_DIR``;
2. the download cache ``$SEMIAD_CACHE_DIR`` (default ``~/.cache/semiad``);
3. a download from the registry URL into that cache, verified against the registry sha256
   (skipped when ``$SEMIAD_OFFLINE=1`` or ``download=False``);
4. otherwise :class:`DataNotFoundError`, whose message names the missing file, the URL and the
   command that fixes it. Falling back to embedded demo data is the *loader's* decision, made
   only when the caller asked for it, and always announced.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
import warnings
from pathlib import Path

from semiad.data.registry import DatasetSpec
from semiad.paths import download_cache_dir

_VERIFIED: set[tuple[str, int, float]] = set()


class DataNotFoundError(FileNotFoundError):
    """A dataset file is neither in the data dir nor the cache, and could not be downloaded."""


class ChecksumError(ValueError):
    """A dataset file exists but its sha256 does not match the registry."""


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, expected: str) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has sha256 ``expected`` (memoised per file)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime)
    if key in _VERIFIED:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(f"{path}: sha256 {actual} does not match the registry ({expected}); "
                            "the file is corrupt or a different version — delete it and re-fetch")
    _VERIFIED.add(key)


def candidate_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    dirs = []
    configured = data_dir if data_dir is not None else os.environ.get("SEMIAD_DATA_DIR")
    if configured:
        path = Path(configured).expanduser().absolute()
        if not path.is_dir():
            warnings.warn(f"configured data directory {path} does not exist "
                          f"(from {'data_dir' if data_dir is not None else 'SEMIAD_DATA_DIR'}; "
                          f"relative paths are resolved against {Path.cwd()})", stacklevel=3)
        dirs.append(path)
    dirs.append(download_cache_dir())
    return dirs


def _download(url: str, target: Path, expected: str, timeout: float = 60.0) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp_path = Path(tmp.name)
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https URL from registry)
            shutil.copyfileobj(response, tmp)
    try:
        verify(tmp_path, expected)
    except ChecksumError:
        tmp_path.unlink(missing_ok=True)
        raise
    os.replace(tmp_path, target)


def resolve_files(spec: DatasetSpec, data_dir: str | os.PathLike | None = None,
                  download: bool | None = None) -> dict[str, Path]:
    """Absolute, checksum-verified paths of every file of ``spec`` (see module docstring)."""
    if download is None:
        download = os.environ.get("SEMIAD_OFFLINE", "0") != "1"
    found: dict[str, Path] = {}
    for rel, digest in spec.files.items():
        for base in candidate_dirs(data_dir):
            if (base / rel).is_file():
                verify(base / rel, digest)
                found[rel] = base / rel
                break
        else:
            target = download_cache_dir() / rel
            url = spec.urls.get(rel)
            error = ("downloads are disabled (download=False or SEMIAD_OFFLINE=1)" if not download
                     else "no download URL is registered")
            if download and url:
                try:
                    _download(url, target, digest)
                    found[rel] = target
                    continue
                except OSError as exc:  # URLError is an OSError: offline, DNS, HTTP errors
                    error = f"download failed ({exc})"
            searched = ", ".join(str(d) for d in candidate_dirs(data_dir))
            raise DataNotFoundError(
                f"dataset {spec.name!r}: file {rel!r} not found in [{searched}]; {error}.\n"
                f"Fix: point SEMIAD_DATA_DIR (or the notebook's data_dir) at a folder holding {rel}, "
                f"or fetch it:  mkdir -p {target.parent} && curl -L -o {target} {url or spec.homepage}"
                f"  (sha256 {digest})")
    return found
