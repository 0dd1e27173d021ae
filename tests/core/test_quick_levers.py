"""benchmarks/quick_levers.py: which cells a resized quick profile would drop (issue #19)."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import quick_levers  # noqa: E402


def _odds(split, minmax=False, seed=0, runtime=1.0):
    protocol = {"test_split": split, "minmax_after_standardize": minmax} if split else \
        {"minmax_after_standardize": minmax}
    return {"config": {"task": "odds", "protocol": protocol, "seed": seed, "method": "ocsvm",
                       "ae": {"seed": seed}}, "runtime_s": runtime}


def test_the_default_protocol_is_not_an_ablation_but_other_splits_and_scalings_are():
    assert not quick_levers.is_ablation(_odds("resampled")["config"])
    assert quick_levers.is_ablation(_odds(None)["config"])  # disjoint cells carry no test_split key
    assert quick_levers.is_ablation(_odds("resampled", minmax=True)["config"])
    assert not quick_levers.is_ablation({"task": "dads", "protocol": {}, "seed": 0})


def test_shares_count_ablation_cpu_and_seeds_per_group_ignoring_nested_seeds():
    records = [_odds("resampled", seed=s, runtime=1.0) for s in range(10)] + \
              [_odds(None, seed=s, runtime=3.0) for s in range(10)]
    ablation, seeds = quick_levers.notebook_shares(records)
    assert ablation == pytest.approx(0.75)
    assert seeds == pytest.approx(10.0)  # two groups (the splits) of ten seeds; the AE's seed is ignored
