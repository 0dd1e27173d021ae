"""Autoencoder pre-training (Deep SAD App. C) and the (C)AE reconstruction-error baseline (App. E)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from semiad.core.detectors.base import check_fitted
from semiad.core.detectors.networks import LEAKY_SLOPE, build_autoencoder
from semiad.core.detectors.protocol import Init, init_weights_
from semiad.core.detectors.training import DeepDetector, TrainSchedule, predict_batched, train_minibatch
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed


def train_autoencoder(X: torch.Tensor, hidden_dims: Sequence[int], rep_dim: int,
                      schedule: TrainSchedule, output_sigmoid: bool = False,
                      seed: int = 0, image_arch: str | None = None, init: Init = "glorot",
                      leaky_slope: float = LEAKY_SLOPE) -> tuple[torch.nn.Module, list[float]]:
    """Train an autoencoder (MLP, or the LeNet CAE of ``image_arch`` on flattened images) on the MSE
    reconstruction loss, from Glorot-uniform weights (App. E, ``init="glorot"``) or PyTorch's default
    init (the authors' code, ``init="pytorch_default"``)."""
    with local_seed(seed):
        ae = build_autoencoder(X.shape[1], hidden_dims, rep_dim, output_sigmoid, image_arch, leaky_slope)
        init_weights_(ae, init)
        ae.to(X.device)

        def loss(xb):
            return torch.mean((ae(xb) - xb) ** 2)

        history = train_minibatch(ae, (X,), loss, schedule, seed)
    return ae, history


class AutoencoderDetector(DeepDetector):
    """(C)AE baseline of Deep SAD App. E: anomaly score = per-sample mean squared reconstruction error.

    The same autoencoder (App. D architecture, App. E training) that pre-trains Deep SAD's phi
    (App. C), used on its own as an unsupervised detector; labeled anomalies are dropped before
    training.

    Parameters
    ----------
    output_sigmoid : bool, default=False
        Sigmoid on the output (the LeNet CAEs on [0, 1] images, App. D).
    init : {"glorot", "pytorch_default"}, default="glorot"
        Initial weights; see :class:`~semiad.core.detectors.protocol.TrainingProtocol`.
    leaky_slope : float, default=LEAKY_SLOPE
        Negative slope of the MLPs' leaky ReLUs (App. D).
    hidden_dims, rep_dim, n_epochs, lr, lr_milestones, batch_size, weight_decay, device, \
random_state, image_arch, drop_last
        The shared deep-detector hyperparameters; see
        :class:`~semiad.core.detectors.training.DeepDetector`.

    Attributes
    ----------
    model_ : torch.nn.Module
        The trained autoencoder.
    history_ : list of float
        Mean reconstruction loss per epoch.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    .. [1] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, App. C-E.
    """

    def __init__(self, output_sigmoid: bool = False, init: Init = "glorot",
                 leaky_slope: float = LEAKY_SLOPE, hidden_dims: Sequence[int] = (32, 16), rep_dim: int = 8,
                 n_epochs: int = 150, lr: float = 1e-4, lr_milestones: Sequence[int] = (50,),
                 batch_size: int = 200, weight_decay: float = 1e-6, device: str = "auto",
                 random_state: int = 0, image_arch: str | None = None, drop_last: bool = False):
        super().__init__(hidden_dims=hidden_dims, rep_dim=rep_dim, n_epochs=n_epochs, lr=lr,
                         lr_milestones=lr_milestones, batch_size=batch_size, weight_decay=weight_decay,
                         device=device, random_state=random_state, image_arch=image_arch,
                         drop_last=drop_last)
        self.output_sigmoid = output_sigmoid
        self.init = init
        self.leaky_slope = leaky_slope

    def _fit(self, X, y_semi):
        Xt = torch.as_tensor(X, device=resolve_device(self.device))
        self.model_, self.history_ = train_autoencoder(
            Xt, self.hidden_dims, self.rep_dim, self._schedule(), self.output_sigmoid,
            self.random_state, self.image_arch, self.init, self.leaky_slope)

    @torch.no_grad()
    def _score(self, X) -> np.ndarray:
        self.model_.eval()
        dev = next(self.model_.parameters()).device
        Xt = torch.as_tensor(X, device=dev)
        rec = predict_batched(self.model_, Xt)
        return torch.mean((rec - Xt) ** 2, dim=1).cpu().numpy()

    @torch.no_grad()
    def transform(self, X) -> np.ndarray:
        """Bottleneck codes (input of the hybrid baselines, App. E)."""
        check_fitted(self)
        dev = next(self.model_.parameters()).device
        return predict_batched(self.model_.encoder,
                               torch.as_tensor(np.asarray(X, np.float32), device=dev)).cpu().numpy()
