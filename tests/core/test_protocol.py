"""The Deep SAD training protocol switch (semiad.core.detectors.protocol): each field changes what it names,
both presets are deterministic, and cells of different protocols never share a cache entry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from semiad.core.cache import config_hash
from semiad.core.detectors.autoencoder import train_autoencoder
from semiad.core.detectors.deep_sad import DeepSAD, init_center
from semiad.core.detectors.networks import build_autoencoder
from semiad.core.detectors.protocol import (
    AUTHORS_CODE,
    AUTHORS_CODE_AS_RELEASED,
    DEFAULT,
    PAPER_TEXT,
    PRESETS,
    init_weights_,
    protocol_named,
)
from semiad.core.detectors.training import TrainSchedule, train_minibatch
from semiad.deep_sad import odds

SPECS = {m.label: m for m in odds.ALL_METHODS}
FEW = (SPECS["Deep SAD"], SPECS["Deep SVDD (one-class)"], SPECS["CAE"], SPECS["OC-SVM Raw (nu=0.1)"])


def _cells(training, methods=FEW):
    sources = odds.dataset_sources(("thyroid",), on_missing="demo")
    cfgs = odds.build_configs("smoke", ("thyroid",), (0,), methods, sources, training=training)
    return {c.get("method", "ae_pretrain"): c for c in cfgs}


def test_presets_differ_exactly_in_the_documented_fields():
    diff = PAPER_TEXT.differences(AUTHORS_CODE)
    assert set(diff) == {"init", "leaky_slope", "minmax_scaling", "ae_batch_size", "ae_weight_decay",
                         "ae_lr_decay", "batch_size", "weight_decay", "scheduler_off_by_one", "drop_last",
                         "center_includes_labeled", "test_split"}
    assert AUTHORS_CODE.differences(AUTHORS_CODE_AS_RELEASED) == {"transfer_pretrained": (True, False)}
    assert protocol_named(None) is DEFAULT and protocol_named("paper_text") is PAPER_TEXT
    assert len({p.name for p in PRESETS}) == len(PRESETS)
    with pytest.raises(ValueError, match="unknown protocol"):
        protocol_named("authors")
    with pytest.raises(ValueError, match="unknown protocol fields"):
        PAPER_TEXT.switch(learning_rate=1.0)
    assert PAPER_TEXT.switch(init="pytorch_default").differences(PAPER_TEXT) == {
        "init": ("pytorch_default", "glorot")}


def test_init_switch_sets_the_weight_statistics():
    torch.manual_seed(0)
    ae = init_weights_(build_autoencoder(200, (64, 32), 16), "glorot")
    w = ae.encoder.net[0].weight.detach()  # 64 x 200
    assert float(w.abs().max()) <= math.sqrt(6 / (200 + 64)) + 1e-7
    assert float(w.std()) == pytest.approx(math.sqrt(2 / (200 + 64)), rel=0.05)
    torch.manual_seed(0)
    ae = init_weights_(build_autoencoder(200, (64, 32), 16), "pytorch_default")
    w = ae.encoder.net[0].weight.detach()  # PyTorch default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert float(w.abs().max()) <= 1 / math.sqrt(200) + 1e-7
    assert float(w.std()) == pytest.approx(1 / math.sqrt(3 * 200), rel=0.05)


def test_slope_and_scaling_switches_act_on_the_network_and_the_data():
    ae = build_autoencoder(5, (4,), 2, leaky_slope=AUTHORS_CODE.leaky_slope)
    slopes = {m.negative_slope for m in ae.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.01}
    paper, code = _cells(PAPER_TEXT)["deep_sad"], _cells(AUTHORS_CODE)["deep_sad"]
    runtime = {"data_dir": None, "on_missing": "demo"}
    split_p, split_c = odds.make_split(paper, runtime), odds.make_split(code, runtime)
    assert split_c.X_train.min() >= 0 and split_c.X_train.max() <= 1 + 1e-6
    np.testing.assert_allclose(split_p.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_array_equal(split_p.y_semi, split_c.y_semi)  # same rows, other scaling


def test_schedule_switches_reach_the_cell_configs():
    ae_p, ae_c = _cells(PAPER_TEXT)["ae_pretrain"], _cells(AUTHORS_CODE)["ae_pretrain"]
    assert ae_p["task"] == "odds_ae" and ae_p["train"]["lr_milestones"] == [2]  # smoke milestone
    assert ae_c["train"]["lr_milestones"] == [] and ae_c["train"]["batch_size"] == 128
    assert ae_c["train"]["weight_decay"] == 0.5e-3 and ae_c["net"]["init"] == "pytorch_default"
    sad_p, sad_c = _cells(PAPER_TEXT)["deep_sad"], _cells(AUTHORS_CODE)["deep_sad"]
    assert sad_p["train"]["lr_milestones"] == [2] and sad_c["train"]["lr_milestones"] == [1]  # off by one
    assert (sad_c["train"]["batch_size"], sad_c["train"]["weight_decay"]) == (128, 0.5e-6)
    assert sad_c["hypersphere"]["center_includes_labeled"]
    assert not sad_p["hypersphere"]["center_includes_labeled"]
    assert AUTHORS_CODE.milestones([50]) == [49] and PAPER_TEXT.milestones([50]) == [50]
    assert "ae" in sad_c and "ae" not in _cells(AUTHORS_CODE_AS_RELEASED)["deep_sad"]


def test_drop_last_skips_the_incomplete_batch():
    lin = torch.nn.Linear(3, 1)
    x = torch.randn(25, 3)
    for drop_last, expected in ((False, [10, 10, 5]), (True, [10, 10])):
        steps: list[int] = []
        train_minibatch(lin, (x,), lambda xb: lin(xb).pow(2).mean(),
                        TrainSchedule(n_epochs=1, batch_size=10, drop_last=drop_last), seed=0,
                        after_step=lambda xb, out=steps: out.append(len(xb)))
        assert steps == expected


def test_center_rows_switch():
    torch.manual_seed(0)
    enc = torch.nn.Linear(3, 2, bias=False)
    X = torch.cat([torch.zeros(8, 3) + 1.0, torch.zeros(2, 3) + 10.0])
    y = torch.tensor([0] * 8 + [-1] * 2)
    c_paper = init_center(enc, X, y)
    c_code = init_center(enc, X, y, include_labeled=True)
    torch.testing.assert_close(c_paper, enc(X[:8]).mean(0).detach(), rtol=0, atol=0.1 + 1e-6)
    assert not torch.allclose(c_paper, c_code)


def test_transfer_switch_starts_from_fresh_weights_under_the_init():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6)).astype(np.float32)
    y = np.zeros(120, dtype=np.int64)
    y[:4] = -1
    kw = {"hidden_dims": (8,), "rep_dim": 4, "n_epochs": 2, "device": "cpu", "random_state": 3,
          "pretrain": False}
    a = DeepSAD(init="glorot", **kw).fit(X, y).decision_function(X)
    b = DeepSAD(init="pytorch_default", **kw).fit(X, y).decision_function(X)
    assert not np.allclose(a, b)


def test_ae_init_switch_changes_the_trained_autoencoder():
    X = torch.randn(64, 6)
    sched = TrainSchedule(n_epochs=1, batch_size=32)
    ae_g, _ = train_autoencoder(X, (8,), 4, sched, seed=0, init="glorot")
    ae_d, _ = train_autoencoder(X, (8,), 4, sched, seed=0, init="pytorch_default")
    assert not torch.allclose(ae_g.encoder.net[0].weight, ae_d.encoder.net[0].weight)


def test_cells_of_two_protocols_never_collide_and_share_only_identical_work():
    paper, code = _cells(PAPER_TEXT), _cells(AUTHORS_CODE)
    for key in ("ae_pretrain", "deep_sad", "deep_svdd", "ae", "ocsvm"):
        assert config_hash(paper[key]) != config_hash(code[key]), key  # min-max changes every cell
    only_init = _cells(PAPER_TEXT.switch(init="pytorch_default"))
    assert config_hash(only_init["ocsvm"]) == config_hash(paper["ocsvm"])  # raw data unchanged: shared
    assert config_hash(only_init["ae_pretrain"]) != config_hash(paper["ae_pretrain"])
    only_batch = _cells(PAPER_TEXT.switch(batch_size=128))
    assert config_hash(only_batch["ae_pretrain"]) == config_hash(paper["ae_pretrain"])  # AE reused
    assert config_hash(only_batch["deep_sad"]) != config_hash(paper["deep_sad"])


@pytest.mark.parametrize("training", [PAPER_TEXT, AUTHORS_CODE], ids=lambda p: p.name)
def test_both_presets_are_deterministic(training, tmp_path):
    methods = (SPECS["Deep SAD"], SPECS["CAE"])
    runs = [odds.run_odds("smoke", datasets=["thyroid"], seeds=(0,), methods=methods, training=training,
                          device="cpu", cache_root=str(tmp_path / f"c{i}"), progress=False, on_missing="demo")
            for i in range(2)]
    a, b = (r.sort_values(["method", "metric"])["value"].to_numpy() for r in runs)
    np.testing.assert_array_equal(a, b)
    assert (runs[0]["training_protocol"] == training.name).all()


def test_test_split_switch_reaches_every_odds_cell_and_only_them():
    """The split acts on every ODDS cell (shallow ones too); disjoint cells keep their earlier keys."""
    base = AUTHORS_CODE.switch(test_split="disjoint")
    disjoint, resampled = _cells(base), _cells(AUTHORS_CODE)
    for key in ("ae_pretrain", "deep_sad", "deep_svdd", "ae", "ocsvm"):
        assert "test_split" not in disjoint[key]["protocol"]
        assert resampled[key]["protocol"]["test_split"] == "resampled"
        assert config_hash(disjoint[key]) != config_hash(resampled[key]), key
    with pytest.raises(ValueError, match="test_split"):
        odds.build_configs("smoke", ("thyroid",), (0,), FEW, {"thyroid": "demo"}, test_split="resampled")
    with pytest.raises(ValueError, match="test_split"):
        PAPER_TEXT.switch(test_split="overlapping")


def test_dads_and_rlad_deep_sad_baselines_carry_the_protocol_model_fields():
    """The Deep SAD baselines of DADS and RLAD pre-train their own AE with their own optimiser settings;
    the protocol's init, slope and center rows reach them (and their cache keys)."""
    from semiad.dads import grid as dads
    from semiad.rlad import grid as rlad

    fields = DEFAULT.estimator_params()
    assert fields == {"init": DEFAULT.init, "leaky_slope": DEFAULT.leaky_slope,
                      "center_includes_labeled": DEFAULT.center_includes_labeled}
    for params in (dads.method_params("deep_sad", dads.Fig2Config.for_profile("smoke")),
                   rlad.RLADGridConfig.for_profile("smoke").method_params("deep_sad", "yahoo_a1")):
        assert fields.items() <= params.items()
    det = DeepSAD(**PAPER_TEXT.switch(init="pytorch_default").estimator_params())
    assert (det.init, det.leaky_slope, det.center_includes_labeled) == ("pytorch_default", 0.1, False)
