"""Same config and seed -> same numbers, whether a cell's dependency (a pre-trained network) is computed
in the process or read from the cache, and whether the cell runs in the caller or in a loky worker.

One cell of every paper's grid (smoke sizes; real data where ``SEMIAD_DATA_DIR`` holds it, else demo).
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import torch

from semiad.core.cache import ResultCache, canonical_json
from semiad.core.grid import run_grid

ON_MISSING = "error" if os.environ.get("SEMIAD_DATA_DIR") else "demo"
RUNTIME = {"data_dir": None, "on_missing": ON_MISSING, "device": "cpu"}


def _metrics(task, cell: dict, root, n_jobs: int = 1, companion: dict | None = None) -> tuple[dict, dict]:
    cells = [cell] if companion is None else [cell, companion]
    recs = run_grid(task, cells, n_jobs=n_jobs, backend="loky" if n_jobs > 1 else "sequential",
                    runtime=RUNTIME, cache_root=str(root), progress=False)
    assert recs[0]["status"] == "ok", recs[0].get("error")
    return recs[0]["metrics"], recs[0]["info"]  # info: curves, losses, traces (more sensitive than a metric)


def _cold_warm_worker(task, cell: dict, companion: dict, tmp_path, has_artifact: bool) -> None:
    """cold (dependencies trained inside the cell) == warm (dependencies from disk) == in a worker."""
    cache = ResultCache(tmp_path)
    cold = _metrics(task, cell, tmp_path)
    if has_artifact:
        assert any((tmp_path / "artifacts").rglob("*.pt")), "the cell cached no dependency"
    cache.cell_path(cell).unlink()
    warm = _metrics(task, cell, tmp_path)
    cache.cell_path(cell).unlink()
    worker = _metrics(task, cell, tmp_path, n_jobs=2, companion=companion)
    assert canonical_json(cold) == canonical_json(warm) == canonical_json(worker)  # NaN-safe equality
    assert all(np.isfinite(v) for v in cold[0].values() if isinstance(v, float))


def test_odds_deep_sad_cell(tmp_path):
    from semiad.deep_sad import odds

    specs = [m for m in odds.ALL_METHODS if m.label in ("Deep SAD", "CAE")]
    sources = odds.dataset_sources(("thyroid",), on_missing=ON_MISSING)
    cfgs = [c for c in odds.build_configs("smoke", ("thyroid",), (0,), specs, sources) if c["task"] == "odds"]
    _cold_warm_worker(odds.odds_cell, cfgs[1], cfgs[0], tmp_path, has_artifact=True)


def test_deep_sad_image_cell(tmp_path):
    from semiad.deep_sad import images as D

    setting = D.experiments("mnist", "labeled", "smoke")[-1]
    sources = D.dataset_sources(["mnist"], None, ON_MISSING)
    _, cells = D.cells_for(setting, D.methods_by_label(["Deep SAD", "CAE"]), "smoke", sources["mnist"])
    by_method = {spec.method: cell for spec, cell in cells}
    _cold_warm_worker(D.image_cell, by_method["deep_sad"], by_method["ae"], tmp_path, has_artifact=True)


def test_uainets_cell(tmp_path):
    from semiad.uainets import grid as uainets

    sources = uainets.dataset_sources(["thyroid"], None, ON_MISSING)
    cfgs = uainets.build_configs("smoke", ["thyroid"], ["dae_uai", "dae"], seeds=(1,), budget=None,
                                 data_sources=sources)
    _cold_warm_worker(uainets.uainets_cell, cfgs[0], cfgs[1], tmp_path, has_artifact=True)


def test_residual_policy_cell(tmp_path):
    from semiad.residual_rl import grid as residual

    smoke = residual.ResidualGridConfig.for_profile("smoke")
    category = smoke.categories[0]
    sources = residual.dataset_sources([category], smoke.size, None, ON_MISSING)
    cae_cells, policy_cells = residual.build_configs("smoke", [category], seeds=(0,), data_sources=sources)
    _cold_warm_worker(residual.residual_policy_cell, policy_cells[0], policy_cells[-1], tmp_path,
                      has_artifact=True)


def test_dads_cell(tmp_path):
    from semiad.dads import grid as dads

    ds = dads.Fig2Config.for_profile("smoke").datasets[0]
    sources = dads.dataset_sources([ds], None, ON_MISSING)
    cfgs = dads.build_configs("smoke", datasets=[ds], seeds=(0,), data_sources=sources)
    cell = next(c for c in cfgs if c["method"] == "dads")
    _cold_warm_worker(dads.dads_cell, cell, next(c for c in cfgs if c is not cell), tmp_path,
                      has_artifact=False)


def test_rlad_cell(tmp_path):
    from semiad.rlad import grid as rlad

    sources = rlad.dataset_sources(["yahoo_a1"], None, ON_MISSING)
    cfgs = rlad.build_configs("smoke", benchmarks=("yahoo_a1",), seeds=(0,), data_sources=sources)
    cell = next(c for c in cfgs if c["method"] == "rlad")
    _cold_warm_worker(rlad.rlad_cell, cell, next(c for c in cfgs if c is not cell), tmp_path,
                      has_artifact=False)


def test_uainet_checkpoint_continues_exactly():
    """The model-level cause of the old cold/warm difference: pre-training consumed the mini-batch and
    noise streams and left RMSProp accumulators, which bare weights did not carry."""
    from semiad.uainets.model import UaiNet

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    kw = {"hidden": (8, 2), "pretrain_steps": 30, "steps_per_round": 5, "cold_start_rounds": 1,
          "device": "cpu", "random_state": 4}
    a = UaiNet(**kw).fit(X)
    buf = io.BytesIO()
    torch.save(a.checkpoint(), buf)
    buf.seek(0)
    b = UaiNet(**kw).fit(X, pretrained=torch.load(buf, weights_only=True))
    for net in (a, b):
        for r in range(3):
            net.update(np.array([r, 100 + r]), np.array([1, 0]))
    np.testing.assert_array_equal(a.score(), b.score())
    with pytest.raises(ValueError, match="checkpoint"):
        UaiNet(**kw).fit(X, pretrained=a.base_state())
