"""benchmarks/image_ssdgm_budget.py: the image SS-DGM column under three schedules, the released M2 beside."""

from __future__ import annotations

import sys

import pandas as pd

from semiad.deep_sad import images
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import image_ssdgm_budget as budget  # noqa: E402


def test_the_app_e_quick_variants_are_the_grids_own_cells():
    grid = {(m.method, m.params) for m in images.ALL_METHODS if m.table_column == "SS-DGM"}
    ours = {(s.method, s.params) for s in budget.specs({"App. E, quick": {}})
            if not s.label.endswith("released M2")}
    assert ours == grid
    longer = {s.label: dict(s.params) for s in budget.specs({"App. E, 150 epochs": {"n_epochs": 150}})}
    assert longer["App. E, 150 epochs | released M2"] == {"model": "M2", "variant": "authors_code",
                                                          "n_epochs": 150}


def test_the_column_is_the_better_of_our_two_models_and_the_released_m2_stays_beside_it():
    # Table 3, SS-DGM on MNIST at gamma_l = .05: 92.2 +- 5.6
    rows = [{"schedule": "App. E, quick", "model": model, "dataset": "mnist", "gamma_l": 0.05,
             "experiment": e, "auc": auc, "final_loss": 750.0 + e, "runtime_s": 1.0}
            for e in (0, 1) for model, auc in (("M2", 0.80), ("M1+M2", 0.86), ("released M2", 0.99))]
    row = budget.summary(pd.DataFrame(rows)).iloc[0]
    assert (row["ours"], row["released M2"], row["M2 loss"]) == (86.0, 99.0, 750.5)
    assert (row["paper"], row["paper std"]) == (92.2, 5.6)
    assert not row["within"] and not row["released within"]
