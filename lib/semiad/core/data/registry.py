"""Dataset registry: name -> files + sha256, download URLs, license and citation.

The registry itself is data (``data/registry.json``) so that adding a dataset is a reviewed,
one-place change; this module only reads and validates it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from semiad.core.paths import PROJECT_DATA_DIR

REGISTRY_FILE = PROJECT_DATA_DIR / "registry.json"


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, verify, fetch and cite one dataset."""

    name: str
    kind: str
    files: dict[str, str | None]  # relative path -> sha256 (None: not pinned, see resolve.py)
    urls: dict[str, str] = field(default_factory=dict)
    homepage: str = ""
    license: str = ""
    citation: str = ""
    paper_stats: dict[str, int] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _registry() -> dict[str, DatasetSpec]:
    raw = json.loads(REGISTRY_FILE.read_text())
    return {name: DatasetSpec(name=name, **entry)
            for name, entry in raw.items() if not name.startswith("_")}


def list_datasets(kind: str | None = None) -> list[str]:
    """Registered dataset names (optionally only those of one loader kind)."""
    return sorted(n for n, s in _registry().items() if kind is None or s.kind == kind)


def get_spec(name: str) -> DatasetSpec:
    """The registry entry of ``name``; a clear error listing the known names otherwise."""
    try:
        return _registry()[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; registered datasets: {list_datasets()}") from None
