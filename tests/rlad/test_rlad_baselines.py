"""RLAD (issue #7) unsupervised time-series baselines: SPOT/DSPOT, SR, SR-CNN, AE, Luminol, F1 sweep."""

from __future__ import annotations

import numpy as np
import pytest

from semiad.rlad.baselines import (
    DSPOT,
    SPOT,
    SRCNN,
    WindowAutoencoder,
    best_f1_threshold,
    luminol_available,
    luminol_scores,
    point_adjusted,
    precision_recall_f1,
    spectral_residual,
    windows_ending_at_each_point,
)


def _seasonal(n: int, seed: int, period: int = 50, noise: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 0.5 + 0.3 * np.sin(2 * np.pi * t / period) + noise * rng.standard_normal(n)


# ---- SPOT / DSPOT --------------------------------------------------------------------------

@pytest.mark.parametrize("dist", ["exponential", "gaussian"])
def test_spot_threshold_has_rate_q_on_fresh_data(dist):
    """q = 1e-4 (RLAD): over 20 seeds the exceedance rate of the final z_q on 2e6 fresh points
    was 0.8-2.5 q (exponential) and 0.77-2.7 q (Gaussian): tolerance [q/3, 3q]."""
    q = 1e-4
    rng = np.random.default_rng(3)
    draw = (lambda n: rng.exponential(size=n)) if dist == "exponential" else rng.standard_normal
    spot = SPOT(q=q, level=0.98, side="upper").fit(draw(20_000))
    result = spot.predict(draw(20_000))
    z = spot.thresholds["upper"]
    assert result.alarms.shape == (20_000,) and result.lower is None
    rate = np.mean(draw(2_000_000) > z)
    assert q / 3 <= rate <= 3 * q, (z, rate)
    if dist == "exponential":
        assert abs(z - np.log(1 / q)) < 1.0  # true 1 - q quantile of Exp(1) is ln(1/q) = 9.21


def test_spot_two_sided_flags_spikes_and_dips():
    rng = np.random.default_rng(0)
    calib, stream = rng.standard_normal(5000), rng.standard_normal(2000)
    stream[[300, 1500]] = [12.0, -12.0]
    res = SPOT(q=1e-4).fit_predict(calib, stream)
    assert res.alarms[300] and res.alarms[1500]
    assert res.alarms.sum() <= 4
    assert np.all(res.lower < 0) and np.all(res.upper > 0)


def test_dspot_follows_a_drifting_mean():
    rng = np.random.default_rng(1)
    n_cal, n = 4000, 4000
    t = np.arange(n_cal + n)
    series = 0.01 * t + 0.1 * rng.standard_normal(len(t))  # the mean drifts by 80 noise sd
    spikes = n_cal + np.array([500, 1200, 2100, 2900, 3600])
    series[spikes] += 2.0  # 20 noise sd
    calib, stream = series[:n_cal], series[n_cal:]
    res = DSPOT(depth=10, q=1e-4).fit_predict(calib, stream)
    assert res.alarms[spikes - n_cal].all()
    # seeds 0-7 gave 0-6 false alarms (q = 1e-4 per tail, 4000 points, z_q extrapolated from 80 peaks)
    assert res.alarms.sum() <= len(spikes) + 8
    # the thresholds move with the level; plain SPOT calibrated on the past flags the drifted stream
    assert res.upper[-1] - res.upper[0] > 30
    assert SPOT(q=1e-4).fit_predict(calib, stream).alarms.mean() > 0.9


# ---- Spectral Residual / SR-CNN ------------------------------------------------------------

def test_spectral_residual_scores_a_spike_above_its_neighbours():
    x = _seasonal(1000, seed=2)
    x[600] += 1.0
    score = spectral_residual(x)
    assert score.shape == x.shape and np.isfinite(score).all()
    assert int(np.argmax(score)) == 600
    assert score[600] > 3.0  # the paper's decision threshold tau = 3
    assert score[600] > 3 * np.max(np.abs(np.delete(score[550:650], 50)))


def test_srcnn_ranks_a_planted_spike_high():
    train = _seasonal(800, seed=4)
    test = _seasonal(400, seed=5)
    test[200] += 1.0
    model = SRCNN(n_copies=2, epochs=3, seed=0).fit(train)
    score = model.score(test)
    assert score.shape == test.shape and ((score >= 0) & (score <= 1)).all()
    assert score[200] >= np.quantile(score, 0.99)


# ---- Autoencoder ---------------------------------------------------------------------------

def test_autoencoder_detects_a_planted_anomaly():
    x = _seasonal(1500, seed=6, noise=0.02)
    x[1200:1203] += 0.6
    model = WindowAutoencoder(epochs=20, seed=0).fit(x[:1000])
    score = model.score(x)
    assert score.shape == x.shape
    top = int(np.argmax(score))
    assert 1200 <= top < 1203 + 25  # a window ending there contains the anomaly
    assert score[top] > 5 * np.quantile(score[:1150], 0.99)


def test_windows_ending_at_each_point():
    w = windows_ending_at_each_point(np.arange(5.0), 3)
    assert w.shape == (5, 3)
    assert w[0].tolist() == [0, 0, 0] and w[1].tolist() == [0, 0, 1] and w[4].tolist() == [2, 3, 4]


# ---- Threshold sweep and metrics -----------------------------------------------------------

def _brute_force(y, s, adjust, groups):
    best = (0.0, np.inf)
    for t in np.unique(s):
        f1 = precision_recall_f1(y, s >= t, point_adjust=adjust, groups=groups)["f1"]
        if f1 >= best[0]:
            best = (f1, t)
    return best


@pytest.mark.parametrize("adjust", [False, True])
@pytest.mark.parametrize("grouped", [False, True])
def test_exact_f1_sweep_matches_brute_force(adjust, grouped):
    rng = np.random.default_rng(7)
    n = 60
    groups = np.repeat([0, 1, 2], 20) if grouped else None  # three concatenated series
    for _ in range(30):
        y = (rng.random(n) < 0.15).astype(int)
        y[17:23] = 1  # a segment across the first series boundary
        s = np.round(rng.random(n) + 0.4 * y, 1)  # rounding makes ties
        got = best_f1_threshold(y, s, point_adjust=adjust, groups=groups)
        f1, t = _brute_force(y, s, adjust, groups)
        assert got["f1"] == pytest.approx(f1)
        assert got["threshold"] == t
        check = precision_recall_f1(y, s >= got["threshold"], point_adjust=adjust, groups=groups)
        assert got["precision"] == pytest.approx(check["precision"])
        assert got["recall"] == pytest.approx(check["recall"])


def test_point_adjust_and_metrics():
    y = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 1])
    p = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    assert point_adjusted(y, p).astype(int).tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]
    groups = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])  # the first segment is split between two series
    assert point_adjusted(y, p, groups).astype(int).tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    plain = precision_recall_f1(y, p)
    assert (plain["tp"], plain["fp"], plain["fn"]) == (2, 1, 4)
    adj = precision_recall_f1(y, p, point_adjust=True)
    assert (adj["tp"], adj["fp"], adj["fn"]) == (4, 1, 2)
    assert best_f1_threshold(np.zeros(5), np.arange(5.0))["f1"] == 0.0


# ---- Luminol -------------------------------------------------------------------------------

@pytest.mark.skipif(not luminol_available(), reason="luminol is not installed")
def test_luminol_scores_a_spike():
    x = _seasonal(600, seed=8)
    x[400] += 1.5
    had_asscalar = hasattr(np, "asscalar")
    score = luminol_scores(x)
    assert score.shape == x.shape and np.isfinite(score).all()
    assert 395 <= int(np.argmax(score)) <= 405
    assert hasattr(np, "asscalar") == had_asscalar  # the numpy shim is removed after the call
