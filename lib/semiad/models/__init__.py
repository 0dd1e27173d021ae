"""Detectors behind one contract (see :mod:`semiad.models.base`) and a name -> class registry."""

from __future__ import annotations

from semiad.models.autoencoder import AutoencoderDetector, train_autoencoder
from semiad.models.base import BaseDetector, check_inputs
from semiad.models.dagmm import DAGMM
from semiad.models.deep_sad import DeepSAD, DeepSVDD, deep_sad_loss, init_center
from semiad.models.devnet import DevNetDetector
from semiad.models.shallow import OCSVM, IsolationForestDetector, KDEDetector
from semiad.models.ssad import SSAD
from semiad.models.ssdgm import SSDGM
from semiad.models.supervised import SupervisedClassifier
from semiad.models.vime import VIMEDetector
from semiad.models.xgb import XGBoostDetector

#: Method names used in configs, results.csv and the notebooks.
DETECTORS: dict[str, type[BaseDetector]] = {
    "deep_sad": DeepSAD,
    "deep_svdd": DeepSVDD,
    "ocsvm": OCSVM,
    "supervised": SupervisedClassifier,
    "ae": AutoencoderDetector,
    "iforest": IsolationForestDetector,
    "kde": KDEDetector,
    "ssad": SSAD,
    "ssdgm": SSDGM,
    "xgboost": XGBoostDetector,
    "devnet": DevNetDetector,
    "vime": VIMEDetector,
    "dagmm": DAGMM,
}


def make_detector(name: str, **params) -> BaseDetector:
    """Instantiate a registered detector by name, failing clearly on unknown names."""
    try:
        cls = DETECTORS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose one of {sorted(DETECTORS)}") from None
    return cls(**params)


__all__ = ["DAGMM", "DETECTORS", "OCSVM", "SSAD", "SSDGM", "AutoencoderDetector", "BaseDetector", "DeepSAD",
           "DeepSVDD", "DevNetDetector", "IsolationForestDetector", "KDEDetector", "SupervisedClassifier",
           "VIMEDetector", "XGBoostDetector", "check_inputs", "deep_sad_loss", "init_center",
           "make_detector", "train_autoencoder"]
