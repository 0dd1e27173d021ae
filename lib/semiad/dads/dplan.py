"""DPLAN (Pang, van den Hengel, Shen & Cao, KDD 2021), a baseline of the DADS paper's Figure 2.

"Toward deep supervised anomaly detection: reinforcement learning from partially labeled anomaly
data". A DQN agent walks over the training data: the state is one data point, the action labels it
normal (0) or anomalous (1), and the anomaly score of a point is the learned Q(s, anomaly).

* :class:`DPLANEnv` is the paper's anomaly-detection environment (Sec. 3.3 sampling, Sec. 3.4
  rewards) as a ``gymnasium.Env``. Hand-written: no maintained library ships it.
* :class:`DPLANDetector` trains stable-baselines3's maintained ``DQN`` on it (Sec. 3.5) and scores
  with one batched forward pass of the Q-network.

The paper computes distances and the intrinsic reward in the feature space of the Q-network's last
hidden layer, which changes as the agent learns. Here the environment *pulls* that representation
through a callable attached with :meth:`DPLANEnv.set_representation`, and only at ``reset`` (once per
episode): it embeds D_u and D_a once and refits the iForest once, so a step costs O(subset_size).
Within an episode the embedding is therefore the one of the episode start (the unofficial
reference implementations likewise refresh the iForest rewards once per episode).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, fields

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from stable_baselines3.common.callbacks import BaseCallback
from torch import nn

from semiad.core.detectors.base import KNOWN_ANOMALY, BaseDetector, check_inputs
from semiad.core.detectors.training import predict_batched
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed

NORMAL, ANOMALY = 0, 1
SPACES = ("raw", "representation")

Representation = Callable[[np.ndarray], np.ndarray]


def _check_spaces(**spaces: str) -> None:
    for name, space in spaces.items():
        if space not in SPACES:
            raise ValueError(f"{name} must be one of {SPACES}, got {space!r}")


class DPLANEnv(gym.Env):
    """The DPLAN environment over labeled anomalies D_a and unlabeled data D_u.

    Observation: one data point (``Box`` of float32). Actions: ``Discrete(2)``, 0 = normal,
    1 = anomaly. Every episode starts at a uniformly drawn point of D_u and is truncated after
    ``episode_length`` steps (there is no terminal state).

    Transition (Sec. 3.3, anomaly-biased sampling g): with probability ``p_anomaly`` (paper: 0.5)
    s_{t+1} is a uniformly drawn labeled anomaly (g_a); otherwise (g_u) a random subset S of
    ``subset_size`` points of D_u is drawn (paper: 1000; drawn with replacement so that a step is
    O(subset_size); all of D_u when it has no more points) and s_{t+1} is the point of S *nearest* to
    s_t if a_t = 1 (explore around a suspected anomaly) or the *farthest* if a_t = 0. Distances are
    Euclidean in ``distance_space``: ``"representation"`` (paper: the Q-network's last hidden layer,
    via :meth:`set_representation`; raw features until one is attached) or ``"raw"``. The current
    state itself is excluded from the nearest-point search (on small sets it would otherwise be
    its own nearest neighbour and the walk would stall).

    Reward for acting on s_t (Sec. 3.4): external reward h (Sec. 3.4.1) = +1 for a = 1 on a labeled
    anomaly, -1 for a = 0 on a labeled anomaly, 0 for a = 0 on an unlabeled point, and
    ``false_alarm_reward`` for a = 1 on an unlabeled point (the paper's h gives -1 for every
    (state, action) pair other than the two rewarded ones; 0.0 makes unlabeled points
    action-neutral). Intrinsic reward (Sec. 3.4.2, unlabeled points only, independent of the
    action): the Isolation-Forest score of s_t, min-max normalised to [0, 1] over D_u, from an
    iForest (``n_estimators`` trees, ``max_samples`` sub-sample) fitted on D_u in
    ``intrinsic_space``; refitted at every reset in the representation space (paper), fitted once in
    the raw space (the data do not change). Total reward = external + intrinsic.
    """

    metadata = {"render_modes": []}

    def __init__(self, X_unlabeled, X_anomalies, p_anomaly: float = 0.5, subset_size: int = 1000,
                 episode_length: int = 2000, distance_space: str = "representation",
                 intrinsic_space: str = "representation", false_alarm_reward: float = -1.0,
                 n_estimators: int = 100, max_samples: int = 256,
                 representation: Representation | None = None):
        super().__init__()
        self.X_u = np.ascontiguousarray(X_unlabeled, dtype=np.float32)
        self.X_a = np.ascontiguousarray(X_anomalies, dtype=np.float32)
        if self.X_u.ndim != 2 or self.X_a.ndim != 2 or self.X_u.shape[1] != self.X_a.shape[1]:
            raise ValueError("X_unlabeled and X_anomalies must be 2-D with the same number of columns")
        if len(self.X_u) == 0 or len(self.X_a) == 0:
            raise ValueError("DPLANEnv needs at least one unlabeled point and one labeled anomaly")
        if not 0.0 <= p_anomaly <= 1.0:
            raise ValueError(f"p_anomaly must be in [0, 1], got {p_anomaly}")
        if subset_size < 1 or episode_length < 1:
            raise ValueError("subset_size and episode_length must be >= 1")
        _check_spaces(distance_space=distance_space, intrinsic_space=intrinsic_space)
        self.p_anomaly = p_anomaly
        self.subset_size = subset_size
        self.episode_length = episode_length
        self.distance_space = distance_space
        self.intrinsic_space = intrinsic_space
        self.false_alarm_reward = float(false_alarm_reward)
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.representation = representation
        # every observation is a training row, so the data's range bounds the observation space
        both = np.concatenate([self.X_u, self.X_a])
        self.observation_space = spaces.Box(both.min(axis=0), both.max(axis=0), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._raw_intrinsic: np.ndarray | None = None
        self._t = 0
        self._index = 0
        self._is_anomaly = False

    def set_representation(self, representation: Representation | None) -> None:
        """Attach psi(X) -> features (e.g. the Q-network's hidden layer); used from the next reset."""
        self.representation = representation

    # ---- per-episode precomputation (the only O(n) work) ---------------------------------------
    def _embed(self, X: np.ndarray, space: str) -> np.ndarray:
        if space == "representation" and self.representation is not None:
            return np.asarray(self.representation(X), dtype=np.float32)
        return X

    def _iforest_scores(self, Z: np.ndarray) -> np.ndarray:
        """iForest score of every point of D_u, min-max normalised to [0, 1] (Sec. 3.4.2)."""
        seed = int(self.np_random.integers(2**31 - 1))
        forest = IsolationForest(n_estimators=self.n_estimators, max_samples=min(self.max_samples, len(Z)),
                                 random_state=seed, n_jobs=1).fit(Z)
        score = -forest.score_samples(Z)  # sklearn: lower = more abnormal
        span = score.max() - score.min()
        return (score - score.min()) / span if span > 0 else np.zeros_like(score)

    def _refresh(self) -> None:
        self._dist_u = self._embed(self.X_u, self.distance_space)
        self._dist_a = self._embed(self.X_a, self.distance_space)
        if self.intrinsic_space == "raw":
            if self._raw_intrinsic is None:
                self._raw_intrinsic = self._iforest_scores(self.X_u)
            self.intrinsic_ = self._raw_intrinsic
        else:
            same = self.distance_space == "representation"
            Z = self._dist_u if same else self._embed(self.X_u, "representation")
            self.intrinsic_ = self._iforest_scores(Z)

    # ---- gymnasium API -------------------------------------------------------------------------
    def _observation(self) -> np.ndarray:
        return (self.X_a if self._is_anomaly else self.X_u)[self._index].copy()

    def _info(self) -> dict:
        return {"index": self._index, "labeled_anomaly": self._is_anomaly}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._refresh()  # new episode: re-embed with the current network, refit the iForest
        self._t = 0
        self._is_anomaly = False
        self._index = int(self.np_random.integers(len(self.X_u)))  # s_0 ~ Uniform(D_u)
        return self._observation(), self._info()

    def rewards(self, action: int) -> tuple[float, float]:
        """(external, intrinsic) reward for taking ``action`` in the current state (Sec. 3.4)."""
        if self._is_anomaly:
            return (1.0 if action == ANOMALY else -1.0), 0.0
        external = self.false_alarm_reward if action == ANOMALY else 0.0
        return external, float(self.intrinsic_[self._index])

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict]:
        action = int(action)
        if action not in (NORMAL, ANOMALY):
            raise ValueError(f"action must be 0 (normal) or 1 (anomaly), got {action}")
        # 1. reward of (s_t, a_t): external h + intrinsic iForest score
        external, intrinsic = self.rewards(action)
        # 2. sample s_{t+1} with g_a (a random labeled anomaly) or g_u (nearest/farthest in a subset of D_u)
        if self.np_random.random() < self.p_anomaly:
            next_anomaly, next_index = True, int(self.np_random.integers(len(self.X_a)))
        else:
            next_anomaly, next_index = False, self._sample_unlabeled(action)
        self._is_anomaly, self._index = next_anomaly, next_index
        # 3. fixed-length episodes: truncated, never terminated
        self._t += 1
        info = {**self._info(), "external_reward": external, "intrinsic_reward": intrinsic}
        return self._observation(), external + intrinsic, False, self._t >= self.episode_length, info

    def _sample_unlabeled(self, action: int) -> int:
        """g_u of Sec. 3.3: nearest point of a random subset of D_u if a_t = 1, farthest if a_t = 0."""
        n_u = len(self.X_u)
        if n_u <= self.subset_size:
            candidates = np.arange(n_u)
        else:
            candidates = self.np_random.integers(n_u, size=self.subset_size)
        here = (self._dist_a if self._is_anomaly else self._dist_u)[self._index]
        sq_dist = ((self._dist_u[candidates] - here) ** 2).sum(axis=1)
        if action == ANOMALY:
            if not self._is_anomaly:  # s_t is not its own nearest neighbour
                sq_dist = np.where(candidates == self._index, np.inf, sq_dist)
            if np.isinf(sq_dist).all():  # D_u is the single point s_t
                return int(candidates[0])
            return int(candidates[np.argmin(sq_dist)])
        return int(candidates[np.argmax(sq_dist)])


@torch.no_grad()
def q_hidden_features(q_net: nn.Module, X: np.ndarray) -> np.ndarray:
    """psi(X): output of the last hidden layer of an SB3 ``QNetwork`` (batched, no gradients)."""
    x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=q_net.device)
    features = q_net.extract_features(x, q_net.features_extractor)
    return predict_batched(q_net.q_net[:-1], features).cpu().numpy()


@torch.no_grad()
def q_anomaly_scores(q_net: nn.Module, X: np.ndarray) -> np.ndarray:
    """Q(s, anomaly) for every row of ``X`` in one batched pass (the DPLAN anomaly score, Sec. 3.5)."""
    x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=q_net.device)
    return predict_batched(lambda b: q_net(b)[:, ANOMALY], x).cpu().numpy()


class _KeepBestOnValidation(BaseCallback):
    """Evaluate validation AUC of Q(s, anomaly) at each episode end; remember the best weights."""

    def __init__(self, q_net: nn.Module, X_val: np.ndarray, y_val: np.ndarray):
        super().__init__()
        self.q_net, self.X_val, self.y_val = q_net, X_val, y_val
        self.best_auc, self.best_state = -np.inf, None

    def _evaluate(self) -> None:
        auc = roc_auc_score(self.y_val, q_anomaly_scores(self.q_net, self.X_val))
        if auc > self.best_auc:
            self.best_auc, self.best_state = auc, copy.deepcopy(self.q_net.state_dict())

    def _on_step(self) -> bool:
        if self.locals["dones"][0]:  # an episode was just truncated
            self._evaluate()
        return True

    def _on_training_end(self) -> None:
        self._evaluate()


@dataclass(frozen=True)
class DPLANArgs:
    """DPLAN's hyperparameters, one field each (CleanRL-style): the paper's value (Pang et al., KDD 2021,
    Sec. 3-4), the DADS authors' configuration of it where they set one (``shared/protocols/dads.md``;
    :meth:`semiad.dads.protocol.DADSProtocol.baseline_params` switches to it), or ours."""

    total_timesteps: int = 20_000
    """Environment steps. Paper: 10 episodes of 2,000 steps; the DADS authors: the same."""
    episode_length: int = 2000
    """Steps per episode (truncated, never terminated). Paper: 2,000."""
    p_anomaly: float = 0.5
    """Probability that s_{t+1} is a labeled anomaly (g_a, Sec. 3.3). Paper: 0.5."""
    subset_size: int = 1000
    """Unlabeled candidates per g_u step (Sec. 3.3). Paper: 1,000 (ours: drawn with replacement)."""
    distance_space: str = "representation"
    """Where g_u measures distances: the Q-network's last hidden layer (paper) or ``"raw"``."""
    intrinsic_space: str = "representation"
    """Where the iForest of the intrinsic reward is fitted (Sec. 3.4.2): as ``distance_space``."""
    false_alarm_reward: float = -1.0
    """External reward for calling an unlabeled point anomalous (Sec. 3.4.1). Paper: -1."""
    hidden_units: int = 20
    """One hidden ReLU layer of the Q-network. Paper: 20; the DADS authors: 16."""
    learning_rate: float = 2.5e-4
    """Paper: 2.5e-4 (RMSprop; ours: SB3's Adam); the DADS authors: 3e-4."""
    gamma: float = 0.99
    """Discount. Paper: 0.99."""
    buffer_size: int = 100_000
    """Replay memory. Paper: 100,000 (capped at the run length)."""
    batch_size: int = 64
    """Minibatch. Paper: 64."""
    learning_starts: int = 100
    """Ours: random steps before the first update (SB3's default)."""
    train_freq: int = 4
    """Ours: one gradient step every 4 environment steps (Nature-DQN, SB3's default)."""
    target_update_interval: int = 1_000
    """Ours: 1,000 steps (paper and the DADS authors 10,000, which a 20,000-step run would use twice)."""
    exploration_steps: int = 10_000
    """Steps over which epsilon anneals linearly. Paper: 10,000."""
    exploration_initial_eps: float = 1.0
    """Paper: 1.0."""
    exploration_final_eps: float = 0.1
    """Paper: 0.1."""
    select_by_validation: bool = True
    """Ours (DADS-style model selection, not DPLAN): keep the Q-network with the best validation AUC-ROC
    over episode ends when ``fit`` gets a labeled validation set."""

    def __post_init__(self) -> None:
        if self.total_timesteps < 1 or self.hidden_units < 1 or self.exploration_steps < 0:
            raise ValueError("total_timesteps and hidden_units must be >= 1, exploration_steps >= 0")
        _check_spaces(distance_space=self.distance_space, intrinsic_space=self.intrinsic_space)


_ARGS = DPLANArgs()


class DPLANDetector(BaseDetector):
    """DPLAN: DQN on :class:`DPLANEnv`; anomaly score = Q(s, anomaly) (Sec. 3.5).

    The keyword arguments are the fields of :class:`DPLANArgs` (each documented there: the paper's value
    or ours), plus ``device`` and ``random_state``. Known normals (y_semi = +1) join D_u (DPLAN has no such
    label). With ``select_by_validation`` and a labeled ``X_val, y_val`` (binary, both classes), ``fit``
    keeps the Q-network with the best validation AUC-ROC over the episode ends and the end of training
    (``validation_auc_``); otherwise the final weights. ``random_state`` seeds SB3 (network init,
    exploration, replay sampling), the environment and its iForests; global RNGs are restored.
    """

    uses_labeled_anomalies = True

    def __init__(self, total_timesteps: int = _ARGS.total_timesteps,
                 episode_length: int = _ARGS.episode_length, p_anomaly: float = _ARGS.p_anomaly,
                 subset_size: int = _ARGS.subset_size,
                 distance_space: str = _ARGS.distance_space, intrinsic_space: str = _ARGS.intrinsic_space,
                 false_alarm_reward: float = _ARGS.false_alarm_reward, hidden_units: int = _ARGS.hidden_units,
                 learning_rate: float = _ARGS.learning_rate, gamma: float = _ARGS.gamma,
                 buffer_size: int = _ARGS.buffer_size, batch_size: int = _ARGS.batch_size,
                 learning_starts: int = _ARGS.learning_starts, train_freq: int = _ARGS.train_freq,
                 target_update_interval: int = _ARGS.target_update_interval,
                 exploration_steps: int = _ARGS.exploration_steps,
                 exploration_initial_eps: float = _ARGS.exploration_initial_eps,
                 exploration_final_eps: float = _ARGS.exploration_final_eps,
                 select_by_validation: bool = _ARGS.select_by_validation, device: str = "auto",
                 random_state: int = 0):
        self.total_timesteps = total_timesteps
        self.episode_length = episode_length
        self.p_anomaly = p_anomaly
        self.subset_size = subset_size
        self.distance_space = distance_space
        self.intrinsic_space = intrinsic_space
        self.false_alarm_reward = false_alarm_reward
        self.hidden_units = hidden_units
        self.learning_rate = learning_rate
        self.gamma = gamma
        self.buffer_size = buffer_size
        self.batch_size = batch_size
        self.learning_starts = learning_starts
        self.train_freq = train_freq
        self.target_update_interval = target_update_interval
        self.exploration_steps = exploration_steps
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.select_by_validation = select_by_validation
        self.device = device
        self.random_state = random_state
        _ = self.args  # validated once, here

    @property
    def args(self) -> DPLANArgs:
        """This detector's hyperparameters as a validated :class:`DPLANArgs`."""
        return DPLANArgs(**{f.name: getattr(self, f.name) for f in fields(DPLANArgs)})

    def make_env(self, X_unlabeled: np.ndarray, X_anomalies: np.ndarray) -> DPLANEnv:
        """The environment this detector trains on (exposed for inspection and tests)."""
        return DPLANEnv(X_unlabeled, X_anomalies, p_anomaly=self.p_anomaly, subset_size=self.subset_size,
                        episode_length=self.episode_length, distance_space=self.distance_space,
                        intrinsic_space=self.intrinsic_space, false_alarm_reward=self.false_alarm_reward)

    def fit(self, X, y_semi=None, X_val=None, y_val=None) -> DPLANDetector:
        """Train the agent on ``(X, y_semi)`` in four phases; ``X_val, y_val`` only matter with
        ``select_by_validation``."""
        from stable_baselines3 import DQN

        args = self.args
        # ---- 1. data: D_a = the labeled anomalies, D_u = everything else (known normals included)
        X, y_semi = check_inputs(X, y_semi)
        is_anomaly = y_semi == KNOWN_ANOMALY
        if not is_anomaly.any():
            raise ValueError("DPLANDetector needs at least one labeled anomaly (y_semi == -1)")
        if is_anomaly.all():
            raise ValueError("DPLANDetector needs unlabeled rows besides the labeled anomalies")
        validation = None
        if args.select_by_validation and X_val is not None and y_val is not None:
            X_val, _ = check_inputs(X_val)
            y_val = np.asarray(y_val).ravel()
            if y_val.shape != (len(X_val),) or set(np.unique(y_val)) != {0, 1}:
                raise ValueError("y_val must be binary (1 = anomaly) with both classes, one per row of X_val")
            validation = (X_val, y_val)
        with local_seed(self.random_state):  # SB3's set_random_seed touches the global RNGs
            # ---- 2. environment (Sec. 3.3-3.4) and DQN agent (Sec. 3.5): Q-network, replay, epsilon
            env = self.make_env(X[~is_anomaly], X[is_anomaly])
            model = DQN(
                "MlpPolicy", env, learning_rate=args.learning_rate, gamma=args.gamma,
                buffer_size=min(args.buffer_size, args.total_timesteps), batch_size=args.batch_size,
                learning_starts=args.learning_starts, train_freq=args.train_freq,
                target_update_interval=args.target_update_interval,
                exploration_fraction=min(1.0, args.exploration_steps / args.total_timesteps),
                exploration_initial_eps=args.exploration_initial_eps,
                exploration_final_eps=args.exploration_final_eps,
                policy_kwargs={"net_arch": [args.hidden_units], "activation_fn": nn.ReLU},
                seed=self.random_state, device=resolve_device(self.device), verbose=0)
            q_net = model.q_net
            # ---- 3. train: the env embeds D_u with the *current* Q-network at every episode reset
            env.set_representation(lambda data: q_hidden_features(q_net, data))
            callback = _KeepBestOnValidation(q_net, *validation) if validation is not None else None
            model.learn(total_timesteps=args.total_timesteps, callback=callback)
            # ---- 4. the scorer: the best Q-network on validation (else the last), Q(s, anomaly)
            if callback is not None and callback.best_state is not None:
                q_net.load_state_dict(callback.best_state)
                self.validation_auc_ = callback.best_auc
        env.set_representation(None)  # drop the closure over the network
        self.q_net_ = q_net.eval()
        self.is_fitted_ = True
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        return q_anomaly_scores(self.q_net_, X)

    def hidden_features(self, X) -> np.ndarray:
        """psi(X): the Q-network's last hidden layer, the space DPLAN measures distances in."""
        X, _ = check_inputs(X)
        return q_hidden_features(self.q_net_, X)
