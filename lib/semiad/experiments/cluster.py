"""Run a notebook's grid on a cluster, into the same JSON cache the notebook then reads (``docs/cluster.md``).

Two engines, both computing cells with :func:`~semiad.experiments.grid.run_cell` (so every finished cell is
one validated JSON file under ``cells/<task>/<hash>.json`` of the cache root, exactly as a notebook run
writes it, and a rerun of the notebook computes nothing):

* **Dask** (interactive, elastic): create a ``distributed.Client`` on a ``dask_jobqueue.SLURMCluster``
  (or a ``LocalCluster``) and run the stages with ``backend="dask"``: :func:`run_stages`.
* **submitit** (batch, job arrays): :func:`submit_cells` cuts the uncached cells of one task into chunks,
  one array task per chunk (each may run ``n_jobs`` local worker processes); :func:`submit_stages` runs
  the stages of a grid one after another (an ODDS method cell reads its autoencoder from the cache, so the
  autoencoder stage must finish first).

A *stage* is ``(task, configs)``: a :func:`~semiad.experiments.grid.cell_task` function, referenced
directly, and its cells. The ``*_grid`` helpers below return the stages of each paper's grids for the
same arguments the notebook passes to its ``run_*`` function, so the cells (and their cache keys) are
the notebook's: they build them with the same ``build_configs`` / ``build_grid`` calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from semiad.experiments.cache import ResultCache, config_hash
from semiad.experiments.grid import CellsFailedError, TaskFn, run_grid, task_name, validate_configs

#: One stage of a grid: the task function (by reference) and its cells.
Stage = tuple[TaskFn, list[dict]]
#: A function run inside a job on its chunk before the cells are computed one by one, with
#: ``(configs, runtime, cache_root)``: e.g. :func:`semiad.experiments.deep_sad_images.run_stacked`, which
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
    :class:`~semiad.experiments.grid.CellsFailedError` (the finished cells are cached), ``"record"``
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
    """Run the stages of a grid in order with :func:`~semiad.experiments.grid.run_grid` (e.g.
    ``backend="dask", n_jobs=-1`` on a ``distributed.Client``); return each stage's records."""
    return [run_grid(task, configs, **run_grid_kwargs) for task, configs in stages]


# ------------------------------------------------------------------------------------------ the papers' grids
def odds_grid(profile: str = "quick", *, datasets=None, seeds=None, methods=None, data_dir=None,
              on_missing: str = "error", training=None, **protocol_overrides) -> list[Stage]:
    """Deep SAD Tables 2 / 6 (``run_odds``): autoencoders, then the method cells."""
    from semiad.experiments import odds
    from semiad.models.protocol import DEFAULT

    sizes = odds.PROFILE_SIZES[odds.check_profile(profile)]
    datasets = tuple(sizes["datasets"] if datasets is None else datasets)
    sources = odds.dataset_sources(datasets, data_dir, on_missing)
    n_rows = odds._n_rows(datasets, data_dir, on_missing, sizes["max_rows"])
    methods = odds.TABLE2_METHODS if methods is None else methods
    configs = odds.build_configs(profile, datasets, seeds, methods, sources, n_rows,
                                 DEFAULT if training is None else training, **protocol_overrides)
    return [(odds.pretrain_autoencoder_cell, [c for c in configs if c["task"] == "odds_ae"]),
            (odds.odds_cell, [c for c in configs if c["task"] == "odds"])]


def _image_stages(settings, methods, profile: str, data_dir, on_missing: str, training,
                  **axes) -> list[Stage]:
    from semiad.experiments import deep_sad_images as dsi
    from semiad.models.protocol import DEFAULT

    sources = dsi.dataset_sources(sorted({s.dataset for s in settings}), data_dir, on_missing)
    ae_cells, rows = dsi.build_grid(settings, methods, profile, sources,
                                    training=DEFAULT if training is None else training, **axes)
    return [(dsi.pretrain_autoencoder_cell, ae_cells), (dsi.image_cell, [r["cell"] for r in rows])]


def image_scenario_grid(scenario: str, profile: str = "quick", *, datasets=None, methods=None, values=None,
                        data_dir=None, on_missing: str = "error", training=None) -> list[Stage]:
    """Deep SAD Figs. 2-4 / Tables 3-5 (``run_scenario``): autoencoders, then the image cells."""
    from semiad.experiments import deep_sad_images as dsi

    datasets = dsi._datasets(profile, datasets)
    settings = [s for ds in datasets for s in dsi.experiments(ds, scenario, profile, values)]
    return _image_stages(settings, dsi.ALL_METHODS if methods is None else methods, profile, data_dir,
                         on_missing, training)


def image_sensitivity_grid(kind: str, profile: str = "quick", *, datasets=None, values=None, methods=None,
                           data_dir=None, on_missing: str = "error", training=None) -> list[Stage]:
    """Deep SAD Figs. 5 / 6 (``run_sensitivity``, ``kind="eta"`` or ``"rep_dim"``)."""
    from semiad.experiments import deep_sad_images as dsi

    if kind not in ("eta", "rep_dim"):
        raise ValueError(f"kind must be 'eta' or 'rep_dim', got {kind!r}")
    sizes = dsi.PROFILE_SIZES[dsi.check_profile(profile)]
    datasets = dsi._datasets(profile, datasets)
    if values is None:
        values = sizes["values"].get(kind, dsi.ETAS if kind == "eta" else dsi.REP_DIMS)
    settings = [s for ds in datasets for s in dsi.experiments(ds, "sensitivity", profile)]
    if kind == "eta":
        methods = dsi.methods_by_label(["Deep SAD"]) if methods is None else methods
        return _image_stages(settings, methods, profile, data_dir, on_missing, training, etas=tuple(values))
    methods = dsi.FIG6_METHODS if methods is None else methods
    return _image_stages(settings, methods, profile, data_dir, on_missing, training, rep_dims=tuple(values))


def dads_grid(profile: str = "quick", *, datasets=None, contaminations=None, seeds=None, methods=None,
              data_dir=None, on_missing: str = "error", dads_protocol=None,
              **protocol_overrides) -> list[Stage]:
    """DADS Fig. 2 (``run_dads_grid``)."""
    from semiad.experiments import dads

    sizes = dads.PROFILE_SIZES[dads.check_profile(profile)]
    datasets = tuple(sizes["datasets"] if datasets is None else datasets)
    sources = dads.dataset_sources(datasets, data_dir, on_missing)
    return [(dads.dads_cell, dads.build_configs(profile, datasets, contaminations, seeds, methods, sources,
                                                dads_protocol=dads_protocol, **protocol_overrides))]


_RLAD_DEFAULT = object()


def rlad_grid(profile: str = "quick", *, benchmarks=("yahoo_a1", "yahoo_a2"), budgets=None, seeds=None,
              methods=None, data_dir=None, on_missing: str = "error", protocol: Any = _RLAD_DEFAULT,
              **split) -> list[Stage]:
    """RLAD Tables 2 / 3 (``run_rlad_grid``; ``protocol`` defaults to its default protocol)."""
    from semiad.experiments import rlad

    protocol = rlad.DEFAULT_PROTOCOL if protocol is _RLAD_DEFAULT else protocol
    sources = rlad.dataset_sources(benchmarks, data_dir, on_missing)
    return [(rlad.rlad_cell, rlad.build_configs(profile, benchmarks, budgets, seeds, methods, sources,
                                                protocol=protocol, **split))]


def uainets_grid(profile: str, datasets, methods, *, seeds=None, budget="profile", pool_cap="profile",
                 data_dir=None, on_missing: str = "error", **options) -> list[Stage]:
    """UaiNets (``run_uainets_grid``); ``options``: its ``dagmm_presets``, ``snapshot``, ``hidden``,
    ``cold_start``, ``wait_for_both_classes``."""
    from semiad.experiments import uainets

    sources = uainets.dataset_sources(datasets, data_dir, on_missing)
    return [(uainets.uainets_cell, uainets.build_configs(profile, datasets, methods, seeds, budget, pool_cap,
                                                         sources, **options))]


def residual_grid(profile: str = "quick", *, categories=None, seeds=None, losses=None, variants=None,
                  size=None, data_dir=None, on_missing: str = "error",
                  **split_overrides: float) -> list[Stage]:
    """RL on residual maps (``run_residual_grid``): CAE cells, then policy cells."""
    from semiad.experiments import residual

    sizes = residual.PROFILE_SIZES[residual.check_profile(profile)]
    categories = tuple(sizes["categories"] if categories is None else categories)
    size = int(sizes["size"] if size is None else size)
    sources = residual.dataset_sources(categories, size, data_dir, on_missing)
    caes, policies = residual.build_configs(profile, categories, seeds, losses, variants, size, sources,
                                            **split_overrides)
    return [(residual.residual_cae_cell, caes), (residual.residual_policy_cell, policies)]
