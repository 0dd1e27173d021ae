"""Semi-supervised deep generative model (SS-DGM; Kingma, Rezende, Mohamed & Welling, NeurIPS 2014).

The Deep SAD baseline of App. E ("SS-DGM"): "We consider both the M2 and M1+M2 model [...] Otherwise
we follow the settings as recommended in the original work", with "the latent class probability
estimate (normal vs. anomalous)" as the anomaly score. Written from Kingma et al. (2014); equation
numbers below refer to that paper (arXiv:1406.5298v2, Sec. 3):

* Eq. (5), M1 bound: ``log p(x) >= E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z)) = -J(x)``.
* Eq. (6), M2 labeled bound: ``log p(x,y) >= E_q(z|x,y)[log p(x|y,z) + log p(y) + log p(z)
  - log q(z|x,y)] = -L(x,y)``.
* Eq. (7), M2 unlabeled bound: ``log p(x) >= sum_y q(y|x) (-L(x,y)) + H(q(y|x)) = -U(x)``.
* Eq. (8), dataset bound: ``J = sum_labeled L(x,y) + sum_unlabeled U(x)``.
* Eq. (9), with classification loss: ``J^alpha = J + alpha_K * E_labeled[-log q(y|x)]``; Kingma et
  al. use ``alpha_K = 0.1 * N``.

Our choices for standardised tabular data (the paper's settings were for MNIST pixels):

* Two classes, index 0 = normal (``y_semi=+1``), 1 = anomalous (``y_semi=-1``); uniform class prior
  ``p(y) = 1/2``; ``p(z) = N(0, I)``.
* Likelihood ``p(x|y,z) = N(x; mu_theta(y,z), I)`` — Gaussian with *unit* variance (a learned variance
  collapses on the near-discrete ODDS features and makes the bound unbounded).
* ``q(z|x,y)`` is a diagonal Gaussian (reparameterised, one sample per step) whose mean and
  log-variance both see ``(x, y)``; the KL term to ``p(z)`` is computed in closed form (the SGVB
  estimator with analytic KL of Kingma & Welling, 2014), which is the same expectation as Eq. (6).
* The objective is Eq. (9) divided by N, so ``alpha_K = alpha * N`` with ``alpha=0.1`` default
  reproduces Kingma's ``0.1 * N``: per mini-batch of size B,
  ``(1/B) sum_b [L or U] + alpha * (N / N_l) * (1/B) sum_{labeled b} CE_b`` (an unbiased estimate).
* Networks: MLPs with the App. D widths (``hidden_dims``), bias terms and leaky-ReLU, Glorot-uniform
  initialisation (App. E); latent dimension ``latent_dim`` (default: ``rep_dim``).
* M1+M2: the M1 VAE (same widths, same unit-variance Gaussian likelihood) is trained on all training
  rows, labels ignored; M2 is then trained on M1's posterior *means*, standardised with the training
  statistics (so the unit-variance likelihood of M2 fits their scale).

The unlabeled sum over y in Eq. (7) is computed by evaluating both classes in one batched pass.

``variant="authors_code"``: the M2 of the authors' released code (``lukasruff/Deep-SAD-PyTorch``,
``optim/SemiDGM_trainer.py``, ``networks/dgm.py``; App. E says only "we follow the settings as recommended in
the original work"), read from that code and written here from its description:

* inputs min-max scaled to [0, 1] on the training rows (the code's ODDS pipeline), a sigmoid decoder and a
  Bernoulli (binary cross-entropy) likelihood;
* ReLU layers with biases, Glorot-normal weights; ``log sigma^2 = softplus(.)`` in q(z|x,y), so the posterior
  variance is at least 1; the KL term estimated from the one reparameterised sample;
* ``q(y|x)``: one ReLU layer of the first hidden width, then a softmax;
* the objective per mini-batch: the *mean* of U(x) over its unlabeled rows plus, when it holds at least two
  labeled rows, the mean of L(x, y) over them and ``alpha * mean(-log q(y|x))`` with
  ``alpha = 0.1 * n_unlabeled / n_labeled`` of the training set (``baseline_SemiDGM.py``); batches with fewer
  than two labeled rows train on U alone. Only M2 (the code has no M1+M2 for the tabular sets).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED, check_fitted, stratified_subsample
from semiad.core.detectors.networks import LEAKY_SLOPE, glorot_uniform_
from semiad.core.detectors.training import DeepDetector, predict_batched, train_minibatch
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed, seed_everything

SSDGM_MODELS: tuple[str, ...] = ("M2", "M1+M2")
#: ``"kingma"``: Eq. (9) / N as above; ``"authors_code"``: the released code's M2 and objective.
SSDGM_VARIANTS: tuple[str, ...] = ("kingma", "authors_code")
#: The released code's ``eps`` inside its logarithms (likelihood, entropy, classification loss).
_CODE_EPS = 1e-8
N_CLASSES = 2  # 0 = normal, 1 = anomalous
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PRIOR_Y = -math.log(N_CLASSES)  # uniform p(y)


def _mlp(dims: Sequence[int], n_out: int) -> nn.Sequential:
    """Linear + leaky-ReLU layers of widths ``dims`` followed by a linear output layer."""
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Linear(a, b), nn.LeakyReLU(LEAKY_SLOPE)]
    layers.append(nn.Linear(dims[-1], n_out))
    return nn.Sequential(*layers)


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """``-log N(x; mean, I)`` per row (unit-variance Gaussian likelihood)."""
    return 0.5 * torch.sum((x - mean) ** 2, dim=1) + 0.5 * x.shape[1] * _LOG_2PI


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag exp(logvar)) || N(0, I))`` per row, in closed form."""
    return 0.5 * torch.sum(mu ** 2 + torch.exp(logvar) - 1.0 - logvar, dim=1)


def _sample(mu: torch.Tensor, logvar: torch.Tensor,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Reparameterised draw ``z = mu + sigma * eps`` (Kingma et al., 2014, Sec. 3.2)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


class VAE(nn.Module):
    """M1: ``p(z) p(x|z)`` with ``q(z|x)`` Gaussian; the loss is ``J(x)`` of Eq. (5)."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], latent_dim: int):
        super().__init__()
        self.encoder = _mlp([n_features, *hidden_dims], 2 * latent_dim)
        self.decoder = _mlp([latent_dim, *reversed(tuple(hidden_dims))], n_features)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def neg_elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-row ``J(x)`` of Eq. (5), one reparameterised sample."""
        mu, logvar = self.encode(x)
        return gaussian_nll(x, self.decoder(_sample(mu, logvar, generator))) + \
            kl_standard_normal(mu, logvar)


class M2(nn.Module):
    """M2: ``p(y) p(z) p(x|y,z)`` with inference ``q(z|x,y)`` and classifier ``q(y|x)`` (Eqs. 2, 4)."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], latent_dim: int):
        super().__init__()
        self.classifier = _mlp([n_features, *hidden_dims], N_CLASSES)
        self.encoder = _mlp([n_features + N_CLASSES, *hidden_dims], 2 * latent_dim)
        self.decoder = _mlp([latent_dim + N_CLASSES, *reversed(tuple(hidden_dims))], n_features)

    def class_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x)

    def neg_elbo_all_classes(self, x: torch.Tensor,
                             generator: torch.Generator | None = None) -> torch.Tensor:
        """``L(x, y)`` of Eq. (6) for *both* y in one batched pass; shape ``(B, 2)``."""
        n = len(x)
        xx = x.repeat(N_CLASSES, 1)  # rows [x (y=0); x (y=1)]
        yy = torch.eye(N_CLASSES, device=x.device, dtype=x.dtype).repeat_interleave(n, dim=0)
        mu, logvar = self.encoder(torch.cat([xx, yy], dim=1)).chunk(2, dim=1)
        z = _sample(mu, logvar, generator)
        rec = self.decoder(torch.cat([z, yy], dim=1))
        neg = gaussian_nll(xx, rec) + kl_standard_normal(mu, logvar) - _LOG_PRIOR_Y
        return neg.view(N_CLASSES, n).T

    def unlabeled_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-row ``U(x) = sum_y q(y|x) L(x,y) - H(q(y|x))`` of Eq. (7)."""
        log_q = F.log_softmax(self.class_logits(x), dim=1)
        return unlabeled_from_parts(self.neg_elbo_all_classes(x, generator), log_q)


def unlabeled_from_parts(neg_elbo: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """Eq. (7) from ``L(x, y)`` (shape ``(B, 2)``) and ``log q(y|x)``: ``sum_y q (L + log q)``."""
    return torch.sum(log_q.exp() * (neg_elbo + log_q), dim=1)


def m2_loss(model: M2, x: torch.Tensor, y_semi: torch.Tensor, alpha: float,
            labeled_weight: float) -> torch.Tensor:
    """Mini-batch estimate of Eq. (9) / N.

    Labeled rows contribute ``L(x, y)`` (Eq. 6) plus ``alpha * labeled_weight * CE(q(y|x), y)``
    with ``labeled_weight = N / N_labeled``; unlabeled rows contribute ``U(x)`` (Eq. 7). Summed and
    divided by the batch size. ``y_semi=-1`` is class 1 (anomalous), ``+1`` is class 0 (normal).
    """
    logits = model.class_logits(x)
    log_q = F.log_softmax(logits, dim=1)
    neg_elbo = model.neg_elbo_all_classes(x)
    labeled = y_semi != UNLABELED
    target = (y_semi == KNOWN_ANOMALY).long()
    per_row = torch.where(labeled, neg_elbo.gather(1, target[:, None]).squeeze(1),
                          unlabeled_from_parts(neg_elbo, log_q))
    ce = -log_q.gather(1, target[:, None]).squeeze(1)
    per_row = per_row + alpha * labeled_weight * torch.where(labeled, ce, torch.zeros_like(ce))
    return per_row.mean()


def _relu_stack(dims: Sequence[int]) -> nn.ModuleList:
    return nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))


class ReleasedM2(nn.Module):
    """The M2 of the authors' released code (module docstring, ``variant="authors_code"``)."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], latent_dim: int):
        super().__init__()
        hidden = tuple(hidden_dims)
        self.encoder = _relu_stack([n_features + N_CLASSES, *hidden])
        self.z_mean = nn.Linear(hidden[-1], latent_dim)
        self.z_logvar = nn.Linear(hidden[-1], latent_dim)
        self.decoder = _relu_stack([latent_dim + N_CLASSES, *reversed(hidden)])
        self.reconstruction = nn.Linear(hidden[0], n_features)
        self.classifier = nn.Sequential(nn.Linear(n_features, hidden[0]), nn.ReLU(),
                                        nn.Linear(hidden[0], N_CLASSES))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def class_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x)

    def neg_elbo(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-row ``L(x, y)`` of Kingma's Eq. (6): Bernoulli likelihood, one-sample KL estimate."""
        h = torch.cat([x, y], dim=1)
        for layer in self.encoder:
            h = F.relu(layer(h))
        mu, logvar = self.z_mean(h), F.softplus(self.z_logvar(h))
        z = _sample(mu, logvar)
        g = torch.cat([z, y], dim=1)
        for layer in self.decoder:
            g = F.relu(layer(g))
        rec = torch.sigmoid(self.reconstruction(g))
        nll = -torch.sum(x * torch.log(rec + _CODE_EPS) + (1 - x) * torch.log(1 - rec + _CODE_EPS), dim=1)
        log_q = -0.5 * torch.sum(_LOG_2PI + logvar + (z - mu) ** 2 / torch.exp(logvar), dim=1)
        log_p = -0.5 * torch.sum(_LOG_2PI + z ** 2, dim=1)
        return nll + log_q - log_p - _LOG_PRIOR_Y


def released_m2_loss(model: ReleasedM2, x: torch.Tensor, y_semi: torch.Tensor, alpha: float) -> torch.Tensor:
    """The released code's mini-batch objective (module docstring): mean U over the unlabeled rows, plus the
    mean L and ``alpha`` x the mean cross-entropy over the labeled rows when there are at least two."""
    labeled = y_semi != UNLABELED
    u = x[~labeled]
    q = F.softmax(model.class_logits(u), dim=1)
    both = torch.eye(N_CLASSES, device=x.device, dtype=x.dtype).repeat_interleave(len(u), dim=0)
    neg_elbo = model.neg_elbo(u.repeat(N_CLASSES, 1), both).view(N_CLASSES, len(u)).T
    loss = torch.sum(q * (neg_elbo + torch.log(q + _CODE_EPS)), dim=1).mean()  # Eq. (7), code's eps
    if int(labeled.sum()) >= 2:
        xl = x[labeled]
        yl = F.one_hot((y_semi[labeled] == KNOWN_ANOMALY).long(), N_CLASSES).to(x.dtype)
        q_l = F.softmax(model.class_logits(xl), dim=1)
        ce = -torch.sum(yl * torch.log(q_l + _CODE_EPS), dim=1).mean()
        loss = loss + model.neg_elbo(xl, yl).mean() + alpha * ce
    return loss


class SSDGM(DeepDetector):
    """Semi-supervised deep generative model (Kingma et al., 2014); score = ``q(y = anomalous | x)``.

    The SS-DGM baseline of Deep SAD App. E. M2 (or M1+M2) is trained on Eq. (9) / N (module
    docstring); the anomaly score is the classifier's probability of the anomalous class.

    Parameters
    ----------
    model : {"M2", "M1+M2"}, default="M2"
        ``"M2"`` on X, or M2 on the standardised latent means of an M1 VAE trained first on all X.
    latent_dim : int or None, default=None
        Dimension of z (and of M1's code), >= 1; ``None``: ``rep_dim``.
    alpha : float, default=0.1
        Weight of the labeled classification loss per data point, i.e. Kingma's Eq. (9)
        ``alpha_K = alpha * N`` (0.1, as in the paper); >= 0. With ``variant="authors_code"`` the weight is
        ``alpha * n_unlabeled / n_labeled`` on mean losses, as the released code sets it.
    variant : {"kingma", "authors_code"}, default="kingma"
        The model and objective (module docstring): ours from Kingma et al., or the authors' released M2.
    m1_n_epochs : int or None, default=None
        Epochs of M1 (``None``: ``n_epochs``; same lr schedule).
    max_train_samples : int or None, default=None
        Train on a proportional, semi-label-stratified subsample of at most this many rows (>= 2;
        :func:`~semiad.core.detectors.base.stratified_subsample`, drawn with ``random_state``;
        ``None``: all rows; the quick profile uses it on shuttle).
    hidden_dims, rep_dim, n_epochs, lr, lr_milestones, batch_size, weight_decay, device, \
random_state, image_arch, drop_last
        The shared deep-detector hyperparameters; see
        :class:`~semiad.core.detectors.training.DeepDetector`.

    Attributes
    ----------
    m2_ : M2
        The trained M2 model.
    m1_ : VAE or None
        The M1 VAE (M1+M2 only).
    code_mean_, code_std_ : torch.Tensor
        Standardisation of M1's codes (M1+M2 only).
    history_ : list of float
        Per-epoch M2 loss (Eq. 9 / N).
    m1_history_ : list of float
        Per-epoch M1 loss (Eq. 5; M1+M2 only).
    train_index_ : ndarray
        Rows of the training subsample.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Notes
    -----
    With no labeled rows M2 is an unsupervised two-component model and which component is called
    "anomalous" is arbitrary.

    References
    ----------
    .. [1] D. P. Kingma, D. J. Rezende, S. Mohamed, M. Welling. "Semi-Supervised Learning with Deep
       Generative Models", NeurIPS 2014, Eqs. (5)-(9).
    .. [2] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, App. E (SS-DGM).
    """

    uses_labeled_anomalies = True

    def __init__(self, model: str = "M2", latent_dim: int | None = None, alpha: float = 0.1,
                 m1_n_epochs: int | None = None, max_train_samples: int | None = None,
                 variant: str = "kingma", hidden_dims: Sequence[int] = (32, 16), rep_dim: int = 8,
                 n_epochs: int = 150,
                 lr: float = 1e-4, lr_milestones: Sequence[int] = (50,), batch_size: int = 200,
                 weight_decay: float = 1e-6, device: str = "auto", random_state: int = 0,
                 image_arch: str | None = None, drop_last: bool = False):
        super().__init__(hidden_dims=hidden_dims, rep_dim=rep_dim, n_epochs=n_epochs, lr=lr,
                         lr_milestones=lr_milestones, batch_size=batch_size, weight_decay=weight_decay,
                         device=device, random_state=random_state, image_arch=image_arch,
                         drop_last=drop_last)
        self.model = model
        self.latent_dim = latent_dim
        self.alpha = alpha
        self.m1_n_epochs = m1_n_epochs
        self.max_train_samples = max_train_samples
        self.variant = variant

    def _check_params(self) -> None:
        if self.model not in SSDGM_MODELS:
            raise ValueError(f"model must be one of {SSDGM_MODELS}, got {self.model!r}")
        if self.variant not in SSDGM_VARIANTS:
            raise ValueError(f"variant must be one of {SSDGM_VARIANTS}, got {self.variant!r}")
        if self.variant == "authors_code" and self.model != "M2":
            raise ValueError("the authors' released code has M2 only for tabular data: use model='M2'")
        if self.latent_dim is not None and self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        if self.max_train_samples is not None and self.max_train_samples < 2:
            raise ValueError(f"max_train_samples must be None or >= 2, got {self.max_train_samples}")

    @property
    def _latent(self) -> int:
        return self.rep_dim if self.latent_dim is None else self.latent_dim

    def _fit(self, X: np.ndarray, y_semi: np.ndarray) -> None:
        dev = resolve_device(self.device)
        self.train_index_ = stratified_subsample(y_semi, self.max_train_samples, self.random_state)
        X, y_semi = X[self.train_index_], y_semi[self.train_index_]
        self.input_min_ = self.input_span_ = None
        if self.variant == "authors_code":  # the code's [0, 1] inputs for its Bernoulli likelihood
            self.input_min_ = X.min(axis=0)
            span = X.max(axis=0) - self.input_min_
            self.input_span_ = np.where(span > 0, span, 1.0).astype(X.dtype)
            X = (X - self.input_min_) / self.input_span_
        Xt = torch.as_tensor(X, device=dev)
        yt = torch.as_tensor(y_semi, device=dev)
        with local_seed(self.random_state):  # reproducible, without touching the caller's RNGs
            self.m1_ = None
            if self.model == "M1+M2":
                self.m1_, self.m1_history_ = self._train_m1(Xt)
                codes = predict_batched(lambda x: self.m1_.encode(x)[0], Xt)
                self.code_mean_ = codes.mean(dim=0)
                self.code_std_ = codes.std(dim=0).clamp_min(1e-6)
                Xt = (codes - self.code_mean_) / self.code_std_
            self.m2_, self.history_ = self._train_m2(Xt, yt)

    def _train_m1(self, X: torch.Tensor) -> tuple[VAE, list[float]]:
        seed_everything(self.random_state)
        vae = VAE(X.shape[1], self.hidden_dims, self._latent)
        glorot_uniform_(vae)
        vae.to(X.device)
        history = train_minibatch(vae, (X,), lambda xb: vae.neg_elbo(xb).mean(),
                                  self._schedule(self.m1_n_epochs), self.random_state)
        vae.eval()
        return vae, history

    def _train_m2(self, X: torch.Tensor, y_semi: torch.Tensor) -> tuple[M2 | ReleasedM2, list[float]]:
        seed_everything(self.random_state)
        n_labeled = int((y_semi != UNLABELED).sum())
        if self.variant == "authors_code":
            m2 = ReleasedM2(X.shape[1], self.hidden_dims, self._latent).to(X.device)
            alpha = self.alpha * (len(X) - n_labeled) / max(n_labeled, 1)

            def loss(xb, yb):
                return released_m2_loss(m2, xb, yb, alpha)
        else:
            m2 = M2(X.shape[1], self.hidden_dims, self._latent)
            glorot_uniform_(m2)
            m2.to(X.device)
            labeled_weight = len(X) / n_labeled if n_labeled else 0.0

            def loss(xb, yb):
                return m2_loss(m2, xb, yb, self.alpha, labeled_weight)

        history = train_minibatch(m2, (X, y_semi), loss, self._schedule(), self.random_state)
        m2.eval()
        return m2, history

    @torch.no_grad()
    def _m2_inputs(self, X) -> torch.Tensor:
        dev = next(self.m2_.parameters()).device
        X = np.asarray(X, dtype=np.float32)
        if self.input_min_ is not None:
            X = (X - self.input_min_) / self.input_span_
        Xt = torch.as_tensor(X, device=dev)
        if self.m1_ is None:
            return Xt
        codes = predict_batched(lambda x: self.m1_.encode(x)[0], Xt)
        return (codes - self.code_mean_) / self.code_std_

    @torch.no_grad()
    def _score(self, X: np.ndarray) -> np.ndarray:
        """``q(y = anomalous | x)`` (of the M1 code for M1+M2), computed in float64 for resolution."""
        logits = predict_batched(self.m2_.class_logits, self._m2_inputs(X)).double()
        return torch.sigmoid(logits[:, 1] - logits[:, 0]).cpu().numpy()

    @torch.no_grad()
    def elbo(self, X, n_samples: int = 1) -> float:
        """Mean unlabeled bound ``-U(x)`` of Eq. (7) over rows of ``X`` (M2's input space).

        For M1+M2 this is the bound on the density of the standardised M1 codes. Monte Carlo with
        ``n_samples`` reparameterised draws from a generator seeded by ``random_state``.
        """
        check_fitted(self)
        if self.variant != "kingma":
            raise ValueError("elbo() evaluates Kingma's Eq. (7): fit with variant='kingma'")
        inputs = self._m2_inputs(X)
        gen = torch.Generator(device=inputs.device)
        gen.manual_seed(int(self.random_state))
        total = torch.zeros(len(inputs), dtype=torch.float64, device=inputs.device)
        for _ in range(n_samples):
            total += predict_batched(lambda x: self.m2_.unlabeled_loss(x, gen), inputs).double()
        return float(-(total / n_samples).mean())
