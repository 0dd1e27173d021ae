"""Data of the UaiNets paper ("Unsupervised Anomaly Detection with an active learning layer",
ICLR 2019 submission; ``shared/papers/uainets_active_ad.txt``).

Synthetic sets (Sec. 4.1, App. A.2 Table 2; App. B.3 Table 4), built from the 60,000 *training*
images of MNIST / Fashion-MNIST (:mod:`semiad.core.data.idx`), ``X`` = pixels / 255 as float32
(n, 784), ``x_y`` = the class label the "Class" model must predict, ``y`` = 1 for anomalies:

* ``"zero"`` (MNIST0): every class-0 item is kept independently with probability 0.1 (Bernoulli
  draws from ``numpy.random.default_rng(seed)``; the paper only says "reduced ... to 10 %"); the
  kept zeros are anomalies and get ``x_y ~ Uniform({1..9})`` from the same generator. Instances =
  60,000 - #zeros + #kept, i.e. exact for the paper's 54,679 = 54,077 + 602 when 602 are kept.
* ``"zero_two"`` (MNIST0-2): the same for classes 0, 1, 2, with ``x_y ~ Uniform({3..9})``.
  Counts (anomalies / instances) for seed 0: MNIST0 595 / 54,672 (paper 602 / 54,679; seed 1
  gives exactly 602 / 54,679), MNIST0-2 1,881 / 43,258 (paper 1,822 / 43,199), F-MNIST0 637 /
  54,637 (paper 610 / 54,610), F-MNIST0-2 1,831 / 43,831 (paper 1,765 / 43,765) — all within
  ~2 binomial standard deviations of the paper's single draw.
* ``"hard"`` (MNISThard): all 60,000 items; anomalies = the training items misclassified by a
  weak one-hidden-layer MLP classifier. The paper gives neither its size nor its training; we use
  784-``hidden``-10 with ReLU, Adam (lr 1e-3), batch 128, ``epochs`` passes, torch seeded with
  ``seed`` and one thread. Defaults (chosen to land near the paper's anomaly share): MNIST
  hidden 64 / 4 epochs (~3.7 %, paper 3.5 %), Fashion-MNIST hidden 64 / 1 epoch (~16.0 %,
  paper 16.1 %). Seed 0 gives 2,224 (MNIST; seeds 1/2: 2,056 / 2,291; paper 2,108) and 9,620
  (Fashion-MNIST; seeds 1/2: 9,798 / 9,480; paper 9,656) anomalies. The labels are cached as
  ``.npz`` under ``results_dir()/datasets``.
* ``"pca"`` (MNISTpca): all 60,000 items; per class, PCA(2) on that class's images (exact, by
  eigen-decomposition; the subspace of scikit-learn's ``PCA(2)``); the ``floor(0.05 * n_class)``
  items with the largest squared reconstruction error are anomalies. Flooring gives 2,996 on
  MNIST (= Table 2 exactly; rounding would give 3,000) and 3,000 on Fashion-MNIST (= Table 4).

``on_missing="demo"`` replaces the images by 2,000 synthetic 28x28 "digits" made by code
(:func:`make_demo_images`) and applies the same mechanism; ``source`` is then ``"demo"``.

Real sets (Sec. 4.2, Table 1, App. A.3): :func:`load_uainets_real` for the 11 names of
:data:`UAINETS_REAL_DATASETS`; every result carries a ``variant_note`` saying how our file
differs from the paper's description. KDDCUP-Rev's seen/unseen split of Sec. 4.3 (Fig. 4) is
:func:`kddcup_rev_seen_unseen_split`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.io

from semiad.core.data.demo import make_demo_images, make_demo_tabular
from semiad.core.data.idx import flatten01, load_idx_dataset
from semiad.core.data.registry import get_spec
from semiad.core.data.resolve import DataNotFoundError, check_on_missing, resolve_files
from semiad.core.data.tabular import load_odds
from semiad.core.paths import results_dir

SYNTHETIC_KINDS: tuple[str, ...] = ("zero", "zero_two", "hard", "pca")
BASES: tuple[str, ...] = ("mnist", "fashion_mnist")
#: Anomalous classes of the "reduced class" sets and the keep probability (Sec. 4.1).
REDUCED_CLASSES: dict[str, tuple[int, ...]] = {"zero": (0,), "zero_two": (0, 1, 2)}
KEEP_PROBABILITY = 0.1
PCA_COMPONENTS = 2
PCA_ANOMALY_SHARE = 0.05
#: Weak classifier of the "hard" sets: (hidden units, epochs) per base (our choice, see docstring).
HARD_DEFAULTS: dict[str, tuple[int, int]] = {"mnist": (64, 4), "fashion_mnist": (64, 1), "demo": (16, 3)}
DEMO_ROWS = 2000
_CACHE_VERSION = 1

#: Table 2 (MNIST) and Table 4 (Fashion-MNIST): dims, classes, instances, anomalies, ratio (%).
PAPER_SYNTHETIC_STATS: dict[tuple[str, str], dict[str, Any]] = {
    ("mnist", "zero"): {"name": "MNIST0", "dims": 784, "classes": 9, "instances": 54679, "anomalies": 602,
                        "ratio_pct": 1.1},
    ("mnist", "zero_two"): {"name": "MNIST0-2", "dims": 784, "classes": 7, "instances": 43199,
                            "anomalies": 1822, "ratio_pct": 4.2},
    ("mnist", "hard"): {"name": "MNISThard", "dims": 784, "classes": 10, "instances": 60000,
                        "anomalies": 2108, "ratio_pct": 3.5},
    ("mnist", "pca"): {"name": "MNISTpca", "dims": 784, "classes": 10, "instances": 60000, "anomalies": 2996,
                       "ratio_pct": 5.0},
    ("fashion_mnist", "zero"): {"name": "Fashion-MNIST0", "dims": 784, "classes": 9, "instances": 54610,
                                "anomalies": 610, "ratio_pct": 1.1},
    ("fashion_mnist", "zero_two"): {"name": "Fashion-MNIST0-2", "dims": 784, "classes": 7,
                                    "instances": 43765, "anomalies": 1765, "ratio_pct": 4.0},
    ("fashion_mnist", "hard"): {"name": "Fashion-MNISThard", "dims": 784, "classes": 10,
                                "instances": 60000, "anomalies": 9656, "ratio_pct": 16.1},
    ("fashion_mnist", "pca"): {"name": "Fashion-MNISTpca", "dims": 784, "classes": 10, "instances": 60000,
                               "anomalies": 3000, "ratio_pct": 5.0},
}


def synthetic_name(kind: str, base: str = "mnist") -> str:
    """Display name as in the paper: MNIST0, MNIST0-2, MNISThard, MNISTpca, Fashion-MNIST0, ..."""
    suffix = {"zero": "0", "zero_two": "0-2", "hard": "hard", "pca": "pca"}[kind]
    return ("MNIST" if base == "mnist" else "Fashion-MNIST") + suffix


@dataclass(frozen=True, eq=False)
class UaiNetsSynthetic:
    """One synthetic set of UaiNets Sec. 4.1 / App. A.2 (see the module docstring).

    ``X`` float32 (n, 784) in [0, 1]; ``x_y`` the class the Class model predicts; ``y`` 1 =
    anomaly; ``orig_label`` the original class; ``index`` the row in the 60,000 training images.
    """

    name: str
    kind: str
    base: str
    X: np.ndarray
    x_y: np.ndarray
    y: np.ndarray
    orig_label: np.ndarray
    index: np.ndarray
    source: str  # "real" or "demo"
    origin: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"

    @property
    def n_classes(self) -> int:
        return int(len(np.unique(self.x_y)))

    def stats(self) -> dict[str, Any]:
        """Table 2/4 columns: dims, classes, instances, anomalies, anomaly ratio (%)."""
        n_anom = int(self.y.sum())
        return {"dataset": self.name, "dims": int(self.X.shape[1]), "classes": self.n_classes,
                "instances": int(len(self.y)), "anomalies": n_anom,
                "ratio_pct": round(100 * n_anom / len(self.y), 2), "source": self.source}


# ---------------------------------------------------------------------------------------------
# Anomaly mechanisms (work on any flattened image set: real or demo)
# ---------------------------------------------------------------------------------------------

def reduced_class_labels(labels: np.ndarray, classes: tuple[int, ...], seed: int,
                         keep_probability: float = KEEP_PROBABILITY
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MNIST0 / MNIST0-2 (Sec. 4.1, items 1-2): ``(kept index, x_y, y)``.

    Items of ``classes`` are kept independently with ``keep_probability`` (one uniform draw per
    item, in file order, from ``default_rng(seed)``); kept ones are anomalies whose ``x_y`` is
    drawn uniformly from the remaining classes. All other items are kept with ``x_y`` = label.
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    reduced = np.isin(labels, classes)
    keep = ~reduced | (rng.random(len(labels)) < keep_probability)
    index = np.flatnonzero(keep)
    y = reduced[index].astype(np.int64)
    others = np.setdiff1d(np.unique(labels), classes)
    x_y = labels[index].astype(np.int64)
    x_y[y == 1] = rng.choice(others, size=int(y.sum()))
    return index, x_y, y


def pca_reconstruction_error(X: np.ndarray, n_components: int = PCA_COMPONENTS) -> np.ndarray:
    """Squared error of each row of ``X`` after projection on its top principal components.

    Exact PCA through the eigen-decomposition of the centred scatter matrix (the same subspace as
    ``sklearn.decomposition.PCA(n_components)``; faster on 784 dims and free of solver randomness).
    """
    import scipy.linalg

    Xc = np.asarray(X, dtype=np.float64)
    Z = Xc - Xc.mean(axis=0)
    d = Z.shape[1]
    _, V = scipy.linalg.eigh(Z.T @ Z, subset_by_index=[d - n_components, d - 1])
    residual = Z - (Z @ V) @ V.T
    return (residual ** 2).sum(axis=1)


def pca_anomaly_labels(X: np.ndarray, labels: np.ndarray, share: float = PCA_ANOMALY_SHARE,
                       n_components: int = PCA_COMPONENTS) -> np.ndarray:
    """MNISTpca (Sec. 4.1, item 4): per class, the ``floor(share * n_class)`` largest PCA errors."""
    y = np.zeros(len(labels), dtype=np.int64)
    for cls in np.unique(labels):
        rows = np.flatnonzero(labels == cls)
        error = pca_reconstruction_error(X[rows], n_components)
        n_anom = int(np.floor(share * len(rows) + 1e-9))
        order = np.argsort(-error, kind="stable")
        y[rows[order[:n_anom]]] = 1
    return y


def weak_classifier_errors(X: np.ndarray, labels: np.ndarray, hidden: int, epochs: int, seed: int,
                           lr: float = 1e-3, batch_size: int = 128) -> np.ndarray:
    """MNISThard (Sec. 4.1, item 3): 1 where a weak 784-``hidden``-10 MLP misclassifies an item.

    Trained on all of ``X`` (the set it then labels) with Adam and cross-entropy; torch is seeded
    with ``seed`` and run on one thread (restored afterwards) so the result is reproducible.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        Xt = torch.from_numpy(np.array(X, dtype=np.float32))
        yt = torch.from_numpy(np.array(labels, dtype=np.int64))
        n_classes = int(yt.max()) + 1
        net = torch.nn.Sequential(torch.nn.Linear(Xt.shape[1], hidden), torch.nn.ReLU(),
                                  torch.nn.Linear(hidden, n_classes))
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        for _ in range(epochs):
            perm = torch.randperm(len(Xt), generator=gen)
            for start in range(0, len(Xt), batch_size):
                batch = perm[start:start + batch_size]
                loss = torch.nn.functional.cross_entropy(net(Xt[batch]), yt[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            pred = torch.cat([net(Xt[i:i + 8192]).argmax(1) for i in range(0, len(Xt), 8192)])
    finally:
        torch.set_num_threads(threads)
    return (pred.numpy() != yt.numpy()).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Synthetic sets
# ---------------------------------------------------------------------------------------------

def _cache_path(base: str, kind: str, seed: int, params: dict[str, Any]) -> Path:
    tag = "_".join(f"{k}{v}" for k, v in sorted(params.items()))
    return results_dir() / "datasets" / f"uainets_v{_CACHE_VERSION}_{base}_{kind}_seed{seed}_{tag}.npz"


def _atomic_savez(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as tmp:
        np.savez(tmp, **arrays)
    os.replace(tmp.name, path)


def make_uainets_mnist(kind: str, base: str = "mnist", seed: int = 0,
                       data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                       download: bool | None = None, hidden: int | None = None,
                       epochs: int | None = None, cache: bool = True) -> UaiNetsSynthetic:
    """Build MNIST0 / MNIST0-2 / MNISThard / MNISTpca (``kind`` = zero / zero_two / hard / pca).

    UaiNets Sec. 4.1 and App. A.2 (Table 2); ``base="fashion_mnist"`` gives App. B.3 (Table 4).
    ``seed`` drives the Bernoulli keep draws and random classes (zero, zero_two) or the weak
    classifier (hard; ``hidden`` / ``epochs`` override :data:`HARD_DEFAULTS`); pca is
    deterministic. ``on_missing="demo"`` falls back to :func:`make_demo_images` (source "demo").
    ``cache`` keeps the "hard" labels in ``results_dir()/datasets`` (atomic ``.npz``, read with
    ``allow_pickle=False``).
    """
    if kind not in SYNTHETIC_KINDS:
        raise ValueError(f"kind must be one of {SYNTHETIC_KINDS}, got {kind!r}")
    if base not in BASES:
        raise ValueError(f"base must be one of {BASES}, got {base!r}")
    check_on_missing(on_missing)
    try:
        images, labels = load_idx_dataset(base, "train", data_dir, download=download)
        source, origin = "real", f"{base} training set (60,000 images, semiad.core.data.idx)"
    except DataNotFoundError:
        if on_missing == "error":
            raise
        images, labels = make_demo_images(DEMO_ROWS, seed=0)
        source = "demo"
        origin = f"synthetic demo stand-in for {base} ({DEMO_ROWS} images, semiad.uainets.data)"
    X_all = flatten01(images)
    labels = np.asarray(labels, dtype=np.int64)
    params: dict[str, Any] = {}
    if kind in REDUCED_CLASSES:
        index, x_y, y = reduced_class_labels(labels, REDUCED_CLASSES[kind], seed)
        params = {"keep_probability": KEEP_PROBABILITY, "classes": list(REDUCED_CLASSES[kind])}
    else:
        index = np.arange(len(labels))
        x_y = labels.copy()
        if kind == "pca":
            y = pca_anomaly_labels(X_all, labels)
            params = {"components": PCA_COMPONENTS, "share": PCA_ANOMALY_SHARE}
        else:
            dh, de = HARD_DEFAULTS["demo" if source == "demo" else base]
            params = {"hidden": dh if hidden is None else int(hidden),
                      "epochs": de if epochs is None else int(epochs)}
            path = _cache_path(base, kind, seed, params)
            y = None
            if cache and source == "real" and path.is_file():
                with np.load(path, allow_pickle=False) as stored:
                    if stored["y"].shape == labels.shape:
                        y = stored["y"].astype(np.int64)
            if y is None:
                y = weak_classifier_errors(X_all, labels, params["hidden"], params["epochs"], seed)
                if cache and source == "real":
                    _atomic_savez(path, y=y)
    return UaiNetsSynthetic(
        name=synthetic_name(kind, base) + (" (demo)" if source == "demo" else ""), kind=kind, base=base,
        X=X_all if len(index) == len(X_all) else X_all[index], x_y=x_y,
        y=np.asarray(y, dtype=np.int64), orig_label=labels[index], index=index,
        source=source, origin=origin, params=params)


def dataset_statistics_table(base: str = "mnist", seed: int = 0, data_dir: str | os.PathLike | None = None,
                             on_missing: str = "error",
                             kinds: tuple[str, ...] = SYNTHETIC_KINDS) -> pd.DataFrame:
    """Table 2 (``base="mnist"``) / Table 4 (``"fashion_mnist"``): ours next to the paper's."""
    rows = []
    for kind in kinds:
        ours = make_uainets_mnist(kind, base, seed=seed, data_dir=data_dir, on_missing=on_missing).stats()
        paper = PAPER_SYNTHETIC_STATS[(base, kind)]
        rows.append({"dataset": paper["name"], "kind": kind, "source": ours["source"],
                     "dims": ours["dims"], "paper_dims": paper["dims"],
                     "classes": ours["classes"], "paper_classes": paper["classes"],
                     "instances": ours["instances"], "paper_instances": paper["instances"],
                     "anomalies": ours["anomalies"], "paper_anomalies": paper["anomalies"],
                     "ratio_pct": ours["ratio_pct"], "paper_ratio_pct": paper["ratio_pct"]})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Real data sets (Table 1, App. A.3)
# ---------------------------------------------------------------------------------------------

#: Table 1's column order.
UAINETS_REAL_DATASETS: tuple[str, ...] = ("kddcup", "arrhythmia", "thyroid", "kddcup_rev", "yeast", "abalone",
                                          "ctg", "credit_card", "covtype", "mammography", "shuttle")
#: Table 1's statistics, each under its correct data set (the paper's Thyroid and Arrhythmia
#: columns print each other's statistics; see data/reported/uainets_table1.csv).
PAPER_TABLE1_STATS: dict[str, dict[str, int]] = {
    "kddcup": {"n": 494021, "d": 120, "n_outliers": 97278},
    "arrhythmia": {"n": 452, "d": 274, "n_outliers": 66},
    "thyroid": {"n": 3772, "d": 6, "n_outliers": 93},
    "kddcup_rev": {"n": 121597, "d": 120, "n_outliers": 24319},
    "yeast": {"n": 1191, "d": 8, "n_outliers": 55},
    "abalone": {"n": 1920, "d": 9, "n_outliers": 29},
    "ctg": {"n": 1700, "d": 22, "n_outliers": 45},
    "credit_card": {"n": 284807, "d": 30, "n_outliers": 492},
    "covtype": {"n": 286048, "d": 54, "n_outliers": 2747},
    "mammography": {"n": 11183, "d": 6, "n_outliers": 260},
    "shuttle": {"n": 12345, "d": 9, "n_outliers": 867},
}
#: Covtype variants beyond Table 1's set (issue #17): the full UCI file with all 54 features (cover type 2
#: vs 4, as ODDS "cover"; needs a verified download) and the AAD benchmark's 2,000-row 54-feature sample
#: (offline), also restricted to its 10 quantitative columns to measure what the other 44 add.
UAINETS_EXTRA_DATASETS: tuple[str, ...] = ("covtype54", "covtype_sub54", "covtype_sub10")
#: The 10 quantitative covtype features (the first 10 of the UCI file's 54 columns).
COVTYPE_QUANTITATIVE: tuple[str, ...] = (
    "Elevation", "Aspect", "Slope", "Horizontal_Distance_To_Hydrology", "Vertical_Distance_To_Hydrology",
    "Horizontal_Distance_To_Roadways", "Hillshade_9am", "Hillshade_Noon", "Hillshade_3pm",
    "Horizontal_Distance_To_Fire_Points")
COVTYPE_COLUMNS: tuple[str, ...] = (*COVTYPE_QUANTITATIVE, *(f"Wilderness_Area{i}" for i in range(1, 5)),
                                    *(f"Soil_Type{i}" for i in range(1, 41)))
_REGISTRY_NAME = {"covtype54": "covtype_uci", "covtype_sub54": "covtype_sub_aad",
                  "covtype_sub10": "covtype_sub_aad",
                  "kddcup": "kddcup99_10pct", "kddcup_rev": "kddcup99_10pct", "thyroid": "thyroid",
                  "arrhythmia": "arrhythmia", "yeast": "yeast_aad", "abalone": "abalone_aad",
                  "ctg": "ctg_aad", "credit_card": "creditcard", "covtype": "cover_odds",
                  "mammography": "mammography", "shuttle": "shuttle_aad"}
_VARIANT_NOTES = {
    "kddcup": "KDDCUP99 10% (UCI); 'normal.' rows are the anomalies (App. A.3, as DAGMM). Encoding {enc}.",
    "kddcup_rev": ("KDDCUP99 10%; all 97,278 'normal.' rows kept as the normal class, attacks drawn "
                   "uniformly without replacement (numpy default_rng(seed)) so that they are 20% "
                   "(floor(97,278/4) = 24,319). Encoding {enc}."),
    "thyroid": "ODDS thyroid (UCI ann-train, hyperfunction = anomaly, 6 continuous features); matches.",
    "arrhythmia": "ODDS arrhythmia (classes 3,4,5,7,8,9,14,15 = anomalies); matches.",
    "yeast": "AAD benchmark yeast_1 (Das et al. 2016): ERL/POX/VAC = anomalies; matches Table 1.",
    "abalone": "AAD benchmark abalone_1: rings 3 and 21 = anomalies, sex one-hot in 2 columns; matches.",
    "ctg": ("AAD benchmark cardiotocography_1: NSP 1 vs a 45-row sample of NSP 3; 21 features — Table 1 "
            "prints 22 (1,700 rows and 45 anomalies match)."),
    "credit_card": "Kaggle/ULB credit-card fraud (Time, V1-V28, Amount; Class = fraud); unpinned file.",
    "covtype": ("ODDS 'cover' (via ADBench 10_cover.npz): cover type 4 vs 2, only the 10 quantitative "
                "features; Table 1 prints 54 features (full covtype), rows/anomalies match. The "
                "54-feature file is not available offline."),
    "mammography": "ODDS mammography (calcifications = anomalies); matches.",
    "covtype54": ("UCI covtype.data.gz (581,012 x 54): cover type 4 (anomaly) vs 2, other types dropped -- "
                  "the rows of ODDS 'cover' with all 54 features (10 quantitative, 4 wilderness-area and "
                  "40 soil-type indicators), as Table 1 prints."),
    "covtype_sub54": ("AAD benchmark covtype_sub_1 (Das et al.): a 2,000-row sample of cover type 2 vs 4 "
                      "with all 54 features (19 anomalies)."),
    "covtype_sub10": ("AAD benchmark covtype_sub_1 restricted to its 10 quantitative columns (the "
                      "features of ODDS 'cover'), to measure what the 44 indicator columns add."),
    "shuttle": "AAD shuttle_1v23567 (Statlog class 1 vs 2,3,5,6,7); matches.",
}

#: KDDCUP99 column names (kddcup.names order) and the 7 categorical ones of App. A.3.
KDD_COLUMNS: tuple[str, ...] = (
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land", "wrong_fragment",
    "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised", "root_shell", "su_attempted",
    "num_root", "num_file_creations", "num_shells", "num_access_files", "num_outbound_cmds",
    "is_host_login", "is_guest_login", "count", "srv_count", "serror_rate", "srv_serror_rate",
    "rerror_rate", "srv_rerror_rate", "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate",
    "dst_host_count", "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate")
KDD_SYMBOLIC: tuple[str, ...] = ("protocol_type", "service", "flag")
KDD_CATEGORICAL: tuple[str, ...] = ("protocol_type", "service", "flag", "land", "logged_in", "is_host_login",
                                    "is_guest_login")
KDD_ENCODINGS = {"onehot7": KDD_CATEGORICAL, "onehot3": KDD_SYMBOLIC}
#: KDD99 attack categories (standard mapping of the 22 attack names of the 10 % file).
KDD_ATTACK_CATEGORY: dict[str, str] = {
    **{a: "dos" for a in ("back", "land", "neptune", "pod", "smurf", "teardrop")},
    **{a: "probe" for a in ("ipsweep", "nmap", "portsweep", "satan")},
    **{a: "r2l" for a in ("ftp_write", "guess_passwd", "imap", "multihop", "phf", "spy", "warezclient",
                          "warezmaster")},
    **{a: "u2r" for a in ("buffer_overflow", "loadmodule", "perl", "rootkit")},
}


@dataclass(frozen=True, eq=False)
class UaiNetsRealDataset:
    """A Table 1 data set: ``X`` float32, ``y`` (1 = anomaly), provenance and a variant note.

    ``groups`` holds a per-row group name where the file has one (KDDCUP: the attack name,
    "normal" for normal traffic), else ``None``.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    source: str  # "real" or "demo"
    origin: str
    variant_note: str
    feature_names: tuple[str, ...] = ()
    groups: np.ndarray | None = None

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"

    @property
    def attack(self) -> np.ndarray | None:
        """Alias of ``groups`` for the KDDCUP sets (attack name per row)."""
        return self.groups

    def stats(self) -> dict[str, Any]:
        n_out = int(self.y.sum())
        paper = PAPER_TABLE1_STATS.get(self.name, {})
        return {"dataset": self.name, "N": int(len(self.y)), "D": int(self.X.shape[1]), "outliers": n_out,
                "outlier_pct": round(100 * n_out / len(self.y), 2), "paper_N": paper.get("n"),
                "paper_D": paper.get("d"), "paper_outliers": paper.get("n_outliers"), "source": self.source}


def read_kddcup(path: str | os.PathLike, encoding: str = "onehot7"
                ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """KDDCUP99 file -> (X float32, attack name per row without the trailing dot, feature names).

    ``encoding="onehot7"`` (default; App. A.3 literally: "34 continuous features and 7
    categorical ones" one-hot encoded) gives 34 + 3 + 66 + 11 + 2 + 2 + 1 + 2 = 121 columns on
    the 10 % file (``is_host_login`` is constant there; the paper reports 120).
    ``"onehot3"`` one-hot encodes only the 3 symbolic columns: 38 + 80 = 118 columns, the layout
    of the widely used DAGMM ``kdd_cup.npz``. Non-one-hot columns are min-max scaled to [0, 1]
    over the whole file (constant columns become 0); one-hot columns are 0/1, categories sorted.
    """
    if encoding not in KDD_ENCODINGS:
        raise ValueError(f"encoding must be one of {sorted(KDD_ENCODINGS)}, got {encoding!r}")
    frame = pd.read_csv(path, header=None, names=[*KDD_COLUMNS, "label"])
    if frame.shape != (len(frame), 42) or frame["label"].isna().any():
        raise ValueError(f"{path}: expected 42 comma-separated fields per row")
    labels = frame["label"].astype(str).str.rstrip(".").to_numpy().astype(str)
    categorical = KDD_ENCODINGS[encoding]
    numeric = [c for c in KDD_COLUMNS if c not in categorical]
    values = frame[numeric].to_numpy(dtype=np.float64)
    lo, hi = values.min(axis=0), values.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    blocks = [((values - lo) / span).astype(np.float32)]
    names = list(numeric)
    for col in categorical:
        column = frame[col].astype(str).to_numpy()
        cats = np.unique(column)
        blocks.append((column[:, None] == cats[None, :]).astype(np.float32))
        names += [f"{col}={c}" for c in cats]
    return np.hstack(blocks), labels, tuple(names)


@lru_cache(maxsize=1)
def _kdd_cached(path: str, encoding: str, _key: tuple) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    X, labels, names = read_kddcup(path, encoding)
    X.setflags(write=False)
    labels.setflags(write=False)
    return X, labels, names


def _kdd(data_dir: str | os.PathLike | None, download: bool | None, encoding: str):
    spec = get_spec(_REGISTRY_NAME["kddcup"])
    path = next(iter(resolve_files(spec, data_dir, download=download).values()))
    stat = path.stat()
    X, labels, names = _kdd_cached(str(path), encoding, (stat.st_size, stat.st_mtime))
    return X, labels, names, path


def read_aad_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """AAD benchmark csv (Das et al. 2016): column ``label`` in {nominal, anomaly}, then features."""
    frame = pd.read_csv(path)
    if "label" not in frame.columns or set(frame["label"].unique()) - {"nominal", "anomaly"}:
        raise ValueError(f"{path}: expected a 'label' column with values nominal/anomaly")
    features = tuple(c for c in frame.columns if c != "label")
    y = (frame["label"].to_numpy() == "anomaly").astype(np.int64)
    return frame[list(features)].to_numpy(dtype=np.float32), y, features


def read_covtype_uci(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """UCI covtype.data(.gz): 54 features + Cover_Type (1-7); keep types 2 (normal) and 4 (anomaly)."""
    frame = pd.read_csv(path, header=None)
    if frame.shape[1] != 55 or not frame[54].between(1, 7).all():
        raise ValueError(f"{path}: expected 54 feature columns and a cover type 1-7, got shape {frame.shape}")
    keep = frame[54].isin((2, 4)).to_numpy()
    X = frame.iloc[:, :54].to_numpy(np.float32)[keep]
    return X, (frame[54].to_numpy()[keep] == 4).astype(np.int64), COVTYPE_COLUMNS


CREDITCARD_COLUMNS: tuple[str, ...] = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount")
CREDITCARD_EXPECTED = {"n": 284807, "n_outliers": 492}


def read_creditcard(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Kaggle/ULB ``creditcard.csv``: 30 features (Time, V1..V28, Amount) and ``Class`` (1 = fraud)."""
    frame = pd.read_csv(path)
    missing = [c for c in (*CREDITCARD_COLUMNS, "Class") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    y = pd.to_numeric(frame["Class"].astype(str).str.strip('"')).to_numpy().astype(np.int64)
    return frame[list(CREDITCARD_COLUMNS)].to_numpy(dtype=np.float32), y, CREDITCARD_COLUMNS


def check_creditcard(path: Path) -> None:
    """Structural check for an *unpinned* creditcard.csv download: 284,807 rows, 492 frauds."""
    X, y, _ = read_creditcard(path)
    found = (len(y), int(y.sum()))
    expected = (CREDITCARD_EXPECTED["n"], CREDITCARD_EXPECTED["n_outliers"])
    if found != expected:
        raise ValueError(f"(rows, frauds) = {found}, expected {expected}")


def _demo_real(name: str, d: int) -> UaiNetsRealDataset:
    stats = dict(PAPER_TABLE1_STATS.get(name.removesuffix("54"))
                 or {"n": 2000, "d": d, "n_outliers": 19}, d=d)  # covtype_sub*: the AAD sample's size
    demo = make_demo_tabular(f"uainets-{name}", stats)
    return UaiNetsRealDataset(name, demo.X.astype(np.float32), demo.y, "demo", demo.origin,
                              "DEMO stand-in, not the paper's data: " + _VARIANT_NOTES[name].split(";")[0],
                              tuple(f"x{i}" for i in range(d)))


def load_uainets_real(name: str, data_dir: str | os.PathLike | None = None, on_missing: str = "error",
                      seed: int = 0, download: bool | None = None,
                      kdd_encoding: str = "onehot7") -> UaiNetsRealDataset:
    """Load one data set of UaiNets Table 1 / App. A.3 (names: :data:`UAINETS_REAL_DATASETS`).

    ``seed`` only matters for ``kddcup_rev`` (the draw of the attack rows). ``kdd_encoding``
    selects the KDDCUP one-hot layout (:func:`read_kddcup`). Features are returned as stored
    (ODDS/AAD scaling), except KDDCUP's min-max scaled numeric columns; ``X`` is float32.
    The parsed KDDCUP matrix is memoised per process (one encoding at a time), so ``kddcup``'s
    ``X`` / ``groups`` are read-only shared arrays: copy them before modifying.
    ``on_missing="demo"`` returns a small synthetic stand-in (``source="demo"``) when the file
    cannot be found; ``"error"`` raises :class:`DataNotFoundError` naming the URL and the fix.
    """
    if name not in UAINETS_REAL_DATASETS + UAINETS_EXTRA_DATASETS:
        raise ValueError(f"unknown UaiNets data set {name!r}; available: "
                         f"{list(UAINETS_REAL_DATASETS + UAINETS_EXTRA_DATASETS)}")
    check_on_missing(on_missing)
    note = _VARIANT_NOTES[name]
    try:
        if name in ("kddcup", "kddcup_rev"):
            X, attack, features, path = _kdd(data_dir, download, kdd_encoding)
            enc = (f"{kdd_encoding}: {X.shape[1]} features (paper: 120; onehot7 = 121 because "
                   "is_host_login is constant, onehot3 = 118)")
            note = note.format(enc=enc)
            if name == "kddcup":
                y = (attack == "normal").astype(np.int64)
                return UaiNetsRealDataset(name, X, y, "real", str(path), note, features, attack)
            rows = kddcup_rev_rows(attack, seed)
            y = (attack[rows] != "normal").astype(np.int64)
            return UaiNetsRealDataset(name, X[rows], y, "real", str(path), note, features, attack[rows])
        if name in ("thyroid", "arrhythmia"):
            ds = load_odds(name, data_dir, on_missing="error", download=download)
            return UaiNetsRealDataset(name, ds.X.astype(np.float32), ds.y, "real", ds.origin, note,
                                      tuple(f"x{i}" for i in range(ds.X.shape[1])))
        spec = get_spec(_REGISTRY_NAME[name])
        check: Callable[[Path], None] | None = check_creditcard if name == "credit_card" else None
        paths = list(resolve_files(spec, data_dir, download=download, check=check).values())
    except DataNotFoundError as exc:
        if on_missing == "demo":
            kdd_d = 121 if kdd_encoding == "onehot7" else 118
            d = {"kddcup": kdd_d, "kddcup_rev": kdd_d, "ctg": 21, "covtype": 10, "covtype54": 54,
                 "covtype_sub54": 54, "covtype_sub10": 10}.get(name) or PAPER_TABLE1_STATS[name]["d"]
            return _demo_real(name, d)
        if name == "credit_card":
            raise DataNotFoundError(f"{exc}\nThe credit-card fraud set (Dal Pozzolo et al. 2015) is not in "
                                    "the offline data folder; download it from "
                                    f"{get_spec('creditcard').urls['tabular/creditcard/creditcard.csv']} "
                                    "(or Kaggle mlg-ulb/creditcardfraud).") from exc
        raise
    path = paths[0]
    if name in ("yeast", "abalone", "ctg", "shuttle", "covtype_sub54", "covtype_sub10"):
        X, y, features = read_aad_csv(path)
        if name.startswith("covtype_sub"):
            d = 10 if name == "covtype_sub10" else 54
            X, features = X[:, :d], COVTYPE_COLUMNS[:d]
    elif name == "covtype54":
        X, y, features = read_covtype_uci(path)
    elif name == "credit_card":
        X, y, features = read_creditcard(path)
    elif name == "covtype":
        with np.load(path, allow_pickle=False) as npz:
            X, y = npz["X"].astype(np.float32), npz["y"].astype(np.int64)
        features = ("Elevation", "Aspect", "Slope", "Horizontal_Distance_To_Hydrology",
                    "Vertical_Distance_To_Hydrology", "Horizontal_Distance_To_Roadways", "Hillshade_9am",
                    "Hillshade_Noon", "Hillshade_3pm", "Horizontal_Distance_To_Fire_Points")[: X.shape[1]]
    else:  # mammography (.mat, keys X and y)
        mat = scipy.io.loadmat(path)
        X = np.asarray(mat["X"], dtype=np.float32)
        y = np.asarray(mat["y"]).ravel().astype(np.int64)
        features = tuple(f"x{i}" for i in range(X.shape[1]))
    if len(X) != len(y) or set(np.unique(y)) - {0, 1}:
        raise ValueError(f"{path}: unexpected content (X {X.shape}, labels {np.unique(y)})")
    return UaiNetsRealDataset(name, X, y, "real", str(path), note, tuple(features))


def kddcup_rev_rows(attack: np.ndarray, seed: int, anomaly_share: float = 0.2) -> np.ndarray:
    """Rows of KDDCUP-Rev (App. A.3): all normal rows plus uniformly drawn attack rows.

    ``floor(n_normal * share / (1 - share))`` attack rows (24,319 for the 10 % file) are drawn
    without replacement with ``default_rng(seed)``; the result keeps file order.
    """
    normal = np.flatnonzero(attack == "normal")
    attacks = np.flatnonzero(attack != "normal")
    n_attack = int(np.floor(len(normal) * anomaly_share / (1 - anomaly_share) + 1e-9))
    drawn = np.random.default_rng(seed).choice(attacks, size=n_attack, replace=False)
    return np.sort(np.concatenate([normal, drawn]))


# ---------------------------------------------------------------------------------------------
# KDDCUP-Rev seen / unseen anomaly types (Sec. 4.3, Fig. 4)
# ---------------------------------------------------------------------------------------------

#: Sec. 4.3's test set: 67,908 instances, 3,817 seen + 3,498 unseen anomalies (-> 60,593 normal).
PAPER_REV_TEST = {"n": 67908, "n_seen": 3817, "n_unseen": 3498, "n_train_types": 16, "n_test_types": 36,
                  "n_new_types": 20}
#: Our unseen ("new") attack types: the whole Probe category (4 types, 4,107 rows in the 10 % file).
UNSEEN_ATTACK_TYPES: tuple[str, ...] = ("ipsweep", "nmap", "portsweep", "satan")


@dataclass(frozen=True, eq=False)
class KddRevSplit:
    """Train / test sets of the KDDCUP-Rev seen/unseen experiment (Sec. 4.3, Fig. 4).

    ``attack_*`` name the attack type per row ("normal" for normal traffic); ``y_*`` = 1 for
    attacks (the anomalies of KDDCUP-Rev). ``seen_types`` are the attack types present in the
    training set, ``unseen_types`` the test types absent from it (the held-out types plus any
    rare type the training draw missed); ``seen_test`` / ``unseen_test`` mark those test rows.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    attack_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    attack_test: np.ndarray
    seen_types: tuple[str, ...]
    unseen_types: tuple[str, ...]
    info: dict[str, Any]

    @property
    def seen_test(self) -> np.ndarray:
        return np.isin(self.attack_test, self.seen_types) & (self.y_test == 1)

    @property
    def unseen_test(self) -> np.ndarray:
        return np.isin(self.attack_test, self.unseen_types) & (self.y_test == 1)


def kddcup_rev_seen_unseen_split(seed: int = 0, data_dir: str | os.PathLike | None = None,
                                 download: bool | None = None, kdd_encoding: str = "onehot7",
                                 n_test_normal: int = 60593, n_test_seen: int = 3817,
                                 n_test_unseen: int = 3498, train_anomaly_share: float = 0.2,
                                 unseen_types: tuple[str, ...] = UNSEEN_ATTACK_TYPES) -> KddRevSplit:
    """Approximation of Sec. 4.3's KDDCUP-Rev train/test split from the KDD99 10 % file alone.

    The paper's test set (67,908 rows: 60,593 normal — the normal count of KDD99's "corrected"
    test file — plus 3,817 seen and 3,498 unseen anomalies; 16 attack types in train, 36 in test,
    20 new) cannot be rebuilt: the 10 % file has only 22 attack names and no extra normal rows.
    Our documented stand-in, all draws without replacement from ``default_rng(seed)``:

    * unseen ("new") types = ``unseen_types`` (default: the Probe category — satan, ipsweep,
      portsweep, nmap; 4,107 rows); they never appear in training;
    * test = ``n_test_normal`` normal rows + ``n_test_seen`` rows of the other (seen-category)
      attack types + ``n_test_unseen`` rows of the unseen types (defaults: the paper's counts);
    * train = KDDCUP-Rev built from the remaining rows: all remaining normal rows (36,685 by
      default) + seen-type attack rows not in the test set drawn to ``train_anomaly_share``.

    The train set is therefore smaller than the paper's 121,597 rows. "Seen" means present in
    the training set, as in the paper: a rare seen-category type that the uniform train draw
    missed counts as unseen (``info`` lists them and gives both counts).
    """
    X, attack, _, path = _kdd(data_dir, download, kdd_encoding)
    rng = np.random.default_rng(seed)
    unknown = set(unseen_types) - set(KDD_ATTACK_CATEGORY)
    if unknown:
        raise ValueError(f"unknown attack types {sorted(unknown)}; known: {sorted(KDD_ATTACK_CATEGORY)}")
    normal = np.flatnonzero(attack == "normal")
    is_unseen = np.isin(attack, unseen_types)
    seen_rows = np.flatnonzero((attack != "normal") & ~is_unseen)
    unseen_rows = np.flatnonzero(is_unseen)
    if n_test_normal >= len(normal) or n_test_unseen > len(unseen_rows) or n_test_seen >= len(seen_rows):
        raise ValueError("requested test counts exceed the rows available in the 10 % file")
    normal = rng.permutation(normal)
    seen_rows = rng.permutation(seen_rows)
    test_normal, train_normal = normal[:n_test_normal], normal[n_test_normal:]
    test_seen, seen_pool = seen_rows[:n_test_seen], seen_rows[n_test_seen:]
    test_unseen = rng.choice(unseen_rows, size=n_test_unseen, replace=False)
    n_train_attack = int(np.floor(len(train_normal) * train_anomaly_share / (1 - train_anomaly_share) + 1e-9))
    train_attack = seen_pool[:n_train_attack]
    train = np.sort(np.concatenate([train_normal, train_attack]))
    test = np.sort(np.concatenate([test_normal, test_seen, test_unseen]))
    train_types = tuple(sorted(set(attack[train_attack].tolist())))
    test_types = tuple(sorted(set(attack[test_seen].tolist()) | set(attack[test_unseen].tolist())))
    test_seen_not_in_train = sorted(set(attack[test_seen].tolist()) - set(train_types))
    info = {"seed": seed, "origin": str(path), "n_train": int(len(train)),
            "n_train_anomalies": int(len(train_attack)), "n_test": int(len(test)),
            "n_test_normal": int(n_test_normal), "n_test_seen": int(n_test_seen),
            "n_test_unseen": int(n_test_unseen), "n_train_types": len(train_types),
            "n_test_types": len(test_types), "n_new_types": len(set(unseen_types)),
            "train_types": list(train_types), "test_types": list(test_types),
            "test_seen_types_absent_from_train": test_seen_not_in_train,
            "paper": dict(PAPER_REV_TEST)}
    y = (attack != "normal").astype(np.int64)
    unseen_in_test = tuple(sorted(set(test_types) - set(train_types)))
    info["n_test_seen_in_train"] = int(np.isin(attack[test_seen], train_types).sum())
    info["n_test_unseen_in_train"] = int(len(test) - n_test_normal - info["n_test_seen_in_train"])
    info["held_out_types"] = sorted(unseen_types)
    return KddRevSplit(X[train], y[train], attack[train], X[test], y[test], attack[test], train_types,
                       unseen_in_test, info)
