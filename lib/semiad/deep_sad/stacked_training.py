"""K Deep SAD image experiments trained at once in one stacked LeNet (the GPU speed path of the image grid).

Paper (Ruff et al., ICLR 2020): App. C — phi is initialised from the encoder of an autoencoder pre-trained
on the MSE reconstruction loss, the center c is "the mean of the network representations" of an initial
forward pass (we exclude labeled anomalies and push coordinates with |c_i| < 0.1 to +-0.1, see
:func:`semiad.core.detectors.deep_sad.init_center`); App. E — Glorot-uniform AE weights, Adam, lr 1e-4 then
x0.1
after the milestone, weight decay 1e-6, batch size 200. The image grid (App. E, Figs. 2-5) repeats this
for thousands of small LeNets; one model per process leaves a GPU idle, so :func:`fit_stacked_deep_sad`
trains K experiments as one :class:`~semiad.core.detectors.lenet.StackedLeNet` (grouped convolutions on CUDA).

Equivalence with the single-model path (``DeepSAD(image_arch=..., output_sigmoid=True)``, which is what
the grid runs): model k is exactly what a single run with ``seeds[k]`` computes, up to floating-point
summation order —

* initial AE weights: model k's :class:`~semiad.core.detectors.lenet.FlatLeNetAutoencoder` is built and
  Glorot-initialised under ``local_seed(seeds[k])`` exactly as in
  :func:`~semiad.core.detectors.autoencoder.train_autoencoder`, then the K models are stacked;
* batch order: model k draws one permutation per epoch from its own CPU ``torch.Generator`` seeded with
  ``seeds[k]`` (as :func:`~semiad.core.detectors.training.train_minibatch`), contiguous batches, batches of
  fewer than 2 rows skipped;
* gradients: the stacked loss is the *sum* of the K per-model mean losses and the models share no
  weights or BatchNorm channels, so model k's gradient is its solo gradient; Adam (weight decay included)
  is element-wise, so one Adam over the stacked parameters is K independent Adams (same lr schedule).

The Deep SAD phase uses no global RNG, so ``seed_everything`` before it (as ``DeepSAD`` does) changes
nothing. The tests (CPU, where :class:`~semiad.core.detectors.lenet.StackedConv2d` evaluates the K slices
with the
single-model kernels) check the K stacked encoders, centers, loss histories and scores against K single
``DeepSAD`` / ``DeepSVDD`` fits. On CUDA the stacked net runs grouped convolutions, i.e. other kernels
than the single models, so agreement there is up to floating-point tolerance, not bitwise (not covered
by the CPU tests).

Limitation: the K experiments of one stacked run must have the same number of training rows n (Deep SAD
phase) and the same number of non-anomalous rows (AE pre-training, and the ``"one-class"`` objective,
which like ``DeepSVDD`` drops labeled anomalies), because every step takes one (K, B, F) batch. In the
grid the experiments of one normal class at one scenario point (different seeds) have equal sizes; group
them that way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from semiad.core.detectors.base import KNOWN_ANOMALY
from semiad.core.detectors.deep_sad import (
    CENTER_EPS,
    DEEP_SAD_EPS,
    center_from_codes,
    deep_sad_terms,
    hypersphere_score,
    squared_distance,
)
from semiad.core.detectors.lenet import (
    FlatLeNetAutoencoder,
    FlatLeNetEncoder,
    LeNetArch,
    StackedLeNet,
    get_arch,
    glorot_uniform_,
    stack_modules,
    unstack_module,
)
from semiad.core.detectors.training import TrainSchedule
from semiad.core.seeding import local_seed, torch_generator

OBJECTIVES = ("deep-sad", "one-class")
#: Rows per model in one evaluation forward (center, scores).
EVAL_BATCH = 2048

StackedLoss = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


# ------------------------------------------------------------------------------------------ training loop
def _epoch_permutations(gens: Sequence[torch.Generator], n: int, device: torch.device) -> torch.Tensor:
    """(K, n): model k's permutation for this epoch, drawn as ``train_minibatch`` draws it."""
    return torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)


def _check_finite(losses: list[float], epoch: int, n_epochs: int) -> None:
    bad = [k for k, v in enumerate(losses) if not math.isfinite(v)]
    if bad:
        raise FloatingPointError(
            f"training loss of model(s) {bad} became {[losses[k] for k in bad]} in epoch {epoch + 1}/"
            f"{n_epochs}; lower the learning rate or check the input scaling")


def train_stacked(model: nn.Module, X: torch.Tensor, extra: torch.Tensor | None, loss_fn: StackedLoss,
                  schedule: TrainSchedule, seeds: Sequence[int],
                  parameters: Sequence[nn.Parameter] | None = None) -> list[list[float]]:
    """:func:`~semiad.core.detectors.training.train_minibatch` for K stacked models; per-model epoch losses.

    ``X``: (K, n, F), model k's dataset in slice k (all on the target device); ``extra``: optional (K, n)
    per-row tensor (semi-labels) batched alongside; ``loss_fn(xb, eb)`` maps a (K, B, F) batch (and the
    (K, B) ``extra`` batch, or ``None``) to the (K,) per-model *mean* losses. Their sum is minimised, so
    each model gets its solo gradient; model k's batches follow the generator seeded with ``seeds[k]``.
    Raises ``FloatingPointError`` when an epoch loss is NaN/inf.
    """
    k, n = X.shape[0], X.shape[1]
    if len(seeds) != k:
        raise ValueError(f"need one seed per model: {k} models, {len(seeds)} seeds")
    if extra is not None and tuple(extra.shape[:2]) != (k, n):
        raise ValueError(f"extra must have shape ({k}, {n}), got {tuple(extra.shape)}")
    params = list(model.parameters()) if parameters is None else list(parameters)
    optimizer = torch.optim.Adam(params, lr=schedule.lr, weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=list(schedule.lr_milestones), gamma=schedule.lr_decay)
    device = X.device
    gens = [torch_generator(s, "cpu") for s in seeds]
    rows = torch.arange(k, device=device)[:, None]
    histories: list[list[float]] = [[] for _ in range(k)]
    model.train()
    for epoch in range(schedule.n_epochs):
        perm = _epoch_permutations(gens, n, device)
        total, count = torch.zeros(k, device=device), 0
        for start, stop in schedule.batch_bounds(n):  # the same rule as train_minibatch
            idx = perm[:, start:stop]
            losses = loss_fn(X[rows, idx], None if extra is None else extra[rows, idx])
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            optimizer.step()
            total += losses.detach() * (stop - start)
            count += stop - start
        scheduler.step()
        epoch_losses = [t / max(count, 1) for t in total.cpu().tolist()]  # as train_minibatch
        _check_finite(epoch_losses, epoch, schedule.n_epochs)
        for history, value in zip(histories, epoch_losses, strict=True):
            history.append(value)
    model.eval()
    return histories


# ------------------------------------------------------------------------------------------ stacked nets
class StackedFlatAutoencoder(nn.Module):
    """K LeNet autoencoders on flattened images: ``(K, B, C*H*W) -> (K, B, C*H*W)``."""

    def __init__(self, encoder: StackedLeNet, decoder: StackedLeNet):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.arch: LeNetArch = encoder.arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, b = x.shape[:2]
        return self.decoder(self.encoder(x.reshape(k, b, *self.arch.in_shape))).reshape(k, b, -1)


def _single_autoencoder(arch: LeNetArch, output_sigmoid: bool, seed: int,
                        state: dict | None) -> FlatLeNetAutoencoder:
    """Model k's starting AE: seeded and Glorot-initialised as ``train_autoencoder`` does, or loaded."""
    with local_seed(seed):
        ae = FlatLeNetAutoencoder(arch, output_sigmoid=output_sigmoid)
        if state is None:
            glorot_uniform_(ae)
    if state is not None:
        ae.load_state_dict(state)
    return ae


def stack_autoencoders(aes: Sequence[FlatLeNetAutoencoder], device: torch.device) -> StackedFlatAutoencoder:
    """One stacked AE whose copy k has the weights and BN statistics of ``aes[k]``."""
    encoder = stack_modules([ae.encoder[1] for ae in aes])
    decoder = stack_modules([ae.decoder[0] for ae in aes])
    return StackedFlatAutoencoder(encoder, decoder).to(device)  # type: ignore[arg-type]


def stacked_reconstruction_loss(ae: StackedFlatAutoencoder) -> StackedLoss:
    def loss(xb: torch.Tensor, _eb: torch.Tensor | None) -> torch.Tensor:
        return torch.mean((ae(xb) - xb) ** 2, dim=(1, 2))
    return loss


def _stacked_distances(encoder: StackedLeNet, xb: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(K, B) squared distances ||phi_k(x) - c_k||^2 of a (K, B, F) batch."""
    k, b = xb.shape[:2]
    z = encoder(xb.reshape(k, b, *encoder.arch.in_shape))
    return squared_distance(z, centers[:, None, :])


def stacked_hypersphere_loss(encoder: StackedLeNet, centers: torch.Tensor, objective: str, eta: float,
                      eps: float) -> StackedLoss:
    """Per-model mean of Eq. (7) (:func:`~semiad.core.detectors.deep_sad.deep_sad_terms`, the function the
    single model's ``deep_sad_loss`` averages) or of Eq. (3) one-class Deep SVDD."""
    def loss(xb: torch.Tensor, yb: torch.Tensor | None) -> torch.Tensor:
        dist = _stacked_distances(encoder, xb, centers)
        if objective == "one-class" or yb is None:
            return dist.mean(dim=1)
        return deep_sad_terms(dist, yb, eta, eps).mean(dim=1)
    return loss


@torch.no_grad()
def _stacked_codes(encoder: StackedLeNet, X: torch.Tensor) -> torch.Tensor:
    """(K, n, d) codes of (K, n, F) data (per-model rows) in evaluation mode, in chunks."""
    encoder.eval()
    k = X.shape[0]
    chunks = [encoder(X[:, i:i + EVAL_BATCH].reshape(k, -1, *encoder.arch.in_shape))
              for i in range(0, X.shape[1], EVAL_BATCH)]
    return torch.cat(chunks, dim=1)


@torch.no_grad()
def stacked_centers(encoder: StackedLeNet, X: torch.Tensor, keep: torch.Tensor,
                    eps: float = CENTER_EPS) -> torch.Tensor:
    """(K, d): :func:`~semiad.core.detectors.deep_sad.init_center` of every model over its ``keep`` rows."""
    z = _stacked_codes(encoder, X)
    centers = []
    for k in range(X.shape[0]):
        if not bool(keep[k].any()):
            raise ValueError(f"cannot initialise center {k}: every training sample is a labeled anomaly")
        centers.append(center_from_codes(z[k][keep[k]], eps))
    return torch.stack(centers)


# ------------------------------------------------------------------------------------------ inputs
def _as_stacked(data, dtype: torch.dtype, device: torch.device, what: str) -> torch.Tensor:
    """A (K, n, ...) tensor from a tensor/array or a sequence of K equally long arrays."""
    if isinstance(data, (torch.Tensor, np.ndarray)):
        return torch.as_tensor(data, dtype=dtype, device=device)
    sizes = [len(d) for d in data]
    if len(set(sizes)) > 1:
        raise ValueError(f"stacked training needs the same number of rows in every experiment; {what} "
                         f"has {sizes} (group experiments of equal size, see the module docstring)")
    return torch.stack([torch.as_tensor(d, dtype=dtype, device=device) for d in data])


def _rows_per_model(X: torch.Tensor, keep: torch.Tensor, what: str) -> torch.Tensor:
    """(K, m, F): each model's ``keep`` rows; ValueError unless every model keeps the same number m."""
    counts = keep.sum(dim=1).tolist()
    if len(set(counts)) > 1:
        raise ValueError(f"stacked {what} needs the same number of non-anomalous rows (y_semi != -1) in "
                         f"every experiment, got {counts}; group experiments of equal size")
    return torch.stack([X[k][keep[k]] for k in range(X.shape[0])])


# ------------------------------------------------------------------------------------------ result
@dataclass
class StackedDeepSADResult:
    """K trained Deep SAD (or one-class Deep SVDD) models.

    ``encoders``: K single :class:`~semiad.core.detectors.lenet.FlatLeNetEncoder` s (eval mode, on the
    training
    device); ``centers``: (K, d); ``stacked_encoder``: the trained stacked phi used by :meth:`score`;
    ``histories`` / ``ae_histories``: per-model epoch losses (``ae_histories`` is ``None`` when the AEs
    were given).
    """

    encoders: list[nn.Module]
    centers: torch.Tensor
    stacked_encoder: StackedLeNet
    histories: list[list[float]]
    ae_histories: list[list[float]] | None
    objective: str

    @torch.no_grad()
    def score(self, X_test) -> np.ndarray:
        """(K, n_test) Eq. (4) scores ||phi_k(x) - c_k|| from one stacked forward per chunk.

        ``X_test``: (n_test, F), scored by every model, or (K, n_test, F), model k scoring slice k.
        """
        enc = self.stacked_encoder
        enc.eval()
        X = torch.as_tensor(np.asarray(X_test, np.float32) if not isinstance(X_test, torch.Tensor)
                            else X_test, dtype=torch.float32, device=self.centers.device)
        shape = enc.arch.in_shape
        out = []
        for i in range(0, X.shape[-2], EVAL_BATCH):
            chunk = X[..., i:i + EVAL_BATCH, :]
            x = chunk.reshape(-1, *shape) if X.dim() == 2 else chunk.reshape(X.shape[0], -1, *shape)
            z = enc(x)
            out.append(hypersphere_score(z, self.centers[:, None, :]))
        return torch.cat(out, dim=1).cpu().numpy()


# ------------------------------------------------------------------------------------------ fit
def pretrain_stacked_autoencoders(X: torch.Tensor, arch: LeNetArch, ae_schedule: TrainSchedule,
                                  seeds: Sequence[int], output_sigmoid: bool = True,
                                  ) -> tuple[StackedFlatAutoencoder, list[list[float]]]:
    """App. C pre-training of K LeNet AEs at once on (K, m, F) data (model k = ``train_autoencoder``
    with ``seeds[k]``)."""
    aes = [_single_autoencoder(arch, output_sigmoid, s, None) for s in seeds]
    stacked = stack_autoencoders(aes, X.device)
    histories = train_stacked(stacked, X, None, stacked_reconstruction_loss(stacked), ae_schedule, seeds)
    return stacked, histories


def _to_flat_encoders(stacked: StackedLeNet) -> list[nn.Module]:
    singles = []
    for enc in unstack_module(stacked):
        flat = FlatLeNetEncoder(stacked.arch)
        flat[1] = enc
        singles.append(flat.eval())
    return singles


def fit_stacked_deep_sad(X, y_semi, arch: str | LeNetArch = "mnist", rep_dim: int | None = None,
                         ae_schedule: TrainSchedule | None = None, schedule: TrainSchedule | None = None,
                         seeds: Sequence[int] = (0,), eta: float = 1.0, objective: str = "deep-sad",
                         pretrained: Sequence[dict] | None = None, device: str | torch.device = "cpu",
                         output_sigmoid: bool = True, eps: float = DEEP_SAD_EPS,
                         center_includes_labeled: bool = False) -> StackedDeepSADResult:
    """Fit K Deep SAD models (App. C/E) at once; model k equals ``DeepSAD(random_state=seeds[k],
    image_arch=arch, output_sigmoid=output_sigmoid, ...)`` fitted on ``(X[k], y_semi[k])``.

    ``X``: (K, n, C*H*W) flattened images in [0, 1] (array/tensor, or a sequence of K (n, F) arrays);
    ``y_semi``: (K, n) semi-labels (0 unlabeled, -1 labeled anomaly, +1 labeled normal).
    ``ae_schedule`` / ``schedule``: AE pre-training / Deep SAD optimisation (App. E defaults when None);
    ``pretrained``: K state dicts of :class:`~semiad.core.detectors.lenet.FlatLeNetAutoencoder` (skips
    pre-training); ``objective="one-class"``: Eq. (3) Deep SVDD on the non-anomalous rows (as
    ``DeepSVDD``); ``center_includes_labeled``: c over every row (the authors' code; see
    :class:`~semiad.core.detectors.protocol.TrainingProtocol`). Raises ``ValueError`` when the K
    experiments' sizes
    differ (module docstring).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if eta <= 0:
        raise ValueError(f"eta must be > 0, got {eta}")
    dev = torch.device(device)
    arch = get_arch(arch, rep_dim)
    ae_schedule = ae_schedule or TrainSchedule()
    schedule = schedule or TrainSchedule()
    seeds = [int(s) for s in seeds]
    Xt = _as_stacked(X, torch.float32, dev, "X")
    yt = _as_stacked(y_semi, torch.int64, dev, "y_semi")
    k = len(seeds)
    if Xt.dim() != 3 or Xt.shape[0] != k or tuple(yt.shape) != tuple(Xt.shape[:2]):
        raise ValueError(f"need X of shape (K={k}, n, F) and y_semi of shape (K, n); got "
                         f"{tuple(Xt.shape)} and {tuple(yt.shape)}")
    if Xt.shape[2] != math.prod(arch.in_shape):
        raise ValueError(f"{arch.name} expects {math.prod(arch.in_shape)} features, got {Xt.shape[2]}")
    keep = yt != KNOWN_ANOMALY
    with local_seed(seeds[0]):  # leave the caller's global RNGs untouched
        if pretrained is None:
            ae, ae_histories = pretrain_stacked_autoencoders(
                _rows_per_model(Xt, keep, "AE pre-training"), arch, ae_schedule, seeds, output_sigmoid)
        else:
            if len(pretrained) != k:
                raise ValueError(f"need {k} pretrained state dicts, got {len(pretrained)}")
            aes = [_single_autoencoder(arch, output_sigmoid, s, st) for s, st in zip(seeds, pretrained,
                                                                                     strict=True)]
            ae, ae_histories = stack_autoencoders(aes, dev), None
        encoder = ae.encoder
        centers = stacked_centers(encoder, Xt, torch.ones_like(keep) if center_includes_labeled else keep)
        if objective == "one-class":  # Deep SVDD learns from the non-anomalous rows only
            X_fit, y_fit = _rows_per_model(Xt, keep, "one-class training"), None
        else:
            X_fit, y_fit = Xt, yt
        loss = stacked_hypersphere_loss(encoder, centers, objective, eta, eps)
        histories = train_stacked(encoder, X_fit, y_fit, loss, schedule, seeds)
        encoders = _to_flat_encoders(encoder)
    return StackedDeepSADResult(encoders, centers, encoder, histories, ae_histories, objective)
