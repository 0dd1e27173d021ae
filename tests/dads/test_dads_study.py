"""DADS study (issue #16): the arms of both protocols and CTG column sets, the mechanism ablation's
protocols, and the labelled tidy results (demo data, smoke sizes)."""

from __future__ import annotations

import pandas as pd
import pytest

from semiad.dads import claims as dads_claims
from semiad.dads import study as study
from semiad.dads.protocol import AUTHORS_CODE, PAPER_TEXT


def test_arms_cover_both_protocols_and_both_ctg_column_sets():
    arms = study.study_arms("quick")
    by_name = {a.protocol.name: a for a in arms}
    assert by_name["authors_code"].role == "reproduction" and by_name["paper_text"].role == "ablation"
    for arm in arms[:2]:
        assert arm.datasets == ("annthyroid", "cardiotocography", "shuttle_aad")
        assert arm.contaminations is None
    swaps = [a for a in arms if a.role == "feature-set swap"]
    assert {a.protocol.feature_set for a in swaps} == {"clean21", "authors"}
    assert all(a.datasets == ("cardiotocography",) for a in swaps)
    # a swap arm differs from its preset in the column set alone
    for arm in swaps:
        preset = AUTHORS_CODE if arm.protocol.name.startswith("authors_code") else PAPER_TEXT
        assert set(preset.differences(arm.protocol)) == {"feature_set"}
    assert len(study.study_arms("quick", datasets=["annthyroid"])) == 2  # no CTG panel, no swap arm


def test_ablation_switches_one_mechanism_at_a_time():
    pairs = study.ablation_protocols(AUTHORS_CODE, PAPER_TEXT)
    assert pairs[0] == (None, AUTHORS_CODE)
    covered = set()
    for mech, proto in pairs[1:]:
        diff = AUTHORS_CODE.differences(proto)
        assert set(diff) <= set(mech.fields) and diff
        assert all(getattr(proto, f) == getattr(PAPER_TEXT, f) for f in diff)
        covered |= set(diff)
    # every difference between the presets but the seed list and the baselines' configurations is a row
    assert covered == set(AUTHORS_CODE.differences(PAPER_TEXT)) - {"seeds", "baselines", "annthyroid_rows"}
    on_annthyroid = {m.label for m, _ in study.ablation_protocols(AUTHORS_CODE, PAPER_TEXT, "annthyroid")[1:]}
    assert "annthyroid: ann-train.data only" in on_annthyroid
    assert "CTG feature set (leak)" not in on_annthyroid
    labels = [m.label for m in study.MECHANISMS]
    assert len(labels) == len(set(labels))


@pytest.fixture(scope="module")
def smoke_study(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("cache"))
    return study.run_protocol_study("smoke", on_missing="demo", cache_root=cache, progress=False,
                                    datasets=["cardiotocography"], seeds=[0],
                                    methods=["dads", "xgboost", "iforest"]), cache


def test_study_rows_carry_protocol_and_feature_set(smoke_study):
    (results, records), _ = smoke_study
    assert set(records) == {"authors_code", "paper_text", "authors_code | feature_set=clean21",
                            "paper_text | feature_set=authors"}
    assert (results["status"] == "ok").all()
    combos = set(zip(results["protocol"], results["feature_set"], strict=True))
    assert combos == {("authors_code", "authors"), ("paper_text", "clean21"),
                      ("authors_code | feature_set=clean21", "clean21"),
                      ("paper_text | feature_set=authors", "authors")}
    table = dads_claims.feature_set_table(results)
    assert ("authors_code", "extra columns: change") in table.columns
    # means over the levels both column sets ran: the change is the difference of the two columns
    ctg = results[(results["metric"] == "auc_roc") & (results["method"] == "DADS")]
    by = ctg.groupby("protocol")["value"].mean() * 100
    expected = by["paper_text | feature_set=authors"] - by["paper_text"]
    assert abs(table.loc["DADS", ("paper_text", "extra columns: change")] - expected) < 0.06
    assert table.loc["DADS"].notna().all()
    claims = dads_claims.claims_by_arm(results)
    assert set(claims["protocol"]) == set(records) and claims["holds"].isin([True, False]).all()
    leaky = claims.loc[claims["ctg_columns"].str.startswith("authors"), "ctg_columns"]
    assert leaky.str.contains("leak").all()


def test_mechanism_ablation_summary(smoke_study):
    _, cache = smoke_study
    runs, summary = study.run_mechanism_ablation("smoke", on_missing="demo", cache_root=cache, progress=False,
                                                 contamination=0.1)
    n_rows = len(study.ablation_protocols(AUTHORS_CODE, PAPER_TEXT))
    assert len(summary) == n_rows and runs["method"].eq("DADS").all()
    base = summary[summary["mechanism"] == "(base)"]
    assert len(base) == 1 and float(base["change"].iloc[0]) == 0.0
    assert pd.api.types.is_float_dtype(summary["change"]) and summary["mean"].between(0, 100).all()
    assert runs["protocol"].nunique() == n_rows
