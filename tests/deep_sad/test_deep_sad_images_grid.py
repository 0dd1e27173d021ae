"""The Deep SAD image grid (#4): cell sharing, exact settings, LeNet detectors, results helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semiad.core.cache import config_hash
from semiad.core.detectors.deep_sad import DeepSAD
from semiad.deep_sad import images as D
from semiad.deep_sad.image_settings import ImageSetting
from semiad.deep_sad.supervised import SupervisedClassifier
from tests.conftest import REPO

DATA = REPO.parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (DATA / "mnist").is_dir(), reason="MNIST not in ../shared/data")


def _hashes(settings, methods, profile="quick"):
    _, rows = D.build_grid(settings, methods, profile, {"mnist": "real", "fashion_mnist": "real"})
    return {(r["setting"].data_key, r["spec"].label): config_hash(r["cell"]) for r in rows}, rows


def test_unsupervised_cells_and_autoencoders_are_shared_across_scenario_i():
    settings = D.experiments("mnist", "labeled", "quick")
    assert len(settings) == 5 * 2  # five gamma_l points x normal classes 0, 3 (one known class each)
    hashes, rows = _hashes(settings, D.ALL_METHODS)
    for normal in (0, 3):
        ours = [s for s in settings if s.normal_class == normal]
        svdd = {hashes[(s.data_key, "Deep SVDD (one-class)")] for s in ours}
        sad = {hashes[(s.data_key, "Deep SAD")] for s in ours}
        assert len(svdd) == 1 and len(sad) == 5  # unsupervised: one cell; semi-supervised: one per point
        aes = {config_hash(r["cell"]["ae"]) for r in rows if r["setting"] in ours and "ae" in r["cell"]}
        assert len(aes) == 1  # gamma_p = 0: one autoencoder per normal class


def test_label_free_points_skip_methods_that_need_labels():
    setting = D.experiments("mnist", "labeled", "quick")[0]
    assert setting.gamma_l == 0
    _, cells = D.cells_for(setting, D.ALL_METHODS, "quick")
    methods = {spec.method for spec, _ in cells}
    assert "supervised" not in methods and "ssdgm" not in methods and "deep_sad" in methods


def test_no_known_class_means_no_labels_for_the_label_hungry_methods():
    setting = next(s for s in D.experiments("mnist", "known_classes", "quick") if s.k_l == 0)
    _, cells = D.cells_for(setting, D.ALL_METHODS, "quick")
    assert not {"supervised", "ssdgm"} & {spec.method for spec, _ in cells}


def test_polluted_experiments_are_shared_between_scenarios_ii_iii_and_sensitivity():
    ii = {s.data_key for s in D.experiments("mnist", "pollution", "quick") if s.gamma_p == 0.1}
    iii = {s.data_key for s in D.experiments("mnist", "known_classes", "quick") if s.k_l == 1}
    sens = {s.data_key for s in D.experiments("mnist", "sensitivity", "quick")}
    i05 = {s.data_key for s in D.experiments("mnist", "labeled", "quick") if s.gamma_l == 0.05}
    ii0 = {s.data_key for s in D.experiments("mnist", "pollution", "quick") if s.gamma_p == 0}
    assert ii == iii == sens and len(ii) == 2
    assert i05 == ii0  # Table 3 gamma_l = .05 is Table 4 gamma_p = 0
    # each (normal class, gamma_p) has its own unlabeled data and hence its own autoencoder
    settings = D.experiments("mnist", "pollution", "quick")
    _, rows = _hashes([s for s in settings if s.gamma_p > 0], D.methods_by_label(["Deep SAD"]))
    assert len({config_hash(r["cell"]["ae"]) for r in rows}) == len(rows)


def test_scenario_iii_shares_unlabeled_cells_across_k_l():
    """The unlabeled data do not depend on the known classes (pollution is drawn first), so the autoencoder
    and the unsupervised cells are trained once per normal class for all five k_l points; the
    semi-supervised cells stay one per point (k_l = 0 has no labels: it reuses the unlabeled cell)."""
    settings = D.experiments("mnist", "known_classes", "quick")
    hashes, rows = _hashes(settings, D.ALL_METHODS)
    for normal in (0, 3):
        ours = [s for s in settings if s.normal_class == normal]
        assert len(ours) == 5
        assert len({hashes[(s.data_key, "Deep SVDD (one-class)")] for s in ours}) == 1
        assert len({hashes[(s.data_key, "OC-SVM Raw (nu=0.1)")] for s in ours}) == 1
        assert len({hashes[(s.data_key, "Deep SAD")] for s in ours}) == 5
        aes = {config_hash(r["cell"]["ae"]) for r in rows if r["setting"] in ours and "ae" in r["cell"]}
        assert len(aes) == 1


def test_eta_and_rep_dim_change_only_what_they_should():
    s = D.experiments("mnist", "sensitivity", "quick")[0]
    ae1, c1 = D.cells_for(s, D.methods_by_label(["Deep SAD", "SSAD Hybrid"]), "quick", eta=10.0)
    ae2, c2 = D.cells_for(s, D.methods_by_label(["Deep SAD", "SSAD Hybrid"]), "quick", rep_dim=64)
    assert dict(c1)[D.methods_by_label(["Deep SAD"])[0]]["params"]["eta"] == 10.0
    assert config_hash(ae1) != config_hash(ae2) and ae2["arch"]["rep_dim"] == 64
    ssad = D.methods_by_label(["SSAD Hybrid"])[0]
    assert "eta" not in dict(c1)[ssad]["params"]


@pytest.mark.parametrize("kwargs, match", [
    ({"etas": (0.0,)}, "eta must be > 0"),
    ({"rep_dims": (20,)}, "multiple of 16"),
])
def test_bad_sensitivity_values_fail_before_any_training(kwargs, match, tmp_path):
    settings = D.experiments("mnist", "sensitivity", "smoke")
    with pytest.raises(ValueError, match=match):
        D.run_image_grid(settings, D.methods_by_label(["Deep SAD"]), "smoke", cache_root=str(tmp_path),
                         **kwargs)


def test_bad_names_fail_clearly():
    with pytest.raises(ValueError, match="unknown method"):
        D.methods_by_label(["Deep SADD"])
    with pytest.raises(ValueError, match="unknown image dataset"):
        D.run_scenario("labeled", "smoke", datasets=["svhn"])
    with pytest.raises(ValueError, match="scenario must be one of"):
        D.run_scenario("labelled", "smoke")
    with pytest.raises(ValueError, match="unknown profile"):
        D.experiments("mnist", "labeled", "fast")


def test_normal_subsample_keeps_exact_ratios_and_ignores_known_classes():
    labels = np.repeat(np.arange(10), 500)
    a = ImageSetting("mnist", 0, (1,), 0.05, 0.1, seed=0)
    b = ImageSetting("mnist", 0, (7,), 0.2, 0.0, seed=0)
    ra, rb = D.normal_subsample(labels, a, 200), D.normal_subsample(labels, b, 200)
    normal_a = ra[labels[ra] == 0]
    assert len(normal_a) == 200 and np.array_equal(normal_a, rb[labels[rb] == 0])
    assert np.sum(labels[ra] != 0) == 4500  # every anomaly image stays in the pools


@needs_mnist
def test_make_split_on_real_mnist_has_the_requested_ratios():
    s = ImageSetting("mnist", 3, (5,), 0.05, 0.1, seed=0)
    _, cells = D.cells_for(s, D.methods_by_label(["Deep SAD"]), "quick")
    split = D.make_split(cells[0][1], {"data_dir": str(DATA)})
    unl = split.y_semi == 0
    assert split.X_train.shape[1] == 784 and 0 <= split.X_train.min() and split.X_train.max() <= 1
    assert np.sum(unl & (split.y_train == 0)) == 2000  # quick: 2,000 normal images
    assert abs(np.mean(split.y_train[unl]) - 0.1) < 1 / (2 * unl.sum()) + 1e-9
    assert abs(split.n_labeled_anomalies / len(split.y_semi) - 0.05) < 1e-3
    assert split.X_test.shape == (10000, 784) and split.y_test.sum() == 10000 - 1010  # 1,010 test threes


def test_demo_fallback_is_labelled_demo(tmp_path):
    sources = D.dataset_sources(["mnist"], tmp_path / "nothing-here", on_missing="demo")
    assert sources == {"mnist": "demo"}


def test_lenet_detectors_take_flattened_images_and_check_their_shape():
    rng = np.random.default_rng(0)
    X = rng.random((60, 784), dtype=np.float32)
    y = np.zeros(60, dtype=int)
    y[:5] = -1
    common = {"hidden_dims": (), "rep_dim": 16, "n_epochs": 1, "batch_size": 20, "device": "cpu",
              "image_arch": "mnist"}
    det = DeepSAD(pretrain=False, **common).fit(X, y)
    assert det.transform(X).shape == (60, 16)
    assert SupervisedClassifier(**common).fit(X, y).decision_function(X).shape == (60,)
    with pytest.raises(ValueError, match="expects flattened 1x28x28"):
        DeepSAD(pretrain=False, **common).fit(X[:, :100], y)


@needs_mnist
def test_smoke_grid_is_deterministic_and_cached(tmp_path):
    settings = [s for s in D.experiments("mnist", "labeled", "smoke") if s.gamma_l > 0]
    methods = D.methods_by_label(["Deep SAD", "CAE", "OC-SVM Raw (nu=0.1)", "SSAD Hybrid"])
    kw = {"n_jobs": 1, "data_dir": str(DATA), "progress": False, "scenario": "labeled"}
    a = D.run_image_grid(settings, methods, "smoke", cache_root=str(tmp_path / "a"), **kw)
    b = D.run_image_grid(settings, methods, "smoke", cache_root=str(tmp_path / "b"), **kw)
    assert (a["status"] == "ok").all()
    auc_a = a[a.metric == "auc"].set_index("method")["value"]
    auc_b = b[b.metric == "auc"].set_index("method")["value"]
    pd.testing.assert_series_equal(auc_a, auc_b)
    assert auc_a.between(0.5, 1).all()
    again = D.run_image_grid(settings, methods, "smoke", cache_root=str(tmp_path / "a"), **kw)
    pd.testing.assert_series_equal(again[again.metric == "auc"].set_index("method")["value"], auc_a)


def _frame(values: dict[str, list[float]], x=0.05) -> pd.DataFrame:
    rows = []
    for method, vals in values.items():
        for i, v in enumerate(vals):
            rows.append({"method": method, "table_column": method, "dataset": "mnist", "x": x,
                         "experiment": f"e{i}", "metric": "auc", "value": v})
    return pd.DataFrame(rows)


def test_wilcoxon_first_second_picks_the_two_best_and_tests_them_paired():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.7, 0.9, 12)
    frame = _frame({"Deep SAD": list(base + 0.05), "SSAD Hybrid": list(base + 0.01), "CAE": list(base - 0.1)})
    out = D.wilcoxon_first_second(frame).iloc[0]
    assert (out["first"], out["second"]) == ("Deep SAD", "SSAD Hybrid")
    assert out["significant"] and out["p_value"] < 0.01 and out["n_pairs"] == 12


def test_best_variant_and_paper_comparison():
    frame = _frame({"Deep SAD": [0.9, 0.8], "SSAD Raw": [0.95, 0.9]}, x=0.05)
    frame = pd.concat([frame, _frame({"Deep SVDD (one-class)": [0.6, 0.7],
                                      "Deep SVDD (soft-boundary, nu=0.1)": [0.8, 0.9]})
                       .assign(table_column="Deep SVDD")])
    summary = D.point_summary(frame).set_index("method")
    assert summary.loc["Deep SVDD", "chosen_variant"] == "Deep SVDD (soft-boundary, nu=0.1)"
    assert summary.loc["Deep SVDD", "mean"] == pytest.approx(85.0)
    comp = D.paper_comparison(frame, "labeled").set_index("method")
    assert comp.loc["Deep SAD", "paper_mean"] == 96.7  # Table 3, MNIST, gamma_l = .05
    assert comp.loc["Deep SAD", "delta"] == pytest.approx(85.0 - 96.7)


@needs_mnist
def test_stacked_engine_stores_the_same_numbers_as_one_model_per_cell(tmp_path):
    # two experiments (two seeds) of one normal class with equal sizes: one stacked model of K = 2 per method
    # (two known classes at one seed would share the Deep SVDD cell: same unlabeled data)
    settings = [ImageSetting("mnist", 0, (1,), 0.05, 0.1, seed, "pollution", 0.1) for seed in (0, 1)]
    methods = D.methods_by_label(["Deep SAD", "Deep SVDD (one-class)"])
    kw = {"n_jobs": 1, "data_dir": str(DATA), "progress": False, "scenario": "pollution"}
    cells = D.run_image_grid(settings, methods, "smoke", cache_root=str(tmp_path / "c"), engine="cells", **kw)
    stacked = D.run_image_grid(settings, methods, "smoke", cache_root=str(tmp_path / "s"), engine="stacked",
                               **kw)
    a = cells[cells.metric == "auc"].set_index(["method", "experiment"])["value"].sort_index()
    b = stacked[stacked.metric == "auc"].set_index(["method", "experiment"])["value"].sort_index()
    pd.testing.assert_series_equal(a, b)
    assert len(a) == 4 and (stacked["status"] == "ok").all()
    from semiad.core.cache import ResultCache
    _, rows = D.build_grid(settings, methods, "smoke", {"mnist": "real"})
    info = [ResultCache(str(tmp_path / "s")).get(r["cell"])["info"] for r in rows]
    assert all(i.get("engine") == "stacked" and i["stack_size"] == 2 for i in info)
    with pytest.raises(ValueError, match="engine must be one of"):
        D.run_image_grid(settings, methods, "smoke", engine="gpu", **kw)
