"""Active anomaly detection: the oracle, the audit loop of UaiNets' Algorithm 1, and its traces.

Algorithm 1 (UaiNets, Sec. 3.1) with budget ``b`` and batch ``k``::

    i = 0; labels = {}
    while i < b:
        model.train(D, labels)                 # pre-training before the first round
        top_k = model.select_top(k, D, labels)  # the k highest-scored items not yet audited
        labels = labels U expert.query(top_k)
        i = i + k

Any :class:`~semiad.core.detectors.base.QueryStrategy` -- ``score() -> (n,)`` (higher = more
anomalous, for every pool item) and ``update(idx, labels)`` (feedback, 1 = anomaly, 0 = normal) --
can be driven by :func:`run_active_loop`: UaiNets (:mod:`semiad.uainets.model`), LODA-AAD and Tree-AAD
(:mod:`semiad.uainets.aad`). A purely unsupervised detector is the special case that ignores
feedback: :func:`static_trace` audits its fixed ranking.

The :class:`~semiad.core.oracle.Oracle` answers audits from the dataset's ground truth; any object with
the same ``query(idx) -> labels`` method and ``queried`` mask (e.g. a widget asking a human) can replace it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from semiad.core.detectors.base import QueryStrategy
from semiad.core.oracle import Oracle


@dataclass
class ActiveTrace:
    """What an active (or static) run audited, in order: ``order[j]`` is the j-th audited item."""

    order: np.ndarray
    labels: np.ndarray
    k: int
    n_anomalies: int
    snapshots: dict[int, dict] = field(default_factory=dict)

    @property
    def budget(self) -> int:
        return len(self.order)

    def found_curve(self) -> np.ndarray:
        """Anomalies found after each audit: ``found[b-1]`` = #anomalies among the first b audits."""
        return np.cumsum(self.labels)

    def found_at(self, budgets) -> np.ndarray:
        curve = np.concatenate(([0], self.found_curve()))
        return curve[np.minimum(np.asarray(budgets, dtype=np.int64), self.budget)]

    def precision_recall_f1(self, budget: int | None = None) -> dict[str, float]:
        """Precision / recall / F1 of "the audited items are the predicted anomalies" at a budget.

        At ``budget = #anomalies`` (the paper's Table 1 protocol) the three coincide.
        """
        b = self.budget if budget is None else int(budget)
        if not 0 < b <= self.budget:
            raise ValueError(f"budget {b} outside 1..{self.budget}")
        found = float(self.found_curve()[b - 1])
        p, r = found / b, found / max(self.n_anomalies, 1)
        return {"precision": p, "recall": r, "f1": 0.0 if found == 0 else 2 * p * r / (p + r)}


def _top_unaudited(scores: np.ndarray, audited: np.ndarray, k: int) -> np.ndarray:
    """The k highest-scored items not yet audited (ties broken by the lower index), best first."""
    masked = np.where(audited, -np.inf, np.asarray(scores, dtype=np.float64))
    masked = np.nan_to_num(masked, nan=-np.inf, posinf=np.finfo(np.float64).max)
    candidates = np.flatnonzero(~audited)
    k = min(k, len(candidates))
    if k == len(candidates):
        part = candidates
    else:
        part = np.argpartition(-masked, k - 1)[:k]
        # argpartition may cut ties arbitrarily: take every item tied with the k-th score, then sort
        kth = masked[part].min()
        part = np.flatnonzero((masked >= kth) & ~audited)
    return part[np.lexsort((part, -masked[part]))][:k]


def run_active_loop(detector: QueryStrategy, oracle: Oracle, budget: int, k: int,
                    snapshot_at: tuple[int, ...] = (),
                    snapshot: Callable[[QueryStrategy], dict] | None = None) -> ActiveTrace:
    """Algorithm 1 on a fitted detector: audit the top-k unaudited items until ``budget`` audits.

    The last round audits ``budget - i`` items when k does not divide the budget. ``snapshot``
    (e.g. latent codes for Figs. 9-10) is called when the number of audits first reaches each
    value of ``snapshot_at`` (0 = before the first round).
    """
    n = len(oracle.queried)
    if not 0 < budget <= n:
        raise ValueError(f"budget must lie in 1..{n} (the pool size), got {budget}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    order: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    snaps: dict[int, dict] = {}
    done = 0
    pending = sorted(set(snapshot_at))
    while True:
        while pending and pending[0] <= done and snapshot is not None:
            snaps[pending.pop(0)] = snapshot(detector)
        if done >= budget:
            break
        top = _top_unaudited(detector.score(), oracle.queried, min(k, budget - done))
        got = oracle.query(top)
        detector.update(top, got)
        order.append(top)
        labels.append(got)
        done += len(top)
    return ActiveTrace(np.concatenate(order), np.concatenate(labels), k, oracle.n_anomalies, snaps)


def static_trace(scores: np.ndarray, oracle: Oracle, budget: int) -> ActiveTrace:
    """An unsupervised ranking audited top-down (the DAE / Class / OC-SVM / random baselines)."""
    n = len(oracle.queried)
    if not 0 < budget <= n:
        raise ValueError(f"budget must lie in 1..{n} (the pool size), got {budget}")
    top = _top_unaudited(scores, oracle.queried, budget)
    return ActiveTrace(top, oracle.query(top), budget, oracle.n_anomalies)
