"""RL on residual maps (issue #8): MVTec loader, CAE pieces, threshold + min-area rule, bandit env, grid."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from PIL import Image

from semiad.core.data.resolve import ChecksumError, DataNotFoundError
from semiad.residual_rl.cae import (
    CAE,
    CAETrainConfig,
    ThresholdSearch,
    balanced_accuracy,
    max_component_area,
    reconstruct,
    ssim_map,
    threshold_area_predict,
    train_cae,
)
from semiad.residual_rl.data import check_layout, load_mvtec, make_demo_mvtec, write_layout
from semiad.residual_rl.policy import ResidualDecisionEnv, ResidualPolicy, build_states


@pytest.fixture(autouse=True)
def _no_download_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SEMIAD_DATA_DIR", raising=False)


def _png(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def _tiny_category(root: Path, name: str = "tinycat", rgb: bool = True) -> Path:
    """3 train, 2 good test, 2 'crack' test images (20 x 20) with masks, official layout."""
    rng = np.random.default_rng(0)
    shape = (20, 20, 3) if rgb else (20, 20)
    folder = root / name
    for i in range(3):
        _png(folder / "train" / "good" / f"{i:03d}.png", rng.integers(0, 256, shape, dtype=np.uint8))
    for i in range(2):
        _png(folder / "test" / "good" / f"{i:03d}.png", rng.integers(0, 256, shape, dtype=np.uint8))
        mask = np.zeros((20, 20), np.uint8)
        mask[5:10, 5:10 + i] = 255
        _png(folder / "test" / "crack" / f"{i:03d}.png", rng.integers(0, 256, shape, dtype=np.uint8))
        _png(folder / "ground_truth" / "crack" / f"{i:03d}_mask.png", mask)
    return folder


# ------------------------------------------------------------------------------------------ loader
def test_loader_reads_the_official_layout_at_any_size(tmp_path):
    _tiny_category(tmp_path / "mvtec_ad")
    ds = load_mvtec("tinycat", data_dir=tmp_path, size=10)
    assert ds.source == "real" and "structure-checked" in ds.origin
    assert ds.train.shape == (3, 10, 10, 3) and ds.test.shape == (4, 10, 10, 3)
    assert ds.train.dtype == np.float32 and 0 <= ds.train.min() and ds.train.max() <= 1
    assert ds.test_defects.tolist() == ["good", "good", "crack", "crack"]
    assert ds.test_labels.tolist() == [0, 0, 1, 1]
    assert ds.test_masks[:2].sum() == 0 and set(np.unique(ds.test_masks)) <= {0.0, 1.0}
    # 5x5 and 5x6 pixel masks at 20 px -> about a quarter of that at 10 px
    assert 4 <= ds.test_masks[2].sum() <= 9 and ds.test_masks[3].sum() >= ds.test_masks[2].sum()
    # data_dir may also point at the MVTec root itself; native size keeps the pixels exactly
    same = load_mvtec("tinycat", data_dir=tmp_path / "mvtec_ad", size=20)
    with Image.open(tmp_path / "mvtec_ad/tinycat/train/good/001.png") as im:
        np.testing.assert_allclose(same.train[1], np.asarray(im) / 255.0, atol=1e-6)
    assert same.test_masks[2].sum() == 25 and same.test_masks[3].sum() == 30


def test_loader_grey_images_missing_mask_and_missing_category(tmp_path):
    _tiny_category(tmp_path, "greycat", rgb=False)
    assert load_mvtec("greycat", data_dir=tmp_path, size=16).train.shape == (3, 16, 16, 1)
    (tmp_path / "greycat/ground_truth/crack/001_mask.png").unlink()
    with pytest.raises(ValueError, match="has no mask"):
        check_layout(tmp_path / "greycat")
    with pytest.raises(DataNotFoundError, match="mvtec.com"):
        load_mvtec("carpet", data_dir=tmp_path, size=16)
    demo = load_mvtec("carpet", data_dir=tmp_path, size=16, on_missing="demo")
    assert demo.source == "demo" and demo.test_labels.sum() > 0
    with pytest.raises(ValueError, match="on_missing"):
        load_mvtec("carpet", data_dir=tmp_path, on_missing="ignore")


def test_shared_copy_checksums_are_enforced(tmp_path):
    _tiny_category(tmp_path / "mvtec_ad", "bottle")
    (tmp_path / "mvtec_ad" / "SHA256SUMS").write_text("0" * 64 + "  ./bottle/train/good/000.png\n")
    with pytest.raises(ChecksumError):  # the SUMS file itself does not match the registry pin
        load_mvtec("bottle", data_dir=tmp_path, size=20)


def test_demo_set_round_trips_through_the_official_layout(tmp_path):
    demo = make_demo_mvtec("demo", size=32)
    assert demo.source == "demo" and set(demo.defect_types) == {"scratch", "blob", "stain"}
    assert all(demo.test_masks[demo.test_labels == 1].sum(axis=(1, 2)) > 0)
    write_layout(demo, tmp_path)
    back = load_mvtec("demo", data_dir=tmp_path, size=32)
    np.testing.assert_allclose(back.train, demo.train, atol=1 / 255)
    order = np.argsort(demo.test_files)
    np.testing.assert_array_equal(back.test_masks[np.argsort(back.test_files)], demo.test_masks[order])


_SHARED = Path(os.environ.get("SEMIAD_SHARED_DATA", "/work/shared/data"))


@pytest.mark.skipif(not (_SHARED / "mvtec_ad" / "bottle").is_dir(), reason="shared MVTec bottle copy absent")
def test_real_bottle_is_verified_and_complete():
    ds = load_mvtec("bottle", data_dir=_SHARED, size=32)
    assert "sha256-verified" in ds.origin and ds.source == "real"
    assert (len(ds.train), len(ds.test), int(ds.test_labels.sum())) == (209, 83, 63)
    assert ds.defect_types == ("broken_large", "broken_small", "contamination")


# ------------------------------------------------------------------------------------------ CAE pieces
def test_cae_shapes_tiling_ssim_and_determinism():
    torch.manual_seed(0)
    model = CAE(3, patch_size=16, latent_dim=8, width=0.25)
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype(np.float32)
    assert reconstruct(model, x).shape == x.shape  # 32 px image, 16 px patches, stride 8
    t = torch.rand(2, 3, 16, 16)
    assert torch.allclose(ssim_map(t, t), torch.ones(2, 16, 16), atol=1e-5)
    cfg = CAETrainConfig(patch_size=16, latent_dim=8, width=0.25, n_steps=3, batch_size=2, loss="ssim")
    m1, c1 = train_cae(x, cfg, seed=3)
    m2, c2 = train_cae(x, cfg, seed=3)
    assert c1 == c2
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)


# ------------------------------------------------------------------------------------------ threshold rule
def test_min_area_connected_components():
    r = np.zeros((1, 12, 12), np.float32)
    r[0, 1:4, 1:4] = 0.9  # a 3x3 region: area 9
    r[0, 8, 8] = r[0, 9, 9] = 0.9  # diagonal neighbours: one region of 2 under 8-connectivity
    r[0, 6, 1] = 0.5  # below the threshold used below
    assert max_component_area(r, 0.6).tolist() == [9]
    assert max_component_area(r, 0.4).tolist() == [9]
    assert max_component_area(r, 0.9).tolist() == [0]  # strictly above the threshold
    assert threshold_area_predict(r, 0.6, 9).tolist() == [1]
    assert threshold_area_predict(r, 0.6, 10).tolist() == [0]
    r2 = np.zeros((1, 12, 12), np.float32)
    r2[0, 8, 8] = r2[0, 9, 9] = 0.9
    assert max_component_area(r2, 0.6).tolist() == [2]
    assert balanced_accuracy(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])) == pytest.approx(0.75)


def test_threshold_search_finds_the_separating_rule():
    rng = np.random.default_rng(0)
    good = rng.uniform(0, 0.1, (10, 32, 32)).astype(np.float32)
    bad = rng.uniform(0, 0.1, (5, 32, 32)).astype(np.float32)
    for i in range(10):
        good[i, i, i] = 0.8  # isolated bright pixels: area 1 (must not count as a defect)
    bad[:, 10:16, 10:16] = 0.5  # defects: 36-pixel regions
    y = np.r_[np.zeros(10), np.ones(5)].astype(int)
    search = ThresholdSearch().fit(np.concatenate([good, bad]), y)
    assert search.val_balanced_accuracy_ == 1.0 and search.min_area_ > 1
    assert search.balanced_accuracy_.shape == (len(search.thresholds_), len(search.areas_))
    assert search.predict(np.concatenate([good, bad])).tolist() == y.tolist()


# ------------------------------------------------------------------------------------------ bandit env
def _states(n_normal=30, n_anom=2, size=8):
    rng = np.random.default_rng(0)
    states = rng.uniform(0, 0.2, (n_normal + n_anom, 2, size, size)).astype(np.float32)
    states[n_normal:, 0, 2:5, 2:5] = 0.9
    return states, np.r_[np.zeros(n_normal), np.ones(n_anom)].astype(int)


def test_env_passes_check_env():
    states, labels = _states()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(ResidualDecisionEnv(states, labels), skip_render_check=True)


def test_env_reward_and_label_accounting():
    states, labels = _states()
    env = ResidualDecisionEnv(states, labels, augment=False)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    np.testing.assert_array_equal(obs, states[info["index"]])
    expected = 0.0
    for k in range(400):
        label = info["label"]
        assert label == labels[info["index"]]
        action = label if k % 3 else 1 - label  # every third answer is wrong
        _, reward, terminated, truncated, step_info = env.step(action)
        assert terminated and not truncated and step_info["label"] == label
        assert reward == (1.0 if action == label else -1.0)
        expected += reward
        obs, info = env.reset()
    assert env.n_steps == 400 and env.total_reward == expected
    assert env.confusion.sum() == 400 and np.trace(env.confusion) == 400 - len(range(0, 400, 3))
    assert env.confusion.sum(axis=1).tolist() == [int(env.drawn[0]), int(env.drawn[1]) - 1]  # last reset
    # class-balanced sampling: about half anomalous although 2 of 32 states are anomalous
    assert 0.4 < env.drawn[1] / env.drawn.sum() < 0.6
    plain = ResidualDecisionEnv(states, labels, balanced=False)
    plain.reset(seed=0)
    for _ in range(400):
        plain.reset()
    assert plain.drawn[1] / plain.drawn.sum() < 0.15
    with pytest.raises(ValueError, match="action"):
        env.step(2)
    env.step(0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_env_augmentation_keeps_the_map_content():
    states, labels = _states()
    env = ResidualDecisionEnv(states, labels, augment=True)
    env.reset(seed=1)
    for _ in range(20):
        obs, info = env.reset()
        assert env.observation_space.contains(obs)
        np.testing.assert_allclose(np.sort(obs.ravel()), np.sort(states[info["index"]].ravel()))


def test_build_states_variants_and_pooling():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(3, 16, 16, 3)).astype(np.float32)
    residual = np.zeros((3, 16, 16), np.float32)
    residual[:, 5, 5] = 0.7  # a single hot pixel must survive pooling (max-pool)
    ssim = rng.uniform(size=(3, 16, 16)).astype(np.float32)
    assert build_states("A", images, residual, ssim, 8).shape == (3, 1, 8, 8)
    assert build_states("B", images, residual, ssim, 8).shape == (3, 4, 8, 8)
    c = build_states("C", images, residual, ssim, 4)
    assert c.shape == (3, 5, 4, 4) and c[:, 0].max() == pytest.approx(0.7)
    np.testing.assert_allclose(c[:, 1:4].mean(axis=(2, 3)), images.mean(axis=(1, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="variant"):
        build_states("D", images, residual, ssim)


def test_tiny_policy_run_is_deterministic_and_logs_a_curve():
    states, labels = _states(n_normal=12, n_anom=4)
    kw = {"total_timesteps": 128, "n_steps": 32, "batch_size": 16, "random_state": 7}
    p1 = ResidualPolicy(**kw).fit(states, labels, states, labels)
    p2 = ResidualPolicy(**kw).fit(states, labels)
    np.testing.assert_array_equal(p1.predict_proba(states), p2.predict_proba(states))
    proba = p1.predict_proba(states)
    assert proba.shape == (16,) and ((proba > 0) & (proba < 1)).all()
    assert p1.history_.timesteps == [32, 64, 96, 128] and len(p1.history_.eval_auc) == 4
    assert p1.env_.n_steps == 128


# ------------------------------------------------------------------------------------------ grid
def test_smoke_grid_on_demo_data_caches_cae_weights(tmp_path):
    from semiad.core.cache import ResultCache
    from semiad.residual_rl import claims
    from semiad.residual_rl import grid as R

    root = str(tmp_path / "res")
    res, caes, policies = R.run_residual_grid("smoke", data_dir=tmp_path, on_missing="demo", cache_root=root,
                                              progress=False, variants=("A", "C"))
    assert all(r["status"] == "ok" for r in caes + policies), [r.get("error") for r in caes + policies]
    assert (res["data_source"] == "demo").all()
    assert res["value"].between(0, 1).all()
    assert set(res["method"]) == {R.BASELINE, R.MAX_RESIDUAL, R.PIXEL, R.VARIANT_LABELS["A"],
                                  R.VARIANT_LABELS["C"]}
    weights = ResultCache(root).artifact_path(caes[0]["config"], ".pt")
    state = torch.load(weights, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    info = caes[0]["info"]
    assert info["n_labeled"] >= 1 and info["n_labeled"] + info["n_test"] == 28
    again, caes2, _ = R.run_residual_grid("smoke", data_dir=tmp_path, on_missing="demo", cache_root=root,
                                          progress=False, variants=("A", "C"))
    assert caes2[0]["finished_at"] == caes[0]["finished_at"]  # cached, not recomputed
    assert len(claims.check_claims(res)) == 3  # the claim (2) rows need all three variants
    assert set(claims.cell_cost(res)["count"]) == {1, 2}  # one CAE cell, two policy cells
    assert list(claims.cae_table(caes)["min_area"]) == [info["min_area"]]
    assert not R.learning_curves(policies).empty


def test_split_is_disjoint_and_stratified():
    from semiad.residual_rl.grid import make_split

    ds = make_demo_mvtec("demo", size=16, n_per_defect=10)
    split = make_split(ds, seed=0, val_good_fraction=0.1, labeled_fraction=0.1)
    assert len(split["val_good"]) == 4 and len(np.intersect1d(split["val_good"], split["cae_train"])) == 0
    assert len(split["labeled"]) == 3 and len(set(ds.test_defects[split["labeled"]])) == 3
    assert sorted(np.r_[split["labeled"], split["test"]].tolist()) == list(range(len(ds.test)))
    assert (ds.test_labels[split["labeled"]] == 1).all()


# ---------------------------------------------------------------------------------------------- typed grid
def test_quick_cells_are_the_committed_results_cells():
    import pandas as pd

    from semiad.core.cache import config_hash
    from semiad.residual_rl.grid import ResidualGridConfig
    from tests.conftest import REPO

    caes, policies = ResidualGridConfig.for_profile("quick").cells({"bottle": "real"})
    committed = pd.read_csv(REPO / "figures" / "residual_rl" / "mvtec_policy_vs_threshold" / "results.csv")
    assert {config_hash(c) for c in caes + policies} == set(committed["cell"])
    assert len(caes) == 3 and len(policies) == 9


def test_grid_config_profiles_and_validation():
    from semiad.residual_rl.grid import ResidualGridConfig

    paper = ResidualGridConfig.for_profile("paper")
    assert paper == ResidualGridConfig() and len(paper.categories) == 15 and paper.losses == ("l2", "ssim")
    caes, policies = paper.cells()
    assert len(caes) == 15 * 2 * 5 and len(policies) == 3 * len(caes)
    small = ResidualGridConfig.for_profile("quick", size=64, labeled_fraction=0.2)
    cae = small.cells()[0][0]
    assert cae["cae"]["patch_size"] == 64 and cae["split"]["labeled_fraction"] == 0.2
    for bad in ({"categories": ["bolt"]}, {"variants": ["D"]}, {"losses": ["l1"]}, {"labeled_fraction": 1.0},
                {"seeds": [-1]}, {"size": 4}, {"cae_steps": 0}):
        with pytest.raises(ValueError):
            ResidualGridConfig.for_profile("quick", **bad)
    with pytest.raises(ValueError, match="unknown"):
        ResidualGridConfig.for_profile("quick", lr=1e-3)
