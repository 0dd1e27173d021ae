"""VIME (Yoon, Zhang, Jordon & van der Schaar, NeurIPS 2020), a baseline of the DADS paper's Figure 2.

Value Imputation and Mask Estimation, applied to semi-supervised AD as a binary classifier whose
positive class is the labeled anomalies. Hand-written: no maintained library ships VIME (the
authors' TensorFlow 1 reference code is not a package), and the method is two short torch loops.

Self-supervised stage (paper Sec. 4.1): an encoder e is trained on *all* training rows from
corrupted inputs x~ = g_m(x, m) = m * x_bar + (1 - m) * x, with mask m ~ Bernoulli(p_m) per entry and
x_bar drawn feature-wise from the empirical marginal (each column shuffled independently). Two heads
on e(x~) solve the pretext tasks: a mask estimator s_m (binary cross-entropy against m) and a feature
estimator s_r (squared error against x); loss = l_m + alpha * l_r, p_m = 0.3, alpha = 2.

Semi-supervised stage (Sec. 4.2): a predictor f on top of the *frozen* encoder is trained with
L = L_s + beta * L_u: L_s the supervised loss on labeled data and L_u the consistency loss over K
mask-augmented copies of each unlabeled row (K = 3, beta = 1). The paper writes L_u as the squared
deviation of f(e(x~_k)) from f(e(x)); we use the authors' reference-code form, the variance of f's
output across the K copies (it needs no clean forward pass and has the same minimiser: f constant
under corruption).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED, IgnoresValidation
from semiad.core.detectors.networks import glorot_uniform_
from semiad.core.detectors.training import TrainSchedule, predict_batched, train_minibatch
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed, torch_generator


def corrupt(x: torch.Tensor, p_m: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask generator and pretext generator g_m of Sec. 4.1 on one mini-batch; returns (m, x~).

    x_bar takes each feature from an independently permuted row of the batch: since the batch is a
    uniform sample of the data, that is a draw from the feature's empirical marginal (the reference
    code likewise shuffles the columns of the array it corrupts). Fully vectorised.
    """
    n, d = x.shape
    mask = (torch.rand(n, d, generator=gen) < p_m).to(x.device, x.dtype)
    perm = torch.argsort(torch.rand(n, d, generator=gen), dim=0).to(x.device)
    x_bar = torch.gather(x, 0, perm)
    return mask, mask * x_bar + (1.0 - mask) * x


class VIMESelf(nn.Module):
    """Encoder e plus mask estimator s_m (logits) and feature estimator s_r (Sec. 4.1).

    As in the reference code, e is one ReLU layer as wide as the input. The feature estimator is
    linear (the reference code uses a sigmoid because it min-max scales to [0, 1]; a linear output
    fits any input scaling, e.g. the standardised features used across semiad).
    """

    def __init__(self, n_features: int, encoder_dim: int):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_features, encoder_dim), nn.ReLU())
        self.mask_head = nn.Linear(encoder_dim, n_features)
        self.feature_head = nn.Linear(encoder_dim, n_features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return self.mask_head(z), self.feature_head(z)


def make_predictor(encoder_dim: int, hidden_dim: int) -> nn.Module:
    """f of Sec. 4.2: two ReLU layers of ``hidden_dim`` units (reference code) and one logit."""
    return nn.Sequential(nn.Linear(encoder_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim),
                         nn.ReLU(), nn.Linear(hidden_dim, 1))


class VIMEDetector(IgnoresValidation):
    """VIME self- and semi-supervised learning (Yoon et al., NeurIPS 2020); score = P(anomaly | x).

    A baseline of the DADS paper's Figure 2; needs at least one labeled anomaly. Supervised loss:
    binary cross-entropy with labeled anomalies as 1 and every other training row (unlabeled,
    treated as normal although contaminated, plus any known normals) as 0; each step uses a
    class-balanced batch, half anomalies and half others, drawn with replacement (with a handful of
    labeled anomalies an unbalanced batch would almost never contain one). The consistency batch is
    ``batch_size`` unlabeled rows, each corrupted K times; its loss is the variance of f's logits
    over the K copies (the reference code's choice), averaged over rows. The reference code
    early-stops on a labeled validation split; we run a fixed ``n_iterations``. ``fit`` accepts
    DADS-style ``X_val, y_val`` and ignores them.

    Parameters
    ----------
    p_m : float, default=0.3
        Mask probability of the corruption (Sec. 4.1), in [0, 1].
    alpha : float, default=2.0
        Weight of the feature-estimation loss (Sec. 4.1).
    epochs : int, default=10
        Self-supervised epochs of the encoder.
    encoder_dim : int or None, default=None
        Encoder width (``None``: the number of features, as in the reference code).
    hidden_dim : int, default=100
        Width of the predictor's two hidden layers (reference code).
    n_iterations : int, default=1000
        Semi-supervised mini-batch steps.
    K : int, default=3
        Augmented copies per unlabeled row (Sec. 4.2), >= 2.
    beta : float, default=1.0
        Consistency-loss weight (Sec. 4.2).
    batch_size : int, default=128
        Batch size of both stages, >= 2.
    lr : float, default=1e-3
        Adam learning rate of both stages (the reference code used RMSprop for the encoder).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train.
    random_state : int, default=0
        Seeds everything.

    Attributes
    ----------
    self_model_ : VIMESelf
        Encoder and pretext heads of the self-supervised stage.
    encoder_ : torch.nn.Module
        The frozen encoder e.
    predictor_ : torch.nn.Module
        The predictor f (outputs a logit).
    self_history_, history_ : list of float
        Self-supervised loss per epoch; semi-supervised loss per step.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    .. [1] J. Yoon, Y. Zhang, J. Jordon, M. van der Schaar. "VIME: Extending the Success of Self-
       and Semi-supervised Learning to Tabular Domain", NeurIPS 2020, Secs. 4.1-4.2.
    """

    uses_labeled_anomalies = True

    def __init__(self, p_m: float = 0.3, alpha: float = 2.0, epochs: int = 10,
                 encoder_dim: int | None = None, hidden_dim: int = 100, n_iterations: int = 1000,
                 K: int = 3, beta: float = 1.0, batch_size: int = 128, lr: float = 1e-3,
                 device: str = "auto", random_state: int = 0):
        self.p_m = p_m
        self.alpha = alpha
        self.epochs = epochs
        self.encoder_dim = encoder_dim
        self.hidden_dim = hidden_dim
        self.n_iterations = n_iterations
        self.K = K
        self.beta = beta
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        if not 0.0 <= self.p_m <= 1.0:
            raise ValueError(f"p_m must be in [0, 1], got {self.p_m}")
        if self.K < 2:
            raise ValueError(f"K must be >= 2 (a variance over augmentations), got {self.K}")
        if (self.epochs < 0 or self.n_iterations < 0 or self.batch_size < 2 or self.lr <= 0
                or self.hidden_dim < 1):
            raise ValueError("invalid VIME schedule: need epochs, n_iterations >= 0, batch_size >= 2, "
                             "lr > 0, hidden_dim >= 1")

    def _fit(self, X: np.ndarray, y_semi: np.ndarray) -> None:
        if not np.any(y_semi == KNOWN_ANOMALY):
            raise ValueError("VIMEDetector needs at least one labeled anomaly (y_semi == -1)")
        if np.all(y_semi == KNOWN_ANOMALY):
            raise ValueError("VIMEDetector needs unlabeled or normal rows besides the labeled anomalies")
        with local_seed(self.random_state):  # weight init reproducible, caller's RNGs untouched
            dev = resolve_device(self.device)
            Xt = torch.as_tensor(X, device=dev)
            self._fit_self(Xt)
            self._fit_semi(Xt, y_semi)

    def _fit_self(self, Xt: torch.Tensor) -> None:
        """Sec. 4.1: encoder + mask/feature estimators on corrupted copies of every training row."""
        d = Xt.shape[1]
        self.self_model_ = VIMESelf(d, self.encoder_dim or d)
        glorot_uniform_(self.self_model_)  # Keras' default initialiser in the reference code
        self.self_model_.to(Xt.device)
        gen = torch_generator(self.random_state + 1, "cpu")

        def loss(xb: torch.Tensor) -> torch.Tensor:
            mask, x_tilde = corrupt(xb, self.p_m, gen)  # a fresh corruption for every batch
            mask_logits, x_hat = self.self_model_(x_tilde)
            return (F.binary_cross_entropy_with_logits(mask_logits, mask)
                    + self.alpha * F.mse_loss(x_hat, xb))

        schedule = TrainSchedule(n_epochs=self.epochs, lr=self.lr, lr_milestones=(),
                                 batch_size=self.batch_size, weight_decay=0.0)
        self.self_history_ = train_minibatch(self.self_model_, (Xt,), loss, schedule, self.random_state)
        self.encoder_ = self.self_model_.encoder.eval()
        for p in self.encoder_.parameters():  # frozen during the semi-supervised stage (Sec. 4.2)
            p.requires_grad_(False)

    def _fit_semi(self, Xt: torch.Tensor, y_semi: np.ndarray) -> None:
        """Sec. 4.2: predictor f on e(x), supervised BCE + beta * consistency over K augmentations."""
        dev = Xt.device
        enc_dim = self.encoder_[0].out_features
        self.predictor_ = make_predictor(enc_dim, self.hidden_dim)
        glorot_uniform_(self.predictor_)
        self.predictor_.to(dev)
        optimizer = torch.optim.Adam(self.predictor_.parameters(), lr=self.lr)
        gen = torch_generator(self.random_state + 2, "cpu")

        with torch.no_grad():
            Z = predict_batched(self.encoder_, Xt)  # the encoder is frozen: encode clean rows once
        idx_a = torch.as_tensor(np.flatnonzero(y_semi == KNOWN_ANOMALY), device=dev)
        idx_n = torch.as_tensor(np.flatnonzero(y_semi != KNOWN_ANOMALY), device=dev)
        unl = np.flatnonzero(y_semi == UNLABELED)
        idx_u = torch.as_tensor(unl if len(unl) else np.arange(len(y_semi)), device=dev)
        half = self.batch_size // 2
        target = torch.cat([torch.ones(half), torch.zeros(self.batch_size - half)]).to(dev)
        self.history_: list[float] = []
        self.predictor_.train()
        for step in range(self.n_iterations):
            pick = torch.cat([idx_a[torch.randint(len(idx_a), (half,), generator=gen).to(dev)],
                              idx_n[torch.randint(len(idx_n), (self.batch_size - half,),
                                                  generator=gen).to(dev)]])
            sup = F.binary_cross_entropy_with_logits(self.predictor_(Z[pick]).squeeze(-1), target)
            xu = Xt[idx_u[torch.randint(len(idx_u), (self.batch_size,), generator=gen).to(dev)]]
            # K corrupted copies of the unlabeled batch, stacked along a leading axis: (K, B, d)
            copies = torch.stack([corrupt(xu, self.p_m, gen)[1] for _ in range(self.K)])
            with torch.no_grad():
                zu = self.encoder_(copies)
            logits_u = self.predictor_(zu).squeeze(-1)  # (K, B)
            consistency = logits_u.var(dim=0, unbiased=False).mean()
            loss = sup + self.beta * consistency
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            if not np.isfinite(value):
                raise FloatingPointError(f"VIME loss became {value} at step {step + 1}; lower lr")
            self.history_.append(value)
        self.predictor_.eval()

    @torch.no_grad()
    def _score(self, X: np.ndarray) -> np.ndarray:
        dev = next(self.predictor_.parameters()).device
        logits = predict_batched(lambda x: self.predictor_(self.encoder_(x)).squeeze(-1),
                                 torch.as_tensor(X, device=dev))
        # sigmoid in float64 so that confident predictions do not tie at exactly 1.0
        return torch.sigmoid(logits.double()).cpu().numpy()
