"""Many App. D MLP trainings of one tabular dataset as one batched model: the CPU speed path of the ODDS grid.

Paper: Ruff et al., "Deep Semi-Supervised Anomaly Detection", ICLR 2020. Deep SAD minimises Eq. (7),
(1/n) sum_unlabeled ||phi(x; W) - c||^2 + (eta/n) sum_labeled (||phi(x~; W) - c||^2)^(y~), plus weight decay,
over mini-batches; Deep SVDD is its unsupervised special case, Eq. (3) (one-class) or the soft-boundary
objective of Ruff et al. (2018); both score by the distance to c, Eq. (4); phi starts from the encoder of an
autoencoder pre-trained on the reconstruction error (App. C). The App. D networks of the classic AD
benchmarks are tiny bias-free MLPs (32-16-8 units; 128-64-32 on arrhythmia), so a training step costs far
less arithmetic than per-operation overhead (Python, autograd, the optimiser's loop over parameters). This
module trains K such models at once: each weight is one (K, out, in) tensor multiplied with ``torch.bmm``,
every step takes one (K, B, F) batch, so the overhead of a step is paid once for K models.

Equivalence with the one-model path (:func:`~semiad.core.detectors.autoencoder.train_autoencoder`,
:class:`~semiad.core.detectors.deep_sad.DeepSAD`, :class:`~semiad.core.detectors.deep_sad.DeepSVDD`), model
by model:

* initial weights: model k's single network is built and initialised under ``local_seed(seed_k)`` exactly
  as the one-model path builds it (the AE: ``build_autoencoder`` + ``init_weights_``; phi: the given
  pre-trained AE's encoder, or ``build_encoder`` + ``init_weights_``), then the K networks are stacked;
* mini-batch order: model k draws one ``torch.randperm`` per epoch from its own CPU generator seeded with
  ``seed_k`` (as :func:`~semiad.core.detectors.training.train_minibatch` does: the one-model path uses
  no other random numbers while training), takes contiguous batches of that permutation, skips batches of
  fewer than 2 rows and, with ``drop_last``, an incomplete last batch;
* arithmetic: a batch of ``torch.bmm`` computes every (B, in) x (in, out) slice with the same kernel as
  ``F.linear`` on CPU; BatchNorm (eps 1e-4, no affine, momentum 0.1) runs ``F.batch_norm`` on the K models'
  channels side by side, a per-channel computation; the per-model losses are the single model's loss
  expressions with the same Python scalars, and their *sum* is minimised, so model k receives exactly its
  solo gradient (the models share no weight or BatchNorm channel); Adam (coupled weight decay included) and
  the step LR schedule are element-wise, so one Adam over the stacked tensors is K independent Adams.

On CPU with one thread the K trained models therefore equal the K one-model runs to the bit (weights,
BatchNorm statistics, centers, loss histories, scores; ``tests/deep_sad/test_batched_tabular.py``
checks this on thyroid, with a 1e-5 tolerance because a CPU's BLAS can block a batched product differently:
on an AMD EPYC the weights differ in the last bit, 3e-8). Soft-boundary Deep SVDD can carry such a bit
further: its hinge's gradient jumps for rows at the radius (4e-4 in the weights after 4 epochs of the
paper-text protocol there, the same AUC).
On CUDA other kernels run, so agreement is up to float round-off.

Constraints: the K models of one batched run share the architecture, the schedule and the number of training
rows n (every step takes a batch from each model). :func:`fit_hyperspheres_batched` groups the models by n
itself (Deep SVDD drops the labeled anomalies, Deep SAD keeps them); :func:`train_autoencoders_batched`
requires equal n. In the ODDS grid the seeds of one dataset have equal split sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from semiad.core.detectors.base import KNOWN_ANOMALY
from semiad.core.detectors.deep_sad import (
    CENTER_EPS,
    DEEP_SAD_EPS,
    center_from_codes,
    deep_sad_terms,
    squared_distance,
)
from semiad.core.detectors.networks import (
    LEAKY_SLOPE,
    MLPAutoencoder,
    MLPEncoder,
    build_autoencoder,
    build_encoder,
)
from semiad.core.detectors.protocol import Init, init_weights_
from semiad.core.detectors.training import TrainSchedule
from semiad.core.seeding import local_seed, torch_generator

#: Deep SAD Eq. (7), Deep SVDD Eq. (3) (one-class) and the soft-boundary Deep SVDD objective.
OBJECTIVES = ("deep-sad", "one-class", "soft-boundary")
#: Rows per model in one evaluation forward: the chunk size of ``training.predict_batched``, so that every
#: evaluation matrix product has the shape the one-model path uses.
EVAL_CHUNK = 512

#: ``loss_fn(xb, eb)``: per-model *mean* losses (K,) of a (K, B, F) batch (and its (K, B) labels or None).
BatchedLoss = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


# ------------------------------------------------------------------------------------------ stacked MLP
def _layers(module: nn.Module) -> list[nn.Module]:
    """The leaf layers of an App. D MLP (encoder, decoder or autoencoder) in forward order."""
    leaves = [m for m in module.modules() if not list(m.children())]
    for m in leaves:
        if isinstance(m, nn.Linear) and m.bias is not None:
            raise ValueError("the App. D MLPs have no bias terms (App. C); got a Linear layer with a bias")
        if isinstance(m, nn.BatchNorm1d) and (m.affine or not m.track_running_stats or m.momentum is None):
            raise ValueError("expected BatchNorm1d(affine=False) with running statistics and a momentum")
        if not isinstance(m, (nn.Linear, nn.BatchNorm1d, nn.LeakyReLU, nn.Sigmoid)):
            raise ValueError(f"cannot stack a {type(m).__name__} layer (App. D MLPs only)")
    return leaves


class StackedMLP(nn.Module):
    """K bias-free App. D MLPs with equal layer sizes, applied to (K, B, F) batches.

    Built from K single networks (:class:`~semiad.core.detectors.networks.MLPEncoder`, ``MLPDecoder`` or
    ``MLPAutoencoder``); weight i is one (K, out, in) parameter, BatchNorm layer j keeps (K, C) running
    statistics. :meth:`write_back` copies model k's weights and statistics into a single network.
    """

    def __init__(self, networks: Sequence[nn.Module], device: str | torch.device = "cpu"):
        super().__init__()
        if not networks:
            raise ValueError("need at least one network to stack")
        per_model = [_layers(net) for net in networks]
        template = per_model[0]
        for layers in per_model[1:]:
            if [_signature(m) for m in layers] != [_signature(m) for m in template]:
                raise ValueError("stacked networks must have the same architecture")
        self.k = len(networks)
        self.plan: list[tuple[str, int | float]] = []
        stacked_weights: list[torch.Tensor] = []
        n_bn = 0
        with torch.no_grad():
            for i, layer in enumerate(template):
                column = [layers[i] for layers in per_model]
                if isinstance(layer, nn.Linear):
                    self.plan.append(("linear", len(stacked_weights)))
                    stacked_weights.append(torch.stack([m.weight.detach() for m in column]).to(device))
                elif isinstance(layer, nn.BatchNorm1d):
                    self.plan.append(("bn", n_bn))
                    for stat in ("running_mean", "running_var", "num_batches_tracked"):
                        self.register_buffer(f"{stat}_{n_bn}",
                                             torch.stack([getattr(m, stat) for m in column]).to(device))
                    n_bn += 1
                elif isinstance(layer, nn.LeakyReLU):
                    self.plan.append(("leaky", float(layer.negative_slope)))
                else:
                    self.plan.append(("sigmoid", 0))
            # every weight of the K models lives in one flat vector (the optimiser updates it in one pass);
            # the (K, out, in) parameters and their gradients are views into it
            self.flat = torch.cat([w.reshape(-1) for w in stacked_weights])
            self.flat_grad = torch.zeros_like(self.flat)
            self.weights = nn.ParameterList()
            offset = 0
            for w in stacked_weights:
                size = w.numel()
                param = nn.Parameter(self.flat[offset:offset + size].view(w.shape))
                param.grad = self.flat_grad[offset:offset + size].view(w.shape)
                self.weights.append(param)
                offset += size
        self.bn_eps = [float(m.eps) for m in template if isinstance(m, nn.BatchNorm1d)]
        self.bn_momentum = [float(m.momentum) for m in template if isinstance(m, nn.BatchNorm1d)]

    def _batch_norm(self, x: torch.Tensor, j: int) -> torch.Tensor:
        """BatchNorm1d of every model on (K, B, C): the K*C channels laid side by side as one (B, K*C) input,
        so each channel is normalised over its own model's B rows by the one-model kernel."""
        k, b, c = x.shape
        mean, var = getattr(self, f"running_mean_{j}"), getattr(self, f"running_var_{j}")
        if self.training:
            getattr(self, f"num_batches_tracked_{j}").add_(1)
        flat = x.transpose(0, 1).reshape(b, k * c)
        out = F.batch_norm(flat, mean.view(-1), var.view(-1), None, None, self.training,
                           self.bn_momentum[j], self.bn_eps[j])
        return out.view(b, k, c).transpose(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(K, B, F) -> (K, B, out): model k applied to slice k."""
        for op, arg in self.plan:
            if op == "linear":
                x = torch.bmm(x, self.weights[int(arg)].transpose(1, 2))
            elif op == "bn":
                x = self._batch_norm(x, int(arg))
            elif op == "leaky":
                x = F.leaky_relu(x, float(arg))
            else:
                x = torch.sigmoid(x)
        return x

    @torch.no_grad()
    def write_back(self, networks: Sequence[nn.Module]) -> None:
        """Copy model k's weights and BatchNorm statistics into ``networks[k]`` (same architecture)."""
        if len(networks) != self.k:
            raise ValueError(f"need {self.k} networks, got {len(networks)}")
        for k, net in enumerate(networks):
            n_lin = n_bn = 0
            for layer in _layers(net):
                if isinstance(layer, nn.Linear):
                    layer.weight.copy_(self.weights[n_lin][k])
                    n_lin += 1
                elif isinstance(layer, nn.BatchNorm1d):
                    layer.running_mean.copy_(getattr(self, f"running_mean_{n_bn}")[k])
                    layer.running_var.copy_(getattr(self, f"running_var_{n_bn}")[k])
                    layer.num_batches_tracked.copy_(getattr(self, f"num_batches_tracked_{n_bn}")[k])
                    n_bn += 1

    @torch.no_grad()
    def evaluate(self, X: torch.Tensor) -> torch.Tensor:
        """(K, n, F) -> (K, n, out) in evaluation mode, in chunks of :data:`EVAL_CHUNK` rows per model."""
        was_training = self.training
        self.eval()
        out = torch.cat([self(X[:, i:i + EVAL_CHUNK]) for i in range(0, X.shape[1], EVAL_CHUNK)], dim=1)
        self.train(was_training)
        return out


def _signature(m: nn.Module) -> tuple:
    if isinstance(m, nn.Linear):
        return ("linear", tuple(m.weight.shape))
    if isinstance(m, nn.BatchNorm1d):
        return ("bn", m.num_features, m.eps, m.momentum)
    if isinstance(m, nn.LeakyReLU):
        return ("leaky", m.negative_slope)
    return (type(m).__name__,)


# ------------------------------------------------------------------------------------------ training loop
@dataclass
class BatchedHistory:
    """Per-model epoch losses and failures of one batched training.

    ``errors[k]`` is ``None``, or the message the one-model loop raises as ``FloatingPointError`` when model
    k's epoch loss became NaN/inf; ``histories[k]`` then stops before that epoch, as the one-model run does.
    """

    histories: list[list[float]]
    errors: list[str | None]


def _nonfinite_message(value: float, epoch: int, n_epochs: int) -> str:
    """The one-model loop's message (``training.train_minibatch``)."""
    return (f"training loss became {value} in epoch {epoch + 1}/{n_epochs}; "
            "lower the learning rate or check the input scaling")


class FlatAdam:
    """``torch.optim.Adam`` (App. E: default betas and eps, coupled L2 weight decay) on one flat parameter
    vector, with the element-wise arithmetic of its single-tensor CPU path (``_single_tensor_adam``) op for
    op, so that every element is updated exactly as a one-model Adam updates it; the learning rate follows
    ``MultiStepLR`` (x ``gamma`` at each milestone, applied by :meth:`epoch_end`). One pass over all K
    models' weights replaces a per-tensor loop: the App. D MLPs' steps are bound by such overhead."""

    def __init__(self, param: torch.Tensor, grad: torch.Tensor, schedule: TrainSchedule,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.param, self.grad = param, grad
        self.lr, self.weight_decay = schedule.lr, schedule.weight_decay
        self.milestones = {m: list(schedule.lr_milestones).count(m) for m in schedule.lr_milestones}
        self.gamma = schedule.lr_decay
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.exp_avg = torch.zeros_like(param)
        self.exp_avg_sq = torch.zeros_like(param)
        self.steps = 0
        self.epoch = 0

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        step = float(self.steps)  # Adam keeps the step count as a float32 tensor and reads it with .item()
        grad = self.grad.add(self.param, alpha=self.weight_decay) if self.weight_decay != 0 else self.grad
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        bias_correction1 = 1 - self.beta1 ** step
        bias_correction2 = 1 - self.beta2 ** step
        step_size = self.lr / bias_correction1
        denom = (self.exp_avg_sq.sqrt() / bias_correction2 ** 0.5).add_(self.eps)
        self.param.addcdiv_(self.exp_avg, denom, value=-step_size)

    def epoch_end(self) -> None:
        """``MultiStepLR.step()``: lr x gamma^(times this epoch count is a milestone)."""
        self.epoch += 1
        if self.epoch in self.milestones:
            self.lr = self.lr * self.gamma ** self.milestones[self.epoch]


def train_batched(model: StackedMLP, X: torch.Tensor, labels: torch.Tensor | None, loss_fn: BatchedLoss,
                  schedule: TrainSchedule, seeds: Sequence[int]) -> BatchedHistory:
    """:func:`~semiad.core.detectors.training.train_minibatch` for K models trained as one; per-model epoch
    losses.

    ``X``: (K, n, F), model k's training rows in slice k; ``labels``: optional (K, n) semi-labels batched
    alongside; ``loss_fn(xb, yb)`` maps a (K, B, F) batch to the (K,) per-model mean losses, whose sum is
    minimised by one Adam (App. E: lr, step decay at the milestones, coupled weight decay; :class:`FlatAdam`).
    Model k's batches follow a generator seeded with ``seeds[k]``. A model whose epoch loss is NaN/inf is
    reported in ``errors`` (the one-model loop would raise) and keeps being stepped: it shares nothing with
    the others.
    """
    k, n = X.shape[0], X.shape[1]
    if len(seeds) != k or model.k != k:
        raise ValueError(f"need one seed and one stacked model per slice: {k} slices, {len(seeds)} seeds, "
                         f"{model.k} models")
    if labels is not None and tuple(labels.shape) != (k, n):
        raise ValueError(f"labels must have shape ({k}, {n}), got {tuple(labels.shape)}")
    optimizer = FlatAdam(model.flat, model.flat_grad, schedule)
    gens = [torch_generator(s, "cpu") for s in seeds]
    rows = torch.arange(k, device=X.device)[:, None]
    result = BatchedHistory([[] for _ in range(k)], [None] * k)
    model.train()
    for epoch in range(schedule.n_epochs):
        perm = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(X.device)
        X_epoch = X[rows, perm]
        y_epoch = None if labels is None else labels[rows, perm]
        total, count = torch.zeros(k, device=X.device), 0
        for start, stop in schedule.batch_bounds(n):
            losses = loss_fn(X_epoch[:, start:stop], None if y_epoch is None else y_epoch[:, start:stop])
            model.flat_grad.zero_()
            losses.sum().backward()
            optimizer.step()
            total += losses.detach() * (stop - start)
            count += stop - start
        optimizer.epoch_end()
        for m, value in enumerate(t / max(count, 1) for t in total.cpu().tolist()):
            if result.errors[m] is not None:
                continue
            if math.isfinite(value):
                result.histories[m].append(value)
            else:
                result.errors[m] = _nonfinite_message(value, epoch, schedule.n_epochs)
    model.eval()
    return result


def _as_batch(data, dtype: torch.dtype, device: torch.device, what: str) -> torch.Tensor:
    """A (K, n, ...) tensor from a tensor/array or from K equally long arrays."""
    if isinstance(data, (torch.Tensor, np.ndarray)):
        return torch.as_tensor(data, dtype=dtype, device=device)
    sizes = {len(d) for d in data}
    if len(sizes) > 1:
        raise ValueError(f"a batched run needs the same number of rows for every model; {what} has "
                         f"{[len(d) for d in data]} rows")
    return torch.stack([torch.as_tensor(np.asarray(d), dtype=dtype, device=device) for d in data])


# ------------------------------------------------------------------------------------------ autoencoders
@dataclass
class BatchedAutoencoders:
    """K pre-trained autoencoders (App. C): ``autoencoders[k]`` equals ``train_autoencoder(X[k], ...,
    seed=seeds[k])``'s network (evaluation mode), ``histories[k]`` its epoch losses, ``errors[k]`` its
    failure (see :class:`BatchedHistory`)."""

    autoencoders: list[MLPAutoencoder]
    histories: list[list[float]]
    errors: list[str | None]

    def state_dicts(self) -> list[dict[str, torch.Tensor]]:
        """CPU state dicts: what the ODDS grid caches and ``DeepSAD(pretrained_autoencoder=...)`` loads."""
        return [{key: v.detach().cpu() for key, v in ae.state_dict().items()} for ae in self.autoencoders]


def train_autoencoders_batched(X, hidden_dims: Sequence[int], rep_dim: int, schedule: TrainSchedule,
                               seeds: Sequence[int], output_sigmoid: bool = False, init: Init = "glorot",
                               leaky_slope: float = LEAKY_SLOPE,
                               device: str | torch.device = "cpu") -> BatchedAutoencoders:
    """App. C pre-training of K MLP autoencoders at once on the mean squared reconstruction error.

    ``X``: (K, m, F) (or K arrays of m rows): model k's pre-training rows (the grid passes the training rows
    that are not labeled anomalies); model k is built and initialised (``init``: App. E's Glorot or PyTorch's
    default) under ``local_seed(seeds[k])`` as :func:`~semiad.core.detectors.autoencoder.train_autoencoder`
    does.
    """
    dev = torch.device(device)
    seeds = [int(s) for s in seeds]
    Xt = _as_batch(X, torch.float32, dev, "X")
    if Xt.dim() != 3 or Xt.shape[0] != len(seeds):
        raise ValueError(f"need X of shape (K={len(seeds)}, m, F), got {tuple(Xt.shape)}")
    singles = []
    for seed in seeds:
        with local_seed(seed):
            ae = build_autoencoder(Xt.shape[2], hidden_dims, rep_dim, output_sigmoid, None, leaky_slope)
            singles.append(init_weights_(ae, init))
    stacked = StackedMLP(singles, dev)

    def loss(xb: torch.Tensor, _yb: torch.Tensor | None) -> torch.Tensor:
        return torch.mean((stacked(xb) - xb) ** 2, dim=(1, 2))

    history = train_batched(stacked, Xt, None, loss, schedule, seeds)
    stacked.write_back(singles)
    aes = [ae.to(dev).eval() for ae in singles]
    return BatchedAutoencoders(aes, history.histories, history.errors)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ hyperspheres
@dataclass(frozen=True)
class HypersphereSpec:
    """One Deep SAD / Deep SVDD model of a batched run: its seed (weight init and batch order) and objective.

    ``objective``: ``"deep-sad"`` (Eq. 7 with weight ``eta`` on the labeled terms; labeled anomalies are
    trained on), ``"one-class"`` (Eq. 3) or ``"soft-boundary"`` (radius R the (1 - ``nu``)-quantile of the
    batch distances); both Deep SVDD objectives, like :class:`~semiad.core.detectors.deep_sad.DeepSVDD`,
    learn from
    the rows that are not labeled anomalies.
    """

    seed: int
    objective: str = "deep-sad"
    eta: float = 1.0
    nu: float = 0.1

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.eta <= 0:
            raise ValueError(f"eta must be > 0, got {self.eta}")
        if not 0 < self.nu <= 1:
            raise ValueError(f"nu must be in (0, 1], got {self.nu}")

    @property
    def uses_labeled_anomalies(self) -> bool:
        return self.objective == "deep-sad"


@dataclass
class _Group:
    """Models of one batched run (equal n): their indices into the specs and their stacked phi."""

    members: list[int]
    encoder: StackedMLP


@dataclass
class BatchedHyperspheres:
    """K trained Deep SAD / Deep SVDD models.

    ``encoders[k]``: model k's phi as a single :class:`~semiad.core.detectors.networks.MLPEncoder` (eval
    mode);
    ``centers``: (K, d) centers c; ``radii``: (K,) soft-boundary radii R (0 for the other objectives);
    ``histories`` / ``errors``: see :class:`BatchedHistory`. :meth:`score` gives Eq. (4) for every model.
    """

    specs: list[HypersphereSpec]
    encoders: list[MLPEncoder]
    centers: torch.Tensor
    radii: torch.Tensor
    histories: list[list[float]]
    errors: list[str | None]
    groups: list[_Group] = field(repr=False)

    @torch.no_grad()
    def score(self, X_test) -> list[np.ndarray]:
        """Model k's anomaly scores of ``X_test[k]`` (or of one shared (n, F) array), as its
        ``decision_function`` returns them: Eq. (4) ||phi(x) - c|| as float32, minus R for the soft boundary,
        then float64."""
        k_all = len(self.specs)
        if isinstance(X_test, (np.ndarray, torch.Tensor)) and np.ndim(X_test) == 2:
            X_test = [X_test] * k_all
        if len(X_test) != k_all:
            raise ValueError(f"need {k_all} test sets, got {len(X_test)}")
        out: list[np.ndarray | None] = [None] * k_all
        dev = self.centers.device
        for group in self.groups:
            Xg = _as_batch([np.asarray(X_test[m], np.float32) for m in group.members], torch.float32, dev,
                           "X_test")
            z = group.encoder.evaluate(Xg)
            idx = torch.as_tensor(group.members, device=dev)
            dist = torch.sqrt(torch.sum((z - self.centers[idx][:, None, :]) ** 2, dim=2)).cpu().numpy()
            for row, m in enumerate(group.members):
                scores = dist[row]
                if self.specs[m].objective == "soft-boundary":
                    scores = scores - float(self.radii[m])
                out[m] = np.asarray(scores, dtype=np.float64)
        return out  # type: ignore[return-value]


def _initial_encoder(n_features: int, hidden_dims: Sequence[int], rep_dim: int, seed: int,
                     pretrained: dict | None, output_sigmoid: bool, init: Init,
                     leaky_slope: float) -> MLPEncoder:
    """Model k's phi before training, built as ``DeepSAD._initial_encoder`` builds it."""
    with local_seed(seed):
        if pretrained is not None:
            ae = build_autoencoder(n_features, hidden_dims, rep_dim, output_sigmoid, None, leaky_slope)
            ae.load_state_dict(pretrained)
            return ae.encoder  # type: ignore[return-value]
        net = build_encoder(n_features, hidden_dims, rep_dim, None, leaky_slope)
        return init_weights_(net, init)  # type: ignore[return-value]


@torch.no_grad()
def _centers(encoder: StackedMLP, X: torch.Tensor, keep: torch.Tensor,
             eps: float = CENTER_EPS) -> torch.Tensor:
    """(K, d): ``deep_sad.init_center`` of every model: the mean initial code of its ``keep`` rows (App. C),
    coordinates closer to 0 than ``eps`` pushed to +-eps. The codes are computed from the kept rows in
    chunks of 512, as the one-model path does (when the models keep different numbers of rows, from all
    rows: an evaluation forward is row-wise, so only a BLAS that blocks rows differently could tell)."""
    counts = keep.sum(dim=1)
    if bool((counts == 0).any()):
        raise ValueError("cannot initialise the center: every training sample is a labeled anomaly")
    if bool((counts == counts[0]).all()):
        codes = encoder.evaluate(torch.stack([X[k][keep[k]] for k in range(X.shape[0])]))
        kept = [codes[k] for k in range(X.shape[0])]
    else:
        codes = encoder.evaluate(X)
        kept = [codes[k][keep[k]] for k in range(X.shape[0])]
    return torch.stack([center_from_codes(z, eps) for z in kept])


def hypersphere_losses(encoder: StackedMLP, centers: torch.Tensor, specs: Sequence[HypersphereSpec],
                       eps: float = DEEP_SAD_EPS) -> BatchedLoss:
    """Per-model mean losses of a (K, B, F) batch: Eq. (7) (Deep SAD, the mini-batch estimate of
    ``deep_sad.deep_sad_loss``: unlabeled rows ||phi(x) - c||^2, labeled ones eta (||phi(x) - c||^2 + eps)^y),
    Eq. (3) (one-class Deep SVDD) or R^2 + mean(max(0, ||phi(x) - c||^2 - R^2)) / nu with R the batch's
    (1 - nu)-quantile distance (soft boundary, no gradient through R). Models with the same objective and
    parameters are computed together, with the same Python scalars as the one-model path."""
    kinds: dict[tuple[str, float, float], list[int]] = {}
    for k, spec in enumerate(specs):
        kinds.setdefault((spec.objective, float(spec.eta), float(spec.nu)), []).append(k)
    index = {key: torch.as_tensor(members, device=centers.device) for key, members in kinds.items()}
    single_kind = len(kinds) == 1

    def loss(xb: torch.Tensor, yb: torch.Tensor | None) -> torch.Tensor:
        dist_all = squared_distance(encoder(xb), centers[:, None, :])
        parts = []
        for (objective, eta, nu), idx in index.items():
            dist = dist_all if single_kind else dist_all.index_select(0, idx)
            if objective == "deep-sad":
                y = yb if single_kind else yb.index_select(0, idx)  # type: ignore[union-attr]
                parts.append(deep_sad_terms(dist, y, eta, eps).mean(dim=1))
            elif objective == "one-class":
                parts.append(dist.mean(dim=1))
            else:
                radius = torch.quantile(dist.detach().sqrt(), 1 - nu, dim=1, keepdim=True)
                parts.append(radius[:, 0] ** 2 + torch.relu(dist - radius ** 2).mean(dim=1) / nu)
        if single_kind:
            return parts[0]
        out = torch.empty(len(specs), dtype=dist_all.dtype, device=dist_all.device)
        return out.index_put((torch.cat(list(index.values())),), torch.cat(parts))

    return loss


def fit_hyperspheres_batched(X, y_semi, specs: Sequence[HypersphereSpec], hidden_dims: Sequence[int],
                             rep_dim: int, schedule: TrainSchedule, *,
                             pretrained: Sequence[dict] | None = None, init: Init = "glorot",
                             leaky_slope: float = LEAKY_SLOPE, output_sigmoid: bool = False,
                             center_includes_labeled: bool = False, eps: float = DEEP_SAD_EPS,
                             device: str | torch.device = "cpu") -> BatchedHyperspheres:
    """Fit K Deep SAD / Deep SVDD models at once; model k equals the one-model fit

    ``DeepSAD(eta=..., random_state=seed)`` / ``DeepSVDD(objective=..., nu=..., random_state=seed)`` with
    ``pretrained_autoencoder=pretrained[k]`` (or ``pretrain=False`` when ``pretrained`` is None: phi from
    fresh ``init`` weights), ``hidden_dims``, ``rep_dim``, ``schedule``'s settings, ``leaky_slope``,
    ``output_sigmoid`` and ``center_includes_labeled``, fitted on ``(X[k], y_semi[k])``.

    ``X``: K arrays (n_k, F) (or a (K, n, F) array); ``y_semi``: their semi-labels (0 unlabeled, -1 labeled
    anomaly, +1 labeled normal). Deep SVDD models drop their labeled anomalies (as ``DeepSVDD.fit``), and the
    models are trained in one batched run per number of training rows. Center c (App. C): mean code of the
    initial phi over the rows that are not labeled anomalies (or over all rows); ``eps``: Eq. (7)'s guard.
    """
    specs = list(specs)
    k_all = len(specs)
    dev = torch.device(device)
    X = list(X) if not isinstance(X, (np.ndarray, torch.Tensor)) else [X[k] for k in range(len(X))]
    y_semi = list(y_semi) if not isinstance(y_semi, (np.ndarray, torch.Tensor)) \
        else [y_semi[k] for k in range(len(y_semi))]
    if len(X) != k_all or len(y_semi) != k_all:
        raise ValueError(f"need {k_all} training sets and semi-label vectors, got {len(X)} and {len(y_semi)}")
    if pretrained is not None and len(pretrained) != k_all:
        raise ValueError(f"need {k_all} pre-trained state dicts, got {len(pretrained)}")
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for spec, Xk, yk in zip(specs, X, y_semi, strict=True):
        Xk, yk = np.asarray(Xk, np.float32), np.asarray(yk, np.int64)
        if not spec.uses_labeled_anomalies:  # BaseDetector.fit of an unsupervised method
            keep = yk != KNOWN_ANOMALY
            Xk, yk = Xk[keep], yk[keep]
        rows.append((Xk, yk))
    by_size: dict[tuple[int, int], list[int]] = {}
    for k, (Xk, _) in enumerate(rows):
        by_size.setdefault(Xk.shape, []).append(k)
    encoders: list[MLPEncoder | None] = [None] * k_all
    centers: list[torch.Tensor | None] = [None] * k_all
    radii = torch.zeros(k_all, device=dev)
    histories: list[list[float]] = [[] for _ in range(k_all)]
    errors: list[str | None] = [None] * k_all
    groups = []
    for members in by_size.values():
        Xg = _as_batch([rows[m][0] for m in members], torch.float32, dev, "X")
        yg = _as_batch([rows[m][1] for m in members], torch.int64, dev, "y_semi")
        singles = [_initial_encoder(Xg.shape[2], hidden_dims, rep_dim, specs[m].seed,
                                    None if pretrained is None else pretrained[m], output_sigmoid, init,
                                    leaky_slope) for m in members]
        stacked = StackedMLP(singles, dev)
        keep = torch.ones_like(yg, dtype=torch.bool) if center_includes_labeled else yg != KNOWN_ANOMALY
        c = _centers(stacked, Xg, keep)
        group_specs = [specs[m] for m in members]
        labels = yg if any(s.uses_labeled_anomalies for s in group_specs) else None
        history = train_batched(stacked, Xg, labels, hypersphere_losses(stacked, c, group_specs, eps),
                                schedule, [s.seed for s in group_specs])
        soft = [row for row, s in enumerate(group_specs) if s.objective == "soft-boundary"]
        if soft:  # final R from all training rows, as DeepSVDD does after training
            dist = torch.sum((stacked.evaluate(Xg) - c[:, None, :]) ** 2, dim=2)
            for row in soft:
                radii[members[row]] = torch.quantile(dist[row].sqrt(), 1 - group_specs[row].nu)
        stacked.write_back(singles)
        for row, m in enumerate(members):
            encoders[m] = singles[row].to(dev).eval()
            centers[m] = c[row]
            histories[m], errors[m] = history.histories[row], history.errors[row]
        groups.append(_Group(members, stacked))
    return BatchedHyperspheres(specs, encoders, torch.stack(centers), radii,  # type: ignore[arg-type]
                               histories, errors, groups)
