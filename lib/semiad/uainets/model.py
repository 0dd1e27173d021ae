"""UaiNets (UaiNets paper, Sec. 3-4, App. A.1): a UAI layer on top of a DAE or a classifier.

* **Base models** (App. A.1). ``DAE``: ``l = f_enc(x + eps)``, ``eps ~ N(0, psi^2)``,
  ``x_hat = f_dec(l)``, score ``s_dae(x) = ||x - x_hat||^2`` (Eqs. 4-5; scored on the clean input).
  ``Class``: an MLP predicting the item's class ``x_y``; score ``s_class(x) = CE(x_y, f_class(x))``
  and latent ``l = h_{p-1}``, its last hidden layer (Eqs. 7-8). Hidden sizes [256, 64, 8];
  RMSprop, lr 0.01, batch 256 (App. A.1).
* **UAI layer** (Eqs. 2-3): ``s_uai(x) = sigma(W_act [l(x); s(x)] + b_act)``, trained with cross
  entropy on the audited items. Gradients flow into ``l`` (and so into the base network) but are
  stopped at ``s`` (``s.detach()``): "s might be non-differentiable" (Sec. 3.1).
* **Active schedule** (App. A.1): pre-train the base model for 5000 steps; after each audit, train
  100 iterations; the first ``cold_start_rounds`` calls of select_top rank by the base score ``s``
  (cold start; the paper says 10 -- how that reads on short runs is
  :class:`semiad.uainets.grid.ColdStart`), later ones by ``s_uai``. Driven by
  :func:`semiad.uainets.active.run_active_loop`.

Choices the paper leaves open (all parameters):

* ``noise_std`` psi of the DAE's Gaussian input noise: 0.1 (inputs are in [0, 1] or standardised).
* ``train_base_in_rounds=True``: during the 100 iterations of a round the base loss keeps training
  on a random pool batch alongside the UAI loss. Without it the only signal reaching ``l`` is the
  few audited items, and the encoder drifts away from a representation of the whole pool; the
  paper's "learns representations by leveraging both the full dataset and the already labeled
  instances" (Sec. 6) describes the joint objective.
* Activations: ReLU on hidden layers; the DAE code ``l`` is linear, the classifier's ``l = h_{p-1}``
  is a ReLU hidden layer like the others (a sigmoid when it has one unit, as in Figs. 9-10, whose
  l_class axis runs over [0, 1]). The DAE decoder output is linear.
* ``score_scaling``: ``s`` enters the UAI layer standardised by the mean and std of the base scores
  on the pool, recomputed (without gradient) before each round. This is an affine
  re-parametrisation of ``(W_act, b_act)`` -- the same model class as Eq. 3 -- that keeps the
  logistic regression well conditioned when ``s`` is a sum of 784 squared errors.
* RMSprop as TensorFlow 1's ``tf.train.RMSPropOptimizer`` (the paper used TensorFlow): decay 0.9,
  eps 1e-10, and the mean-square accumulator initialised to **ones** (:func:`tf1_rmsprop`). With
  PyTorch's zero initialisation the first steps are ~lr / sqrt(1 - decay) = 0.03 per weight, and at
  lr 0.01 the classifier collapses to a constant prediction (measured: loss stuck at ln 9 on MNIST0).
* Audited items stay in the pool that the base loss trains on (the data set ``D`` of Alg. 1).
* ``wait_for_both_classes=True``: while every audit is of one class (in practice: all normal), the
  cold start goes on -- select_top ranks by s and the UAI loss is left out. The paper trains the
  UAI layer after every call; on one class its logistic regression can only push the audited
  items' region down, and on Covtype it inverted the ranking (measured in the Table 1/3 notebook).
  ``False`` is the paper's literal rule.
* select_top ranks by the *logit* of s_uai (:meth:`UaiNet.score`): the same order as s_uai, without
  the float32 saturation that turns every logit above ~17 into a tie at 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from semiad.core.detectors.base import check_fitted
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed, torch_generator

BASES = ("dae", "class")


def _mlp(sizes: Sequence[int], last_activation: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def tf1_rmsprop(params, lr: float) -> torch.optim.RMSprop:
    """PyTorch RMSprop behaving like TF1's RMSPropOptimizer (accumulator starts at 1, decay 0.9).

    Hand-written because no torch optimizer exposes the initial accumulator value; pre-filling the
    optimizer state is enough, since torch only creates state for parameters that have none.
    """
    params = list(params)
    opt = torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-10)
    for p in params:
        opt.state[p] = {"step": torch.zeros((), dtype=torch.float32), "square_avg": torch.ones_like(p)}
    return opt


class DAEBase(nn.Module):
    """Denoising autoencoder with independent encoder/decoder weights (App. A.1, Eq. 4)."""

    def __init__(self, n_features: int, hidden: Sequence[int], noise_std: float):
        super().__init__()
        self.encoder = _mlp([n_features, *hidden], last_activation=False)
        self.decoder = _mlp([*reversed(hidden), n_features], last_activation=False)
        self.noise_std = noise_std
        #: dedicated generator of the input noise (set by UaiNet): a checkpoint can restore it, the
        #: process-global torch RNG cannot be restored per model
        self.noise_gen: torch.Generator | None = None

    def latent_and_score(self, x: torch.Tensor, target: torch.Tensor | None = None,
                         noisy: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``(l(x), s(x))``: code and squared reconstruction error (Eq. 5)."""
        inp = x
        if noisy and self.noise_std > 0:
            noise = torch.randn(x.shape, generator=self.noise_gen, dtype=x.dtype).to(x.device) \
                if self.noise_gen is not None else torch.randn_like(x)
            inp = x + self.noise_std * noise
        code = self.encoder(inp)
        return code, torch.sum((self.decoder(code) - x) ** 2, dim=1)

    def base_loss(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """Eq. 4: L = ||x - f_dec(f_enc(x + eps))||^2 (mean over the batch)."""
        return self.latent_and_score(x, noisy=True)[1].mean()


class ClassBase(nn.Module):
    """Classifier of the item's class x_y; anomaly score = its cross-entropy (App. A.1, Eq. 7)."""

    def __init__(self, n_features: int, hidden: Sequence[int], n_classes: int):
        super().__init__()
        self.body = _mlp([n_features, *hidden], last_activation=False)
        # l = h_{p-1}: ReLU like the other hidden layers, except a 1-unit latent (Figs. 9-10), which
        # gets a sigmoid -- Fig. 10 plots l_class in [0, 1], and a single ReLU unit can die (l const).
        self.body.append(nn.Sigmoid() if hidden[-1] == 1 else nn.ReLU())
        self.head = nn.Linear(hidden[-1], n_classes)

    def latent_and_score(self, x: torch.Tensor, target: torch.Tensor | None = None,
                         noisy: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.body(x)
        return code, nn.functional.cross_entropy(self.head(code), target, reduction="none")

    def base_loss(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        return self.latent_and_score(x, target)[1].mean()


#: Offset of the input-noise stream's seed from the mini-batch stream's (two independent generators).
NOISE_STREAM = 7919
#: Version of :meth:`UaiNet.checkpoint`'s layout (part of the cache key of cached pre-trainings).
CHECKPOINT_FORMAT = 2


class UaiNet(BaseEstimator):
    """A DAE or classifier with a UAI layer (Eqs. 2-3), as an active detector over a fixed pool ``X``.

    ``fit(X, classes)`` pre-trains the base model (``classes`` = x_y, needed for ``base="class"``);
    ``base_score()`` is s(x) on the pool (the unsupervised DAE / Class baselines); ``score()`` is
    what select_top ranks by (s during the cold start, then s_uai); ``update(idx, labels)`` adds
    audited items and trains ``steps_per_round`` iterations; :func:`semiad.uainets.active.run_active_loop`
    drives it (Algorithm 1). It follows :class:`~semiad.core.detectors.base.ActiveDetector` and
    :class:`~semiad.core.detectors.base.QueryStrategy`.

    Parameters
    ----------
    base : {"dae", "class"}, default="dae"
        Base model: denoising autoencoder (Eqs. 4-5) or classifier of the item's class (Eqs. 7-8).
    hidden : sequence of int, default=(256, 64, 8)
        Hidden sizes (App. A.1); the last one is the latent ``l``.
    noise_std : float, default=0.1
        psi of the DAE's Gaussian input noise (our choice, module docstring), >= 0.
    lr : float, default=0.01
        RMSprop learning rate (App. A.1), > 0.
    batch_size : int, default=256
        Batch size (App. A.1), >= 2.
    pretrain_steps : int, default=5000
        Pre-training steps of the base model (App. A.1).
    steps_per_round : int, default=100
        Training iterations after each audit (App. A.1).
    cold_start_rounds : int, default=10
        Rounds ranked by s before s_uai takes over (App. A.1).
    train_base_in_rounds, score_scaling, wait_for_both_classes : bool, default=True
        Our choices where the paper is open (module docstring).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train.
    random_state : int, default=0
        Seed of the weights, the mini-batch draws and the input noise.

    Attributes
    ----------
    net_ : DAEBase or ClassBase
        The base network.
    uai_ : torch.nn.Linear
        The UAI layer ``(W_act, b_act)`` of Eq. 3.
    labeled_idx_, labeled_y_ : ndarray
        Audited pool items and their labels (1 = anomaly).
    n_updates_ : int
        Number of :meth:`update` calls.
    pretrain_history_ : list of float
        Pre-training loss per step.
    s_mean_, s_std_ : torch.Tensor
        Pool statistics of s used by ``score_scaling``.

    References
    ----------
    .. [1] "UaiNets: From Unsupervised to Active Deep Anomaly Detection" (ICLR 2019 submission,
       /work/shared/papers/uainets_active_ad.txt): Eqs. 2-5, 7-8, Algorithm 1, App. A.1.
    """

    def __init__(self, base: str = "dae", hidden: Sequence[int] = (256, 64, 8), noise_std: float = 0.1,
                 lr: float = 0.01, batch_size: int = 256, pretrain_steps: int = 5000,
                 steps_per_round: int = 100, cold_start_rounds: int = 10, train_base_in_rounds: bool = True,
                 score_scaling: bool = True, wait_for_both_classes: bool = True, device: str = "auto",
                 random_state: int = 0):
        self.base = base
        self.hidden = hidden
        self.noise_std = noise_std
        self.lr = lr
        self.batch_size = batch_size
        self.pretrain_steps = pretrain_steps
        self.steps_per_round = steps_per_round
        self.cold_start_rounds = cold_start_rounds
        self.train_base_in_rounds = train_base_in_rounds
        self.score_scaling = score_scaling
        self.wait_for_both_classes = wait_for_both_classes
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.base not in BASES:
            raise ValueError(f"base must be one of {BASES}, got {self.base!r}")
        if (self.pretrain_steps < 0 or self.steps_per_round < 0 or self.cold_start_rounds < 0
                or self.batch_size < 2):
            raise ValueError("pretrain_steps, steps_per_round and cold_start_rounds must be >= 0, "
                             "batch_size >= 2")
        if self.noise_std < 0 or self.lr <= 0:
            raise ValueError("noise_std must be >= 0 and lr > 0")

    # ------------------------------------------------------------------ setup and pre-training
    def fit(self, X: np.ndarray, classes: np.ndarray | None = None,
            pretrained: dict | None = None) -> UaiNet:
        """Pre-train the base model on the whole pool (or load ``pretrained`` = :meth:`checkpoint`)."""
        self._check_params()
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or len(X) < 2 or not np.isfinite(X).all():
            raise ValueError(f"X must be a finite 2-D array with >= 2 rows, got shape {X.shape}")
        self.device_ = resolve_device(self.device)
        self.X_ = torch.as_tensor(X, device=self.device_)
        if self.base == "class":
            if classes is None:
                raise ValueError("base='class' needs the items' classes x_y (fit(X, classes))")
            classes = np.asarray(classes)
            if classes.shape != (len(X),):
                raise ValueError(f"classes must have shape ({len(X)},), got {classes.shape}")
            _, codes = np.unique(classes, return_inverse=True)
            self.targets_ = torch.as_tensor(codes, dtype=torch.long, device=self.device_)
            n_classes = int(codes.max()) + 1
        else:
            self.targets_ = None
        with local_seed(self.random_state):
            self.net_ = (DAEBase(X.shape[1], self.hidden, self.noise_std) if self.base == "dae"
                         else ClassBase(X.shape[1], self.hidden, n_classes)).to(self.device_)
            self.uai_ = nn.Linear(self.hidden[-1] + 1, 1).to(self.device_)  # Eq. 3: W_act in R^{1, d+1}
        self.gen_ = torch_generator(self.random_state, "cpu")
        if isinstance(self.net_, DAEBase):
            self.net_.noise_gen = torch_generator(self.random_state + NOISE_STREAM, "cpu")
        self.opt_ = tf1_rmsprop([*self.net_.parameters(), *self.uai_.parameters()], self.lr)
        self.labeled_idx_ = np.empty(0, np.int64)
        self.labeled_y_ = np.empty(0, np.float32)
        self.n_updates_ = 0
        self.pretrain_history_: list[float] = []
        self._version, self._last_s = 0, None  # weight version, (version, s on the pool)
        if pretrained is not None:
            self._restore(pretrained)
        else:
            self._train(self.pretrain_steps, with_uai=False, log=self.pretrain_history_)
        self._refresh_scaling()
        return self

    def base_state(self) -> dict:
        """The pre-trained base network's weights (shared by the DAE/Class baseline and the UaiNet)."""
        return {k: v.detach().cpu().clone() for k, v in self.net_.state_dict().items()}

    def checkpoint(self) -> dict:
        """Everything pre-training leaves behind that later training depends on: the base weights, the
        optimiser state (RMSProp accumulators of the pre-trained weights) and both random streams
        (mini-batch draws, input noise). :meth:`fit` with ``pretrained=checkpoint()`` then continues
        exactly as the process that pre-trained would (tensors only: loads with ``weights_only=True``)."""
        opt = self.opt_.state_dict()
        ckpt = {"format": CHECKPOINT_FORMAT, "net": self.base_state(),
                "opt_state": {int(k): {n: v.detach().cpu().clone() for n, v in st.items()}
                              for k, st in opt["state"].items()},
                "batch_rng": self.gen_.get_state(),
                "pretrain_history": torch.tensor(self.pretrain_history_, dtype=torch.float64)}
        if isinstance(self.net_, DAEBase) and self.net_.noise_gen is not None:
            ckpt["noise_rng"] = self.net_.noise_gen.get_state()
        return ckpt

    def _restore(self, pretrained: dict) -> None:
        if pretrained.get("format") != CHECKPOINT_FORMAT:  # bare weights: the state is incomplete
            raise ValueError("pretrained must be a UaiNet.checkpoint() (format "
                             f"{CHECKPOINT_FORMAT}); bare weights lose the optimiser and RNG state")
        self.net_.load_state_dict(pretrained["net"])
        opt = self.opt_.state_dict()
        opt["state"] = {int(k): {n: v.to(self.device_) for n, v in st.items()}
                        for k, st in pretrained["opt_state"].items()}
        self.opt_.load_state_dict(opt)
        self.gen_.set_state(pretrained["batch_rng"])
        if "noise_rng" in pretrained and isinstance(self.net_, DAEBase):
            self.net_.noise_gen.set_state(pretrained["noise_rng"])
        self.pretrain_history_ = pretrained["pretrain_history"].tolist()

    # ------------------------------------------------------------------ scores
    @torch.no_grad()
    def latent_and_score(self, chunk: int = 16384) -> tuple[np.ndarray, np.ndarray]:
        """``(l(x), s(x))`` for every pool item (Figs. 9-10 plot these)."""
        check_fitted(self, "net_", call="fit(X)")
        self.net_.eval()
        codes, scores = [], []
        for i in range(0, len(self.X_), chunk):
            t = None if self.targets_ is None else self.targets_[i:i + chunk]
            c, s = self.net_.latent_and_score(self.X_[i:i + chunk], t)
            codes.append(c)
            scores.append(s)
        self.net_.train()
        self._last_s = (self._version, torch.cat(scores))  # reused by _refresh_scaling
        return torch.cat(codes).cpu().numpy(), self._last_s[1].cpu().numpy()

    def base_score(self) -> np.ndarray:
        """s(x) on the pool: the unsupervised DAE / Class anomaly score (Eqs. 5, 7)."""
        return self.latent_and_score()[1].astype(np.float64)

    @torch.no_grad()
    def _pool_logit(self) -> torch.Tensor:
        code, s = (torch.as_tensor(a, device=self.device_) for a in self.latent_and_score())
        return self._uai_logit(code, s)

    def uai_score(self) -> np.ndarray:
        """s_uai(x) = sigma(W_act [l; s] + b_act) on the pool (Eq. 3)."""
        return torch.sigmoid(self._pool_logit()).cpu().numpy().astype(np.float64)

    @property
    def uai_ready(self) -> bool:
        """Whether select_top ranks by s_uai: after the cold start (App. A.1) and, with
        ``wait_for_both_classes``, once the audits hold an anomaly and a normal item."""
        return self.n_updates_ >= self.cold_start_rounds and (not self.wait_for_both_classes
                                                               or self._both_classes())

    def _both_classes(self) -> bool:
        return bool(0 < self.labeled_y_.sum() < len(self.labeled_y_))

    def uai_logit(self) -> np.ndarray:
        """The logit of s_uai on the pool: the same ranking as s_uai without float saturation ties."""
        return self._pool_logit().cpu().numpy().astype(np.float64)

    def score(self) -> np.ndarray:
        """What select_top ranks by: s during the cold start, then s_uai (:attr:`uai_ready`), as its
        logit -- sigma is monotone, and in float32 it rounds every logit above ~17 to exactly 1, which
        would turn the top of the ranking into a tie broken by item index."""
        check_fitted(self, "net_", call="fit(X)")
        return self.uai_logit() if self.uai_ready else self.base_score()

    def decision_function(self, X) -> np.ndarray:
        """scikit-learn name of :meth:`score_new`: the current ranking score of rows ``X`` (DAE base)."""
        return self.score_new(X)

    @torch.no_grad()
    def score_new(self, X: np.ndarray, classes: np.ndarray | None = None, chunk: int = 16384) -> np.ndarray:
        """The current ranking score (s or s_uai, as :meth:`score`) of items outside the pool (Fig. 4)."""
        check_fitted(self, "net_", call="fit(X)")
        if self.base == "class":
            raise ValueError("score_new is available for base='dae' only (new items have no class codes)")
        X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device_)
        self.net_.eval()
        out = []
        for i in range(0, len(X), chunk):
            code, s = self.net_.latent_and_score(X[i:i + chunk])
            out.append(torch.sigmoid(self._uai_logit(code, s)) if self.uai_ready else s)
        self.net_.train()
        return torch.cat(out).cpu().numpy().astype(np.float64)

    def _uai_logit(self, code: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        s = s.detach()  # Sec. 3.1: gradients flow through l but not through s
        if self.score_scaling:
            s = (s - self.s_mean_) / self.s_std_
        return self.uai_(torch.cat([code, s[:, None]], dim=1)).squeeze(1)

    @torch.no_grad()
    def _refresh_scaling(self) -> None:
        """Pool mean/std of s for the UAI input; reuses the last pool pass if no training happened since."""
        if self._last_s is None or self._last_s[0] != self._version:
            self.latent_and_score()
        s = self._last_s[1]
        self.s_mean_, self.s_std_ = s.mean(), s.std().clamp_min(1e-12)

    # ------------------------------------------------------------------ feedback and training
    def update(self, idx: np.ndarray, labels: np.ndarray) -> None:
        """Add audited items (labels 1 = anomaly, 0 = normal) and train ``steps_per_round`` iterations."""
        check_fitted(self, "net_", call="fit(X)")
        idx = np.asarray(idx, dtype=np.int64)
        labels = np.asarray(labels)
        if idx.shape != labels.shape or idx.ndim != 1:
            raise ValueError("idx and labels must be 1-D arrays of the same length")
        if len(idx) and (idx.min() < 0 or idx.max() >= len(self.X_)):
            raise ValueError("idx out of range of the pool")
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("labels must be 0 (normal) or 1 (anomaly)")
        self.labeled_idx_ = np.concatenate([self.labeled_idx_, idx])
        self.labeled_y_ = np.concatenate([self.labeled_y_, labels.astype(np.float32)])
        self.n_updates_ += 1
        self._refresh_scaling()
        self._train(self.steps_per_round, with_uai=True)

    def _train(self, steps: int, with_uai: bool, log: list[float] | None = None) -> None:
        self._version += 1
        n = len(self.X_)
        lab_idx = torch.as_tensor(self.labeled_idx_, device=self.device_)
        lab_y = torch.as_tensor(self.labeled_y_, device=self.device_)
        self.net_.train()
        for _ in range(steps):
            loss = torch.zeros((), device=self.device_)
            if not with_uai or self.train_base_in_rounds:
                b = torch.randint(0, n, (min(self.batch_size, n),), generator=self.gen_).to(self.device_)
                t = None if self.targets_ is None else self.targets_[b]
                loss = loss + self.net_.base_loss(self.X_[b], t)
            if with_uai and len(lab_idx) and (self._both_classes() or not self.wait_for_both_classes):
                pick = torch.arange(len(lab_idx), device=self.device_)
                if len(lab_idx) > self.batch_size:
                    pick = torch.randperm(len(lab_idx), generator=self.gen_)[:self.batch_size]
                    pick = pick.to(self.device_)
                rows = lab_idx[pick]
                t = None if self.targets_ is None else self.targets_[rows]
                code, s = self.net_.latent_and_score(self.X_[rows], t)
                loss = loss + nn.functional.binary_cross_entropy_with_logits(self._uai_logit(code, s),
                                                                             lab_y[pick])
            if not loss.requires_grad:  # nothing to train this step (no base loss, UAI layer waiting)
                continue
            self.opt_.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_.step()
            if log is not None:
                log.append(float(loss.detach()))
        if not torch.isfinite(loss):
            raise FloatingPointError("UaiNet training loss became non-finite; lower lr")
