"""Deviation networks (DevNet; Pang, Shen & van den Hengel, KDD 2019), a DADS Figure 2 baseline.

Hand-written instead of wrapping ``pyod.models.devnet.DevNet`` (pyod 3.6.7) because that class is
unusable here: its training loop calls ``deviation_loss(outputs, labels)`` with the arguments swapped
*and* broadcasts a ``(B, 1)`` output against ``(B,)`` labels, so the loss no longer depends on each
row's label and every score is pushed to -infinity (AUC ~0.0 on a toy set where ours gets ~1.0);
it also ignores ``random_seed`` and reseeds the global NumPy/torch RNGs at import time, and it
samples ordinary shuffled batches instead of the paper's anomaly-balanced ones.

The method, following the paper's Sec. 3.3:

* anomaly scoring network phi(x) (Sec. 3.3.1): an MLP with one hidden layer of 20 ReLU units and a
  linear score output (the paper's default architecture; ``hidden_dims=(1000, 250, 20)`` gives the
  deeper DevNet-D variant of its ablation);
* Gaussian prior reference scores (Sec. 3.3.2): l = 5000 draws r_i ~ N(0, 1) per mini-batch,
  mu_R and sigma_R their mean and standard deviation;
* Z-score deviation loss (Sec. 3.3.3): dev(x) = (phi(x) - mu_R) / sigma_R and
  L = (1 - y) |dev(x)| + y max(0, a - dev(x)) with confidence margin a = 5;
* Algorithm 1 (Sec. 3.3.4): 50 epochs of 20 mini-batches of b = 512 rows, half drawn from the
  labeled anomalies (y = 1) and half from the unlabeled data, which is treated as normal (y = 0)
  although contaminated; RMSprop, lr 1e-3. The authors' released code adds an L2 penalty 0.01 on
  the hidden weights and clips each gradient to norm 1 (Keras ``clipnorm=1``); we do the same.

Score = phi(x) (higher = more anomalous; the paper's Sec. 3.4 reads it as a Z-score deviation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from semiad.core.detectors.base import KNOWN_ANOMALY, IgnoresValidation
from semiad.core.detectors.networks import glorot_uniform_
from semiad.core.detectors.training import predict_batched
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed, torch_generator


class DevNetScorer(nn.Module):
    """phi(x): ``n_features -> hidden_dims (ReLU) -> 1`` linear anomaly score (Sec. 3.3.1)."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int]):
        super().__init__()
        dims = [n_features, *hidden_dims]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.hidden = nn.Sequential(*layers)
        self.score = nn.Linear(dims[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.hidden(x)).squeeze(-1)


def deviation_loss(scores: torch.Tensor, is_anomaly: torch.Tensor, reference: torch.Tensor,
                   margin: float = 5.0) -> torch.Tensor:
    """Mean Z-score deviation loss of Sec. 3.3.3 for 1-D ``scores`` and 0/1 ``is_anomaly`` labels.

    ``reference`` are the prior draws r_1..r_l ~ N(0, 1) of Sec. 3.3.2 defining mu_R and sigma_R.
    """
    dev = (scores - reference.mean()) / reference.std()
    per_row = torch.where(is_anomaly > 0.5, torch.clamp(margin - dev, min=0.0), dev.abs())
    return per_row.mean()


class DevNetDetector(IgnoresValidation):
    """DevNet (Pang et al., KDD 2019): deviation loss against Gaussian reference scores, margin 5.

    A baseline of the DADS paper's Figure 2; needs at least one labeled anomaly. ``fit`` accepts
    DADS-style ``X_val, y_val`` and ignores them. Score = phi(x) (module docstring).

    Parameters
    ----------
    hidden_dims : sequence of int, default=(20,)
        Hidden ReLU widths of phi (Sec. 3.3.1: one layer of 20; ``(1000, 250, 20)``: DevNet-D).
    epochs : int, default=50
        Epochs (pyod's and the authors' name), >= 0.
    n_batches : int, default=20
        Anomaly-balanced mini-batches per epoch (Algorithm 1), >= 1.
    batch_size : int, default=512
        Rows per batch b, half labeled anomalies, half unlabeled (Algorithm 1), >= 2.
    lr : float, default=1e-3
        RMSprop learning rate.
    l2 : float, default=0.01
        L2 penalty on the hidden weights (the authors' released code).
    margin : float, default=5.0
        Confidence margin a of the deviation loss (Sec. 3.3.3).
    n_reference : int, default=5000
        Prior draws l per batch (Sec. 3.3.2), >= 2.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train.
    random_state : int, default=0
        Seed of the weights, the batch sampling and the reference draws.

    Attributes
    ----------
    model_ : DevNetScorer
        The trained scoring network phi.
    history_ : list of float
        Mean loss per epoch.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    .. [1] G. Pang, C. Shen, A. van den Hengel. "Deep Anomaly Detection with Deviation Networks",
       KDD 2019, Sec. 3.3 (Eq. of the deviation loss, Algorithm 1).
    """

    uses_labeled_anomalies = True

    def __init__(self, hidden_dims: Sequence[int] = (20,), epochs: int = 50, n_batches: int = 20,
                 batch_size: int = 512, lr: float = 1e-3, l2: float = 0.01, margin: float = 5.0,
                 n_reference: int = 5000, device: str = "auto", random_state: int = 0):
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.n_batches = n_batches
        self.batch_size = batch_size
        self.lr = lr
        self.l2 = l2
        self.margin = margin
        self.n_reference = n_reference
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        if (self.epochs < 0 or self.n_batches < 1 or self.batch_size < 2 or self.lr <= 0
                or self.n_reference < 2):
            raise ValueError("invalid DevNet schedule: need epochs >= 0, n_batches >= 1, "
                             "batch_size >= 2, lr > 0, n_reference >= 2")

    def _fit(self, X: np.ndarray, y_semi: np.ndarray) -> None:
        anomalies = np.flatnonzero(y_semi == KNOWN_ANOMALY)
        normals = np.flatnonzero(y_semi != KNOWN_ANOMALY)
        if len(anomalies) == 0:
            raise ValueError("DevNetDetector needs at least one labeled anomaly (y_semi == -1)")
        if len(normals) == 0:
            raise ValueError("DevNetDetector needs unlabeled or normal rows besides the labeled anomalies")
        with local_seed(self.random_state):  # weight init reproducible, caller's RNGs untouched
            self._train(X, anomalies, normals)

    def _train(self, X: np.ndarray, anomalies: np.ndarray, normals: np.ndarray) -> None:
        dev = resolve_device(self.device)
        Xt = torch.as_tensor(X, device=dev)
        idx_a = torch.as_tensor(anomalies, device=dev)
        idx_n = torch.as_tensor(normals, device=dev)
        self.model_ = DevNetScorer(X.shape[1], self.hidden_dims)
        glorot_uniform_(self.model_)  # Keras' default initialiser in the released code
        self.model_.to(dev)
        optimizer = torch.optim.RMSprop(self.model_.parameters(), lr=self.lr, alpha=0.9, eps=1e-7)
        gen = torch_generator(self.random_state, "cpu")
        half = self.batch_size // 2
        # Algorithm 1: the first half of each batch is normal (y = 0), the second half anomalous (y = 1).
        labels = torch.cat([torch.zeros(half), torch.ones(self.batch_size - half)]).to(dev)
        hidden_weights = [m.weight for m in self.model_.hidden if isinstance(m, nn.Linear)]
        self.history_: list[float] = []
        self.model_.train()
        for _ in range(self.epochs):
            total = torch.zeros((), device=dev)
            for _ in range(self.n_batches):
                # anomaly-balanced batch, drawn with replacement from each pool (Alg. 1, step 3)
                pick_n = idx_n[torch.randint(len(idx_n), (half,), generator=gen).to(dev)]
                pick_a = idx_a[torch.randint(len(idx_a), (self.batch_size - half,), generator=gen).to(dev)]
                xb = Xt[torch.cat([pick_n, pick_a])]
                reference = torch.randn(self.n_reference, generator=gen).to(dev)  # Sec. 3.3.2
                loss = deviation_loss(self.model_(xb), labels, reference, self.margin)
                if self.l2 > 0:
                    loss = loss + self.l2 * sum((w ** 2).sum() for w in hidden_weights)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                for p in self.model_.parameters():  # Keras clipnorm=1: each tensor on its own
                    torch.nn.utils.clip_grad_norm_(p, 1.0)
                optimizer.step()
                total += loss.detach()
            epoch_loss = float(total) / self.n_batches
            if not np.isfinite(epoch_loss):
                raise FloatingPointError(f"DevNet loss became {epoch_loss}; lower lr or rescale X")
            self.history_.append(epoch_loss)
        self.model_.eval()

    @torch.no_grad()
    def _score(self, X: np.ndarray) -> np.ndarray:
        dev = next(self.model_.parameters()).device
        return predict_batched(self.model_, torch.as_tensor(X, device=dev)).cpu().numpy()
