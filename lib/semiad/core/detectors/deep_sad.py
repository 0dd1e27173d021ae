"""Deep SAD (Ruff et al., ICLR 2020) and its unsupervised special case Deep SVDD (Ruff et al., 2018).

Written from the paper: Eq. (3) one-class Deep SVDD, Eq. (4) score, Eq. (7) Deep SAD objective,
App. C (pre-training, center initialisation, collapse prevention) and App. E (hyperparameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from semiad.core.detectors.autoencoder import train_autoencoder
from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED
from semiad.core.detectors.networks import LEAKY_SLOPE, build_autoencoder, build_encoder
from semiad.core.detectors.protocol import Init, init_weights_
from semiad.core.detectors.training import DeepDetector, predict_batched, train_minibatch
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed, seed_everything

#: App. C, footnote 1: "we add a machine epsilon (eps ~ 1e-6) to the denominator of the inverse".
DEEP_SAD_EPS = 1e-6
#: |c_i| guard: coordinates of c closer to 0 than this are pushed to +-CENTER_EPS, because a
#: zero coordinate is trivially matched by zero weights (a partial hypersphere collapse).
CENTER_EPS = 0.1


def deep_sad_loss(z: torch.Tensor, c: torch.Tensor, y_semi: torch.Tensor, eta: float = 1.0,
                  eps: float = DEEP_SAD_EPS) -> torch.Tensor:
    """Mini-batch estimate of Eq. (7) without the weight-decay term.

    Unlabeled points (y=0) contribute ||phi(x)-c||^2; labeled points contribute
    eta * (||phi(x)-c||^2 + eps)^y, i.e. the squared distance for known normals (y=+1) and the
    *inverse* squared distance for known anomalies (y=-1), which pushes them away from c.
    """
    dist = torch.sum((z - c) ** 2, dim=1)
    labeled = eta * (dist + eps) ** y_semi.to(dist.dtype)
    return torch.where(y_semi == UNLABELED, dist, labeled).mean()


@torch.no_grad()
def init_center(encoder: torch.nn.Module, X: torch.Tensor, y_semi: torch.Tensor | None = None,
                eps: float = CENTER_EPS, include_labeled: bool = False) -> torch.Tensor:
    """App. C: c = mean of phi(x) from an initial forward pass, *excluding labeled anomalies*
    (``include_labeled=True``: over every training row, as the authors' code does).

    Coordinates with |c_i| < eps are set to sign(c_i) * eps (zero maps to +eps).
    """
    encoder.eval()
    keep = torch.ones(len(X), dtype=torch.bool, device=X.device) \
        if y_semi is None or include_labeled else y_semi != KNOWN_ANOMALY
    if not bool(keep.any()):
        raise ValueError("cannot initialise the center: every training sample is a labeled anomaly")
    c = predict_batched(encoder, X[keep]).mean(dim=0)
    small = c.abs() < eps
    c[small] = torch.where(c[small] < 0, -eps, eps).to(c.dtype)
    return c


class _HypersphereDetector(DeepDetector):
    """Shared machinery: AE pre-training (App. C), center init, training, distance score (Eq. 4)."""

    def __init__(self, pretrain: bool = True, ae_n_epochs: int = 150,
                 ae_lr_milestones: Sequence[int] = (50,), output_sigmoid: bool = False,
                 pretrained_autoencoder: dict | None = None, init: Init = "glorot",
                 leaky_slope: float = LEAKY_SLOPE, center_includes_labeled: bool = False,
                 ae_lr: float | None = None, ae_weight_decay: float | None = None, **shared):
        """``shared``: the :class:`~semiad.core.detectors.training.DeepDetector` hyperparameters.

        ``pretrained_autoencoder``: state dict of an :class:`MLPAutoencoder` to initialise phi
        from (the experiment grid passes the cached AE of the same dataset and seed); otherwise
        ``pretrain=True`` trains one for ``ae_n_epochs`` first (App. C), and ``pretrain=False``
        starts from fresh weights. ``init``, ``leaky_slope``, ``center_includes_labeled``: see
        :class:`~semiad.core.detectors.protocol.TrainingProtocol`. ``ae_lr`` / ``ae_weight_decay``: the
        AE's own
        learning rate and weight decay (``None``: the same as phi's; the DADS authors' Deep SAD baseline
        pre-trains with lr 1e-4, wd 0.5e-3 and trains phi with lr 1e-3, wd 0.5e-6).
        """
        super().__init__(**shared)
        self.pretrain = pretrain
        self.ae_n_epochs = ae_n_epochs
        self.ae_lr_milestones = tuple(ae_lr_milestones)
        self.output_sigmoid = output_sigmoid
        self.pretrained_autoencoder = pretrained_autoencoder
        self.init = init
        self.leaky_slope = leaky_slope
        self.center_includes_labeled = center_includes_labeled
        self.ae_lr = ae_lr
        self.ae_weight_decay = ae_weight_decay

    def _initial_encoder(self, X: torch.Tensor, y_semi: torch.Tensor) -> torch.nn.Module:
        seed_everything(self.random_state)
        n_features = X.shape[1]
        if self.pretrained_autoencoder is not None:
            ae = build_autoencoder(n_features, self.hidden_dims, self.rep_dim, self.output_sigmoid,
                                   self.image_arch, self.leaky_slope)
            ae.load_state_dict(self.pretrained_autoencoder)
        elif self.pretrain:
            # The AE sees what an unsupervised model may see: everything but known anomalies.
            keep = y_semi != KNOWN_ANOMALY
            ae, self.ae_history_ = train_autoencoder(
                X[keep], self.hidden_dims, self.rep_dim,
                self._ae_schedule(),
                output_sigmoid=self.output_sigmoid, seed=self.random_state, image_arch=self.image_arch,
                init=self.init, leaky_slope=self.leaky_slope)
        else:
            net = build_encoder(n_features, self.hidden_dims, self.rep_dim, self.image_arch, self.leaky_slope)
            return init_weights_(net, self.init).to(X.device)
        return ae.encoder.to(X.device)

    def _ae_schedule(self):
        """The pre-training schedule: phi's, with the AE's own epochs, milestones, lr and weight decay."""
        schedule = self._schedule(self.ae_n_epochs, self.ae_lr_milestones)
        return replace(schedule, lr=schedule.lr if self.ae_lr is None else self.ae_lr,
                       weight_decay=schedule.weight_decay if self.ae_weight_decay is None
                       else self.ae_weight_decay)

    def _fit(self, X: np.ndarray, y_semi: np.ndarray) -> None:
        dev = resolve_device(self.device)
        Xt = torch.as_tensor(X, device=dev)
        yt = torch.as_tensor(y_semi, device=dev)
        with local_seed(self.random_state):  # reproducible, without touching the caller's RNGs
            self.net_ = self._initial_encoder(Xt, yt)
            self.c_ = init_center(self.net_, Xt, yt, include_labeled=self.center_includes_labeled)
            self.history_ = self._train(Xt, yt)
        self.net_.eval()

    def _train(self, X: torch.Tensor, y_semi: torch.Tensor) -> list[float]:  # pragma: no cover
        raise NotImplementedError

    @torch.no_grad()
    def _score(self, X: np.ndarray) -> np.ndarray:
        """Eq. (4): s(x) = ||phi(x; W) - c||."""
        self.net_.eval()
        Xt = torch.as_tensor(X, device=self.c_.device)
        z = predict_batched(self.net_, Xt)
        return torch.sqrt(torch.sum((z - self.c_) ** 2, dim=1)).cpu().numpy()

    @torch.no_grad()
    def transform(self, X) -> np.ndarray:
        """Latent codes phi(x) (for plots of the learned representation)."""
        self.net_.eval()
        return predict_batched(self.net_, torch.as_tensor(np.asarray(X, np.float32),
                                                          device=self.c_.device)).cpu().numpy()


class DeepSAD(_HypersphereDetector):
    """Deep Semi-supervised Anomaly Detection, objective Eq. (7).

    Parameters beyond the shared ones: ``eta`` (weight of labeled terms; App. E default 1) and
    ``eps`` (numerical guard of the inverse distance, App. C footnote: 1e-6).
    """

    uses_labeled_anomalies = True

    def __init__(self, eta: float = 1.0, eps: float = DEEP_SAD_EPS, **kwargs):
        super().__init__(**kwargs)
        if eta <= 0:
            raise ValueError(f"eta must be > 0, got {eta}")
        self.eta = eta
        self.eps = eps

    def _train(self, X, y_semi):
        seed_everything(self.random_state)

        def loss(xb, yb):
            return deep_sad_loss(self.net_(xb), self.c_, yb, self.eta, self.eps)

        return train_minibatch(self.net_, (X, y_semi), loss, self._schedule(), self.random_state)


class DeepSVDD(_HypersphereDetector):
    """Unsupervised Deep SVDD (Ruff et al., 2018), the baseline of Deep SAD App. E.

    ``objective="one-class"``: Eq. (3). ``objective="soft-boundary"``: minimise
    R^2 + 1/(nu n) sum max(0, ||phi(x)-c||^2 - R^2), where, as App. E says, the radius R is
    "solved for optimally on every mini-batch": the (1 - nu)-quantile of the batch distances.
    """

    uses_labeled_anomalies = False

    def __init__(self, objective: str = "one-class", nu: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        if objective not in ("one-class", "soft-boundary"):
            raise ValueError(f"objective must be 'one-class' or 'soft-boundary', got {objective!r}")
        if not 0 < nu <= 1:
            raise ValueError(f"nu must be in (0, 1], got {nu}")
        self.objective = objective
        self.nu = nu

    def _train(self, X, y_semi):
        seed_everything(self.random_state)
        self.R_ = torch.zeros((), device=X.device)
        if self.objective == "one-class":
            def loss(xb, _yb):
                return torch.sum((self.net_(xb) - self.c_) ** 2, dim=1).mean()
            return train_minibatch(self.net_, (X, y_semi), loss, self._schedule(), self.random_state)

        def loss_sb(xb, _yb):
            dist = torch.sum((self.net_(xb) - self.c_) ** 2, dim=1)
            # optimal R for this batch given the current network (no gradient through R)
            self.R_ = torch.quantile(dist.detach().sqrt(), 1 - self.nu)
            return self.R_ ** 2 + torch.relu(dist - self.R_ ** 2).mean() / self.nu

        history = train_minibatch(self.net_, (X, y_semi), loss_sb, self._schedule(),
                                  self.random_state)
        # final radius from all training data rather than whichever batch came last
        with torch.no_grad():
            dist = torch.sum((predict_batched(self.net_, X) - self.c_) ** 2, dim=1)
            self.R_ = torch.quantile(dist.sqrt(), 1 - self.nu)
        return history

    def _score(self, X):
        dist = super()._score(X)
        return dist - float(self.R_) if self.objective == "soft-boundary" else dist
