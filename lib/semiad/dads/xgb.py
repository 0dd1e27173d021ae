"""XGBoost baseline of the DADS paper's Figure 2: labeled anomalies vs. unlabeled rows "treated as normal".

Semi-supervised AD with a few labeled anomalies: the fully supervised baseline simply trains a
binary classifier with the labeled anomalies as class 1 and every other training row (unlabeled,
contaminated by known and unknown anomalies, plus any known normals) as class 0, and scores a point
by its predicted probability of class 1. The gradient-boosting model is xgboost's maintained
``XGBClassifier`` (Chen & Guestrin, KDD 2016); only the label mapping is ours.
"""

from __future__ import annotations

import numpy as np

from semiad.core.detectors.base import KNOWN_ANOMALY, IgnoresValidation


class XGBoostDetector(IgnoresValidation):
    """Gradient-boosted trees on labeled anomalies (1) vs. unlabeled-as-normal (0); score = P(anomaly).

    Defaults are xgboost's own (``n_estimators=100``, ``max_depth=6``, ``learning_rate=0.3``) with the
    fast ``tree_method="hist"`` and ``n_jobs=1`` (experiments parallelise over runs, not inside a
    fit). ``balance_classes=True`` sets ``scale_pos_weight = n_negative / n_positive`` (xgboost's
    documented imbalance knob); off by default because the DADS baseline is the plain classifier.
    ``fit`` accepts DADS-style ``X_val, y_val`` and ignores them.
    """

    uses_labeled_anomalies = True

    def __init__(self, n_estimators: int = 100, max_depth: int = 6, learning_rate: float = 0.3,
                 balance_classes: bool = False, tree_method: str = "hist", n_jobs: int = 1,
                 random_state: int = 0):
        if n_estimators < 1 or max_depth < 1 or learning_rate <= 0:
            raise ValueError("n_estimators and max_depth must be >= 1 and learning_rate > 0")
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.balance_classes = balance_classes
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y_semi: np.ndarray) -> None:
        from xgboost import XGBClassifier

        target = (y_semi == KNOWN_ANOMALY).astype(np.int64)
        n_pos = int(target.sum())
        if n_pos == 0:
            raise ValueError("XGBoostDetector needs at least one labeled anomaly (y_semi == -1)")
        if n_pos == len(target):
            raise ValueError("XGBoostDetector needs unlabeled or normal rows besides the labeled anomalies")
        weight = (len(target) - n_pos) / n_pos if self.balance_classes else 1.0
        self.model_ = XGBClassifier(
            n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
            tree_method=self.tree_method, n_jobs=self.n_jobs, random_state=self.random_state,
            scale_pos_weight=weight, verbosity=0)
        self.model_.fit(X, target)

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(X)[:, 1]
