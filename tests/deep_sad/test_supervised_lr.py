"""The supervised classifier's two learning-rate readings (Deep SAD App. E; ``odds.SUPERVISED_LR``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from semiad.core.cache import config_hash
from semiad.core.detectors.protocol import DEFAULT
from semiad.deep_sad import claims, images, odds
from semiad.deep_sad.image_settings import ImageSetting
from semiad.deep_sad.pages import Page
from semiad.deep_sad.supervised import SupervisedClassifier

SUPERVISED = [m for m in odds.ALL_METHODS if m.method == "supervised"]


def _cells() -> dict[str, dict]:
    cells = odds.build_configs("quick", datasets=["cardio"], seeds=[0], methods=SUPERVISED,
                               data_sources={"cardio": "real"})
    return {odds._label_of(c, SUPERVISED): c for c in cells if c["task"] == "odds"}


def test_the_readings_differ_in_the_learning_rate_only():
    cells = _cells()
    default, written = cells["Supervised Classifier"], cells[odds.SUPERVISED_AS_WRITTEN]
    assert written["params"] == {} and written["train"]["lr"] == 1e-4  # App. E as written: the old cache key
    assert default["train"]["lr"] == odds.SUPERVISED_LR == 1e-3
    assert {k: v for k, v in default["train"].items() if k != "lr"} == \
        {k: v for k, v in written["train"].items() if k != "lr"}
    assert config_hash(default) != config_hash(written)
    # the ablation row is part of both tables' grids, but competes for no paper column
    assert odds.SUPERVISED_AS_WRITTEN in {m.label for m in odds.TABLE2_METHODS}
    assert {m.table_column for m in SUPERVISED} == {"Supervised Classifier", odds.SUPERVISED_AS_WRITTEN}


def test_app_e_learning_rate_leaves_few_steps_far_from_fitted():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(600, 6)), rng.normal(2.0, 1.0, size=(6, 6))]).astype(np.float32)
    y_semi = np.r_[np.zeros(600, int), -np.ones(6, int)]
    schedule = {"hidden_dims": (16,), "rep_dim": 4, "n_epochs": 60, "lr_milestones": (20,), "batch_size": 200,
                "weight_decay": 1e-6, "device": "cpu", "random_state": 0}
    losses = {lr: SupervisedClassifier(lr=lr, **schedule).fit(X, y_semi).history_[-1] for lr in (1e-4, 1e-3)}
    share = 6 / 606
    constant = -(share * np.log(share) + (1 - share) * np.log1p(-share))
    # 240 steps (4 an epoch): at 1e-4 the BCE stays far above a constant predictor's; 1e-3 halves it at least
    assert losses[1e-4] > 10 * constant and losses[1e-3] < losses[1e-4] / 2


def test_records_carry_the_supervised_final_loss():
    base = {"task": "odds", "dataset": "cardio", "data_source": "real", "seed": 0,
            "protocol": {"labeled_anomaly_ratio": 0.01, "pollution_ratio": 0.0}}
    records = [{"config": {**base, "method": method, "params": params}, "status": "ok", "hash": method,
                "metrics": {"auc": 0.8}, "info": {"final_loss": 0.05}}
               for method, params in (("supervised", {"lr": odds.SUPERVISED_LR}), ("deep_sad", {"eta": 1.0}))]
    frame = odds.records_to_frame(records, odds.ALL_METHODS)
    losses = frame[frame["metric"] == "final_loss"]
    assert losses["method"].tolist() == ["Supervised Classifier"] and losses["value"].tolist() == [0.05]


def test_the_effect_table_puts_both_readings_beside_the_paper(tmp_path):
    rows = []
    for label, auc, loss in (("Supervised Classifier", 0.85, 0.03), (odds.SUPERVISED_AS_WRITTEN, 0.45, 0.5)):
        for seed in range(3):
            base = {"method": label, "table_column": label, "dataset": "cardio", "seed": seed,
                    "training_protocol": DEFAULT.name}
            rows += [{**base, "metric": "auc", "value": auc + 0.01 * seed},
                     {**base, "metric": "final_loss", "value": loss}]
    page = Page(notebook="table6_odds_all", profile="quick", out=tmp_path, datasets=None, seeds=None,
                training=DEFAULT)
    table = claims.supervised_lr_effect(page, pd.DataFrame(rows)).set_index("dataset")
    assert table.loc["cardio", "paper_mean"] == pytest.approx(83.2)  # Table 6, cardio
    assert table.loc["cardio", "ours | lr 0.001 (default)"] == pytest.approx(86.0)
    assert table.loc["cardio", "ours | App. E lr 1e-4"] == pytest.approx(46.0)
    assert bool(table.loc["cardio", "within | lr 0.001 (default)"]) is True
    assert bool(table.loc["cardio", "within | App. E lr 1e-4"]) is False
    assert table.loc["cardio", "train BCE | App. E lr 1e-4"] == pytest.approx(0.5)
    assert table.loc["cardio", "train BCE | constant predictor"] == pytest.approx(0.056, abs=1e-3)
    assert (tmp_path / "supervised_lr.csv").exists()


def test_every_cell_keeps_its_label_after_the_cache_json_round_trip():
    cells = [c for c in odds.build_configs("quick", datasets=["cardio"], seeds=[0], methods=odds.ALL_METHODS,
                                           data_sources={"cardio": "real"}) if c["task"] == "odds"]
    labels = [odds._label_of(json.loads(json.dumps(c)), odds.ALL_METHODS) for c in cells]
    assert sorted(labels) == sorted(m.label for m in odds.ALL_METHODS)  # e.g. the () milestones of a reading
    script = cells[labels.index(odds.SSDGM_CODE_SCRIPT)]
    assert script["params"]["variant"] == "authors_code"
    train = json.loads(json.dumps(script["train"]))
    assert {k: train[k] for k in odds.SSDGM_SCRIPT_SCHEDULE} == \
        json.loads(json.dumps(odds.SSDGM_SCRIPT_SCHEDULE))


def test_baseline_readings_stay_out_of_the_columns_and_the_protocol_reruns():
    readings = set(odds.BASELINE_READINGS)
    assert not readings & {m.label for m in odds.without_readings(odds.ALL_METHODS)}
    assert not {m.table_column for m in odds.ALL_METHODS if m.label in readings} & set(odds.TABLE6_COLUMNS)


def test_readings_are_compared_with_the_paper_column_by_column():
    rows = [{"method": label, "table_column": label, "dataset": "thyroid", "seed": seed, "metric": "auc",
             "value": value + 0.001 * seed}
            for label, value in (("SS-DGM (M2)", 0.98), (odds.SSDGM_CODE, 0.70)) for seed in range(3)]
    table = claims.readings_vs_paper(pd.DataFrame(rows), "SS-DGM", {"SS-DGM (M2)": "ours",
                                                                  odds.SSDGM_CODE: "code"})
    row = table.set_index("dataset").loc["thyroid"]
    assert row["paper_mean"] == pytest.approx(72.7) and row["paper_std"] == pytest.approx(12.0)
    assert row["ours | ours"] == pytest.approx(98.1) and not row["within | ours"]
    assert row["ours | code"] == pytest.approx(70.1) and row["within | code"]


# ----------------------------------------------------------------------------------- images (Tables 3-5)
def _image_cells() -> dict[str, dict]:
    setting = ImageSetting("mnist", 0, (8,), 0.05, 0.0, seed=0)
    _, cells = images.cells_for(setting, [m for m in images.ALL_METHODS if m.method == "supervised"], "quick")
    return {spec.label: cell for spec, cell in cells}


def test_image_readings_differ_in_the_learning_rate_only():
    cells = _image_cells()
    default, written = cells["Supervised Classifier"], cells[odds.SUPERVISED_AS_WRITTEN]
    grid = images.ImageConfig.for_profile("quick")
    # App. E as written keeps the cells it always had: no params, App. E's schedule
    assert written["params"] == {} and written["train"] == images._train_dict(grid.epochs, grid.milestone)
    assert default["params"] == {"lr": odds.SUPERVISED_LR} and default["train"]["lr"] == odds.SUPERVISED_LR
    assert {k: v for k, v in default["train"].items() if k != "lr"} == \
        {k: v for k, v in written["train"].items() if k != "lr"}
    assert config_hash(default) != config_hash(written)
    assert odds.SUPERVISED_AS_WRITTEN not in images.TABLE_COLUMNS  # the reading competes for no column


def test_an_image_cell_takes_its_learning_rate_from_the_schedule(tmp_path):
    cell = {**_image_cells()["Supervised Classifier"], "data_source": "demo"}
    cell["sizes"] = {"max_normal": 200, "max_test": 300}
    cell["train"] = {**cell["train"], "n_epochs": 2, "lr_milestones": [1]}
    out = images.image_cell(cell, {"on_missing": "demo", "device": "cpu", "data_dir": str(tmp_path)})
    assert 0 <= out["metrics"]["auc"] <= 1 and out["info"]["final_loss"] > 0


def test_the_image_effect_table_puts_both_readings_beside_the_paper(tmp_path):
    rows = []
    for label, auc, loss in (("Supervised Classifier", 0.93, 0.01), (odds.SUPERVISED_AS_WRITTEN, 0.70, 0.1)):
        for exp in range(2):
            base = {"method": label, "table_column": label, "dataset": "mnist", "x": 0.01,
                    "experiment": f"e{exp}", "training_protocol": DEFAULT.name}
            rows += [{**base, "metric": "auc", "value": auc + 0.01 * exp},
                     {**base, "metric": "final_loss", "value": loss}]
    page = Page(notebook="fig2_table3_labeled_anomalies", profile="quick", out=tmp_path, datasets=None,
                seeds=None, training=DEFAULT)
    row = claims.scenario_supervised_lr(page, pd.DataFrame(rows), "labeled").set_index("dataset").loc["mnist"]
    assert row["gamma_l"] == pytest.approx(0.01) and row["paper_mean"] == pytest.approx(92.8)  # Table 3
    assert row["ours | lr 0.001 (default)"] == pytest.approx(93.5) and row["within | lr 0.001 (default)"]
    assert row["ours | App. E lr 1e-4"] == pytest.approx(70.5) and not row["within | App. E lr 1e-4"]
    assert row["train BCE | App. E lr 1e-4"] == pytest.approx(0.1)
    assert row["train BCE | constant predictor"] == pytest.approx(0.056, abs=1e-3)
    assert (tmp_path / "supervised_lr.csv").exists()
