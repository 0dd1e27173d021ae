"""Which cells a run used, and what they cost: the per-notebook accounting of ``run_all``'s summary.

When ``SEMIAD_CELL_LEDGER`` names a file, every :class:`~semiad.core.cache.ResultCache` read that finds a
record (``hit``) and every record written (``put``) appends one JSON line to it: task, cell hash, status
and the record's ``runtime_s`` (the compute time of that cell when it was computed, on whichever machine
and load computed it). Loky/Dask workers inherit the variable, and each line is one ``O_APPEND`` write
(atomic for lines this short on a local disk), so worker processes can share the file.

:func:`summarize` turns a ledger into :class:`CellCost`: how many distinct cells a notebook used, how many
it computed now, and the recorded CPU time of all of them — the time an empty cache would have to spend
on cells, which is what a warm rerun hides. ``python -m semiad.core.batch`` sets the variable per notebook.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "SEMIAD_CELL_LEDGER"


def log_cell(event: str, record: dict) -> None:
    """Append ``event`` (``"hit"`` or ``"put"``) for ``record`` to the ledger, if one is configured."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    line = json.dumps({"event": event, "task": record.get("config", {}).get("task"),
                       "hash": record.get("hash"), "status": record.get("status"),
                       "runtime_s": record.get("runtime_s")}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@dataclass(frozen=True)
class CellCost:
    """Distinct ok cells a run used, how many it computed now, and their recorded CPU seconds."""

    cells: int
    computed: int
    cpu_s: float          # recorded runtime_s of every distinct ok cell used
    computed_cpu_s: float  # ... of the cells computed in this run
    runtime_s: dict[str, float] = field(default_factory=dict, compare=False, repr=False)  # per cell hash
    computed_hashes: frozenset[str] = field(default_factory=frozenset, compare=False, repr=False)

    @property
    def cached_cpu_s(self) -> float:
        """CPU seconds the cache saved this run (what an empty cache would add)."""
        return self.cpu_s - self.computed_cpu_s

    def cached_cpu_s_excluding(self, seen: set[str]) -> float:
        """:attr:`cached_cpu_s` without the cells in ``seen`` (those an earlier notebook of the same
        batch used: from an empty cache, the batch computes a shared cell once, where first used)."""
        return sum(t for h, t in self.runtime_s.items() if h not in seen and h not in self.computed_hashes)


def ok_entries(path: str | os.PathLike) -> list[dict]:
    """The ledger's lines for successful cells, in order (an absent file: none)."""
    file = Path(path)
    entries = [json.loads(line) for line in file.read_text().splitlines()] if file.is_file() else []
    return [e for e in entries if e.get("status") == "ok" and e.get("hash")]


def summarize(path: str | os.PathLike) -> CellCost:
    """The :class:`CellCost` of a ledger file (an absent file: a run that used no cells)."""
    cost: dict[str, float] = {}
    computed: set[str] = set()
    for entry in ok_entries(path):
        cost[entry["hash"]] = float(entry.get("runtime_s") or 0.0)
        if entry["event"] == "put":
            computed.add(entry["hash"])
    return CellCost(cells=len(cost), computed=len(computed), cpu_s=sum(cost.values()),
                    computed_cpu_s=sum(cost[h] for h in computed), runtime_s=cost,
                    computed_hashes=frozenset(computed))
