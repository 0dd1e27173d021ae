"""The batched tabular trainer (semiad.deep_sad.batched_tabular) equals the one-model path, model by model.

Real data: thyroid at smoke size (600 rows, seeds 0-2, the App. D 32-16-4 MLP), a few epochs at lr 1e-3 so
that the weights move. Under the default protocol (PyTorch's default init, batch 128, drop_last, an lr
milestone after epoch 1) and under the paper-text protocol (Glorot, batch 200, a partial last batch),
the AE (App. C), Deep SAD (Eq. 7), one-class Deep SVDD (Eq. 3) and soft-boundary Deep SVDD trained as one
batched model match the one-model fits: weights, BatchNorm statistics, centers, radii, loss histories and
test scores within ATOL (on the Intel CPU they were written on they are equal to the bit; on an AMD EPYC the
batched products differ in the last bit), AUCs equal to 4 decimals. Soft-boundary Deep SVDD gets SOFT_ATOL:
its hinge's gradient jumps for rows at the radius, which the (1 - nu)-quantile update puts there, so a
last-bit difference can grow (4e-4 in the weights after 4 epochs, paper-text protocol, AMD EPYC).
Then the ODDS grid's engines: ``run_odds(engine="batched")`` writes records that the per-cell path reads
as its own.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from semiad.core.cache import ResultCache, config_hash
from semiad.core.detectors.autoencoder import train_autoencoder
from semiad.core.detectors.base import KNOWN_ANOMALY
from semiad.core.detectors.deep_sad import DeepSAD, DeepSVDD
from semiad.core.detectors.networks import MLPEncoder
from semiad.core.detectors.protocol import AUTHORS_CODE_AS_RELEASED, DEFAULT, PAPER_TEXT, TrainingProtocol
from semiad.core.detectors.training import TrainSchedule
from semiad.core.metrics import auc
from semiad.deep_sad import odds
from semiad.deep_sad.batched_tabular import (
    HypersphereSpec,
    StackedMLP,
    fit_hyperspheres_batched,
    train_autoencoders_batched,
    train_batched,
)
from tests.conftest import requires_real_data

pytestmark = requires_real_data

SEEDS = (0, 1, 2)
EPOCHS = 4
LR = 1e-3
ATOL = 1e-5
SOFT_ATOL = 1e-2
SPECS = (*(HypersphereSpec(s, "deep-sad") for s in SEEDS), HypersphereSpec(0, "deep-sad", eta=2.0),
         *(HypersphereSpec(s, "one-class") for s in SEEDS),
         HypersphereSpec(1, "soft-boundary", nu=0.01), HypersphereSpec(2, "soft-boundary", nu=0.1))
DEEP_METHODS = tuple(m for m in odds.ALL_METHODS if m.method in ("deep_sad", "deep_svdd", "ae"))


def _setting(training: TrainingProtocol) -> dict:
    """Splits of seeds 0-2, the AE and hypersphere schedules and network settings of ``training``."""
    cfgs = odds.build_configs("smoke", ("thyroid",), SEEDS, DEEP_METHODS, training=training)
    ae = [c for c in cfgs if c["task"] == "odds_ae"]
    sphere = next(c for c in cfgs if c.get("method") == "deep_sad")
    runtime = {"data_dir": None}
    return {"splits": [odds.make_split(c, runtime) for c in ae], "ae": ae[0], "sphere": sphere,
            "ae_schedule": replace(odds._schedule(ae[0]["train"]), n_epochs=EPOCHS, lr=LR),
            "schedule": replace(odds._schedule(sphere["train"]), n_epochs=EPOCHS, lr=LR)}


def _assert_same_state(a: torch.nn.Module, b: torch.nn.Module, atol: float = ATOL) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        torch.testing.assert_close(sa[key], sb[key], atol=atol, rtol=0,
                                   msg=lambda m, key=key: f"{key}: {m}")


def _single_detector(spec: HypersphereSpec, setting: dict, pretrained: dict | None):
    sch, cell = setting["schedule"], setting["sphere"]
    kwargs = dict(hidden_dims=cell["arch"]["hidden_dims"], rep_dim=cell["arch"]["rep_dim"],
                  n_epochs=sch.n_epochs, lr=sch.lr, lr_milestones=sch.lr_milestones,
                  batch_size=sch.batch_size, weight_decay=sch.weight_decay, drop_last=sch.drop_last,
                  device="cpu", random_state=spec.seed, output_sigmoid=False,
                  center_includes_labeled=cell["hypersphere"]["center_includes_labeled"], **odds._net(cell))
    if pretrained is not None:
        kwargs["pretrained_autoencoder"] = pretrained
    else:
        kwargs["pretrain"] = False
    if spec.objective == "deep-sad":
        return DeepSAD(eta=spec.eta, **kwargs)
    return DeepSVDD(objective=spec.objective, nu=spec.nu, **kwargs)


@pytest.mark.parametrize("training", [DEFAULT, PAPER_TEXT, AUTHORS_CODE_AS_RELEASED], ids=lambda t: t.name)
def test_batched_equals_one_model_fits(training):
    torch.set_num_threads(1)
    setting = _setting(training)
    splits, ae_cfg = setting["splits"], setting["ae"]
    hidden, rep = ae_cfg["arch"]["hidden_dims"], ae_cfg["arch"]["rep_dim"]
    X_ae = [s.X_train[s.y_semi != KNOWN_ANOMALY] for s in splits]

    # AE pre-training (App. C)
    batched_ae = train_autoencoders_batched(X_ae, hidden, rep, setting["ae_schedule"], SEEDS,
                                            **odds._net(ae_cfg))
    assert batched_ae.errors == [None] * len(SEEDS)
    for k, seed in enumerate(SEEDS):
        ae, history = train_autoencoder(torch.as_tensor(X_ae[k]), hidden, rep, setting["ae_schedule"],
                                        seed=seed, **odds._net(ae_cfg))
        _assert_same_state(batched_ae.autoencoders[k], ae)
        np.testing.assert_allclose(batched_ae.histories[k], history, rtol=1e-6)
        assert len(history) == EPOCHS

    # Deep SAD / Deep SVDD from the pre-trained AEs (or, as released, from fresh weights)
    transfer = setting["sphere"]["hypersphere"]["transfer_pretrained"]
    states = batched_ae.state_dicts()
    pretrained = [states[s.seed] for s in SPECS] if transfer else None
    sphere = setting["sphere"]
    fit = fit_hyperspheres_batched([splits[s.seed].X_train for s in SPECS],
                                   [splits[s.seed].y_semi for s in SPECS], SPECS, hidden, rep,
                                   setting["schedule"], pretrained=pretrained,
                                   center_includes_labeled=sphere["hypersphere"]["center_includes_labeled"],
                                   **odds._net(sphere))
    assert fit.errors == [None] * len(SPECS)
    assert len(fit.groups) == 2  # Deep SAD trains on every row, Deep SVDD without the labeled anomalies
    scores = fit.score([splits[s.seed].X_test for s in SPECS])
    for k, spec in enumerate(SPECS):
        det = _single_detector(spec, setting, None if pretrained is None else pretrained[k])
        split = splits[spec.seed]
        det.fit(split.X_train, split.y_semi)
        soft = spec.objective == "soft-boundary"
        atol = SOFT_ATOL if soft else ATOL
        _assert_same_state(fit.encoders[k], det.net_, atol)
        torch.testing.assert_close(fit.centers[k], det.c_, atol=ATOL, rtol=0)
        np.testing.assert_allclose(fit.histories[k], det.history_, rtol=1e-3 if soft else 1e-6)
        single_scores = det.decision_function(split.X_test)
        np.testing.assert_allclose(scores[k], single_scores, atol=atol, rtol=0)
        assert round(auc(split.y_test, scores[k]), 3 if soft else 4) \
            == round(auc(split.y_test, single_scores), 3 if soft else 4)
        if soft:
            assert float(fit.radii[k]) == pytest.approx(float(det.R_), abs=atol)


def test_batched_training_is_deterministic_and_models_are_independent():
    torch.set_num_threads(1)
    setting = _setting(DEFAULT)
    splits, cell = setting["splits"], setting["sphere"]
    hidden, rep = cell["arch"]["hidden_dims"], cell["arch"]["rep_dim"]

    def run(specs):
        fit = fit_hyperspheres_batched([splits[s.seed].X_train for s in specs],
                                       [splits[s.seed].y_semi for s in specs], specs, hidden, rep,
                                       setting["schedule"], **odds._net(cell))
        return fit.score([splits[s.seed].X_test for s in specs])

    specs = [HypersphereSpec(s) for s in SEEDS]
    first, again = run(specs), run(specs)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    alone = run([specs[1]])[0]  # model 1 trained without the others
    np.testing.assert_allclose(first[1], alone, atol=ATOL, rtol=0)
    assert not np.allclose(first[0], first[1])  # different seeds (splits, init, batches) differ


def test_a_diverging_model_is_reported_and_leaves_the_others_untouched():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 64, 5)).astype(np.float32)
    X[1, 3, 0] = np.inf  # model 1's loss becomes non-finite in its first epoch
    schedule = TrainSchedule(n_epochs=2, lr=1e-3, lr_milestones=(), batch_size=16)

    def train(Xk, seeds):
        nets = []
        for seed in seeds:
            torch.manual_seed(seed)
            nets.append(MLPEncoder(5, (8,), 3))
        stacked = StackedMLP(nets)
        Xt = torch.as_tensor(Xk)
        return stacked, train_batched(stacked, Xt, None, lambda xb, _y: stacked(xb).pow(2).sum(2).mean(1),
                                      schedule, seeds)

    both, history = train((X), (0, 1))
    assert history.errors[0] is None and len(history.histories[0]) == 2
    assert history.errors[1].startswith("training loss became") and "epoch 1/2" in history.errors[1]
    assert history.histories[1] == []
    alone, history_alone = train(X[:1], (0,))
    assert history_alone.histories[0] == history.histories[0]
    torch.testing.assert_close(both.weights[0][0], alone.weights[0][0], atol=0, rtol=0)


# ------------------------------------------------------------------------------------------ ODDS engines
def _run(engine: str, root, seeds=(0, 1)):
    return odds.run_odds("smoke", datasets=("thyroid",), seeds=seeds, methods=DEEP_METHODS,
                         cache_root=str(root), engine=engine, progress=False, device="cpu")


def test_batched_engine_writes_the_records_of_the_per_cell_path(tmp_path):
    batched = _run("batched", tmp_path / "batched")
    per_cell = _run("per_cell", tmp_path / "per_cell")
    key = ["method", "seed", "metric"]
    merged = batched.merge(per_cell, on=key, suffixes=("_batched", "_per_cell"))
    assert len(merged) == len(per_cell) == len(batched) > 0
    assert (merged["status_batched"] == "ok").all()
    np.testing.assert_allclose(merged["value_batched"], merged["value_per_cell"], atol=1e-6, rtol=0)
    assert (merged["cell_batched"] == merged["cell_per_cell"]).all()  # same config hashes

    cfgs = odds.build_configs("smoke", ("thyroid",), (0, 1), DEEP_METHODS)
    cache_b, cache_p = ResultCache(tmp_path / "batched"), ResultCache(tmp_path / "per_cell")
    for cfg in cfgs:
        rec_b, rec_p = cache_b.get(cfg), cache_p.get(cfg)  # validated records (checksum, config, hash)
        assert rec_b is not None and rec_p is not None
        assert rec_b["hash"] == rec_p["hash"] == config_hash(cfg)
        assert rec_b["metrics"].keys() == rec_p["metrics"].keys()
        trained_batched = cfg["task"] == "odds_ae" or cfg["method"] in odds.HYPERSPHERE
        assert (rec_b["info"].get("engine") == "batched") == trained_batched
        assert set(rec_p["info"]) <= set(rec_b["info"])
        if cfg["task"] == "odds_ae":  # the cached AE weights are the per-cell weights
            wb = torch.load(cache_b.artifact_path(cfg), weights_only=True)
            wp = torch.load(cache_p.artifact_path(cfg), weights_only=True)
            for name in wp:
                torch.testing.assert_close(wb[name], wp[name], atol=ATOL, rtol=0)

    # a warm cache: no engine recomputes anything
    ae_cfgs = [c for c in cfgs if c["task"] == "odds_ae"]
    cells = [c for c in cfgs if c["task"] == "odds"]
    runtime = {"data_dir": None, "cache_root": str(tmp_path / "per_cell"), "device": "cpu"}
    assert odds.run_batched("ae", ae_cfgs, runtime, progress=False) == 0
    assert odds.run_batched("hypersphere", cells, runtime, progress=False) == 0
    rerun = _run("per_cell", tmp_path / "batched")
    assert rerun.set_index(key)["runtime_s"].equals(batched.set_index(key)["runtime_s"])


def test_auto_engine_leaves_single_cold_cells_to_the_per_cell_path(tmp_path):
    _run("auto", tmp_path, seeds=(0,))  # one seed: the AE group holds one cold cell
    cache = ResultCache(tmp_path)
    for cfg in odds.build_configs("smoke", ("thyroid",), (0,), DEEP_METHODS):
        engine = cache.get(cfg)["info"].get("engine")
        # Deep SAD and the three Deep SVDD variants of a setting form one group of four cold cells
        assert (engine == "batched") == (cfg["task"] == "odds" and cfg["method"] in odds.HYPERSPHERE)


def test_unknown_engine_is_rejected():
    with pytest.raises(ValueError, match="engine must be one of"):
        odds.run_odds("smoke", datasets=("thyroid",), engine="fast", progress=False)


def test_batched_groups_run_in_parallel_workers(tmp_path):
    """Two datasets, two loky workers: one batched job per dataset, the per-cell numbers."""
    kwargs = dict(datasets=("thyroid", "cardio"), seeds=(0, 1), methods=DEEP_METHODS, progress=False,
                  device="cpu")
    parallel = odds.run_odds("smoke", cache_root=str(tmp_path / "loky"), engine="batched", n_jobs=2, **kwargs)
    serial = odds.run_odds("smoke", cache_root=str(tmp_path / "serial"), engine="per_cell", **kwargs)
    key = ["method", "dataset", "seed", "metric"]
    merged = parallel.merge(serial, on=key)
    assert len(merged) == len(serial) > 0
    np.testing.assert_allclose(merged["value_x"], merged["value_y"], atol=1e-6, rtol=0)
    cache = ResultCache(tmp_path / "loky")
    aes = [c for c in odds.build_configs("smoke", kwargs["datasets"], (0, 1), DEEP_METHODS)
           if c["task"] == "odds_ae"]
    assert all(cache.get(c)["info"]["engine"] == "batched" for c in aes)  # written by the workers
