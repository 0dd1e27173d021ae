"""Detection metrics and the paper's significance test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon
from sklearn.metrics import roc_auc_score


def auc(y_true, scores) -> float:
    """ROC AUC with ``y_true`` = 1 for anomalies and higher score = more anomalous."""
    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) != 2:
        raise ValueError("AUC needs both normal and anomalous samples in y_true")
    return float(roc_auc_score(y_true, scores))


def wilcoxon_first_vs_second(per_seed: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Paper's star: Wilcoxon signed-rank test between the best and second-best method.

    ``per_seed``: index = seed, columns = methods, values = AUC. Methods are ranked by mean AUC;
    the test pairs them seed by seed (two-sided, scipy's default zero handling).
    """
    means = per_seed.mean().sort_values(ascending=False)
    if len(means) < 2:
        return {"first": means.index[0] if len(means) else None, "second": None, "p": np.nan,
                "significant": False}
    first, second = means.index[0], means.index[1]
    pair = per_seed[[first, second]].dropna()
    diff = pair[first] - pair[second]
    if len(pair) < 2 or np.allclose(diff, 0):
        p = 1.0
    else:
        p = float(wilcoxon(pair[first], pair[second]).pvalue)
    return {"first": first, "second": second, "p": p, "significant": bool(p < alpha)}
