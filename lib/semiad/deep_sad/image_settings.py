"""Semi-supervised AD settings on MNIST, F-MNIST and CIFAR-10 (Deep SAD, Ruff et al., ICLR 2020, Sec. 4.2).

Setup (Sec. 4.2, "Semi-supervised anomaly detection setup"): in each of the ten AD setups of a dataset
one class is normal and the other nine are anomalies. The *original training data of the normal class*
is the unlabeled part of the training set; the training data of the nine anomaly classes is the pool
from which anomalies are drawn. Testing uses the *original test split of all ten classes* with ground
truth normal class vs. the nine others, scored by AUC. "We rescale pixels to [0, 1] via min-max
feature scaling as the only data pre-processing step" — the pixel range [0, 255] is mapped to [0, 1]
(``x / 255``, what the authors' ``transforms.ToTensor()`` does); in particular *no* global contrast
normalisation (that was the Deep SVDD paper's pre-processing, not Deep SAD's).

Ratios, exactly as the paper defines them. With ``n`` unlabeled and ``m`` labeled training samples:

* ``gamma_l = m / (n + m)`` ("ratio of labeled training data", Sec. 4.2 (i)); all labeled samples are
  anomalies (the image scenarios label no normal data, so ``y_semi = +1`` never occurs here);
* ``gamma_p`` = share of anomalies in the *unlabeled* data ("pollution ratio of the unlabeled training
  data", Fig. 3): ``p / n`` with ``n = n_normal + p``.

Every normal training image stays in the set, so ``p = n_normal * gamma_p / (1 - gamma_p)`` and
``m = n * gamma_l / (1 - gamma_l)``; both are rounded to the nearest integer (Python's ``round``, the
same rule as :func:`semiad.core.data.splits.semisupervised_counts` for the tabular data), which makes the
realised ratios the closest achievable ones: ``|p/n - gamma_p| <= 1/(2n)`` and
``|m/(n+m) - gamma_l| <= 1/(2(n+m))`` up to the other count's rounding. ``rounding="floor"``
reproduces the authors' code (``int()`` of the solution of the same linear system).

Draws (two explicit ``np.random.Generator`` s seeded from the setting): polluting anomalies are the first
``p`` of a permutation of all nine anomaly classes' training images, drawn by
:meth:`ImageSetting.pollution_rng` (seeded by seed, dataset and normal class only); labeled anomalies are
the first ``m`` of a permutation of the pooled training images of the ``k_l`` known classes (uniform over
the pool, as in the authors' code, so classes are not balanced), drawn by :meth:`ImageSetting.rng`,
*after removing the polluting ones* — labeled and polluting anomalies are disjoint (the authors' code
draws both independently, so they can overlap; we do not). Both permutations are drawn before the counts
are used, so for a fixed seed the polluting sets are nested across gamma_p (a prefix of one permutation)
and the labeled sets across gamma_l — a common-random-numbers design for the curves. Because the
pollution does not depend on the known classes, **the unlabeled training data of an experiment depend
only on (dataset, normal class, gamma_p, seed)**: every known-class choice and every k_l of scenarios
(ii)/(iii) share them, so the comparison across k_l is paired and every unsupervised model (and the
pre-training autoencoder) is trained once per unlabeled set (:mod:`semiad.deep_sad.images`).
At gamma_p = 0 the labeled draw is the first ``m`` of the known-class permutation.

Scenarios (Sec. 4.2) and the experiment grid of Tables 3-5 / Figs. 2-4 are enumerated by
:func:`scenario_grid`: (i) gamma_l in {0, .01, .05, .1, .2}, k_l = 1, gamma_p = 0, over 10 normal x 9
known classes = 90 experiments per point; (ii) gamma_p in {0, .01, .05, .1, .2}, gamma_l = .05, k_l = 1,
90 per point; (iii) k_l in {0, 1, 2, 3, 5}, gamma_l = .05, gamma_p = .1, ten seeds per normal class = 100
per point, the k_l classes "drawn uniformly at random from the nine respective anomaly classes" per seed.
Sec. 4.3 (eta and rep-dim sensitivity) uses the defaults gamma_l = .05, gamma_p = .1, k_l = 1 over the 90
(normal, known class) pairs (``scenario="sensitivity"``).
Note from the tables: Table 3's gamma_l = .05 row equals Table 4's gamma_p = 0 row and Table 5's
k_l = 1 row equals Table 4's gamma_p = .1 row (both to the digit), i.e. the paper reused those runs;
:func:`unique_settings` de-duplicates the identical settings of our grid accordingly.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED

IMAGE_DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist", "cifar10")
N_CLASSES = 10
CLASSES: tuple[int, ...] = tuple(range(N_CLASSES))
#: x-axis values of Figs. 2-4 / Tables 3-5.
SCENARIO_VALUES: dict[str, tuple[float, ...]] = {
    "labeled": (0.0, 0.01, 0.05, 0.10, 0.20),      # (i) gamma_l
    "pollution": (0.0, 0.01, 0.05, 0.10, 0.20),    # (ii) gamma_p
    "known_classes": (0, 1, 2, 3, 5),              # (iii) k_l
}
SCENARIOS: tuple[str, ...] = ("labeled", "pollution", "known_classes", "sensitivity")
#: Sec. 4.3 defaults ("we set the experimental parameters to their default").
DEFAULT_GAMMA_L, DEFAULT_GAMMA_P, DEFAULT_K_L = 0.05, 0.10, 1
#: "over 90 experiments per labeled ratio" (i), "90 experiments per pollution ratio" (ii),
#: "100 experiments per number k_l" (iii), "90 experiments" per eta (Fig. 5).
EXPERIMENTS_PER_POINT: dict[str, int] = {"labeled": 90, "pollution": 90, "known_classes": 100,
                                         "sensitivity": 90}
#: Seeds per (normal class, known class) in (i), (ii), sensitivity; per normal class in (iii).
DEFAULT_SEEDS: dict[str, int] = {"labeled": 1, "pollution": 1, "known_classes": 10, "sensitivity": 1}
ROUNDINGS: tuple[str, ...] = ("nearest", "floor")
#: Tag of the pollution draw's seed sequence (keeps it apart from the other seeded streams).
POLLUTION_STREAM = 0x706F6C


def _check_ratio(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")


@dataclass(frozen=True)
class ImageSetting:
    """One training-set configuration of Sec. 4.2 (the metadata of an experiment).

    ``scenario`` / ``value`` only say which curve point the setting belongs to; two settings with equal
    :attr:`data_key` have identical training sets (see :func:`unique_settings`).
    """

    dataset: str
    normal_class: int
    known_classes: tuple[int, ...]
    gamma_l: float
    gamma_p: float
    seed: int = 0
    scenario: str = "custom"
    value: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "known_classes", tuple(int(c) for c in self.known_classes))
        if self.normal_class not in CLASSES:
            raise ValueError(f"normal_class must be in 0..9, got {self.normal_class!r}")
        known = self.known_classes
        if len(set(known)) != len(known) or any(c not in CLASSES or c == self.normal_class for c in known):
            raise ValueError(f"known_classes {known} must be distinct anomaly classes (0..9 without "
                             f"the normal class {self.normal_class})")
        _check_ratio("gamma_l", self.gamma_l)
        _check_ratio("gamma_p", self.gamma_p)
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")

    @property
    def k_l(self) -> int:
        """Number of known (labeled) anomaly classes."""
        return len(self.known_classes)

    @property
    def anomaly_classes(self) -> tuple[int, ...]:
        return tuple(c for c in CLASSES if c != self.normal_class)

    @property
    def data_key(self) -> str:
        """Identity of the training set (independent of ``scenario``/``value``), for caching/dedup."""
        known = "".join(map(str, sorted(self.known_classes))) or "-"
        return (f"{self.dataset}-n{self.normal_class}-k{known}-gl{self.gamma_l:.4f}-gp{self.gamma_p:.4f}"
                f"-s{self.seed}")

    def seed_sequence(self) -> np.random.SeedSequence:
        """Entropy for this setting's draws: (seed, dataset, normal class, known classes) — not the ratios,
        so that settings differing only in gamma_l / gamma_p draw nested sets (module docstring)."""
        return np.random.SeedSequence([int(self.seed), zlib.crc32(self.dataset.encode()), self.normal_class,
                                       *sorted(self.known_classes)])

    def rng(self) -> np.random.Generator:
        """The explicit Generator of this setting's labeled-anomaly draw."""
        return np.random.default_rng(self.seed_sequence())

    def pollution_rng(self) -> np.random.Generator:
        """The explicit Generator of the polluting-anomaly draw: (seed, dataset, normal class) only, so the
        unlabeled data are the same for every choice of known classes (module docstring)."""
        return np.random.default_rng([int(self.seed), zlib.crc32(self.dataset.encode()), self.normal_class,
                                      POLLUTION_STREAM])


def setting_counts(n_normal: int, gamma_l: float, gamma_p: float, k_l: int = 1,
                   rounding: str = "nearest") -> tuple[int, int, int]:
    """``(n_normal, p, m)``: unlabeled normals, polluting anomalies, labeled anomalies (module docstring).

    ``p / (n_normal + p) ~= gamma_p`` and ``m / (n_normal + p + m) ~= gamma_l``; ``m = 0`` when
    ``k_l = 0`` (no known anomaly class: Table 5's k_l = 0 column is the unsupervised result at
    gamma_p = .1, and the authors' code finds no candidates to label either).
    """
    _check_ratio("gamma_l", gamma_l)
    _check_ratio("gamma_p", gamma_p)
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    if n_normal < 1:
        raise ValueError(f"the normal class has no training data (n_normal={n_normal})")

    def to_int(x: float) -> int:  # floor with a tolerance for values like 1249.9999999 from float error
        return int(round(x)) if rounding == "nearest" else int(math.floor(x + 1e-9))

    p = to_int(n_normal * gamma_p / (1 - gamma_p))
    n = n_normal + p
    m = to_int(n * gamma_l / (1 - gamma_l)) if k_l > 0 else 0
    return n_normal, p, m


@dataclass(frozen=True, eq=False)
class SettingIndices:
    """Rows of the official training split that form a setting's training set (fast path for the grid).

    ``train_index``: normals, then polluting anomalies, then labeled anomalies (each group in draw order);
    ``y_semi``: +1/0/-1 package convention (here 0 or -1); ``y_true``: 1 = anomaly, 0 = normal;
    ``classes``: the original class labels.
    """

    train_index: np.ndarray
    y_semi: np.ndarray
    y_true: np.ndarray
    classes: np.ndarray

    @property
    def n_unlabeled(self) -> int:
        return int(np.sum(self.y_semi == UNLABELED))

    @property
    def n_pollution(self) -> int:
        return int(np.sum((self.y_semi == UNLABELED) & (self.y_true == 1)))

    @property
    def n_labeled_anomalies(self) -> int:
        return int(np.sum(self.y_semi == KNOWN_ANOMALY))

    @property
    def gamma_l_achieved(self) -> float:
        """m / (n + m) of the realised training set."""
        return self.n_labeled_anomalies / len(self.y_semi)

    @property
    def gamma_p_achieved(self) -> float:
        """Share of anomalies among the unlabeled samples of the realised training set."""
        return self.n_pollution / self.n_unlabeled


def draw_setting_indices(labels: np.ndarray, setting: ImageSetting, rng: np.random.Generator | None = None,
                         rounding: str = "nearest", pollution_rng: np.random.Generator | None = None
                         ) -> SettingIndices:
    """Draw a setting's training rows from the class ``labels`` of the official training split.

    ``rng`` (labeled anomalies) defaults to :meth:`ImageSetting.rng`, ``pollution_rng`` to
    :meth:`ImageSetting.pollution_rng`. Raises ``ValueError`` when a pool is too small for the requested
    counts (never happens on the real data: at most ~1,900 of >= 5,000 images per class).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    rng = setting.rng() if rng is None else rng
    pollution_rng = setting.pollution_rng() if pollution_rng is None else pollution_rng
    normal_idx = np.flatnonzero(labels == setting.normal_class)
    known_pool = np.flatnonzero(np.isin(labels, setting.known_classes))
    anomaly_pool = np.flatnonzero(labels != setting.normal_class)
    # Both permutations are drawn unconditionally and before the counts are used (nested draws).
    known_perm = known_pool[rng.permutation(len(known_pool))]
    anomaly_perm = anomaly_pool[pollution_rng.permutation(len(anomaly_pool))]
    n_normal, p, m = setting_counts(len(normal_idx), setting.gamma_l, setting.gamma_p, setting.k_l, rounding)
    if p > len(anomaly_pool):
        raise ValueError(f"{setting.data_key}: {p} polluting anomalies requested but the nine anomaly "
                         f"classes have only {len(anomaly_pool)} training images")
    pollution = anomaly_perm[:p]
    available = known_perm[~np.isin(known_perm, pollution)]
    if m > len(available):
        raise ValueError(f"{setting.data_key}: {m} labeled anomalies requested but the known classes "
                         f"{setting.known_classes} have only {len(available)} training images left after "
                         f"drawing the {p} polluting ones")
    labeled = available[:m]
    train_index = np.concatenate([normal_idx, pollution, labeled]).astype(np.int64)
    y_semi = np.concatenate([np.full(n_normal + p, UNLABELED), np.full(m, KNOWN_ANOMALY)]).astype(np.int64)
    y_true = np.concatenate([np.zeros(n_normal), np.ones(p + m)]).astype(np.int64)
    return SettingIndices(train_index, y_semi, y_true, labels[train_index].astype(np.int64))


def scale_images(images: np.ndarray) -> np.ndarray:
    """Sec. 4.2 pre-processing: uint8 pixels -> float32 in [0, 1] (min-max with the pixel range 0..255).

    Accepts (n, H, W) (adds a channel axis) or (n, C, H, W); returns float32 (n, C, H, W).
    """
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels, got {images.dtype}")
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise ValueError(f"expected (n, H, W) or (n, C, H, W) images, got shape {images.shape}")
    return images.astype(np.float32) * np.float32(1.0 / 255.0)


@dataclass(frozen=True, eq=False)
class ImageADData:
    """A built experiment: training and test arrays plus the setting metadata.

    ``X_train`` float32 (N, C, H, W) in [0, 1]; ``y_semi`` (N,) +1 known normal / 0 unlabeled / -1 known
    anomaly; ``y_train_true`` (N,) 1 = anomaly (pollution and labeled), 0 = normal — diagnostics only;
    ``X_test`` float32 (N_test, C, H, W) (all ten classes of the official test split; may be shared,
    read-only, between experiments of a dataset); ``y_test`` 1 = anomaly (not the normal class), the
    ground truth of the AUC (higher score = more anomalous).
    """

    setting: ImageSetting
    X_train: np.ndarray
    y_semi: np.ndarray
    y_train_true: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_classes: np.ndarray
    test_classes: np.ndarray
    train_index: np.ndarray
    rounding: str = "nearest"
    origin: str = ""

    @property
    def indices(self) -> SettingIndices:
        return SettingIndices(self.train_index, self.y_semi, self.y_train_true, self.train_classes)

    @property
    def n_unlabeled(self) -> int:
        return self.indices.n_unlabeled

    @property
    def n_pollution(self) -> int:
        return self.indices.n_pollution

    @property
    def n_labeled_anomalies(self) -> int:
        return self.indices.n_labeled_anomalies

    @property
    def gamma_l_achieved(self) -> float:
        return self.indices.gamma_l_achieved

    @property
    def gamma_p_achieved(self) -> float:
        return self.indices.gamma_p_achieved


def build_image_setting(setting: ImageSetting, train_images: np.ndarray, train_labels: np.ndarray,
                        test_images: np.ndarray, test_labels: np.ndarray, rounding: str = "nearest",
                        X_test: np.ndarray | None = None, origin: str = "") -> ImageADData:
    """Build ``setting`` from the official splits given as uint8 arrays ((n, H, W) or (n, C, H, W)).

    ``X_test``: an already scaled test array to reuse (it is the same for every setting of a dataset).
    """
    train_labels = np.asarray(train_labels)
    test_labels = np.asarray(test_labels).astype(np.int64)
    if len(train_images) != len(train_labels) or len(test_images) != len(test_labels):
        raise ValueError("images and labels must have the same length")
    idx = draw_setting_indices(train_labels, setting, rounding=rounding)
    X_train = scale_images(np.asarray(train_images)[idx.train_index])
    if X_test is None:
        X_test = scale_images(np.asarray(test_images))
    y_test = (test_labels != setting.normal_class).astype(np.int64)
    return ImageADData(setting, X_train, idx.y_semi, idx.y_true, X_test, y_test, idx.classes,
                       test_labels, idx.train_index, rounding, origin)


# ------------------------------------------------------------------------------------------ real data
def load_image_split(dataset: str, split: str, data_dir: str | os.PathLike | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Official ``split`` of ``dataset``: (uint8 (n, C, H, W), int64 labels), read-only, loader-memoised."""
    if dataset in ("mnist", "fashion_mnist"):
        from semiad.core.data.idx import load_idx_dataset

        data = load_idx_dataset(dataset, split, data_dir)
        return data.images[:, None], data.labels
    if dataset == "cifar10":
        from semiad.deep_sad.cifar10 import load_cifar10

        data = load_cifar10(split, data_dir)
        return data.images, data.labels
    raise ValueError(f"unknown image dataset {dataset!r}; available: {list(IMAGE_DATASETS)}")


@lru_cache(maxsize=3)
def _scaled_test(dataset: str, data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_image_split(dataset, "test", data_dir)
    X = scale_images(images)
    X.setflags(write=False)
    return X, labels


def load_image_setting(setting: ImageSetting, data_dir: str | os.PathLike | None = None,
                       rounding: str = "nearest") -> ImageADData:
    """Build ``setting`` on the real data (the scaled test split is shared, read-only, across calls)."""
    key = None if data_dir is None else str(data_dir)
    train_images, train_labels = load_image_split(setting.dataset, "train", data_dir)
    X_test, test_labels = _scaled_test(setting.dataset, key)
    return build_image_setting(setting, train_images, train_labels, X_test, test_labels, rounding,
                               X_test=X_test, origin=setting.dataset)


# ------------------------------------------------------------------------------------------ grid
def known_classes_draw(dataset: str, normal_class: int, seed: int, k_l: int) -> tuple[int, ...]:
    """Scenario (iii): the k_l known classes of (dataset, normal class, seed), "drawn uniformly at random
    from the nine respective anomaly classes". They are the first k_l of one seeded permutation, so the
    sets are nested in k_l for a fixed seed (k_l = 2's classes contain k_l = 1's)."""
    anomalies = [c for c in CLASSES if c != normal_class]
    if not 0 <= k_l <= len(anomalies):
        raise ValueError(f"k_l must be in 0..9, got {k_l}")
    rng = np.random.default_rng([int(seed), zlib.crc32(dataset.encode()), int(normal_class), 0x6B6C])
    perm = rng.permutation(anomalies)
    return tuple(sorted(int(c) for c in perm[:k_l]))


def scenario_grid(dataset: str, scenario: str, values: Sequence[float] | None = None,
                  normal_classes: Iterable[int] = CLASSES, n_seeds: int | None = None,
                  base_seed: int = 0, known_classes: Iterable[int] | None = None) -> list[ImageSetting]:
    """All settings of one scenario (Sec. 4.2 (i)-(iii) or Sec. 4.3 ``"sensitivity"``) on ``dataset``.

    Defaults give the paper's protocol: ``len(values)`` points x 90 (i, ii, sensitivity: 10 normal x 9
    known classes, one seed) or x 100 ((iii): 10 normal classes x 10 seeds). ``normal_classes``,
    ``known_classes`` (restrict the known class of (i)/(ii)/sensitivity) and ``n_seeds`` make the smaller
    grids of quick profiles. Seeds are ``base_seed .. base_seed + n_seeds - 1``.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")
    if values is None:
        values = (None,) if scenario == "sensitivity" else SCENARIO_VALUES[scenario]
    n_seeds = DEFAULT_SEEDS[scenario] if n_seeds is None else int(n_seeds)
    seeds = range(base_seed, base_seed + n_seeds)
    normal_classes = tuple(normal_classes)
    out: list[ImageSetting] = []
    for value in values:
        for normal in normal_classes:
            anomalies = [c for c in CLASSES if c != normal]
            if scenario == "known_classes":
                for seed in seeds:
                    known = known_classes_draw(dataset, normal, seed, int(value))
                    out.append(ImageSetting(dataset, normal, known, DEFAULT_GAMMA_L, DEFAULT_GAMMA_P, seed,
                                            scenario, int(value)))
                continue
            gamma_l = float(value) if scenario == "labeled" else DEFAULT_GAMMA_L
            gamma_p = float(value) if scenario == "pollution" else \
                (DEFAULT_GAMMA_P if scenario == "sensitivity" else 0.0)
            chosen = anomalies if known_classes is None else [c for c in anomalies if c in set(known_classes)]
            for known in chosen:
                for seed in seeds:
                    out.append(ImageSetting(dataset, normal, (known,), gamma_l, gamma_p, seed, scenario,
                                            value if value is None else float(value)))
    return out


def tables_grid(datasets: Iterable[str] = IMAGE_DATASETS, **kwargs) -> list[ImageSetting]:
    """Every experiment of Tables 3-5 (scenarios (i)-(iii)) for ``datasets``: 1,400 per dataset with the
    defaults (5 x 90 + 5 x 90 + 5 x 100); ``kwargs`` go to :func:`scenario_grid`."""
    return [s for d in datasets for sc in ("labeled", "pollution", "known_classes")
            for s in scenario_grid(d, sc, **kwargs)]


def unique_settings(settings: Iterable[ImageSetting]) -> dict[str, ImageSetting]:
    """``data_key -> setting`` for the distinct training sets (first occurrence wins), e.g. (i) at
    gamma_l = .05 and (ii) at gamma_p = 0 share their 90 settings (cf. Tables 3 and 4)."""
    out: dict[str, ImageSetting] = {}
    for s in settings:
        out.setdefault(s.data_key, s)
    return out


def with_seed(setting: ImageSetting, seed: int) -> ImageSetting:
    """The same setting with another seed (convenience for replicates)."""
    return replace(setting, seed=seed)
