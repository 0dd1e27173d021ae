"""benchmarks/odds_seed_blocks.py: Deep SAD's count within the paper's std per block of 10 seeds (#15)."""

from __future__ import annotations

import sys

import pandas as pd

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import odds_seed_blocks  # noqa: E402


def test_each_block_of_ten_seeds_is_counted_on_its_own():
    # Table 2, Deep SAD: cardio 95.0 +- 1.6, thyroid 98.6 +- 0.9
    rows = [{"method": "Deep SAD", "table_column": "Deep SAD", "dataset": ds, "seed": seed, "metric": "auc",
             "value": value}
            for seed in range(20)
            for ds, value in (("cardio", 0.95 if seed < 10 else 0.90), ("thyroid", 0.986))]
    table = odds_seed_blocks.block_table(pd.DataFrame(rows), blocks=2).set_index("seeds")
    assert table.loc["0-9", "within"] == "2 of 2" and table.loc["0-9", "cardio"] == "95.0"
    assert table.loc["10-19", "within"] == "1 of 2" and table.loc["10-19", "cardio"] == "90.0 x"
    assert table.loc["10-19", "thyroid"] == "98.6"
