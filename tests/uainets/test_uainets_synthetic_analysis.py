"""Unit tests of semiad.uainets.synthetic on hand-made records (no training, < 1 s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semiad.uainets import synthetic as S

POOL, N_ANOM, B = 1000, 50, 100


def _rec(dataset: str, method: str, seed: int, hits_at: list[int] | np.ndarray, budget: int = B,
         snapshots: dict | None = None) -> dict:
    labels = np.zeros(budget, dtype=int)
    labels[np.asarray(hits_at, dtype=int)] = 1
    return {"status": "ok",
            "config": {"dataset": dataset, "method": method, "seed": seed},
            "info": {"pool": POOL, "n_anomalies": N_ANOM, "found_curve": np.cumsum(labels).tolist(),
                     "snapshots": snapshots or {}}}


def _linear(n_found: int, start: int = 0) -> np.ndarray:
    """``n_found`` hits spread evenly over audits start..B-1."""
    return np.linspace(start, B - 1, n_found).round().astype(int)


def _scenario() -> list[dict]:
    """The paper's story: Class good on 0, DAE good on hard; UaiNets start late but win at the end."""
    found = {  # dataset -> method -> hits at the last budget
        "mnist:0": {"class": 40, "dae": 6, "class_uai": 45, "dae_uai": 30, "random": 5},
        "mnist:hard": {"class": 8, "dae": 30, "class_uai": 28, "dae_uai": 35, "random": 5},
    }
    recs = []
    for ds, per in found.items():
        for m, n in per.items():
            for seed in (0, 1, 2):
                start = 30 if m.endswith("_uai") else 0  # UaiNets: nothing in the first 30 audits
                recs.append(_rec(ds, m, seed, _linear(n, start)))
    return recs


def test_seed_and_median_curves():
    curves = S.seed_curves(_scenario())
    assert set(curves["budget"]) == set(range(B + 1))
    assert curves.groupby(["dataset", "method", "seed"])["found"].first().eq(0).all()
    med = S.median_curves(curves)
    last = med[(med["dataset"] == "mnist:0") & (med["method"] == "Class") & (med["budget"] == B)]
    assert float(last["median"].iloc[0]) == 40 and float(last["random_expected"].iloc[0]) == B * N_ANOM / POOL
    table = S.found_at_table(curves, [50, B])
    assert list(table.columns[:5]) == ["Class_uai", "DAE_uai", "Class", "DAE", "random"]
    assert table.loc[("MNIST0", B), "Class"] == "40 [40, 40]"


def test_budget_helpers():
    assert S.report_budgets(1500) == [50, 100, 250, 500, 1000, 1500]
    assert S.report_budgets(150) == [50, 100, 150]
    assert S.zoom_budget(1500) == 300 and S.zoom_budget(60000) == 5000
    assert S.latent_budgets(150) == (150, [0, 25, 150])
    assert S.latent_budgets(1500) == (1500, [0, 250, 1500])
    assert S.latent_budgets(None) == (2000, [0, 250, 2000])


def test_base_model_claims_and_contrast_follow_the_rules():
    med = S.median_curves(S.seed_curves(_scenario()))
    q = S.base_model_quality(med).set_index(["dataset", "method"])
    assert q.loc[("mnist:0", "Class"), "good"] and not q.loc[("mnist:0", "DAE"), "good"]
    assert q.loc[("mnist:hard", "DAE"), "good"] and not q.loc[("mnist:hard", "Class"), "good"]
    claims = S.base_claims(med)
    assert list(claims.columns) == S.CLAIM_COLUMNS and claims["holds"].eq(True).all()
    assert S.base_contrast(med)["holds"].eq(True).all()


def test_robustness_and_cold_start():
    med = S.median_curves(S.seed_curves(_scenario()))
    rob = S.uai_robustness(med)
    assert len(rob) == 4 and rob["holds"].eq(True).all()  # DAE_uai on 0 is rescued: 30 >= 1.5 x 6
    cs = S.cold_start(med).set_index(["dataset", "method"])
    assert cs["cold_start"].all() and cs["better_at_end"].all()
    assert 30 < cs.loc[("mnist:0", "Class_uai"), "catch_up"] <= B
    claims = S.cold_start_claims(med)
    assert claims["holds"].iloc[0] == True and len(claims) == 5  # noqa: E712
    all_claims = S.budget_claims(med)
    assert set(all_claims.columns) == set(S.CLAIM_COLUMNS) and len(all_claims) == 4 + 2 + 4 + 5


def test_robustness_fails_when_a_uainet_stays_below_a_bad_base():
    recs = [r for r in _scenario() if not (r["config"]["dataset"] == "mnist:0"
                                           and r["config"]["method"] == "dae_uai")]
    recs += [_rec("mnist:0", "dae_uai", s, _linear(7)) for s in (0, 1, 2)]  # 7 < 0.9 x 40, < 1.5 x 6
    rob = S.uai_robustness(S.median_curves(S.seed_curves(recs)))
    row = rob[(rob["dataset"] == "MNIST0") & rob["claim"].str.startswith("DAE_uai")]
    assert row["holds"].iloc[0] == False  # noqa: E712


def test_late_start_and_harder_claims():
    recs = [_rec("fashion_mnist:hard", "class", s, _linear(20)) for s in (0, 1)]
    recs += [_rec("fashion_mnist:hard", "class_uai", s, _linear(25, start=60)) for s in (0, 1)]
    med = S.median_curves(S.seed_curves(recs))
    late = S.late_start_claim(med)
    assert late["holds"].iloc[0] == True  # noqa: E712 (catches up after 25 % of the run)
    ref_recs = [_rec("mnist:hard", m, 0, _linear(40)) for m in ("class", "class_uai")]
    ref = S.median_curves(S.seed_curves(ref_recs))
    harder = S.harder_than(med, ref, {"fashion_mnist:hard": "mnist:hard"})
    assert harder["holds"].iloc[0] == True  # noqa: E712
    assert S.harder_than(med, ref, {"fashion_mnist:0": "mnist:0"}).empty


def _snap(rng, n: int, sep: float) -> dict:
    y = (np.arange(n) < n // 5).astype(int)
    l_code = rng.normal(size=n) + sep * y
    s = rng.normal(size=n) + sep * y
    return {"rows": list(range(n)), "l": l_code[:, None].tolist(), "s": s.tolist(), "y": y.tolist()}


def test_latent_separability_and_claims():
    rng = np.random.default_rng(0)
    snapshots = {"0": _snap(rng, 400, 0.0), "25": _snap(rng, 400, 1.5), "150": _snap(rng, 400, 6.0)}
    recs = [_rec("mnist:0-2", "dae_uai", 0, [0], snapshots=snapshots)]
    snaps = S.snapshot_frame(recs)
    assert sorted(snaps["budget"].unique()) == [0, 25, 150] and len(snaps) == 1200
    sep = S.latent_separability(snaps).set_index("budget")
    assert sep.loc[0, "auc_lr"] < 0.65 and 0.8 < sep.loc[25, "auc_lr"] < 0.99
    assert sep.loc[150, "auc_lr"] > 0.99
    claims = S.latent_claims(S.latent_separability(snaps))
    assert len(claims) == 3 and claims["holds"].eq(True).all()
    assert np.isnan(S.linear_separability(np.zeros(10), np.zeros(10), np.r_[np.ones(2), np.zeros(8)]))


def test_statistics_long_and_comparison():
    table = pd.DataFrame([{"dataset": "MNIST0", "kind": "zero", "source": "real", "dims": 784,
                           "paper_dims": 784, "classes": 9, "paper_classes": 9, "instances": 54672,
                           "paper_instances": 54679, "anomalies": 700, "paper_anomalies": 602,
                           "ratio_pct": 1.28, "paper_ratio_pct": 1.1}])
    long = S.statistics_long(table, seed=0, setting="full set")
    assert len(long) == 5 and long["value"].notna().all() and set(long["method"]) == {"statistics"}
    comp = S.statistics_comparison(table).set_index("statistic")
    assert comp.loc["instances", "holds"] == True and comp.loc["anomalies", "holds"] == False  # noqa: E712
    assert comp.loc["dims", "holds"] == True  # noqa: E712
    demo = S.statistics_comparison(table.assign(source="demo"))
    assert demo["holds"].eq("NA").all()


@pytest.mark.parametrize("dataset,kind", [("mnist:0-2", "0-2"), ("fashion_mnist:hard", "hard")])
def test_kind_of(dataset, kind):
    assert S.kind_of(dataset) == kind
