"""The DADS contamination protocol: few labeled known-class anomalies, contaminated unlabeled data.

DADS Figure 2 plots AUC-ROC against the contamination rate of the unlabeled training data. The
split below implements the protocol as described by the DADS paper and its reproduction issue:

1. A stratified (by original class) train / validation / test split, 60 / 20 / 20 by default,
   drawn with ``np.random.default_rng(seed)``.
2. Labeled anomalies come from the KNOWN class of the train part only. Their number is 10 % of
   the anomalies: the paper text says "the number of known anomalies is set to be 10% of total
   anomalies" (``labeled_of="all_anomalies"``, default: 10 % of the train anomalies of *all*
   classes, drawn from the known class, capped by its size); the reproduction issue reads it as
   10 % of the known class in train (``labeled_of="known_class"``). Either way: rounded, at
   least 1.
3. The unlabeled set is every train normal plus anomalies drawn uniformly from the remaining
   train anomalies of all anomaly classes (known remainder and unknown classes), so that the
   anomaly share of the unlabeled set equals ``contamination`` up to rounding to whole rows.
   When the anomaly pool is too small for that ratio, the train normals are subsampled instead
   (``info["normals_subsampled"]``). Train anomalies used neither way are dropped.
4. Validation and test keep every class in its natural proportion, so results can be reported
   on known and unknown anomalies separately (:meth:`ContaminationSplit.mask`).
5. Features are scaled with a scaler fit on the final training rows only (scikit-learn
   ``StandardScaler`` by default), then applied to validation and test.

The DADS authors' loader (``shared/protocols/dads.md``, "Data and protocol as coded") differs in four
options, each a keyword here (defaults = the protocol above): ``split="sklearn"`` (two stratified
``train_test_split`` calls with ``random_state=seed``, normal classes merged for stratification),
``scale="standard_minmax"`` (standardise, then min-max to [0, 1], both fit on train),
``labeled_rounding="floor"`` with ``labeled_of="known_class"`` (int(0.1 x known-class train anomalies),
at least 1), and ``contamination_count="per_normal"`` (int(min(c, anomaly share of the data) x
#train normals) unlabeled anomalies, capped by the pool; every train normal kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from semiad.core.data.splits import check_ratio, scale_parts
from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED
from semiad.dads.data import MultiClassDataset

LABELED_OF = ("all_anomalies", "known_class")
SCALES = ("standard", "minmax", "standard_minmax", None)
SPLITS = ("semiad", "sklearn")
ROUNDINGS = ("round", "floor")
CONTAMINATION_COUNTS = ("share", "per_normal")
MASK_KINDS = ("all", "known", "unknown")


@dataclass(frozen=True, eq=False)
class ContaminationSplit:
    """Train (labeled + unlabeled), validation and test parts of one DADS protocol draw.

    ``y_semi`` follows the package convention: ``-1`` labeled (known-class) anomaly, ``0``
    unlabeled. ``y_*`` are ground truth (1 = anomaly), ``cls_*`` the original classes and
    ``idx_*`` the rows of the source dataset, in the same order.
    """

    X_train: np.ndarray
    y_semi: np.ndarray
    y_train: np.ndarray
    cls_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    cls_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    cls_test: np.ndarray
    idx_train: np.ndarray  # row indices into the dataset's X, for audits and reproducibility
    idx_val: np.ndarray
    idx_test: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_labeled(self) -> int:
        return int(np.sum(self.y_semi == KNOWN_ANOMALY))

    @property
    def n_unlabeled(self) -> int:
        return int(np.sum(self.y_semi == UNLABELED))

    @property
    def realised_contamination(self) -> float:
        unl = self.y_semi == UNLABELED
        return float(self.y_train[unl].mean()) if unl.any() else 0.0

    def mask(self, kind: str = "all", part: str = "test") -> np.ndarray:
        """Boolean row mask of ``part`` ("train", "val" or "test") for per-kind evaluation.

        ``"known"`` keeps the normals and the known-class anomalies, ``"unknown"`` the normals and
        the unknown-class anomalies, ``"all"`` every row; so ``roc_auc_score(y[m], s[m])`` is the
        AUC of detecting that kind of anomaly among the normals.
        """
        if kind not in MASK_KINDS:
            raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
        try:
            y, cls = {"train": (self.y_train, self.cls_train), "val": (self.y_val, self.cls_val),
                      "test": (self.y_test, self.cls_test)}[part]
        except KeyError:
            raise ValueError(f"part must be 'train', 'val' or 'test', got {part!r}") from None
        if kind == "all":
            return np.ones(len(y), dtype=bool)
        if kind == "known":
            return (y == 0) | (cls == self.info["known_class"])
        return (y == 0) | np.isin(cls, list(self.info["unknown_classes"]))

    def test_mask(self, kind: str = "all") -> np.ndarray:
        """:meth:`mask` of the test part."""
        return self.mask(kind, "test")


def _stratified_three_way(classes: np.ndarray, fractions: tuple[float, float, float],
                          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class random split; each class contributes round(f * n_class) rows to train and val."""
    parts: tuple[list, list, list] = ([], [], [])
    for cls in np.unique(classes):
        idx = rng.permutation(np.flatnonzero(classes == cls))
        n_tr = int(round(fractions[0] * len(idx)))
        n_va = min(int(round(fractions[1] * len(idx))), len(idx) - n_tr)
        parts[0].append(idx[:n_tr])
        parts[1].append(idx[n_tr:n_tr + n_va])
        parts[2].append(idx[n_tr + n_va:])
    return tuple(np.concatenate(p).astype(np.int64) for p in parts)  # type: ignore[return-value]


def _stratifiable(strata: np.ndarray) -> np.ndarray:
    """``strata`` with every stratum of fewer than two rows (which ``train_test_split`` cannot stratify)
    merged into one ``"rare"`` stratum, itself merged into the smallest other anomaly stratum if it holds
    one row. Unchanged where every stratum has two rows or more (CTG, annthyroid, HAR: the authors' sets);
    shuttle's classes 6 and 7 (4 and 2 rows) need it."""
    names, counts = np.unique(strata, return_counts=True)
    rare = names[counts < 2]
    if not len(rare):
        return strata
    out = np.where(np.isin(strata, rare), "rare", strata)
    if (out == "rare").sum() < 2:
        others = [(c, n) for n, c in zip(names, counts, strict=True) if c >= 2 and n != "normal"]
        out[out == "rare"] = min(others)[1] if others else "normal"
    return out


def _sklearn_three_way(classes: np.ndarray, y: np.ndarray, fractions: tuple[float, float, float],
                       seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The authors' split: ``train_test_split`` of all rows (test share val + test), then of the rest
    (test share test / (val + test)), both stratified by class with the normal classes merged (classes
    too small to stratify pooled, :func:`_stratifiable`)."""
    strata = np.where(y == 0, "normal", classes.astype(str))
    rows = np.arange(len(y))
    train, rest = train_test_split(rows, test_size=fractions[1] + fractions[2],
                                   stratify=_stratifiable(strata), random_state=seed)
    val, test = train_test_split(rest, test_size=fractions[2] / (fractions[1] + fractions[2]),
                                 stratify=_stratifiable(strata[rest]), random_state=seed)
    return train.astype(np.int64), val.astype(np.int64), test.astype(np.int64)


def _unlabeled_counts(n_normal: int, n_pool: int, contamination: float) -> tuple[int, int, bool]:
    """(normals, anomalies, normals_subsampled) for an unlabeled set with the given anomaly share.

    All normals are kept and ``a = round(n * c / (1 - c))`` anomalies added, unless the pool holds
    fewer: then all ``n_pool`` are used and the normals cut to ``round(n_pool * (1 - c) / c)``.
    """
    if contamination == 0:
        return n_normal, 0, False
    if n_pool == 0:
        raise ValueError(f"contamination={contamination} needs unlabeled anomalies, but no train "
                         "anomaly is left after drawing the labeled ones")
    a = int(round(n_normal * contamination / (1 - contamination)))
    if a <= n_pool:
        return n_normal, a, False
    n = min(n_normal, int(round(n_pool * (1 - contamination) / contamination)))
    return n, n_pool, True


def make_contamination_split(ds: MultiClassDataset, contamination: float, seed: int, *,
                             labeled_fraction: float = 0.1, labeled_of: str = "all_anomalies",
                             train_val_test: tuple[float, float, float] = (0.6, 0.2, 0.2),
                             scale: str | None = "standard",
                             max_train: int | None = None, split: str = "semiad",
                             labeled_rounding: str = "round",
                             contamination_count: str = "share") -> ContaminationSplit:
    """One draw of the DADS protocol (module docstring) for ``contamination`` in [0, 1).

    ``labeled_fraction`` / ``labeled_of`` set the number of labeled known-class anomalies;
    ``max_train`` caps the *unlabeled* part by subsampling normals and unlabeled anomalies
    separately, keeping the contamination ratio (for quick/smoke profiles; recorded in ``info``).
    Same (dataset, contamination, seed, options) -> identical arrays.
    """
    check_ratio("contamination", contamination)
    if not 0 <= labeled_fraction <= 1:
        raise ValueError(f"labeled_fraction must be in [0, 1], got {labeled_fraction!r}")
    if labeled_of not in LABELED_OF:
        raise ValueError(f"labeled_of must be one of {LABELED_OF}, got {labeled_of!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    for key, value, allowed in (("split", split, SPLITS), ("labeled_rounding", labeled_rounding, ROUNDINGS),
                                ("contamination_count", contamination_count, CONTAMINATION_COUNTS)):
        if value not in allowed:
            raise ValueError(f"{key} must be one of {allowed}, got {value!r}")
    fractions = tuple(float(f) for f in train_val_test)
    if len(fractions) != 3 or min(fractions) < 0 or fractions[0] == 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"train_val_test must be three non-negative fractions summing to 1 with a "
                         f"positive train share, got {train_val_test!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if max_train is not None and max_train < 2:
        raise ValueError(f"max_train must be at least 2, got {max_train!r}")

    rng = np.random.default_rng(int(seed))
    classes, y = ds.classes, ds.y
    if split == "semiad":
        train, val, test = _stratified_three_way(classes, fractions, rng)  # type: ignore[arg-type]
    else:
        if min(fractions[1:]) == 0:
            raise ValueError("split='sklearn' needs positive validation and test shares")
        train, val, test = _sklearn_three_way(classes, y, fractions, int(seed))  # type: ignore[arg-type]

    tr_normal = train[y[train] == 0]
    tr_anom = train[y[train] == 1]
    tr_known = train[classes[train] == ds.known_class]
    base = len(tr_anom) if labeled_of == "all_anomalies" else len(tr_known)
    share = labeled_fraction * base
    n_lab = int(share) if labeled_rounding == "floor" else int(round(share))
    if labeled_fraction > 0 and len(tr_known) > 0:
        n_lab = max(n_lab, 1)
    labeled_capped = n_lab > len(tr_known)
    n_lab = min(n_lab, len(tr_known))
    labeled = rng.choice(tr_known, size=n_lab, replace=False) if n_lab else np.empty(0, np.int64)
    pool = np.setdiff1d(tr_anom, labeled)  # known remainder + every unknown class (sorted)

    if contamination_count == "share":
        n_norm, n_cont, normals_subsampled = _unlabeled_counts(len(tr_normal), len(pool), contamination)
    else:  # the authors' count: per train normal, the ratio capped at the data's anomaly share
        n_norm, normals_subsampled = len(tr_normal), False
        n_cont = min(int(len(tr_normal) * min(contamination, float(y.mean()))), len(pool))
    capped = max_train is not None and n_norm + n_cont > max_train
    if capped:
        n_cont = min(n_cont, int(round(contamination * max_train)))
        n_norm = min(n_norm, max_train - n_cont)  # type: ignore[operator]
    normals = rng.choice(tr_normal, size=n_norm, replace=False) if n_norm < len(tr_normal) else tr_normal
    contaminants = rng.choice(pool, size=n_cont, replace=False) if n_cont else np.empty(0, np.int64)

    train_idx = np.concatenate([normals, contaminants, labeled]).astype(np.int64)
    y_semi = np.r_[np.full(n_norm + n_cont, UNLABELED, np.int64), np.full(n_lab, KNOWN_ANOMALY, np.int64)]
    order = rng.permutation(len(train_idx))
    train_idx, y_semi = train_idx[order], y_semi[order]
    val_idx, test_idx = rng.permutation(val), rng.permutation(test)

    X_train, X_val, X_test = (ds.X[i].astype(np.float64) for i in (train_idx, val_idx, test_idx))
    scalers = {"standard": (StandardScaler,), "minmax": (MinMaxScaler,),
               "standard_minmax": (StandardScaler, MinMaxScaler), None: ()}[scale]
    X_train, X_val, X_test = scale_parts(X_train, (X_train, X_val, X_test), scalers)  # fit on train

    cont_classes, cont_counts = np.unique(classes[contaminants], return_counts=True)
    info: dict[str, Any] = {
        "dataset": ds.name, "source": ds.source, "seed": int(seed), "contamination": float(contamination),
        "realised_contamination": n_cont / (n_norm + n_cont) if n_norm + n_cont else 0.0,
        "n_labeled": n_lab, "n_unlabeled": n_norm + n_cont, "n_unlabeled_normals": n_norm,
        "n_unlabeled_anomalies": n_cont,
        "unlabeled_anomalies_per_class": {c.item(): int(k) for c, k in
                                          zip(cont_classes, cont_counts, strict=True)},
        "n_train_normals_available": len(tr_normal), "n_train_anomalies": len(tr_anom),
        "n_train_known": len(tr_known), "n_pool_anomalies": len(pool),
        "n_dropped_anomalies": len(pool) - n_cont,
        "normals_subsampled": bool(normals_subsampled), "labeled_capped": bool(labeled_capped),
        "max_train": max_train, "capped_by_max_train": bool(capped),
        "labeled_fraction": float(labeled_fraction), "labeled_of": labeled_of,
        "known_class": ds.known_class.item() if isinstance(ds.known_class, np.generic) else ds.known_class,
        "unknown_classes": tuple(ds.unknown_classes), "train_val_test": fractions, "scale": scale,
        "split": split, "labeled_rounding": labeled_rounding, "contamination_count": contamination_count,
        "n_val": len(val_idx), "n_test": len(test_idx),
    }
    return ContaminationSplit(
        X_train=X_train.astype(np.float32), y_semi=y_semi, y_train=y[train_idx], cls_train=classes[train_idx],
        X_val=X_val.astype(np.float32), y_val=y[val_idx], cls_val=classes[val_idx],
        X_test=X_test.astype(np.float32), y_test=y[test_idx], cls_test=classes[test_idx],
        idx_train=train_idx, idx_val=val_idx, idx_test=test_idx, info=info)
