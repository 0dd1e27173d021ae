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
from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED, check_fitted
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


def squared_distance(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """||phi(x) - c||^2 over the last axis: the quantity Eqs. (3), (4) and (7) are built from.

    ``z`` (..., d) codes and ``c`` a center broadcastable to it: (d,) for one model, (K, 1, d) for
    the K stacked models of :mod:`semiad.deep_sad.stacked_training`.
    """
    return torch.sum((z - c) ** 2, dim=-1)


def hypersphere_score(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Eq. (4): the anomaly score s(x) = ||phi(x; W) - c|| (Deep SVDD and Deep SAD alike)."""
    return torch.sqrt(squared_distance(z, c))


def deep_sad_terms(dist: torch.Tensor, y_semi: torch.Tensor, eta: float = 1.0,
                   eps: float = DEEP_SAD_EPS) -> torch.Tensor:
    """The per-sample terms of Eq. (7) (without weight decay), from squared distances ``dist``.

    Unlabeled points (y=0) contribute ||phi(x)-c||^2; labeled points contribute
    eta * (||phi(x)-c||^2 + eps)^y, i.e. the squared distance for known normals (y=+1) and the
    *inverse* squared distance for known anomalies (y=-1), which pushes them away from c. ``eps``:
    App. C, footnote 1. Element-wise, so the same function serves one model (``dist`` (B,)) and K
    stacked ones (``dist`` (K, B)); the loss is the mean over the batch axis.
    """
    labeled = eta * (dist + eps) ** y_semi.to(dist.dtype)
    return torch.where(y_semi == UNLABELED, dist, labeled)


def deep_sad_loss(z: torch.Tensor, c: torch.Tensor, y_semi: torch.Tensor, eta: float = 1.0,
                  eps: float = DEEP_SAD_EPS) -> torch.Tensor:
    """Mini-batch estimate of Eq. (7) without the weight-decay term (mean of :func:`deep_sad_terms`)."""
    return deep_sad_terms(squared_distance(z, c), y_semi, eta, eps).mean()


def center_from_codes(codes: torch.Tensor, eps: float = CENTER_EPS) -> torch.Tensor:
    """App. C: c = mean of the codes phi(x) (n, d), with every |c_i| < eps pushed to sign(c_i) * eps
    (zero maps to +eps), because a zero coordinate is trivially matched by zero weights."""
    c = codes.mean(dim=0)
    small = c.abs() < eps
    c[small] = torch.where(c[small] < 0, -eps, eps).to(c.dtype)
    return c


@torch.no_grad()
def init_center(encoder: torch.nn.Module, X: torch.Tensor, y_semi: torch.Tensor | None = None,
                eps: float = CENTER_EPS, include_labeled: bool = False) -> torch.Tensor:
    """App. C: c = mean of phi(x) from an initial forward pass, *excluding labeled anomalies*
    (``include_labeled=True``: over every training row, as the authors' code does); see
    :func:`center_from_codes`.
    """
    encoder.eval()
    keep = torch.ones(len(X), dtype=torch.bool, device=X.device) \
        if y_semi is None or include_labeled else y_semi != KNOWN_ANOMALY
    if not bool(keep.any()):
        raise ValueError("cannot initialise the center: every training sample is a labeled anomaly")
    return center_from_codes(predict_batched(encoder, X[keep]), eps)


class _HypersphereDetector(DeepDetector):
    """Shared machinery of Deep SAD and Deep SVDD: AE pre-training (App. C), center init, training,
    distance score (Eq. 4). The parameters are documented on :class:`DeepSAD`."""

    def __init__(self, pretrain: bool = True, ae_n_epochs: int = 150,
                 ae_lr_milestones: Sequence[int] = (50,), output_sigmoid: bool = False,
                 pretrained_autoencoder: dict | None = None, init: Init = "glorot",
                 leaky_slope: float = LEAKY_SLOPE, center_includes_labeled: bool = False,
                 ae_lr: float | None = None, ae_weight_decay: float | None = None,
                 hidden_dims: Sequence[int] = (32, 16), rep_dim: int = 8, n_epochs: int = 150,
                 lr: float = 1e-4, lr_milestones: Sequence[int] = (50,), batch_size: int = 200,
                 weight_decay: float = 1e-6, device: str = "auto", random_state: int = 0,
                 image_arch: str | None = None, drop_last: bool = False):
        super().__init__(hidden_dims=hidden_dims, rep_dim=rep_dim, n_epochs=n_epochs, lr=lr,
                         lr_milestones=lr_milestones, batch_size=batch_size, weight_decay=weight_decay,
                         device=device, random_state=random_state, image_arch=image_arch,
                         drop_last=drop_last)
        self.pretrain = pretrain
        self.ae_n_epochs = ae_n_epochs
        self.ae_lr_milestones = ae_lr_milestones
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
        return hypersphere_score(predict_batched(self.net_, Xt), self.c_).cpu().numpy()

    @torch.no_grad()
    def transform(self, X) -> np.ndarray:
        """Latent codes phi(x) (for plots of the learned representation)."""
        check_fitted(self)
        self.net_.eval()
        return predict_batched(self.net_, torch.as_tensor(np.asarray(X, np.float32),
                                                          device=self.c_.device)).cpu().numpy()


class DeepSAD(_HypersphereDetector):
    """Deep Semi-supervised Anomaly Detection (Ruff et al., ICLR 2020).

    Minimises the Deep SAD objective, Eq. (7), over mini-batches (:func:`deep_sad_loss`) after
    initialising phi from a pre-trained autoencoder and c from an initial forward pass (App. C);
    scores by the distance to c, Eq. (4). With no labeled data it is Deep SVDD, Eq. (3).

    Parameters
    ----------
    eta : float, default=1.0
        Weight of the labeled terms in Eq. (7); > 0 (App. E: 1; Fig. 5 varies it).
    eps : float, default=DEEP_SAD_EPS
        Guard of the inverse distance of labeled anomalies (App. C, footnote 1: 1e-6).
    pretrain : bool, default=True
        Initialise phi from the encoder of an autoencoder trained first for ``ae_n_epochs``
        (App. C); ``False`` starts from fresh weights.
    ae_n_epochs : int, default=150
        Autoencoder pre-training epochs (App. E: 150).
    ae_lr_milestones : sequence of int, default=(50,)
        Pre-training learning-rate milestones (App. E: 50).
    output_sigmoid : bool, default=False
        Sigmoid on the autoencoder's output (the LeNet CAEs on [0, 1] images, App. D).
    pretrained_autoencoder : dict or None, default=None
        State dict of an autoencoder with this architecture to initialise phi from (the experiment
        grid passes the cached AE of the same data set and seed); overrides ``pretrain``.
    init : {"glorot", "pytorch_default"}, default="glorot"
        Initial weights (App. E: Glorot uniform; the authors' code: PyTorch's default); see
        :class:`~semiad.core.detectors.protocol.TrainingProtocol`.
    leaky_slope : float, default=LEAKY_SLOPE
        Negative slope of the MLPs' leaky ReLUs (App. D).
    center_includes_labeled : bool, default=False
        Compute c over every training row (the authors' code) instead of excluding labeled
        anomalies (App. C); see :func:`init_center`.
    ae_lr, ae_weight_decay : float or None, default=None
        The autoencoder's own learning rate and weight decay (``None``: phi's); the DADS authors'
        Deep SAD baseline pre-trains with lr 1e-4, wd 0.5e-3 and trains phi with lr 1e-3, wd 0.5e-6.
    hidden_dims, rep_dim, n_epochs, lr, lr_milestones, batch_size, weight_decay, device, \
random_state, image_arch, drop_last
        The shared deep-detector hyperparameters (App. D/E); see
        :class:`~semiad.core.detectors.training.DeepDetector`.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained network phi (evaluation mode).
    c_ : torch.Tensor of shape (rep_dim,)
        The hypersphere center c (App. C, :func:`init_center`).
    history_ : list of float
        Mean training loss per epoch.
    ae_history_ : list of float
        Pre-training loss per epoch (only when the autoencoder was trained here).
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    DeepSVDD : the unsupervised special case.
    semiad.deep_sad.stacked_training.fit_stacked_deep_sad : K image models at once, same numbers.

    Notes
    -----
    A scikit-learn estimator (``get_params``, ``set_params``, ``clone``); ``check_estimator`` does
    not pass because ``y_semi`` is a semi-label vector (see
    :class:`~semiad.core.detectors.base.BaseDetector`).

    References
    ----------
    .. [1] L. Ruff, R. A. Vandermeulen, N. Görnitz, A. Binder, E. Müller, K.-R. Müller, M. Kloft.
       "Deep Semi-Supervised Anomaly Detection", ICLR 2020. Eq. (4) score, Eq. (7) objective,
       App. C (pre-training, center, eps), App. D (networks), App. E (optimisation).
    """

    uses_labeled_anomalies = True

    def __init__(self, eta: float = 1.0, eps: float = DEEP_SAD_EPS, pretrain: bool = True,
                 ae_n_epochs: int = 150,
                 ae_lr_milestones: Sequence[int] = (50,), output_sigmoid: bool = False,
                 pretrained_autoencoder: dict | None = None, init: Init = "glorot",
                 leaky_slope: float = LEAKY_SLOPE, center_includes_labeled: bool = False,
                 ae_lr: float | None = None, ae_weight_decay: float | None = None,
                 hidden_dims: Sequence[int] = (32, 16), rep_dim: int = 8, n_epochs: int = 150,
                 lr: float = 1e-4, lr_milestones: Sequence[int] = (50,), batch_size: int = 200,
                 weight_decay: float = 1e-6, device: str = "auto", random_state: int = 0,
                 image_arch: str | None = None, drop_last: bool = False):
        super().__init__(
            pretrain=pretrain, ae_n_epochs=ae_n_epochs, ae_lr_milestones=ae_lr_milestones,
            output_sigmoid=output_sigmoid, pretrained_autoencoder=pretrained_autoencoder, init=init,
            leaky_slope=leaky_slope, center_includes_labeled=center_includes_labeled, ae_lr=ae_lr,
            ae_weight_decay=ae_weight_decay, hidden_dims=hidden_dims, rep_dim=rep_dim, n_epochs=n_epochs,
            lr=lr, lr_milestones=lr_milestones, batch_size=batch_size, weight_decay=weight_decay,
            device=device, random_state=random_state, image_arch=image_arch, drop_last=drop_last)
        self.eta = eta
        self.eps = eps

    def _check_params(self) -> None:
        if self.eta <= 0:
            raise ValueError(f"eta must be > 0, got {self.eta}")

    def _train(self, X, y_semi):
        seed_everything(self.random_state)

        def loss(xb, yb):
            return deep_sad_loss(self.net_(xb), self.c_, yb, self.eta, self.eps)

        return train_minibatch(self.net_, (X, y_semi), loss, self._schedule(), self.random_state)


class DeepSVDD(_HypersphereDetector):
    """Unsupervised Deep SVDD (Ruff et al., ICML 2018), the baseline of Deep SAD App. E.

    ``objective="one-class"``: Eq. (3) of Deep SAD, the mean squared distance to c.
    ``objective="soft-boundary"``: minimise R^2 + 1/(nu n) sum max(0, ||phi(x)-c||^2 - R^2), where,
    as App. E says, the radius R is "solved for optimally on every mini-batch": the (1 - nu)-quantile
    of the batch distances; the score is then ||phi(x) - c|| - R. Labeled anomalies are dropped
    before training (unsupervised).

    Parameters
    ----------
    objective : {"one-class", "soft-boundary"}, default="one-class"
        Which Deep SVDD objective to minimise.
    nu : float, default=0.1
        Soft-boundary trade-off nu in (0, 1] (App. E: 0.1).
    pretrain, ae_n_epochs, ae_lr_milestones, output_sigmoid, pretrained_autoencoder, init, \
leaky_slope, center_includes_labeled, ae_lr, ae_weight_decay, hidden_dims, rep_dim, n_epochs, lr, \
lr_milestones, batch_size, weight_decay, device, random_state, image_arch, drop_last
        As for :class:`DeepSAD` (App. C pre-training and center, App. D/E networks and training).

    Attributes
    ----------
    net_, c_, history_, ae_history_, n_features_in_
        As for :class:`DeepSAD`.
    R_ : torch.Tensor
        Radius R (soft-boundary: from all training data after the last epoch; 0 for one-class).

    References
    ----------
    .. [1] L. Ruff et al. "Deep One-Class Classification", ICML 2018.
    .. [2] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, Eq. (3), App. C, App. E.
    """

    uses_labeled_anomalies = False

    def __init__(self, objective: str = "one-class", nu: float = 0.1, pretrain: bool = True,
                 ae_n_epochs: int = 150,
                 ae_lr_milestones: Sequence[int] = (50,), output_sigmoid: bool = False,
                 pretrained_autoencoder: dict | None = None, init: Init = "glorot",
                 leaky_slope: float = LEAKY_SLOPE, center_includes_labeled: bool = False,
                 ae_lr: float | None = None, ae_weight_decay: float | None = None,
                 hidden_dims: Sequence[int] = (32, 16), rep_dim: int = 8, n_epochs: int = 150,
                 lr: float = 1e-4, lr_milestones: Sequence[int] = (50,), batch_size: int = 200,
                 weight_decay: float = 1e-6, device: str = "auto", random_state: int = 0,
                 image_arch: str | None = None, drop_last: bool = False):
        super().__init__(
            pretrain=pretrain, ae_n_epochs=ae_n_epochs, ae_lr_milestones=ae_lr_milestones,
            output_sigmoid=output_sigmoid, pretrained_autoencoder=pretrained_autoencoder, init=init,
            leaky_slope=leaky_slope, center_includes_labeled=center_includes_labeled, ae_lr=ae_lr,
            ae_weight_decay=ae_weight_decay, hidden_dims=hidden_dims, rep_dim=rep_dim, n_epochs=n_epochs,
            lr=lr, lr_milestones=lr_milestones, batch_size=batch_size, weight_decay=weight_decay,
            device=device, random_state=random_state, image_arch=image_arch, drop_last=drop_last)
        self.objective = objective
        self.nu = nu

    def _check_params(self) -> None:
        if self.objective not in ("one-class", "soft-boundary"):
            raise ValueError(f"objective must be 'one-class' or 'soft-boundary', got {self.objective!r}")
        if not 0 < self.nu <= 1:
            raise ValueError(f"nu must be in (0, 1], got {self.nu}")

    def _train(self, X, y_semi):
        seed_everything(self.random_state)
        self.R_ = torch.zeros((), device=X.device)
        if self.objective == "one-class":
            def loss(xb, _yb):
                return squared_distance(self.net_(xb), self.c_).mean()
            return train_minibatch(self.net_, (X, y_semi), loss, self._schedule(), self.random_state)

        def loss_sb(xb, _yb):
            dist = squared_distance(self.net_(xb), self.c_)
            # optimal R for this batch given the current network (no gradient through R)
            self.R_ = torch.quantile(dist.detach().sqrt(), 1 - self.nu)
            return self.R_ ** 2 + torch.relu(dist - self.R_ ** 2).mean() / self.nu

        history = train_minibatch(self.net_, (X, y_semi), loss_sb, self._schedule(),
                                  self.random_state)
        # final radius from all training data rather than whichever batch came last
        with torch.no_grad():
            dist = squared_distance(predict_batched(self.net_, X), self.c_)
            self.R_ = torch.quantile(dist.sqrt(), 1 - self.nu)
        return history

    def _score(self, X):
        dist = super()._score(X)
        return dist - float(self.R_) if self.objective == "soft-boundary" else dist
