"""Supervised deep binary classifier baseline (Deep SAD App. E, "Supervised Deep Binary Classifier").

"we rely on the typical assumption that most of the unlabeled training data is normal by assigning
y = +1 to all unlabeled examples"; trained on binary cross-entropy from Glorot-uniform weights.
The authors never released this baseline; this is our implementation of the text.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from semiad.core.detectors.base import KNOWN_ANOMALY
from semiad.core.detectors.networks import build_classifier, glorot_uniform_
from semiad.core.detectors.training import DeepDetector, predict_batched, train_minibatch
from semiad.core.device import resolve_device
from semiad.core.seeding import local_seed, seed_everything


class SupervisedClassifier(DeepDetector):
    """Supervised deep binary classifier of Deep SAD App. E; score = logit of P(anomaly | x).

    phi (the App. D network) followed by one logit, trained on binary cross-entropy with labeled
    anomalies as the positive class and every other row (unlabeled, "y = +1" by assumption, and
    known normals) as negative, from Glorot-uniform weights. Needs at least one labeled anomaly.

    Parameters
    ----------
    hidden_dims, rep_dim, n_epochs, lr, lr_milestones, batch_size, weight_decay, device, \
random_state, image_arch, drop_last
        The shared deep-detector hyperparameters; see
        :class:`~semiad.core.detectors.training.DeepDetector`.

    Attributes
    ----------
    model_ : torch.nn.Module
        The trained classifier (outputs the logit).
    history_ : list of float
        Mean cross-entropy per epoch.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    .. [1] L. Ruff et al. "Deep Semi-Supervised Anomaly Detection", ICLR 2020, App. E
       ("Supervised Deep Binary Classifier"); the authors never released this baseline.
    """

    uses_labeled_anomalies = True

    def _fit(self, X, y_semi):
        if not np.any(y_semi == KNOWN_ANOMALY):
            raise ValueError("the supervised classifier needs at least one labeled anomaly (y_semi=-1)")
        with local_seed(self.random_state):  # reproducible without touching the caller's RNGs
            self._train(X, y_semi)

    def _train(self, X, y_semi):
        seed_everything(self.random_state)
        dev = resolve_device(self.device)
        Xt = torch.as_tensor(X, device=dev)
        target = torch.as_tensor((y_semi == KNOWN_ANOMALY).astype(np.float32), device=dev)
        self.model_ = build_classifier(X.shape[1], self.hidden_dims, self.rep_dim, self.image_arch)
        glorot_uniform_(self.model_)
        self.model_.to(dev)

        def loss(xb, tb):
            return F.binary_cross_entropy_with_logits(self.model_(xb), tb)

        self.history_ = train_minibatch(self.model_, (Xt, target), loss, self._schedule(),
                                        self.random_state)

    @torch.no_grad()
    def _score(self, X):
        self.model_.eval()
        dev = next(self.model_.parameters()).device
        return predict_batched(self.model_, torch.as_tensor(X, device=dev)).cpu().numpy()
