"""Find a dataset's files: data dir -> project cache -> verified download -> (caller's) demo data.

Resolution order (issue #2, "Data layer"):

1. ``data_dir`` argument, else ``$SEMIAD_DATA_DIR``;
2. the download cache ``$SEMIAD_CACHE_DIR`` (default ``~/.cache/semiad``);
3. a download from the registry URL into that cache, verified against the registry sha256
   (skipped when ``$SEMIAD_OFFLINE=1`` or ``download=False``);
4. otherwise :class:`DataNotFoundError`, whose message names the missing file, the URL and the
   command that fixes it. Falling back to embedded demo data is the *loader's* decision, made
   only when the caller asked for it, and always announced.

Unpinned files: a registry entry may give ``null`` instead of a sha256 when no trusted copy was
available to hash (e.g. UCI HAR, which could not be fetched while the registry was written). Such
a file is used without a checksum when found locally (with a warning that shows its sha256, so
it can be pinned), and a *download* of it is accepted only if the loader passes a structural
``check`` that the file passes; without a check the download is refused. A structural check is
weaker than a checksum — it proves the shape, not the provenance — and the warning says so.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path

from semiad.core.data.registry import DatasetSpec
from semiad.core.paths import download_cache_dir

_VERIFIED: set[tuple[str, int, float]] = set()
_UNPINNED_WARNED: set[tuple[str, int, float]] = set()


class DataNotFoundError(FileNotFoundError):
    """A dataset file is neither in the data dir nor the cache, and could not be downloaded."""


class ChecksumError(ValueError):
    """A dataset file exists but its sha256 does not match the registry."""


#: What a loader does when a configured data set is missing: ``"error"`` (name the files and the fix) or
#: ``"demo"`` (fall back to the embedded stand-in, announced). Notebooks also take ``"auto"``
#: (:func:`semiad.core.provenance.resolve_on_missing` turns it into one of these).
ON_MISSING: tuple[str, ...] = ("error", "demo")


def check_on_missing(on_missing: str) -> None:
    """A clear error for an ``on_missing`` that no loader understands (before any file is read)."""
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")


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


def _file_key(path: Path) -> tuple[str, int, float]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime


def _warn_unpinned(spec: DatasetSpec, rel: str, path: Path, how: str) -> None:
    """Say (once per file version) that ``path`` has no pinned sha256, and what its sha256 is."""
    key = _file_key(path)
    if key in _UNPINNED_WARNED:
        return
    _UNPINNED_WARNED.add(key)
    warnings.warn(f"dataset {spec.name!r}: {rel} has no pinned sha256 in the registry; {how}. "
                  f"Its sha256 is {sha256_of(path)} — pin it in data/registry.json once you trust "
                  "this copy.", stacklevel=4)


def _download(url: str, target: Path, expected: str | None, timeout: float = 60.0,
              check: Callable[[Path], None] | None = None) -> None:
    """Fetch ``url`` to ``target`` via a temporary file; keep it only if it passes verification.

    Verification is the sha256 ``expected``, or, when that is ``None`` (unpinned), ``check``;
    an unpinned file without a check is refused before anything is fetched.
    """
    if expected is None and check is None:
        raise ChecksumError(f"{target.name}: the registry pins no sha256 and the loader gives no "
                            "structural check, so a download cannot be verified; refusing it")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".part",
                                     delete=False) as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (registry URL)
                _copy_with_progress(response, tmp, target.name)
        except BaseException:  # offline, HTTP error, Ctrl-C: leave no partial file behind
            tmp.close()
            tmp_path.unlink(missing_ok=True)
            raise
    try:
        if expected is not None:
            verify(tmp_path, expected)
        else:
            try:
                check(tmp_path)  # type: ignore[misc]  # not None here (refused above)
            except Exception as exc:  # any parse error means "not the expected file"
                raise ChecksumError(f"{url}: the downloaded file fails the structural check "
                                    f"({exc}); it was not kept") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    os.replace(tmp_path, target)


def _copy_with_progress(response, out, name: str, chunk: int = 1 << 20) -> None:
    """Copy a download to ``out`` with a tqdm progress bar (total from Content-Length when sent)."""
    from tqdm.std import tqdm

    total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
    with tqdm(total=int(total) if total else None, unit="B", unit_scale=True, desc=f"download {name}",
              mininterval=2.0) as bar:
        while block := response.read(chunk):
            out.write(block)
            bar.update(len(block))


def resolve_files(spec: DatasetSpec, data_dir: str | os.PathLike | None = None,
                  download: bool | None = None,
                  check: Callable[[Path], None] | None = None) -> dict[str, Path]:
    """Absolute, checksum-verified paths of every file of ``spec`` (see module docstring).

    ``check`` (optional) validates the structure of a downloaded file whose registry sha256 is
    ``null``; it must raise on a file that is not the expected one. Pinned files ignore it.
    """
    if download is None:
        download = os.environ.get("SEMIAD_OFFLINE", "0") != "1"
    found: dict[str, Path] = {}
    missing: list[str] = []
    fixes: list[str] = []
    for rel, digest in spec.files.items():
        for base in candidate_dirs(data_dir):
            if (base / rel).is_file():
                if digest is None:
                    _warn_unpinned(spec, rel, base / rel, "it is used unverified")
                else:
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
                    _download(url, target, digest, check=check)
                    if digest is None:
                        _warn_unpinned(spec, rel, target, "the download passed the loader's structural "
                                       "check only")
                    found[rel] = target
                    continue
                except OSError as exc:  # URLError is an OSError: offline, DNS, HTTP errors
                    error = f"download failed ({exc})"
            missing.append(f"  - {rel}: {error}")
            fixes.append(f"  mkdir -p {target.parent} && curl -L -o {target} {url or spec.homepage}"
                         f"  ({f'sha256 {digest}' if digest else 'no pinned sha256'})")
    if missing:
        searched = ", ".join(str(d) for d in candidate_dirs(data_dir))
        raise DataNotFoundError(
            f"dataset {spec.name!r}: {len(missing)} of {len(spec.files)} file(s) not found in "
            f"[{searched}]:\n" + "\n".join(missing) + "\n"
            "Fix: point SEMIAD_DATA_DIR (or the notebook's data_dir) at a folder holding them, or fetch "
            "them:\n" + "\n".join(fixes))
    return found


def check_data_source(dataset: str, expected: str, found: str) -> None:
    """Fail if a worker loaded other data (real vs demo) than the cell's config was built for."""
    if found != expected:
        raise RuntimeError(f"cell expects {expected} data for {dataset} but the worker found {found} "
                           "data; check SEMIAD_DATA_DIR")
