"""Fast tests of the Deep SAD Figure 1 toy problem (semiad.deep_sad.toy) and the shared plotting helpers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from semiad.core import plotting
from semiad.core.detectors.base import KNOWN_ANOMALY, KNOWN_NORMAL, UNLABELED
from semiad.deep_sad import toy

SMALL = dict(n_unlabeled=150, n_labeled_normal=12, n_labeled_anomaly=6, n_novel=15,
             n_test_normal=100, n_test_known=15, pollution_ratio=0.04)


@pytest.fixture(scope="module")
def data() -> toy.ToyData:
    return toy.make_toy_2d(np.random.default_rng(0), **SMALL)


@pytest.fixture(scope="module")
def smoke_result() -> toy.Fig1Result:
    return toy.run_fig1(seed=0, profile="smoke", device="cpu")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_toy_data_shapes_and_labels(data):
    n_train = SMALL["n_unlabeled"] + SMALL["n_labeled_normal"] + SMALL["n_labeled_anomaly"]
    n_test = SMALL["n_test_normal"] + SMALL["n_test_known"] + SMALL["n_novel"]
    assert data.X_train.shape == (n_train, 2) and data.X_train.dtype == np.float32
    assert data.X_test.shape == (n_test, 2)
    assert data.y_semi.shape == data.y_train.shape == data.kind_train.shape == (n_train,)
    assert data.y_test.shape == data.kind_test.shape == (n_test,)
    counts = {v: int((data.y_semi == v).sum()) for v in (UNLABELED, KNOWN_NORMAL, KNOWN_ANOMALY)}
    assert counts == {UNLABELED: 150, KNOWN_NORMAL: 12, KNOWN_ANOMALY: 6}
    # labeled points are labeled truthfully; the unlabeled data are polluted by 4% anomalies
    assert (data.y_train[data.y_semi == KNOWN_NORMAL] == 0).all()
    assert (data.y_train[data.y_semi == KNOWN_ANOMALY] == 1).all()
    assert data.y_train[data.y_semi == UNLABELED].sum() == 6
    # novel anomalies only at test time, ground truth consistent with kinds
    assert toy.NOVEL not in set(data.kind_train)
    assert set(data.kind_test) == {toy.NORMAL, toy.KNOWN, toy.NOVEL}
    assert np.array_equal(data.y_test, (data.kind_test != toy.NORMAL).astype(int))
    assert data.X_novel.shape == (15, 2)
    # novel anomalies lie bottom left of everything seen in training
    assert data.X_novel[:, 0].mean() < data.X_train[:, 0].min() + 1.0
    assert data.X_novel[:, 1].mean() < data.X_train[:, 1].min()


def test_toy_data_is_a_function_of_the_rng():
    a = toy.make_toy_2d(np.random.default_rng(3), **SMALL)
    b = toy.make_toy_2d(np.random.default_rng(3), **SMALL)
    c = toy.make_toy_2d(np.random.default_rng(4), **SMALL)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("bad", [dict(n_unlabeled=-1), dict(pollution_ratio=1.0)])
def test_toy_data_rejects_bad_sizes(bad):
    with pytest.raises(ValueError):
        toy.make_toy_2d(np.random.default_rng(0), **bad)


def test_each_detector_returns_finite_varying_scores(data):
    detectors = toy.toy_detectors(seed=0, n_epochs=3, device="cpu")
    detectors["lpue_elkan_noto"] = toy.ElkanNotoPU(random_state=0)
    assert list(toy.PANELS) == [k for k in detectors if k in toy.PANELS]
    for name, detector in detectors.items():
        scores = detector.fit(data.X_train, data.y_semi).decision_function(data.X_test)
        assert scores.shape == (len(data.X_test),), name
        assert np.isfinite(scores).all(), name
        assert np.std(scores) > 1e-8, f"{name} returned (near-)constant scores"


def test_label_usage_flags():
    d = toy.toy_detectors(seed=0, n_epochs=1, device="cpu")
    uses = {name: det.uses_labeled_anomalies for name, det in d.items()}
    assert uses == {"ocsvm": False, "supervised_svm": True, "semi_supervised_svm": True,
                    "lpue": False, "deep_sad": True}
    assert toy.ElkanNotoPU.uses_labeled_anomalies is False


def test_supervised_svm_needs_a_labeled_anomaly(data):
    y = np.where(data.y_semi == KNOWN_ANOMALY, UNLABELED, data.y_semi)
    with pytest.raises(ValueError, match="labeled anomaly"):
        toy.SupervisedSVM().fit(data.X_train, y)


def test_deep_sad_same_seed_same_scores_on_cpu(data):
    scores = []
    for _ in range(2):
        deep_sad = toy.toy_detectors(seed=5, n_epochs=4, device="cpu")["deep_sad"]
        scores.append(deep_sad.fit(data.X_train, data.y_semi).decision_function(data.X_test))
    assert np.array_equal(scores[0], scores[1])
    other = toy.toy_detectors(seed=6, n_epochs=4, device="cpu")["deep_sad"]
    assert not np.array_equal(scores[0],
                              other.fit(data.X_train, data.y_semi).decision_function(data.X_test))


def test_score_grid_shape(data):
    detector = toy.toy_detectors(seed=0, n_epochs=1, device="cpu")["ocsvm"]
    detector.fit(data.X_train, data.y_semi)
    xx, yy, zz = toy.score_grid(detector, (-1.0, 1.0), (0.0, 2.0), resolution=7)
    assert xx.shape == yy.shape == zz.shape == (7, 7)
    assert xx.min() == -1.0 and yy.max() == 2.0


def test_run_fig1_and_tables(smoke_result):
    r = smoke_result
    assert set(r.aucs) == set(r.grid_scores) == set(r.thresholds) == set(toy.PANELS)
    res = toy.results_frame(r)
    assert list(res.columns) == ["method", "dataset", "setting", "seed", "metric", "value"]
    assert set(res["metric"]) == {"auc", "auc_novel", "auc_known"}
    assert (res["dataset"] == "toy2d").all() and (res["setting"] == "fig1").all()
    assert res["value"].between(0, 1).all() and len(res) == 15
    comp = toy.comparison_frame(r)
    for col in ("method", "paper_claim", "ours_auc_novel", "ours_auc_all", "claim_holds"):
        assert col in comp.columns
    assert comp["claim_holds"].dtype == bool and len(comp) == 5


def test_run_fig1_rejects_unknown_profile():
    with pytest.raises(ValueError, match="profile"):
        toy.run_fig1(profile="huge")


def test_plot_fig1_and_save_figure(smoke_result, tmp_path):
    plotting.set_style()
    fig = toy.plot_fig1(smoke_result)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "(a) Training data" and titles[5].startswith("(f)")
    paths = plotting.save_figure(fig, tmp_path / "out", "fig1_toy")
    assert [p.name for p in paths] == ["fig1_toy.png", "fig1_toy.pdf"]
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"


def test_save_figure_rejects_names_with_suffix(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError):
        plotting.save_figure(fig, tmp_path, "fig.png")


def test_score_map_panel_draws_boundary():
    xx, yy = np.meshgrid(np.linspace(-1, 1, 30), np.linspace(-1, 1, 30))
    fig, ax = plt.subplots()
    n_before = len(ax.collections)
    plotting.score_map_panel(ax, xx, yy, xx ** 2 + yy ** 2, threshold=0.5, title="t")
    assert len(ax.collections) >= n_before + 2 and ax.get_title() == "t"
    with pytest.raises(ValueError):
        plotting.score_map_panel(ax, xx, yy, xx, normalize="zscore")


def test_paper_vs_ours_errorbars_marks_methods_not_run():
    df = pd.DataFrame({"dataset": ["a", "a", "b", "b"], "method": ["m1", "m2", "m1", "m2"],
                       "paper_mean": [90.0, 80.0, 70.0, np.nan],
                       "paper_std": [1.0, np.nan, 2.0, np.nan],
                       "ours_mean": [89.0, np.nan, 72.0, 60.0],
                       "ours_std": [1.5, np.nan, 0.5, 3.0]})
    fig = plotting.paper_vs_ours_errorbars(df)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["a", "b"]
    assert any(t.get_text() == "not run" for t in visible[0].texts)
    with pytest.raises(ValueError, match="lacks columns"):
        plotting.paper_vs_ours_errorbars(df.drop(columns=["ours_std"]))
