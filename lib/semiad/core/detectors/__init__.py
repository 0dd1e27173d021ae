"""Detectors that two or more papers use, behind one contract (:mod:`semiad.core.detectors.base`).

Each paper package imports the classes it needs directly; a paper whose configs name methods by a
string keeps its own name -> class table next to its grid (e.g. ``semiad.deep_sad.odds.DETECTORS``).
"""

from semiad.core.detectors.autoencoder import AutoencoderDetector, train_autoencoder
from semiad.core.detectors.base import ActiveDetector, BaseDetector, QueryStrategy, check_fitted, check_inputs
from semiad.core.detectors.dagmm import DAGMM
from semiad.core.detectors.deep_sad import (
    DeepSAD,
    DeepSVDD,
    center_from_codes,
    deep_sad_loss,
    deep_sad_terms,
    hypersphere_score,
    init_center,
)
from semiad.core.detectors.shallow import OCSVM, IsolationForestDetector, KDEDetector
from semiad.core.detectors.ssad import SSAD

__all__ = ["DAGMM", "OCSVM", "SSAD", "ActiveDetector", "AutoencoderDetector", "BaseDetector", "DeepSAD",
           "DeepSVDD", "IsolationForestDetector", "KDEDetector", "QueryStrategy", "center_from_codes",
           "check_fitted", "check_inputs", "deep_sad_loss", "deep_sad_terms", "hypersphere_score",
           "init_center", "train_autoencoder"]
