"""Hyperparameter selection protocols for the shallow baselines (Deep SAD App. E).

* ``"test10"`` — the paper's deliberately unfair protocol: "selecting their hyperparameters to
  maximize AUC on a subset (10%) of the test set" (Sec. 4.1). The subset is random and
  class-stratified; the reported AUC is on the full test set.
* ``"validation"`` — the honest alternative: AUC of the *labeled anomalies* vs the *unlabeled*
  rows of a 20% validation split of the training set (only labels a user has), then a refit on
  all training rows with the chosen hyperparameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from semiad.core.detectors.base import KNOWN_ANOMALY, BaseDetector
from semiad.core.metrics import auc

SELECTIONS = ("test10", "validation")


def stratified_subset(y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of a class-stratified ``fraction`` of ``y`` with at least one row per class."""
    parts = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        parts.append(rng.choice(idx, size=max(1, int(math.ceil(fraction * len(idx)))),
                                replace=False))
    return np.sort(np.concatenate(parts))


def select_and_score(make: Callable[..., BaseDetector], candidates: Sequence[dict], split,
                     selection: str, rng: np.random.Generator) -> dict:
    """Fit ``make(**params)`` for every candidate, pick one by ``selection``, score the test set.

    Returns ``{"metrics": {"auc": ...}, "info": {"selected": params, "selection_auc": ...,
    "selection": ...}}``. ``split`` is a :class:`~semiad.core.data.splits.SemiSupervisedSplit` (possibly
    with features replaced by autoencoder codes for the hybrid methods).
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    if not candidates:
        raise ValueError("no hyperparameter candidates given")
    best: tuple[float, dict | None, BaseDetector | None] = (-np.inf, None, None)
    if selection == "test10":
        sel = stratified_subset(split.y_test, 0.1, rng)
        for params in candidates:
            det = make(**params).fit(split.X_train, split.y_semi)
            sel_auc = auc(split.y_test[sel], det.decision_function(split.X_test[sel]))
            if sel_auc > best[0]:
                best = (sel_auc, params, det)
        det = best[2]
    else:
        known = (split.y_semi == KNOWN_ANOMALY).astype(int)
        if known.sum() == 0:
            raise ValueError("validation selection needs labeled anomalies in the training set")
        val = stratified_subset(known, 0.2, rng)
        fit_rows = np.ones(len(known), bool)
        fit_rows[val] = False
        # the validation rows' own labels are hidden from the fit
        for params in candidates:
            cand = make(**params).fit(split.X_train[fit_rows], split.y_semi[fit_rows])
            val_auc = auc(known[val], cand.decision_function(split.X_train[val]))
            if val_auc > best[0]:
                best = (val_auc, params, None)
        det = make(**best[1]).fit(split.X_train, split.y_semi)
    return {"metrics": {"auc": auc(split.y_test, det.decision_function(split.X_test))},
            "info": {"selected": best[1], "selection_auc": best[0], "selection": selection}}
