"""A deep-RL decision policy on CAE residual maps (Lee, Kim, Kang, ITC-CSCC 2022), reconstructed.

Only the paper's abstract survives. What it fixes: a policy network trained by deep reinforcement
learning decides *normal vs anomalous* from the residual map of a CAE, replacing the fixed
per-pixel threshold + minimum defect area; the residual map is unchanged; richer policy input
helps. Everything below the level of that sentence is **ours**:

* MDP: a one-step contextual bandit (:class:`ResidualDecisionEnv`). A state is one image's stack of
  maps, the action is ``0`` (normal) or ``1`` (anomalous), the reward ``+1`` if the action equals
  the label and ``-1`` otherwise, and the episode ends after that single step.
* Class balance: each episode first draws the class with probability 1/2, then an image of that
  class uniformly (labeled defective images are few), instead of reweighting the reward.
* Augmentation: random horizontal/vertical flips and 90-degree rotations of the state (square
  maps), so that a handful of labeled images gives more than a handful of states.
* Policy input variants: ``A`` = residual map ``|x - x_hat|``; ``B`` = A + the input image;
  ``C`` = B + the SSIM dissimilarity map ``(1 - SSIM) / 2``. Maps are pooled to ``state_size``
  (max-pooling for residual/SSIM maps, keeping small defects visible; average-pooling for the image).
* Policy: stable-baselines3 PPO with a small CNN features extractor (:class:`ResidualCNN`: three
  strided convolutions, global max + mean pooling, per-channel input standardisation fitted on the
  policy's training states) and 32-unit policy/value heads.
* Score for AUC-ROC: the policy's probability of the action "anomalous".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from sklearn.metrics import roc_auc_score
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from semiad.core.seeding import local_seed
from semiad.residual_rl.cae import balanced_accuracy

VARIANTS: dict[str, tuple[str, ...]] = {
    "A": ("residual",),
    "B": ("residual", "image"),
    "C": ("residual", "image", "ssim"),
}
NORMAL, ANOMALOUS = 0, 1


def build_states(variant: str, images: np.ndarray, residual: np.ndarray, ssim: np.ndarray | None = None,
                 state_size: int | None = None) -> np.ndarray:
    """Stack the maps of ``variant`` into policy states ``(N, C, S, S)`` float32 in [0, 1].

    ``images`` ``(N, H, W, c)``, ``residual`` and ``ssim`` ``(N, H, W)``; ``state_size`` (a divisor
    of H) pools every map to S x S (max-pool for the residual/SSIM maps, average-pool for the image).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    n, h, w = residual.shape
    size = h if state_size is None else int(state_size)
    if h != w or h % size:
        raise ValueError(f"state_size {size} must divide the (square) map size {h}x{w}")
    k = h // size

    def pool(arr: np.ndarray, how: str) -> torch.Tensor:
        t = torch.as_tensor(arr, dtype=torch.float32)
        if k == 1:
            return t
        return F.max_pool2d(t, k) if how == "max" else F.avg_pool2d(t, k)

    parts = []
    for name in VARIANTS[variant]:
        if name == "residual":
            parts.append(pool(residual[:, None], "max"))
        elif name == "image":
            parts.append(pool(images.transpose(0, 3, 1, 2), "avg"))
        else:
            if ssim is None:
                raise ValueError(f"variant {variant} needs the SSIM map")
            parts.append(pool(ssim[:, None], "max"))
    return torch.cat(parts, dim=1).clamp_(0.0, 1.0).numpy().astype(np.float32)


class ResidualDecisionEnv(gym.Env):
    """One-step bandit over labeled states: observe one image's maps, say normal (0) / anomalous (1).

    Reward +1 if the action equals the label, else -1; every episode is one step (``terminated``).
    ``balanced=True`` draws the class first (probability 1/2 each), then an image of it; otherwise
    images are drawn uniformly. ``augment=True`` applies a random flip / 90-degree rotation.
    Counters for tests and learning curves: ``confusion`` (label x action), ``total_reward``,
    ``n_steps``, ``drawn`` (episodes per class).
    """

    metadata = {"render_modes": []}

    def __init__(self, states: np.ndarray, labels: np.ndarray, balanced: bool = True, augment: bool = True):
        states = np.asarray(states, dtype=np.float32)
        labels = np.asarray(labels).astype(np.int64)
        if states.ndim != 4 or len(states) != len(labels):
            raise ValueError(f"states must be (N, C, H, W) with one label each, got {states.shape}, "
                             f"{labels.shape}")
        if not set(np.unique(labels)) <= {NORMAL, ANOMALOUS}:
            raise ValueError("labels must be 0 (normal) or 1 (anomalous)")
        self.states, self.labels = states, labels
        self.by_class = [np.flatnonzero(labels == c) for c in (NORMAL, ANOMALOUS)]
        self.balanced, self.augment = bool(balanced), bool(augment)
        self.square = states.shape[2] == states.shape[3]
        self.observation_space = spaces.Box(0.0, 1.0, shape=states.shape[1:], dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.confusion = np.zeros((2, 2), dtype=np.int64)
        self.drawn = np.zeros(2, dtype=np.int64)
        self.total_reward, self.n_steps = 0.0, 0
        self.current, self._obs = -1, None

    def _draw(self) -> int:
        rng = self.np_random
        present = [c for c in (NORMAL, ANOMALOUS) if len(self.by_class[c])]
        if self.balanced:
            cls = present[int(rng.integers(len(present)))]
            return int(self.by_class[cls][int(rng.integers(len(self.by_class[cls])))])
        return int(rng.integers(len(self.labels)))

    def _augmented(self, i: int) -> np.ndarray:
        obs = self.states[i]
        if self.augment:
            rng = self.np_random
            if rng.integers(2):
                obs = obs[:, :, ::-1]
            if rng.integers(2):
                obs = obs[:, ::-1, :]
            if self.square:
                obs = np.rot90(obs, int(rng.integers(4)), axes=(1, 2))
        return np.ascontiguousarray(obs)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.current = self._draw()
        self.drawn[self.labels[self.current]] += 1
        self._obs = self._augmented(self.current)
        return self._obs, {"index": self.current, "label": int(self.labels[self.current])}

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self.current < 0:
            raise RuntimeError("call reset() before step()")
        a = int(np.asarray(action).reshape(-1)[0])
        if a not in (NORMAL, ANOMALOUS):
            raise ValueError(f"action must be 0 or 1, got {action!r}")
        label = int(self.labels[self.current])
        reward = 1.0 if a == label else -1.0
        self.confusion[label, a] += 1
        self.total_reward += reward
        self.n_steps += 1
        info = {"index": self.current, "label": label, "correct": a == label}
        self.current = -1
        return self._obs.copy(), reward, True, False, info


class ResidualCNN(BaseFeaturesExtractor):
    """Small CNN on ``(C, S, S)`` states: standardise channels, 3 strided convs, global max + mean."""

    def __init__(self, observation_space: spaces.Box, features_dim: int = 64,
                 channel_mean: list[float] | None = None, channel_std: list[float] | None = None):
        super().__init__(observation_space, features_dim)
        c = observation_space.shape[0]
        mean = torch.tensor(channel_mean or [0.0] * c, dtype=torch.float32).view(1, c, 1, 1)
        std = torch.tensor(channel_std or [1.0] * c, dtype=torch.float32).view(1, c, 1, 1)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std.clamp_min(1e-6))
        self.convs = nn.Sequential(
            nn.Conv2d(c, 16, 5, 2, 2), nn.ReLU(),
            nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(64, features_dim), nn.ReLU())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.convs((obs - self.mean) / self.std)
        return self.head(torch.cat([h.amax(dim=(2, 3)), h.mean(dim=(2, 3))], dim=1))


@dataclass
class PolicyLog:
    """Learning curve: one entry per evaluation (every ``eval_every`` environment steps)."""

    timesteps: list[int] = field(default_factory=list)
    mean_reward: list[float] = field(default_factory=list)  # training episodes since the last entry
    train_balanced_accuracy: list[float] = field(default_factory=list)  # greedy policy, policy split
    eval_auc: list[float] = field(default_factory=list)  # diagnostic only; never used for selection

    def as_dict(self) -> dict[str, list]:
        return {k: list(v) for k, v in self.__dict__.items()}


class _Curve(BaseCallback):
    def __init__(self, owner: ResidualPolicy, eval_every: int, states, labels, eval_states, eval_labels):
        super().__init__()
        self.owner, self.every = owner, eval_every
        self.states, self.labels = states, labels
        self.eval_states, self.eval_labels = eval_states, eval_labels
        self._last = (0.0, 0)

    def _record(self) -> None:
        env = self.owner.env_
        reward, steps = env.total_reward - self._last[0], env.n_steps - self._last[1]
        self._last = (env.total_reward, env.n_steps)
        log = self.owner.history_
        log.timesteps.append(int(self.num_timesteps))
        log.mean_reward.append(reward / steps if steps else np.nan)
        pred = (self.owner.predict_proba(self.states) >= 0.5).astype(int)
        log.train_balanced_accuracy.append(balanced_accuracy(self.labels, pred))
        if self.eval_states is not None and len(np.unique(self.eval_labels)) == 2:
            proba = self.owner.predict_proba(self.eval_states)
            log.eval_auc.append(float(roc_auc_score(self.eval_labels, proba)))
        else:
            log.eval_auc.append(np.nan)

    def _on_step(self) -> bool:
        if self.num_timesteps % self.every == 0:
            self._record()
        return True


class ResidualPolicy:
    """PPO-trained decision policy on residual-map states (see the module docstring).

    Parameters: ``total_timesteps`` (environment steps = labeled decisions seen), PPO's
    ``n_steps``, ``batch_size``, ``n_epochs``, ``learning_rate``, ``ent_coef`` (SB3 defaults except
    a shorter rollout, 0.01 entropy bonus and gamma = 0, which is exact for one-step episodes),
    ``features_dim`` of the CNN, ``balanced`` and ``augment`` of the environment, ``eval_every``
    (learning-curve period; default: every rollout), ``random_state``, ``device``.
    """

    def __init__(self, total_timesteps: int = 4096, n_steps: int = 128, batch_size: int = 64,
                 n_epochs: int = 4, learning_rate: float = 3e-4, ent_coef: float = 0.01,
                 features_dim: int = 64, balanced: bool = True, augment: bool = True,
                 eval_every: int | None = None, random_state: int = 0, device: str = "cpu"):
        if total_timesteps < 1 or n_steps < 2 or batch_size < 2:
            raise ValueError("total_timesteps >= 1, n_steps >= 2 and batch_size >= 2 are required")
        self.total_timesteps, self.n_steps = int(total_timesteps), int(n_steps)
        self.batch_size, self.n_epochs = int(batch_size), int(n_epochs)
        self.learning_rate, self.ent_coef = float(learning_rate), float(ent_coef)
        self.features_dim, self.balanced, self.augment = int(features_dim), bool(balanced), bool(augment)
        self.eval_every = int(eval_every or n_steps)
        self.random_state, self.device = int(random_state), device

    def fit(self, states: np.ndarray, labels: np.ndarray, eval_states: np.ndarray | None = None,
            eval_labels: np.ndarray | None = None) -> ResidualPolicy:
        """Train on labeled ``states`` (both classes needed); ``eval_*`` only feed ``history_.eval_auc``."""
        states = np.asarray(states, dtype=np.float32)
        labels = np.asarray(labels).astype(np.int64)
        if len(np.unique(labels)) != 2:
            raise ValueError("the policy needs labeled normal and anomalous states")
        flat = states.transpose(1, 0, 2, 3).reshape(states.shape[1], -1)
        extractor_kwargs = {"features_dim": self.features_dim,
                            "channel_mean": flat.mean(axis=1).tolist(),
                            "channel_std": flat.std(axis=1).tolist()}
        with local_seed(self.random_state):
            self.env_ = ResidualDecisionEnv(states, labels, self.balanced, self.augment)
            self.env_.reset(seed=self.random_state)
            self.model_ = PPO(
                "MlpPolicy", self.env_, learning_rate=self.learning_rate, n_steps=self.n_steps,
                batch_size=self.batch_size, n_epochs=self.n_epochs, gamma=0.0, gae_lambda=1.0,
                ent_coef=self.ent_coef, seed=self.random_state, device=self.device, verbose=0,
                policy_kwargs={"features_extractor_class": ResidualCNN,
                               "features_extractor_kwargs": extractor_kwargs,
                               "net_arch": {"pi": [32], "vf": [32]}})
            self.history_ = PolicyLog()
            self.model_.learn(self.total_timesteps, callback=_Curve(self, self.eval_every, states, labels,
                                                                    eval_states, eval_labels))
        return self

    @torch.no_grad()
    def predict_proba(self, states: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """P(action = anomalous) for each state (the score used for AUC-ROC)."""
        policy = self.model_.policy
        was_training = policy.training
        policy.set_training_mode(False)
        out = []
        for s in range(0, len(states), batch_size):
            batch = np.asarray(states[s:s + batch_size], dtype=np.float32)
            obs = torch.as_tensor(batch, device=policy.device)
            out.append(policy.get_distribution(obs).distribution.probs[:, ANOMALOUS].cpu().numpy())
        policy.set_training_mode(was_training)
        return np.concatenate(out).astype(np.float64)

    def decision_function(self, states: np.ndarray) -> np.ndarray:
        """Anomaly scores, higher = more anomalous: :meth:`predict_proba` under the name of the
        :class:`~semiad.core.detectors.base.ActiveDetector` protocol."""
        return self.predict_proba(states)

    def predict(self, states: np.ndarray) -> np.ndarray:
        """Greedy action (1 = anomalous) for each state."""
        return (self.predict_proba(states) >= 0.5).astype(np.int64)
