"""Time-series metrics of semiad.rlad.metrics on hand-made series with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from semiad.rlad import metrics as M


def _series(n: int, ones) -> np.ndarray:
    a = np.zeros(n, np.int64)
    a[list(ones)] = 1
    return a


# ---------------------------------------------------------------------------------------------
# the authors' tolerant, smoothed per-series evaluation
def test_exact_hits_score_one():
    y = _series(60, [10, 30, 31])
    r = M.authors_series_scores(y, y.copy())
    assert (r["tp"], r["fp"], r["fn"]) == (3, 0, 0)
    assert r["precision"] == r["recall"] == r["f1"] == 1.0


def test_alarm_three_steps_off_an_unhit_anomaly_is_not_forgiven():
    # the tolerance is around a *true positive*: with no hit there is nothing to be near
    r = M.authors_series_scores(_series(60, [20]), _series(60, [23]))
    assert (r["tp"], r["fp"], r["fn"]) == (0, 1, 1)
    assert r["precision"] == r["recall"] == pytest.approx(1 / 2)


def test_false_alarm_three_steps_from_a_hit_is_forgiven_seven_steps_is_not():
    y = _series(60, [20])
    near = M.authors_series_scores(y, _series(60, [20, 23]))
    assert (near["tp"], near["fp"], near["fn"]) == (1, 0, 0)  # the FP at 23 became a TN, not a TP
    assert near["f1"] == 1.0
    far = M.authors_series_scores(y, _series(60, [20, 27]))
    assert (far["tp"], far["fp"], far["fn"]) == (1, 1, 0)
    assert far["precision"] == pytest.approx(2 / 3) and far["recall"] == 1.0
    assert far["f1"] == pytest.approx(0.8)


def test_missed_anomaly_within_tolerance_of_a_hit_becomes_a_true_positive():
    y = _series(60, [20, 25, 33])  # 25 is 5 after the hit at 20; 33 is 8 after 25
    r = M.authors_series_scores(y, _series(60, [20]))
    assert (r["tp"], r["fp"], r["fn"]) == (2, 0, 1)
    assert r["recall"] == pytest.approx(3 / 4) and r["precision"] == 1.0


def test_corrections_cascade_forward_through_a_segment_but_not_backward():
    segment = range(20, 30)
    first = M.authors_series_scores(_series(60, segment), _series(60, [20]))
    assert (first["tp"], first["fn"]) == (10, 0)  # each corrected FN is a TP for the next point
    last = M.authors_series_scores(_series(60, segment), _series(60, [29]))
    # 24..28 lie within 5 of the hit at 29; 20..23 are checked before 24 is corrected
    assert (last["tp"], last["fn"]) == (6, 4)


def test_series_without_anomalies_with_and_without_alarms():
    clean = M.authors_series_scores(np.zeros(40, np.int64), np.zeros(40, np.int64))
    assert clean["precision"] == clean["recall"] == clean["f1"] == 1.0
    noisy = M.authors_series_scores(np.zeros(40, np.int64), _series(40, [5, 30]))
    assert noisy["precision"] == pytest.approx(1 / 3) and noisy["recall"] == 1.0
    assert noisy["f1"] == pytest.approx(0.5)


def test_mean_over_series_is_the_mean_of_per_series_scores():
    ys = [np.zeros(40, np.int64), _series(60, [20])]
    ps = [_series(40, [5, 30]), _series(60, [20, 27])]  # F1 0.5 and 0.8
    r = M.authors_f1(ys, ps)
    assert r["n_series"] == 2
    assert r["f1"] == pytest.approx((0.5 + 0.8) / 2)
    assert r["precision"] == pytest.approx((1 / 3 + 2 / 3) / 2) and r["recall"] == 1.0
    assert np.isnan(M.authors_f1([], [])["f1"])


def test_tolerance_zero_is_plain_smoothed_counting_and_inputs_are_checked():
    r = M.authors_series_scores(_series(30, [10, 11]), _series(30, [10, 14]), tolerance=0)
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 1)
    with pytest.raises(ValueError):
        M.authors_series_scores(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError):
        M.authors_series_scores(np.array([0, 2]), np.array([0, 1]))


def test_split_by_group_keeps_order_inside_series():
    parts = M.split_by_group(np.array([1, 2, 3, 4, 5]), np.array([0, 0, 1, 1, 1]))
    assert [p.tolist() for p in parts] == [[1, 2], [3, 4, 5]]


# ---------------------------------------------------------------------------------------------
# VUS-PR and range-based F1
def test_perfect_detector_scores_one_on_both_metrics():
    ys = [_series(200, range(50, 55)), _series(150, [100])]
    out = M.ts_metrics(ys, [y.copy() for y in ys], [y.astype(float) for y in ys])
    assert out["vus_pr"] == pytest.approx(1.0) and out["range_f1"] == pytest.approx(1.0)


def test_range_f1_of_a_shifted_prediction_matches_the_hand_computation():
    # true range 40..44, predicted 42..46: 3 of 5 points overlap, one predicted range, one true range.
    # precision (alpha 0) = 3/5; recall (alpha 0.2) = 0.2 * 1 + 0.8 * 3/5 = 0.68
    y, p = _series(100, range(40, 45)), _series(100, range(42, 47))
    expected = 2 * 0.6 * 0.68 / (0.6 + 0.68)
    assert M.range_f1([y], [p]) == pytest.approx(expected)


def test_range_f1_pools_series_without_merging_ranges_across_borders():
    # series 1 ends on an anomaly, series 2 starts with an alarm: concatenated without a gap they
    # would merge into one range; with the gap the alarm is a false range (precision 1/2, recall 1)
    y1, p1 = _series(10, [9]), _series(10, [9])
    y2, p2 = np.zeros(10, np.int64), _series(10, [0])
    r_p, r_r = 0.5, 1.0
    assert M.range_f1([y1, y2], [p1, p2]) == pytest.approx(2 * r_p * r_r / (r_p + r_r))
    assert M.range_f1([y1, y2], [np.zeros(10, np.int64)] * 2) == 0.0
    assert np.isnan(M.range_f1([y2], [p2]))


def test_vus_pr_shifted_detector_lies_between_and_falls_with_the_shift():
    y = _series(300, range(100, 110))
    rng = np.random.default_rng(0)
    noise = 0.01 * rng.random(300)
    scores = {shift: np.roll(y, shift) + noise for shift in (0, 3, 30)}
    vus = {shift: M.vus_pr([y], [s]) for shift, s in scores.items()}
    assert vus[0] == pytest.approx(1.0, abs=1e-9)
    assert 0 < vus[30] < vus[3] < vus[0]


def test_vus_pr_averages_only_series_with_anomalies():
    y = _series(200, range(50, 55))
    perfect = y.astype(float)
    clean = np.zeros(200, np.int64)
    assert M.vus_pr([y, clean], [perfect, np.random.default_rng(1).random(200)]) == pytest.approx(1.0)
    assert np.isnan(M.vus_pr([clean], [np.zeros(200)]))
    with pytest.raises(ValueError, match="finite"):
        M.vus_pr([y], [np.full(200, np.nan)])
