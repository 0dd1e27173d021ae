"""On-disk result cache: one JSON file per experiment cell, keyed by a hash of its config.

The key covers the full config *and* the package version (joblib.Memory-style caches miss edits
to called functions; bumping ``semiad.__version__`` invalidates everything on purpose). Files are
written atomically (temp file + ``os.replace``), so an interrupted batch never leaves a half cell.
Only successful cells are cached; failures are logged under ``failed/`` for inspection and are
retried on the next run.

Nothing on disk is trusted: :meth:`ResultCache.get` uses a cell file only if it parses, has the record
schema, stores exactly the requested config (under the same hash) and its content checksum matches;
otherwise it warns with the file's path and the reason, and the cell is recomputed (and overwritten).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from semiad._version import __version__
from semiad.core.ledger import log_cell
from semiad.core.paths import results_dir


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"config value {obj!r} of type {type(obj).__name__} is not JSON-serialisable")


def config_hash(config: dict, version: str = __version__) -> str:
    """16 hex chars of sha256 over the canonical JSON of ``config`` plus the package version."""
    return hashlib.sha256(f"{version}|{canonical_json(config)}".encode()).hexdigest()[:16]


class CacheWarning(UserWarning):
    """A cached cell file was unusable (unreadable, malformed, edited) and will be recomputed."""


def record_checksum(record: dict) -> str:
    """sha256 of a record's canonical JSON without its own ``checksum`` field (detects edited files)."""
    body = {k: v for k, v in record.items() if k != "checksum"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def record_problem(record: object, config: dict) -> str | None:
    """Why a parsed cell file cannot stand for ``config`` (``None`` when it can)."""
    if not isinstance(record, dict):
        return f"expected a JSON object, found {type(record).__name__}"
    missing = [k for k in ("config", "hash", "status", "metrics", "checksum") if k not in record]
    if missing:
        return f"missing field(s) {missing}"
    if record["status"] != "ok":
        return f"status is {record['status']!r}, not 'ok'"
    if canonical_json(record["config"]) != canonical_json(config):
        return "its stored config differs from the requested one"
    if record["hash"] != config_hash(config):
        return f"its hash {record['hash']!r} is not the requested config's {config_hash(config)!r}"
    metrics = record["metrics"]
    if not isinstance(metrics, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isinf(v)
            for v in metrics.values()):
        return "metrics must be a JSON object of finite numbers (or NaN)"
    if record["checksum"] != record_checksum(record):
        return "its content does not match its checksum (the file was edited)"
    return None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultCache:
    """``root/cells/<task>/<hash>.json`` for results; ``root/artifacts/<task>/<hash>.*`` for weights."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else results_dir()

    def cell_path(self, config: dict) -> Path:
        return self.root / "cells" / config["task"] / f"{config_hash(config)}.json"

    def artifact_path(self, config: dict, suffix: str = ".pt") -> Path:
        return self.root / "artifacts" / config["task"] / f"{config_hash(config)}{suffix}"

    def get(self, config: dict) -> dict | None:
        """The validated record of ``config``, or ``None`` (missing, or unusable: warns, names the file)."""
        path = self.cell_path(config)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problem = f"not readable as JSON ({type(exc).__name__}: {exc})"
        else:
            problem = record_problem(record, config)
        if problem is not None:
            warnings.warn(f"ignoring cached cell {path}: {problem}; recomputing it", CacheWarning,
                          stacklevel=2)
            return None
        log_cell("hit", record)
        return record

    def put(self, record: dict) -> Path:
        config = record["config"]
        record = {**record, "checksum": record_checksum(record)}
        if record.get("status") == "ok":
            path = self.cell_path(config)
        else:
            path = self.root / "failed" / config["task"] / f"{config_hash(config)}.json"
        atomic_write_bytes(path, json.dumps(record, indent=1, default=_json_default).encode())
        log_cell("put", record)
        return path
