"""RL policy vs fixed threshold on CAE residual maps (Lee, Kim, Kang 2022; issue #8), as cached cells.

Pipeline per (category, size, loss, seed) — one ``residual_cae`` cell, computed once:

1. Split (ours; the abstract fixes none of it): ``val_good_fraction`` of the good training images
   are held out (never seen by the CAE); ``labeled_fraction`` of the defective *test* images are
   labeled (stratified over defect types, at least one); the *validation split* is held-out good +
   labeled defective images. The rest of the test set (all good test images and every unlabeled
   defective one) is the test split and is used for nothing but the final metrics.
2. CAE (:mod:`semiad.residual_rl.cae`) trained on the remaining good training images; weights go to the
   cache's artifact path (``<results>/artifacts/residual_cae/<hash>.pt``) and are reloaded with
   ``torch.load(weights_only=True)`` by every policy cell of this CAE.
3. Baseline (MVTec AD CAE protocol, Bergmann et al. 2019/2021): per-pixel threshold + minimum
   connected defect area, both chosen on the validation split by balanced accuracy
   (:class:`semiad.residual_rl.cae.ThresholdSearch`). Its AUC-ROC uses the largest connected area above
   the chosen threshold as the continuous score (ours); the threshold-free max-residual score is
   reported next to it as context, as is the pixel-level AUC-ROC of the residual map.

Per (CAE, variant A/B/C, seed) — one ``residual_policy`` cell: a PPO policy
(:mod:`semiad.residual_rl.policy`) trained on the validation split only (the same images the
threshold search sees), scored on the test split: accuracy, F1 (defective = positive) and AUC-ROC
of P(anomalous).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score, roc_auc_score

from semiad.core.cache import ResultCache, atomic_write_bytes, config_hash
from semiad.core.grid import cell_task, run_cell, run_grid
from semiad.core.profiles import check_profile
from semiad.residual_rl.data import GOOD, MVTEC_CATEGORIES, MVTecCategory, load_mvtec

PAPER = "residual_rl"
NOTEBOOK = "mvtec_policy_vs_threshold"
BASELINE = "threshold + min area"
MAX_RESIDUAL = "max residual (no threshold)"
PIXEL = "CAE residual (pixel level)"
VARIANT_LABELS: dict[str, str] = {"A": "policy A (residual)", "B": "policy B (+ image)",
                                  "C": "policy C (+ image + SSIM)"}
METHOD_ORDER: tuple[str, ...] = (BASELINE, *VARIANT_LABELS.values(), MAX_RESIDUAL, PIXEL)

#: Policy input variants (abstract: the policy "can be further enhanced depending on the input").
VARIANTS: tuple[str, ...] = tuple(VARIANT_LABELS)
LOSSES: tuple[str, ...] = ("l2", "ssim")


@dataclass(frozen=True)
class ResidualGridConfig:
    """The residual-map grid: CAE cells per (category, loss, seed), policy cells per (CAE, variant).

    Only the abstract of Lee, Kim, Kang (ITC-CSCC 2022) survives: it fixes the data set (MVTec AD), the
    CAE residual map and its threshold + minimum-area rule, and a deep-RL policy that replaces the rule.
    Every size below is therefore either the MVTec AD CAE protocol (Bergmann et al., VISAPP 2019, Table 1;
    :mod:`semiad.residual_rl.cae`) or ours, as each field says. The defaults are the ``paper`` profile;
    ``smoke`` and ``quick`` change sizes only (:data:`PROFILE_SIZES`). :meth:`cells` gives the cell
    dicts (the cache keys); validated once, where it is built.
    """

    # ---- the grid
    categories: tuple[str, ...] = MVTEC_CATEGORIES
    """Abstract: "the MVTec anomaly detection dataset" (its 15 categories)."""
    size: int = 256
    """Image side (pixels). Bergmann et al. (2019) train the MVTec AD CAEs at 256 px."""
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Ours: five seeds (split, CAE and policy)."""
    losses: tuple[str, ...] = LOSSES
    """CAE losses: L2 and SSIM, the two CAE baselines of MVTec AD (Bergmann et al. 2019)."""
    variants: tuple[str, ...] = VARIANTS
    """Ours: policy input A residual map, B + image, C + image + SSIM map."""
    # ---- split (ours: the abstract fixes none)
    val_good_fraction: float = 0.1
    """Ours: share of good training images held out from the CAE for the validation split."""
    labeled_fraction: float = 0.1
    """Ours: share of defective test images labeled (stratified over defect types, at least one)."""
    # ---- threshold + minimum-area search (the rule: Bergmann et al.; the grid: ours)
    n_thresholds: int = 30
    """Ours: per-pixel thresholds searched."""
    n_areas: int = 20
    """Ours: minimum defect areas searched."""
    max_area_fraction: float = 0.05
    """Ours: largest minimum area searched, as a share of the image."""
    # ---- CAE (Bergmann et al. 2019, Table 1 and Sec. 4)
    patch_size: int = 128
    """Training crop (pixels): Bergmann et al. train on 128 px patches (clipped to ``size``)."""
    latent_dim: int = 100
    """Latent size: 100 (Bergmann et al.)."""
    width: float = 1.0
    """Ours: channel-width multiplier of the 32-128 channel architecture (1 = theirs)."""
    cae_steps: int = 20_000
    """Ours: a step budget instead of epochs, so that a profile fixes the cost."""
    cae_batch_size: int = 128
    """Batch size: 128 (Bergmann et al.)."""
    # ---- policy (ours: SB3 PPO, semiad.residual_rl.policy)
    policy_timesteps: int = 65_536
    """Ours: environment steps (one labeled decision each)."""
    policy_n_steps: int = 512
    """Ours: PPO rollout length."""
    policy_batch_size: int = 128
    """Ours: PPO minibatch."""
    state_size: int = 128
    """Ours: side of the pooled maps the policy sees."""

    def __post_init__(self) -> None:
        for name in ("categories", "seeds", "losses", "variants"):
            object.__setattr__(self, name, tuple(getattr(self, name)))  # frozen: normalise once, here
        for c in self.categories:
            if c not in MVTEC_CATEGORIES:
                raise ValueError(f"unknown MVTec AD category {c!r}; choose from {MVTEC_CATEGORIES}")
        for v in self.variants:
            if v not in VARIANT_LABELS:
                raise ValueError(f"unknown policy variant {v!r}; choose from {sorted(VARIANT_LABELS)}")
        for loss in self.losses:
            if loss not in LOSSES:
                raise ValueError(f"unknown CAE loss {loss!r}; choose from {LOSSES}")
        if any(not isinstance(s, (int, np.integer)) or s < 0 for s in self.seeds):
            raise ValueError(f"seeds must be non-negative integers, got {self.seeds}")
        for name in ("val_good_fraction", "labeled_fraction", "max_area_fraction"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)!r}")
        if int(self.size) != self.size or self.size < 8:
            raise ValueError(f"size must be an integer >= 8, got {self.size!r}")
        for name in ("n_thresholds", "n_areas", "patch_size", "latent_dim", "cae_steps", "cae_batch_size",
                     "policy_timesteps", "policy_n_steps", "policy_batch_size", "state_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")

    @classmethod
    def for_profile(cls, profile: str = "quick", **overrides) -> ResidualGridConfig:
        """The profile's sizes (:data:`PROFILE_SIZES`) on the paper-profile defaults, then ``overrides``;
        an override of ``None`` keeps the profile's value (notebook parameters default to ``None``)."""
        known = {f.name for f in fields(cls)}
        if set(overrides) - known:
            raise ValueError(f"unknown residual grid fields {sorted(set(overrides) - known)}; "
                             f"known: {sorted(known)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(**{**PROFILE_SIZES[check_profile(profile)], **given})

    def cae_params(self) -> dict:
        """The ``cae`` entry of a CAE cell (:class:`~semiad.residual_rl.cae.CAETrainConfig` fields)."""
        return {"patch_size": min(self.patch_size, int(self.size)), "latent_dim": self.latent_dim,
                "width": self.width, "n_steps": self.cae_steps, "batch_size": self.cae_batch_size}

    def policy_params(self) -> dict:
        """The ``policy`` entry of a policy cell (:class:`~semiad.residual_rl.policy.ResidualPolicy`
        arguments and the state size)."""
        return {"total_timesteps": self.policy_timesteps, "n_steps": self.policy_n_steps,
                "batch_size": self.policy_batch_size, "state_size": self.state_size}

    def cells(self, data_sources: dict[str, str] | None = None) -> tuple[list[dict], list[dict]]:
        """(CAE cells, policy cells): one CAE cell per (category, loss, seed), one policy cell per
        (CAE cell, variant). ``data_sources``: ``"real"`` / ``"demo"`` per category (default real)."""
        sources = data_sources or {}
        split = {"val_good_fraction": self.val_good_fraction, "labeled_fraction": self.labeled_fraction}
        search = {"n_thresholds": self.n_thresholds, "n_areas": self.n_areas,
                  "max_area_fraction": self.max_area_fraction}
        caes = [cae_config(c, self.size, loss, s, self.cae_params(), sources.get(c, "real"), split, search)
                for c in self.categories for loss in self.losses for s in self.seeds]
        policies = [policy_config(cfg, v, self.policy_params()) for cfg in caes for v in self.variants]
        return caes, policies


#: Per profile, the sizes that differ from the paper profile (the :class:`ResidualGridConfig` defaults);
#: a profile changes sizes, never code paths.
PROFILE_SIZES: dict[str, dict] = {
    "smoke": {"categories": ("bottle",), "size": 32, "seeds": (0,), "losses": ("l2",), "patch_size": 32,
              "latent_dim": 32, "width": 0.5, "cae_steps": 40, "cae_batch_size": 8, "policy_timesteps": 512,
              "policy_n_steps": 64, "policy_batch_size": 32, "state_size": 32},
    "quick": {"categories": ("bottle",), "size": 128, "seeds": (0, 1, 2), "losses": ("l2",),
              "cae_steps": 1000, "cae_batch_size": 16, "policy_timesteps": 16384, "policy_n_steps": 256,
              "policy_batch_size": 64, "state_size": 64},
    "paper": {},
}


# ---------------------------------------------------------------------------------------------- configs
def cae_config(category: str, size: int, loss: str, seed: int, cae: dict, data_source: str = "real",
               split: dict | None = None, search: dict | None = None) -> dict:
    """Config of one ``residual_cae`` cell (a dict of literals: it is the cache key)."""
    split = split or {"val_good_fraction": 0.1, "labeled_fraction": 0.1}
    search = search or {"n_thresholds": 30, "n_areas": 20, "max_area_fraction": 0.05}
    return {"task": "residual_cae", "category": category, "data_source": data_source, "size": int(size),
            "loss": loss, "seed": int(seed), "split": dict(split), "cae": dict(cae), "search": dict(search)}


def policy_config(cae_cfg: dict, variant: str, policy: dict) -> dict:
    """Config of one ``residual_policy`` cell; it embeds its CAE's config (so its cache key too)."""
    return {"task": "residual_policy", "cae": cae_cfg, "variant": variant, "seed": cae_cfg["seed"],
            "policy": dict(policy)}


def build_configs(profile: str = "quick", categories: Sequence[str] | None = None,
                  seeds: Sequence[int] | None = None, losses: Sequence[str] | None = None,
                  variants: Sequence[str] | None = None, size: int | None = None,
                  data_sources: dict[str, str] | None = None,
                  **split_overrides: float) -> tuple[list[dict], list[dict]]:
    """(CAE cells, policy cells) of ``ResidualGridConfig.for_profile(profile, ...)`` (``None`` = the
    profile's value; ``split_overrides``: ``val_good_fraction``, ``labeled_fraction``)."""
    unknown = set(split_overrides) - {"val_good_fraction", "labeled_fraction"}
    if unknown:
        raise ValueError(f"unknown split parameters {sorted(unknown)}")
    config = ResidualGridConfig.for_profile(profile, categories=categories, seeds=seeds, losses=losses,
                                            variants=variants, size=size, **split_overrides)
    return config.cells(data_sources)


# ---------------------------------------------------------------------------------------------- data
@lru_cache(maxsize=4)
def _load_cached(category: str, size: int, data_dir: str | None, on_missing: str,
                 env_data_dir: str | None) -> MVTecCategory:
    return load_mvtec(category, data_dir, size, on_missing)


def _load(category: str, size: int, data_dir: str | None, on_missing: str) -> MVTecCategory:
    """:func:`load_mvtec`, memoised per process (cells of one worker share the decoded images)."""
    return _load_cached(category, int(size), data_dir, on_missing, os.environ.get("SEMIAD_DATA_DIR"))


def runtime_options(data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                    device: str = "cpu", cache_root: str | None = None) -> dict:
    """The ``runtime`` dict of the cells (options that do not change results, so not in the cache key)."""
    return {"data_dir": None if data_dir is None else str(data_dir), "device": device,
            "on_missing": on_missing, "cache_root": cache_root}


def load_for(config: dict, runtime: dict) -> MVTecCategory:
    """The category of a cell, checking that the data source matches the config's."""
    ds = _load(config["category"], config["size"], runtime.get("data_dir"),
               runtime.get("on_missing", "error"))
    if ds.source != config["data_source"]:
        raise RuntimeError(f"{config['category']}: config expects {config['data_source']} data but the "
                           f"loader returned {ds.source} data")
    return ds


def make_split(ds: MVTecCategory, seed: int, val_good_fraction: float, labeled_fraction: float) -> dict:
    """Index arrays ``cae_train`` / ``val_good`` (into ``ds.train``), ``labeled`` / ``test`` (into
    ``ds.test``); see the module docstring for the rules."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(ds.train))
    n_val = max(1, int(round(val_good_fraction * len(ds.train))))
    defective = np.flatnonzero(ds.test_labels == 1)
    n_lab = max(1, int(round(labeled_fraction * len(defective))))
    # stratified over defect types: shuffle each type, then take them round-robin
    queues = [list(rng.permutation(np.flatnonzero(ds.test_defects == d))) for d in ds.defect_types]
    order = []
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    labeled = np.sort(np.array(order[:n_lab], dtype=np.int64))
    test = np.setdiff1d(np.arange(len(ds.test)), labeled)
    return {"cae_train": np.sort(perm[n_val:]), "val_good": np.sort(perm[:n_val]), "labeled": labeled,
            "test": test}


@dataclass
class SplitMaps:
    """Images, labels, defect types, masks and CAE maps of one split (validation or test)."""

    images: np.ndarray
    recon: np.ndarray
    residual: np.ndarray
    ssim: np.ndarray
    labels: np.ndarray
    defects: np.ndarray
    masks: np.ndarray


def _weights_path(cfg: dict, runtime: dict):
    return ResultCache(runtime.get("cache_root")).artifact_path(cfg, ".pt")


def _cae_train_config(cfg: dict):
    from semiad.residual_rl.cae import CAETrainConfig
    return CAETrainConfig(loss=cfg["loss"], **cfg["cae"])


def _maps(model, images, labels, defects, masks) -> SplitMaps:
    from semiad.residual_rl.cae import reconstruct, residual_maps
    recon = reconstruct(model, images)
    residual, ssim = residual_maps(images, recon)
    return SplitMaps(images, recon, residual, ssim, labels, defects, masks)


def cae_maps(cfg: dict, runtime: dict) -> tuple[SplitMaps, SplitMaps]:
    """(validation, test) maps of a trained CAE cell, loading its weights (training it if absent)."""
    from semiad.residual_rl.cae import CAE

    path = _weights_path(cfg, runtime)
    if not path.is_file():
        rec = run_cell(residual_cae_cell, cfg, runtime, runtime.get("cache_root"))
        if rec["status"] != "ok":
            raise RuntimeError(f"CAE cell failed: {rec.get('error')}")
    ds = load_for(cfg, runtime)
    tc = _cae_train_config(cfg)
    model = CAE(ds.n_channels, tc.patch_size, tc.latent_dim, tc.width)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return _split_maps(model, ds, make_split(ds, cfg["seed"], **cfg["split"]))


def _split_maps(model, ds: MVTecCategory, split: dict) -> tuple[SplitMaps, SplitMaps]:
    vg, lab, te = split["val_good"], split["labeled"], split["test"]
    size = ds.size
    val = _maps(model, np.concatenate([ds.train[vg], ds.test[lab]]),
                np.r_[np.zeros(len(vg), np.int64), ds.test_labels[lab]],
                np.r_[np.full(len(vg), GOOD), ds.test_defects[lab]],
                np.concatenate([np.zeros((len(vg), size, size), np.float32), ds.test_masks[lab]]))
    test = _maps(model, ds.test[te], ds.test_labels[te], ds.test_defects[te], ds.test_masks[te])
    return val, test


def image_metrics(y: np.ndarray, pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Image-level accuracy, F1 (defective = positive) and AUC-ROC of a continuous score."""
    return {"accuracy": float((pred == y).mean()), "f1": float(f1_score(y, pred, zero_division=0)),
            "auc_roc": float(roc_auc_score(y, score))}


# ---------------------------------------------------------------------------------------------- cells
@cell_task("residual_cae")
def residual_cae_cell(config: dict, runtime: dict) -> dict:
    """Train the CAE (weights -> artifact), run the threshold/min-area search, score the test split."""
    from semiad.core.device import resolve_device
    from semiad.residual_rl.cae import ThresholdSearch, train_cae

    ds = load_for(config, runtime)
    split = make_split(ds, config["seed"], **config["split"])
    device = resolve_device(runtime.get("device", "cpu"))
    model, curve = train_cae(ds.train[split["cae_train"]], _cae_train_config(config), seed=config["seed"],
                             device=device)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write_bytes(_weights_path(config, runtime), buf.getvalue())
    val, test = _split_maps(model, ds, split)
    search = ThresholdSearch(**config["search"]).fit(val.residual, val.labels)
    baseline = image_metrics(test.labels, search.predict(test.residual), search.score(test.residual))
    metrics = {f"baseline_{k}": v for k, v in baseline.items()}
    metrics["max_residual_auc_roc"] = float(roc_auc_score(test.labels, test.residual.max(axis=(1, 2))))
    metrics["pixel_auc_roc"] = float(roc_auc_score(test.masks.ravel() > 0.5, test.residual.ravel()))
    info = {"loss_curve": curve, "threshold": search.threshold_, "min_area": search.min_area_,
            "val_balanced_accuracy": search.val_balanced_accuracy_,
            "surface_thresholds": search.thresholds_.tolist(), "surface_areas": search.areas_.tolist(),
            "surface_balanced_accuracy": search.balanced_accuracy_.tolist(),
            "surface_f1": search.f1_.tolist(),
            "n_cae_train": len(split["cae_train"]), "n_val_good": len(split["val_good"]),
            "n_labeled": len(split["labeled"]), "n_test": len(split["test"]),
            "n_test_defective": int(test.labels.sum())}
    return {"metrics": metrics, "info": info}


@cell_task("residual_policy")
def residual_policy_cell(config: dict, runtime: dict) -> dict:
    """Train a PPO policy (one variant) on the validation split of its CAE; score the test split."""
    from semiad.residual_rl.policy import ResidualPolicy, build_states

    val, test = cae_maps(config["cae"], runtime)
    params = dict(config["policy"])
    state_size = params.pop("state_size")
    v = config["variant"]
    s_val = build_states(v, val.images, val.residual, val.ssim, state_size)
    s_test = build_states(v, test.images, test.residual, test.ssim, state_size)
    from semiad.core.device import resolve_device

    device = str(resolve_device(runtime.get("device", "cpu")))
    policy = ResidualPolicy(random_state=config["seed"], device=device, **params)
    policy.fit(s_val, val.labels, eval_states=s_test, eval_labels=test.labels)
    proba = policy.predict_proba(s_test)
    metrics = image_metrics(test.labels, (proba >= 0.5).astype(int), proba)
    if np.ptp(proba) == 0:
        raise FloatingPointError(f"policy {v} gives the same P(anomalous) to every test image")
    metrics["val_balanced_accuracy"] = policy.history_.train_balanced_accuracy[-1]
    return {"metrics": metrics, "info": {"history": policy.history_.as_dict(), "confusion_train":
                                         policy.env_.confusion.tolist()}}


# ---------------------------------------------------------------------------------------------- grid
def dataset_sources(categories: Sequence[str], size: int, data_dir: str | os.PathLike | None = None,
                    on_missing: str = "error") -> dict[str, str]:
    """Load every category once up front: a clear error (with the download fix) before any training."""
    return {c: _load(c, int(size), None if data_dir is None else str(data_dir), on_missing).source
            for c in categories}


def run_residual_grid(profile: str = "quick", *, categories: Sequence[str] | None = None,
                      seeds: Sequence[int] | None = None, losses: Sequence[str] | None = None,
                      variants: Sequence[str] | None = None, size: int | None = None, n_jobs: int = 1,
                      backend: str = "loky", device: str = "cpu",
                      data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                      cache_root: str | None = None, progress: bool = True,
                      config: ResidualGridConfig | None = None,
                      **overrides) -> tuple[pd.DataFrame, list[dict], list[dict]]:
    """Run (or load from cache) the CAE cells, then the policy cells; return tidy results + records.
    The grid is ``config``, or ``ResidualGridConfig.for_profile(profile, ...)`` built from the other
    arguments (``overrides``: any further field, e.g. ``labeled_fraction``)."""
    if config is None:
        config = ResidualGridConfig.for_profile(profile, categories=categories, seeds=seeds, losses=losses,
                                                variants=variants, size=size, **overrides)
    sources = dataset_sources(config.categories, config.size, data_dir, on_missing)
    caes, policies = config.cells(sources)
    runtime = runtime_options(data_dir, on_missing, device, cache_root)
    cae_records = run_grid(residual_cae_cell, caes, n_jobs=n_jobs, backend=backend, runtime=runtime,
                           cache_root=cache_root, progress=progress, desc="CAE cells")
    ok = {rec["hash"] for rec in cae_records if rec["status"] == "ok"}
    todo = [p for p in policies if config_hash(p["cae"]) in ok]
    policy_records = run_grid(residual_policy_cell, todo, n_jobs=n_jobs, backend=backend, runtime=runtime,
                              cache_root=cache_root, progress=progress, desc="policy cells")
    return records_to_frame(cae_records + policy_records), cae_records, policy_records


def _setting(cfg: dict) -> str:
    return f"size={cfg['size']},loss={cfg['loss']}"


def records_to_frame(records: list[dict]) -> pd.DataFrame:
    """Tidy results: one row per (method, dataset, setting, seed, metric); failures kept as NaN."""
    rows = []
    for rec in records:
        cfg = rec["config"]
        cae = cfg if cfg["task"] == "residual_cae" else cfg["cae"]
        base = {"dataset": cae["category"], "setting": _setting(cae), "seed": cfg["seed"],
                "status": rec["status"], "data_source": cae["data_source"],
                "runtime_s": rec.get("runtime_s"), "cell": rec["hash"], "error": rec.get("error", "")}
        if cfg["task"] == "residual_cae":
            m = rec.get("metrics", {})
            groups = {BASELINE: {k: m.get(f"baseline_{k}", np.nan) for k in ("accuracy", "f1", "auc_roc")},
                      MAX_RESIDUAL: {"auc_roc": m.get("max_residual_auc_roc", np.nan)},
                      PIXEL: {"auc_roc_pixel": m.get("pixel_auc_roc", np.nan)}}
        else:
            m = rec.get("metrics", {})
            groups = {VARIANT_LABELS[cfg["variant"]]: {k: m.get(k, np.nan)
                                                       for k in ("accuracy", "f1", "auc_roc")}}
        for method, values in groups.items():
            for metric, value in values.items():
                rows.append({"method": method, **base, "metric": metric, "value": value})
    return pd.DataFrame(rows)


def open_notebook(profile: str, config: ResidualGridConfig, data_dir: str | os.PathLike | None = None,
                  on_missing_data: str = "auto", output_dir=None) -> tuple[Path, str]:
    """Check the notebook's parameters and say what will run: returns the output folder (``figures/`` only
    for a quick run on real data) and the loaders' ``on_missing`` (``"auto"`` resolved); every category
    is loaded once here, so a missing folder fails before any training, and demo data is announced."""
    from semiad.core import plotting
    from semiad.core.notebook import demo_banner
    from semiad.core.paths import figure_dir
    from semiad.core.provenance import resolve_on_missing

    check_profile(profile)
    on_missing = resolve_on_missing(on_missing_data, data_dir)  # "auto" -> "error" or "demo"
    out = figure_dir(PAPER, NOTEBOOK, output_dir, profile=profile)
    plotting.set_style()
    print(f"profile={profile}: categories={config.categories}, size={config.size} px, seeds={config.seeds}, "
          f"CAE {config.cae_params()}, policy {config.policy_params()}, output -> {out}")
    demo_banner(dataset_sources(config.categories, config.size, data_dir, on_missing))
    return out, on_missing


def dataset_table(config: ResidualGridConfig, data_dir: str | os.PathLike | None = None,
                  on_missing: str = "error") -> pd.DataFrame:
    """Image counts per category and split (train good; test good and per defect type)."""
    return pd.DataFrame([load_mvtec(c, data_dir, config.size, on_missing).stats() for c in config.categories])


# ---------------------------------------------------------------------------------------------- logs
def learning_curves(policy_records: list[dict]) -> pd.DataFrame:
    """Per policy cell and evaluation: timesteps, mean training reward, balanced accuracy on the
    policy's own (validation) split and test AUC-ROC (diagnostic only)."""
    rows = []
    for rec in policy_records:
        if rec["status"] != "ok":
            continue
        cfg, hist = rec["config"], rec["info"]["history"]
        for i, t in enumerate(hist["timesteps"]):
            rows.append({"dataset": cfg["cae"]["category"], "variant": VARIANT_LABELS[cfg["variant"]],
                         "seed": cfg["seed"], "timesteps": t, "mean_reward": hist["mean_reward"][i],
                         "val_balanced_accuracy": hist["train_balanced_accuracy"][i],
                         "test_auc_roc": hist["eval_auc"][i]})
    return pd.DataFrame(rows)
