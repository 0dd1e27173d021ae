"""benchmarks/aad_convergence.py: LODA-AAD's F1 under the cells' 500-iteration cap vs a converged solve."""

from __future__ import annotations

import sys

import pandas as pd

from semiad.uainets.aad import LodaAAD
from semiad.uainets.grid import UaiNetsConfig
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import aad_convergence as bench  # noqa: E402


def test_the_table_puts_both_caps_side_by_side():
    rows = [{"dataset": "kddcup", "seed": 0, "cap": bench.COMMITTED_CAP, "f1": 0.70},
            {"dataset": "kddcup", "seed": 0, "cap": bench.CONVERGED_CAP, "f1": 0.72}]
    out = bench.table(pd.DataFrame(rows))
    assert out.loc[("kddcup", 0), "converged - committed"] == 0.72 - 0.70
    assert LodaAAD().max_iter == bench.COMMITTED_CAP == UaiNetsConfig.for_profile("quick").aad_max_iter
    assert bench.CONVERGED_CAP > 10 * bench.COMMITTED_CAP
