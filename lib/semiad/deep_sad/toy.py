"""Deep SAD Figure 1 (Ruff et al., ICLR 2020, Sec. 1): the need for semi-supervised AD.

A 2-D toy problem and the five learning paradigms of the figure, each behind the
:class:`semiad.core.detectors.base.BaseDetector` contract (higher score = more anomalous):

=====  ===========================  ==========================================================
panel  method (key)                 learns from
=====  ===========================  ==========================================================
(b)    OC-SVM (``ocsvm``)           unlabeled + labeled normals (labeled anomalies dropped)
(c)    SVM (``supervised_svm``)     labeled anomalies vs everything else as normal (App. E)
(d)    self-training SVM            labels + its own pseudo-labels of the unlabeled data
       (``semi_supervised_svm``)
(e)    LPUE (``lpue``)              unlabeled + labeled normals, labeled normals weighted up
(f)    Deep SAD (``deep_sad``)      unlabeled + labeled normals + labeled anomalies, Eq. (7)
=====  ===========================  ==========================================================

The figure's point (Sec. 1 and Sec. 2): classifiers rely on the cluster assumption, which "only
holds for the normal class", so they "only learn to recognize anomalies similar to those seen
during training" and miss the *novel* anomalies that appear at test time (bottom left); one-class
learners describe the normal data but cannot use labeled anomalies; Deep SAD uses all of it.
The paper gives no numbers for Figure 1: :func:`comparison_frame` turns each panel's qualitative
claim into a check on our test AUCs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import StratifiedKFold
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.svm import SVC, OneClassSVM

from semiad.core.detectors.base import KNOWN_ANOMALY, KNOWN_NORMAL, UNLABELED, BaseDetector
from semiad.core.detectors.deep_sad import DeepSAD
from semiad.core.detectors.shallow import OCSVM
from semiad.core.metrics import auc
from semiad.core.plotting import COLORS, score_map_panel
from semiad.core.profiles import check_profile
from semiad.core.seeding import seed_everything

#: Kinds of points (``ToyData.kind_train`` / ``ToyData.kind_test``).
NORMAL, KNOWN, NOVEL = "normal", "known anomaly", "novel anomaly"

#: Method keys in panel order, with the panel titles of Figure 1.
PANELS: dict[str, str] = {
    "ocsvm": "(b) Unsupervised AD (OC-SVM)",
    "supervised_svm": "(c) Supervised classifier (SVM)",
    "semi_supervised_svm": "(d) Semi-supervised classifier",
    "lpue": "(e) Semi-supervised LPUE",
    "deep_sad": "(f) Semi-supervised AD (Deep SAD)",
}

#: Sizes per profile: training epochs of Deep SAD (and of its autoencoder pre-training) and the
#: score-grid resolution. Profiles change sizes only, never code paths; the data are the same.
PROFILE_SIZES: dict[str, dict[str, int]] = {
    "smoke": {"n_epochs": 10, "ae_n_epochs": 10, "resolution": 60},
    "quick": {"n_epochs": 150, "ae_n_epochs": 100, "resolution": 250},
    "paper": {"n_epochs": 150, "ae_n_epochs": 100, "resolution": 250},
}

#: Plot window of the toy data.
XLIM: tuple[float, float] = (-4.0, 4.0)
YLIM: tuple[float, float] = (-4.0, 3.0)

# Geometry. The normal class is a crescent (an arc opening downwards, with radial noise). The
# known anomalies form a compact cluster just outside its right arm: close enough that a smooth
# one-class boundary partly swallows them. The novel anomalies sit bottom left, on the "normal"
# side of any surface that separates the normals from the known anomalies.
_ARC_CENTER, _ARC_RADIUS, _ARC_NOISE = np.array([0.0, -1.0]), 2.2, 0.28
_KNOWN_CENTER, _KNOWN_STD = np.array([2.6, 0.9]), 0.22
_NOVEL_CENTER, _NOVEL_STD = np.array([-2.6, -2.7]), 0.35


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ToyData:
    """The Figure 1 toy problem.

    ``y_semi``: +1 labeled normal, 0 unlabeled, -1 labeled anomaly (package convention);
    ``y_train``/``y_test``: ground truth, 1 = anomaly; ``kind_train``/``kind_test``: "normal",
    "known anomaly" or "novel anomaly" (novel anomalies occur only in the test set).
    """

    X_train: np.ndarray
    y_semi: np.ndarray
    y_train: np.ndarray
    kind_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    kind_test: np.ndarray

    @property
    def X_novel(self) -> np.ndarray:
        """The novel test anomalies (drawn in every score-map panel)."""
        return self.X_test[self.kind_test == NOVEL]


def _crescent(rng: np.random.Generator, n: int) -> np.ndarray:
    angle = rng.uniform(0.0, np.pi, size=n)
    radius = _ARC_RADIUS + _ARC_NOISE * rng.standard_normal(n)
    return _ARC_CENTER + radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])


def _cluster(rng: np.random.Generator, center: np.ndarray, std: float, n: int) -> np.ndarray:
    return center + std * rng.standard_normal((n, 2))


def make_toy_2d(rng: np.random.Generator, n_unlabeled: int = 400, n_labeled_normal: int = 20,
                n_labeled_anomaly: int = 10, n_novel: int = 40, n_test_normal: int = 400,
                n_test_known: int = 40, pollution_ratio: float = 0.02) -> ToyData:
    """Draw the toy data of Figure 1 (a) and a held-out test set.

    Training: ``n_unlabeled`` "mostly normal" unlabeled points — a share ``pollution_ratio`` of
    them are unlabeled anomalies of the known type (Sec. 1: unlabeled data "possibly containing
    some anomalous contamination") — plus ``n_labeled_normal`` labeled normals and
    ``n_labeled_anomaly`` labeled anomalies. Test: ``n_test_normal`` normals, ``n_test_known``
    anomalies of the known type and ``n_novel`` novel anomalies of a type never seen in training.
    """
    sizes = dict(n_unlabeled=n_unlabeled, n_labeled_normal=n_labeled_normal,
                 n_labeled_anomaly=n_labeled_anomaly, n_novel=n_novel,
                 n_test_normal=n_test_normal, n_test_known=n_test_known)
    if any(v < 0 for v in sizes.values()):
        raise ValueError(f"sizes must be non-negative, got {sizes}")
    if not 0 <= pollution_ratio < 1:
        raise ValueError(f"pollution_ratio must be in [0, 1), got {pollution_ratio}")
    n_polluted = int(round(pollution_ratio * n_unlabeled))
    n_clean = n_unlabeled - n_polluted
    X_train = np.vstack([_crescent(rng, n_clean),
                         _cluster(rng, _KNOWN_CENTER, _KNOWN_STD, n_polluted),
                         _crescent(rng, n_labeled_normal),
                         _cluster(rng, _KNOWN_CENTER, _KNOWN_STD, n_labeled_anomaly)])
    y_semi = np.repeat([UNLABELED, KNOWN_NORMAL, KNOWN_ANOMALY],
                       [n_unlabeled, n_labeled_normal, n_labeled_anomaly]).astype(np.int64)
    kind_train = np.repeat([NORMAL, KNOWN, NORMAL, KNOWN],
                           [n_clean, n_polluted, n_labeled_normal, n_labeled_anomaly])

    X_test = np.vstack([_crescent(rng, n_test_normal),
                        _cluster(rng, _KNOWN_CENTER, _KNOWN_STD, n_test_known),
                        _cluster(rng, _NOVEL_CENTER, _NOVEL_STD, n_novel)])
    kind_test = np.repeat([NORMAL, KNOWN, NOVEL], [n_test_normal, n_test_known, n_novel])
    return ToyData(X_train=X_train.astype(np.float32), y_semi=y_semi,
                   y_train=(kind_train != NORMAL).astype(np.int64), kind_train=kind_train,
                   X_test=X_test.astype(np.float32),
                   y_test=(kind_test != NORMAL).astype(np.int64), kind_test=kind_test)


# ----------------------------------------------------------------------------- detectors
class SupervisedSVM(BaseDetector):
    """Panel (c): an RBF SVM separating the labeled anomalies from all other training data.

    App. E's convention for the supervised baseline: "assigning y = +1 to all unlabeled
    examples". Classes are weighted inversely to their size (a handful of anomalies vs hundreds
    of normals). Score = the SVM's decision function (positive = anomaly side).
    """

    uses_labeled_anomalies = True

    def __init__(self, gamma: float = 0.1, C: float = 1.0):
        self.gamma = gamma
        self.C = C

    def _fit(self, X, y_semi):
        if not np.any(y_semi == KNOWN_ANOMALY):
            raise ValueError("the supervised classifier needs at least one labeled anomaly")
        self.model_ = SVC(kernel="rbf", gamma=self.gamma, C=self.C, class_weight="balanced")
        self.model_.fit(X.astype(np.float64), (y_semi == KNOWN_ANOMALY).astype(int))

    def _score(self, X):
        return self.model_.decision_function(X.astype(np.float64))


class _PlattSVC(ClassifierMixin, BaseEstimator):
    """Class-balanced RBF SVM with in-sample Platt scaling: the probabilities self-training needs.

    (``SVC(probability=True)`` is deprecated and ``CalibratedClassifierCV`` needs several labeled
    anomalies per fold; in-sample Platt scaling works with a single one.)
    """

    def __init__(self, gamma: float = 0.1, C: float = 1.0):
        self.gamma = gamma
        self.C = C

    def fit(self, X, y):
        self.svc_ = SVC(kernel="rbf", gamma=self.gamma, C=self.C, class_weight="balanced")
        self.svc_.fit(X, y)
        self.classes_ = self.svc_.classes_
        self.platt_ = LogisticRegression().fit(self.svc_.decision_function(X)[:, None], y)
        return self

    def decision_function(self, X):
        return self.svc_.decision_function(X)

    def predict_proba(self, X):
        return self.platt_.predict_proba(self.decision_function(X)[:, None])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class SelfTrainingSVM(BaseDetector):
    """Panel (d): a semi-supervised classifier — self-training around an RBF SVM.

    Starts from the labeled normals (class 0) and labeled anomalies (class 1), then repeatedly
    adds the unlabeled points it is most confident about (P >= ``threshold``) with its predicted
    label: the cluster assumption at work. Score = the final SVM's decision function.
    """

    uses_labeled_anomalies = True

    def __init__(self, gamma: float = 0.1, C: float = 1.0, threshold: float = 0.9,
                 max_iter: int = 10):
        self.gamma = gamma
        self.C = C
        self.threshold = threshold
        self.max_iter = max_iter

    def _fit(self, X, y_semi):
        if not (np.any(y_semi == KNOWN_ANOMALY) and np.any(y_semi == KNOWN_NORMAL)):
            raise ValueError("self-training needs labeled normals and labeled anomalies")
        target = np.select([y_semi == KNOWN_ANOMALY, y_semi == KNOWN_NORMAL], [1, 0], -1)
        self.model_ = SelfTrainingClassifier(_PlattSVC(self.gamma, self.C),
                                             threshold=self.threshold, max_iter=self.max_iter)
        self.model_.fit(X.astype(np.float64), target)

    def _score(self, X):
        return self.model_.decision_function(X.astype(np.float64))


class LabeledNormalOCSVM(BaseDetector):
    """Panel (e): LPUE as most "semi-supervised" AD methods do it (Sec. 1): a one-class model of
    the unlabeled data in which the *labeled normals* count more; labeled anomalies are unused.

    A one-class SVM whose labeled normals carry ``labeled_weight`` times the slack penalty of an
    unlabeled point (scikit-learn's ``sample_weight``), which pushes the boundary to enclose
    them — the labeled-normal part of SSAD (Goernitz et al., 2013).
    """

    uses_labeled_anomalies = False

    def __init__(self, gamma: float = 0.5, nu: float = 0.05, labeled_weight: float = 5.0):
        if labeled_weight <= 0:
            raise ValueError(f"labeled_weight must be > 0, got {labeled_weight}")
        self.gamma = gamma
        self.nu = nu
        self.labeled_weight = labeled_weight

    def _fit(self, X, y_semi):
        weight = np.where(y_semi == KNOWN_NORMAL, self.labeled_weight, 1.0)
        self.model_ = OneClassSVM(kernel="rbf", gamma=self.gamma, nu=self.nu)
        self.model_.fit(X.astype(np.float64), sample_weight=weight)

    def _score(self, X):
        return -self.model_.decision_function(X.astype(np.float64))


class _KernelLogisticRegression:
    """Logistic regression on exact RBF kernel features k(x, x_j), x_j = the training points."""

    def __init__(self, gamma: float, C: float):
        self.gamma = gamma
        self.C = C

    def fit(self, X: np.ndarray, y: np.ndarray) -> _KernelLogisticRegression:
        self.centers_ = X
        self.model_ = LogisticRegression(C=self.C, max_iter=5000)
        self.model_.fit(rbf_kernel(X, X, gamma=self.gamma), y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(class 1 | x)."""
        return self.model_.predict_proba(rbf_kernel(X, self.centers_, gamma=self.gamma))[:, 1]


class ElkanNotoPU(BaseDetector):
    """Alternative LPUE for panel (e): PU learning of Elkan & Noto (2008).

    Fit a probabilistic classifier g(x) = P(labeled | x) on labeled normals vs unlabeled data
    (kernel logistic regression). If the labeled normals are a random subset of all normals,
    P(normal | x) = g(x) / c with c = E[g(x) | x labeled], estimated on held-out labeled normals
    (their estimator e1; here cross-fitted over ``n_folds`` folds). Score = 1 - g(x) / c, not
    clipped to [0, 1] (clipping would only create ties). Caveat shown in the notebook: far from
    all training data g(x) is set by the classifier's intercept alone, so whether novel anomalies
    look normal or anomalous is decided by chance, not by the data.
    """

    uses_labeled_anomalies = False

    def __init__(self, gamma: float = 0.5, C: float = 10.0, n_folds: int = 3,
                 random_state: int = 0):
        self.gamma = gamma
        self.C = C
        self.n_folds = n_folds
        self.random_state = random_state

    def _fit(self, X, y_semi):
        labeled = (y_semi == KNOWN_NORMAL).astype(int)
        if labeled.sum() < self.n_folds or labeled.sum() == len(labeled):
            raise ValueError(f"Elkan-Noto needs >= {self.n_folds} labeled normals and some "
                             "unlabeled data")
        X = X.astype(np.float64)
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.random_state)
        g_held_out = []
        for train, held in folds.split(X, labeled):
            g = _KernelLogisticRegression(self.gamma, self.C).fit(X[train], labeled[train])
            g_held_out.append(g.predict_proba(X[held[labeled[held] == 1]]))
        self.c_ = float(np.concatenate(g_held_out).mean())
        self.model_ = _KernelLogisticRegression(self.gamma, self.C).fit(X, labeled)

    def _score(self, X):
        return 1.0 - self.model_.predict_proba(X.astype(np.float64)) / self.c_


def toy_detectors(seed: int = 0, n_epochs: int = 150, ae_n_epochs: int | None = None,
                  device: str = "auto", eta: float = 1.0, one_class_gamma: float = 0.5,
                  classifier_gamma: float = 0.1,
                  lpue: str = "one_class") -> dict[str, BaseDetector]:
    """The five models of Figure 1 (b)-(f), keyed as in :data:`PANELS` (unfitted).

    Kernel widths are set by hand for the toy data (coordinates of unit scale): the one-class
    methods need a narrow kernel (``one_class_gamma``) to follow the crescent; the classifiers get
    a wider one (``classifier_gamma``): a smooth separating surface, as drawn in the figure.
    ``lpue`` picks panel (e): "one_class" (:class:`LabeledNormalOCSVM`) or "elkan_noto"
    (:class:`ElkanNotoPU`). Deep SAD is the library's :class:`~semiad.core.detectors.deep_sad.DeepSAD`
    with a small bias-free MLP 2-64-32-16 (App. C), autoencoder pre-training and ``eta`` = 1
    (App. E); with only ~430 points it uses a larger learning rate (1e-3) and smaller batches (64)
    than App. E. (A 2-32-16-4 network also works, with a more jagged boundary.)
    """
    if lpue not in ("one_class", "elkan_noto"):
        raise ValueError(f"lpue must be 'one_class' or 'elkan_noto', got {lpue!r}")
    ae_n_epochs = n_epochs if ae_n_epochs is None else ae_n_epochs
    lpue_detector = (LabeledNormalOCSVM(gamma=one_class_gamma, nu=0.05, labeled_weight=5.0)
                     if lpue == "one_class" else ElkanNotoPU(gamma=0.5, C=10.0, random_state=seed))
    deep_sad = DeepSAD(eta=eta, hidden_dims=(64, 32), rep_dim=16, n_epochs=n_epochs, lr=1e-3,
                       lr_milestones=(max(1, int(0.7 * n_epochs)),), batch_size=64,
                       weight_decay=1e-6, ae_n_epochs=ae_n_epochs,
                       ae_lr_milestones=(max(1, int(0.7 * ae_n_epochs)),), device=device,
                       random_state=seed)
    return {
        "ocsvm": OCSVM(gamma=one_class_gamma, nu=0.05, random_state=seed),
        "supervised_svm": SupervisedSVM(gamma=classifier_gamma, C=1.0),
        "semi_supervised_svm": SelfTrainingSVM(gamma=classifier_gamma, C=1.0),
        "lpue": lpue_detector,
        "deep_sad": deep_sad,
    }


# ----------------------------------------------------------------------------- scoring
def score_grid(detector: BaseDetector, xlim: tuple[float, float] = XLIM,
               ylim: tuple[float, float] = YLIM,
               resolution: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores of a fitted detector on a ``resolution`` x ``resolution`` grid: ``(xx, yy, zz)``."""
    xx, yy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    zz = detector.decision_function(np.column_stack([xx.ravel(), yy.ravel()]))
    return xx, yy, zz.reshape(xx.shape)


def toy_aucs(data: ToyData, test_scores: np.ndarray) -> dict[str, float]:
    """Test AUCs: "auc" (all anomalies), "auc_novel" and "auc_known" (one kind vs the normals)."""
    normal = data.kind_test == NORMAL
    out = {"auc": auc(data.y_test, test_scores)}
    for metric, kind in (("auc_novel", NOVEL), ("auc_known", KNOWN)):
        if (data.kind_test == kind).any():
            keep = normal | (data.kind_test == kind)
            out[metric] = auc(data.y_test[keep], test_scores[keep])
    return out


@dataclass(frozen=True)
class Fig1Result:
    """What Figure 1 needs: data, grid scores, boundary levels and test AUCs per method."""

    seed: int
    profile: str
    data: ToyData
    xx: np.ndarray
    yy: np.ndarray
    grid_scores: dict[str, np.ndarray]
    test_scores: dict[str, np.ndarray]
    #: Boundary level per method: a quantile (default 95%) of its truly-normal training scores.
    thresholds: dict[str, float]
    aucs: dict[str, dict[str, float]]
    fit_seconds: dict[str, float] = field(default_factory=dict)


def run_fig1(seed: int = 0, profile: str = "quick", device: str = "auto",
             boundary_quantile: float = 0.95, detector_params: dict | None = None,
             **data_sizes) -> Fig1Result:
    """Fit the five paradigms of Figure 1 on one draw of the toy data; score grid and test set.

    ``data_sizes`` go to :func:`make_toy_2d` (e.g. ``n_labeled_anomaly=2``) and
    ``detector_params`` to :func:`toy_detectors` (e.g. ``{"eta": 10}``); the profile only sets
    the training epochs and the grid resolution. Each method's decision boundary is drawn at the
    ``boundary_quantile`` of its scores on the truly normal training points.
    """
    sizes = PROFILE_SIZES[check_profile(profile)]
    rng = seed_everything(seed)
    data = make_toy_2d(rng, **data_sizes)
    detectors = toy_detectors(seed, sizes["n_epochs"], sizes["ae_n_epochs"], device,
                              **(detector_params or {}))
    train_normal = data.X_train[data.kind_train == NORMAL]
    grid, test, thresholds, aucs, seconds = {}, {}, {}, {}, {}
    xx = yy = None
    for name, detector in detectors.items():
        t0 = time.perf_counter()
        detector.fit(data.X_train, data.y_semi)
        seconds[name] = time.perf_counter() - t0
        xx, yy, grid[name] = score_grid(detector, XLIM, YLIM, sizes["resolution"])
        test[name] = detector.decision_function(data.X_test)
        normal_scores = detector.decision_function(train_normal)
        thresholds[name] = float(np.quantile(normal_scores, boundary_quantile))
        aucs[name] = toy_aucs(data, test[name])
    return Fig1Result(seed, profile, data, xx, yy, grid, test, thresholds, aucs, seconds)


# ----------------------------------------------------------------------------- tables
def results_frame(result: Fig1Result) -> pd.DataFrame:
    """Tidy results: method, dataset ("toy2d"), setting ("fig1"), seed, metric, value.

    ``metric`` is "auc" (normals vs all test anomalies), "auc_novel" or "auc_known"; ``value``
    is the AUC in [0, 1].
    """
    rows = [{"method": method, "dataset": "toy2d", "setting": "fig1", "seed": result.seed,
             "metric": metric, "value": value}
            for method, metrics in result.aucs.items() for metric, value in metrics.items()]
    return pd.DataFrame(rows, columns=["method", "dataset", "setting", "seed", "metric", "value"])


#: Figure 1's qualitative claim per panel (caption, Sec. 1 and Sec. 2) and the check we apply to
#: our test AUCs. The paper reports no numbers for this figure.
PAPER_CLAIMS: dict[str, tuple[str, str]] = {
    "ocsvm": ("Unsupervised one-class learning describes the (mostly normal) data, so it also "
              "flags novel anomalies, but it cannot use the labeled anomalies.",
              "novel AUC > supervised SVM's novel AUC, and known-anomaly AUC <= Deep SAD's"),
    "supervised_svm": ("A supervised classifier only learns to recognize anomalies similar to "
                       "those seen during training and misses the novel anomalies (Sec. 2).",
                       "novel AUC < its own known-anomaly AUC and < Deep SAD's novel AUC"),
    "semi_supervised_svm": ("A semi-supervised classifier relies on the cluster assumption, "
                            "which is invalid for the anomaly class: it misses novel anomalies "
                            "too.",
                            "novel AUC < its own known-anomaly AUC and < Deep SAD's novel AUC"),
    "lpue": ("LPUE uses labeled normals but no labeled anomalies, so the labeled anomalies "
             "cannot sharpen its boundary.",
             "known-anomaly AUC <= Deep SAD's known-anomaly AUC"),
    "deep_sad": ("Semi-supervised AD uses unlabeled data, labeled normals and labeled "
                 "anomalies: a compact description of the normal class that also excludes the "
                 "known anomalies.",
                 "overall AUC >= every other panel's overall AUC"),
}


def _claim_holds(method: str, aucs: dict[str, dict[str, float]]) -> bool:
    own, deep_sad = aucs[method], aucs["deep_sad"]
    if method == "ocsvm":
        return (own["auc_novel"] > aucs["supervised_svm"]["auc_novel"]
                and own["auc_known"] <= deep_sad["auc_known"])
    if method in ("supervised_svm", "semi_supervised_svm"):
        return own["auc_novel"] < own["auc_known"] and own["auc_novel"] < deep_sad["auc_novel"]
    if method == "lpue":
        return own["auc_known"] <= deep_sad["auc_known"]
    if method == "deep_sad":
        return all(deep_sad["auc"] >= other["auc"] for other in aucs.values())
    raise ValueError(f"no Figure 1 claim for method {method!r}")


def comparison_frame(result: Fig1Result) -> pd.DataFrame:
    """Paper vs ours for Figure 1: each panel's qualitative claim next to our test AUCs (in %).

    Columns: panel, method, paper_claim, check (the test applied to our numbers),
    ours_auc_all, ours_auc_novel, ours_auc_known (rounded to 0.01), claim_holds (computed from
    the unrounded AUCs).
    """
    rows = []
    for method, (claim, check) in PAPER_CLAIMS.items():
        a = result.aucs[method]
        rows.append({"panel": PANELS[method][:3], "method": method, "paper_claim": claim,
                     "check": check, "ours_auc_all": round(100 * a["auc"], 2),
                     "ours_auc_novel": round(100 * a["auc_novel"], 2),
                     "ours_auc_known": round(100 * a["auc_known"], 2),
                     "claim_holds": _claim_holds(method, result.aucs)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- figure
def _scatter_training(ax, data: ToyData, small: bool = False) -> None:
    unl, lab_normal, lab_anomaly = (data.y_semi == v
                                    for v in (UNLABELED, KNOWN_NORMAL, KNOWN_ANOMALY))
    scale = 0.6 if small else 1.0
    ax.scatter(*data.X_train[unl].T, s=9 * scale, c=COLORS["unlabeled"], lw=0,
               alpha=0.55 if small else 0.7, label="unlabeled (mostly normal)", zorder=3)
    ax.scatter(*data.X_train[lab_normal].T, s=30 * scale, c=COLORS["labeled_normal"],
               edgecolors="white", lw=0.6, label="labeled normal", zorder=4)
    ax.scatter(*data.X_train[lab_anomaly].T, s=34 * scale, c=COLORS["labeled_anomaly"],
               edgecolors="black", lw=0.6, marker="D", label="labeled anomaly", zorder=4)


def plot_fig1(result: Fig1Result):
    """The 2 x 3 figure: (a) training data; (b)-(f) score map, boundary, novel test anomalies.

    Panel titles carry the test AUC (normals vs all test anomalies) and the novel-anomaly AUC.
    """
    import matplotlib.pyplot as plt

    data, novel = result.data, result.data.X_novel
    fig, axes = plt.subplots(2, 3, figsize=(12.0, 7.6))
    axes = axes.ravel()
    ax = axes[0]
    _scatter_training(ax, data)
    center, radius = novel.mean(axis=0), 2.2 * novel.std(axis=0).max() + 0.2
    ax.add_patch(plt.Circle(center, radius, fill=False, ls="--", lw=1.2,
                            color=COLORS["novel_anomaly"]))
    ax.annotate("novel anomalies\nappear here\nat test time", center + [radius + 0.2, 0.0],
                ha="left", va="center", fontsize=9, color=COLORS["novel_anomaly"])
    ax.set(xlim=XLIM, ylim=YLIM, xticks=[], yticks=[], title="(a) Training data", aspect="equal")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set(visible=True, color="0.6", linewidth=0.8)
    filled = novel_handle = None
    for ax, (name, title) in zip(axes[1:], PANELS.items(), strict=True):
        a = result.aucs[name]
        title = f"{title}\ntest AUC {100 * a['auc']:.1f} · novel {100 * a['auc_novel']:.1f}"
        filled = score_map_panel(ax, result.xx, result.yy, result.grid_scores[name],
                                 threshold=result.thresholds[name], title=title)
        _scatter_training(ax, data, small=True)
        novel_handle = ax.scatter(*novel.T, s=30, marker="X", c=COLORS["novel_anomaly"],
                                  edgecolors="white", lw=0.5, zorder=5)
    handles, labels = axes[0].get_legend_handles_labels()
    handles += [novel_handle, plt.Line2D([], [], color=COLORS["boundary"], lw=1.6)]
    labels += ["novel anomaly (test)", "decision boundary"]
    fig.legend(handles, labels, loc="lower center", ncols=5, frameon=False, markerscale=1.4,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.05, 0.93, 1))
    bar = fig.colorbar(filled, cax=fig.add_axes((0.94, 0.3, 0.012, 0.4)), ticks=[0, 1])
    bar.ax.set_yticklabels(["low", "high"])
    bar.set_label("anomaly score")
    bar.outline.set_visible(False)
    return fig
