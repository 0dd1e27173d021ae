"""Unsupervised univariate time-series baselines of RLAD (issue #7, paper Section 6.4).

Paper: RLAD, time-series anomaly detection with deep RL and active learning
(``../shared/papers/rlad_timeseries_rl_active.txt``), Section 6.4 compares against Luminol, SPOT /
DSPOT, SR-CNN, DAGMM, an autoencoder (replicator network) and Deep SAD; score-based methods get the
F1-maximising threshold. This module holds the univariate ones (DAGMM and Deep SAD live elsewhere):

* :class:`SPOT` and :class:`DSPOT` -- A. Siffer, P.-A. Fouque, A. Termier, C. Largouet, "Anomaly
  detection in streams with extreme value theory", KDD 2017 (Algorithms 1-3 there). Written here
  because no maintained package provides them: the only PyPI candidate, ``ads-evt`` 0.0.4 (2022,
  GPLv3), repackages the authors' reference script. The Generalised Pareto tail is fitted by
  maximum likelihood with :func:`scipy.stats.genpareto.fit` (location fixed at 0), not Grimshaw's
  trick of the paper; both maximise the same likelihood.
* :func:`spectral_residual` and :class:`SRCNN` -- H. Ren, B. Xu, Y. Wang, C. Yi, C. Huang, X. Kou,
  T. Xing, M. Yang, J. Tong, Q. Zhang, "Time-Series Anomaly Detection Service at Microsoft",
  KDD 2019 (Section 3: SR saliency map, Eq. 1-4 and the boundary extension; SR-CNN with
  synthetically injected anomalies, Eq. 5).
* :func:`luminol_scores` -- LinkedIn's ``luminol`` package (default ``AnomalyDetector``), if installed.
* :class:`WindowAutoencoder` -- replicator neural network of S. Hawkins, H. He, G. Williams,
  R. Baxter, "Outlier detection using replicator neural networks", DaWaK 2002 (three hidden
  layers; reconstruction error as outlyingness), applied to sliding windows.
* :func:`best_f1_threshold`, :func:`precision_recall_f1`, :func:`point_adjusted` -- evaluation.
  RLAD searched the threshold by Bayesian optimisation; the exact sweep here evaluates every
  distinct threshold, so its F1 is an upper bound of what Bayesian optimisation can find.

All scorers return one score per point (higher = more anomalous). A window scorer gives point ``i``
the score of the window that *ends* at ``i`` (RLAD Sec. 5.1 labels a window by its last point); the
first ``window - 1`` points, which end no full window, are scored on a window left-padded with the
first value. To score a test part with its history, score the whole series and slice.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import genpareto
from torch import nn

from semiad.core.metrics import anomaly_segments, point_adjusted, precision_recall_f1
from semiad.core.seeding import local_seed, torch_generator

#: RLAD Sec. 6.3: window size omega.
WINDOW = 25
#: RLAD Sec. 6.4: SPOT/DSPOT risk parameter ("e-4", i.e. 1e-4).
RISK_Q = 1e-4

__all__ = ["SPOT", "DSPOT", "SpotResult", "gpd_fit", "spectral_residual", "sr_saliency", "SRCNN",
           "inject_anomalies", "luminol_available", "luminol_scores", "WindowAutoencoder",
           "windows_ending_at_each_point", "point_adjusted", "precision_recall_f1", "best_f1_threshold"]


# ---------------------------------------------------------------------------------------------
# Evaluation: point-adjust, precision / recall / F1, exact F1-maximising threshold
# ---------------------------------------------------------------------------------------------

def best_f1_threshold(y_true: np.ndarray, scores: np.ndarray, point_adjust: bool = False,
                      groups: np.ndarray | None = None) -> dict[str, float]:
    """The F1-maximising threshold of a score (prediction ``scores >= threshold``), exact sweep.

    RLAD Sec. 6.4 searched this threshold by Bayesian optimisation; here every distinct score is
    tried, vectorised (sorting and cumulative counts, no loop over thresholds), so the F1 found is
    an upper bound of what Bayesian optimisation finds. With ``point_adjust=True`` the F1 is the
    point-adjusted one: a true segment is detected at threshold ``t`` iff its maximum score is
    ``>= t``, and then all its points are true positives (segments split at ``groups`` changes).
    Ties go to the largest threshold. Pool several series by concatenating them (with ``groups``).

    Returns ``threshold``, ``f1``, ``precision``, ``recall`` (``threshold = inf`` and zeros when
    there is no anomaly or no finite score).
    """
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.shape != scores.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and scores {scores.shape} must be equal-length 1-D")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN")
    n_pos = int(y_true.sum())
    none = {"threshold": math.inf, "f1": 0.0, "precision": 0.0, "recall": 0.0}
    if n_pos == 0 or len(scores) == 0:
        return none
    thresholds = np.unique(scores)  # ascending
    normal_sorted = np.sort(scores[~y_true])
    fp = len(normal_sorted) - np.searchsorted(normal_sorted, thresholds, side="left")
    if point_adjust:
        starts, ends = anomaly_segments(y_true, groups)
        # reduceat runs from a start to the next start: mask the normal points in between first.
        masked = np.where(y_true, scores, -np.inf)
        seg_max = np.maximum.reduceat(masked, starts)
        seg_len = (ends - starts).astype(np.int64)
        order = np.argsort(seg_max)
        seg_max, seg_len = seg_max[order], seg_len[order]
        tail = np.concatenate((np.cumsum(seg_len[::-1])[::-1], [0]))  # tail[k] = len of segs k..end
        tp = tail[np.searchsorted(seg_max, thresholds, side="left")]
    else:
        pos_sorted = np.sort(scores[y_true])
        tp = len(pos_sorted) - np.searchsorted(pos_sorted, thresholds, side="left")
    f1 = 2.0 * tp / (2.0 * tp + fp + (n_pos - tp))
    best = len(f1) - 1 - int(np.argmax(f1[::-1]))  # the largest threshold among ties
    if f1[best] <= 0:
        return none
    tp_b, fp_b = float(tp[best]), float(fp[best])
    return {"threshold": float(thresholds[best]), "f1": float(f1[best]),
            "precision": tp_b / (tp_b + fp_b), "recall": tp_b / n_pos}


# ---------------------------------------------------------------------------------------------
# SPOT / DSPOT (Siffer et al., KDD 2017)
# ---------------------------------------------------------------------------------------------

def gpd_fit(peaks: np.ndarray, start: tuple[float, float] | None = None) -> tuple[float, float]:
    """Maximum-likelihood Generalised Pareto fit ``(gamma, sigma)`` of peaks (excesses over ``t``).

    Uses :func:`scipy.stats.genpareto.fit` with the location fixed at 0 (Siffer et al. 2017 use
    Grimshaw's reduction of the same likelihood). ``start`` warm-starts the optimiser with the
    previous estimate. Falls back to the exponential tail (gamma = 0, sigma = mean) with fewer
    than 3 distinct peaks or when the fit fails or is degenerate.
    """
    peaks = np.asarray(peaks, dtype=np.float64)
    mean = float(peaks.mean()) if len(peaks) else 1.0
    if len(peaks) < 3 or np.ptp(peaks) <= 0:
        return 0.0, max(mean, 1e-12)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if start is not None and start[1] > 0:
                gamma, _, sigma = genpareto.fit(peaks, start[0], floc=0, scale=start[1])
            else:
                gamma, _, sigma = genpareto.fit(peaks, floc=0)
    except Exception:  # noqa: BLE001 - scipy raises several error types on degenerate samples
        return 0.0, max(mean, 1e-12)
    if not (np.isfinite(gamma) and np.isfinite(sigma)) or sigma <= 0:
        return 0.0, max(mean, 1e-12)
    return float(gamma), float(sigma)


def _pot_quantile(t: float, gamma: float, sigma: float, q: float, n: int, n_peaks: int) -> float:
    """Siffer et al. 2017, Eq. (1): ``z_q = t + sigma/gamma * ((q n / N_t)^(-gamma) - 1)``, >= t."""
    ratio = q * n / max(n_peaks, 1)
    if abs(gamma) < 1e-8:
        z = t - sigma * math.log(ratio)
    else:
        z = t + sigma / gamma * (ratio ** (-gamma) - 1.0)
    # ratio >= 1 (fewer peaks than q n, the tail estimate is void) would put z_q below t: clamp.
    return max(z, t)


class _UpperPOT:
    """State of one upper-tail SPOT (Siffer et al. 2017, Algorithm 1 "SPOT")."""

    def __init__(self, q: float, level: float) -> None:
        self.q, self.level = q, level

    def init(self, data: np.ndarray) -> None:
        """POT initialisation on the calibration data: ``t`` = empirical ``level``-quantile."""
        data = np.asarray(data, dtype=np.float64)
        self.t = float(np.quantile(data, self.level))
        self.peaks = list(data[data > self.t] - self.t)
        self.n = len(data)
        if self.peaks:
            self.gamma, self.sigma = gpd_fit(np.asarray(self.peaks))
        else:  # ties at the top: no excess yet; an exponential tail at the data's scale
            self.gamma, self.sigma = 0.0, max(float(np.std(data)), 1e-12)
        self.z = _pot_quantile(self.t, self.gamma, self.sigma, self.q, self.n, len(self.peaks))

    def step(self, x: float) -> bool:
        """One stream point: alarm if above ``z_q``; a peak updates the GPD fit and ``z_q``."""
        if x > self.z:
            return True
        self.n += 1
        if x > self.t:
            self.peaks.append(x - self.t)
            self.gamma, self.sigma = gpd_fit(np.asarray(self.peaks), (self.gamma, self.sigma))
            self.z = _pot_quantile(self.t, self.gamma, self.sigma, self.q, self.n, len(self.peaks))
        return False


@dataclass(frozen=True)
class SpotResult:
    """Output of a SPOT/DSPOT run on a stream: per-point alarms and thresholds in force.

    ``upper`` (and ``lower`` for two-sided runs, else ``None``) is the threshold each point was
    compared with, in the units of the input values (DSPOT adds back the moving average).
    """

    alarms: np.ndarray
    upper: np.ndarray
    lower: np.ndarray | None


def _check_side(side: str) -> None:
    if side not in ("upper", "lower", "both"):
        raise ValueError(f"side must be 'upper', 'lower' or 'both', got {side!r}")


class SPOT:
    """Streaming Peaks-Over-Threshold (Siffer et al., KDD 2017, Algorithm 1; biSPOT for ``both``).

    ``fit(calibration)`` sets the initial threshold ``t`` at the ``level`` empirical quantile and
    fits a Generalised Pareto distribution to the excesses, giving the threshold ``z_q`` exceeded
    with probability ``q``. ``predict(stream)`` then processes points in order: a point above
    ``z_q`` is an alarm (and is not used for updating); a point between ``t`` and ``z_q`` is a new
    peak, after which the GPD is refitted and ``z_q`` updated. ``side="both"`` (default, the
    reference biSPOT) runs independent upper and lower tails (the lower on negated values; a lower
    alarm still counts as an observation of the upper tail, a negligible difference): Yahoo
    anomalies are spikes and dips. RLAD Sec. 6.4: calibration = the 80% training part, q = 1e-4.
    """

    def __init__(self, q: float = RISK_Q, level: float = 0.98, side: str = "both") -> None:
        if not 0 < q < 1 - level:
            raise ValueError(f"need 0 < q < 1 - level, got q={q}, level={level}")
        _check_side(side)
        self.q, self.level, self.side = q, level, side
        self._tails: dict[str, _UpperPOT] = {}

    def fit(self, calibration: np.ndarray) -> SPOT:
        """Initialise the tail(s) on calibration values (1-D, at least ~1/(1-level) points)."""
        calibration = _as_1d(calibration)
        self._tails = {}
        for name, sign in self._signs():
            tail = _UpperPOT(self.q, self.level)
            tail.init(sign * calibration)
            self._tails[name] = tail
        return self

    def _signs(self) -> list[tuple[str, float]]:
        return [s for s in (("upper", 1.0), ("lower", -1.0)) if self.side in (s[0], "both")]

    @property
    def thresholds(self) -> dict[str, float]:
        """Current ``z_q`` per tail, in value units (the lower one negated back)."""
        return {name: (1.0 if name == "upper" else -1.0) * tail.z for name, tail in self._tails.items()}

    def predict(self, stream: np.ndarray) -> SpotResult:
        """Run the stream through the tail(s); alarms are ORed over tails. Updates the state."""
        if not self._tails:
            raise RuntimeError("call fit(calibration) first")
        stream = _as_1d(stream)
        alarms = np.zeros(len(stream), dtype=bool)
        bounds: dict[str, np.ndarray] = {}
        for name, sign in self._signs():
            tail = self._tails[name]
            x = sign * stream
            z_path = np.empty(len(stream))
            # Points <= t only increment n: walk the candidates (> t) and fill z between them.
            candidates = np.flatnonzero(x > tail.t)
            prev, n_before = 0, tail.n
            for i in candidates:
                z_path[prev:i + 1] = tail.z
                tail.n = n_before + (i - prev)  # the points in between were all <= t
                alarms[i] |= tail.step(float(x[i]))
                prev, n_before = i + 1, tail.n
            z_path[prev:] = tail.z
            tail.n = n_before + (len(stream) - prev)
            bounds[name] = sign * z_path
        return SpotResult(alarms, bounds.get("upper", np.full(len(stream), np.inf)), bounds.get("lower"))

    def fit_predict(self, calibration: np.ndarray, stream: np.ndarray) -> SpotResult:
        """``fit(calibration)`` then ``predict(stream)``."""
        return self.fit(calibration).predict(stream)


class DSPOT:
    """SPOT with drift (Siffer et al., KDD 2017, Algorithm 3 "DSPOT").

    SPOT runs on the deviation ``x_i - M_i`` from the moving average ``M_i`` of the last ``depth``
    *normal* observations (alarms are not put in the window), which makes the thresholds follow a
    drifting level. The first ``depth`` calibration points only fill the window.
    """

    def __init__(self, depth: int = 10, q: float = RISK_Q, level: float = 0.98, side: str = "both") -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.depth = depth
        self.spot = SPOT(q=q, level=level, side=side)

    def fit(self, calibration: np.ndarray) -> DSPOT:
        """Deviation from the trailing mean of the previous ``depth`` points, then SPOT init."""
        calibration = _as_1d(calibration)
        d = self.depth
        if len(calibration) <= d:
            raise ValueError(f"calibration needs more than depth={d} points, got {len(calibration)}")
        csum = np.concatenate(([0.0], np.cumsum(calibration)))
        means = (csum[d:-1] - csum[:-d - 1]) / d  # mean of points i-d .. i-1, for i = d .. n-1
        self.spot.fit(calibration[d:] - means)
        self._window = list(calibration[-d:])
        self._sum = float(np.sum(self._window))
        return self

    def predict(self, stream: np.ndarray) -> SpotResult:
        """Per-point loop (the window depends on earlier alarms); updates the state."""
        if not self.spot._tails:
            raise RuntimeError("call fit(calibration) first")
        stream = _as_1d(stream)
        tails = [(self.spot._tails[name], sign, name) for name, sign in self.spot._signs()]
        alarms = np.zeros(len(stream), dtype=bool)
        bounds = {name: np.empty(len(stream)) for _, _, name in tails}
        d, head = self.depth, 0
        window = np.asarray(self._window, dtype=np.float64)  # ring buffer
        total = self._sum
        for i, x in enumerate(stream):
            mean = total / d
            dev = x - mean
            for tail, sign, name in tails:
                bounds[name][i] = mean + sign * tail.z
            if any(sign * dev > tail.z for tail, sign, _ in tails):
                alarms[i] = True  # an alarm updates neither the tails nor the window
                continue
            for tail, sign, _ in tails:
                tail.step(sign * dev)
            total += x - window[head]
            window[head] = x
            head = (head + 1) % d
        self._window = list(np.roll(window, -head))
        self._sum = float(total)
        return SpotResult(alarms, bounds.get("upper", np.full(len(stream), np.inf)), bounds.get("lower"))

    def fit_predict(self, calibration: np.ndarray, stream: np.ndarray) -> SpotResult:
        """``fit(calibration)`` then ``predict(stream)``."""
        return self.fit(calibration).predict(stream)


def _as_1d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"expected a 1-D series, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("series contains NaN or inf")
    return values


# ---------------------------------------------------------------------------------------------
# Spectral Residual and SR-CNN (Ren et al., KDD 2019)
# ---------------------------------------------------------------------------------------------

def _trailing_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Mean of the ``width`` points before each point (fewer at the start; the point itself at 0)."""
    csum = np.concatenate(([0.0], np.cumsum(values)))
    idx = np.arange(len(values))
    lo = np.maximum(idx - width, 0)
    count = idx - lo
    out = np.empty(len(values))
    has = count > 0
    out[has] = (csum[idx[has]] - csum[lo[has]]) / count[has]
    out[~has] = values[~has]
    return out


def _extend(values: np.ndarray, m: int) -> np.ndarray:
    """Ren et al. 2019 Sec. 3.2: append ``m`` estimates ``x_{n+1} = x_{n-m+1} + g m`` where ``g`` is
    the mean gradient of the last point to each of the ``m`` preceding ones, so the latest point is
    not at the FFT boundary."""
    n = len(values)
    m = min(m, n - 1)
    if m < 1:
        return values
    lags = np.arange(1, m + 1)
    g = float(np.mean((values[-1] - values[-1 - lags]) / lags))
    return np.concatenate((values, np.full(m, values[-m] + g * m)))


def sr_saliency(values: np.ndarray, amp_window: int = 3, extend: int = 5) -> np.ndarray:
    """Saliency map of Spectral Residual (Ren et al. 2019, Eq. 1-3).

    ``A = |FFT(x)|``, ``L = log A``, ``R = L - h_q * L`` (average filter of width ``amp_window``),
    ``S = |IFFT(exp(R + i P))|`` with the phase ``P``; the series is first extended by ``extend``
    extrapolated points (removed again).
    """
    values = _as_1d(values)
    n = len(values)
    x = _extend(values, extend)
    spectrum = np.fft.fft(x)
    amplitude = np.abs(spectrum)
    log_amp = np.log(np.maximum(amplitude, 1e-12))
    kernel = np.ones(amp_window) / amp_window
    padded = np.pad(log_amp, (amp_window // 2, amp_window - 1 - amp_window // 2), mode="edge")
    residual = log_amp - np.convolve(padded, kernel, mode="valid")
    phase = spectrum / np.maximum(amplitude, 1e-12)
    saliency = np.abs(np.fft.ifft(np.exp(residual) * phase))
    return saliency[:n]


def spectral_residual(values: np.ndarray, score_window: int = 21, amp_window: int = 3,
                      extend: int = 5) -> np.ndarray:
    """Spectral Residual score per point (Ren et al. 2019, Eq. 4): ``(S - mean_z S) / mean_z S``.

    ``mean_z`` is the mean saliency of the ``score_window`` preceding points; the paper flags points
    whose score exceeds 3. Computed on the whole series in one FFT (the service uses a sliding window).
    """
    saliency = sr_saliency(values, amp_window=amp_window, extend=extend)
    local = _trailing_mean(saliency, score_window)
    return (saliency - local) / np.maximum(local, 1e-12)


def inject_anomalies(values: np.ndarray, rate: float, rng: np.random.Generator, local: int = 21
                     ) -> tuple[np.ndarray, np.ndarray]:
    """SR-CNN synthetic anomalies (Ren et al. 2019, Eq. 5): at randomly chosen points,
    ``x <- x + (xbar + mean) (1 + var) r`` with ``xbar`` the mean of the ``local`` preceding points,
    ``mean``/``var`` of the whole series and ``r ~ N(0, 1)``. Returns the new values and 0/1 labels."""
    values = _as_1d(values)
    n = len(values)
    k = max(1, int(round(rate * n)))
    idx = rng.choice(n, size=min(k, n), replace=False)
    xbar = _trailing_mean(values, local)[idx]
    out = values.copy()
    out[idx] += (xbar + values.mean()) * (1.0 + values.var()) * rng.standard_normal(len(idx))
    labels = np.zeros(n, dtype=np.int64)
    labels[idx] = 1
    return out, labels


def windows_ending_at_each_point(values: np.ndarray, window: int) -> np.ndarray:
    """``(n, window)`` float32: row ``i`` holds points ``i - window + 1 .. i`` (left edge-padded)."""
    values = np.asarray(values, dtype=np.float64)
    padded = np.concatenate((np.full(window - 1, values[0] if len(values) else 0.0), values))
    return np.lib.stride_tricks.sliding_window_view(padded, window).astype(np.float32)


def _normalised_saliency_windows(values: np.ndarray, window: int) -> np.ndarray:
    """Saliency windows divided by their own mean, minus 1 (scale-free CNN input; our choice)."""
    win = windows_ending_at_each_point(sr_saliency(values), window)
    return win / np.maximum(win.mean(axis=1, keepdims=True), 1e-6) - 1.0


class _SRCNNNet(nn.Module):
    """Ren et al. 2019 Sec. 3.3: two 1-D convolutions (kernel = window, channels window and
    2 window) and two fully connected layers, sigmoid output for the window's last point."""

    def __init__(self, window: int) -> None:
        super().__init__()
        pad = window // 2
        self.conv = nn.Sequential(
            nn.Conv1d(1, window, kernel_size=window, padding=pad), nn.ReLU(),
            nn.Conv1d(window, 2 * window, kernel_size=window, padding=pad), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1))
        self.head = nn.Sequential(nn.Linear(2 * window, 2 * window), nn.ReLU(), nn.Linear(2 * window, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x.unsqueeze(1)).squeeze(-1)).squeeze(-1)


class SRCNN:
    """SR-CNN (Ren et al., KDD 2019): a CNN on Spectral Residual saliency windows, trained on the
    training series with synthetically injected anomalies (:func:`inject_anomalies`); no real label
    is used. ``score`` = the CNN's anomaly probability for the window ending at each point.

    Deviations (kept small and fast): ``n_copies`` injected copies of the training series (at most
    ``max_windows`` training windows, drawn uniformly, for long KPI series), Adam, a positive-class
    weight for the rare injected points, global average pooling before the dense layers, windows
    normalised by their mean saliency. About 1.5 s per A1 series on one CPU thread.
    """

    def __init__(self, window: int = WINDOW, inject_rate: float = 0.05, n_copies: int = 2,
                 epochs: int = 5, batch_size: int = 256, lr: float = 1e-3, max_windows: int = 20_000,
                 seed: int = 0) -> None:
        self.window, self.inject_rate, self.n_copies = window, inject_rate, n_copies
        self.max_windows = max_windows
        self.epochs, self.batch_size, self.lr, self.seed = epochs, batch_size, lr, seed
        self.net: _SRCNNNet | None = None

    def fit(self, values: np.ndarray) -> SRCNN:
        """Train on ``n_copies`` versions of ``values`` with fresh injected anomalies each."""
        values = _as_1d(values)
        with local_seed(self.seed) as rng:
            xs, ys = [], []
            for _ in range(self.n_copies):
                injected, labels = inject_anomalies(values, self.inject_rate, rng)
                xs.append(_normalised_saliency_windows(injected, self.window))
                ys.append(labels)
            X, y = np.concatenate(xs), np.concatenate(ys).astype(np.float32)
            if len(X) > self.max_windows:
                keep = rng.choice(len(X), self.max_windows, replace=False)
                X, y = X[keep], y[keep]
            X, y = torch.from_numpy(X), torch.from_numpy(y)
            self.net = _SRCNNNet(self.window)
            pos_weight = torch.tensor((1 - self.inject_rate) / self.inject_rate)
            _train(self.net, X, y, nn.BCEWithLogitsLoss(pos_weight=pos_weight), self.epochs,
                   self.batch_size, self.lr, self.seed, target=True)
        return self

    @torch.no_grad()
    def score(self, values: np.ndarray) -> np.ndarray:
        """Anomaly probability per point (float64)."""
        if self.net is None:
            raise RuntimeError("call fit(values) first")
        X = torch.from_numpy(_normalised_saliency_windows(_as_1d(values), self.window))
        self.net.eval()
        return torch.sigmoid(_batched(self.net, X)).double().numpy()


# ---------------------------------------------------------------------------------------------
# Autoencoder (replicator network, Hawkins et al. 2002) on sliding windows
# ---------------------------------------------------------------------------------------------

def _train(net: nn.Module, X: torch.Tensor, y: torch.Tensor | None, loss_fn: nn.Module, epochs: int,
           batch_size: int, lr: float, seed: int, target: bool) -> None:
    """Mini-batch Adam; ``target=False`` reconstructs ``X`` (autoencoder)."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch_generator(seed)
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=gen).split(batch_size):
            opt.zero_grad()
            out = net(X[idx])
            loss = loss_fn(out, y[idx] if target and y is not None else X[idx])
            loss.backward()
            opt.step()


def _batched(net: nn.Module, X: torch.Tensor, batch: int = 8192) -> torch.Tensor:
    return torch.cat([net(chunk) for chunk in X.split(batch)]) if len(X) else torch.empty(0)


class WindowAutoencoder:
    """Replicator neural network (Hawkins et al., DaWaK 2002) on sliding windows of a series.

    An MLP with three hidden layers (``hidden[0]``, ``hidden[1]``, ``hidden[0]`` units; tanh -- the
    paper's middle layer uses a staircase activation, replaced by tanh here) maps each window of
    ``window`` points to itself; trained with mean squared error on the training part. The score
    of point ``i`` is the mean squared reconstruction error of the window ending at ``i``.
    Windows are used as given: min-max scale the series first (RLAD Sec. 5.1).
    """

    def __init__(self, window: int = WINDOW, hidden: Sequence[int] = (16, 4), epochs: int = 30,
                 batch_size: int = 64, lr: float = 1e-3, seed: int = 0) -> None:
        if len(hidden) != 2:
            raise ValueError("hidden = (outer width, bottleneck width)")
        self.window, self.hidden = window, tuple(hidden)
        self.epochs, self.batch_size, self.lr, self.seed = epochs, batch_size, lr, seed
        self.net: nn.Module | None = None

    def fit(self, values: np.ndarray) -> WindowAutoencoder:
        """Train on every full window of ``values`` (no padded windows)."""
        values = _as_1d(values)
        if len(values) < self.window:
            raise ValueError(f"need at least window={self.window} points, got {len(values)}")
        X = torch.from_numpy(np.lib.stride_tricks.sliding_window_view(values, self.window)
                             .astype(np.float32))
        outer, code = self.hidden
        with local_seed(self.seed):
            self.net = nn.Sequential(nn.Linear(self.window, outer), nn.Tanh(), nn.Linear(outer, code),
                                     nn.Tanh(), nn.Linear(code, outer), nn.Tanh(),
                                     nn.Linear(outer, self.window))
            _train(self.net, X, None, nn.MSELoss(), self.epochs, self.batch_size, self.lr, self.seed,
                   target=False)
        return self

    @torch.no_grad()
    def score(self, values: np.ndarray) -> np.ndarray:
        """Reconstruction error of the window ending at each point (float64, length ``len(values)``)."""
        if self.net is None:
            raise RuntimeError("call fit(values) first")
        X = torch.from_numpy(windows_ending_at_each_point(_as_1d(values), self.window))
        self.net.eval()
        return ((_batched(self.net, X) - X) ** 2).mean(dim=1).double().numpy()


# ---------------------------------------------------------------------------------------------
# Luminol (LinkedIn)
# ---------------------------------------------------------------------------------------------

def luminol_available() -> bool:
    """Whether the ``luminol`` package imports."""
    try:
        import luminol.anomaly_detector  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _numpy_asscalar_shim() -> Iterator[None]:
    """luminol 0.4 (2017) calls ``numpy.asscalar``, removed in NumPy 1.23: provide it for the call."""
    added = not hasattr(np, "asscalar")
    if added:
        np.asscalar = lambda a: np.asarray(a).item()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if added:
            del np.asscalar  # type: ignore[attr-defined]


def luminol_scores(values: np.ndarray, algorithm_name: str | None = None,
                   algorithm_params: dict | None = None) -> np.ndarray:
    """Per-point anomaly scores of luminol's ``AnomalyDetector`` (default algorithm: its bitmap
    detector), timestamps ``0 .. n-1``. Needs no training (RLAD Sec. 6.4 ran it on the test part)."""
    from luminol.anomaly_detector import AnomalyDetector

    values = _as_1d(values)
    series = {i: float(v) for i, v in enumerate(values)}
    with _numpy_asscalar_shim():
        detector = AnomalyDetector(series, algorithm_name=algorithm_name, algorithm_params=algorithm_params)
        result = detector.get_all_scores()
    out = np.zeros(len(values))
    out[np.asarray(result.timestamps, dtype=np.int64)] = np.asarray(result.values, dtype=np.float64)
    return out
