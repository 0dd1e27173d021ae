"""Convolutional autoencoder (CAE) for image anomaly detection, Bergmann et al. (2019) style.

Architecture (Bergmann, Löwe, Fauser, Sattlegger, Steger, "Improving Unsupervised Defect
Segmentation by Applying Structural Similarity to Autoencoders", VISAPP 2019, Table 1, used for
the CAE baselines of MVTec AD): an encoder of 4x4 stride-2 and 3x3 stride-1 convolutions with
channel widths 32-32-32-64-64-128-64-32 and LeakyReLU(0.2), a bottleneck convolution whose
kernel covers the remaining (patch/16) x (patch/16) map and maps it to a latent vector of size
``latent_dim`` (paper: 100), and a decoder that mirrors it with transposed convolutions; a
sigmoid output (ours: pixels are in [0, 1]). Losses: per-pixel L2 (``"l2"``) or the SSIM loss
(``"ssim"``: 1 - mean SSIM with an 11 x 11 Gaussian window, sigma 1.5, the paper's setting).

Training (ours where stated): Adam, lr 2e-4, weight decay 1e-5 (the paper's values); each
step draws ``batch_size`` random training images, a random ``patch_size`` crop of each and random
horizontal / vertical flips (ours: the paper augments objects with rotations/flips, textures with
crops); ``n_steps`` steps (ours: a step budget instead of epochs, so profiles fix the cost).
Inference: images larger than the patch are tiled with stride ``patch_size // 2`` and the
overlapping reconstructions averaged (ours).

Residual maps (the paper of this notebook, Lee et al. 2022): ``|x - x_hat|`` averaged over
colour channels; the SSIM map ``(1 - SSIM(x, x_hat)) / 2`` per pixel is available as a second map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from semiad.core.seeding import local_seed, torch_generator

LOSSES = ("l2", "ssim")


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    ax = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(ax ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim_map(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5,
             data_range: float = 1.0) -> torch.Tensor:
    """Per-pixel SSIM of two ``(N, C, H, W)`` batches, averaged over channels -> ``(N, H, W)``.

    Gaussian-weighted local statistics (Wang et al. 2004; constants K1 = 0.01, K2 = 0.03), with
    reflect padding so the map has the input size (ours).
    """
    c = x.shape[1]
    w = _gaussian_window(window, sigma).to(x).expand(c, 1, window, window)
    pad = window // 2

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(t, (pad, pad, pad, pad), mode="reflect"), w, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x ** 2
    var_y = blur(y * y) - mu_y ** 2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return s.mean(dim=1)


class CAE(nn.Module):
    """Bergmann et al. (2019) CAE for ``patch_size`` x ``patch_size`` inputs (a multiple of 16).

    ``width`` scales every channel count (1.0 = the paper's 32-32-32-64-64-128-64-32).
    """

    def __init__(self, in_channels: int = 3, patch_size: int = 128, latent_dim: int = 100,
                 width: float = 1.0):
        super().__init__()
        if patch_size % 16 or patch_size < 16:
            raise ValueError(f"patch_size must be a positive multiple of 16, got {patch_size}")
        c = [max(4, int(round(k * width))) for k in (32, 32, 32, 64, 64, 128, 64, 32)]
        k = patch_size // 16
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c[0], 4, 2, 1), act(),
            nn.Conv2d(c[0], c[1], 4, 2, 1), act(),
            nn.Conv2d(c[1], c[2], 3, 1, 1), act(),
            nn.Conv2d(c[2], c[3], 4, 2, 1), act(),
            nn.Conv2d(c[3], c[4], 3, 1, 1), act(),
            nn.Conv2d(c[4], c[5], 4, 2, 1), act(),
            nn.Conv2d(c[5], c[6], 3, 1, 1), act(),
            nn.Conv2d(c[6], c[7], 3, 1, 1), act(),
            nn.Conv2d(c[7], latent_dim, k, 1, 0),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, c[7], k, 1, 0), act(),
            nn.Conv2d(c[7], c[6], 3, 1, 1), act(),
            nn.Conv2d(c[6], c[5], 3, 1, 1), act(),
            nn.ConvTranspose2d(c[5], c[4], 4, 2, 1), act(),
            nn.Conv2d(c[4], c[3], 3, 1, 1), act(),
            nn.ConvTranspose2d(c[3], c[2], 4, 2, 1), act(),
            nn.Conv2d(c[2], c[1], 3, 1, 1), act(),
            nn.ConvTranspose2d(c[1], c[0], 4, 2, 1), act(),
            nn.ConvTranspose2d(c[0], in_channels, 4, 2, 1), nn.Sigmoid(),
        )
        self.patch_size = patch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@dataclass(frozen=True)
class CAETrainConfig:
    """Training settings (see the module docstring for which are the paper's)."""

    patch_size: int = 128
    latent_dim: int = 100
    width: float = 1.0
    loss: str = "l2"
    n_steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-4
    weight_decay: float = 1e-5

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.n_steps < 0 or self.batch_size < 1:
            raise ValueError(f"invalid CAE training config {self}")


def _to_nchw(images: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(images.transpose(0, 3, 1, 2)), dtype=torch.float32)


def reconstruction_loss(x: torch.Tensor, x_hat: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "l2":
        return F.mse_loss(x_hat, x)
    return 1.0 - ssim_map(x, x_hat).mean()


def train_cae(images: np.ndarray, cfg: CAETrainConfig, seed: int = 0, log_every: int = 50,
              device: str | torch.device = "cpu") -> tuple[CAE, list[float]]:
    """Train a :class:`CAE` on ``images`` ``(N, H, W, C)`` in [0, 1]; return it (on the CPU) and
    the loss curve (mean loss per ``log_every`` steps). Deterministic for a given seed on CPU."""
    n, h, w, c = images.shape
    p = cfg.patch_size
    if p > min(h, w):
        raise ValueError(f"patch_size {p} exceeds the image size {h}x{w}")
    X = _to_nchw(images)
    with local_seed(seed):
        model = CAE(c, p, cfg.latent_dim, cfg.width).to(device)
    X = X.to(device)
    gen = torch_generator(seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    curve, running = [], []
    model.train()
    for step in range(cfg.n_steps):
        idx = torch.randint(0, n, (cfg.batch_size,), generator=gen)
        oy = torch.randint(0, h - p + 1, (cfg.batch_size,), generator=gen)
        ox = torch.randint(0, w - p + 1, (cfg.batch_size,), generator=gen)
        flips = torch.rand(cfg.batch_size, 2, generator=gen) < 0.5
        batch = []
        for b in range(cfg.batch_size):
            patch = X[idx[b], :, oy[b]:oy[b] + p, ox[b]:ox[b] + p]
            if flips[b, 0]:
                patch = patch.flip(-1)
            if flips[b, 1]:
                patch = patch.flip(-2)
            batch.append(patch)
        xb = torch.stack(batch)
        loss = reconstruction_loss(xb, model(xb), cfg.loss)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"CAE loss became {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running.append(loss.item())
        if len(running) == log_every or step == cfg.n_steps - 1:
            curve.append(float(np.mean(running)))
            running = []
    model.eval()
    return model.cpu(), curve


@torch.no_grad()
def reconstruct(model: CAE, images: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Reconstructions ``(N, H, W, C)`` of ``images``; tiles with stride patch/2 when H > patch."""
    model.eval()
    X = _to_nchw(images)
    n, c, h, w = X.shape
    p = model.patch_size
    out = []
    if (h, w) == (p, p):
        for s in range(0, n, batch_size):
            out.append(model(X[s:s + batch_size]))
    else:
        stride = p // 2
        if (h - p) % stride or (w - p) % stride:
            raise ValueError(f"image size {h}x{w} must be patch {p} + a multiple of {stride}")
        ones = torch.ones(1, 1, h, w)
        count = F.fold(F.unfold(ones, p, stride=stride), (h, w), p, stride=stride)
        for s in range(0, n, batch_size):
            xb = X[s:s + batch_size]
            cols = F.unfold(xb, p, stride=stride)  # (b, c*p*p, L)
            b, _, L = cols.shape
            patches = cols.transpose(1, 2).reshape(b * L, c, p, p)
            rec = torch.cat([model(patches[k:k + 64]) for k in range(0, len(patches), 64)])
            rec_cols = rec.reshape(b, L, c * p * p).transpose(1, 2)
            out.append(F.fold(rec_cols, (h, w), p, stride=stride) / count)
    return torch.cat(out).permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def residual_maps(images: np.ndarray, recon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(|x - x_hat|`` averaged over channels, ``(1 - SSIM(x, x_hat)) / 2``), each ``(N, H, W)``
    float32 in [0, 1]."""
    residual = np.abs(images - recon).mean(axis=-1).astype(np.float32)
    s = ssim_map(_to_nchw(images), _to_nchw(recon)).numpy()
    return residual, np.clip((1.0 - s) / 2.0, 0.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# the fixed decision rule the paper replaces: per-pixel threshold + minimum connected defect area
#: 8-connectivity for defect regions (ours; the MVTec AD papers do not state the connectivity).
CONNECTIVITY = np.ones((3, 3), dtype=bool)


def max_component_area(residuals: np.ndarray, threshold: float) -> np.ndarray:
    """Area (pixels) of the largest 8-connected region with residual > ``threshold``, per image."""
    from scipy import ndimage

    out = np.zeros(len(residuals), dtype=np.int64)
    for i, r in enumerate(residuals):
        labels, n = ndimage.label(r > threshold, structure=CONNECTIVITY)
        if n:
            out[i] = np.bincount(labels.ravel())[1:].max()
    return out


def threshold_area_predict(residuals: np.ndarray, threshold: float, min_area: int) -> np.ndarray:
    """1 (defective) if any connected region above ``threshold`` has area >= ``min_area``, else 0."""
    return (max_component_area(residuals, threshold) >= int(min_area)).astype(np.int64)


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean of the true-positive and true-negative rates (0.5 for a constant prediction)."""
    y, pred = np.asarray(y), np.asarray(pred)
    tpr = float((pred[y == 1] == 1).mean()) if (y == 1).any() else np.nan
    tnr = float((pred[y == 0] == 0).mean()) if (y == 0).any() else np.nan
    return float(np.nanmean([tpr, tnr]))


@dataclass
class ThresholdSearch:
    """Grid search of (threshold, min_area) on a labeled validation split (MVTec AD CAE protocol).

    Grids (ours): ``n_thresholds`` thresholds at quantiles 0.90 ... 0.99999 (log-spaced in 1 - q)
    of all validation residual pixels; ``n_areas`` minimum areas, integers log-spaced from 1 pixel
    to ``max_area_fraction`` of the image. Objective (ours): balanced accuracy on the validation
    split (its classes are imbalanced: many good, few labeled defective images); ties go to the
    first grid point (lowest threshold, then smallest area).
    """

    n_thresholds: int = 30
    n_areas: int = 20
    max_area_fraction: float = 0.05

    def fit(self, residuals: np.ndarray, y: np.ndarray) -> ThresholdSearch:
        y = np.asarray(y).astype(int)
        if set(np.unique(y)) != {0, 1}:
            raise ValueError("the validation split needs good (0) and defective (1) images")
        q = 1.0 - np.logspace(-1, -5, self.n_thresholds)
        self.thresholds_ = np.unique(np.quantile(residuals, q))
        n_pix = residuals.shape[1] * residuals.shape[2]
        top = max(2, int(round(self.max_area_fraction * n_pix)))
        self.areas_ = np.unique(np.round(np.logspace(0, np.log10(top), self.n_areas)).astype(np.int64))
        self.balanced_accuracy_ = np.zeros((len(self.thresholds_), len(self.areas_)))
        self.f1_ = np.zeros_like(self.balanced_accuracy_)
        for i, t in enumerate(self.thresholds_):
            areas = max_component_area(residuals, t)
            for j, a in enumerate(self.areas_):
                pred = (areas >= a).astype(int)
                self.balanced_accuracy_[i, j] = balanced_accuracy(y, pred)
                tp = int(((pred == 1) & (y == 1)).sum())
                denom = int(pred.sum() + y.sum())
                self.f1_[i, j] = 2 * tp / denom if denom else 0.0
        i, j = np.unravel_index(int(np.argmax(self.balanced_accuracy_)), self.balanced_accuracy_.shape)
        self.threshold_, self.min_area_ = float(self.thresholds_[i]), int(self.areas_[j])
        self.val_balanced_accuracy_ = float(self.balanced_accuracy_[i, j])
        return self

    def predict(self, residuals: np.ndarray) -> np.ndarray:
        return threshold_area_predict(residuals, self.threshold_, self.min_area_)

    def score(self, residuals: np.ndarray) -> np.ndarray:
        """Continuous score for AUC (ours): largest region area above the chosen threshold."""
        return max_component_area(residuals, self.threshold_).astype(np.float64)
