"""Bias-free MLP encoders/decoders of Deep SAD App. D (classic AD benchmarks).

App. C ("Preventing a hypersphere collapse"): the network phi must have *no bias terms and no
bounded activations*. Every Linear layer therefore has ``bias=False`` and BatchNorm is used without
its affine shift (``affine=False``), which would otherwise re-introduce a bias.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: App. D: "On arrhythmia, a 3-layer MLP with 128-64-32 units. On cardio, satellite, satimage-2,
#: and shuttle a 3-layer MLP with 32-16-8 units. On thyroid a 3-layer MLP with 32-16-4 units."
#: Stored as (hidden layer sizes, representation dimension d).
ODDS_ARCHITECTURES: dict[str, tuple[tuple[int, ...], int]] = {
    "arrhythmia": ((128, 64), 32),
    "cardio": ((32, 16), 8),
    "satellite": ((32, 16), 8),
    "satimage-2": ((32, 16), 8),
    "shuttle": ((32, 16), 8),
    "thyroid": ((32, 16), 4),
}
DEFAULT_ARCHITECTURE: tuple[tuple[int, ...], int] = ((32, 16), 8)

# The authors' MLP uses BatchNorm1d(eps=1e-4, affine=False) and leaky ReLU; App. D fixes
# leakiness 0.1 for the LeNet-type CNNs and says nothing for MLPs. 0.1 is the paper-text default;
# the training protocol (semiad.core.detectors.protocol) passes the code's 0.01 where it says so.
BN_EPS = 1e-4
LEAKY_SLOPE = 0.1


def _block(n_in: int, n_out: int, leaky_slope: float = LEAKY_SLOPE) -> list[nn.Module]:
    return [nn.Linear(n_in, n_out, bias=False), nn.BatchNorm1d(n_out, eps=BN_EPS, affine=False),
            nn.LeakyReLU(leaky_slope)]


class MLPEncoder(nn.Module):
    """phi(x; W): ``n_features -> hidden... -> rep_dim``; linear last layer, no biases anywhere."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], rep_dim: int,
                 leaky_slope: float = LEAKY_SLOPE):
        super().__init__()
        dims = [n_features, *hidden_dims]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += _block(a, b, leaky_slope)
        layers.append(nn.Linear(dims[-1], rep_dim, bias=False))
        self.net = nn.Sequential(*layers)
        self.rep_dim = rep_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    """Mirror of :class:`MLPEncoder` (App. E: decoders are built symmetrically)."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], rep_dim: int,
                 output_sigmoid: bool = False, leaky_slope: float = LEAKY_SLOPE):
        super().__init__()
        dims = [rep_dim, *reversed(tuple(hidden_dims))]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += _block(a, b, leaky_slope)
        layers.append(nn.Linear(dims[-1], n_features, bias=False))
        if output_sigmoid:  # only meaningful when inputs were min-max scaled to [0, 1]
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPAutoencoder(nn.Module):
    """Autoencoder whose encoder has exactly phi's architecture (App. C, pre-training)."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], rep_dim: int,
                 output_sigmoid: bool = False, leaky_slope: float = LEAKY_SLOPE):
        super().__init__()
        self.encoder = MLPEncoder(n_features, hidden_dims, rep_dim, leaky_slope)
        self.decoder = MLPDecoder(n_features, hidden_dims, rep_dim, output_sigmoid, leaky_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class MLPClassifier(nn.Module):
    """Supervised baseline (App. E): the same encoder followed by one logit (this head has a bias)."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], rep_dim: int):
        super().__init__()
        self.encoder = MLPEncoder(n_features, hidden_dims, rep_dim)
        self.head = nn.Linear(rep_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)).squeeze(-1)


def glorot_uniform_(module: nn.Module) -> None:
    """App. E: AE, SS-DGM and the supervised classifier start from uniform Glorot weights
    (every dense, convolution and deconvolution weight; biases, where any, start at 0)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def architecture_for(dataset: str) -> tuple[tuple[int, ...], int]:
    """(hidden_dims, rep_dim) of App. D for an ODDS dataset; the 32-16-8 default otherwise."""
    return ODDS_ARCHITECTURES.get(dataset, DEFAULT_ARCHITECTURE)


# ---------------------------------------------------------------------------------------------
# One builder per role, so every deep detector runs MLPs (tabular data) and the App. D LeNets
# (images, given flattened) through the same code: ``image_arch=None`` -> MLP, else a LeNet name.
def build_encoder(n_features: int, hidden_dims: Sequence[int], rep_dim: int,
                  image_arch: str | None = None, leaky_slope: float = LEAKY_SLOPE) -> nn.Module:
    """phi: the MLP of App. D, or the LeNet of ``image_arch`` (``hidden_dims`` unused then; the LeNets
    keep App. D's slope 0.1, ``leaky_slope`` acts on the MLPs only)."""
    if image_arch is None:
        return MLPEncoder(n_features, hidden_dims, rep_dim, leaky_slope)
    from semiad.core.detectors.lenet import FlatLeNetEncoder, check_flat_images
    return FlatLeNetEncoder(check_flat_images(n_features, image_arch), rep_dim)


def build_autoencoder(n_features: int, hidden_dims: Sequence[int], rep_dim: int,
                      output_sigmoid: bool = False, image_arch: str | None = None,
                      leaky_slope: float = LEAKY_SLOPE) -> nn.Module:
    """Autoencoder whose ``.encoder`` is exactly :func:`build_encoder`'s phi."""
    if image_arch is None:
        return MLPAutoencoder(n_features, hidden_dims, rep_dim, output_sigmoid, leaky_slope)
    from semiad.core.detectors.lenet import FlatLeNetAutoencoder, check_flat_images
    return FlatLeNetAutoencoder(check_flat_images(n_features, image_arch), rep_dim, output_sigmoid)


def build_classifier(n_features: int, hidden_dims: Sequence[int], rep_dim: int,
                     image_arch: str | None = None) -> nn.Module:
    """phi followed by one logit (the supervised baseline)."""
    if image_arch is None:
        return MLPClassifier(n_features, hidden_dims, rep_dim)
    from semiad.core.detectors.lenet import FlatLeNetClassifier, check_flat_images
    return FlatLeNetClassifier(check_flat_images(n_features, image_arch), rep_dim)
