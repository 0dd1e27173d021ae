"""Deep SAD Sec. 4.2-4.3 / App. A, F: the image experiments (Figs. 2-9, Tables 3-5) as cached grid cells.

One *experiment* is an :class:`~semiad.deep_sad.image_settings.ImageSetting` (dataset, normal class, known
anomaly classes, gamma_l, gamma_p, seed); one *cell* is one method on one experiment. Cells are pure
functions of their config (cached by hash, see :mod:`semiad.core.grid`), and they are keyed by what
they really depend on, so the paper's curves share work the way its tables do:

* An **unsupervised** method (OC-SVM, IF, KDE raw/hybrid, CAE, Deep SVDD) sees only the unlabeled data.
  With gamma_p = 0 that is every normal training image of the normal class, whatever the known classes and
  gamma_l, so one cell serves all of scenario (i) and the gamma_p = 0 point of (ii) (Table 3 prints these
  methods once, at gamma_l = 0, for the same reason).
* The **autoencoder** of App. C (Deep SAD / Deep SVDD pre-training, the CAE baseline, the hybrids' features)
  is trained on the unlabeled data too, so it is shared in the same way and cached as a weights artifact.
* **Semi-supervised** methods (Deep SAD, SSAD raw/hybrid, SS-DGM, supervised) get one cell per experiment,
  except without labeled anomalies (gamma_l = 0, k_l = 0), where they too see only the unlabeled data.

Identical settings of different scenarios (Table 3 gamma_l = .05 = Table 4 gamma_p = 0; Table 4 gamma_p =
.1 = Table 5 k_l = 1 = the Sec. 4.3 defaults) have equal configs and therefore one cache entry.

Profiles (sizes only; the code path is the same):

* ``paper``: MNIST, F-MNIST, CIFAR-10; all 10 normal classes x 9 known classes (i, ii, Fig. 5-6) or x 10
  seeds (iii); 150 + 150 epochs (AE, then the method; lr 1e-4, x0.1 after epoch 50); the full training set.
  Shallow raw methods on 784 / 3,072 pixels: OC-SVM and KDE are fit on a subsample of at most
  ``shallow_max_train`` = 10,000 rows (never binding on MNIST / F-MNIST, whose training sets have
  6,000-7,500 rows; CIFAR-10 has 5,000-6,250), SSAD's dense QP on at most ``ssad_max_train`` = 5,000 rows
  (a 5,000 x 5,000 kernel; the exact QP grows as n^3, ``benchmarks/ssad_scaling.py``).
* ``quick`` (2 CPU cores): MNIST and F-MNIST, normal classes 0 and 3 with one known class each (the first of
  a seeded draw) and one seed, i.e. 2 experiments per point instead of 90 / 100; 2,000 normal training images
  per experiment (a seeded subsample; the anomaly counts follow from the ratios, so gamma_l / gamma_p are
  exact); 15 + 15 epochs (lr drop after 10); OC-SVM raw on <= 1,000 rows, KDE and SSAD raw on <= 500 rows
  (scikit-learn's KDE scores by tree search, which is slow in 784 dimensions: 31 s per cell at 1,000 rows).
  ``subsample_effect`` measures what these caps cost. Two normal classes keep every quick notebook under
  20 min on 2 cores from an empty cache; Figs. 7-9 (``scatter_datasets``) use MNIST only in quick: the
  paper's Figs. 7-9 are on one dataset (CIFAR-10), and they need all three scenarios.
* ``smoke``: MNIST, normal class 0, 200 normal images, 1,000 test images, 2 + 4 epochs, 2 points per curve.

Written by us from the paper; the only library methods are scikit-learn's (OC-SVM, IF, KDE) and our own
Deep SAD, SSAD and SS-DGM (:mod:`semiad.core.detectors`, :data:`semiad.deep_sad.odds.DETECTORS`).
"""

from __future__ import annotations

import io
import json
import os
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd
import torch

from semiad.core.cache import ResultCache, atomic_write_bytes, config_hash
from semiad.core.data.resolve import DataNotFoundError, check_data_source, check_on_missing
from semiad.core.data.splits import SemiSupervisedSplit
from semiad.core.detectors.autoencoder import train_autoencoder
from semiad.core.detectors.base import KNOWN_ANOMALY
from semiad.core.detectors.lenet import get_arch
from semiad.core.detectors.networks import build_autoencoder
from semiad.core.detectors.protocol import DEFAULT, TrainingProtocol, protocol_named
from semiad.core.detectors.shallow import OCSVM_NUS
from semiad.core.detectors.training import TrainSchedule, predict_batched
from semiad.core.grid import cell_record, cell_task, run_grid
from semiad.core.metrics import auc
from semiad.core.profiles import check_profile
from semiad.deep_sad.image_settings import (
    CLASSES,
    DEFAULT_GAMMA_L,
    DEFAULT_GAMMA_P,
    IMAGE_DATASETS,
    SCENARIO_VALUES,
    ImageSetting,
    draw_setting_indices,
    known_classes_draw,
    scale_images,
    scenario_grid,
)
from semiad.deep_sad.odds import ALL_METHODS as ODDS_METHODS
from semiad.deep_sad.odds import (
    HYPERSPHERE,
    LOSS_REPORTED,
    SUPERVISED_AS_WRITTEN,
    SUPERVISED_LR,
    TRAIN_OVERRIDES,
    MethodSpec,
    _spec,
    hypersphere_params,
    make_detector,
    score_shallow,
    with_train_overrides,
)
from semiad.deep_sad.odds import uses_autoencoder as _uses_autoencoder

PAPER = "deep_sad"
AE_TASK, CELL_TASK = "deep_sad_images_ae", "deep_sad_images"

#: Sec. 4.3: eta in {1e-2, ..., 1e2} (Fig. 5) and d in {2^4, ..., 2^9} (Fig. 6).
ETAS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)
REP_DIMS: tuple[int, ...] = (16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class ImageConfig:
    """The image grid of Figs. 2-9 and Tables 3-5 (Sec. 4.2-4.3, App. C-E): experiments and their sizes.

    Built per profile by :meth:`for_profile` (module docstring: what ``quick`` and ``smoke`` reduce) and
    validated once, here; :func:`experiments` and :func:`cells_for` build the cell dicts from it (the
    cache keys are those dicts). Each default is the paper's value, cited beside it; the row caps of the
    shallow raw methods are ours. The training protocol of the CAE, Deep SAD and Deep SVDD is a separate
    typed value (:class:`~semiad.core.detectors.protocol.TrainingProtocol`).
    """

    #: Sec. 4.1: MNIST, Fashion-MNIST and CIFAR-10.
    datasets: tuple[str, ...] = IMAGE_DATASETS
    #: App. A.2: Figs. 7-9 are on CIFAR-10 only.
    scatter_datasets: tuple[str, ...] = ("cifar10",)
    #: Sec. 4.2: each of the ten classes is the normal class once.
    normal_classes: tuple[int, ...] = CLASSES
    #: Sec. 4.2 (i), (ii): each of the nine other classes is the known anomaly class once (90 experiments).
    n_known: int = 9
    #: Sec. 4.2 (i), (ii): one seed per (normal class, known class).
    seeds: tuple[int, ...] = (0,)
    #: Sec. 4.2 (iii): "10 seeds" per normal class, known classes drawn per seed (100 experiments).
    iii_seeds: tuple[int, ...] = tuple(range(10))
    #: Sec. 4.2: every training image of the normal class (None = all; ours: a seeded subsample otherwise).
    max_normal: int | None = None
    #: Sec. 4.2: the full test split (None = all; ours: a stratified subsample otherwise).
    max_test: int | None = None
    #: App. D: 150 epochs of the method after ...
    epochs: int = 150
    #: ... App. C: 150 epochs of autoencoder pre-training.
    ae_epochs: int = 150
    #: App. D: lr 1e-4, x0.1 after epoch 50.
    milestone: int = 50
    #: Ours: OC-SVM raw training-row cap (never binding on MNIST / F-MNIST at 10,000).
    shallow_max_train: int | None = 10000
    #: Ours: KDE raw training-row cap.
    kde_max_train: int | None = 10000
    #: Ours: SSAD's dense QP training-row cap (the exact QP grows as n^3, ``benchmarks/ssad_scaling.py``).
    ssad_max_train: int | None = 5000
    #: Sec. 4.2 (i): gamma_l in {0, .01, .05, .1, .2} (Fig. 2, Table 3).
    labeled_values: tuple[float, ...] = SCENARIO_VALUES["labeled"]
    #: Sec. 4.2 (ii): gamma_p in {0, .01, .05, .1, .2} (Fig. 3, Table 4).
    pollution_values: tuple[float, ...] = SCENARIO_VALUES["pollution"]
    #: Sec. 4.2 (iii): k_l in {0, 1, 2, 3, 5} (Fig. 4, Table 5).
    known_classes_values: tuple[int, ...] = SCENARIO_VALUES["known_classes"]
    #: Sec. 4.3: eta in {1e-2, ..., 1e2} (Fig. 5).
    etas: tuple[float, ...] = ETAS
    #: Sec. 4.3: d in {2^4, ..., 2^9} (Fig. 6).
    rep_dims: tuple[int, ...] = REP_DIMS

    def __post_init__(self):
        for name in ("datasets", "scatter_datasets", "normal_classes", "seeds", "iii_seeds", "labeled_values",
                     "pollution_values", "known_classes_values", "etas", "rep_dims"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        unknown = [d for d in (*self.datasets, *self.scatter_datasets) if d not in IMAGE_DATASETS]
        if unknown:
            raise ValueError(f"unknown image dataset(s) {unknown}; choose from {IMAGE_DATASETS}")
        if not self.normal_classes or any(c not in CLASSES for c in self.normal_classes):
            raise ValueError(f"normal_classes must be classes of {CLASSES}, got {self.normal_classes}")
        if not 1 <= self.n_known < len(CLASSES):
            raise ValueError(f"n_known must be in [1, {len(CLASSES) - 1}], got {self.n_known}")
        if any(int(s) < 0 for s in (*self.seeds, *self.iii_seeds)) or not self.seeds or not self.iii_seeds:
            raise ValueError(f"seeds must be non-empty and non-negative, got {self.seeds}, {self.iii_seeds}")
        if min(self.epochs, self.ae_epochs, self.milestone) < 1:
            raise ValueError("epochs, ae_epochs and milestone must be >= 1")
        for key in ("max_normal", "max_test", "shallow_max_train", "kde_max_train", "ssad_max_train"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise ValueError(f"{key} must be a positive count or None, got {getattr(self, key)!r}")
        if any(not 0 <= g < 1 for g in (*self.labeled_values, *self.pollution_values)):
            raise ValueError("gamma_l / gamma_p values must lie in [0, 1)")
        if any(not 0 <= k < len(CLASSES) for k in self.known_classes_values):
            raise ValueError(f"k_l values must lie in [0, {len(CLASSES) - 1}]")
        if any(not e > 0 for e in self.etas):
            raise ValueError(f"eta must be > 0, got {self.etas}")
        if any(int(d) < 16 or int(d) % 16 for d in self.rep_dims):
            raise ValueError("rep_dim must be a multiple of 16 (the LeNet decoders reshape d into d/16 "
                             f"maps of 4x4), got {self.rep_dims}")

    @classmethod
    def for_profile(cls, profile: str = "quick", **overrides) -> ImageConfig:
        """The grid of ``profile`` with ``overrides`` of any field (e.g. ``datasets=("mnist",)``)."""
        return replace(IMAGE_PROFILES[check_profile(profile)], **overrides)

    def values(self, kind: str) -> tuple[float, ...]:
        """The curve points of a scenario (``"labeled"``, ``"pollution"``, ``"known_classes"``) or of a
        sensitivity (``"eta"``, ``"rep_dim"``)."""
        names = {"labeled": "labeled_values", "pollution": "pollution_values",
                 "known_classes": "known_classes_values", "eta": "etas", "rep_dim": "rep_dims"}
        if kind not in names:
            raise ValueError(f"kind must be one of {sorted(names)}, got {kind!r}")
        return getattr(self, names[kind])

    def describe(self) -> str:
        """The sizes, for a notebook's setup cell."""
        points = {k: self.values(k) for k in ("labeled", "pollution", "known_classes", "eta", "rep_dim")}
        return (f"datasets={self.datasets}, normal classes={self.normal_classes}, known classes per normal "
                f"class={self.n_known}, seeds={self.seeds} (iii: {self.iii_seeds})\n"
                f"normal training images per experiment={self.max_normal or 'all'}, "
                f"test images={self.max_test or 'all'}, epochs={self.ae_epochs} + {self.epochs} "
                f"(lr x0.1 after {self.milestone})\n"
                f"row caps: OC-SVM raw {self.shallow_max_train}, KDE raw {self.kde_max_train}, "
                f"SSAD {self.ssad_max_train}\npoints: {points}")


#: The paper's grid and the two reductions of it (module docstring; sizes only, the code path is the same).
IMAGE_PROFILES: dict[str, ImageConfig] = {
    "paper": ImageConfig(),
    "quick": ImageConfig(datasets=("mnist", "fashion_mnist"), scatter_datasets=("mnist",),
                         normal_classes=(0, 3), n_known=1, iii_seeds=(0,), max_normal=2000, epochs=15,
                         ae_epochs=15, milestone=10, shallow_max_train=1000, kde_max_train=500,
                         ssad_max_train=500),
    "smoke": ImageConfig(datasets=("mnist",), scatter_datasets=("mnist",), normal_classes=(0,), n_known=1,
                         iii_seeds=(0,), max_normal=200, max_test=1000, epochs=4, ae_epochs=2, milestone=2,
                         shallow_max_train=150, kde_max_train=150, ssad_max_train=100,
                         labeled_values=(0.0, 0.05), pollution_values=(0.0, 0.1), known_classes_values=(0, 1),
                         etas=(0.01, 100.0), rep_dims=(16, 32)),
}


def image_config(profile: str | ImageConfig) -> ImageConfig:
    """``profile`` itself when it is an :class:`ImageConfig`, else that profile's."""
    return profile if isinstance(profile, ImageConfig) else ImageConfig.for_profile(profile)


#: Default representation dimension d of App. D per dataset.
DEFAULT_REP_DIM = {name: get_arch(name).rep_dim for name in IMAGE_DATASETS}
#: SS-DGM on images: Kingma et al. (2014) use one hidden layer of 500 units and a 50-d z for MNIST; the paper
#: gives no image architecture for it, so we use one hidden layer of 256 units and a 32-d z (cheaper), on
#: the flattened pixels with a Gaussian likelihood (the implementation of :mod:`semiad.deep_sad.ssdgm`).
SSDGM_HIDDEN, SSDGM_LATENT = (256,), 32


def _ocsvm(features: str) -> tuple[MethodSpec, ...]:
    label = f"OC-SVM {features.capitalize()}"
    return tuple(_spec(f"{label} (nu={nu})", "ocsvm", label, features=features, nu=nu, selection="test10")
                 for nu in OCSVM_NUS)


#: Every method of Tables 3-5 (App. E): OC-SVM raw/hybrid (gamma selected on 10 % of the test set, one
#: variant per nu, best nu reported), IF and KDE raw/hybrid, CAE, Deep SVDD (one-class and soft-boundary
#: nu in {.01, .1}, best reported), SSAD raw/hybrid (gamma selected on 10 % of the test set), SS-DGM (M2 and
#: M1+M2, best reported), Deep SAD (eta = 1) and the supervised classifier.
_ODDS_SPECS = {m.label: m for m in ODDS_METHODS}
ALL_METHODS: tuple[MethodSpec, ...] = (
    *_ocsvm("raw"), *_ocsvm("hybrid"),
    # the same variants as the ODDS tables (semiad.deep_sad.odds), shared so that they cannot drift apart
    *(_ODDS_SPECS[label] for label in (
        "IF Raw", "IF Hybrid", "KDE Raw", "KDE Hybrid", "CAE", "Deep SVDD (one-class)",
        "Deep SVDD (soft-boundary, nu=0.01)", "Deep SVDD (soft-boundary, nu=0.1)", "SSAD Raw", "SSAD Hybrid",
        "SS-DGM (M2)", "SS-DGM (M1+M2)", "Deep SAD")),
    # The supervised classifier at odds.SUPERVISED_LR, as on ODDS: App. E's 1e-4 leaves it unfitted in
    # quick's ~160 Adam steps (training BCE 0.05-0.17 vs 0.006-0.08, MNIST AUC 68-84 vs the paper's 93-96).
    # App. E's reading runs beside it in no column (claims.scenario_supervised_lr, ``supervised_lr.csv``).
    _spec("Supervised Classifier", "supervised", lr=SUPERVISED_LR),
    MethodSpec(SUPERVISED_AS_WRITTEN, "supervised"),
)
#: Paper columns of Tables 3-5, in the paper's order.
TABLE_COLUMNS: tuple[str, ...] = ("OC-SVM Raw", "OC-SVM Hybrid", "IF Raw", "IF Hybrid", "KDE Raw",
                                  "KDE Hybrid", "CAE", "Deep SVDD", "SSAD Raw", "SSAD Hybrid", "SS-DGM",
                                  "Deep SAD", "Supervised Classifier")
#: The methods the main-text Figs. 2-4 plot ("methods which showed competitive performance", Sec. 4.1); the
#: Wilcoxon 1st-vs-2nd test of the figures is among these.
FIG_COLUMNS: tuple[str, ...] = ("OC-SVM Raw", "OC-SVM Hybrid", "Deep SVDD", "SSAD Raw", "SSAD Hybrid",
                                "Supervised Classifier", "Deep SAD")
#: Methods whose cells depend on the unlabeled data only (module docstring).
UNSUPERVISED = ("ocsvm", "iforest", "kde", "ae", "deep_svdd")
#: Methods that need at least one labeled anomaly (blank at gamma_l = 0 / k_l = 0 in Tables 3 and 5).
NEEDS_LABELS = ("ssdgm", "supervised")
SHALLOW = ("ocsvm", "ssad", "iforest", "kde")
#: The methods of Fig. 6 (Deep SAD vs. the hybrid SSAD baseline).
FIG6_METHODS = tuple(m for m in ALL_METHODS if m.label in ("Deep SAD", "SSAD Hybrid"))
#: Scenario -> (x-axis name, the reported table it is compared with).
SCENARIO_AXES = {"labeled": ("gamma_l", "deep_sad_table3"), "pollution": ("gamma_p", "deep_sad_table4"),
                 "known_classes": ("k_l", "deep_sad_table5")}


def methods_by_label(labels: Sequence[str] | None = None) -> tuple[MethodSpec, ...]:
    """The method specs whose label or table column is in ``labels`` (all when ``None``).

    Unknown names fail."""
    if labels is None:
        return ALL_METHODS
    known = {m.label for m in ALL_METHODS} | set(TABLE_COLUMNS)
    unknown = [x for x in labels if x not in known]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {sorted(known)}")
    return tuple(m for m in ALL_METHODS if m.label in labels or m.table_column in labels)


# ------------------------------------------------------------------------------------------ data
def _demo_split(dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Offline stand-in (``on_missing="demo"``): synthetic 'digits'
    (:func:`semiad.core.data.demo.make_demo_images`)."""
    from semiad.core.data.demo import make_demo_images

    images, labels = make_demo_images(3000 if split == "train" else 1000, seed=0 if split == "train" else 1)
    images = images[:, None]
    if dataset == "cifar10":  # 3 x 32 x 32, as the CIFAR-10 networks expect
        images = np.repeat(np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2))), 3, axis=1)
    return images, labels


@lru_cache(maxsize=6)
def load_arrays(dataset: str, split: str, data_dir: str | None, on_missing: str = "error"
                ) -> tuple[np.ndarray, np.ndarray, str]:
    """(uint8 (n, C, H, W) images, int64 labels, source ``"real"``/``"demo"``) of an official split."""
    from semiad.deep_sad.image_settings import load_image_split

    if dataset not in IMAGE_DATASETS:
        raise ValueError(f"unknown image dataset {dataset!r}; choose from {IMAGE_DATASETS}")
    check_on_missing(on_missing)
    try:
        images, labels = load_image_split(dataset, split, data_dir)
        return images, np.asarray(labels, np.int64), "real"
    except DataNotFoundError:
        if on_missing == "error":
            raise
        images, labels = _demo_split(dataset, split)
        return images, labels, "demo"


def dataset_sources(datasets: Sequence[str], data_dir=None, on_missing: str = "error") -> dict[str, str]:
    """Resolve every dataset up front (a missing file fails here, before any training, naming the fix)."""
    key = None if data_dir is None else str(data_dir)
    return {ds: load_arrays(ds, "train", key, on_missing)[2] for ds in datasets}


def normal_subsample(labels: np.ndarray, setting: ImageSetting, max_normal: int | None) -> np.ndarray:
    """Training rows kept for ``setting``: at most ``max_normal`` images of the normal class (a seeded draw
    that depends on (dataset, normal class, seed) only) and every anomaly image (the pools of Sec. 4.2)."""
    normal = np.flatnonzero(labels == setting.normal_class)
    if max_normal is not None and len(normal) > max_normal:
        rng = np.random.default_rng([int(setting.seed), zlib.crc32(setting.dataset.encode()),
                                     setting.normal_class, 0x6E6D])
        normal = np.sort(rng.choice(normal, max_normal, replace=False))
    return np.sort(np.concatenate([normal, np.flatnonzero(labels != setting.normal_class)]))


def test_subsample(labels: np.ndarray, max_test: int | None) -> np.ndarray:
    """A fixed class-stratified subsample of the test split (smoke profile only)."""
    if max_test is None or len(labels) <= max_test:
        return np.arange(len(labels))
    rng = np.random.default_rng(0x7465)
    keep = [rng.choice(np.flatnonzero(labels == c), max(1, round(max_test * np.mean(labels == c))),
                       replace=False) for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


@lru_cache(maxsize=1)
def _test_arrays(dataset: str, data_dir: str | None, on_missing: str, normal_class: int,
                 max_test: int | None) -> tuple[np.ndarray, np.ndarray]:
    images, labels, _ = load_arrays(dataset, "test", data_dir, on_missing)
    keep = test_subsample(labels, max_test)
    X = scale_images(images[keep]).reshape(len(keep), -1)
    return X, (labels[keep] != normal_class).astype(np.int64)


def setting_from_config(config: dict) -> ImageSetting:
    s = config["setting"]
    return ImageSetting(config["dataset"], int(s["normal_class"]), tuple(s["known_classes"]),
                        float(s["gamma_l"]), float(s["gamma_p"]), int(s["seed"]))


def make_split(config: dict, runtime: dict) -> SemiSupervisedSplit:
    """Build a cell's experiment from its config (the real or demo data, as its ``data_source`` says):
    flattened float32 images in [0, 1], the split contract of
    :func:`~semiad.deep_sad.selection.select_and_score` and the detectors."""
    data_dir, on_missing = runtime.get("data_dir"), runtime.get("on_missing", "error")
    images, labels, source = load_arrays(config["dataset"], "train", data_dir, on_missing)
    check_data_source(config["dataset"], config["data_source"], source)
    setting = setting_from_config(config)
    rows = normal_subsample(labels, setting, config["sizes"]["max_normal"])
    idx = draw_setting_indices(labels[rows], setting)
    train_rows = rows[idx.train_index]
    X_train = scale_images(images[train_rows]).reshape(len(train_rows), -1)
    X_test, y_test = _test_arrays(config["dataset"], data_dir, on_missing, setting.normal_class,
                                  config["sizes"]["max_test"])
    return SemiSupervisedSplit(X_train, idx.y_semi, idx.y_true, X_test, y_test)


def _schedule(train: dict) -> TrainSchedule:
    return TrainSchedule(n_epochs=train["n_epochs"], lr=train["lr"],
                         lr_milestones=tuple(train["lr_milestones"]), batch_size=train["batch_size"],
                         weight_decay=train["weight_decay"], drop_last=bool(train.get("drop_last", False)))


def _init(config: dict) -> str:
    """Weight init of a cell (cells without a ``net`` entry: App. E's Glorot)."""
    return config.get("net", {}).get("init", "glorot")


# ------------------------------------------------------------------------------------------ tasks
@cell_task(AE_TASK)
def pretrain_autoencoder_cell(config: dict, runtime: dict) -> dict:
    """App. C: the LeNet CAE trained on the experiment's unlabeled data (weights saved as an artifact)."""
    path = ResultCache(runtime.get("cache_root")).artifact_path(config)
    split = make_split(config, runtime)
    X = torch.as_tensor(split.X_train[split.y_semi != KNOWN_ANOMALY])
    device = _device(runtime)
    ae, history = train_autoencoder(X.to(device), (), config["arch"]["rep_dim"], _schedule(config["train"]),
                                    output_sigmoid=True, seed=config["setting"]["seed"],
                                    image_arch=config["dataset"], init=_init(config))
    buf = io.BytesIO()
    torch.save({k: v.cpu() for k, v in ae.state_dict().items()}, buf)
    atomic_write_bytes(path, buf.getvalue())
    return {"metrics": {"final_loss": history[-1] if history else float("nan")},
            "info": {"artifact": str(path), "loss_history": history, "n_train": len(X)}}


def _device(runtime: dict) -> str:
    from semiad.core.device import resolve_device

    return str(resolve_device(runtime.get("device", "auto")))


def load_pretrained_state(ae_config: dict, runtime: dict) -> dict:
    """Weights of the cached autoencoder cell (computed first when missing)."""
    path = ResultCache(runtime.get("cache_root")).artifact_path(ae_config)
    if not path.is_file():
        pretrain_autoencoder_cell(ae_config, runtime)
    return torch.load(path, map_location="cpu", weights_only=True)


def cached_autoencoder(ae_config: dict, runtime: dict) -> torch.nn.Module:
    arch = get_arch(ae_config["dataset"])
    n_features = int(np.prod(arch.in_shape))
    ae = build_autoencoder(n_features, (), ae_config["arch"]["rep_dim"], True, ae_config["dataset"])
    ae.load_state_dict(load_pretrained_state(ae_config, runtime))
    return ae.eval()


@torch.no_grad()
def _encode(ae: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    return predict_batched(ae.encoder, torch.as_tensor(X)).numpy().astype(np.float32)


@torch.no_grad()
def _reconstruction_error(ae: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    Xt = torch.as_tensor(X)
    return torch.mean((predict_batched(ae, Xt) - Xt) ** 2, dim=1).numpy()


@cell_task(CELL_TASK)
def image_cell(config: dict, runtime: dict) -> dict:
    """One method on one experiment: fit on the training set, AUC on the (full) test split."""
    split = make_split(config, runtime)
    method, params, seed = config["method"], dict(config["params"]), int(config["setting"]["seed"])
    info = {"n_train": len(split.y_semi), "n_labeled_anomalies": split.n_labeled_anomalies,
            "n_pollution": split.n_pollution,
            "n_test": len(split.y_test)}
    if method in NEEDS_LABELS and split.n_labeled_anomalies == 0:
        raise ValueError(f"{method} needs labeled anomalies; this experiment has none")
    if method in SHALLOW:
        if params.pop("features", "raw") == "hybrid":
            ae = cached_autoencoder(config["ae"], runtime)
            split = replace(split, X_train=_encode(ae, split.X_train), X_test=_encode(ae, split.X_test))
        out = score_shallow(method, params, seed, config.get("max_train_samples"), split)
        out["info"].update(info)
        return out
    if method == "ae":  # CAE baseline: the MSE reconstruction error of the cached autoencoder (App. E)
        ae = cached_autoencoder(config["ae"], runtime)
        return {"metrics": {"auc": auc(split.y_test, _reconstruction_error(ae, split.X_test))}, "info": info}
    train = config["train"]
    for key in TRAIN_OVERRIDES:  # carried into ``train`` by cells_for
        params.pop(key, None)
    shared = {"n_epochs": train["n_epochs"], "lr": train["lr"],
              "lr_milestones": tuple(train["lr_milestones"]),
              "batch_size": train["batch_size"], "weight_decay": train["weight_decay"],
              "device": runtime.get("device", "auto"), "random_state": seed}
    if method == "ssdgm":  # an MLP on the pixels (see SSDGM_HIDDEN)
        shared.update(hidden_dims=SSDGM_HIDDEN, rep_dim=SSDGM_LATENT)
    else:
        shared.update(hidden_dims=(), rep_dim=config["arch"]["rep_dim"], image_arch=config["dataset"])
    if method in HYPERSPHERE:  # leaky_slope from hypersphere_params acts on MLPs only (LeNets keep 0.1)
        shared.update(output_sigmoid=True,
                      **hypersphere_params(config, lambda: load_pretrained_state(config["ae"], runtime)))
    det = make_detector(method, **params, **shared).fit(split.X_train, split.y_semi)
    scores = det.decision_function(split.X_test)
    if np.ptp(scores) == 0:
        raise FloatingPointError(f"{method} returned constant scores on the test set")
    if getattr(det, "history_", None):
        info["final_loss"] = det.history_[-1]
    return {"metrics": {"auc": auc(split.y_test, scores)}, "info": info}


# ------------------------------------------------------------------------------------------ grid
def experiments(dataset: str, scenario: str, profile: str | ImageConfig = "quick",
                values: Sequence[float] | None = None) -> list[ImageSetting]:
    """The experiments of one curve (``scenario`` of :func:`~semiad.deep_sad.image_settings.scenario_grid`;
    ``"sensitivity"`` = the Sec. 4.3 defaults) of an :class:`ImageConfig` (or a profile's)."""
    grid = image_config(profile)
    if scenario != "sensitivity" and values is None:
        values = grid.values(scenario)
    if scenario == "known_classes":
        return [s for seed in grid.iii_seeds for s in
                scenario_grid(dataset, scenario, values, grid.normal_classes, n_seeds=1, base_seed=seed)]
    out = []
    for normal in grid.normal_classes:
        # the first n_known classes of the seeded draw of scenario (iii): with n_known = 1 the (i)/(ii)
        # experiments coincide with (iii)'s k_l = 1 ones (as Tables 4 and 5 do), with 9 it is all of them.
        known = known_classes_draw(dataset, normal, 0, grid.n_known)
        for seed in grid.seeds:
            out += scenario_grid(dataset, scenario, values, (normal,), n_seeds=1, base_seed=seed,
                                 known_classes=known)
    return out


def _setting_dict(setting: ImageSetting, unlabeled_only: bool) -> dict:
    if unlabeled_only:  # the unlabeled data depend on (normal class, gamma_p, seed) only (image_settings)
        return {"normal_class": setting.normal_class, "known_classes": [], "gamma_l": 0.0,
                "gamma_p": float(setting.gamma_p), "seed": int(setting.seed)}
    return {"normal_class": setting.normal_class, "known_classes": sorted(setting.known_classes),
            "gamma_l": float(setting.gamma_l), "gamma_p": float(setting.gamma_p), "seed": int(setting.seed)}


def _train_dict(n_epochs: int, milestone: int) -> dict:
    """App. E schedule of the baselines the training protocol does not cover (supervised, SS-DGM)."""
    return {"n_epochs": int(n_epochs), "lr": 1e-4, "lr_milestones": [int(milestone)], "batch_size": 200,
            "weight_decay": 1e-6}


def cells_for(setting: ImageSetting, methods: Sequence[MethodSpec], profile: str | ImageConfig,
              data_source: str = "real",
              rep_dim: int | None = None, eta: float | None = None,
              training: TrainingProtocol | str = DEFAULT) -> tuple[dict, list[tuple[MethodSpec, dict]]]:
    """(autoencoder cell, [(method, cell)]) of one experiment; methods needing labels are skipped when the
    experiment has none; sizes from ``profile`` (an :class:`ImageConfig` or a profile name). ``rep_dim``
    (Fig. 6) and ``eta`` (Fig. 5, Deep SAD only) override the defaults.
    ``training``: the :class:`~semiad.core.detectors.protocol.TrainingProtocol` of the CAE, Deep SAD and
    Deep SVDD
    (its MLP-only fields, ``leaky_slope`` and ``minmax_scaling``, do not act on images: the LeNets keep
    App. D's slope 0.1 and the images are in [0, 1] already)."""
    training = protocol_named(training)
    grid = image_config(profile)
    rep = DEFAULT_REP_DIM[setting.dataset] if rep_dim is None else int(rep_dim)
    base = {"dataset": setting.dataset, "data_source": data_source,
            "sizes": {"max_normal": grid.max_normal, "max_test": grid.max_test},
            "arch": {"rep_dim": rep}}
    ae = {"task": AE_TASK, **base, "setting": _setting_dict(setting, True),
          "train": training.schedule("ae", grid.ae_epochs, [grid.milestone]),
          "net": {"init": training.init}}
    cells = []
    for spec in methods:
        labeled = setting.gamma_l > 0 and setting.k_l > 0  # k_l = 0: no class to draw labeled anomalies from
        if spec.method in NEEDS_LABELS and not labeled:
            continue
        params = dict(spec.params)
        if eta is not None and spec.method == "deep_sad":
            params["eta"] = float(eta)
        # without labeled anomalies a semi-supervised method sees the unlabeled data only, too
        unlabeled_only = spec.method in UNSUPERVISED or not labeled
        cell = {"task": CELL_TASK, **base, "setting": _setting_dict(setting, unlabeled_only),
                "method": spec.method, "params": params}
        if spec.method in SHALLOW:
            if spec.method != "iforest":  # IF subsamples psi = 256 rows by design
                cell["max_train_samples"] = {"ssad": grid.ssad_max_train, "kde": grid.kde_max_train}.get(
                    spec.method, grid.shallow_max_train)
        elif spec.method in HYPERSPHERE:
            cell.update(train=training.schedule("hypersphere", grid.epochs, [grid.milestone]),
                        net={"init": training.init}, hypersphere=training.hypersphere())
        else:
            cell["train"] = with_train_overrides(_train_dict(grid.epochs, grid.milestone), params)
        if _uses_autoencoder(spec.method, params, training):
            cell["ae"] = ae
        cells.append((spec, cell))
    return ae, cells


def build_grid(settings: Sequence[ImageSetting], methods: Sequence[MethodSpec], profile: str | ImageConfig,
               sources: dict[str, str], rep_dims: Sequence[int | None] = (None,),
               etas: Sequence[float | None] = (None,),
               training: TrainingProtocol | str = DEFAULT) -> tuple[list[dict], list[dict]]:
    """(autoencoder cells, rows) where each row is ``{"setting", "spec", "rep_dim", "eta", "cell"}``."""
    ae_cells, rows = [], []
    for setting in settings:
        for rep in rep_dims:
            for eta in etas:
                ae, cells = cells_for(setting, methods, profile, sources[setting.dataset], rep, eta, training)
                if any("ae" in c for _, c in cells):
                    ae_cells.append(ae)
                rows += [{"setting": setting, "spec": spec, "rep_dim": rep, "eta": eta, "cell": c}
                         for spec, c in cells]
    return ae_cells, rows


def _cost(cell: dict) -> float:
    """Rough relative cost for longest-first scheduling (F-MNIST nets are ~2x MNIST's, CIFAR-10 ~6x)."""
    scale = {"mnist": 1.0, "fashion_mnist": 2.0, "cifar10": 6.0}.get(cell["dataset"], 1.0)
    method = cell.get("method", "ae")
    base = {"ae": 3.0, "ssad": 2.0, "ocsvm": 1.0, "kde": 0.5, "iforest": 0.2}.get(method, 1.0)
    return scale * base * (1.0 if method in SHALLOW else cell.get("train", {"n_epochs": 1})["n_epochs"])


def run_image_grid(settings: Sequence[ImageSetting], methods: Sequence[MethodSpec] = ALL_METHODS,
                   profile: str | ImageConfig = "quick", *, rep_dims: Sequence[int | None] = (None,),
                   etas: Sequence[float | None] = (None,), n_jobs: int = 1, backend: str = "loky",
                   device: str = "auto", data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                   cache_root: str | None = None, progress: bool = True,
                   scenario: str = "custom", engine: str = "auto", max_stack: int = 16,
                   training: TrainingProtocol | str = DEFAULT) -> pd.DataFrame:
    """Run (or read from the cache) ``methods`` on ``settings``; tidy results (:func:`results_frame`), with a
    ``training_protocol`` column naming ``training`` (:mod:`semiad.core.detectors.protocol`).

    ``engine``: ``"cells"`` trains one model per cell (joblib workers); ``"stacked"`` trains the Deep SAD and
    one-class Deep SVDD cells up to ``max_stack`` at a time as one stacked LeNet (:func:`run_stacked`, for
    GPUs, where one small model leaves the device idle); ``"auto"``: stacked on CUDA, cells elsewhere
    (on CPU stacking measured no faster, ``benchmarks/stacked_deep_sad.py``). Both give the same numbers.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not settings:
        raise ValueError("no experiments given")
    for e in etas:
        if e is not None and not e > 0:
            raise ValueError(f"eta must be > 0, got {e}")
    for d in rep_dims:
        if d is not None and (int(d) < 16 or int(d) % 16):
            raise ValueError("rep_dim must be a multiple of 16 (the LeNet decoders reshape d into "
                             f"d/16 maps of 4x4), got {d}")
    datasets = sorted({s.dataset for s in settings})
    sources = dataset_sources(datasets, data_dir, on_missing)
    training = protocol_named(training)
    ae_cells, rows = build_grid(settings, methods, profile, sources, rep_dims, etas, training)
    runtime = {"data_dir": None if data_dir is None else str(data_dir), "device": device,
               "on_missing": on_missing, "cache_root": cache_root}
    run_grid(pretrain_autoencoder_cell, ae_cells, n_jobs=n_jobs, backend=backend, runtime=runtime,
             cache_root=cache_root,
             progress=progress, desc="autoencoders", priority=lambda c: -_cost(c))
    if engine == "stacked" or (engine == "auto" and _device(runtime).startswith("cuda")):
        run_stacked([r["cell"] for r in rows], runtime, cache_root, max_stack, progress)
    records = run_grid(image_cell, [r["cell"] for r in rows], n_jobs=n_jobs, backend=backend, runtime=runtime,
                       cache_root=cache_root, progress=progress, desc="image cells",
                       priority=lambda c: -_cost(c))
    return results_frame(rows, records, scenario).assign(training_protocol=training.name)


ENGINES = ("auto", "cells", "stacked")


def stack_objective(cell: dict) -> str | None:
    """The :func:`~semiad.deep_sad.stacked_training.fit_stacked_deep_sad` objective of a cell, or ``None``
    when the cell is not stackable (only Deep SAD and one-class Deep SVDD are)."""
    if cell.get("task") != CELL_TASK:
        return None
    if not cell.get("hypersphere", {}).get("transfer_pretrained", True):
        return None  # the stacked engine starts from the cached AEs; fresh-weight cells run one by one
    if cell["method"] == "deep_sad":
        return "deep-sad"
    if cell["method"] == "deep_svdd" and cell["params"].get("objective") == "one-class":
        return "one-class"
    return None


def _train_sizes(cell: dict, runtime: dict) -> tuple[int, int]:
    """(training rows, non-anomalous rows) of a cell's experiment, from the labels alone (no pixels)."""
    _, labels, _ = load_arrays(cell["dataset"], "train", runtime.get("data_dir"),
                               runtime.get("on_missing", "error"))
    setting = setting_from_config(cell)
    rows = normal_subsample(labels, setting, cell["sizes"]["max_normal"])
    idx = draw_setting_indices(labels[rows], setting)
    return len(idx.y_semi), int(np.sum(idx.y_semi != KNOWN_ANOMALY))


def run_stacked(cells: Sequence[dict], runtime: dict, cache_root: str | None = None, max_stack: int = 16,
                progress: bool = True) -> int:
    """Compute the stackable cells that are not cached yet, up to ``max_stack`` experiments per stacked model.

    Cells are grouped by everything but their experiment (dataset, method, parameters, schedule, d, sizes)
    and by equal training-set sizes (a stacked step takes one batch from each of the K experiments); each
    group starts from the K cached autoencoders. Every cell's record is stored under its own config hash,
    exactly as :func:`~semiad.core.grid.run_cell` would store it: on CPU the stacked fit equals the
    single fit to the bit (``tests/deep_sad/test_stacked_training.py``); on CUDA to float round-off.
    Returns the number of cells computed.
    """
    from semiad.deep_sad.stacked_training import fit_stacked_deep_sad

    cache = ResultCache(cache_root)
    runtime = {**runtime, "cache_root": cache_root}
    todo = {config_hash(c): c for c in cells if stack_objective(c) and cache.get(c) is None}
    groups: dict[tuple, list[dict]] = {}
    for cell in todo.values():
        shared = {k: cell[k] for k in ("dataset", "data_source", "method", "params", "train", "arch",
                                       "sizes")}
        groups.setdefault((json.dumps(shared, sort_keys=True), *_train_sizes(cell, runtime)), []).append(cell)
    done = 0
    for members in groups.values():
        for start in range(0, len(members), max_stack):
            chunk = members[start:start + max_stack]
            t0 = time.perf_counter()
            splits = [make_split(c, runtime) for c in chunk]
            first = chunk[0]
            try:
                fit = fit_stacked_deep_sad(
                    [s.X_train for s in splits], [s.y_semi for s in splits], first["dataset"],
                    first["arch"]["rep_dim"], schedule=_schedule(first["train"]),
                    seeds=[c["setting"]["seed"] for c in chunk],
                    eta=float(first["params"].get("eta", 1.0)),
                    objective=stack_objective(first), device=_device(runtime),
                    center_includes_labeled=bool(first.get("hypersphere", {}).get("center_includes_labeled")),
                    pretrained=[load_pretrained_state(c["ae"], runtime) for c in chunk])
                scores = fit.score(splits[0].X_test)  # the test images are the same for every experiment
                outcome = [{"status": "ok", "metrics": {"auc": auc(s.y_test, scores[k])},
                            "info": {"final_loss": fit.histories[k][-1], "engine": "stacked",
                                     "stack_size": len(chunk), "n_train": len(s.y_semi),
                                     "n_labeled_anomalies": s.n_labeled_anomalies}}
                           for k, s in enumerate(splits)]
            except Exception as exc:  # noqa: BLE001 - recorded like run_cell does
                outcome = [{"status": "failed", "error": f"{type(exc).__name__}: {exc}"}] * len(chunk)
            seconds = (time.perf_counter() - t0) / len(chunk)
            for cell, out in zip(chunk, outcome, strict=True):
                cache.put(cell_record(cell, out, seconds))
            done += len(chunk)
            if progress:
                print(f"[semiad] stacked {len(chunk)} {first['method']} cells: {seconds * len(chunk):.1f} s")
    return done


def run_scenario(scenario: str, profile: str | ImageConfig = "quick", *,
                 datasets: Sequence[str] | None = None, methods: Sequence[MethodSpec] = ALL_METHODS,
                 values: Sequence[float] | None = None, **kwargs) -> pd.DataFrame:
    """Scenario (i) ``"labeled"``, (ii) ``"pollution"`` or (iii) ``"known_classes"``.

    Figs. 2-4 and Tables 3-5; tidy results as :func:`results_frame`."""
    if scenario not in SCENARIO_AXES:
        raise ValueError(f"scenario must be one of {sorted(SCENARIO_AXES)}, got {scenario!r}")
    datasets = _datasets(profile, datasets)
    settings = [s for ds in datasets for s in experiments(ds, scenario, profile, values)]
    return run_image_grid(settings, methods, profile, scenario=scenario, **kwargs)


def run_sensitivity(kind: str, profile: str | ImageConfig = "quick", *, datasets: Sequence[str] | None = None,
                    values: Sequence[float] | None = None, methods: Sequence[MethodSpec] | None = None,
                    **kwargs) -> pd.DataFrame:
    """Sec. 4.3: ``kind="eta"`` (Fig. 5, Deep SAD) or ``"rep_dim"`` (Fig. 6, Deep SAD vs. SSAD hybrid) at the
    defaults gamma_l = .05, gamma_p = .1, k_l = 1."""
    if kind not in ("eta", "rep_dim"):
        raise ValueError(f"kind must be 'eta' or 'rep_dim', got {kind!r}")
    datasets = _datasets(profile, datasets)
    if values is None:
        values = image_config(profile).values(kind)
    settings = [s for ds in datasets for s in experiments(ds, "sensitivity", profile)]
    if kind == "eta":
        methods = methods_by_label(["Deep SAD"]) if methods is None else methods
        return run_image_grid(settings, methods, profile, etas=tuple(values), scenario="eta", **kwargs)
    methods = FIG6_METHODS if methods is None else methods
    return run_image_grid(settings, methods, profile, rep_dims=tuple(values), scenario="rep_dim", **kwargs)


def _datasets(profile: str | ImageConfig, datasets: Sequence[str] | None) -> tuple[str, ...]:
    datasets = tuple(image_config(profile).datasets if datasets is None else datasets)
    unknown = [d for d in datasets if d not in IMAGE_DATASETS]
    if unknown:
        raise ValueError(f"unknown image dataset(s) {unknown}; choose from {IMAGE_DATASETS}")
    return datasets


# ------------------------------------------------------------------------------------------ results
def _point(setting: ImageSetting, scenario: str, rep_dim, eta) -> float:
    if scenario == "labeled":
        return setting.gamma_l
    if scenario == "pollution":
        return setting.gamma_p
    if scenario == "known_classes":
        return setting.k_l
    if scenario == "eta":
        return float(eta)
    if scenario == "rep_dim":
        return float(rep_dim)
    return float("nan")


def results_frame(rows: Sequence[dict], records: Sequence[dict], scenario: str) -> pd.DataFrame:
    """Tidy results: one row per (experiment, method variant, metric) with the curve point ``x``.

    Columns: method (variant label), table_column (paper column), dataset, scenario, x (gamma_l / gamma_p /
    k_l / eta / d), setting (readable), experiment (the training set's identity), normal_class,
    known_classes, seed, metric, value, plus status, data_source, runtime_s, cell, error.
    """
    out = []
    xname = {"labeled": "gamma_l", "pollution": "gamma_p", "known_classes": "k_l"}.get(scenario, scenario)
    for row, rec in zip(rows, records, strict=True):
        s, spec = row["setting"], row["spec"]
        x = _point(s, scenario, row["rep_dim"], row["eta"])
        base = {"method": spec.label, "table_column": spec.table_column, "dataset": s.dataset,
                "scenario": scenario, "x": x, "setting": f"{xname}={x:g}", "experiment": s.data_key,
                "normal_class": s.normal_class, "known_classes": "".join(map(str, s.known_classes)) or "-",
                "seed": s.seed, "status": rec["status"], "data_source": rec["config"]["data_source"],
                "runtime_s": rec.get("runtime_s"), "cell": rec["hash"], "error": rec.get("error", "")}
        if rec["status"] == "ok":
            out += [{**base, "metric": k, "value": v} for k, v in rec["metrics"].items()]
            if spec.method in LOSS_REPORTED and "final_loss" in rec.get("info", {}):
                out.append({**base, "metric": "final_loss", "value": rec["info"]["final_loss"]})
        else:
            out.append({**base, "metric": "auc", "value": np.nan})
    return pd.DataFrame(out)


def best_variants(results: pd.DataFrame) -> pd.DataFrame:
    """App. E "we always report the better/best final result": per (dataset, x, paper column) the variant
    with the highest mean AUC; returns the AUC rows of the chosen variants (``chosen_variant`` added)."""
    auc_rows = results[results["metric"] == "auc"]
    means = auc_rows.groupby(["dataset", "x", "table_column", "method"])["value"].mean().reset_index()
    means = means.sort_values("value", ascending=False, na_position="last")
    best = means.drop_duplicates(["dataset", "x", "table_column"])[["dataset", "x", "table_column", "method"]]
    chosen = auc_rows.merge(best, on=["dataset", "x", "table_column", "method"])
    return chosen.assign(chosen_variant=chosen["method"], method=chosen["table_column"])


def point_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of the AUC (%) per (dataset, x, paper column) over the experiments, best variant each."""
    chosen = best_variants(results)
    g = chosen.groupby(["dataset", "x", "method"])
    out = g["value"].agg(["mean", "std", "count"]).reset_index()
    out[["mean", "std"]] *= 100
    out["chosen_variant"] = g["chosen_variant"].first().values
    return out


def wilcoxon_first_second(results: pd.DataFrame, columns: Sequence[str] | None = None,
                          alpha: float = 0.05) -> pd.DataFrame:
    """Per (dataset, x): the best and second-best paper column by mean AUC, and the two-sided Wilcoxon
    signed-rank test of their paired per-experiment AUCs (Figs. 2-5 mark p < alpha with a star)."""
    from scipy.stats import wilcoxon

    chosen = best_variants(results)
    if columns is not None:
        chosen = chosen[chosen["method"].isin(columns)]
    rows = []
    for (ds, x), grp in chosen.groupby(["dataset", "x"]):
        wide = grp.pivot_table(index="experiment", columns="method", values="value")
        order = wide.mean().sort_values(ascending=False)
        if len(order) < 2:
            continue
        first, second = order.index[:2]
        pair = wide[[first, second]].dropna()
        diff = pair[first] - pair[second]
        if len(pair) >= 2 and np.any(diff != 0):
            p = float(wilcoxon(pair[first], pair[second]).pvalue)
        else:
            p = float("nan")
        rows.append({"dataset": ds, "x": x, "first": first, "second": second,
                     "first_mean": 100 * order.iloc[0], "second_mean": 100 * order.iloc[1],
                     "n_pairs": len(pair), "p_value": p, "significant": bool(p < alpha) if p == p else False})
    return pd.DataFrame(rows)


def paper_comparison(results: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Paper (Tables 3-5, ``data/reported``) vs. ours per cell: dataset, x, method, paper/ours mean and std,
    delta, whether ours lies within the paper's std, and how many experiments ours averages over."""
    from semiad.core.reported import load_reported

    xname, table = SCENARIO_AXES[scenario]
    paper = load_reported(table).rename(columns={xname: "x", "mean": "paper_mean", "std": "paper_std"})
    ours = point_summary(results).rename(columns={"mean": "ours_mean", "std": "ours_std",
                                                  "count": "n_experiments"})
    paper["x"] = paper["x"].astype(float)
    ours["x"] = ours["x"].astype(float)
    table = paper.merge(ours, on=["dataset", "x", "method"], how="inner")
    table["delta"] = table["ours_mean"] - table["paper_mean"]
    table["within_paper_std"] = table["delta"].abs() <= table["paper_std"]
    table.insert(1, xname, table.pop("x"))
    return table


def subsample_effect_settings(dataset: str = "mnist", normal_class: int = 0) -> list[ImageSetting]:
    """The experiment on which :func:`subsample_effect` compares training-row caps (Sec. 4.3 defaults)."""
    known = known_classes_draw(dataset, normal_class, 0, 1)
    return [ImageSetting(dataset, normal_class, known, DEFAULT_GAMMA_L, DEFAULT_GAMMA_P, 0, "sensitivity")]


#: The shallow raw methods whose training rows are capped (module docstring).
CAPPED_RAW = ("OC-SVM Raw", "KDE Raw", "SSAD Raw")


def run_subsample_effect(caps: Sequence[int], profile: str | ImageConfig = "quick", *, dataset: str = "mnist",
                         normal_class: int = 0, **kwargs) -> pd.DataFrame:
    """AUC of OC-SVM / KDE / SSAD raw on one experiment (Sec. 4.3 defaults) when fit on at most ``cap``
    training rows, for each ``cap`` — what the documented subsample of the profiles costs. Adds a ``cap``
    column; the rest as :func:`results_frame` (scenario ``"subsample"``, x = cap)."""
    if not caps or any(int(c) < 10 for c in caps):
        raise ValueError(f"caps must be integers >= 10, got {caps}")
    settings = subsample_effect_settings(dataset, normal_class)
    sources = dataset_sources([dataset], kwargs.get("data_dir"), kwargs.get("on_missing", "error"))
    frames = []
    for cap in caps:
        _, rows = build_grid(settings, methods_by_label(CAPPED_RAW), profile, sources)
        for r in rows:
            r["cell"]["max_train_samples"] = int(cap)
        runtime = {"data_dir": None if kwargs.get("data_dir") is None else str(kwargs["data_dir"]),
                   "device": kwargs.get("device", "auto"), "on_missing": kwargs.get("on_missing", "error"),
                   "cache_root": kwargs.get("cache_root")}
        records = run_grid(image_cell, [r["cell"] for r in rows], n_jobs=kwargs.get("n_jobs", 1),
                           backend=kwargs.get("backend", "loky"), runtime=runtime,
                           cache_root=kwargs.get("cache_root"), progress=kwargs.get("progress", True),
                           desc=f"cap {cap}")
        frames.append(results_frame(rows, records, "subsample").assign(cap=int(cap), x=float(cap),
                                                                         setting=f"cap={int(cap)}"))
    return pd.concat(frames, ignore_index=True)
