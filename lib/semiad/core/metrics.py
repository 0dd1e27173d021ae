"""Detection metrics: AUC, precision / recall / F1 (with point adjustment), the significance test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon
from sklearn.metrics import roc_auc_score


def auc(y_true, scores) -> float:
    """ROC AUC with ``y_true`` = 1 for anomalies and higher score = more anomalous."""
    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) != 2:
        raise ValueError("AUC needs both normal and anomalous samples in y_true")
    return float(roc_auc_score(y_true, scores))


def wilcoxon_first_vs_second(per_seed: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Paper's star: Wilcoxon signed-rank test between the best and second-best method.

    ``per_seed``: index = seed, columns = methods, values = AUC. Methods are ranked by mean AUC;
    the test pairs them seed by seed (two-sided, scipy's default zero handling).
    """
    means = per_seed.mean().sort_values(ascending=False)
    if len(means) < 2:
        return {"first": means.index[0] if len(means) else None, "second": None, "p": np.nan,
                "significant": False}
    first, second = means.index[0], means.index[1]
    pair = per_seed[[first, second]].dropna()
    diff = pair[first] - pair[second]
    if len(pair) < 2 or np.allclose(diff, 0):
        p = 1.0
    else:
        p = float(wilcoxon(pair[first], pair[second]).pvalue)
    return {"first": first, "second": second, "p": p, "significant": bool(p < alpha)}


# ------------------------------------------------ thresholded detection (RLAD Eqs. 9-11, DAGMM Sec. 4)
def anomaly_segments(y_true: np.ndarray, groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of consecutive 1s in a 0/1 array; a run never
    crosses a change of ``groups`` (e.g. series ids of concatenated series)."""
    y = np.asarray(y_true).astype(bool)
    n = len(y)
    if groups is None:
        cut = np.zeros(max(n - 1, 0), dtype=bool)
    else:
        groups = np.asarray(groups)
        if groups.shape != y.shape:
            raise ValueError(f"groups {groups.shape} and y_true {y.shape} differ in shape")
        cut = groups[1:] != groups[:-1]
    prev_in = np.concatenate(([False], y[:-1] & ~cut)) if n else y
    next_in = np.concatenate((y[1:] & ~cut, [False])) if n else y
    return np.flatnonzero(y & ~prev_in), np.flatnonzero(y & ~next_in) + 1


def point_adjusted(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Point-adjusted predictions (H. Xu et al., "Unsupervised anomaly detection via variational
    auto-encoder for seasonal KPIs in web applications", WWW 2018, Sec. 4.2).

    A true anomalous segment (run of consecutive anomalous points, not crossing a change of
    ``groups``) counts as wholly detected if any of its points is predicted anomalous; predictions
    outside segments are unchanged. RLAD's formulas (Sec. 6.2, Eq. 9-11) use no adjustment; this
    is the common variant. Points must be in time order.
    """
    y_true = np.asarray(y_true).astype(bool)
    adjusted = np.asarray(y_pred).astype(bool).copy()
    if y_true.shape != adjusted.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {adjusted.shape} differ in shape")
    starts, ends = anomaly_segments(y_true, groups)
    if len(starts):
        csum = np.concatenate(([0], np.cumsum(adjusted)))
        hit = (csum[ends] - csum[starts]) > 0  # the segment has at least one predicted point
        seg_id = np.repeat(np.arange(len(starts)), ends - starts)
        adjusted[y_true] = hit[seg_id]  # segments cover exactly the anomalous points, in order
    return adjusted


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray, point_adjust: bool = False,
                        groups: np.ndarray | None = None) -> dict[str, float]:
    """Precision, recall and F1 of RLAD Sec. 6.2 (Eq. 9-11) on 0/1 labels (1 = anomaly).

    ``point_adjust=True`` applies :func:`point_adjusted` first (segments split at ``groups``
    changes). An undefined ratio (0/0) is reported as 0. RLAD (:mod:`semiad.rlad.agent`) uses this one.
    """
    y_true = np.asarray(y_true).astype(bool)
    y_pred = point_adjusted(y_true, y_pred, groups) if point_adjust else np.asarray(y_pred).astype(bool)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    tp = int(np.sum(y_true & y_pred))
    fp = int(np.sum(~y_true & y_pred))
    fn = int(np.sum(y_true & ~y_pred))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}
