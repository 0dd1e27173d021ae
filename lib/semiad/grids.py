"""Every paper's grids as cluster stages: ``(task, configs)`` pairs for :mod:`semiad.core.cluster`.

Each ``*_grid`` function takes the arguments the notebook passes to its paper's ``run_*`` function and
returns the same cells (same cache keys; tested), in the order they must run (an autoencoder stage
before the cells that read it). This module sits above the paper packages (it imports all of them), so
``semiad.core`` never imports a paper. Recipes: ``docs/cluster.md``.
"""

from __future__ import annotations

from typing import Any

from semiad.core.cluster import Stage


def odds_grid(profile: str = "quick", *, datasets=None, seeds=None, methods=None, data_dir=None,
              on_missing: str = "error", training=None, **protocol_overrides) -> list[Stage]:
    """Deep SAD Tables 2 / 6 (``run_odds``): autoencoders, then the method cells."""
    from semiad.core.detectors.protocol import DEFAULT
    from semiad.deep_sad import odds

    grid = odds.OddsConfig.for_profile(profile, datasets=datasets, seeds=seeds, **protocol_overrides)
    ae_cells, cells, _ = odds.grid_cells(grid, odds.TABLE2_METHODS if methods is None else methods,
                                         DEFAULT if training is None else training, data_dir, on_missing)
    return [(odds.pretrain_autoencoder_cell, ae_cells), (odds.odds_cell, cells)]


def _image_stages(settings, methods, profile: str, data_dir, on_missing: str, training,
                  **axes) -> list[Stage]:
    from semiad.core.detectors.protocol import DEFAULT
    from semiad.deep_sad import images as dsi

    sources = dsi.dataset_sources(sorted({s.dataset for s in settings}), data_dir, on_missing)
    ae_cells, rows = dsi.build_grid(settings, methods, profile, sources,
                                    training=DEFAULT if training is None else training, **axes)
    return [(dsi.pretrain_autoencoder_cell, ae_cells), (dsi.image_cell, [r["cell"] for r in rows])]


def image_scenario_grid(scenario: str, profile: str = "quick", *, datasets=None, methods=None, values=None,
                        data_dir=None, on_missing: str = "error", training=None) -> list[Stage]:
    """Deep SAD Figs. 2-4 / Tables 3-5 (``run_scenario``): autoencoders, then the image cells."""
    from semiad.deep_sad import images as dsi

    datasets = dsi._datasets(profile, datasets)
    settings = [s for ds in datasets for s in dsi.experiments(ds, scenario, profile, values)]
    return _image_stages(settings, dsi.ALL_METHODS if methods is None else methods, profile, data_dir,
                         on_missing, training)


def image_sensitivity_grid(kind: str, profile: str = "quick", *, datasets=None, values=None, methods=None,
                           data_dir=None, on_missing: str = "error", training=None) -> list[Stage]:
    """Deep SAD Figs. 5 / 6 (``run_sensitivity``, ``kind="eta"`` or ``"rep_dim"``)."""
    from semiad.deep_sad import images as dsi

    if kind not in ("eta", "rep_dim"):
        raise ValueError(f"kind must be 'eta' or 'rep_dim', got {kind!r}")
    datasets = dsi._datasets(profile, datasets)
    if values is None:
        values = dsi.image_config(profile).values(kind)
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
    from semiad.dads import grid as dads

    config = dads.Fig2Config.for_profile(profile, datasets=datasets, contaminations=contaminations,
                                         seeds=seeds, methods=methods, protocol=dads_protocol,
                                         **protocol_overrides)
    return [(dads.dads_cell, config.cells(dads.dataset_sources(config.datasets, data_dir, on_missing)))]


_RLAD_DEFAULT = object()


def rlad_grid(profile: str = "quick", *, benchmarks=("yahoo_a1", "yahoo_a2"), budgets=None, seeds=None,
              methods=None, data_dir=None, on_missing: str = "error", protocol: Any = _RLAD_DEFAULT,
              **split) -> list[Stage]:
    """RLAD Tables 2 / 3 (``run_rlad_grid``; ``protocol`` defaults to its default protocol)."""
    from semiad.rlad import grid as rlad

    protocol = rlad.DEFAULT_PROTOCOL if protocol is _RLAD_DEFAULT else protocol
    sources = rlad.dataset_sources(benchmarks, data_dir, on_missing)
    return [(rlad.rlad_cell, rlad.build_configs(profile, benchmarks, budgets, seeds, methods, sources,
                                                protocol=protocol, **split))]


def uainets_grid(profile: str, datasets, methods, *, seeds=None, budget="profile", pool_cap="profile",
                 data_dir=None, on_missing: str = "error", **options) -> list[Stage]:
    """UaiNets (``run_uainets_grid``); ``options``: its ``dagmm_presets``, ``snapshot``, ``hidden``,
    ``cold_start``, ``wait_for_both_classes``."""
    from semiad.uainets import grid as uainets

    sources = uainets.dataset_sources(datasets, data_dir, on_missing)
    return [(uainets.uainets_cell, uainets.build_configs(profile, datasets, methods, seeds, budget, pool_cap,
                                                         sources, **options))]


def residual_grid(profile: str = "quick", *, categories=None, seeds=None, losses=None, variants=None,
                  size=None, data_dir=None, on_missing: str = "error", **overrides) -> list[Stage]:
    """RL on residual maps (``run_residual_grid``): CAE cells, then policy cells."""
    from semiad.residual_rl import grid as residual

    config = residual.ResidualGridConfig.for_profile(profile, categories=categories, seeds=seeds,
                                                     losses=losses, variants=variants, size=size, **overrides)
    caes, policies = config.cells(residual.dataset_sources(config.categories, config.size, data_dir,
                                                           on_missing))
    return [(residual.residual_cae_cell, caes), (residual.residual_policy_cell, policies)]


