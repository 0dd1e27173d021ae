"""UaiNets: the UAI layer's stop-gradient, the active loop's audit accounting, and learning from feedback."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from semiad.core.oracle import Oracle
from semiad.uainets.active import run_active_loop, static_trace
from semiad.uainets.model import UaiNet


def _toy(seed: int = 0, n: int = 1500, d: int = 10):
    """Normals in a blob; anomalies = a tight cluster the DAE reconstructs *well* (clustered anomalies)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, d)).astype(np.float32)
    y = np.zeros(n, np.int64)
    anom = rng.choice(n, 60, replace=False)
    X[anom] = rng.normal(0, 0.05, (60, d)) + 0.3
    y[anom] = 1
    classes = (X[:, 0] > 0).astype(np.int64)
    return X, y, classes


def _small(base="dae", **kw):
    params = dict(base=base, hidden=(32, 16, 4), pretrain_steps=200, steps_per_round=20, batch_size=128,
                  lr=0.005, device="cpu", random_state=0)
    params.update(kw)
    return UaiNet(**params)


@pytest.mark.parametrize("base", ["dae", "class"])
def test_uai_layer_stops_the_gradient_at_s_but_not_at_l(base):
    X, y, classes = _toy()
    net = _small(base).fit(X, classes)
    x = net.X_[:50]
    t = None if net.targets_ is None else net.targets_[:50]
    code, s = net.net_.latent_and_score(x, t)
    code.retain_grad()
    s.retain_grad()
    logit = net._uai_logit(code, s)
    target = torch.as_tensor(y[:50], dtype=torch.float32)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, target)
    loss.backward()
    assert s.grad is None or torch.count_nonzero(s.grad) == 0  # stopped at s
    assert code.grad is not None and torch.count_nonzero(code.grad) > 0  # flows into l
    first = next(net.net_.parameters())
    assert first.grad is not None and torch.count_nonzero(first.grad) > 0  # and on into the base net


def test_loop_audits_exactly_k_new_items_per_round_and_never_twice():
    X, y, classes = _toy()
    net = _small("dae").fit(X)
    seen_rounds = []
    original = net.update

    def spy(idx, labels):
        seen_rounds.append(np.array(idx))
        original(idx, labels)

    net.update = spy
    oracle = Oracle(y)
    trace = run_active_loop(net, oracle, budget=47, k=10)
    assert [len(r) for r in seen_rounds] == [10, 10, 10, 10, 7]
    assert len(np.unique(trace.order)) == 47 == oracle.n_queries
    assert np.array_equal(trace.labels, y[trace.order])
    with pytest.raises(ValueError, match="already queried"):
        oracle.query(trace.order[:1])


def test_cold_start_ranks_by_the_base_score_then_by_the_uai_logit():
    X, y, _ = _toy()
    net = _small("dae", cold_start_rounds=2).fit(X)
    assert np.array_equal(net.score(), net.base_score())
    net.update(np.arange(3), np.array([0, 1, 0]))
    assert not net.uai_ready and np.array_equal(net.score(), net.base_score())
    net.update(np.arange(3, 6), y[3:6])
    assert net.uai_ready
    s = net.score()  # the logit of s_uai: same order, no float32 saturation ties at the top
    assert np.array_equal(s, net.uai_logit())
    np.testing.assert_allclose(1 / (1 + np.exp(-s)), net.uai_score(), rtol=1e-5, atol=1e-6)


def test_uai_layer_waits_for_both_classes_then_trains():
    X, y, _ = _toy()
    net = _small("dae", cold_start_rounds=1).fit(X)
    w0 = net.uai_.weight.detach().clone()
    normals, anomalies = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    for r in range(3):  # an all-normal cold start: no anomaly to learn from
        net.update(normals[3 * r:3 * r + 3], np.zeros(3, int))
        assert not net.uai_ready and np.array_equal(net.score(), net.base_score())
    assert torch.equal(net.uai_.weight, w0)  # a one-class logistic regression is not trained
    net.update(anomalies[:1], np.ones(1, int))
    assert net.uai_ready and not torch.equal(net.uai_.weight, w0)
    literal = _small("dae", cold_start_rounds=1, wait_for_both_classes=False).fit(X)
    literal.update(normals[:3], np.zeros(3, int))
    assert literal.uai_ready and not torch.equal(literal.uai_.weight, w0)  # the paper's literal rule


@pytest.mark.parametrize("wait", [True, False])
def test_recovers_from_an_all_normal_cold_start(wait):
    """Normal outliers hold the DAE's top ranks, so every cold-start audit is normal. Waiting for both
    classes (rank by s until an anomaly is audited) and the literal rule (train the UAI layer on the
    normals alone) must both recover and find most of the anomalies within twice their number."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (1500, 10)).astype(np.float32)
    y = np.zeros(1500, np.int64)
    anom = rng.choice(1500, 60, replace=False)
    y[anom] = 1
    X[anom] = rng.normal(0, 1.0, (60, 10)) + 2.0
    X[rng.choice(np.flatnonzero(y == 0), 20, replace=False)] *= 4.0
    net = _small("dae", cold_start_rounds=3, wait_for_both_classes=wait).fit(X)
    trace = run_active_loop(net, Oracle(y), budget=120, k=3)
    assert trace.labels[:9].sum() == 0  # the whole cold start audits normals
    assert trace.found_curve()[-1] >= 40, trace.found_curve()[-1]


def test_feedback_moves_the_clustered_anomalies_the_dae_misses_to_the_top():
    X, y, _ = _toy()
    net = _small("dae", cold_start_rounds=0, steps_per_round=100).fit(X)
    anomalies, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)

    def mean_rank_pct(scores, rows):  # 100 = ranked most anomalous
        ranks = np.argsort(np.argsort(scores))
        return 100 * ranks[rows].mean() / (len(scores) - 1)

    rest = anomalies[10:]
    before = mean_rank_pct(net.base_score(), rest)
    net.update(np.concatenate([anomalies[:10], normals[:30]]), np.r_[np.ones(10), np.zeros(30)].astype(int))
    after = mean_rank_pct(net.uai_score(), rest)
    assert before < 40 < 90 < after, (before, after)


@pytest.mark.parametrize("wait", [True, False])
def test_active_loop_beats_the_static_ranking_once_anomalies_are_found(wait):
    X, y, _ = _toy()
    X[y == 1] = np.random.default_rng(1).normal(0, 1.0, (60, X.shape[1])) + 2.0
    net = _small("dae", cold_start_rounds=2, wait_for_both_classes=wait).fit(X)
    static = static_trace(net.base_score(), Oracle(y), 60)  # the DAE's top 60 hold a few anomalies
    active = run_active_loop(net, Oracle(y), budget=60, k=3)
    assert 0 < static.found_curve()[-1] < 10 and active.found_curve()[-1] > 40


def test_same_seed_same_audits_on_cpu():
    X, y, classes = _toy()
    runs = [run_active_loop(_small("class").fit(X, classes), Oracle(y), budget=30, k=3).order
            for _ in range(2)]
    assert np.array_equal(*runs)


def test_trace_metrics_and_input_errors():
    X, y, _ = _toy()
    trace = static_trace(-np.arange(len(y), dtype=float), Oracle(y), int(y.sum()))
    m = trace.precision_recall_f1()
    assert m["precision"] == pytest.approx(m["recall"]) == pytest.approx(m["f1"])
    assert trace.found_at([0, 5])[0] == 0
    with pytest.raises(ValueError, match="base"):
        UaiNet(base="vae").fit(X)
    with pytest.raises(ValueError, match="classes"):
        UaiNet(base="class", pretrain_steps=1, device="cpu").fit(X)
    with pytest.raises(ValueError, match="budget"):
        run_active_loop(_small(pretrain_steps=1).fit(X), Oracle(y), budget=0, k=3)
    with pytest.raises(ValueError, match="0 .normal. or 1"):
        Oracle(np.array([0, 2]))


def test_pool_cap_is_stratified_and_fixed_across_seeds():
    from semiad.uainets.grid import pool_indices

    y = np.zeros(10_000, np.int64)
    y[:300] = 1
    idx = pool_indices(y, 2000)
    assert len(idx) == 2000 and y[idx].sum() == 60 and np.array_equal(idx, np.sort(idx))
    assert np.array_equal(idx, pool_indices(y, 2000))
    assert np.array_equal(pool_indices(y, None), np.arange(10_000))


def test_grid_configs_fail_fast_on_bad_input():
    from semiad.uainets import grid as U

    with pytest.raises(ValueError, match="unknown method"):
        U.build_configs("smoke", ["thyroid"], ["vae_uai"])
    with pytest.raises(ValueError, match="classes"):
        U.build_configs("smoke", ["thyroid"], ["class_uai"])
    with pytest.raises(ValueError, match="unknown dataset"):
        U.build_configs("smoke", ["mnist_zero"], ["dae"])
    with pytest.raises(ValueError, match="unknown synthetic"):
        U.build_configs("smoke", ["mnist:1-3"], ["dae"])
    with pytest.raises(ValueError, match="budget"):
        U.build_configs("smoke", ["thyroid"], ["dae"], budget=0)
    with pytest.raises(ValueError, match="snapshot"):
        U.build_configs("smoke", ["thyroid"], ["dae"], snapshot={"kind": "gif", "at": [0]})
    assert U.k_for(29) == 3 and U.k_for(99) == 3 and U.k_for(100) == 10 and U.k_for(97278) == 10
    cfgs = U.build_configs("quick", ["mnist:0", "thyroid", "kddcup"], ["dae_uai", "dagmm_clean"], budget=None)
    # quick: the paper's whole pool for Table 1 sets, except the two KDDCUP sets (stated caps)
    assert {c["dataset"]: c["pool_cap"] for c in cfgs} == {"mnist:0": 15_000, "thyroid": None,
                                                          "kddcup": 10_000}
    assert {c["params"].get("dagmm_preset") for c in cfgs
            if c["method"] == "dagmm_clean" and c["dataset"] == "thyroid"} == {"thyroid"}
    uai = next(c for c in cfgs if c["method"] == "dae_uai")
    assert U.ColdStart.from_params(uai["params"]) == U.DEFAULT_COLD_START
    assert uai["params"]["wait_for_both_classes"] is True


def test_cold_start_readings():
    from semiad.uainets import grid as U

    literal, fraction = U.ColdStart(10, None), U.ColdStart(10, 0.1)
    # Abalone: b = 29, k = 3 -> 10 calls; the literal rule never lets the UAI layer rank
    assert literal.rounds(29, 3) == 10 and fraction.rounds(29, 3) == 1
    assert literal.rounds(2747, 10) == fraction.rounds(2747, 10) == 10  # long runs: identical
    assert fraction.rounds(55, 3) == 1 and fraction.rounds(260, 10) == 2
    with pytest.raises(ValueError):
        U.ColdStart(-1)
    with pytest.raises(ValueError):
        U.ColdStart(10, 1.5)


def test_a_smoke_cell_on_demo_data_returns_a_hit_curve(tmp_path):
    from semiad.uainets import grid as U

    cfg = U.build_configs("smoke", ["mnist:0"], ["dae_uai"], data_sources={"mnist:0": "demo"})[0]
    out = U.uainets_cell(cfg, {"data_dir": str(tmp_path), "on_missing": "demo", "cache_root": str(tmp_path)})
    curve = out["info"]["found_curve"]
    assert len(curve) == min(cfg["budget"], out["info"]["pool"]) and curve == sorted(curve)
    assert out["metrics"]["found"] == curve[-1] <= out["info"]["n_anomalies"]


def test_profile_configs_are_typed_validated_and_the_paper_protocol_by_default():
    import dataclasses

    from semiad.uainets import grid as U

    paper = U.UaiNetsConfig.for_profile("paper")
    assert paper == U.UaiNetsConfig()  # the defaults are App. A.1's protocol
    protocol = (paper.hidden, paper.pretrain_steps, paper.steps_per_round, len(paper.seeds))
    assert protocol == ((256, 64, 8), 5000, 100, 5)
    quick = U.UaiNetsConfig.for_profile("quick")
    assert quick.pool_cap_for("mnist:0") == 15_000 and quick.pool_cap_for("thyroid") is None
    assert quick.tabular_cap("kddcup") == 10_000 and quick.tabular_cap(U.SEEN_UNSEEN) == 10_000
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.seeds = (0,)
    for bad in ({"seeds": (-1,)}, {"seeds": ()}, {"steps_per_round": 0}, {"pool_cap": 0},
                {"hidden": (8, 0)}, {"tabular_pool_caps": (("kddcup", 0),)}, {"noise_std": -0.1}):
        with pytest.raises(ValueError):
            U.UaiNetsConfig(**bad)
    with pytest.raises(ValueError, match="profile"):
        U.UaiNetsConfig.for_profile("huge")
    # a config object builds the same cells as its profile name
    assert U.build_configs(quick, ["thyroid"], ["dae_uai"], budget=None) == \
        U.build_configs("quick", ["thyroid"], ["dae_uai"], budget=None)


@pytest.mark.parametrize("notebook", ["fig3_fig6_mnist_budget", "fig7_fig8_fashion_budget",
                                      "fig9_fig10_latent"])
def test_quick_cells_have_the_committed_cache_keys(notebook):
    """The quick cells built from the typed config hash exactly to the ``cell`` column of the committed
    results.csv, so the warm cache keeps hitting and the committed numbers stay tied to the code."""
    import pandas as pd

    from semiad.core.cache import config_hash
    from semiad.uainets import grid as U
    from semiad.uainets import synthetic as syn
    from tests.conftest import REPO

    committed = pd.read_csv(REPO / "figures" / "uainets" / notebook / "results.csv")
    sources = committed.drop_duplicates("dataset").set_index("dataset")["data_source"].to_dict()
    if notebook == "fig9_fig10_latent":
        sizes = U.UaiNetsConfig.for_profile("quick")
        budget, at = syn.latent_budgets(sizes.max_budget)
        cfgs = U.build_configs("quick", syn.LATENT_SETS, syn.LATENT_METHODS, budget=budget,
                               data_sources=sources, snapshot={"kind": "latent", "at": at},
                               hidden=syn.latent_hidden(sizes.hidden))
    else:
        sets = syn.MNIST_SETS if notebook.startswith("fig3") else syn.FASHION_SETS
        cfgs = U.build_configs("quick", sets, syn.BUDGET_METHODS, data_sources=sources)
    assert {config_hash(c) for c in cfgs} == set(committed["cell"].dropna())


def test_the_aad_solver_cap_is_a_grid_size_and_the_cells_count_the_solves_that_reach_it(tmp_path):
    """Every profile stops each AAD weight solve at 500 iterations in cells without an ``aad_max_iter`` key
    (the committed cache keys stand); another cap is named in the cell. A cell reports how many solves
    stopped at its cap."""
    from dataclasses import replace

    from semiad.uainets import grid as U

    for profile in ("smoke", "quick", "paper"):
        assert U.UaiNetsConfig.for_profile(profile).aad_max_iter == U.AAD_CAP_WITHOUT_KEY == 500
        cfg = U.build_configs(profile, ["thyroid"], ["loda_aad", "tree_aad"], budget=None)
        assert all("aad_max_iter" not in c["params"] for c in cfg)
    converged = replace(U.UaiNetsConfig.for_profile("smoke"), aad_max_iter=20_000)
    cfg = U.build_configs(converged, ["thyroid"], ["loda_aad"], budget=None,
                          data_sources={"thyroid": "demo"})[0]
    assert cfg["params"]["aad_max_iter"] == 20_000
    rt = {"data_dir": str(tmp_path), "on_missing": "demo", "cache_root": str(tmp_path)}
    assert U.uainets_cell(cfg, rt)["info"]["solves_at_cap"] == 0
    capped = {**cfg, "params": {**cfg["params"], "aad_max_iter": 1}}
    assert U.uainets_cell(capped, rt)["info"]["solves_at_cap"] > 0
    with pytest.raises(ValueError, match="aad_max_iter"):
        U.UaiNetsConfig(aad_max_iter=0)
