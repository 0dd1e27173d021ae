"""Run a notebook's grid on a cluster, into the same JSON cache the notebook then reads (``docs/cluster.md``).

Two engines, both computing cells with :func:`~semiad.core.grid.run_cell` (so every finished cell is
one validated JSON file under ``cells/<task>/<hash>.json`` of the cache root, exactly as a notebook run
writes it, and a rerun of the notebook computes nothing):

* **Dask** (interactive, elastic): create a ``distributed.Client`` on a ``dask_jobqueue.SLURMCluster``
  (or a ``LocalCluster``) and run the stages with ``backend="dask"``: :func:`run_stages`.
* **submitit** (batch, job arrays): :func:`submit_cells` cuts the uncached cells of one task into chunks,
  one array task per chunk (each may run ``n_jobs`` local worker processes); :func:`submit_stages` runs
  the stages of a grid one after another (an ODDS method cell reads its autoencoder from the cache, so the
  autoencoder stage must finish first).

A *stage* is ``(task, configs)``: a :func:`~semiad.core.grid.cell_task` function, referenced
directly, and its cells. :mod:`semiad.grids` returns the stages of each paper's grids for the same
arguments the notebook passes to its ``run_*`` function, so the cells (and their cache keys) are the
notebook's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from semiad.core.cache import ResultCache, config_hash
from semiad.core.grid import CellsFailedError, TaskFn, run_grid, task_name, validate_configs

#: One stage of a grid: the task function (by reference) and its cells.
Stage = tuple[TaskFn, list[dict]]
#: A function run inside a job on its chunk before the cells are computed one by one, with
#: ``(configs, runtime, cache_root)``: e.g. :func:`semiad.deep_sad.images.run_stacked`, which
#: fills the cache for the stackable cells of the chunk on a GPU.
Prefill = Callable[[list[dict], dict, str], Any]


# ------------------------------------------------------------------------------------------ running cells
def pending_cells(configs: Sequence[dict], cache_root: str | os.PathLike | None = None) -> list[dict]:
    """The cells of ``configs`` without a valid cached record, each distinct config once, in order."""
    cache = ResultCache(cache_root)
    seen: set[str] = set()
    out = []
    for cfg in configs:
        key = config_hash(cfg)
        if key not in seen and cache.get(cfg) is None:
            seen.add(key)
            out.append(cfg)
    return out


def chunked(configs: Sequence[dict], chunk_size: int) -> list[list[dict]]:
    """``configs`` cut into consecutive chunks of at most ``chunk_size`` cells."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return [list(configs[i:i + chunk_size]) for i in range(0, len(configs), chunk_size)]


def run_chunk(task: TaskFn, configs: list[dict], runtime: dict | None, cache_root: str, n_jobs: int = 1,
              prefill: Prefill | None = None) -> list[dict]:
    """What one array task runs: ``prefill`` (if any), then ``run_grid`` on the chunk with ``n_jobs`` loky
    workers, skipping cells cached meanwhile. Returns the chunk's records; a failed cell is recorded
    (``status="failed"``, under ``failed/``), not raised, so the rest of the chunk still runs."""
    runtime = {**(runtime or {}), "cache_root": cache_root}
    if prefill is not None:
        prefill(pending_cells(configs, cache_root), runtime, cache_root)
    return run_grid(task, configs, n_jobs=n_jobs, runtime=runtime, cache_root=cache_root, progress=False,
                    on_failure="record")


def submit_cells(task: TaskFn, configs: Sequence[dict], executor, *, chunk_size: int = 16, n_jobs: int = 1,
                 runtime: dict | None = None, cache_root: str | os.PathLike | None = None,
                 order: Callable[[dict], Any] | None = None, prefill: Prefill | None = None) -> list:
    """Submit the uncached cells of ``task`` as a job array on a ``submitit`` executor; return its jobs
    (``[]`` when everything is cached). Non-blocking: :func:`collect` waits for the records.

    ``chunk_size`` cells per array task, computed by ``n_jobs`` worker processes inside the task (ask the
    executor for that many CPUs: ``cpus_per_task``). ``order``: sort key applied before chunking (e.g. the
    stacking group, so a GPU task gets cells that stack together). ``prefill``: see :data:`Prefill`.
    ``cache_root`` (default ``$SEMIAD_RESULTS_DIR``) is resolved here, so the jobs write where this process
    reads; it must be a directory every node sees. Cells that finished before a job died are cached: call
    again to submit only what is missing.
    """
    validate_configs(task, configs)
    root = str(ResultCache(cache_root).root.resolve())
    todo = pending_cells(configs, root)
    if order is not None:
        todo.sort(key=order)
    chunks = chunked(todo, chunk_size)
    if not chunks:
        return []
    n = len(chunks)
    return executor.map_array(run_chunk, [task] * n, chunks, [runtime] * n, [root] * n, [n_jobs] * n,
                              [prefill] * n)


def collect(jobs: Sequence, on_failure: str = "raise", cache_root: str | os.PathLike | None = None
            ) -> list[dict]:
    """Wait for ``jobs`` (from :func:`submit_cells`) and return their records. A job that died raises
    submitit's error (its log path included). Failed cells: ``on_failure="raise"`` raises
    :class:`~semiad.core.grid.CellsFailedError` (the finished cells are cached), ``"record"``
    returns them."""
    if on_failure not in ("raise", "record"):
        raise ValueError(f"on_failure must be 'raise' or 'record', got {on_failure!r}")
    records = [rec for job in jobs for rec in job.result()]
    failed = [r for r in records if r.get("status") != "ok"]
    if failed and on_failure == "raise":
        raise CellsFailedError(failed, ResultCache(cache_root).root / "failed")
    return records


def submit_stages(stages: Sequence[Stage], executor, *, chunk_size: int = 16, n_jobs: int = 1,
                  runtime: dict | None = None, cache_root: str | os.PathLike | None = None,
                  prefill: dict[TaskFn, Prefill] | None = None, order: dict[TaskFn, Callable] | None = None,
                  verbose: bool = True) -> list[list[dict]]:
    """Run the stages of a grid in order as job arrays, each stage after the previous one finished
    (blocking); return the records computed per stage. Raises :class:`CellsFailedError` after a stage
    with failed cells (later stages may need them). ``prefill`` / ``order``: per task, see
    :func:`submit_cells`."""
    out = []
    for task, configs in stages:
        jobs = submit_cells(task, configs, executor, chunk_size=chunk_size, n_jobs=n_jobs, runtime=runtime,
                            cache_root=cache_root, order=(order or {}).get(task),
                            prefill=(prefill or {}).get(task))
        if verbose:
            ids = [j.job_id for j in jobs]
            print(f"[semiad] {task_name(task)}: {len(configs)} cells; uncached ones in {len(jobs)} job(s) of "
                  f"<= {chunk_size} cells {ids[:3]}{' ...' if len(ids) > 3 else ''}", flush=True)
        out.append(collect(jobs, cache_root=cache_root))
    return out


def run_stages(stages: Sequence[Stage], **run_grid_kwargs) -> list[list[dict]]:
    """Run the stages of a grid in order with :func:`~semiad.core.grid.run_grid` (e.g.
    ``backend="dask", n_jobs=-1`` on a ``distributed.Client``); return each stage's records."""
    return [run_grid(task, configs, **run_grid_kwargs) for task, configs in stages]
