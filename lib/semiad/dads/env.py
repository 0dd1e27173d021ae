"""The anomaly-search environment of DADS (Deep Anomaly Detection and Search; paper Sec. "Anomaly
Search Environment", Fig. 1), as a :class:`gymnasium.Env`.

One step shows the agent one training point (the *state*) and takes its anomaly score (the
*action*, a number in [0, 1]). The environment keeps three pools over the training rows:

* **A** — anomalies: the labeled anomalies, plus unlabeled points the search promoted. Never shrinks.
* **T** — temporary: possible anomalies; each carries ``conf``, the number of *consecutive* times
  it was judged anomalous (action > ``th_score``).
* **U** — unlabeled: everything else.

Pool transitions (paper: "Hierarchical Datasets Tailored for Anomaly Search"; red/green arrows):
U judged anomalous -> T with conf = 1; T judged anomalous -> conf + 1, and once conf >= ``th_conf``
the point moves to A; T judged normal -> back to U (conf cleared); A stays A. ``reset`` restores the
initial pools (A = labeled anomalies, T empty, U = unlabeled data).

Sampling (paper: "Ensemble-based Sampling Function"): choose a pool with probabilities
``pool_probs`` = (A, T, U) (empty pools skipped), then draw a point from it: uniformly from A or T;
from U, a batch of ``n_candidates`` points is drawn and the one with the highest unsupervised score
wins — the average of Isolation Forest, OC-SVM and HBOS scores (pyod, each min-max normalised to
[0, 1]), or with ``sampling="random_detector"`` one of the three detectors chosen at random per draw.

Reward (paper: "Reward Function for Anomaly Detection"): with IF(s) the Isolation-Forest anomaly
probability of s in [0, 1],

* s from A: ``+r_a * IF(s)`` if judged anomalous, ``-r_a * IF(s)`` otherwise (supervised part);
* s from T: ``r_t * IF(s)`` at the step that promotes it to A, 0 otherwise;
* s from U: ``r_u * IF(s)`` (unsupervised part). As in the paper's text this reward does not depend
  on the action: it teaches the critic which states look anomalous to IF, and the action only
  matters through the pool transitions, so nothing in the reward pushes the score of an unlabeled
  normal point down. ``unlabeled_reward="signed"`` (ours, not the paper's) rewards agreeing with IF
  instead: ``r_u * (IF(s) - 0.5)`` for "anomalous" and ``r_u * (0.5 - IF(s))`` for "normal".

Authors' code (``shared/protocols/dads.md``; :class:`semiad.dads.protocol.DADSProtocol` switches
each of these on): ``adaptive_th_conf`` moves ``th_conf`` at every reset (+1 if |A| at the end of the
last episode exceeded 1.5 x its initial size, -1 if A did not grow; the first reset takes the -1
branch); ``detector_mix`` replaces the ensemble by one detector drawn per U draw from (IForest, HBOS,
OC-SVM, random) with the given probabilities; ``candidates_replace=False`` draws the U candidates
without replacement; ``t_min_draw=2`` draws from T only when it holds two rows; ``action_low=-1``
takes the unscaled tanh action of the authors' agent.

Cost: the detectors are fitted (on at most ``detector_max_fit`` unlabeled rows) and every training
row is scored once per ``refit`` (at construction for raw features; at every reset when an
``embed`` function is set, i.e. the detectors see the agent's current representation). A step is
O(``n_candidates``): no fitting and no full-dataset scoring happens inside ``step``. Pools are
index sets with O(1) insert/remove/uniform draw (:class:`IndexPool`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pyod.models.hbos import HBOS
from pyod.models.iforest import IForest
from pyod.models.ocsvm import OCSVM

from semiad.core.detectors.base import KNOWN_ANOMALY, check_inputs

POOL_A, POOL_T, POOL_U = 0, 1, 2
POOL_NAMES = ("A", "T", "U")
DETECTOR_NAMES = ("iforest", "ocsvm", "hbos")
#: Order of ``detector_mix`` (the authors' ``clf_list``): the last entry picks a candidate at random.
MIX_DETECTORS = ("iforest", "hbos", "ocsvm", "random")
SAMPLING = ("ensemble", "random_detector")
UNLABELED_REWARDS = ("paper", "signed")


@dataclass(frozen=True)
class SearchArgs:
    """The environment's settings that are *not* a paper-vs-code difference (those are
    :class:`semiad.dads.protocol.DADSProtocol` fields: th_score, th_conf, n_candidates, the detector mix,
    ...), one field each, CleanRL-style: the paper's value, the authors' code's, or ours."""

    pool_probs: tuple[float, float, float] = (0.2, 0.2, 0.6)
    """P(draw from A, T, U). Paper: "a predefined probability distribution" (unstated); authors' code:
    (0.2, 0.2, 0.6)."""
    sampling: str = "ensemble"
    """U draws: the best of the candidates by the average of IF, OC-SVM and HBOS (paper); or by one of the
    three drawn at random per draw (``"random_detector"``, ours)."""
    r_a: float = 1.0
    """Multiplier of the supervised reward +-IF(s) for rows of A. Authors' code: 1."""
    r_t: float = 1.0
    """Multiplier of the reward IF(s) for the step that promotes a T row to A. Authors' code: 1."""
    r_u: float = 1.0
    """Multiplier of the unsupervised reward IF(s) for rows of U. Authors' code: 1."""
    unlabeled_reward: str = "paper"
    """``"paper"``: r_u * IF(s) whatever the action (paper text and authors' code); ``"signed"`` (ours):
    reward agreeing with IF around 0.5."""


_SEARCH = SearchArgs()


class IndexPool:
    """A set of row indices with O(1) add / remove / uniform draw (swap-with-last removal).

    Hand-written: Python sets have no O(1) random draw and numpy arrays no O(1) removal.
    """

    def __init__(self, capacity: int):
        self._items = np.empty(capacity, dtype=np.int64)
        self._where = np.full(capacity, -1, dtype=np.int64)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def __contains__(self, i: int) -> bool:
        return self._where[i] >= 0

    def add(self, i: int) -> None:
        if self._where[i] >= 0:
            raise KeyError(f"row {i} is already in the pool")
        self._items[self.size], self._where[i] = i, self.size
        self.size += 1

    def remove(self, i: int) -> None:
        k = self._where[i]
        if k < 0:
            raise KeyError(f"row {i} is not in the pool")
        last = self._items[self.size - 1]
        self._items[k], self._where[last] = last, k
        self._where[i] = -1
        self.size -= 1

    def reset_to(self, rows: np.ndarray) -> None:
        """Make the pool exactly ``rows`` (distinct indices), in O(previous size + len(rows))."""
        self._where[self._items[: self.size]] = -1
        rows = np.asarray(rows, dtype=np.int64)
        self.size = len(rows)
        self._items[: self.size] = rows
        self._where[rows] = np.arange(self.size)

    def sample(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """``min(k, size)`` distinct members, uniformly (the authors' candidate draw)."""
        return self._items[rng.choice(self.size, size=min(k, self.size), replace=False)]

    def draw(self, rng: np.random.Generator, k: int = 1) -> np.ndarray:
        """``k`` uniform draws (with replacement; duplicates are harmless for candidate batches)."""
        return self._items[rng.integers(0, self.size, size=k)]

    def members(self) -> np.ndarray:
        return self._items[: self.size].copy()


@dataclass
class DetectorScores:
    """Per-row unsupervised scores in [0, 1]: one row per detector, plus IF's probability."""

    per_detector: np.ndarray  # (3, n): iforest, ocsvm, hbos, each min-max normalised (NaN: not fitted)
    if_probability: np.ndarray  # (n,): pyod IForest.predict_proba(...)[:, 1]
    fit_shape: tuple[int, int] = (0, 0)  # shape of the rows the detectors were fitted on
    ensemble: np.ndarray = field(init=False)  # (n,): their mean, computed once (steps index it)

    def __post_init__(self) -> None:
        self.ensemble = self.per_detector.mean(axis=0)


def fit_detector_scores(X: np.ndarray, fit_rows: np.ndarray, seed: int,
                        which: tuple[str, ...] = DETECTOR_NAMES) -> DetectorScores:
    """Fit IF, OC-SVM and HBOS (pyod defaults, IF seeded) on ``X[fit_rows]``; score every row.

    ``which`` names the detectors to fit (IForest always: the reward needs it); the rows of the
    others are NaN (the authors' code fits only the detectors its sampling mix can draw).

    Each detector's raw scores are min-max normalised over the training rows so that they can be
    averaged; IF(s) for the reward is pyod's ``predict_proba`` (linear scaling of the training
    scores), as in the paper's "Isolation Forest anomaly probability".
    """
    fit_X = X[fit_rows]
    detectors = (IForest(random_state=seed), OCSVM(), HBOS())
    rows = []
    for name, det in zip(DETECTOR_NAMES, detectors, strict=True):
        if name != "iforest" and name not in which:
            rows.append(np.full(len(X), np.nan))
            continue
        det.fit(fit_X)
        s = det.decision_function(X)
        span = np.ptp(s)
        rows.append((s - s.min()) / span if span > 0 else np.zeros_like(s))
    prob = detectors[0].predict_proba(X)[:, 1]
    return DetectorScores(np.vstack(rows).astype(np.float64), np.clip(prob, 0.0, 1.0), fit_X.shape)


class DADSEnv(gym.Env):
    """DADS anomaly-search environment over a training set (see the module docstring).

    Parameters
    ----------
    X, y_semi : training rows and semi-labels (-1 labeled anomaly = initial pool A; 0 (or +1)
        = initial pool U).
    th_score : action threshold for "judged anomalous" (default 0.5).
    th_conf : consecutive anomalous judgements that promote a T point to A (default 8).
    pool_probs : probabilities of drawing from (A, T, U) (default (0.2, 0.2, 0.6)); empty pools are
        skipped (renormalised); if all pools with positive probability are empty, a non-empty one
        is drawn uniformly.
    n_candidates : size of the candidate batch drawn from U (default 50).
    sampling : ``"ensemble"`` (average of IF, OC-SVM, HBOS; paper) or ``"random_detector"``.
    r_a, r_t, r_u : reward multipliers of the A, T and U parts (default 1.0 each).
    unlabeled_reward : ``"paper"`` (action-independent ``r_u * IF(s)``) or ``"signed"`` (ours).
    episode_length : steps per episode (``truncated`` after it; default 5000).
    detector_max_fit : at most this many unlabeled rows are used to fit the detectors.
    embed : optional ``f(X) -> Z``; when set (see :meth:`set_embedding`), the detectors are refit on
        the embedded rows at every reset (paper's authors' choice); ``None`` = raw features, fit once.
    adaptive_th_conf, detector_mix, candidates_replace, t_min_draw, action_low : the authors' code
        (module docstring); the defaults keep the paper-text behaviour.
    y_true : optional ground truth (1 = anomaly) of the training rows, used ONLY for diagnostics
        (precision of promoted points in ``info``), never for rewards or sampling.
    """

    metadata = {"render_modes": []}

    def __init__(self, X, y_semi, *, th_score: float = 0.5, th_conf: int = 8,
                 pool_probs: tuple[float, float, float] = _SEARCH.pool_probs, n_candidates: int = 50,
                 sampling: str = _SEARCH.sampling, r_a: float = _SEARCH.r_a, r_t: float = _SEARCH.r_t,
                 r_u: float = _SEARCH.r_u, unlabeled_reward: str = _SEARCH.unlabeled_reward,
                 episode_length: int = 5000,
                 detector_max_fit: int = 2000, embed: Callable[[np.ndarray], np.ndarray] | None = None,
                 y_true=None, seed: int = 0, adaptive_th_conf: bool = False,
                 detector_mix: tuple[float, float, float, float] | None = None,
                 candidates_replace: bool = True, t_min_draw: int = 1, action_low: float = 0.0):
        X, y_semi = check_inputs(X, y_semi)
        if action_low not in (0.0, -1.0):
            raise ValueError(f"action_low must be 0.0 or -1.0, got {action_low}")
        if not action_low <= th_score <= 1.0:
            raise ValueError(f"th_score must be in [{action_low}, 1], got {th_score}")
        mix = None if detector_mix is None else np.asarray(detector_mix, dtype=float)
        if mix is not None and (mix.shape != (4,) or (mix < 0).any() or not np.isclose(mix.sum(), 1.0)):
            raise ValueError(f"detector_mix must be 4 probabilities over {MIX_DETECTORS}, got {detector_mix}")
        if t_min_draw < 1:
            raise ValueError(f"t_min_draw must be >= 1, got {t_min_draw}")
        if int(th_conf) != th_conf or th_conf < 1:
            raise ValueError(f"th_conf must be a positive integer, got {th_conf}")
        probs = np.asarray(pool_probs, dtype=float)
        if probs.shape != (3,) or (probs < 0).any() or not np.isclose(probs.sum(), 1.0):
            raise ValueError(f"pool_probs must be three non-negative numbers summing to 1, got {pool_probs}")
        if sampling not in SAMPLING:
            raise ValueError(f"sampling must be one of {SAMPLING}, got {sampling!r}")
        if unlabeled_reward not in UNLABELED_REWARDS:
            raise ValueError(f"unlabeled_reward must be one of {UNLABELED_REWARDS}, got {unlabeled_reward!r}")
        if n_candidates < 1 or episode_length < 1:
            raise ValueError("n_candidates and episode_length must be >= 1")
        self.X = X
        self.y_semi = y_semi
        self.labeled = np.flatnonzero(y_semi == KNOWN_ANOMALY)
        self.unlabeled = np.flatnonzero(y_semi != KNOWN_ANOMALY)
        if len(self.unlabeled) == 0:
            raise ValueError("DADS needs unlabeled training rows")
        self.y_true = None if y_true is None else np.asarray(y_true).astype(int)
        self.th_score, self.th_conf = float(th_score), int(th_conf)
        self.pool_probs = probs
        self.n_candidates, self.sampling = int(n_candidates), sampling
        self.r_a, self.r_t, self.r_u = float(r_a), float(r_t), float(r_u)
        self.unlabeled_reward = unlabeled_reward
        self.episode_length = int(episode_length)
        self.detector_max_fit = int(detector_max_fit)
        self.adaptive_th_conf = bool(adaptive_th_conf)
        self.detector_mix = mix
        self.candidates_replace = bool(candidates_replace)
        self.t_min_draw = int(t_min_draw)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(X.shape[1],), dtype=np.float32)
        self.action_space = spaces.Box(float(action_low), 1.0, shape=(1,), dtype=np.float32)
        # adaptive TH_conf: |A| at the end of the last finished episode (none yet: the initial size)
        self.initial_th_conf = self.th_conf
        self.last_episode_size_A = len(self.labeled)
        self.th_conf_history: list[int] = []
        self._embed = embed
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        self.scores: DetectorScores | None = None
        n = len(X)
        self.pools = {POOL_A: IndexPool(n), POOL_T: IndexPool(n), POOL_U: IndexPool(n)}
        self.conf = np.zeros(n, dtype=np.int64)
        self.n_refits = 0
        self._restore_pools()
        self.current, self.current_pool, self.t = -1, POOL_U, 0

    # ------------------------------------------------------------------ detectors
    def set_embedding(self, embed: Callable[[np.ndarray], np.ndarray] | None) -> None:
        """Use ``embed`` (e.g. the agent's hidden layer) for the detectors from the next reset on."""
        self._embed = embed
        self.scores = None

    def _refit_detectors(self) -> None:
        fit_rows = self.unlabeled
        if len(fit_rows) > self.detector_max_fit:
            fit_rows = np.sort(self.rng.choice(fit_rows, self.detector_max_fit, replace=False))
        space = self.X if self._embed is None else np.asarray(self._embed(self.X), dtype=np.float64)
        which = DETECTOR_NAMES
        if self.detector_mix is not None:
            which = tuple(d for d, p in zip(MIX_DETECTORS, self.detector_mix, strict=True) if p > 0)
        self.scores = fit_detector_scores(space, fit_rows, seed=self._seed + self.n_refits, which=which)
        self.n_refits += 1

    # ------------------------------------------------------------------ pools
    def _restore_pools(self) -> None:
        self.pools[POOL_A].reset_to(self.labeled)
        self.pools[POOL_T].reset_to(np.empty(0, dtype=np.int64))
        self.pools[POOL_U].reset_to(self.unlabeled)
        self.conf[:] = 0
        self.promoted: list[int] = []

    def pool_of(self, i: int) -> int:
        for p, pool in self.pools.items():
            if i in pool:
                return p
        raise KeyError(i)

    def pool_sizes(self) -> dict[str, int]:
        return {POOL_NAMES[p]: len(pool) for p, pool in self.pools.items()}

    def _sample(self) -> tuple[int, int]:
        """Draw the next state: a pool by ``pool_probs`` (skipping empty ones), then a row."""
        nonempty = np.array([len(self.pools[POOL_A]) > 0, len(self.pools[POOL_T]) >= self.t_min_draw,
                             len(self.pools[POOL_U]) > 0])
        probs = self.pool_probs * nonempty
        if probs.sum() == 0:  # every pool with positive probability is empty: any non-empty one
            probs = nonempty.astype(float)
        pool = int(self.rng.choice(3, p=probs / probs.sum()))
        if pool != POOL_U:
            return int(self.pools[pool].draw(self.rng)[0]), pool
        if self.candidates_replace:
            candidates = self.pools[POOL_U].draw(self.rng, self.n_candidates)
        else:
            candidates = self.pools[POOL_U].sample(self.rng, self.n_candidates)
        if self.detector_mix is not None:  # authors: one detector (or chance) decides this draw
            k = int(self.rng.choice(len(MIX_DETECTORS), p=self.detector_mix))
            if MIX_DETECTORS[k] == "random":
                return int(candidates[int(self.rng.integers(len(candidates)))]), pool
            score = self.scores.per_detector[DETECTOR_NAMES.index(MIX_DETECTORS[k]), candidates]
        elif self.sampling == "ensemble":
            score = self.scores.ensemble[candidates]
        else:
            score = self.scores.per_detector[int(self.rng.integers(len(DETECTOR_NAMES))), candidates]
        return int(candidates[int(np.argmax(score))]), pool

    def _observation(self) -> np.ndarray:
        return self.X[self.current].copy()

    def _info(self) -> dict:
        info = {"pool": POOL_NAMES[self.current_pool], "row": self.current, **self.pool_sizes(),
                "n_promoted": len(self.promoted), "th_conf": self.th_conf}
        if self.y_true is not None and self.promoted:
            info["promoted_precision"] = float(self.y_true[self.promoted].mean())
        return info

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._seed = int(seed)
            self.rng = np.random.default_rng(self._seed)
        if self.scores is None or self._embed is not None:
            self._refit_detectors()
        if self.adaptive_th_conf:
            self._adapt_th_conf()
        self._restore_pools()
        self.t = 0
        self.current, self.current_pool = self._sample()
        return self._observation(), self._info()

    def _adapt_th_conf(self) -> None:
        """The authors' rule (``shared/protocols/dads.md``): TH_conf + 1 if the last episode ended with
        |A| > 1.5 x its initial size, - 1 if A did not grow (unbounded, as coded)."""
        initial = len(self.labeled)
        if self.last_episode_size_A > 1.5 * initial:
            self.th_conf += 1
        elif self.last_episode_size_A == initial:
            self.th_conf -= 1
        self.th_conf_history.append(self.th_conf)

    def transition(self, i: int, pool: int, anomalous: bool) -> float:
        """Apply the pool rules to row ``i`` drawn from ``pool``; return the reward (paper Fig. 1)."""
        if_s = float(self.scores.if_probability[i])
        if pool == POOL_A:
            return self.r_a * if_s if anomalous else -self.r_a * if_s
        if pool == POOL_T:
            if not anomalous:  # green arrow: back to U, the consecutive count restarts
                self.pools[POOL_T].remove(i)
                self.pools[POOL_U].add(i)
                self.conf[i] = 0
                return 0.0
            self.conf[i] += 1
            if self.conf[i] >= self.th_conf:  # promoted: the search found a (likely) anomaly
                self.pools[POOL_T].remove(i)
                self.pools[POOL_A].add(i)
                self.promoted.append(i)
                return self.r_t * if_s
            return 0.0
        if anomalous:  # U judged anomalous -> T
            self.pools[POOL_U].remove(i)
            self.pools[POOL_T].add(i)
            self.conf[i] = 1
        if self.unlabeled_reward == "signed":  # ours: agree with IF around the midpoint 0.5
            return self.r_u * (if_s - 0.5) if anomalous else self.r_u * (0.5 - if_s)
        return self.r_u * if_s

    def step(self, action):
        if self.current < 0:
            raise RuntimeError("call reset() before step()")
        score = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        reward = self.transition(self.current, self.current_pool, score > self.th_score)
        self.t += 1
        truncated = self.t >= self.episode_length
        if truncated:
            self.last_episode_size_A = len(self.pools[POOL_A])
        self.current, self.current_pool = self._sample()
        return self._observation(), float(reward), False, truncated, self._info()
