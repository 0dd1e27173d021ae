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

The authors' development code (``shared/protocols/dads.md``; :mod:`semiad.dads.protocol` switches
each difference) runs its own SAC; here each of its choices is an option of the SB3 agent:
``actor_heads="sigmoid"`` (sigmoid on the mean and log-std heads; the score is then the sigmoid mean,
as the code's ``evaluate`` reads it), ``init="xavier"`` (Xavier-uniform dense weights, biases left),
``ou_noise`` (Ornstein-Uhlenbeck action noise with unit time step, SB3's ``OrnsteinUhlenbeckActionNoise``),
``warmup_actions="binary"`` (random actions in {0, 1}: the code's ``Discrete(2)`` action space),
``max_grad_norm`` and ``adam_eps`` (every network optimiser clips its gradient norm and uses that eps;
SB3 has one optimiser for both critics, so they are clipped jointly, the code clips each), ``train_freq``
/ ``gradient_steps`` (16 / 16), ``bootstrap_at_episode_end=False`` (the code stores ``done=True`` at
the episode's end). Two remaining gaps: SB3 clips noisy actions to the box (the code does not), and its
entropy-coefficient optimiser keeps Adam's default eps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise
from stable_baselines3.sac.policies import SACPolicy
from torch import nn

from semiad.core.detectors.base import BaseDetector, check_inputs
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed
from semiad.dads.env import DADSEnv

DETECTOR_SPACES = ("raw", "embedding")
ACTOR_HEADS = ("linear", "sigmoid")
NET_INITS = ("pytorch_default", "xavier")
WARMUP_ACTIONS = ("uniform", "binary")


class ClippedAdam(torch.optim.Adam):
    """Adam that clips the gradient norm of its parameters before each step (the authors' SAC clips
    actor and critics at 5, ``take_optimisation_step``); ``max_grad_norm=None`` is plain Adam."""

    def __init__(self, params, max_grad_norm: float | None = None, **kwargs):
        super().__init__(params, **kwargs)
        self.max_grad_norm = max_grad_norm

    def step(self, closure=None):
        if self.max_grad_norm is not None:
            nn.utils.clip_grad_norm_([p for g in self.param_groups for p in g["params"]], self.max_grad_norm)
        return super().step(closure)


class ModelessSACPolicy(SACPolicy):
    """SB3's SAC MLP policy without the train/eval mode switch: its MLPs hold no dropout or batch norm,
    so the mode changes nothing, while SB3 flips it (a recursive ``Module.train``) twice per step."""

    def set_training_mode(self, mode: bool) -> None:
        return None


class _SAC(SAC):
    """SB3 SAC whose warm-up actions may be binary {0, 1} (the authors' ``Discrete(2)`` space)."""

    warmup_actions = "uniform"

    def _sample_action(self, learning_starts, action_noise=None, n_envs=1):
        if self.warmup_actions != "binary" or self.num_timesteps >= learning_starts:
            return super()._sample_action(learning_starts, action_noise, n_envs)
        shape = (n_envs, *self.action_space.shape)
        unscaled = self.action_space.np_random.integers(0, 2, size=shape).astype(np.float32)
        scaled = self.policy.scale_action(unscaled)
        if action_noise is not None:
            scaled = np.clip(scaled + action_noise(), -1, 1)
        return self.policy.unscale_action(scaled), scaled


@dataclass
class EpisodeLog:
    """Per-episode learning curve of a DADS run (one list entry per episode)."""

    episode_return: list[float] = field(default_factory=list)
    val_auc: list[float] = field(default_factory=list)
    size_A: list[int] = field(default_factory=list)
    size_T: list[int] = field(default_factory=list)
    n_promoted: list[int] = field(default_factory=list)
    promoted_precision: list[float] = field(default_factory=list)
    th_conf: list[int] = field(default_factory=list)

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
        log.th_conf.append(int(info["th_conf"]))
        self._return = 0.0
        if self.X_val is None:
            log.val_auc.append(np.nan)
            self.det.best_actor_state_ = copy.deepcopy(self.model.policy.actor.state_dict())
            return True
        auc = float(roc_auc_score(self.y_val, self.det._policy_scores(self.X_val)))
        log.val_auc.append(auc)
        if auc > self.det.best_val_auc_ or not self.det.keep_best_actor:
            self.det.best_val_auc_ = auc
            self.det.best_episode_ = len(log.val_auc) - 1
            self.det.best_actor_state_ = copy.deepcopy(self.model.policy.actor.state_dict())
        return True


class DADS(BaseDetector):
    """Deep Anomaly Detection and Search (SAC agent + :class:`~semiad.dads.env.DADSEnv`).

    Parameters
    ----------
    n_episodes, episode_length : training length (defaults 10 x 5000, issue #6).
    net_arch : hidden widths of the actor and both critics (default (32, 16)).
    learning_rate, batch_size, buffer_size, learning_starts, gamma, tau : SAC hyperparameters
        (SB3 defaults except the buffer, which holds the whole run by default).
    detector_space : ``"raw"`` (IF/OC-SVM/HBOS fitted once on raw features) or ``"embedding"``
        (refit at every episode on the actor's last hidden layer, as the authors' code does).
    env_kwargs : passed to :class:`DADSEnv` (th_score, th_conf, pool_probs, n_candidates,
        sampling, r_a, r_t, r_u, unlabeled_reward, detector_max_fit and the authors' options).
    adam_eps, max_grad_norm, train_freq, gradient_steps, target_entropy, ou_noise, actor_heads, init,
        warmup_actions, bootstrap_at_episode_end : the authors' SAC (module docstring); defaults are
        SB3's (target entropy -1 = SB3's "auto" for a 1-D action).
    keep_best_actor : keep the actor of the best validation AUC (default), else the last one.
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
                 env_kwargs: dict | None = None, random_state: int = 0, device: str = "cpu",
                 adam_eps: float = 1e-8, max_grad_norm: float | None = None, train_freq: int = 1,
                 gradient_steps: int = 1, target_entropy: float = -1.0,
                 ou_noise: tuple[float, float, float] | None = None, actor_heads: str = "linear",
                 init: str = "pytorch_default", warmup_actions: str = "uniform",
                 bootstrap_at_episode_end: bool = True, keep_best_actor: bool = True):
        if n_episodes < 1 or episode_length < 1:
            raise ValueError("n_episodes and episode_length must be >= 1")
        if detector_space not in DETECTOR_SPACES:
            raise ValueError(f"detector_space must be one of {DETECTOR_SPACES}, got {detector_space!r}")
        for key, value, allowed in (("actor_heads", actor_heads, ACTOR_HEADS), ("init", init, NET_INITS),
                                    ("warmup_actions", warmup_actions, WARMUP_ACTIONS)):
            if value not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, got {value!r}")
        if ou_noise is not None and len(ou_noise) != 3:
            raise ValueError(f"ou_noise must be (mu, theta, sigma) or None, got {ou_noise!r}")
        self.n_episodes, self.episode_length = int(n_episodes), int(episode_length)
        self.net_arch = tuple(net_arch)
        self.learning_rate, self.batch_size = learning_rate, batch_size
        self.buffer_size, self.learning_starts = buffer_size, learning_starts
        self.gamma, self.tau = gamma, tau
        self.detector_space = detector_space
        self.env_kwargs = env_kwargs
        self.random_state = int(random_state)
        self.device = device
        self.adam_eps, self.max_grad_norm = adam_eps, max_grad_norm
        self.train_freq, self.gradient_steps = int(train_freq), int(gradient_steps)
        self.target_entropy = float(target_entropy)
        self.ou_noise = None if ou_noise is None else tuple(float(v) for v in ou_noise)
        self.actor_heads, self.init, self.warmup_actions = actor_heads, init, warmup_actions
        self.bootstrap_at_episode_end = bool(bootstrap_at_episode_end)
        self.keep_best_actor = bool(keep_best_actor)

    def _make_sac(self, total: int) -> SAC:
        """The SB3 SAC of this configuration; options left at their defaults are not passed, so the
        paper-text agent is the one SB3 builds by default (bit-identical to earlier versions)."""
        policy_kwargs: dict = {"net_arch": list(self.net_arch)}
        if self.adam_eps != 1e-8 or self.max_grad_norm is not None:
            policy_kwargs.update(optimizer_class=ClippedAdam,
                                 optimizer_kwargs={"eps": self.adam_eps, "max_grad_norm": self.max_grad_norm})
        extra: dict = {}
        if self.ou_noise is not None:
            mu, theta, sigma = self.ou_noise
            extra["action_noise"] = OrnsteinUhlenbeckActionNoise(
                np.array([mu]), np.array([sigma]), theta=theta, dt=1.0)
        if not self.bootstrap_at_episode_end:
            extra["replay_buffer_kwargs"] = {"handle_timeout_termination": False}
        model = _SAC(
            ModelessSACPolicy, self.env_, learning_rate=self.learning_rate,
            buffer_size=self.buffer_size or total, learning_starts=self.learning_starts,
            batch_size=self.batch_size, tau=self.tau, gamma=self.gamma, train_freq=self.train_freq,
            gradient_steps=self.gradient_steps, target_entropy=self.target_entropy,
            policy_kwargs=policy_kwargs, seed=self.random_state, device=resolve_device(self.device),
            verbose=0, **extra)
        model.warmup_actions = self.warmup_actions
        policy = model.policy
        if self.init == "xavier":  # the code's NN initialiser: Xavier-uniform weights, default biases
            for net in (policy.actor, policy.critic):
                for module in net.modules():
                    if isinstance(module, nn.Linear):
                        nn.init.xavier_uniform_(module.weight)
            policy.critic_target.load_state_dict(policy.critic.state_dict())
        if self.actor_heads == "sigmoid":  # the code's final_layer_activation="Sigmoid" on both heads
            policy.actor.mu = nn.Sequential(policy.actor.mu, nn.Sigmoid())
            policy.actor.log_std = nn.Sequential(policy.actor.log_std, nn.Sigmoid())
        return model

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
        """Pre-squash mean action: monotone in the deterministic action pi*(s) (module docstring);
        with sigmoid heads, the sigmoid mean (the code's test score)."""
        return self._actor_forward(np.asarray(X, dtype=np.float32))[:, 0]

    # ------------------------------------------------------------------ contract
    def fit(self, X, y_semi=None, X_val=None, y_val=None, y_true=None) -> DADS:
        """Train the agent on (X, y_semi) in four phases (``notebooks/dads/IMPLEMENTATION.md``);
        ``X_val, y_val`` select the best episode's policy; ``y_true`` (optional) only feeds the
        promoted-precision diagnostic of ``history_``."""
        # ---- 1. data: the training rows are the states; A = labeled anomalies, U = the rest
        X, y_semi = check_inputs(X, y_semi)
        if X_val is not None:
            X_val, _ = check_inputs(X_val)
            y_val = np.asarray(y_val).astype(int)
            if len(np.unique(y_val)) < 2:
                raise ValueError("y_val must contain normals and anomalies to select a policy by AUC")
        total = self.n_episodes * self.episode_length
        with local_seed(self.random_state):  # SB3's set_random_seed touches the global RNGs
            # ---- 2. environment (pools A/T/U, detectors, rewards) and SAC agent (actor, twin critics)
            self.env_ = DADSEnv(X, y_semi, episode_length=self.episode_length, y_true=y_true,
                                seed=self.random_state, **(self.env_kwargs or {}))
            self.model_ = self._make_sac(total)
            if self.detector_space == "embedding":  # detectors refit on the actor's hidden layer per reset
                self.env_.set_embedding(lambda Z: self._actor_forward(Z.astype(np.float32), hidden=True))
            # ---- 3. train: SB3's loop (random warm-up steps, then SAC updates); after every episode
            # _EpisodeEnd logs the search and keeps the actor with the best validation AUC-ROC
            self.history_ = EpisodeLog()
            self.best_val_auc_, self.best_episode_ = -np.inf, self.n_episodes - 1
            self.best_actor_state_ = None
            self.model_.learn(total_timesteps=total, callback=_EpisodeEnd(self, X_val, y_val))
            # ---- 4. the scorer: the kept actor's mean action (pi*(s), paper Sec. "SAC-Based Agent")
            if self.best_actor_state_ is not None:
                self.model_.policy.actor.load_state_dict(self.best_actor_state_)
        self.is_fitted_ = True
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._policy_scores(X)
