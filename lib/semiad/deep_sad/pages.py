"""The first two steps of every Deep SAD notebook: set the page up, then run its grid.

A :class:`Page` is a notebook's parameters resolved once (profile, output folder, data, how to run);
``image_page`` / ``odds_page`` build it and print what will run, and the ``run_*`` functions run the
grid of one figure or table through the cached grid (:mod:`semiad.deep_sad.images`,
:mod:`semiad.deep_sad.odds`), write ``results.csv`` and return the tidy results. The figures, tables and
claims that follow are in :mod:`semiad.deep_sad.figures` and :mod:`semiad.deep_sad.claims`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from semiad.core import plotting
from semiad.core.data.resolve import DataNotFoundError
from semiad.core.detectors.protocol import TrainingProtocol, protocol_named
from semiad.core.notebook import demo_banner, show
from semiad.core.paths import figure_dir
from semiad.core.profiles import check_profile
from semiad.core.provenance import resolve_on_missing
from semiad.deep_sad import images, odds
from semiad.deep_sad import protocol_ablation as pa
from semiad.deep_sad.image_figures import SCENARIO_FIGURES

PAPER = "deep_sad"


@dataclass(frozen=True)
class Page:
    """A notebook's parameters, resolved: where it writes and how it runs its grid."""

    notebook: str
    profile: str
    out: Path
    #: Datasets the page runs (``None``: the profile's).
    datasets: tuple[str, ...] | None
    #: Seeds of the ODDS pages (``None``: the profile's); the image grids take theirs from the profile.
    seeds: tuple[int, ...] | None
    training: TrainingProtocol
    n_jobs: int = 1
    backend: str = "loky"
    device: str = "auto"
    data_dir: str | os.PathLike | None = None
    #: The loaders' ``"error"`` or ``"demo"`` (the notebook's ``on_missing_data``, resolved).
    on_missing: str = "error"

    def run_kwargs(self) -> dict:
        """Keyword arguments of the grid runners (``images.run_scenario``, ``odds.run_odds``, ...)."""
        return {"n_jobs": self.n_jobs, "backend": self.backend, "device": self.device,
                "data_dir": self.data_dir, "on_missing": self.on_missing}


def _open(notebook: str, profile: str, training, on_missing: str, data_dir, output_dir) -> tuple:
    """Checks, the protocol line, demo/real resolution and the output folder, in the order they depend
    on each other (the output folder depends on whether demo data are in use)."""
    check_profile(profile)
    training = protocol_named(training)
    print(f"training protocol of the AE, Deep SAD and Deep SVDD: {training.name}")
    on_missing = resolve_on_missing(on_missing, data_dir)  # "auto" -> "error" or "demo"
    out = figure_dir(PAPER, notebook, output_dir, profile=profile)
    plotting.set_style()
    return training, on_missing, out


def _scatter_datasets(grid: images.ImageConfig, data_dir) -> tuple[str, ...]:
    """Figs. 7-9 are on CIFAR-10 (App. A.2): the profile's ``scatter_datasets``, but MNIST + F-MNIST in
    its place when the CIFAR-10 file is missing."""
    try:
        has_cifar = images.dataset_sources(["cifar10"], data_dir, "error")["cifar10"] == "real"
    except DataNotFoundError:
        has_cifar = False
    run = grid.scatter_datasets
    if "cifar10" in run and not has_cifar:
        run = tuple(d for d in grid.datasets if d != "cifar10")
    return run


def image_page(notebook: str, profile: str, *, datasets=None, n_jobs: int = 1, backend: str = "loky",
               device: str = "auto", data_dir=None, on_missing: str = "auto", training=None,
               output_dir=None, scatter: bool = False) -> Page:
    """Set up an image notebook (Figs. 2-9, Tables 3-5): print the profile's sizes
    (:class:`~semiad.deep_sad.images.ImageConfig`) and the data sources, announce demo data.

    ``scatter``: the page of Figs. 7-9, which runs the profile's ``scatter_datasets``."""
    training, on_missing, out = _open(notebook, profile, training, on_missing, data_dir, output_dir)
    grid = images.ImageConfig.for_profile(profile)
    if datasets is not None:
        run = tuple(datasets)
    else:
        run = _scatter_datasets(grid, data_dir) if scatter else grid.datasets
    if scatter and "cifar10" not in run:
        print("!!! The paper's Figures 7-9 are on CIFAR-10; this run shows", run, "instead. !!!")
    print(f"profile={profile}: {grid.describe()}\nruns datasets={run}; output -> {out}")
    if "cifar10" not in run:
        print("NOTE: CIFAR-10 (the paper's headline dataset) is not run here; only the paper profile has it.")
    sources = images.dataset_sources(run, data_dir, on_missing)
    demo_banner(sources)
    print("data sources:", sources)
    return Page(notebook, profile, out, run, None, training, n_jobs, backend, device, data_dir, on_missing)


def odds_page(notebook: str, profile: str, *, datasets=None, seeds=None, n_jobs: int = 1,
              backend: str = "loky", device: str = "cpu", data_dir=None, on_missing: str = "auto",
              training=None, output_dir=None) -> Page:
    """Set up an ODDS notebook (Tables 1, 2, 6, the protocol ablation): print the profile's
    :class:`~semiad.deep_sad.odds.OddsConfig`, announce demo data."""
    training, on_missing, out = _open(notebook, profile, training, on_missing, data_dir, output_dir)
    grid = odds.OddsConfig.for_profile(profile, datasets=datasets, seeds=seeds)
    print(f"profile={profile}: {grid.describe()}; output -> {out}")
    demo_banner(odds.dataset_sources(grid.datasets, data_dir, on_missing))
    return Page(notebook, profile, out, None if datasets is None else grid.datasets,
                None if seeds is None else grid.seeds, training, n_jobs, backend, device, data_dir,
                on_missing)


def _report(page: Page, results: pd.DataFrame, t0: float) -> pd.DataFrame:
    results.to_csv(page.out / "results.csv", index=False)
    print(f"{results['cell'].nunique()} cells, {(results['status'] != 'ok').sum()} failed, "
          f"{time.time() - t0:.0f} s for this call (cached cells cost nothing)")
    return results


def run_scenario(page: Page, scenario: str) -> pd.DataFrame:
    """Sec. 4.2 scenario (i) ``"labeled"`` (Fig. 2, Table 3), (ii) ``"pollution"`` (Fig. 3, Table 4) or
    (iii) ``"known_classes"`` (Fig. 4, Table 5): every method of App. E on the page's datasets
    (:func:`semiad.deep_sad.images.run_scenario`); prints the experiments per curve point."""
    t0 = time.time()
    results = images.run_scenario(scenario, page.profile, datasets=page.datasets, training=page.training,
                                  **page.run_kwargs())
    _report(page, results, t0)
    deep_sad = results[results["table_column"] == "Deep SAD"]
    show(deep_sad.groupby(["dataset", "x"])["experiment"].nunique().rename("experiments per point")
         .reset_index())
    return results


def run_sensitivity(page: Page, kind: str) -> pd.DataFrame:
    """Sec. 4.3: Deep SAD over eta (``"eta"``, Fig. 5) or Deep SAD and SSAD hybrid over d (``"rep_dim"``,
    Fig. 6) at gamma_l = .05, gamma_p = .1, k_l = 1 (:func:`semiad.deep_sad.images.run_sensitivity`)."""
    t0 = time.time()
    results = images.run_sensitivity(kind, page.profile, datasets=page.datasets, training=page.training,
                                     **page.run_kwargs())
    return _report(page, results, t0)


def run_scatter_scenarios(page: Page) -> dict[str, pd.DataFrame]:
    """App. A.2, Figs. 7-9: the three scenarios of Figs. 2-4 on the page's datasets (cells shared with
    them); ``results.csv`` holds all three."""
    t0 = time.time()
    runs = {s: images.run_scenario(s, page.profile, datasets=page.datasets, training=page.training,
                                   **page.run_kwargs())
            for s in SCENARIO_FIGURES}
    _report(page, pd.concat(runs.values(), ignore_index=True), t0)
    return runs


def run_odds(page: Page, methods=odds.TABLE2_METHODS) -> pd.DataFrame:
    """App. B: the ODDS grid of Table 2 (``methods`` = :data:`~semiad.deep_sad.odds.TABLE2_METHODS`) or
    Table 6 (:data:`~semiad.deep_sad.odds.ALL_METHODS`) under the page's training protocol
    (:func:`semiad.deep_sad.odds.run_odds`)."""
    t0 = time.time()
    results = odds.run_odds(page.profile, datasets=page.datasets, seeds=page.seeds, methods=methods,
                            training=page.training, **page.run_kwargs())
    return _report(page, results, t0)


def run_protocol_ablation(page: Page) -> pd.DataFrame:
    """Every row of the protocol ablation (:func:`semiad.deep_sad.protocol_ablation.run_protocol_ablation`):
    the paper text, each paper-vs-code difference switched alone, the presets."""
    t0 = time.time()
    results = pa.run_protocol_ablation(page.profile, seeds=page.seeds, datasets=page.datasets,
                                       **page.run_kwargs())
    return _report(page, results, t0)
