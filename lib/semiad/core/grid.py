"""Run a list of experiment cells: cached, parallel (joblib: loky / dask / ray), resumable.

A *cell* is a config dict of literals; a *task* is a pure module-level function
``task(config, runtime) -> dict`` (metrics and info) that the caller hands to :func:`run_grid` by
reference. The config's ``task`` key names the kind of cell (it is part of the cache key, so records
of different tasks never mix) and must equal the function's :func:`cell_task` name. ``runtime`` holds
options that do not change the science (data dir, device) and are therefore not part of the cache key.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import joblib
import torch
from tqdm.std import tqdm  # text bar: tqdm.auto warns without ipywidgets, which we do not install

from semiad._version import __version__
from semiad.core.cache import ResultCache, config_hash

TaskFn = Callable[[dict, dict], dict]
#: Seconds between progress-bar refreshes.
PROGRESS_INTERVAL_S = 5.0
BACKENDS = ("loky", "threading", "sequential", "dask", "ray")


def cell_task(name: str) -> Callable[[TaskFn], TaskFn]:
    """Decorator: name the cells ``fn`` computes (``{"task": name, ...}``). Nothing is registered;
    callers pass ``fn`` itself to :func:`run_grid` (joblib pickles a module-level function by reference)."""
    def wrap(fn: TaskFn) -> TaskFn:
        fn.task_name = name  # type: ignore[attr-defined]
        return fn
    return wrap


def task_name(task: TaskFn) -> str:
    """The cell name given to ``task`` by :func:`cell_task`; a clear error for an undecorated function."""
    name = getattr(task, "task_name", None)
    if not isinstance(name, str):
        raise TypeError(f"{getattr(task, '__qualname__', task)!r} is not a cell task: decorate it with "
                        "@cell_task(name)")
    return name


_PR_SET_PDEATHSIG = 1
_DIES_WITH_PARENT: set[int] = set()


def die_with_parent() -> None:
    """In a loky worker on Linux: have the OS kill this process when its parent (the notebook kernel or
    script that runs the grid) dies, so that killing ``run_all`` (even with SIGKILL) leaves no worker
    computing and writing cells. A no-op elsewhere, and in the main process (a script or kernel)."""
    pid = os.getpid()
    if pid in _DIES_WITH_PARENT or sys.platform != "linux" \
            or not multiprocessing.current_process().name.startswith("LokyProcess"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: nothing to do
        return
    _DIES_WITH_PARENT.add(pid)
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def run_cell(task: TaskFn, config: dict, runtime: dict | None = None, cache_root: str | None = None) -> dict:
    """Execute ``task`` on one cell (in whatever process joblib put us) and persist its record atomically.

    Never raises for a failing experiment: the record gets ``status="failed"`` and the traceback.
    """
    die_with_parent()
    runtime = dict(runtime or {})
    runtime.setdefault("cache_root", cache_root)
    torch.set_num_threads(int(runtime.get("torch_threads", 1)))  # one thread per worker
    start = time.perf_counter()
    try:
        out = task(config, runtime)
        outcome: dict[str, Any] = {"status": "ok", "metrics": out.get("metrics", {}),
                                   "info": out.get("info", {})}
    except Exception as exc:  # noqa: BLE001 - recorded, surfaced by the caller
        outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc()}
    record = cell_record(config, outcome, time.perf_counter() - start)
    ResultCache(cache_root).put(record)
    return record


def cell_record(config: dict, outcome: dict, runtime_s: float) -> dict:
    """The cached record of a cell: config, hash, package version, host, the outcome (``status`` and
    ``metrics`` / ``info``, or ``error``), runtime and finish time. Also used by engines that compute
    several cells at once (``deep_sad_images.run_stacked``)."""
    return {"config": config, "hash": config_hash(config), "version": __version__, "host": platform.node(),
            **outcome, "runtime_s": round(runtime_s, 3),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


class CellsFailedError(RuntimeError):
    """Raised by :func:`run_grid` after every cell ran when some failed (their records are kept)."""

    def __init__(self, failed: Sequence[dict], failed_dir):
        self.failed = list(failed)
        lines = [f"  {r['config'].get('task')} {r['hash']}: {r.get('error', '?')}" for r in self.failed[:10]]
        more = f"\n  ... and {len(self.failed) - 10} more" if len(self.failed) > 10 else ""
        super().__init__(f"{len(self.failed)} cell(s) failed (tracebacks in {failed_dir}); the cells that "
                         "finished are cached, a rerun retries only the failed ones:\n"
                         + "\n".join(lines) + more)


def validate_configs(task: TaskFn, configs: Sequence[dict]) -> None:
    """Fail before any computation on cells that are not ``task``'s (their ``task`` key differs)."""
    name = task_name(task)
    for cfg in configs:
        if cfg.get("task") != name:
            raise ValueError(f"cell names task {cfg.get('task')!r} but is run with {name!r} "
                             f"({task.__module__}.{task.__qualname__})")


def run_grid(task: TaskFn, configs: Sequence[dict], *, n_jobs: int = 1, backend: str = "loky",
             runtime: dict | None = None, cache_root: str | None = None,
             progress: bool = True, desc: str = "cells",
             priority: Callable[[dict], Any] | None = None, on_failure: str = "raise") -> list[dict]:
    """Return one record per config (same order): ``task(config, runtime)``, computing only cells not
    already cached. Every config's ``task`` key must be ``task``'s :func:`cell_task` name.

    ``priority``: optional sort key; cells to compute are submitted in increasing key order (e.g.
    the longest cells first, so that they do not straggle alone at the end of the grid). The
    returned records keep the order of ``configs`` whatever the key.

    ``backend``: a joblib backend — ``"loky"`` (default, local processes), ``"dask"`` (needs a
    ``distributed.Client`` to be created first, e.g. on a ``LocalCluster`` or a ``dask_jobqueue``
    ``SLURMCluster`` whose workers share ``SEMIAD_RESULTS_DIR``; ``docs/cluster.md``), ``"ray"`` (after
    ``ray.util.joblib.register_ray()``; Ray's backend cannot stream, so its records come back together
    when the last cell ends, while each cell is still cached by its worker as it finishes).
    Failed cells are not cached and will be retried. ``on_failure="raise"`` (default): after every cell
    ran, raise :class:`CellsFailedError` naming the failed cells, so a notebook (and ``run_all``) fails;
    ``"record"``: return them with ``status="failed"`` and the error.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if on_failure not in ("raise", "record"):
        raise ValueError(f"on_failure must be 'raise' or 'record', got {on_failure!r}")
    if runtime and runtime.get("device") is not None:  # a bad device fails here, not in every cell
        from semiad.core.device import resolve_device
        resolve_device(runtime["device"])
    if n_jobs == 0:
        raise ValueError("n_jobs must be non-zero (use -1 for all cores)")
    if backend == "ray" and "ray" not in joblib.parallel.BACKENDS:
        raise ValueError("backend='ray' needs Ray's joblib backend registered first (pip install ray; "
                         "from ray.util.joblib import register_ray; register_ray()); for a cluster, "
                         "backend='dask' on a dask_jobqueue SLURMCluster is the tested path "
                         "(docs/cluster.md)")
    validate_configs(task, configs)
    cache = ResultCache(cache_root)
    records: list[dict | None] = [cache.get(c) for c in configs]
    todo = [i for i, r in enumerate(records) if r is None]
    # de-duplicate identical configs inside one call
    unique: dict[str, int] = {}
    for i in todo:
        unique.setdefault(config_hash(configs[i]), i)
    jobs = list(unique.values())
    if priority is not None:
        jobs.sort(key=lambda i: priority(configs[i]))
    # a refresh every few seconds: executed notebooks keep every refresh of the bar in their stderr output
    bar = tqdm(total=len(configs), initial=len(configs) - len(todo), desc=desc, disable=not progress,
               mininterval=PROGRESS_INTERVAL_S)
    done: dict[str, dict] = {}
    if jobs:
        root = str(cache.root)
        if backend == "sequential" or n_jobs == 1:
            for i in jobs:
                _accept(run_cell(task, configs[i], runtime, root), bar, done)
        else:
            with joblib.parallel_config(backend=backend, n_jobs=n_jobs):
                results = joblib.Parallel(return_as=_return_as())(
                    joblib.delayed(run_cell)(task, configs[i], runtime, root) for i in jobs)
                for rec in results:
                    _accept(rec, bar, done)
    bar.close()
    for i in todo:
        rec = done[config_hash(configs[i])]
        if rec.get("status") == "ok":
            cache.put(rec)  # remote workers may not share our disk: persist here too (idempotent)
        records[i] = rec
    failed = [r for r in records if r is not None and r.get("status") != "ok"]
    if failed and on_failure == "raise":
        raise CellsFailedError(failed, cache.root / "failed")
    return records  # type: ignore[return-value]


def tidy_frame(records: Sequence[dict], describe: Callable[[dict], dict], failed_metric: str):
    """Tidy results of grid records: one row per (cell, metric); a failed cell keeps one NaN row.

    ``describe(config)`` gives a cell's own columns (method, dataset, setting, ...); ``seed``,
    ``status``, ``data_source``, ``runtime_s``, ``cell`` (the config hash) and ``error`` are added
    here, so every notebook's ``results.csv`` has them.
    """
    import numpy as np
    import pandas as pd

    rows = []
    for rec in records:
        cfg = rec["config"]
        base = {**describe(cfg), "seed": cfg["seed"], "status": rec["status"],
                "data_source": cfg["data_source"], "runtime_s": rec.get("runtime_s"), "cell": rec["hash"],
                "error": rec.get("error", "")}
        if rec["status"] == "ok":
            rows += [{**base, "metric": k, "value": v} for k, v in rec["metrics"].items()]
        else:
            rows.append({**base, "metric": failed_metric, "value": np.nan})
    return pd.DataFrame(rows)


def _return_as() -> str:
    """How ``joblib.Parallel`` hands back records under the active backend: as each cell ends
    (``"generator_unordered"``: live progress) where the backend can stream, else all at once in order
    (``"list"``: Ray's joblib backend, a multiprocessing pool, refuses generators)."""
    backend, _ = joblib.parallel.get_active_backend()
    return "generator_unordered" if getattr(backend, "supports_return_generator", False) else "list"


def _accept(rec: dict, bar, done: dict) -> None:
    done[rec["hash"]] = rec
    bar.update(1)
    if rec.get("status") != "ok":
        bar.write(f"[semiad] cell failed: {rec['config'].get('task')} {rec['hash']}: {rec['error']}")
