"""Time-series detection metrics beside the strict pooled F1 of RLAD (issue #16).

Three families, all taking *per-series* arrays (one 1-D array per series, e.g. each series' test part):

* :func:`authors_f1` -- the evaluation of the RLAD authors' code (``shared/protocols/rlad.md``,
  "Evaluation as coded"): a ±5-step tolerance around true positives, then *smoothed* per-series
  precision and recall, averaged over series. The paper's F1 numbers most likely mean this.
* :func:`vus_pr` -- Volume Under the PR Surface (Paparrizos et al., VLDB 2022), threshold-free, on
  continuous scores, averaged over the series that contain an anomaly.
* :func:`range_f1` -- range-based F1 (Tatbul et al., NeurIPS 2018) on 0/1 predictions, pooled over series.

:func:`ts_metrics` wraps VUS-PR and range-F1 behind one call. Both come from ``tsadmetrics`` (1.0.16):
the only maintained PyPI package with both metrics that installs on Python 3.11 next to numpy 2 without
heavy dependencies (``vus`` 0.0.6 requires tensorflow; ``TSB-AD`` 1.5 and ``prts`` 1.0.0.3 pin numpy < 2);
its licence is GPL-3.0 (imported, not vendored).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The authors' tolerance ``RNG = 5`` (steps either side of a true positive).
AUTHORS_TOLERANCE = 5
#: VUS buffer sweep: buffers of 0 .. ``VUS_WINDOW // 2`` = 5 points either side of each anomaly
#: (the authors' ±5 tolerance as the widest buffer; ``tsadmetrics``' default would be 4).
VUS_WINDOW = 10
#: Range-based F1 parameters as in TSB-AD's ``metric_RF1`` (TheDatumOrg): recall alpha = 0.2 (weight of
#: the existence reward), precision alpha = 0 (Tatbul et al.'s precision has no existence term), flat
#: positional bias, reciprocal cardinality factor (1 / number of overlapping predicted ranges).
RANGE_F1_PARAMS = {"p_alpha": 0.0, "r_alpha": 0.2, "p_bias": "flat", "r_bias": "flat",
                   "cardinality_mode": "reciprocal"}

# outcome codes of one point (the values of the authors' rewards: TP 5, TN 1, FP -1, FN -5)
TP, TN, FP, FN = 5, 1, -1, -5


def _as_series(arrays: Sequence[np.ndarray], name: str) -> list[np.ndarray]:
    out = [np.asarray(a) for a in arrays]
    if any(a.ndim != 1 for a in out):
        raise ValueError(f"{name}: every series must be a 1-D array")
    return out


def _check_binary(a: np.ndarray, name: str) -> np.ndarray:
    if a.size and not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must be 0/1, found {np.unique(a)[:5]}")
    return a.astype(np.int64)


def split_by_group(values: np.ndarray, groups: np.ndarray) -> list[np.ndarray]:
    """``values`` cut into one array per series id of ``groups`` (ids ascending, order inside kept)."""
    values, groups = np.asarray(values), np.asarray(groups)
    if values.shape[:1] != groups.shape:
        raise ValueError(f"values {values.shape} and groups {groups.shape} differ in length")
    return [values[groups == g] for g in np.unique(groups)]


# ---------------------------------------------------------------------------------------------
# the authors' tolerant, smoothed per-series evaluation
# ---------------------------------------------------------------------------------------------

def authors_outcomes(y_true: np.ndarray, y_pred: np.ndarray,
                     tolerance: int = AUTHORS_TOLERANCE) -> np.ndarray:
    """Per point TP / TN / FP / FN (codes 5 / 1 / -1 / -5) after the authors' tolerance correction.

    The rule as coded (``q_learning_validator`` in the authors' ``RL_AL.py``; ``shared/protocols/rlad.md``):
    points are visited in time order; a false positive or false negative at ``i`` is corrected when the
    outcomes at ``i - tolerance .. i + tolerance`` (clipped to the series) contain a true positive, looking
    at the *current* outcomes. A corrected FP becomes a TN (the alarm is forgiven, it does not count as a
    hit); a corrected FN becomes a TP. Because earlier corrections are seen by later points, a corrected
    FN extends the tolerance forward: a detector that hits the first point of an anomalous segment gets
    every later point of the segment (and of segments starting <= ``tolerance`` steps after an FN turned
    TP) as TPs, while FNs more than ``tolerance`` steps *before* the first hit stay FNs.
    """
    y_true = _check_binary(np.asarray(y_true), "y_true")
    y_pred = _check_binary(np.asarray(y_pred), "y_pred")
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must be equal-length 1-D")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    out = np.where(y_true == 1, np.where(y_pred == 1, TP, FN), np.where(y_pred == 1, FP, TN))
    n = len(out)
    # Only FP/FN points are ever changed, each once, at its own turn: visiting the original wrong
    # points in order is the code's full loop.
    for i in np.flatnonzero(out < 0):
        if (out[max(0, i - tolerance):min(n, i + tolerance + 1)] == TP).any():
            out[i] = TN if out[i] == FP else TP
    return out


def authors_series_scores(y_true: np.ndarray, y_pred: np.ndarray,
                          tolerance: int = AUTHORS_TOLERANCE) -> dict[str, float]:
    """One series: tolerant counts (:func:`authors_outcomes`), then precision = (TP + 1) / (TP + FP + 1),
    recall = (TP + 1) / (TP + FN + 1) and F1 = 2PR / (P + R) (the code's "+1" smoothing: a series
    without anomalies and without alarms scores 1; one without anomalies but with k alarms has
    P = 1 / (k + 1), R = 1)."""
    out = authors_outcomes(y_true, y_pred, tolerance)
    tp, fp, fn = int(np.sum(out == TP)), int(np.sum(out == FP)), int(np.sum(out == FN))
    precision = (tp + 1) / (tp + fp + 1)
    recall = (tp + 1) / (tp + fn + 1)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall),
            "tp": tp, "fp": fp, "fn": fn}


def authors_f1(labels: Sequence[np.ndarray], predictions: Sequence[np.ndarray],
               tolerance: int = AUTHORS_TOLERANCE) -> dict[str, float]:
    """The authors' evaluation over held-out series: the mean over series of
    :func:`authors_series_scores`' precision, recall and F1 (the mean F1, not the F1 of the means).

    Returns ``precision``, ``recall``, ``f1`` and ``n_series``; NaNs when there is no series.
    """
    labels, predictions = _as_series(labels, "labels"), _as_series(predictions, "predictions")
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} label series but {len(predictions)} prediction series")
    rows = [authors_series_scores(y, p, tolerance) for y, p in zip(labels, predictions, strict=True)]
    if not rows:
        return {"precision": np.nan, "recall": np.nan, "f1": np.nan, "n_series": 0}
    return {**{k: float(np.mean([r[k] for r in rows])) for k in ("precision", "recall", "f1")},
            "n_series": len(rows)}


# ---------------------------------------------------------------------------------------------
# VUS-PR and range-based F1 (tsadmetrics)
# ---------------------------------------------------------------------------------------------

def vus_pr(labels: Sequence[np.ndarray], scores: Sequence[np.ndarray], window: int = VUS_WINDOW) -> float:
    """Mean VUS-PR over the series with at least one anomaly (undefined without one; NaN if none has).

    Per series ``tsadmetrics``' ``VusPr`` (the VUS authors' ``RangeAUC_volume_opt_mem``: range-AP at 250
    score quantiles, averaged over buffers 0 .. ``window // 2`` of sqrt-decaying soft labels around each
    anomaly). A detector with only 0/1 output is scored on its 0/1 predictions as scores.
    """
    from tsadmetrics.metrics.tem.tstm import VusPr

    labels, scores = _as_series(labels, "labels"), _as_series(scores, "scores")
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} label series but {len(scores)} score series")
    metric = VusPr(window=int(window))
    values = []
    for y, s in zip(labels, scores, strict=True):
        y = _check_binary(y, "labels")
        if y.shape != s.shape:
            raise ValueError(f"labels {y.shape} and scores {s.shape} differ in shape")
        if y.sum() == 0:
            continue
        s = np.asarray(s, np.float64)
        if not np.isfinite(s).all():
            raise ValueError("scores must be finite")
        values.append(float(metric.compute(y, s)))
    return float(np.mean(values)) if values else float("nan")


def range_f1(labels: Sequence[np.ndarray], predictions: Sequence[np.ndarray]) -> float:
    """Range-based F1 (Tatbul et al. 2018; parameters :data:`RANGE_F1_PARAMS`) pooled over series.

    The series are concatenated with one normal, unpredicted point between them, so that no range
    crosses a series border; range precision and recall only look at ranges, so this is the
    range-F1 over the union of all series' true and predicted ranges (false alarms on a series without
    anomalies count). NaN when no series has an anomaly; 0 without any alarm.
    """
    from tsadmetrics.metrics.tem.tpdm import RangebasedFScore

    labels, predictions = _as_series(labels, "labels"), _as_series(predictions, "predictions")
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} label series but {len(predictions)} prediction series")
    gap = np.zeros(1, np.int64)
    y = [piece for a in labels for piece in (_check_binary(a, "labels"), gap)]
    p = [piece for a in predictions for piece in (_check_binary(a, "predictions"), gap)]
    y_all = np.concatenate(y) if y else np.empty(0, np.int64)
    p_all = np.concatenate(p) if p else np.empty(0, np.int64)
    if y_all.shape != p_all.shape:
        raise ValueError("labels and predictions differ in length")
    if y_all.sum() == 0:
        return float("nan")
    if p_all.sum() == 0:
        return 0.0
    return float(RangebasedFScore(**RANGE_F1_PARAMS).compute(y_all, p_all))


def ts_metrics(labels: Sequence[np.ndarray], predictions: Sequence[np.ndarray],
               scores: Sequence[np.ndarray] | None = None) -> dict[str, float]:
    """``vus_pr`` (:func:`vus_pr` on ``scores``; on ``predictions`` when there are none) and ``range_f1``
    (:func:`range_f1` on ``predictions``) of per-series labels."""
    return {"vus_pr": vus_pr(labels, predictions if scores is None else scores),
            "range_f1": range_f1(labels, predictions)}
