"""On-disk result cache: one JSON file per experiment cell, keyed by a hash of its config.

The key covers the full config *and* the package version (joblib.Memory-style caches miss edits
to called functions; bumping ``semiad.__version__`` invalidates everything on purpose). Files are
written atomically (temp file + ``os.replace``), so an interrupted batch never leaves a half cell.
Only successful cells are cached; failures are logged under ``failed/`` for inspection and are
retried on the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from semiad._version import __version__
from semiad.paths import results_dir


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
        path = self.cell_path(config)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError:  # cannot happen with atomic writes, but never trust disk
            return None
        return record if record.get("status") == "ok" else None

    def put(self, record: dict) -> Path:
        config = record["config"]
        if record.get("status") == "ok":
            path = self.cell_path(config)
        else:
            path = self.root / "failed" / config["task"] / f"{config_hash(config)}.json"
        atomic_write_bytes(path, json.dumps(record, indent=1, default=_json_default).encode())
        return path
