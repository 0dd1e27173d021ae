"""The typed Figure 2 grid (:class:`semiad.dads.grid.Fig2Config`): its quick cells are exactly the cells of
the committed results, so the warm cache keeps hitting and the committed numbers stay tied to the code."""

from __future__ import annotations

import pandas as pd
import pytest

from semiad.core.cache import config_hash
from semiad.dads import grid, study
from semiad.dads.protocol import AUTHORS_CODE, PAPER_TEXT
from tests.conftest import REPO

COMMITTED = REPO / "figures" / "dads" / "fig2_contamination"
REAL = {d: "real" for d in ("annthyroid", "cardiotocography", "shuttle_aad")}


def test_quick_cells_are_the_committed_results_cells():
    hashes = set()
    for arm in study.study_arms("quick"):
        config = grid.Fig2Config.for_profile("quick", datasets=arm.datasets, protocol=arm.protocol,
                                             contaminations=arm.contaminations)
        hashes |= {config_hash(cell) for cell in config.cells(REAL)}
    committed = pd.read_csv(COMMITTED / "results.csv")
    assert hashes == set(committed["cell"])


def test_quick_mechanism_ablation_cells_are_the_committed_ones():
    sizes = study.STUDY_SIZES["quick"]
    base = study.REPRODUCTION
    hashes = set()
    for _, proto in study.ablation_protocols(base, study.ABLATION):
        config = grid.Fig2Config.for_profile("quick", datasets=[study.CTG], methods=["dads"], protocol=proto,
                                             contaminations=[sizes["ablation_contamination"]],
                                             seeds=base.grid_seeds(sizes["ablation_seeds"]))
        hashes |= {config_hash(cell) for cell in config.cells(REAL)}
    assert hashes == set(pd.read_csv(COMMITTED / "mechanism_ablation_runs.csv")["cell"])


def test_profiles_change_sizes_and_defaults_are_the_papers():
    paper = grid.Fig2Config.for_profile("paper")
    assert paper == grid.Fig2Config()
    assert (paper.n_seeds, paper.contaminations, paper.labeled_fraction) == (10, grid.CONTAMINATIONS, 0.1)
    assert (paper.dads_episodes, paper.dads_episode_length) == (PAPER_TEXT.n_episodes,
                                                                PAPER_TEXT.episode_length)
    quick = grid.Fig2Config.for_profile("quick", protocol="authors_code")
    assert quick.protocol is AUTHORS_CODE and quick.grid_seeds() == (1, 20, 42)
    assert grid.Fig2Config.for_profile("quick", datasets=None).datasets == grid.FIGURE2_DATASETS
    smoke = grid.Fig2Config.for_profile("smoke")
    assert len({c["params"]["n_episodes"] for c in smoke.cells() if c["method"] == "dads"}) == 1
    assert all(c["protocol"]["max_train"] == 400 for c in smoke.cells())
    # a list given where a tuple is declared is normalised (the config stays hashable)
    assert hash(grid.Fig2Config(datasets=["annthyroid"], contaminations=[0, 0.1]))


def test_explicit_split_options_win_over_the_protocol():
    cells = grid.Fig2Config.for_profile("smoke", protocol=AUTHORS_CODE, scale="standard",
                                        labeled_of="all_anomalies").cells()
    assert all(c["protocol"]["scale"] == "standard" and c["protocol"]["labeled_of"] == "all_anomalies"
               for c in cells)
    assert all(c["protocol"]["split"] == "sklearn" for c in cells)  # the other authors' options stay


@pytest.mark.parametrize("bad", [{"datasets": ["nope"]}, {"contaminations": [1.0]}, {"methods": ["svm"]},
                                 {"seeds": [-1]}, {"labeled_fraction": 0.0}, {"scale": "robust"},
                                 {"labeled_of": "some"}, {"n_seeds": 11}, {"dads_episodes": 0},
                                 {"protocol": "no_such_protocol"}])
def test_bad_values_fail_where_the_config_is_built(bad):
    with pytest.raises(ValueError):
        grid.Fig2Config.for_profile("quick", **bad)


def test_unknown_fields_are_named():
    with pytest.raises(ValueError, match="episodes"):
        grid.Fig2Config.for_profile("quick", episodes=3)
