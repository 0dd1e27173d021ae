"""LeNet-type CNN encoders/decoders of Deep SAD App. D, and K-model stacked copies for batched training.

Paper (Ruff et al., ICLR 2020), App. D: "each convolutional module consists of a convolutional layer
followed by leaky ReLU activations with leakiness alpha = 0.1 and (2x2)-max-pooling. On MNIST, ... two
modules, 8x(5x5)-filters followed by 4x(5x5)-filters, and a final dense layer of 32 units. On
Fashion-MNIST, ... 16x(5x5)-filters and 32x(5x5)-filters, followed by two dense layers of 64 and 32 units
respectively. On CIFAR-10, ... 32x(5x5)-filters, 64x(5x5)-filters, and 128x(5x5)-filters, followed by a
final dense layer of 128 units." Decoders are "constructed symmetrically, where we replace max-pooling
with simple upsampling and convolutions with deconvolutions" (App. D, App. E "(C)AE").

Decisions (paper first, the authors' code where the paper is silent):

* Batch normalisation (App. E) after every convolution / hidden dense layer, before the activation,
  with ``eps=1e-4`` and ``affine=False`` as in the authors' nets: an affine BN would add a learnable
  shift, i.e. a bias term.
* **No bias terms** in any convolution, deconvolution or dense layer: App. C ("network phi must have no
  bias terms and no bounded activation functions") to prevent a hypersphere collapse, and App. E
  ("For Deep SVDD, we always remove all the bias terms"). The decoders are bias-free as well (as in the
  authors' code), so an autoencoder's encoder is directly a valid phi. The only bounded activation is
  the decoders' output sigmoid (inputs are in [0, 1], Sec. 4.2), which phi never contains.
* 5x5 (de)convolutions with padding 2 ("same"); leaky ReLU slope 0.1 (the paper's value; the authors'
  code uses PyTorch's default 0.01).
* F-MNIST dense layers 64 then 32 (the paper; the authors' code has 128 then 64).
* Decoders follow the authors' construction: the representation (MNIST, CIFAR-10) or the mirrored
  dense layer's output (F-MNIST: 32 -> 64) is reshaped to ``(d/16, 4, 4)`` maps, then leaky ReLU and
  alternating nearest-neighbour x2 upsampling / 5x5 deconvolution (+BN +leaky ReLU) back to the input
  size, and a final sigmoid. For 28x28 inputs the second deconvolution uses padding 3 (16 -> 14).
  ``rep_dim`` (Fig. 6 varies d in 2^4..2^9) must therefore be a multiple of 16 for MNIST/CIFAR-10.
* Initialisation: PyTorch defaults; :func:`glorot_uniform_` gives App. E's "uniform Glorot weights"
  (autoencoder, SS-DGM, supervised classifier).

Stacked copies (the speed path of issue #4): :class:`StackedLeNet` holds K independent networks of the
same architecture as *one* module. Convolutions become grouped convolutions (``groups=K``) over a
``(B, K*C, H, W)`` tensor, dense layers batched matrix products over ``(K, B, F)``, BatchNorm one
``BatchNorm(K*C)`` whose per-channel statistics are exactly the per-model statistics. The K models
never mix: the loss of a stacked forward is a sum of per-model losses, so each model's gradient (and
Adam's element-wise update, weight decay included) is that of training it alone. Inputs are
``(K, B, C, H, W)`` (model k sees its own batch) or ``(B, C, H, W)`` (all models see the same batch,
e.g. the test set); outputs ``(K, B, d)`` or ``(K, B, C, H, W)``. :func:`stack_modules` /
:func:`unstack_module` convert between K single models and one stacked model (weights and BN running
statistics), so results can be checked against, or exported to, the plain modules.
Speed note: the grouped path is for GPUs (one kernel per layer instead of K). On CPU PyTorch's grouped
(transposed) convolutions are slow, so :data:`STACKED_CONV_MODE` ``"auto"`` evaluates the K slices one
by one there; even so, a stacked CPU step measured ~1.3x *slower* than looping over K plain modules (MNIST
AE, K=10, batch 200, one thread: 1.24 s vs 0.95 s per forward+backward), because of the layout copies and
the K*C-channel BatchNorm. On CPU, loop over plain modules with device-resident tensors instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

#: Authors' BatchNorm eps (App. E applies BN; eps/affine from their code, see module docstring).
BN_EPS = 1e-4
#: App. D: "leaky ReLU activations with leakiness alpha = 0.1".
LEAKY_SLOPE = 0.1
KERNEL = 5
#: Keep conv activations and weights channels-last (NHWC). The math is the same; PyTorch's CPU (oneDNN)
#: kernels for these few-channel convolutions, BatchNorm and pooling are faster in that layout (one
#: forward+backward step at batch 200 on one thread: 1.4-1.6x for the MNIST, F-MNIST and CIFAR-10 encoders
#: and AEs; scoring 1.4-2.3x; ``benchmarks/lenet_layout.py``). A 2-thread loop gained nothing end to end
#: (``benchmarks/deep_sad_grid.py``); the grid runs one thread per worker. ``False``: PyTorch's NCHW.
CHANNELS_LAST = True


def _as_channels_last(x: torch.Tensor) -> torch.Tensor:
    # With one channel (MNIST input, first conv weight) a contiguous tensor is *also* channels-last
    # contiguous, so ``.contiguous(memory_format=...)`` returns it as is and PyTorch keeps picking NCHW
    # kernels; an explicit channels-last copy (stride 1 on C) makes the layout unambiguous.
    if x.stride(1) == 1 and x.is_contiguous(memory_format=torch.channels_last):
        return x
    out = torch.empty_like(x, memory_format=torch.channels_last)
    return out.copy_(x)


def to_layout(x: torch.Tensor) -> torch.Tensor:
    """``x`` in the layout of :data:`CHANNELS_LAST` (4-D image batches only; other tensors unchanged)."""
    return _as_channels_last(x) if CHANNELS_LAST and x.dim() == 4 else x


@contextmanager
def use_channels_last(enabled: bool) -> Iterator[None]:
    """Set :data:`CHANNELS_LAST` inside a ``with`` block (models built and run there use that layout)."""
    global CHANNELS_LAST
    previous, CHANNELS_LAST = CHANNELS_LAST, bool(enabled)
    try:
        yield
    finally:
        CHANNELS_LAST = previous


def _conv_weights_to_layout(module: nn.Module) -> nn.Module:
    if CHANNELS_LAST:
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.data = _as_channels_last(m.weight.data)
    return module


@dataclass(frozen=True)
class LeNetArch:
    """Architecture of one App. D network (encoder) and its symmetric decoder.

    ``decoder_upsample[i]`` / ``decoder_padding[i]``: whether deconvolution i is preceded by x2
    upsampling, and its padding (the authors' decoders; see the module docstring).
    """

    name: str
    in_shape: tuple[int, int, int]
    conv_channels: tuple[int, ...]
    dense: tuple[int, ...]
    rep_dim: int
    decoder_upsample: tuple[bool, ...]
    decoder_padding: tuple[int, ...]

    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """Shape of the last conv module's output (after pooling)."""
        c, h, w = self.in_shape
        for ch in self.conv_channels:
            c, h, w = ch, h // 2, w // 2
        return c, h, w

    @property
    def decoder_seed_channels(self) -> int:
        """Channels of the 4x4 maps the decoder starts from (``d/16``, or the first dense width / 16)."""
        width = self.dense[0] if self.dense else self.rep_dim
        if width % 16:
            raise ValueError(f"{self.name}: the decoder reshapes {width} units into (w/16, 4, 4) maps, "
                             "so it must be a multiple of 16")
        return width // 16

    def with_rep_dim(self, rep_dim: int) -> LeNetArch:
        """The same network with another representation dimension d (Fig. 6)."""
        return replace(self, rep_dim=int(rep_dim))


#: App. D architectures (``rep_dim`` = the final dense layer: 32 / 32 / 128).
LENET_ARCHITECTURES: dict[str, LeNetArch] = {
    "mnist": LeNetArch("mnist", (1, 28, 28), (8, 4), (), 32, (True, True, True), (2, 3, 2)),
    "fashion_mnist": LeNetArch("fashion_mnist", (1, 28, 28), (16, 32), (64,), 32, (True, True, True),
                               (2, 3, 2)),
    "cifar10": LeNetArch("cifar10", (3, 32, 32), (32, 64, 128), (), 128, (False, True, True, True),
                         (2, 2, 2, 2)),
}


def get_arch(arch: str | LeNetArch, rep_dim: int | None = None) -> LeNetArch:
    """An architecture by dataset name (``mnist``, ``fashion_mnist``, ``cifar10``), optionally re-sized."""
    if isinstance(arch, str):
        try:
            arch = LENET_ARCHITECTURES[arch]
        except KeyError:
            raise ValueError(f"unknown LeNet architecture {arch!r}; choose one of "
                             f"{sorted(LENET_ARCHITECTURES)}") from None
    return arch if rep_dim is None else arch.with_rep_dim(rep_dim)


# ------------------------------------------------------------------------------------------ layer plans
# A plan is a list of ops shared by the single and the stacked builders, so both have the same module
# indices (which is what stack_modules / unstack_module rely on).
Op = tuple


def encoder_plan(arch: LeNetArch) -> list[Op]:
    """App. D encoder: [conv -> BN -> lrelu -> maxpool] per module, flatten, [dense -> BN -> lrelu]*, dense.
    """
    c, h, w = arch.in_shape
    ops: list[Op] = []
    for ch in arch.conv_channels:
        ops += [("conv", c, ch, 2), ("bn2d", ch), ("lrelu",), ("pool",)]
        c, h, w = ch, h // 2, w // 2
    ops.append(("flatten", c, h, w))
    width = c * h * w
    for units in arch.dense:
        ops += [("linear", width, units), ("bn1d", units), ("lrelu",)]
        width = units
    ops.append(("linear", width, arch.rep_dim))
    return ops


def decoder_plan(arch: LeNetArch, output_sigmoid: bool = True) -> list[Op]:
    """Symmetric decoder (authors' construction, module docstring): rep -> (dense mirror) -> 4x4 maps ->
    [upsample? -> deconv -> BN -> lrelu]* -> deconv -> sigmoid."""
    ops: list[Op] = []
    width = arch.rep_dim
    mirrored = tuple(reversed(arch.dense))
    for j, units in enumerate(mirrored):
        ops += [("linear", width, units), ("bn1d", units)]
        if j < len(mirrored) - 1:
            ops.append(("lrelu",))
        width = units
    c0 = arch.decoder_seed_channels
    ops += [("unflatten", c0, 4, 4), ("lrelu",)]
    channels = [c0, *reversed(arch.conv_channels), arch.in_shape[0]]
    n_deconv = len(channels) - 1
    if len(arch.decoder_upsample) != n_deconv or len(arch.decoder_padding) != n_deconv:
        raise ValueError(f"{arch.name}: need {n_deconv} decoder upsample/padding entries")
    size = 4
    for i in range(n_deconv):
        if arch.decoder_upsample[i]:
            ops.append(("up",))
            size *= 2
        pad = arch.decoder_padding[i]
        ops.append(("deconv", channels[i], channels[i + 1], pad))
        size = size + KERNEL - 1 - 2 * pad
        if i < n_deconv - 1:
            ops += [("bn2d", channels[i + 1]), ("lrelu",)]
    if size != arch.in_shape[1]:
        raise ValueError(f"{arch.name}: the decoder ends at {size}x{size}, not the input size "
                         f"{arch.in_shape[1:]}")
    if output_sigmoid:
        ops.append(("sigmoid",))
    return ops


def _single_layer(op: Op) -> nn.Module:
    kind = op[0]
    if kind == "conv":
        return nn.Conv2d(op[1], op[2], KERNEL, padding=op[3], bias=False)
    if kind == "deconv":
        return nn.ConvTranspose2d(op[1], op[2], KERNEL, padding=op[3], bias=False)
    if kind == "linear":
        return nn.Linear(op[1], op[2], bias=False)
    if kind == "bn2d":
        return nn.BatchNorm2d(op[1], eps=BN_EPS, affine=False)
    if kind == "bn1d":
        return nn.BatchNorm1d(op[1], eps=BN_EPS, affine=False)
    if kind == "lrelu":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if kind == "pool":
        return nn.MaxPool2d(2, 2)
    if kind == "up":
        return nn.Upsample(scale_factor=2, mode="nearest")
    if kind == "flatten":
        return nn.Flatten(1)
    if kind == "unflatten":
        return ImageUnflatten(1, (op[1], op[2], op[3]))
    if kind == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"unknown op {op!r}")  # pragma: no cover


class ImageUnflatten(nn.Unflatten):
    """``nn.Unflatten`` to image maps, returned in the layout of :data:`CHANNELS_LAST`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return to_layout(super().forward(x))


# ------------------------------------------------------------------------------------------ single models
class LeNetEncoder(nn.Module):
    """phi(x; W) of App. D: ``(B, C, H, W) -> (B, rep_dim)``; bias-free, BN without affine parameters."""

    def __init__(self, arch: str | LeNetArch = "mnist", rep_dim: int | None = None):
        super().__init__()
        self.arch = get_arch(arch, rep_dim)
        self.rep_dim = self.arch.rep_dim
        self.net = _conv_weights_to_layout(
            nn.Sequential(*(_single_layer(op) for op in encoder_plan(self.arch))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(to_layout(x))


class LeNetDecoder(nn.Module):
    """Symmetric decoder: ``(B, rep_dim) -> (B, C, H, W)`` (sigmoid output for [0, 1] pixels)."""

    def __init__(self, arch: str | LeNetArch = "mnist", rep_dim: int | None = None,
                 output_sigmoid: bool = True):
        super().__init__()
        self.arch = get_arch(arch, rep_dim)
        self.net = _conv_weights_to_layout(
            nn.Sequential(*(_single_layer(op) for op in decoder_plan(self.arch, output_sigmoid))))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class LeNetAutoencoder(nn.Module):
    """Convolutional autoencoder (CAE baseline; Deep SVDD/SAD pre-training, App. C): encoder = phi."""

    def __init__(self, arch: str | LeNetArch = "mnist", rep_dim: int | None = None,
                 output_sigmoid: bool = True):
        super().__init__()
        self.arch = get_arch(arch, rep_dim)
        self.encoder = LeNetEncoder(self.arch)
        self.decoder = LeNetDecoder(self.arch, output_sigmoid=output_sigmoid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


# ------------------------------------------------------------------------------------------ stacked layers
#: How :class:`StackedConv2d` evaluates the K models: ``"grouped"`` (one grouped (de)convolution),
#: ``"loop"`` (one call per model on its channel slice) or ``"auto"`` (grouped on CUDA, loop elsewhere:
#: PyTorch's CPU kernels for grouped, and especially grouped transposed, convolutions are slower than
#: K plain calls — measured ~1.3x on MNIST/CIFAR-10 LeNet AEs at batch 200, one thread).
STACKED_CONV_MODE = "auto"


def _use_grouped(x: torch.Tensor) -> bool:
    if STACKED_CONV_MODE not in ("auto", "grouped", "loop"):
        raise ValueError(f"STACKED_CONV_MODE must be 'auto', 'grouped' or 'loop', got {STACKED_CONV_MODE!r}")
    return STACKED_CONV_MODE == "grouped" or (STACKED_CONV_MODE == "auto" and x.is_cuda)


class StackedConv2d(nn.Module):
    """K independent bias-free 5x5 (de)convolutions as one grouped (de)convolution over ``(B, K*C, H, W)``.

    ``weight``: (K, C_out, C_in, k, k) for a convolution, (K, C_in, C_out, k, k) for a deconvolution
    (model k's slice has the shape of the matching ``nn.Conv2d`` / ``nn.ConvTranspose2d`` weight).
    """

    def __init__(self, n_models: int, c_in: int, c_out: int, padding: int, transposed: bool = False):
        super().__init__()
        self.n_models, self.c_in, self.c_out = n_models, c_in, c_out
        self.padding, self.transposed = padding, transposed
        shape = (c_in, c_out) if transposed else (c_out, c_in)
        self.weight = nn.Parameter(torch.empty(n_models, *shape, KERNEL, KERNEL))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for k in range(self.n_models):  # PyTorch's default Conv init, per model
            nn.init.kaiming_uniform_(self.weight.data[k], a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fn = F.conv_transpose2d if self.transposed else F.conv2d
        if _use_grouped(x):
            w = self.weight.reshape(-1, *self.weight.shape[2:])
            return fn(x, w, padding=self.padding, groups=self.n_models)
        chunks = x.chunk(self.n_models, dim=1)
        return torch.cat([fn(to_layout(xk), to_layout(self.weight[k]), padding=self.padding)
                          for k, xk in enumerate(chunks)], dim=1)


class StackedLinear(nn.Module):
    """K independent bias-free dense layers: ``(K, B, F_in) -> (K, B, F_out)``, weight (K, F_out, F_in)."""

    def __init__(self, n_models: int, f_in: int, f_out: int):
        super().__init__()
        self.n_models = n_models
        self.weight = nn.Parameter(torch.empty(n_models, f_out, f_in))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for k in range(self.n_models):
            nn.init.kaiming_uniform_(self.weight.data[k], a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.bmm(x, self.weight.transpose(1, 2))


class StackedBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d(K*C)`` on ``(B, K*C, H, W)``: channel k*C + c is model k's channel c."""

    def __init__(self, n_models: int, channels: int):
        super().__init__(n_models * channels, eps=BN_EPS, affine=False)


class StackedBatchNorm1d(nn.BatchNorm1d):
    """``BatchNorm1d(K*F)`` applied to ``(K, B, F)`` (viewed as ``(B, K*F)``)."""

    def __init__(self, n_models: int, features: int):
        super().__init__(n_models * features, eps=BN_EPS, affine=False)
        self.n_models = n_models

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, b, f = x.shape
        y = super().forward(x.transpose(0, 1).reshape(b, k * f))
        return y.reshape(b, k, f).transpose(0, 1)


class StackedFlatten(nn.Module):
    """``(B, K*C, H, W) -> (K, B, C*H*W)`` (per-model C, H, W order, as ``nn.Flatten``)."""

    def __init__(self, n_models: int):
        super().__init__()
        self.n_models = n_models

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        return x.reshape(b, self.n_models, -1).transpose(0, 1)


class StackedUnflatten(nn.Module):
    """``(K, B, C*H*W) -> (B, K*C, H, W)``."""

    def __init__(self, n_models: int, c: int, h: int, w: int):
        super().__init__()
        self.n_models, self.shape = n_models, (c, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, h, w = self.shape
        return to_layout(x.transpose(0, 1).reshape(x.shape[1], self.n_models * c, h, w))


def _stacked_layer(op: Op, k: int) -> nn.Module:
    kind = op[0]
    if kind == "conv":
        return StackedConv2d(k, op[1], op[2], op[3])
    if kind == "deconv":
        return StackedConv2d(k, op[1], op[2], op[3], transposed=True)
    if kind == "linear":
        return StackedLinear(k, op[1], op[2])
    if kind == "bn2d":
        return StackedBatchNorm2d(k, op[1])
    if kind == "bn1d":
        return StackedBatchNorm1d(k, op[1])
    if kind == "flatten":
        return StackedFlatten(k)
    if kind == "unflatten":
        return StackedUnflatten(k, op[1], op[2], op[3])
    return _single_layer(op)  # lrelu, pool, up, sigmoid act channel-wise in either layout


# ------------------------------------------------------------------------------------------ stacked models
class StackedLeNet(nn.Module):
    """K independent copies of an encoder (``part="encoder"``) or decoder (``part="decoder"``) plan.

    Encoder: input ``(K, B, C, H, W)`` or shared ``(B, C, H, W)`` -> ``(K, B, rep_dim)``.
    Decoder: input ``(K, B, rep_dim)`` -> ``(K, B, C, H, W)``.
    """

    def __init__(self, arch: str | LeNetArch, n_models: int, part: str = "encoder",
                 rep_dim: int | None = None, output_sigmoid: bool = True):
        super().__init__()
        if n_models < 1:
            raise ValueError(f"n_models must be >= 1, got {n_models}")
        if part not in ("encoder", "decoder"):
            raise ValueError(f"part must be 'encoder' or 'decoder', got {part!r}")
        self.arch = get_arch(arch, rep_dim)
        self.n_models, self.part, self.output_sigmoid = n_models, part, output_sigmoid
        self.rep_dim = self.arch.rep_dim
        plan = encoder_plan(self.arch) if part == "encoder" else decoder_plan(self.arch, output_sigmoid)
        self.net = nn.Sequential(*(_stacked_layer(op, n_models) for op in plan))

    def single(self) -> nn.Module:
        """A fresh single (unstacked) module of the same architecture."""
        if self.part == "encoder":
            return LeNetEncoder(self.arch)
        return LeNetDecoder(self.arch, output_sigmoid=self.output_sigmoid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.n_models
        if self.part == "encoder":
            if x.dim() == 4:  # shared batch for every model
                x = x.repeat(1, k, 1, 1)
            elif x.dim() == 5 and x.shape[0] == k:
                x = x.transpose(0, 1).reshape(x.shape[1], k * x.shape[2], *x.shape[3:])
            else:
                raise ValueError(f"expected (K={k}, B, C, H, W) or (B, C, H, W) input, got {tuple(x.shape)}")
            return self.net(to_layout(x))
        if x.dim() != 3 or x.shape[0] != k:
            raise ValueError(f"expected (K={k}, B, rep_dim) input, got {tuple(x.shape)}")
        y = self.net(x)
        b = y.shape[0]
        return y.reshape(b, k, -1, *y.shape[2:]).transpose(0, 1)


class StackedLeNetAutoencoder(nn.Module):
    """K independent :class:`LeNetAutoencoder` s: ``(K, B, C, H, W) -> (K, B, C, H, W)``."""

    def __init__(self, arch: str | LeNetArch, n_models: int, rep_dim: int | None = None,
                 output_sigmoid: bool = True):
        super().__init__()
        self.arch = get_arch(arch, rep_dim)
        self.n_models = n_models
        self.encoder = StackedLeNet(self.arch, n_models, "encoder")
        self.decoder = StackedLeNet(self.arch, n_models, "decoder", output_sigmoid=output_sigmoid)

    def single(self) -> LeNetAutoencoder:
        return LeNetAutoencoder(self.arch, output_sigmoid=self.decoder.output_sigmoid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


# ------------------------------------------------------------------------------------------ conversion
def _stacked_like(model: nn.Module, n_models: int) -> nn.Module:
    if isinstance(model, LeNetEncoder):
        return StackedLeNet(model.arch, n_models, "encoder")
    if isinstance(model, LeNetDecoder):
        sigmoid = isinstance(model.net[-1], nn.Sigmoid)
        return StackedLeNet(model.arch, n_models, "decoder", output_sigmoid=sigmoid)
    if isinstance(model, LeNetAutoencoder):
        sigmoid = isinstance(model.decoder.net[-1], nn.Sigmoid)
        return StackedLeNetAutoencoder(model.arch, n_models, output_sigmoid=sigmoid)
    raise TypeError(f"cannot stack {type(model).__name__}")


@torch.no_grad()
def stack_modules(models: Sequence[nn.Module]) -> nn.Module:
    """One stacked module whose copy k has the weights and BN running statistics of ``models[k]``.

    ``models``: LeNetEncoder / LeNetDecoder / LeNetAutoencoder instances of one architecture. The stacked
    module is on the device/dtype of ``models[0]``; ``num_batches_tracked`` is taken from ``models[0]``.
    """
    if not models:
        raise ValueError("need at least one model")
    first = models[0]
    stacked = _stacked_like(first, len(models))
    states = [m.state_dict() for m in models]
    if any(s.keys() != states[0].keys() for s in states):
        raise ValueError("all models must have the same architecture")
    target = stacked.state_dict()
    if target.keys() != states[0].keys():
        raise ValueError("stacked and single module layouts differ")  # pragma: no cover
    new = {}
    for key, ref in target.items():
        if key.endswith("num_batches_tracked"):
            new[key] = states[0][key].clone()
        else:
            new[key] = torch.stack([s[key] for s in states]).reshape(ref.shape)
    stacked.load_state_dict(new)
    param = next(first.parameters())
    return stacked.to(device=param.device, dtype=param.dtype)


@torch.no_grad()
def unstack_module(stacked: nn.Module) -> list[nn.Module]:
    """The K single modules of a stacked module (copies of its weights and BN running statistics)."""
    n = stacked.n_models  # type: ignore[attr-defined]
    singles = [stacked.single() for _ in range(n)]  # type: ignore[operator]
    source = stacked.state_dict()
    param = next(stacked.parameters())
    for k, single in enumerate(singles):
        state = {}
        for key, ref in single.state_dict().items():
            if key.endswith("num_batches_tracked"):
                state[key] = source[key].clone()
            else:
                state[key] = source[key].reshape(n, *ref.shape)[k].clone()
        single.load_state_dict(state)
        single.to(device=param.device, dtype=param.dtype)
        single.train(stacked.training)
    return singles


@torch.no_grad()
def glorot_uniform_(module: nn.Module, gain: float = 1.0) -> nn.Module:
    """App. E: "uniform Glorot weights" for every (stacked) conv, deconv and dense weight (per model)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight, gain=gain)
        elif isinstance(m, (StackedConv2d, StackedLinear)):
            for k in range(m.n_models):
                nn.init.xavier_uniform_(m.weight.data[k], gain=gain)
    return module


def bias_free(module: nn.Module) -> bool:
    """True when no layer of ``module`` has a bias or an affine BatchNorm (App. C collapse prevention)."""
    for m in module.modules():
        if getattr(m, "bias", None) is not None:
            return False
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            return False
    return True


# ------------------------------------------------------------------------------------- flat-input wrappers
# The detectors of :mod:`semiad.core.detectors` follow the scikit-learn/PyOD contract of 2-D inputs. Images
# enter them
# flattened, ``(n, C*H*W)``; these wrappers restore the image shape inside the network, so DeepSAD, DeepSVDD,
# the (C)AE baseline and the supervised classifier run the App. D LeNets through the same code as the MLPs.
class FlatLeNetEncoder(nn.Sequential):
    """:class:`LeNetEncoder` on flattened images: ``(B, C*H*W) -> (B, rep_dim)``."""

    def __init__(self, arch: str | LeNetArch = "mnist", rep_dim: int | None = None):
        arch = get_arch(arch, rep_dim)
        super().__init__(nn.Unflatten(1, arch.in_shape), LeNetEncoder(arch))
        self.arch = arch
        self.rep_dim = arch.rep_dim


class FlatLeNetAutoencoder(nn.Module):
    """:class:`LeNetAutoencoder` on flattened images (sigmoid output: pixels are in [0, 1])."""

    def __init__(self, arch: str | LeNetArch = "mnist", rep_dim: int | None = None,
                 output_sigmoid: bool = True):
        super().__init__()
        self.arch = get_arch(arch, rep_dim)
        self.encoder = FlatLeNetEncoder(self.arch)
        self.decoder = nn.Sequential(LeNetDecoder(self.arch, output_sigmoid=output_sigmoid), nn.Flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class FlatLeNetClassifier(nn.Module):
    """Supervised baseline on images (App. E): the LeNet phi followed by one logit (the head has a bias)."""

    def __init__(self, arch: str | LeNetArch = "mnist", rep_dim: int | None = None):
        super().__init__()
        self.encoder = FlatLeNetEncoder(arch, rep_dim)
        self.head = nn.Linear(self.encoder.rep_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)).squeeze(-1)


def check_flat_images(n_features: int, arch: str | LeNetArch) -> LeNetArch:
    """The architecture, after checking that ``n_features`` = C*H*W of its input (clear error otherwise)."""
    arch = get_arch(arch)
    c, h, w = arch.in_shape
    if n_features != c * h * w:
        raise ValueError(f"image_arch={arch.name!r} expects flattened {c}x{h}x{w} images ({c * h * w} "
                         f"features), got {n_features}")
    return arch
