"""RLAD (time-series anomaly detection with deep RL and active learning), issue #7.

Paper: ``../shared/papers/rlad_timeseries_rl_active.txt``. The five modules of Sec. 4 / Fig. 1:

* **Pre-processing** (Sec. 5.1): min-max scaled series cut into windows of omega = 25 points whose
  label is the label of the last point (:func:`semiad.rlad.data.sliding_windows`);
  :func:`series_windows` stacks the windows of several series (windows never cross series).
* **Warm-up** (Sec. 4, 5.1): an Isolation Forest ranks the windows; the ``n_warmup`` most
  anomalous, most normal and closest-to-0.5 windows (of each series) have their true labels revealed
  (counted as labels used) and fill the replay memory (:func:`warmup_selection`).
* **Deep RL** (Sec. 5.2, Algorithm 1): :class:`RLADEnv` (state = window, action 0 normal / 1 anomaly,
  rewards (r1, r2, -r1, -r2) for TP, TN, FN, FP, :func:`rlad_reward`) and a DQN with an LSTM
  Q-network (:class:`LSTMQNetwork`, forget-gate bias 1.0), target network, replay memory N = 1000,
  epsilon decay 1/500000 and discount gamma (0.8 Yahoo, 0.98 KPI; Sec. 6.3).
* **Active learning** (Sec. 5.3, Eqs. 4-5): margin sampling, the ``n_al`` windows without a true
  label whose |q0 - q1| is smallest, from one batched forward pass over all windows
  (:func:`margin_sampling`), labeled by an :class:`Oracle` (counted).
* **Label propagation** (Sec. 5.4, Eqs. 6-8): scikit-learn ``LabelSpreading`` (RBF kernel, Eq. 6)
  on the truly labeled windows plus a capped random subset of the others; windows whose propagated
  label distribution has entropy (Eq. 8) below a threshold get pseudo-labels (not counted)
  (:func:`propagate_labels`).

:class:`RLADArgs` holds every hyperparameter (a docstring per field: paper value, the authors' code's
value, ours). :func:`train_rlad` is the training loop, flat and in the four named phases above
(:func:`warm_up`, :func:`query_oracle`, :func:`propagate_labels`, :func:`dqn_episode` /
:func:`dqn_update`); ``notebooks/rlad/IMPLEMENTATION.md`` walks through it. :class:`LabelLedger` keeps
exact counts of warm-up, queried and pseudo labels; :class:`RLADDetector` is the estimator around
:func:`train_rlad` (constructor parameters = the fields of :class:`RLADArgs`) with ``predict`` (argmax Q)
/ ``decision_function`` (q1 - q0).
:func:`precision_recall_f1` is Eqs. 9-11, optionally point-adjusted.

The DQN is hand-written (CleanRL style), not stable-baselines3: every episode interleaves a batched
Q pass over all windows, oracle queries, label propagation and a re-labeled environment, which
SB3's ``learn()`` loop has no hooks for.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, fields
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from sklearn.ensemble import IsolationForest
from sklearn.semi_supervised import LabelSpreading
from torch import nn

from semiad.core.device import resolve_device
from semiad.core.oracle import Oracle
from semiad.core.seeding import local_seed
from semiad.rlad.baselines import precision_recall_f1  # Eqs. 9-11 (+ point-adjust)
from semiad.rlad.data import WINDOW, TimeSeries, minmax_series, sliding_windows
from semiad.rlad.protocol import FAMILIES, PAPER_TEXT, RLADProtocol

NORMAL, ANOMALY = 0, 1
UNLABELED = -1
#: RLAD Sec. 6.3: reward constants r1 (anomaly) and r2 (normal).
R1, R2 = 5.0, 1.0
#: Label sources tracked by :class:`LabelLedger`.
SRC_NONE, SRC_WARMUP, SRC_QUERIED, SRC_PSEUDO = 0, 1, 2, 3
SOURCE_NAMES = ("unlabeled", "warmup", "queried", "pseudo")
#: Discount factors of Sec. 6.3 (the paper-text protocol's, :data:`semiad.rlad.protocol.PAPER_TEXT`).
GAMMA = {family: PAPER_TEXT.discount(family) for family in FAMILIES}
#: Sec. 6.3 label budgets (fraction of training windows) -> queries per episode N_al.
BUDGETS = {"yahoo": {0.01: 1, 0.05: 5, 0.10: 10}, "kpi": {0.0005: 5, 0.001: 10}}


# ---------------------------------------------------------------------------------------------
# Hyperparameters (CleanRL-style Args): one field each, where its value comes from
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RLADArgs:
    """Every hyperparameter of one RLAD run; the docstring under each field says where its value comes
    from: **paper** (Sec. 6.3 unless noted), **code** (the authors' ``RL_AL.py``,
    ``shared/protocols/rlad.md``) and **ours** (what this default is, where the two are silent or differ).

    The two training constants on which paper and code disagree and that a grid cell switches, ``gamma``
    and ``replay_size``, are fields of :class:`semiad.rlad.protocol.RLADProtocol`; their defaults here
    are :data:`~semiad.rlad.protocol.PAPER_TEXT`'s and :meth:`from_protocol` takes them from a preset.
    Validated once, when built.
    """

    n_al: int = 1
    """Oracle queries per episode N_al (Sec. 5.3). Paper: 1, 5 or 10 (Yahoo), 5 or 10 (KPI); code: 30 / 50 /
    100. Ours: the grid raises it so a capped number of episodes spends the budget
    (:func:`semiad.rlad.grid.rlad_n_al`)."""
    n_warmup: int = 5
    """Warm-up windows N_w per group (most anomalous, most normal, closest to 0.5), per series (Sec. 4,
    5.1). Paper: 5; code: 5 most normal + 5 most anomalous per series, no middle group."""
    warmup_score: str = "window"
    """Warm-up ranking: ``"window"`` = the iForest score of the whole window (paper); ``"entering"`` = its
    rise when the window's last point enters (ours, optional; :func:`warmup_selection`). Code: iForest on
    the newest value of every window."""
    gamma: float = PAPER_TEXT.discount_yahoo
    """DQN discount (Algorithm 1, line 12). Paper: 0.8 Yahoo, 0.98 KPI (:data:`GAMMA`); code: 1.0.
    :class:`~semiad.rlad.protocol.RLADProtocol` field ``discount_yahoo`` / ``discount_kpi``."""
    r1: float = R1
    """Reward magnitude of an anomaly window (TP +r1, FN -r1; Sec. 5.2). Paper 5; code 5."""
    r2: float = R2
    """Reward magnitude of a normal window (TN +r2, FP -r2; Sec. 5.2). Paper 1; code 1."""
    replay_size: int = PAPER_TEXT.replay_size
    """Replay memory capacity N (Sec. 5.1). Paper: 1,000; code: 500,000.
    :class:`~semiad.rlad.protocol.RLADProtocol` field ``replay_size``."""
    hidden_size: int = 32
    """LSTM width. Paper: not stated; code: 128. Ours: 32, for CPU speed."""
    epsilon_start: float = 1.0
    """Exploration rate at the first env step. Paper: not stated; code: 1.0."""
    epsilon_min: float = 0.1
    """Exploration floor. Paper: not stated; code: 0.1."""
    epsilon_decay: float = 1 / 500000
    """Linear decrease of epsilon per env step. Paper: "decay ratio 1/500000"; code: 1.0 -> 0.1 over 500,000
    updates. With it almost every action of a paper-length run is exploratory."""
    steps_per_episode: int = 64
    """Env steps per episode (the "epochs" of Algorithm 1, line 4). Paper: not stated; code: 10 update epochs,
    each visiting every labeled window. Ours: 64."""
    train_freq: int = 1
    """One gradient step every ``train_freq`` env steps. Paper: every epoch (Algorithm 1, lines 11-13);
    ours: 1."""
    batch_size: int = 32
    """Mini-batch size of a gradient step. Paper: not stated; code: 256. Ours: 32."""
    target_update: int = 100
    """Gradient steps between copies of the Q-network into the target network (Algorithm 1, ratio r,
    lines 14-15). Paper: not stated; code: 10 (once per episode). Ours: 100."""
    warmup_updates: int = 200
    """Gradient steps on the warm-up memory before the first episode ("initial value function Q obtained from
    Warm Up stage", Algorithm 1, line 1). Paper: not stated; code: replay warm-up until 1,500 transitions.
    Ours: 200."""
    lr: float = 3e-3
    """Adam learning rate. Paper: not stated; code: 0.01. Ours: 3e-3."""
    propagate: bool = True
    """Label propagation on (Sec. 5.4). Paper and code: on."""
    propagate_every: int = 1
    """Episodes between propagations (pseudo-labels persist in between). Paper and code: every episode."""
    lp_max_unlabeled: int = 500
    """Windows without a true label that one propagation fits on, drawn at random. Paper: not stated (all);
    code: all windows. Ours: 500 (LabelSpreading is quadratic in the windows)."""
    lp_entropy: float = 0.3
    """Entropy threshold (Eq. 8, nats, max ln 2) below which a propagated window gets a pseudo-label.
    Paper: no value; code: the 100 lowest-entropy windows instead of a threshold. Ours: 0.3."""
    lp_sigma: float | None = None
    """RBF width sigma of Eq. 6. Paper: no value; code: ``LabelSpreading`` gamma 20. Ours: ``None`` = half the
    median pairwise distance of the fitted windows (:func:`propagate_labels`)."""
    device: str = "cpu"
    """Where the Q-networks live: ``"cpu" | "cuda" | "auto"`` (ours)."""
    random_state: int = 0
    """The run's one seed: iForest, network initialisation, replay sampling, exploration, the environment and
    the propagation subsets all follow from it (ours; the paper publishes none)."""

    def __post_init__(self):
        if self.warmup_score not in WARMUP_SCORES:
            raise ValueError(f"warmup_score must be one of {WARMUP_SCORES}, got {self.warmup_score!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        for name in ("replay_size", "hidden_size", "steps_per_episode", "train_freq", "batch_size",
                     "target_update", "propagate_every", "lp_max_unlabeled"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("n_al", "n_warmup", "warmup_updates"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.epsilon_min <= self.epsilon_start <= 1.0 or self.epsilon_decay < 0:
            raise ValueError("need 0 <= epsilon_min <= epsilon_start <= 1 and epsilon_decay >= 0")
        if self.lp_sigma is not None and self.lp_sigma <= 0:
            raise ValueError(f"lp_sigma must be > 0 or None, got {self.lp_sigma}")

    @classmethod
    def from_protocol(cls, protocol: RLADProtocol, family: str, **overrides) -> RLADArgs:
        """The protocol's discount for ``family`` (``"yahoo"`` / ``"kpi"``) and its replay size, then
        ``overrides``."""
        return cls(**{"gamma": protocol.discount(family), "replay_size": protocol.replay_size, **overrides})

    def epsilon(self, env_steps: int) -> float:
        """Exploration rate after ``env_steps`` env steps (linear decay to the floor)."""
        return max(self.epsilon_min, self.epsilon_start - self.epsilon_decay * env_steps)


# ---------------------------------------------------------------------------------------------
# Data helpers, reward, metrics
# ---------------------------------------------------------------------------------------------

def series_windows(series: list[TimeSeries] | tuple[TimeSeries, ...], window: int = WINDOW
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sec. 5.1 for several series: per-series min-max, windows, labels and a series id per window.

    Returns ``(windows float32 [m, window], labels int64 [m], groups int64 [m])``.
    """
    parts_x, parts_y, parts_g = [], [], []
    for k, s in enumerate(series):
        x, y = sliding_windows(minmax_series(s.values), s.labels, window)
        parts_x.append(x)
        parts_y.append(y)
        parts_g.append(np.full(len(y), k, np.int64))
    if not parts_x:
        return np.empty((0, window), np.float32), np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(parts_x), np.concatenate(parts_y), np.concatenate(parts_g)


def rlad_reward(action, label, r1: float = R1, r2: float = R2):
    """Sec. 5.2 reward (r1, r2, -r1, -r2) for TP, TN, FN, FP; vectorised over arrays.

    ``label`` is the window's available label (true or pseudo); 1 = anomaly.
    """
    action = np.asarray(action)
    label = np.asarray(label)
    correct = action == label
    magnitude = np.where(label == ANOMALY, r1, r2)
    out = np.where(correct, magnitude, -magnitude).astype(np.float64)
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# Labels: oracle and ledger
# ---------------------------------------------------------------------------------------------

class LabelLedger:
    """Which windows carry a warm-up, queried or pseudo label, and that label (Sec. 4, 5.3, 5.4).

    True labels (warm-up, queried) are final; pseudo-labels are replaced wholesale at every
    propagation and are never counted as labels used.
    """

    def __init__(self, n: int):
        self.source = np.full(n, SRC_NONE, np.int8)
        self.label = np.full(n, UNLABELED, np.int64)

    def __len__(self) -> int:
        return len(self.source)

    @property
    def true_mask(self) -> np.ndarray:
        return (self.source == SRC_WARMUP) | (self.source == SRC_QUERIED)

    @property
    def available(self) -> np.ndarray:
        """Label per window for the reward: true or pseudo label, -1 where none."""
        return self.label.copy()

    def add_true(self, indices, labels, source: int) -> None:
        if source not in (SRC_WARMUP, SRC_QUERIED):
            raise ValueError("true labels come from the warm-up or the oracle")
        idx = np.asarray(indices, dtype=np.int64)
        if self.true_mask[idx].any():
            raise ValueError("a window already has a true label")
        self.source[idx] = source
        self.label[idx] = np.asarray(labels, dtype=np.int64)

    def set_pseudo(self, indices, labels) -> None:
        """Replace all pseudo-labels by ``labels`` on ``indices`` (windows with true labels are skipped)."""
        old = self.source == SRC_PSEUDO
        self.source[old] = SRC_NONE
        self.label[old] = UNLABELED
        idx = np.asarray(indices, dtype=np.int64)
        lab = np.asarray(labels, dtype=np.int64)
        keep = ~self.true_mask[idx]
        self.source[idx[keep]] = SRC_PSEUDO
        self.label[idx[keep]] = lab[keep]

    def counts(self) -> dict[str, int]:
        n_w = int((self.source == SRC_WARMUP).sum())
        n_q = int((self.source == SRC_QUERIED).sum())
        return {"warmup": n_w, "queried": n_q, "pseudo": int((self.source == SRC_PSEUDO).sum()),
                "labels_used": n_w + n_q}


# ---------------------------------------------------------------------------------------------
# Warm-up, margin sampling, label propagation
# ---------------------------------------------------------------------------------------------

WARMUP_SCORES = ("window", "entering")


def warmup_selection(windows: np.ndarray, n_warmup: int = 5, seed: int = 0,
                     score: str = "window") -> dict[str, np.ndarray]:
    """Sec. 4 / 5.1 warm-up: Isolation-Forest picks of ``n_warmup`` windows each (disjoint).

    The anomaly score is the iForest score s(x) in (0, 1) of Liu et al. (``-score_samples``) of each
    window: ``"normal"`` = lowest s, ``"middle"`` = s closest to 0.5 among the rest, ``"anomalous"``
    = highest s (``score="window"``, the paper), or, with ``score="entering"`` (ours), the largest
    rise s(window_i) - s(window_{i-1}): the windows whose *last* point (the one that carries the
    label, Sec. 5.1) made them anomalous. Under ``"window"`` a lone spike makes ~omega windows
    equally anomalous and only one of them is labeled anomalous. ``windows`` must be consecutive
    windows of one series for ``"entering"``. Fewer than ``3 * n_warmup`` windows are split in order.
    """
    if score not in WARMUP_SCORES:
        raise ValueError(f"score must be one of {WARMUP_SCORES}, got {score!r}")
    n = len(windows)
    forest = IsolationForest(n_estimators=100, random_state=seed).fit(windows)
    s = -forest.score_samples(windows)
    rank = s if score == "window" else np.diff(s, prepend=s[0])
    order = np.argsort(-rank, kind="stable")
    k = min(n_warmup, n)
    anomalous = order[:k]
    rest = np.setdiff1d(np.arange(n), anomalous)
    normal = rest[np.argsort(s[rest], kind="stable")[: min(n_warmup, len(rest))]]
    rest = np.setdiff1d(rest, normal)
    middle = rest[np.argsort(np.abs(s[rest] - 0.5), kind="stable")[:n_warmup]]
    return {"anomalous": np.sort(anomalous), "normal": np.sort(normal), "middle": np.sort(middle),
            "score": s, "rank": rank}


def margin_sampling(q: np.ndarray, eligible: np.ndarray, n: int) -> np.ndarray:
    """Sec. 5.3, Eq. 5: indices of the ``n`` eligible windows with the smallest |q0 - q1|.

    ``q`` is ``[m, 2]`` Q-values of all windows (one batched pass), ``eligible`` a boolean mask
    (windows without a true label). Ties go to the lower index. Returned in increasing margin.
    """
    cand = np.flatnonzero(eligible)
    if n <= 0 or len(cand) == 0:
        return np.empty(0, np.int64)
    margin = np.abs(q[cand, 0] - q[cand, 1])
    return cand[np.argsort(margin, kind="stable")[:n]].astype(np.int64)


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def propagate_labels(windows: np.ndarray, ledger: LabelLedger, rng: np.random.Generator,
                     max_unlabeled: int = 1000, entropy_threshold: float = 0.3,
                     sigma: float | None = None, alpha: float = 0.2, max_iter: int = 30
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Sec. 5.4: LabelSpreading from the truly labeled windows; confident pseudo-labels.

    Fit on all truly labeled windows plus at most ``max_unlabeled`` other windows drawn with ``rng``;
    RBF weights exp(-d^2 / sigma^2) (Eq. 6, ``gamma = 1 / sigma^2``; ``sigma=None`` = half the median
    pairwise distance of the fitted windows, our choice: the paper gives no sigma; with the full
    median every window sees every label and no distribution is confident). A drawn window is
    pseudo-labeled when the entropy (Eq. 8, nats; max ln 2) of its propagated label distribution is
    below ``entropy_threshold``.
    ``max_iter=30`` (scikit-learn's default) is never the binding stop: with ``alpha=0.2`` each spreading
    step shrinks the change by at least 5x, and the fit stops at its tolerance after 5-6 steps (measured on
    Yahoo A1 and KPI windows, 20 propagations each, 2026-12-06).
    With only one class among the true labels nothing is propagated. Returns ``(indices, labels)``.
    """
    true_idx = np.flatnonzero(ledger.true_mask)
    if len(np.unique(ledger.label[true_idx])) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    others = np.flatnonzero(~ledger.true_mask)
    if len(others) > max_unlabeled:
        others = np.sort(rng.choice(others, max_unlabeled, replace=False))
    if len(others) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    fit_idx = np.concatenate([true_idx, others])
    X = windows[fit_idx].astype(np.float64)
    y = np.concatenate([ledger.label[true_idx], np.full(len(others), UNLABELED)])
    if sigma is None:
        sq = (X * X).sum(1)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0)
        med = float(np.median(d2[np.triu_indices(len(X), 1)])) if len(X) > 1 else 1.0
        gamma = 4.0 / med if med > 0 else 1.0  # sigma = half the median pairwise distance
    else:
        gamma = 1.0 / float(sigma) ** 2
    model = LabelSpreading(kernel="rbf", gamma=gamma, alpha=alpha, max_iter=max_iter)
    model.fit(X, y)
    dist = np.nan_to_num(model.label_distributions_[len(true_idx):], nan=0.5)
    confident = _entropy(dist) < entropy_threshold
    labels = model.classes_[dist.argmax(1)]
    return others[confident].astype(np.int64), labels[confident].astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------------------------

class RLADEnv(gym.Env):
    """Sec. 5.2 environment: a state is a window, actions 0 (normal) / 1 (anomaly).

    Only windows with an *available* label (true or pseudo; :meth:`set_labels`) are visited: reset
    and every step draw the next state uniformly among them; the reward of acting on a window is
    :func:`rlad_reward` against its available label. No terminal state; ``truncated`` after
    ``episode_length`` steps. ``info`` carries ``index`` (the window the observation shows) and,
    after a step, ``acted_index`` / ``label`` of the window that was judged.
    """

    metadata = {"render_modes": []}

    def __init__(self, windows: np.ndarray, labels: np.ndarray, episode_length: int = 64,
                 r1: float = R1, r2: float = R2):
        super().__init__()
        self.windows = np.ascontiguousarray(windows, dtype=np.float32)
        if self.windows.ndim != 2 or len(self.windows) == 0:
            raise ValueError("windows must be a non-empty 2-D array")
        if episode_length < 1:
            raise ValueError("episode_length must be >= 1")
        self.episode_length = int(episode_length)
        self.r1, self.r2 = float(r1), float(r2)
        w = self.windows.shape[1]
        lo, hi = float(self.windows.min()), float(self.windows.max())
        self.observation_space = spaces.Box(lo, hi, shape=(w,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.set_labels(labels)
        self._index = 0
        self._t = 0

    def set_labels(self, labels: np.ndarray) -> None:
        """Available labels per window (1 anomaly, 0 normal, -1 none); at least one labeled."""
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (len(self.windows),):
            raise ValueError(f"labels must have shape ({len(self.windows)},)")
        self.labels = labels
        self.labeled = np.flatnonzero(labels != UNLABELED)
        if len(self.labeled) == 0:
            raise ValueError("RLADEnv needs at least one labeled window")

    def _draw(self) -> int:
        return int(self.labeled[self.np_random.integers(len(self.labeled))])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._t = 0
        self._index = self._draw()
        return self.windows[self._index].copy(), {"index": self._index}

    def step(self, action):
        acted = self._index
        label = int(self.labels[acted])
        reward = rlad_reward(int(action), label, self.r1, self.r2)
        self._t += 1
        self._index = self._draw()
        info = {"index": self._index, "acted_index": acted, "label": label}
        return self.windows[self._index].copy(), reward, False, self._t >= self.episode_length, info


# ---------------------------------------------------------------------------------------------
# Q-network and DQN
# ---------------------------------------------------------------------------------------------

class LSTMQNetwork(nn.Module):
    """Sec. 5.2 / 6.3 Q-network: one LSTM hidden layer over the window's points + linear head (q0, q1).

    The forget-gate bias is initialised to 1.0 (Sec. 6.3): PyTorch sums ``bias_ih`` and ``bias_hh``,
    so the forget slice of the first is 1 and of the second 0.
    """

    def __init__(self, hidden_size: int = 64):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden_size, batch_first=True)
        h = hidden_size
        with torch.no_grad():
            self.lstm.bias_ih_l0[h:2 * h].fill_(1.0)
            self.lstm.bias_hh_l0[h:2 * h].fill_(0.0)
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[batch, window]`` -> ``[batch, 2]`` Q-values."""
        _, (h, _) = self.lstm(x.unsqueeze(-1))
        return self.head(h[-1])


class ReplayMemory:
    """FIFO replay memory of capacity N (Sec. 5.1, 6.3) holding window indices, not copies."""

    def __init__(self, capacity: int = 1000):
        self.capacity = int(capacity)
        self.s = np.zeros(self.capacity, np.int64)
        self.a = np.zeros(self.capacity, np.int64)
        self.r = np.zeros(self.capacity, np.float32)
        self.s2 = np.zeros(self.capacity, np.int64)
        self.size = 0
        self._pos = 0

    def __len__(self) -> int:
        return self.size

    def add(self, s: int, a: int, r: float, s2: int) -> None:
        self.s[self._pos], self.a[self._pos], self.r[self._pos], self.s2[self._pos] = s, a, r, s2
        self._pos = (self._pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, rng: np.random.Generator, k: int) -> tuple[np.ndarray, ...]:
        j = rng.integers(0, self.size, size=k)
        return self.s[j], self.a[j], self.r[j], self.s2[j]


# ---------------------------------------------------------------------------------------------
# Training: warm-up, then per episode active learning, label propagation and DQN updates
# ---------------------------------------------------------------------------------------------

@dataclass
class RLADRun:
    """The state of one RLAD run (:func:`train_rlad`): networks, replay memory, labels, logs."""

    q_net: LSTMQNetwork
    target_net: LSTMQNetwork
    optimizer: torch.optim.Optimizer
    memory: ReplayMemory
    oracle: Oracle
    ledger: LabelLedger
    warmup: dict[str, np.ndarray]
    env: RLADEnv | None = None
    n_updates: int = 0
    env_steps: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)


def episodes_for_budget(budget: float, n_windows: int, n_al: int) -> tuple[int, int]:
    """Sec. 6.3 accounting: queries = round(budget x training windows), episodes = ceil(queries / n_al).

    Warm-up labels are reported separately (the paper's 1000 x N_al = 1 % arithmetic counts queries).
    """
    if not 0.0 < budget <= 1.0:
        raise ValueError(f"budget must be a fraction in (0, 1], got {budget}")
    n_queries = max(1, int(round(budget * n_windows)))
    return n_queries, math.ceil(n_queries / max(n_al, 1))


def q_values_batched(q_net: nn.Module, X: torch.Tensor, chunk: int = 8192) -> np.ndarray:
    """``[m, 2]`` Q-values (Eq. 4) of all windows in batched forward passes (no per-window loop)."""
    q_net.eval()
    with torch.no_grad():
        out = torch.cat([q_net(X[i:i + chunk]) for i in range(0, len(X), chunk)])
    q_net.train()
    return out.cpu().numpy().astype(np.float64)


def warm_up(windows: np.ndarray, labels: np.ndarray, groups: np.ndarray, ledger: LabelLedger,
            args: RLADArgs) -> dict[str, np.ndarray]:
    """Phase 1a (Sec. 4, 5.1): iForest picks per series (:func:`warmup_selection`, seeded with
    ``args.random_state``); their true labels are revealed into ``ledger`` (counted as labels used).
    Returns the picks ``{"anomalous", "normal", "middle"}`` as window indices."""
    picks: dict[str, list[np.ndarray]] = {"anomalous": [], "normal": [], "middle": []}
    for k in np.unique(groups):
        rows = np.flatnonzero(groups == k)
        chosen = warmup_selection(windows[rows], args.n_warmup, args.random_state, args.warmup_score)
        for key in picks:
            picks[key].append(rows[chosen[key]])
    warmup = {k: np.concatenate(v).astype(np.int64) for k, v in picks.items()}
    warm_idx = np.sort(np.concatenate(list(warmup.values())))
    ledger.add_true(warm_idx, labels[warm_idx], SRC_WARMUP)
    return warmup


def fill_replay_from_warmup(memory: ReplayMemory, warm_idx: np.ndarray, labels: np.ndarray, args: RLADArgs,
                            rng: np.random.Generator) -> None:
    """Phase 1b (Sec. 5.1, "force it fill the replay memory"): both actions on every warm-up window, each
    with its reward and a next state drawn among the warm-up windows."""
    for i in warm_idx:
        for a in (NORMAL, ANOMALY):
            s2 = int(warm_idx[rng.integers(len(warm_idx))])
            memory.add(int(i), a, rlad_reward(a, labels[i], args.r1, args.r2), s2)


def dqn_update(run: RLADRun, X: torch.Tensor, args: RLADArgs, rng: np.random.Generator) -> float:
    """One DQN gradient step (Algorithm 1, lines 11-15) on a replay mini-batch; returns the loss.

    target = r + gamma * max_a' Q_target(s', a') (line 12; no terminal states), loss = (Q(s, a) - target)^2
    (line 13), gradient norm clipped at 10 (ours); the target network copies the Q-network every
    ``args.target_update`` steps (lines 14-15)."""
    s, a, r, s2 = run.memory.sample(rng, args.batch_size)
    dev = X.device
    s_t, s2_t = torch.as_tensor(s, device=dev), torch.as_tensor(s2, device=dev)
    with torch.no_grad():
        target = torch.as_tensor(r, device=dev) + args.gamma * run.target_net(X[s2_t]).max(1).values
    q = run.q_net(X[s_t]).gather(1, torch.as_tensor(a, device=dev)[:, None]).squeeze(1)
    loss = nn.functional.mse_loss(q, target)
    run.optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(run.q_net.parameters(), 10.0)
    run.optimizer.step()
    run.n_updates += 1
    if run.n_updates % args.target_update == 0:
        run.target_net.load_state_dict(run.q_net.state_dict())
    return float(loss.item())


def query_oracle(run: RLADRun, q: np.ndarray, n_ask: int) -> int:
    """Phase 2 (Sec. 5.3, Eqs. 4-5): margin sampling over all windows without a true label; the oracle's
    labels enter the ledger (counted). Returns the number of windows queried."""
    picked = margin_sampling(q, ~run.ledger.true_mask, n_ask)
    if len(picked):
        run.ledger.add_true(picked, run.oracle.query(picked), SRC_QUERIED)
    return len(picked)


def dqn_episode(run: RLADRun, q: np.ndarray, X: torch.Tensor, args: RLADArgs,
                rng: np.random.Generator) -> list[float]:
    """Phase 4 (Sec. 5.2, Algorithm 1, lines 4-15): ``args.steps_per_episode`` epsilon-greedy steps of the
    environment on the windows with a true or pseudo label, each transition stored, one :func:`dqn_update`
    every ``args.train_freq`` steps. Greedy actions use ``q``, the episode's batched Q-values: the next
    state is drawn independently of the action, so the off-policy update is unaffected."""
    run.env.set_labels(run.ledger.available)
    _, info = run.env.reset()
    losses = []
    for t in range(args.steps_per_episode):
        s = info["index"]
        if rng.random() < args.epsilon(run.env_steps):
            action = int(rng.integers(2))
        else:
            action = int(q[s, 1] > q[s, 0])
        _, reward, _, _, info = run.env.step(action)
        run.env_steps += 1
        run.memory.add(s, action, reward, info["index"])
        if (t + 1) % args.train_freq == 0:
            losses.append(dqn_update(run, X, args, rng))
    return losses


def train_rlad(args: RLADArgs, windows, labels, *, budget: float | None = None, n_episodes: int | None = None,
               groups=None, validation: tuple[np.ndarray, np.ndarray] | None = None,
               eval_every: int = 10) -> RLADRun:
    """RLAD (Secs. 4-5, Algorithm 1) on training ``windows`` [m, omega]; ``labels`` are the oracle's truth.

    The run sees ``labels`` only through the warm-up reveal and :class:`Oracle` queries. ``budget``
    (fraction of the windows) fixes the number of queries and, unless ``n_episodes`` is given, the episodes
    (:func:`episodes_for_budget`); without a budget ``n_episodes`` episodes of ``args.n_al`` queries run.
    ``groups``: series id per window (warm-up per series). ``validation``: ``(windows, labels)`` scored
    (F1) every ``eval_every`` episodes into the history. Seeding: everything draws from one generator
    seeded with ``args.random_state`` (:func:`semiad.core.seeding.local_seed`, which also seeds torch for
    the network initialisation), in a fixed order.
    """
    X_np = np.ascontiguousarray(windows, dtype=np.float32)
    y = np.asarray(labels).astype(np.int64)
    if X_np.ndim != 2 or y.shape != (len(X_np),):
        raise ValueError("windows must be [m, omega] and labels [m]")
    m = len(X_np)
    if budget is not None:
        max_queries, default_episodes = episodes_for_budget(budget, m, args.n_al)
    elif n_episodes is None:
        raise ValueError("give a budget or n_episodes")
    else:
        max_queries, default_episodes = m, n_episodes
    n_episodes = default_episodes if n_episodes is None else int(n_episodes)
    groups = np.zeros(m, np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    dev = resolve_device(args.device)
    with local_seed(args.random_state) as rng:
        X = torch.as_tensor(X_np, device=dev)
        oracle, ledger = Oracle(y), LabelLedger(m)
        # ---- Phase 1: warm-up (Sec. 4, 5.1): iForest picks, replay memory, initial Q ----
        warmup = warm_up(X_np, y, groups, ledger, args)
        q_net = LSTMQNetwork(args.hidden_size).to(dev)
        run = RLADRun(q_net=q_net, target_net=copy.deepcopy(q_net),
                      optimizer=torch.optim.Adam(q_net.parameters(), lr=args.lr),
                      memory=ReplayMemory(args.replay_size), oracle=oracle, ledger=ledger, warmup=warmup)
        fill_replay_from_warmup(run.memory, np.sort(np.concatenate(list(warmup.values()))), y, args, rng)
        for _ in range(args.warmup_updates):
            dqn_update(run, X, args, rng)
        run.env = RLADEnv(X_np, ledger.available, args.steps_per_episode, args.r1, args.r2)
        run.env.reset(seed=int(rng.integers(2**31)))
        queried = 0
        for episode in range(1, n_episodes + 1):
            # ---- Phase 2: active learning, margin sampling over all windows (Sec. 5.3) ----
            t0 = time.perf_counter()
            q = q_values_batched(run.q_net, X)
            queried += query_oracle(run, q, min(args.n_al, max_queries - queried))
            # ---- Phase 3: label propagation, confident pseudo-labels (Sec. 5.4) ----
            t1 = time.perf_counter()
            if args.propagate and (episode - 1) % args.propagate_every == 0:
                ledger.set_pseudo(*propagate_labels(X_np, ledger, rng, args.lp_max_unlabeled, args.lp_entropy,
                                                    args.lp_sigma))
            # ---- Phase 4: DQN on true + pseudo labels (Sec. 5.2, Algorithm 1) ----
            t2 = time.perf_counter()
            losses = dqn_episode(run, q, X, args, rng)
            t3 = time.perf_counter()
            run.timings.append({"margin_s": t1 - t0, "propagate_s": t2 - t1, "dqn_s": t3 - t2})
            row = {"episode": episode, **ledger.counts(), "epsilon": args.epsilon(run.env_steps),
                   "loss": float(np.mean(losses)) if losses else float("nan"),
                   "pseudo_precision": pseudo_label_accuracy(ledger, y)}
            if validation is not None and (episode % eval_every == 0 or episode == n_episodes):
                vq = q_values_batched(run.q_net, torch.as_tensor(np.asarray(validation[0], np.float32),
                                                                 device=dev))
                row["val_f1"] = precision_recall_f1(validation[1], (vq[:, 1] > vq[:, 0]).astype(int))["f1"]
            run.history.append(row)
    return run


def pseudo_label_accuracy(ledger: LabelLedger, y: np.ndarray) -> float:
    """Diagnostic only (uses ground truth; never fed back): share of correct pseudo-labels."""
    pseudo = ledger.source == SRC_PSEUDO
    return float((ledger.label[pseudo] == y[pseudo]).mean()) if pseudo.any() else float("nan")


# ---------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------

_D = RLADArgs()  # the defaults, read by the constructor's signature


class RLADDetector:
    """RLAD as an estimator: ``fit`` runs :func:`train_rlad`, ``predict`` / ``decision_function`` use its
    Q-network. The constructor's parameters are the fields of :class:`RLADArgs` (same names, same defaults,
    documented there); :attr:`args` gathers them.

    Fitted attributes: ``q_net_``, ``target_net_``, ``optimizer_``, ``memory_``, ``env_``, ``oracle_``,
    ``ledger_`` (label sources), ``warmup_`` (the warm-up picks), ``history_`` (one row per episode),
    ``timings_`` (per-episode wall times of the margin pass, the propagation and the DQN steps),
    ``n_updates_``, ``env_steps_``.
    """

    def __init__(self, n_al: int = _D.n_al, n_warmup: int = _D.n_warmup, warmup_score: str = _D.warmup_score,
                 gamma: float = _D.gamma, r1: float = _D.r1, r2: float = _D.r2,
                 replay_size: int = _D.replay_size, hidden_size: int = _D.hidden_size,
                 epsilon_start: float = _D.epsilon_start, epsilon_min: float = _D.epsilon_min,
                 epsilon_decay: float = _D.epsilon_decay, steps_per_episode: int = _D.steps_per_episode,
                 train_freq: int = _D.train_freq, batch_size: int = _D.batch_size,
                 target_update: int = _D.target_update, warmup_updates: int = _D.warmup_updates,
                 lr: float = _D.lr, propagate: bool = _D.propagate, propagate_every: int = _D.propagate_every,
                 lp_max_unlabeled: int = _D.lp_max_unlabeled, lp_entropy: float = _D.lp_entropy,
                 lp_sigma: float | None = _D.lp_sigma, device: str = _D.device,
                 random_state: int = _D.random_state):
        self.n_al = n_al
        self.n_warmup = n_warmup
        self.warmup_score = warmup_score
        self.gamma = gamma
        self.r1, self.r2 = r1, r2
        self.replay_size = replay_size
        self.hidden_size = hidden_size
        self.epsilon_start, self.epsilon_min, self.epsilon_decay = epsilon_start, epsilon_min, epsilon_decay
        self.steps_per_episode = steps_per_episode
        self.train_freq = train_freq
        self.batch_size = batch_size
        self.target_update = target_update
        self.warmup_updates = warmup_updates
        self.lr = lr
        self.propagate = propagate
        self.propagate_every = propagate_every
        self.lp_max_unlabeled = lp_max_unlabeled
        self.lp_entropy = lp_entropy
        self.lp_sigma = lp_sigma
        self.device = device
        self.random_state = random_state

    @property
    def args(self) -> RLADArgs:
        """The constructor's parameters as a validated :class:`RLADArgs`."""
        return RLADArgs(**{f.name: getattr(self, f.name) for f in fields(RLADArgs)})

    episodes_for_budget = staticmethod(episodes_for_budget)

    def fit_series(self, series, budget: float | None = None, n_episodes: int | None = None,
                   validation=None, window: int = WINDOW, eval_every: int = 10) -> RLADDetector:
        """Fit on a list of :class:`TimeSeries` (per-series min-max and windows; warm-up per series).

        ``validation``: optional list of series, turned into windows the same way.
        """
        X, y, g = series_windows(list(series), window)
        val = None
        if validation is not None:
            vx, vy, _ = series_windows(list(validation), window)
            val = (vx, vy)
        return self.fit(X, y, budget=budget, n_episodes=n_episodes, groups=g, validation=val,
                        eval_every=eval_every)

    def fit(self, windows, labels, budget: float | None = None, n_episodes: int | None = None,
            groups=None, validation: tuple[np.ndarray, np.ndarray] | None = None,
            eval_every: int = 10) -> RLADDetector:
        """:func:`train_rlad` with :attr:`args` (arguments documented there); returns ``self``."""
        run = train_rlad(self.args, windows, labels, budget=budget, n_episodes=n_episodes, groups=groups,
                         validation=validation, eval_every=eval_every)
        self.q_net_, self.target_net_, self.optimizer_ = run.q_net, run.target_net, run.optimizer
        self.memory_, self.env_, self.oracle_, self.ledger_ = run.memory, run.env, run.oracle, run.ledger
        self.warmup_, self.history_, self.timings_ = run.warmup, run.history, run.timings
        self.n_updates_, self.env_steps_ = run.n_updates, run.env_steps
        self.is_fitted_ = True
        return self

    # ---- inference ------------------------------------------------------------------------------
    def q_values(self, windows) -> np.ndarray:
        """``[m, 2]`` Q-values (batched)."""
        if not getattr(self, "is_fitted_", False):
            raise RuntimeError("RLADDetector is not fitted")
        X = torch.as_tensor(np.ascontiguousarray(windows, dtype=np.float32),
                            device=next(self.q_net_.parameters()).device)
        return q_values_batched(self.q_net_, X)

    def decision_function(self, windows) -> np.ndarray:
        """Anomaly score q1 - q0 (higher = more anomalous)."""
        q = self.q_values(windows)
        return q[:, 1] - q[:, 0]

    def predict(self, windows) -> np.ndarray:
        """0/1 = argmax over (q0, q1) (Sec. 5.2 action)."""
        return (self.decision_function(windows) > 0).astype(np.int64)
