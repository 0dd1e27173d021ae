"""The typed grid configs (``OddsConfig``, ``ImageConfig``): validation, and cache keys tied to the
committed quick results (every results.csv row carries its cell's config hash)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from semiad.core.cache import config_hash
from semiad.core.detectors.protocol import DEFAULT
from semiad.deep_sad import images as D
from semiad.deep_sad import odds
from semiad.deep_sad import protocol_ablation as pa
from tests.conftest import REPO

FIGURES = REPO / "figures" / "deep_sad"


def _committed_cells(notebook: str, csv: str = "results.csv") -> set[str]:
    return set(pd.read_csv(FIGURES / notebook / csv)["cell"])


def _odds_rows() -> dict[str, int]:
    """Rows per ODDS set as loaded in the committed run (Table 1): they decide whether a cap binds."""
    table1 = pd.read_csv(FIGURES / "table2_odds" / "table1_datasets.csv")
    return dict(zip(table1["dataset"], table1["N"].astype(int), strict=True))


def _odds_cells(grid: odds.OddsConfig, methods, training=DEFAULT) -> set[str]:
    sources = {ds: "real" for ds in grid.datasets}
    return {config_hash(c) for c in odds.build_configs(grid, methods=methods, data_sources=sources,
                                                      n_rows=_odds_rows(), training=training)
            if c["task"] == "odds"}


@pytest.mark.parametrize("notebook, methods", [("table2_odds", odds.TABLE2_METHODS),
                                               ("table6_odds_all", odds.ALL_METHODS)])
def test_quick_odds_config_builds_exactly_the_committed_cells(notebook, methods):
    assert _odds_cells(odds.OddsConfig.for_profile("quick"), methods) == _committed_cells(notebook)


def test_quick_protocol_ablation_cells_are_the_committed_ones():
    grid = odds.OddsConfig.for_profile("quick", datasets=pa.DATASETS["quick"], seeds=pa.SEEDS["quick"])
    ours = set().union(*(_odds_cells(grid, pa.ABLATION_METHODS, p) for p in pa.ablation_protocols()))
    assert ours == _committed_cells("protocol_ablation")


def _image_cells(settings, methods, grid: D.ImageConfig, **kw) -> set[str]:
    _, rows = D.build_grid(settings, methods, grid, {ds: "real" for ds in D.IMAGE_DATASETS}, **kw)
    return {config_hash(r["cell"]) for r in rows}


@pytest.mark.parametrize("notebook, scenario", [("fig2_table3_labeled_anomalies", "labeled"),
                                                ("fig3_table4_pollution", "pollution"),
                                                ("fig4_table5_known_classes", "known_classes")])
def test_quick_image_config_builds_exactly_the_committed_scenario_cells(notebook, scenario):
    grid = D.ImageConfig.for_profile("quick")
    settings = [s for ds in grid.datasets for s in D.experiments(ds, scenario, grid)]
    assert _image_cells(settings, D.ALL_METHODS, grid) == _committed_cells(notebook)


def test_quick_image_config_builds_the_committed_sensitivity_and_scatter_cells():
    grid = D.ImageConfig.for_profile("quick")
    defaults = [s for ds in grid.datasets for s in D.experiments(ds, "sensitivity", grid)]
    eta = _image_cells(defaults, D.methods_by_label(["Deep SAD"]), grid, etas=grid.etas)
    assert eta == _committed_cells("fig5_eta_sensitivity")
    rep_dim = _image_cells(defaults, D.FIG6_METHODS, grid, rep_dims=grid.rep_dims)
    assert rep_dim == _committed_cells("fig6_rep_dim")
    scatter = set().union(*(_image_cells([s for ds in grid.scatter_datasets
                                          for s in D.experiments(ds, scenario, grid)], D.ALL_METHODS, grid)
                            for scenario in ("labeled", "pollution", "known_classes")))
    assert scatter == _committed_cells("fig7_9_cifar_scatter")


def test_configs_are_frozen_and_validated_where_built():
    grid = odds.OddsConfig.for_profile("quick")
    with pytest.raises(dataclasses.FrozenInstanceError):
        grid.n_epochs = 3  # type: ignore[misc]
    assert odds.OddsConfig() == odds.ODDS_PROFILES["paper"] and grid.seeds == tuple(range(10))
    assert odds.OddsConfig.for_profile("quick", labeled_anomaly_ratio=0.05).labeled_anomaly_ratio == 0.05
    for bad, match in (({"datasets": ("mnist",)}, "unknown ODDS dataset"), ({"seeds": (-1,)}, "seeds"),
                       ({"pollution_ratio": 1.0}, "pollution_ratio"), ({"gamma_l": 0.1}, "unknown protocol"),
                       ({"test_split": "resampled"}, "test_split")):
        with pytest.raises(ValueError, match=match):
            odds.OddsConfig.for_profile("quick", **bad)
    with pytest.raises(ValueError, match="unknown profile"):
        odds.OddsConfig.for_profile("fast")
    with pytest.raises(ValueError, match="inside the OddsConfig"):
        odds.build_configs(grid, seeds=(0,))

    images = D.ImageConfig.for_profile("smoke")
    assert images.values("eta") == (0.01, 100.0) and D.ImageConfig().values("eta") == D.ETAS
    assert D.ImageConfig.for_profile("quick").values("labeled") == (0.0, 0.01, 0.05, 0.10, 0.20)
    for bad, match in (({"datasets": ("svhn",)}, "unknown image dataset"), ({"rep_dims": (24,)}, "multiple"),
                       ({"etas": (0.0,)}, "eta"), ({"normal_classes": (10,)}, "normal_classes"),
                       ({"labeled_values": (1.5,)}, "gamma_l")):
        with pytest.raises(ValueError, match=match):
            D.ImageConfig.for_profile("quick", **bad)
    with pytest.raises(ValueError, match="kind"):
        images.values("gamma")
