"""DADS: a Soft Actor-Critic agent trained in the anomaly-search environment; its policy is the
anomaly scorer (paper Sec. "SAC-Based Agent": "After training, we get pi*(theta). For every single
data s, pi*(s; theta) is used as anomaly score").

The agent is stable-baselines3's SAC (continuous action in [0, 1]: SB3 squashes a Gaussian with
tanh and rescales it to the Box), with small MLPs (``net_arch``, default [32, 16]). Training runs
``n_episodes`` episodes of ``episode_length`` steps; after every episode the policy scores the
validation set and the policy with the best validation AUC-ROC is kept (issue #6 protocol).

Scoring uses the mean of the policy's Gaussian *before* the tanh squashing: it is a strictly
increasing function of the deterministic action ``pi*(s)``, so AUCs are the same, but it does not
saturate at 0 or 1 in float32 (saturation would create artificial ties among confident points).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback

from semiad.device import resolve_device
from semiad.models.base import BaseDetector, check_inputs
from semiad.rl.dads_env import DADSEnv
from semiad.seeding import local_seed

DETECTOR_SPACES = ("raw", "embedding")


@dataclass
class EpisodeLog:
    """Per-episode learning curve of a DADS run (one list entry per episode)."""

    episode_return: list[float] = field(default_factory=list)
    val_auc: list[float] = field(default_factory=list)
    size_A: list[int] = field(default_factory=list)
    size_T: list[int] = field(default_factory=list)
    n_promoted: list[int] = field(default_factory=list)
    promoted_precision: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return {k: list(v) for k, v in self.__dict__.items()}


class _EpisodeEnd(BaseCallback):
    """After each episode: log the search's state, score the validation set, keep the best actor."""

    def __init__(self, detector: DADS, X_val, y_val):
        super().__init__()
        self.det, self.X_val, self.y_val = detector, X_val, y_val
        self._return = 0.0

    def _on_step(self) -> bool:
        self._return += float(self.locals["rewards"][0])
        if not self.locals["dones"][0]:
            return True
        info = self.locals["infos"][0]  # the last step's info, before SB3's automatic reset
        log = self.det.history_
        log.episode_return.append(self._return)
        log.size_A.append(int(info["A"]))
        log.size_T.append(int(info["T"]))
        log.n_promoted.append(int(info["n_promoted"]))
        log.promoted_precision.append(float(info.get("promoted_precision", np.nan)))
        self._return = 0.0
        if self.X_val is None:
            log.val_auc.append(np.nan)
            self.det.best_actor_state_ = copy.deepcopy(self.model.policy.actor.state_dict())
            return True
        auc = float(roc_auc_score(self.y_val, self.det._policy_scores(self.X_val)))
        log.val_auc.append(auc)
        if auc > self.det.best_val_auc_:
            self.det.best_val_auc_ = auc
            self.det.best_episode_ = len(log.val_auc) - 1
            self.det.best_actor_state_ = copy.deepcopy(self.model.policy.actor.state_dict())
        return True


class DADS(BaseDetector):
    """Deep Anomaly Detection and Search (SAC agent + :class:`~semiad.rl.dads_env.DADSEnv`).

    Parameters
    ----------
    n_episodes, episode_length : training length (defaults 10 x 5000, issue #6).
    net_arch : hidden widths of the actor and both critics (default (32, 16)).
    learning_rate, batch_size, buffer_size, learning_starts, gamma, tau : SAC hyperparameters
        (SB3 defaults except the buffer, which holds the whole run by default).
    detector_space : ``"raw"`` (IF/OC-SVM/HBOS fitted once on raw features) or ``"embedding"``
        (refit at every episode on the actor's last hidden layer, as the authors' code does).
    env_kwargs : passed to :class:`DADSEnv` (th_score, th_conf, pool_probs, n_candidates,
        sampling, r_a, r_t, r_u, unlabeled_reward, detector_max_fit).
    random_state : seeds SB3 (torch, numpy), the environment and the detectors.
    device : ``"auto"`` picks CUDA when present; the tiny MLPs are usually faster on CPU.

    After ``fit``: ``history_`` (:class:`EpisodeLog`), ``best_val_auc_``, ``best_episode_``,
    ``env_`` (the environment, e.g. for its final pools) and ``model_`` (the SB3 SAC object).
    """

    uses_labeled_anomalies = True

    def __init__(self, n_episodes: int = 10, episode_length: int = 5000,
                 net_arch: tuple[int, ...] = (32, 16), learning_rate: float = 3e-4,
                 batch_size: int = 256, buffer_size: int | None = None, learning_starts: int = 100,
                 gamma: float = 0.99, tau: float = 0.005, detector_space: str = "raw",
                 env_kwargs: dict | None = None, random_state: int = 0, device: str = "cpu"):
        if n_episodes < 1 or episode_length < 1:
            raise ValueError("n_episodes and episode_length must be >= 1")
        if detector_space not in DETECTOR_SPACES:
            raise ValueError(f"detector_space must be one of {DETECTOR_SPACES}, got {detector_space!r}")
        self.n_episodes, self.episode_length = int(n_episodes), int(episode_length)
        self.net_arch = tuple(net_arch)
        self.learning_rate, self.batch_size = learning_rate, batch_size
        self.buffer_size, self.learning_starts = buffer_size, learning_starts
        self.gamma, self.tau = gamma, tau
        self.detector_space = detector_space
        self.env_kwargs = dict(env_kwargs or {})
        self.random_state = int(random_state)
        self.device = device

    # ------------------------------------------------------------------ policy as scorer
    @torch.no_grad()
    def _actor_forward(self, X: np.ndarray, hidden: bool = False) -> np.ndarray:
        actor = self.model_.policy.actor
        out = []
        for start in range(0, len(X), 8192):
            obs = torch.as_tensor(X[start:start + 8192], dtype=torch.float32, device=actor.device)
            latent = actor.latent_pi(actor.extract_features(obs, actor.features_extractor))
            out.append((latent if hidden else actor.mu(latent)).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def _policy_scores(self, X: np.ndarray) -> np.ndarray:
        """Pre-squash mean action: monotone in the deterministic action pi*(s) (module docstring)."""
        return self._actor_forward(np.asarray(X, dtype=np.float32))[:, 0]

    # ------------------------------------------------------------------ contract
    def fit(self, X, y_semi=None, X_val=None, y_val=None, y_true=None) -> DADS:
        """Train the agent on (X, y_semi); ``X_val, y_val`` select the best episode's policy;
        ``y_true`` (optional) only feeds the promoted-precision diagnostic of ``history_``."""
        X, y_semi = check_inputs(X, y_semi)
        if X_val is not None:
            X_val, _ = check_inputs(X_val)
            y_val = np.asarray(y_val).astype(int)
            if len(np.unique(y_val)) < 2:
                raise ValueError("y_val must contain normals and anomalies to select a policy by AUC")
        total = self.n_episodes * self.episode_length
        with local_seed(self.random_state):
            self.env_ = DADSEnv(X, y_semi, episode_length=self.episode_length, y_true=y_true,
                                seed=self.random_state, **self.env_kwargs)
            self.model_ = SAC(
                "MlpPolicy", self.env_, learning_rate=self.learning_rate,
                buffer_size=self.buffer_size or total, learning_starts=self.learning_starts,
                batch_size=self.batch_size, tau=self.tau, gamma=self.gamma,
                policy_kwargs={"net_arch": list(self.net_arch)}, seed=self.random_state,
                device=resolve_device(self.device), verbose=0)
            if self.detector_space == "embedding":
                self.env_.set_embedding(lambda Z: self._actor_forward(Z.astype(np.float32), hidden=True))
            self.history_ = EpisodeLog()
            self.best_val_auc_, self.best_episode_ = -np.inf, self.n_episodes - 1
            self.best_actor_state_ = None
            self.model_.learn(total_timesteps=total, callback=_EpisodeEnd(self, X_val, y_val))
            if self.best_actor_state_ is not None:
                self.model_.policy.actor.load_state_dict(self.best_actor_state_)
        self.is_fitted_ = True
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._policy_scores(X)
