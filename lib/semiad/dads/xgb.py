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

    The fully supervised baseline of the DADS paper's Figure 2; needs at least one labeled anomaly.
    ``fit`` accepts DADS-style ``X_val, y_val`` and ignores them.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate : int, int, float, default=100, 6, 0.3
        xgboost's own defaults.
    balance_classes : bool, default=False
        Set ``scale_pos_weight = n_negative / n_positive`` (xgboost's documented imbalance knob);
        off by default because the DADS baseline is the plain classifier.
    tree_method : str, default="hist"
        xgboost's tree construction algorithm.
    n_jobs : int, default=1
        Threads per fit (experiments parallelise over runs, not inside a fit).
    random_state : int, default=0
        Seed of xgboost.

    Attributes
    ----------
    model_ : xgboost.XGBClassifier
        The fitted classifier.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    .. [1] T. Chen, C. Guestrin. "XGBoost: A Scalable Tree Boosting System", KDD 2016.
    """

    uses_labeled_anomalies = True

    def __init__(self, n_estimators: int = 100, max_depth: int = 6, learning_rate: float = 0.3,
                 balance_classes: bool = False, tree_method: str = "hist", n_jobs: int = 1,
                 random_state: int = 0):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.balance_classes = balance_classes
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.n_estimators < 1 or self.max_depth < 1 or self.learning_rate <= 0:
            raise ValueError("n_estimators and max_depth must be >= 1 and learning_rate > 0")

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
