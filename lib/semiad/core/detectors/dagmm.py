"""DAGMM: Deep Autoencoding Gaussian Mixture Model (Zong et al., ICLR 2018), baseline of UaiNets and RLAD.

Model (Zong et al., Sec. 3):

* compression network (Eq. 1-3): ``z_c = h(x)``, ``x' = g(z_c)``, reconstruction features
  ``z_r = [relative Euclidean distance ||x - x'|| / ||x||, cosine similarity(x, x')]`` and
  ``z = [z_c, z_r]`` (``latent_dim + 2`` dimensions);
* estimation network (Eq. 4): ``gamma_hat = softmax(MLN(z))``, one hidden tanh layer followed by
  dropout, as in every configuration of Sec. 4.3;
* GMM parameters from soft memberships (Eq. 5): ``phi_k = mean_i gamma_ik``,
  ``mu_k = sum_i gamma_ik z_i / sum_i gamma_ik``,
  ``Sigma_k = sum_i gamma_ik (z_i - mu_k)(z_i - mu_k)^T / sum_i gamma_ik``;
* sample energy (Eq. 6): ``E(z) = -log sum_k phi_k N(z; mu_k, Sigma_k)``;
* objective (Eq. 7): ``J = 1/N sum_i ||x_i - x'_i||_2^2 + lambda_1/N sum_i E(z_i) + lambda_2 P(Sigma)``
  with ``P(Sigma) = sum_k sum_j 1 / Sigma_kjj``, ``lambda_1 = 0.1``, ``lambda_2 = 0.005``.

During training the GMM parameters of Eq. 5 are estimated on each mini-batch (as in the paper);
after training they are recomputed once over the whole training set (batched forward passes, dropout
off) and stored as ``phi_``, ``mu_``, ``cov_``; :meth:`DAGMM.decision_function` returns the sample
energy of Eq. 6 under those parameters (higher = more anomalous). All GMM algebra runs in float64 and
uses a Cholesky factorisation of ``Sigma_k + eps I`` (``eps = 1e-6``, raised tenfold on failure) and
log-sum-exp, so the energy is finite even far away from the training data.

Evaluation protocol of Zong et al.: Sec. 4.1, each run splits the data 50/50 at random and trains on
the normal rows of the training half only; Sec. 4.4, the share of *test* samples with the highest
energy given by the anomaly ratio of their Table 1 is flagged anomalous (KDDCUP 20%, Thyroid 2.5%,
Arrhythmia 15%; KDDCUP-Rev 20%; see :data:`DAGMM_CONTAMINATION`), then precision / recall / F1 with the
anomaly class as positive are reported (:func:`threshold_by_contamination`,
:func:`evaluate_at_contamination`).
Input scaling is the caller's job (the network sees ``X`` as given).
"""

# Hand-written in PyTorch: pyod 3.6.7 ships no DAGMM (its pyod.models package has no dagmm module).
from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from semiad.core.detectors.base import BaseDetector, check_fitted
from semiad.core.detectors.training import TrainSchedule, train_minibatch
from semiad.core.device import resolve_device
from semiad.core.metrics import precision_recall_f1
from semiad.core.seeding import local_seed

#: Zong et al. Sec. 4.3 ("Configuration"), per data set. ``hidden``: encoder widths before the
#: linear bottleneck of size ``latent_dim`` (the decoder mirrors them, linear output layer);
#: estimation net FC(latent_dim + 2, estimation_hidden, tanh)-Drop(0.5)-FC(estimation_hidden, n_gmm,
#: softmax); the paper's Drop(p) has keep probability p, so 0.5 either way. Training (Sec. 4.3):
#: Adam, lr 1e-4, lambda_1 = 0.1, lambda_2 = 0.005; KDDCUP
#: 200 epochs / batch 1024, Thyroid 20,000 / 1024, Arrhythmia 10,000 / 128. The KDDCUP, Thyroid and
#: Arrhythmia entries below were checked against the text of Sec. 4.3. ``kddcup_rev`` is NOT verified:
#: the paper text available here has no KDDCUP-Rev section; its entry (KDDCUP compression network, 2
#: components, 400 epochs, batch 1024) is our best recollection of the camera-ready version.
#:
#: * KDDCUP: FC(120,60,tanh)-FC(60,30,tanh)-FC(30,10,tanh)-FC(10,1,none)-FC(1,10,tanh)-FC(10,30,tanh)-
#:   FC(30,60,tanh)-FC(60,120,none); est. FC(3,10,tanh)-Drop(0.5)-FC(10,4,softmax).
#: * Thyroid: FC(6,12,tanh)-FC(12,4,tanh)-FC(4,1,none)-FC(1,4,tanh)-FC(4,12,tanh)-FC(12,6,none);
#:   est. FC(3,10,tanh)-Drop(0.5)-FC(10,2,softmax).
#: * Arrhythmia: FC(274,10,tanh)-FC(10,2,none)-FC(2,10,tanh)-FC(10,274,none);
#:   est. FC(4,10,tanh)-Drop(0.5)-FC(10,2,softmax).
#: * KDDCUP-Rev (unverified): KDDCUP compression network; est. FC(3,10,tanh)-Drop(0.5)-FC(10,2,softmax).
DAGMM_PRESETS: dict[str, dict] = {
    "kddcup": {"hidden": (60, 30, 10), "latent_dim": 1, "n_gmm": 4, "estimation_hidden": 10,
               "epochs": 200, "batch_size": 1024},
    "thyroid": {"hidden": (12, 4), "latent_dim": 1, "n_gmm": 2, "estimation_hidden": 10,
                "epochs": 20000, "batch_size": 1024},
    "arrhythmia": {"hidden": (10,), "latent_dim": 2, "n_gmm": 2, "estimation_hidden": 10,
                   "epochs": 10000, "batch_size": 128},
    "kddcup_rev": {"hidden": (60, 30, 10), "latent_dim": 1, "n_gmm": 2, "estimation_hidden": 10,
                   "epochs": 400, "batch_size": 1024},
}

#: Share of test samples flagged anomalous (Zong et al. Sec. 4.4: the anomaly ratio rho of their Table 1).
DAGMM_CONTAMINATION: dict[str, float] = {"kddcup": 0.2, "thyroid": 0.025, "arrhythmia": 0.15,
                                         "kddcup_rev": 0.2}

_TINY = 1e-12
_MAX_JITTER_TRIES = 8


def reconstruction_features(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """``z_r`` of Eq. 2: relative Euclidean distance and cosine similarity, shape ``(N, 2)``.

    Norms are ``sqrt(sum^2 + 1e-12)`` so that all-zero rows give finite values and gradients.
    """
    nx = torch.sqrt((x * x).sum(1) + _TINY)
    nxh = torch.sqrt((x_hat * x_hat).sum(1) + _TINY)
    nd = torch.sqrt(((x - x_hat) ** 2).sum(1) + _TINY)
    rel = nd / nx
    cos = (x * x_hat).sum(1) / (nx * nxh)
    return torch.stack([rel, cos], dim=1)


def gmm_parameters(z: torch.Tensor, gamma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mixture weights ``phi (K,)``, means ``mu (K, D)``, covariances ``Sigma (K, D, D)`` of Eq. 5.

    ``z``: ``(N, D)`` low-dimensional representations; ``gamma``: ``(N, K)`` soft memberships.
    """
    if z.ndim != 2 or gamma.ndim != 2 or len(z) != len(gamma):
        raise ValueError(f"z (N, D) and gamma (N, K) must share N, got {tuple(z.shape)}, "
                         f"{tuple(gamma.shape)}")
    nk = gamma.sum(0)  # (K,)
    phi = nk / len(z)
    denom = nk.clamp_min(_TINY)
    mu = (gamma.T @ z) / denom[:, None]
    diff = z[:, None, :] - mu[None]  # (N, K, D)
    cov = torch.einsum("nk,nkd,nke->kde", gamma, diff, diff) / denom[:, None, None]
    return phi, mu, cov


def _cholesky_with_jitter(cov: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Cholesky factor of ``cov + eps I`` (batched), raising ``eps`` tenfold while any factor fails.

    Returns the factor and the regularised covariance actually factorised.
    """
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    jitter = eps
    for _ in range(_MAX_JITTER_TRIES):
        reg = cov + jitter * eye
        chol, info = torch.linalg.cholesky_ex(reg)
        if not bool((info != 0).any()):
            return chol, reg
        jitter *= 10.0
    raise FloatingPointError(f"GMM covariance is not positive definite even with jitter {jitter / 10:g}")


def sample_energy(z: torch.Tensor, phi: torch.Tensor, mu: torch.Tensor, cov: torch.Tensor,
                  eps: float = 1e-6) -> torch.Tensor:
    """Sample energy ``E(z)`` of Eq. 6, shape ``(N,)``, computed stably.

    ``log N(z; mu_k, Sigma_k) = -(||L_k^{-1}(z - mu_k)||^2 + D log 2 pi + 2 sum log diag L_k) / 2``
    with ``L_k`` the Cholesky factor of ``Sigma_k + eps I``; then
    ``E = -logsumexp_k(log phi_k + log N_k)``.
    """
    chol, _ = _cholesky_with_jitter(cov, eps)
    diff = z.T[None] - mu[:, :, None]  # (K, D, N): one triangular solve per component, all rows at once
    sol = torch.linalg.solve_triangular(chol, diff, upper=False)
    maha = (sol**2).sum(1).T  # (N, K)
    logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)  # (K,)
    d = z.shape[1]
    log_norm = -0.5 * (maha + d * math.log(2.0 * math.pi) + logdet[None])
    log_phi = torch.log(phi.clamp_min(_TINY))
    return -torch.logsumexp(log_phi[None] + log_norm, dim=1)


def cov_diag_penalty(cov: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``P(Sigma) = sum_k sum_j 1 / Sigma_kjj`` of Eq. 7 (on ``Sigma + eps I``, so it stays finite)."""
    return (1.0 / (torch.diagonal(cov, dim1=-2, dim2=-1) + eps)).sum()


def _mlp(dims: Sequence[int], last_activation: nn.Module | None) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(nn.Tanh())
    if last_activation is not None:
        layers.append(last_activation)
    return layers


class DAGMMNet(nn.Module):
    """Compression network (Eq. 1-3) + estimation network (Eq. 4).

    Encoder ``n_features -> hidden... -> latent_dim`` (tanh, linear bottleneck), mirrored decoder
    (linear output), estimation net ``latent_dim + 2 -> estimation_hidden (tanh) -> Dropout ->
    n_gmm (softmax)``.
    """

    def __init__(self, n_features: int, hidden: Sequence[int], latent_dim: int, n_gmm: int,
                 estimation_hidden: int, dropout: float):
        super().__init__()
        enc_dims = [n_features, *hidden, latent_dim]
        self.encoder = nn.Sequential(*_mlp(enc_dims, None))
        self.decoder = nn.Sequential(*_mlp(enc_dims[::-1], None))
        self.estimation = nn.Sequential(
            nn.Linear(latent_dim + 2, estimation_hidden), nn.Tanh(), nn.Dropout(dropout),
            nn.Linear(estimation_hidden, n_gmm), nn.Softmax(dim=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return reconstruction ``x'``, representation ``z = [z_c, z_r]`` and memberships ``gamma``."""
        z_c = self.encoder(x)
        x_hat = self.decoder(z_c)
        z = torch.cat([z_c, reconstruction_features(x, x_hat)], dim=1)
        return x_hat, z, self.estimation(z)


class DAGMM(BaseDetector):
    """Deep Autoencoding Gaussian Mixture Model (Zong et al., ICLR 2018); score = sample energy, Eq. 6.

    Unsupervised: ``fit`` drops labeled anomalies (``y_semi == -1``) and treats everything else as
    unlabeled. "Clean" training (UaiNets Tables 1/3, Zong et al. Sec. 4.1) = fit on normal rows
    only; "dirty" = fit on all rows. Use :meth:`preset` for the paper's per-data-set configurations.

    Parameters
    ----------
    hidden : sequence of int, default=(60, 30, 10)
        Hidden widths of the compression network's encoder (Eq. 1; the decoder mirrors them).
    latent_dim : int, default=1
        Dimension of ``z_c``.
    n_gmm : int, default=4
        Number of mixture components K.
    estimation_hidden : int, default=10
        Width of the estimation network's hidden layer (Eq. 4).
    lambda_energy, lambda_cov : float, default=0.1, 0.005
        lambda_1 and lambda_2 of Eq. 7 (Sec. 4.3).
    lr : float, default=1e-4
        Adam learning rate (Sec. 4.3).
    batch_size, epochs : int, default=1024, 200
        Mini-batch size and training epochs (Sec. 4.3, KDDCUP).
    dropout : float, default=0.5
        Dropout of the estimation network, in [0, 1).
    cov_eps : float, default=1e-6
        Diagonal jitter of Sigma (:func:`sample_energy`, :func:`cov_diag_penalty`).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train.
    random_state : int, default=0
        Seed of the weights, the dropout and the batch order.

    Attributes
    ----------
    net_ : DAGMMNet
        The trained networks (evaluation mode).
    phi_, mu_, cov_ : torch.Tensor
        Mixture weights (K,), means (K, D) and covariances (K, D, D) of Eq. 5 over the whole
        training set (float64, D = latent_dim + 2).
    history_ : list of float
        Loss per epoch.
    n_features_in_ : int
        Number of features seen in ``fit``.
    fit_seconds_ : float
        Wall time of ``fit``.

    References
    ----------
    .. [1] B. Zong, Q. Song, M. R. Min, W. Cheng, C. Lumezanu, D. Cho, H. Chen. "Deep Autoencoding
       Gaussian Mixture Model for Unsupervised Anomaly Detection", ICLR 2018, Eqs. 1-7, Sec. 4.
    """

    def __init__(self, hidden: Sequence[int] = (60, 30, 10), latent_dim: int = 1, n_gmm: int = 4,
                 estimation_hidden: int = 10, lambda_energy: float = 0.1, lambda_cov: float = 0.005,
                 lr: float = 1e-4, batch_size: int = 1024, epochs: int = 200, dropout: float = 0.5,
                 cov_eps: float = 1e-6, device: str = "auto", random_state: int = 0):
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.n_gmm = n_gmm
        self.estimation_hidden = estimation_hidden
        self.lambda_energy = lambda_energy
        self.lambda_cov = lambda_cov
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.dropout = dropout
        self.cov_eps = cov_eps
        self.device = device
        self.random_state = random_state

    @classmethod
    def preset(cls, name: str, **overrides) -> DAGMM:
        """The configuration of Zong et al. Sec. 4.3 for ``"kddcup" | "thyroid" | "arrhythmia" |
        "kddcup_rev"`` (see :data:`DAGMM_PRESETS`); keyword ``overrides`` replace any parameter."""
        key = name.lower().replace("-", "_")
        if key not in DAGMM_PRESETS:
            raise ValueError(f"unknown DAGMM preset {name!r}; choose one of {sorted(DAGMM_PRESETS)}")
        return cls(**{**DAGMM_PRESETS[key], **overrides})

    def _check_params(self) -> None:
        if any(h < 1 for h in self.hidden) or self.latent_dim < 1 or self.estimation_hidden < 1:
            raise ValueError("hidden, latent_dim and estimation_hidden must be positive")
        if self.n_gmm < 1:
            raise ValueError(f"n_gmm must be >= 1, got {self.n_gmm}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.lambda_energy < 0 or self.lambda_cov < 0 or self.cov_eps <= 0:
            raise ValueError("lambda_energy and lambda_cov must be >= 0 and cov_eps > 0")
        if self.epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {self.epochs}")

    def build_net(self, n_features: int) -> DAGMMNet:
        """An untrained :class:`DAGMMNet` with this detector's layer sizes (PyTorch default init)."""
        return DAGMMNet(n_features, tuple(int(h) for h in self.hidden), self.latent_dim, self.n_gmm,
                        self.estimation_hidden, self.dropout)

    def loss(self, net: DAGMMNet, x: torch.Tensor) -> torch.Tensor:
        """Objective ``J`` of Eq. 7 on one mini-batch (GMM parameters of Eq. 5 from the batch)."""
        x_hat, z, gamma = net(x)
        recon = ((x - x_hat) ** 2).sum(1).mean()
        z64, g64 = z.double(), gamma.double()
        phi, mu, cov = gmm_parameters(z64, g64)
        energy = sample_energy(z64, phi, mu, cov, self.cov_eps).mean()
        total = recon + self.lambda_energy * energy + self.lambda_cov * cov_diag_penalty(cov, self.cov_eps)
        return total.to(x.dtype)

    def _fit(self, X: np.ndarray, y_semi: np.ndarray) -> None:
        t0 = time.perf_counter()
        dev = resolve_device(self.device)
        Xt = torch.as_tensor(X, device=dev)
        self.n_features_in_ = X.shape[1]
        schedule = TrainSchedule(n_epochs=self.epochs, lr=self.lr, lr_milestones=(),
                                 batch_size=self.batch_size, weight_decay=0.0)
        with local_seed(self.random_state):
            net = self.build_net(X.shape[1]).to(dev)
            self.history_ = train_minibatch(net, (Xt,), lambda xb: self.loss(net, xb), schedule,
                                            self.random_state)
        net.eval()
        self.net_ = net
        z, gamma = self._forward_batched(Xt)
        self.phi_, self.mu_, self.cov_ = gmm_parameters(z, gamma)
        self.fit_seconds_ = time.perf_counter() - t0

    @torch.no_grad()
    def _forward_batched(self, Xt: torch.Tensor, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
        """``z`` and ``gamma`` (float64) of all rows, in eval mode, ``chunk`` rows at a time."""
        self.net_.eval()
        zs, gs = [], []
        for i in range(0, len(Xt), chunk):
            _, z, gamma = self.net_(Xt[i:i + chunk])
            zs.append(z.double())
            gs.append(gamma.double())
        return torch.cat(zs), torch.cat(gs)

    def _as_tensor(self, X: np.ndarray) -> torch.Tensor:
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, DAGMM was fitted on {self.n_features_in_}")
        return torch.as_tensor(X, device=next(self.net_.parameters()).device)

    @torch.no_grad()
    def _score(self, X: np.ndarray) -> np.ndarray:
        z, _ = self._forward_batched(self._as_tensor(X))
        return sample_energy(z, self.phi_, self.mu_, self.cov_, self.cov_eps).cpu().numpy()

    def transform(self, X) -> np.ndarray:
        """The representation ``z = [z_c, z_r]`` (Eq. 3) of each row, shape ``(N, latent_dim + 2)``."""
        check_fitted(self)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}")
        z, _ = self._forward_batched(self._as_tensor(X))
        return z.cpu().numpy()


def threshold_by_contamination(scores, ratio: float) -> tuple[np.ndarray, float]:
    """Flag the ``round(ratio * n)`` highest scores as anomalous (Zong et al. Sec. 4.4 protocol).

    Returns 0/1 predictions (ties broken by position, deterministic) and the lowest flagged score
    (``inf`` when nothing is flagged).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or not np.isfinite(scores).all():
        raise ValueError("scores must be a finite 1-D array")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must lie in [0, 1], got {ratio}")
    k = int(round(ratio * len(scores)))
    pred = np.zeros(len(scores), dtype=np.int64)
    if k == 0:
        return pred, float("inf")
    top = np.argsort(-scores, kind="stable")[:k]
    pred[top] = 1
    return pred, float(scores[top[-1]])


def evaluate_at_contamination(y_true, scores, ratio: float) -> dict[str, float]:
    """Precision, recall, F1 (plus tp/fp/fn and the threshold) of :func:`threshold_by_contamination`."""
    y_true = np.asarray(y_true).astype(int)
    pred, thr = threshold_by_contamination(scores, ratio)
    if y_true.shape != pred.shape:
        raise ValueError(f"y_true {y_true.shape} and scores {pred.shape} differ in shape")
    return {**precision_recall_f1(y_true, pred), "threshold": thr}


__all__ = ["DAGMM", "DAGMMNet", "DAGMM_CONTAMINATION", "DAGMM_PRESETS", "cov_diag_penalty",
           "evaluate_at_contamination", "gmm_parameters", "reconstruction_features", "sample_energy",
           "threshold_by_contamination"]
