"""The expert that the active methods ask, played by the ground truth: labels on request, each item once.

UaiNets' Algorithm 1 audits the top-k items of every round; RLAD (Sec. 5.3) asks a human expert for the
labels of the windows margin sampling picked. Both are this one oracle.
"""

from __future__ import annotations

import numpy as np


class Oracle:
    """Ground-truth labels (1 = anomaly, 0 = normal) revealed on request.

    Counts every query and refuses to reveal an item twice, so a loop that wastes its budget on
    repeats fails loudly instead of silently inflating a curve.

    Parameters
    ----------
    labels : array-like of shape (n_items,)
        The ground truth, 0 or 1 per item.

    Attributes
    ----------
    queried : ndarray of bool, shape (n_items,)
        Which items have been revealed so far.
    """

    def __init__(self, labels):
        self._labels = np.asarray(labels).astype(np.int64)
        if not np.isin(self._labels, (0, 1)).all():
            raise ValueError("oracle labels must be 0 (normal) or 1 (anomaly)")
        self.queried = np.zeros(len(self._labels), dtype=bool)

    @property
    def n_queries(self) -> int:
        """How many items have been revealed (the budget spent)."""
        return int(self.queried.sum())

    @property
    def n_anomalies(self) -> int:
        """How many anomalies the ground truth holds (for found-vs-budget curves)."""
        return int(self._labels.sum())

    def was_queried(self, indices) -> np.ndarray:
        """Whether each of ``indices`` has been revealed already."""
        return self.queried[np.asarray(indices, dtype=np.int64)]

    def query(self, indices) -> np.ndarray:
        """The labels of ``indices``: distinct items never revealed before (else ``ValueError``)."""
        idx = np.asarray(indices, dtype=np.int64)
        if len(np.unique(idx)) != len(idx):
            raise ValueError("a query contains the same item twice")
        if self.queried[idx].any():
            raise ValueError(f"items {idx[self.queried[idx]].tolist()} were already queried")
        self.queried[idx] = True
        return self._labels[idx].copy()
