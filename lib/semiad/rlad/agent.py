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

:class:`LabelLedger` keeps exact counts of warm-up, queried and pseudo labels; :class:`RLADDetector`
runs the loop and offers ``predict`` (argmax Q) / ``decision_function`` (q1 - q0).
:func:`precision_recall_f1` is Eqs. 9-11, optionally point-adjusted.

The DQN is hand-written (CleanRL style), not stable-baselines3: every episode interleaves a batched
Q pass over all windows, oracle queries, label propagation and a re-labeled environment, which
SB3's ``learn()`` loop has no hooks for.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from sklearn.ensemble import IsolationForest
from sklearn.semi_supervised import LabelSpreading
from torch import nn

from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed
from semiad.rlad.baselines import precision_recall_f1  # Eqs. 9-11 (+ point-adjust)
from semiad.rlad.data import WINDOW, TimeSeries, minmax_series, sliding_windows

NORMAL, ANOMALY = 0, 1
UNLABELED = -1
#: RLAD Sec. 6.3: reward constants r1 (anomaly) and r2 (normal).
R1, R2 = 5.0, 1.0
#: Label sources tracked by :class:`LabelLedger`.
SRC_NONE, SRC_WARMUP, SRC_QUERIED, SRC_PSEUDO = 0, 1, 2, 3
SOURCE_NAMES = ("unlabeled", "warmup", "queried", "pseudo")
#: Discount factors of Sec. 6.3.
GAMMA = {"yahoo": 0.8, "kpi": 0.98}
#: Sec. 6.3 label budgets (fraction of training windows) -> queries per episode N_al.
BUDGETS = {"yahoo": {0.01: 1, 0.05: 5, 0.10: 10}, "kpi": {0.0005: 5, 0.001: 10}}


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

class Oracle:
    """The human expert of Sec. 5.3: returns ground-truth window labels, counts them, never twice."""

    def __init__(self, labels):
        self._labels = np.asarray(labels).astype(np.int64)
        self._asked = np.zeros(len(self._labels), bool)

    @property
    def n_queries(self) -> int:
        return int(self._asked.sum())

    def was_queried(self, indices) -> np.ndarray:
        return self._asked[np.asarray(indices, dtype=np.int64)]

    def query(self, indices) -> np.ndarray:
        """Labels of ``indices`` (distinct windows never asked before; else ``ValueError``)."""
        idx = np.asarray(indices, dtype=np.int64)
        if len(np.unique(idx)) != len(idx):
            raise ValueError("duplicate windows in one query")
        if self._asked[idx].any():
            raise ValueError(f"windows {idx[self._asked[idx]].tolist()} were already queried")
        self._asked[idx] = True
        return self._labels[idx].copy()


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


class RLADDetector:
    """RLAD (Secs. 4-5): warm-up, then per episode margin-sampling queries, label propagation and DQN.

    Parameters
    ----------
    n_al : oracle queries per episode (Sec. 6.3: 1, 5 or 10).
    n_warmup : N_w windows per warm-up group (Sec. 6.3: 5), per series when ``groups`` are given.
    warmup_score : ``"window"`` (paper) or ``"entering"``; see :func:`warmup_selection`.
    gamma : discount (Sec. 6.3: 0.8 Yahoo, 0.98 KPI; see :data:`GAMMA`).
    r1, r2 : reward constants (5, 1).
    replay_size : replay memory N (1000). hidden_size : LSTM width (paper: not stated; 32, for CPU speed).
    epsilon_start, epsilon_min, epsilon_decay : exploration, linear decay per env step (1/500000).
    steps_per_episode : env steps (= "epochs" of Algorithm 1) per episode; one gradient step each
        ``train_freq`` steps on a ``batch_size`` mini-batch; target network copied every
        ``target_update`` gradient steps (Algorithm 1, ratio r).
    warmup_updates : gradient steps on the warm-up memory before the first episode ("initial value
        function Q obtained from Warm Up stage").
    propagate : use label propagation (Sec. 5.4), every ``propagate_every`` episodes (pseudo-labels
        persist in between); ``lp_max_unlabeled``, ``lp_entropy``, ``lp_sigma``: see
        :func:`propagate_labels`.
    lr : Adam learning rate. device : ``"auto" | "cpu" | "cuda"``. random_state : seed.

    Not in the paper (our choices, all parameters): hidden size, batch, lr, steps per episode,
    target period, epsilon floor, the sigma heuristic. Greedy actions inside an episode use the Q
    values of the episode's batched pass (the same pass margin sampling uses): the next state is drawn
    independently of the action, so the off-policy DQN update is unaffected and no per-step forward
    is needed. With epsilon decaying 1/500000 per step, almost all actions are exploratory for the
    paper's run lengths; Q-learning still learns both actions' values from them. The warm-up fills
    the replay memory with both actions on every warm-up window. Determinism: one seed fixes the
    iForest, the network initialisation, replay sampling, the env and the propagation subsets.
    """

    def __init__(self, n_al: int = 1, n_warmup: int = 5, warmup_score: str = "window", gamma: float = 0.8,
                 r1: float = R1, r2: float = R2, replay_size: int = 1000, hidden_size: int = 32,
                 epsilon_start: float = 1.0, epsilon_min: float = 0.1, epsilon_decay: float = 1 / 500000,
                 steps_per_episode: int = 64, train_freq: int = 1, batch_size: int = 32,
                 target_update: int = 100, warmup_updates: int = 200, lr: float = 3e-3,
                 propagate: bool = True, propagate_every: int = 1, lp_max_unlabeled: int = 500,
                 lp_entropy: float = 0.3, lp_sigma: float | None = None, device: str = "cpu",
                 random_state: int = 0):
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

    # ---- helpers --------------------------------------------------------------------------------
    @staticmethod
    def episodes_for_budget(budget: float, n_windows: int, n_al: int) -> tuple[int, int]:
        """Sec. 6.3 accounting: queries = round(budget x training windows), episodes = ceil(queries / n_al).

        Warm-up labels are reported separately (the paper's 1000 x N_al = 1 % arithmetic counts queries).
        """
        if not 0.0 < budget <= 1.0:
            raise ValueError(f"budget must be a fraction in (0, 1], got {budget}")
        n_queries = max(1, int(round(budget * n_windows)))
        return n_queries, math.ceil(n_queries / max(n_al, 1))

    def _q_all(self, X: torch.Tensor, chunk: int = 8192) -> np.ndarray:
        """Q-values of all windows in batched forward passes (no per-window loop)."""
        self.q_net_.eval()
        with torch.no_grad():
            out = torch.cat([self.q_net_(X[i:i + chunk]) for i in range(0, len(X), chunk)])
        self.q_net_.train()
        return out.cpu().numpy().astype(np.float64)

    def _gradient_step(self, X: torch.Tensor, rng: np.random.Generator) -> float:
        s, a, r, s2 = self.memory_.sample(rng, self.batch_size)
        dev = X.device
        s_t, s2_t = torch.as_tensor(s, device=dev), torch.as_tensor(s2, device=dev)
        with torch.no_grad():
            target = (torch.as_tensor(r, device=dev)
                      + self.gamma * self.target_net_(X[s2_t]).max(1).values)
        q = self.q_net_(X[s_t]).gather(1, torch.as_tensor(a, device=dev)[:, None]).squeeze(1)
        loss = nn.functional.mse_loss(q, target)  # Algorithm 1, line 13
        self.optimizer_.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.q_net_.parameters(), 10.0)
        self.optimizer_.step()
        self.n_updates_ += 1
        if self.n_updates_ % self.target_update == 0:  # Algorithm 1, lines 14-15
            self.target_net_.load_state_dict(self.q_net_.state_dict())
        return float(loss.item())

    def _epsilon(self) -> float:
        return max(self.epsilon_min, self.epsilon_start - self.epsilon_decay * self.env_steps_)

    # ---- fit --------------------------------------------------------------------------------------
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
        """Run RLAD on training ``windows`` [m, omega]; ``labels`` are the oracle's ground truth.

        The detector sees ``labels`` only through the warm-up reveal and :class:`Oracle` queries.
        ``budget`` (fraction of training windows, e.g. 0.01) fixes the number of queries and, if
        ``n_episodes`` is not given, the episodes (:meth:`episodes_for_budget`); without a budget,
        ``n_episodes`` episodes of ``n_al`` queries each run (stopping queries when none are left).
        ``groups``: series id per window (warm-up per series). ``validation``: ``(windows, labels)``
        scored (F1) every ``eval_every`` episodes into ``history_``. ``timings_`` holds per-episode
        wall times of the margin pass, the propagation and the DQN steps.
        """
        X_np = np.ascontiguousarray(windows, dtype=np.float32)
        y = np.asarray(labels).astype(np.int64)
        if X_np.ndim != 2 or y.shape != (len(X_np),):
            raise ValueError("windows must be [m, omega] and labels [m]")
        m = len(X_np)
        if budget is not None:
            max_queries, default_eps = self.episodes_for_budget(budget, m, self.n_al)
        else:
            if n_episodes is None:
                raise ValueError("give a budget or n_episodes")
            max_queries, default_eps = m, n_episodes
        n_episodes = default_eps if n_episodes is None else int(n_episodes)
        groups = np.zeros(m, np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        dev = resolve_device(self.device)
        with local_seed(self.random_state) as rng:
            X = torch.as_tensor(X_np, device=dev)
            self.oracle_ = Oracle(y)
            self.ledger_ = LabelLedger(m)
            # ---- warm-up (Sec. 4, 5.1) ----
            self.warmup_ = {"anomalous": [], "normal": [], "middle": []}
            for k in np.unique(groups):
                rows = np.flatnonzero(groups == k)
                picks = warmup_selection(X_np[rows], self.n_warmup, self.random_state, self.warmup_score)
                for key in self.warmup_:
                    self.warmup_[key].append(rows[picks[key]])
            self.warmup_ = {k: np.concatenate(v).astype(np.int64) for k, v in self.warmup_.items()}
            warm_idx = np.sort(np.concatenate(list(self.warmup_.values())))
            self.ledger_.add_true(warm_idx, y[warm_idx], SRC_WARMUP)  # revealed, counted
            self.q_net_ = LSTMQNetwork(self.hidden_size).to(dev)
            self.target_net_ = copy.deepcopy(self.q_net_)
            self.optimizer_ = torch.optim.Adam(self.q_net_.parameters(), lr=self.lr)
            self.memory_ = ReplayMemory(self.replay_size)
            self.n_updates_ = 0
            self.env_steps_ = 0
            # fill the replay memory with both actions on every warm-up window
            for i in warm_idx:
                for a in (NORMAL, ANOMALY):
                    s2 = int(warm_idx[rng.integers(len(warm_idx))])
                    self.memory_.add(int(i), a, rlad_reward(a, y[i], self.r1, self.r2), s2)
            for _ in range(self.warmup_updates):
                self._gradient_step(X, rng)
            self.env_ = RLADEnv(X_np, self.ledger_.available, self.steps_per_episode, self.r1, self.r2)
            self.env_.reset(seed=int(rng.integers(2**31)))
            history: list[dict[str, Any]] = []
            self.timings_: list[dict[str, float]] = []
            queried_so_far = 0
            for ep in range(n_episodes):
                # ---- active learning: margin sampling over ALL windows (Sec. 5.3) ----
                t0 = time.perf_counter()
                q = self._q_all(X)
                n_ask = min(self.n_al, max_queries - queried_so_far)
                picked = margin_sampling(q, ~self.ledger_.true_mask, n_ask)
                if len(picked):
                    self.ledger_.add_true(picked, self.oracle_.query(picked), SRC_QUERIED)
                    queried_so_far += len(picked)
                # ---- label propagation (Sec. 5.4) ----
                t1 = time.perf_counter()
                if self.propagate and ep % self.propagate_every == 0:
                    p_idx, p_lab = propagate_labels(X_np, self.ledger_, rng, self.lp_max_unlabeled,
                                                    self.lp_entropy, self.lp_sigma)
                    self.ledger_.set_pseudo(p_idx, p_lab)
                # ---- DQN on true + pseudo labels (Sec. 5.2, Algorithm 1) ----
                t2 = time.perf_counter()
                self.env_.set_labels(self.ledger_.available)
                obs, info = self.env_.reset()
                losses = []
                for t in range(self.steps_per_episode):
                    s = info["index"]
                    if rng.random() < self._epsilon():
                        action = int(rng.integers(2))
                    else:  # greedy on the episode's batched Q-values (off-policy: states are drawn iid)
                        action = int(q[s, 1] > q[s, 0])
                    obs, reward, _, truncated, info = self.env_.step(action)
                    self.env_steps_ += 1
                    self.memory_.add(s, action, reward, info["index"])
                    if (t + 1) % self.train_freq == 0:
                        losses.append(self._gradient_step(X, rng))
                self.timings_.append({"margin_s": t1 - t0, "propagate_s": t2 - t1,
                                      "dqn_s": time.perf_counter() - t2})
                row = {"episode": ep + 1, **self.ledger_.counts(), "epsilon": self._epsilon(),
                       "loss": float(np.mean(losses)) if losses else float("nan"),
                       "pseudo_precision": self._pseudo_accuracy(y)}
                if validation is not None and ((ep + 1) % eval_every == 0 or ep + 1 == n_episodes):
                    vq = self._q_all(torch.as_tensor(np.asarray(validation[0], np.float32), device=dev))
                    val_pred = (vq[:, 1] > vq[:, 0]).astype(int)
                    row["val_f1"] = precision_recall_f1(validation[1], val_pred)["f1"]
                history.append(row)
        self.history_ = history
        self.is_fitted_ = True
        return self

    def _pseudo_accuracy(self, y: np.ndarray) -> float:
        """Diagnostic only (uses ground truth; never fed back): share of correct pseudo-labels."""
        pseudo = self.ledger_.source == SRC_PSEUDO
        return float((self.ledger_.label[pseudo] == y[pseudo]).mean()) if pseudo.any() else float("nan")

    # ---- inference ------------------------------------------------------------------------------
    def q_values(self, windows) -> np.ndarray:
        """``[m, 2]`` Q-values (batched)."""
        if not getattr(self, "is_fitted_", False):
            raise RuntimeError("RLADDetector is not fitted")
        X = torch.as_tensor(np.ascontiguousarray(windows, dtype=np.float32),
                            device=next(self.q_net_.parameters()).device)
        return self._q_all(X)

    def decision_function(self, windows) -> np.ndarray:
        """Anomaly score q1 - q0 (higher = more anomalous)."""
        q = self.q_values(windows)
        return q[:, 1] - q[:, 0]

    def predict(self, windows) -> np.ndarray:
        """0/1 = argmax over (q0, q1) (Sec. 5.2 action)."""
        return (self.decision_function(windows) > 0).astype(np.int64)
