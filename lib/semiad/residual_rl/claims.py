"""The abstract's claims on our residual-map run, and the tables the notebook shows.

Lee, Kim, Kang (ITC-CSCC 2022) publish no numbers; the abstract claims that a deep-RL policy on the CAE
residual map "significantly improves detection performance without changing the residual map" (against the
threshold + minimum-area rule) and "can be further enhanced depending on the input to the policy network".
:func:`check_claims` tests both on the tidy results of :func:`semiad.residual_rl.grid.run_residual_grid`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semiad.residual_rl.grid import BASELINE, METHOD_ORDER, VARIANT_LABELS

#: What a CAE cell's record says about its split and its threshold search (the notebook's table).
CAE_INFO = ("n_cae_train", "n_val_good", "n_labeled", "n_test", "n_test_defective", "threshold", "min_area",
            "val_balanced_accuracy")


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per method and metric (values in %), one row per method."""
    sub = results[results["metric"].isin(["accuracy", "f1", "auc_roc", "auc_roc_pixel"])]
    agg = sub.groupby(["dataset", "setting", "method", "metric"])["value"].agg(["mean", "std", "count"])
    agg[["mean", "std"]] *= 100
    cell = agg["mean"].map("{:.1f}".format) + " ± " + agg["std"].fillna(0).map("{:.1f}".format)
    table = cell.unstack("metric").reindex(columns=[c for c in ("accuracy", "f1", "auc_roc", "auc_roc_pixel")
                                                    if c in set(sub["metric"])])
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    return table.sort_index(level="method", key=lambda idx: idx.map(lambda m: order.get(m, 99)))


def _means(results: pd.DataFrame, metric: str) -> pd.Series:
    return results[results["metric"] == metric].groupby("method")["value"].mean()


def _wins(results: pd.DataFrame, method: str, other: str, metric: str = "accuracy") -> str:
    """"k of n": runs (dataset, setting, seed) where ``method`` beats ``other`` on ``metric``."""
    sub = results[results["metric"] == metric].pivot_table(index=["dataset", "setting", "seed"],
                                                           columns="method", values="value")
    if method not in sub or other not in sub:
        return "0 of 0"
    pair = sub[[method, other]].dropna()
    return f"{int((pair[method] > pair[other]).sum())} of {len(pair)}"


def check_claims(results: pd.DataFrame) -> pd.DataFrame:
    """The abstract's two claims on our run (means over seeds and categories), with the evidence.

    Each claim is checked twice: on the *decisions* (test accuracy, and F1 for claim 1: what the
    threshold rule and the policy's greedy action output) and on the *ranking* (AUC-ROC of the
    continuous scores), because the two can disagree.
    """
    acc, f1, auc = _means(results, "accuracy"), _means(results, "f1"), _means(results, "auc_roc")
    a, b, c = (VARIANT_LABELS[k] for k in "ABC")
    rows = []

    def fmt(s: pd.Series, m: str) -> str:
        return f"{100 * s.get(m, np.nan):.1f}"

    if a in acc and BASELINE in acc:
        rows.append({"claim": "(1) decisions: the policy on the residual map alone (A) beats the threshold + "
                              "min-area rule on the same residual map (test accuracy and F1)",
                     "holds": bool(acc[a] > acc[BASELINE] and f1[a] > f1[BASELINE]),
                     "evidence": f"accuracy {fmt(acc, a)} vs {fmt(acc, BASELINE)}, more accurate in "
                                 f"{_wins(results, a, BASELINE)} runs; F1 {fmt(f1, a)} vs "
                                 f"{fmt(f1, BASELINE)} (%)"})
        rows.append({"claim": "(1) ranking: policy A's P(anomalous) beats the baseline's score "
                              "(test AUC-ROC)",
                     "holds": bool(auc[a] > auc[BASELINE]),
                     "evidence": f"AUC-ROC {fmt(auc, a)} vs {fmt(auc, BASELINE)} (%), higher in "
                                 f"{_wins(results, a, BASELINE, 'auc_roc')} runs"})
        best = max((m for m in (a, b, c) if m in acc), key=lambda m: acc[m])
        rows.append({"claim": "(1') decisions: the best policy variant beats the threshold + min-area rule "
                              "(test accuracy)",
                     "holds": bool(acc[best] > acc[BASELINE]),
                     "evidence": f"best: {best} {fmt(acc, best)} vs {fmt(acc, BASELINE)} (%), more accurate "
                                 f"in {_wins(results, best, BASELINE)} runs"})
    if all(m in acc for m in (a, b, c)):
        rows.append({"claim": "(2) decisions: richer policy input helps — B (+ image) and C (+ image + SSIM) "
                              "beat A (test accuracy)",
                     "holds": bool(acc[b] > acc[a] and acc[c] > acc[a]),
                     "evidence": f"accuracy A {fmt(acc, a)}, B {fmt(acc, b)}, C {fmt(acc, c)} (%)"})
        rows.append({"claim": "(2) ranking: B and C beat A (test AUC-ROC)",
                     "holds": bool(auc[b] > auc[a] and auc[c] > auc[a]),
                     "evidence": f"AUC-ROC A {fmt(auc, a)}, B {fmt(auc, b)}, C {fmt(auc, c)} (%); B > A in "
                                 f"{_wins(results, b, a, 'auc_roc')}, C > A in "
                                 f"{_wins(results, c, a, 'auc_roc')} runs"})
    out = pd.DataFrame(rows)
    if not out.empty:
        out.insert(1, "paper", "stated in the abstract; no numbers published")
    return out


def cell_cost(results: pd.DataFrame) -> pd.DataFrame:
    """Cells and CPU minutes per kind (CAE cells, policy cells); cached cells cost nothing."""
    cells = results.drop_duplicates("cell")
    kind = np.where(cells["method"].str.startswith("policy"), "policy cells", "CAE cells")
    cost = cells.assign(kind=kind).groupby("kind")["runtime_s"].agg(["count", "sum"])
    return cost.assign(cpu_min=lambda d: d["sum"] / 60).round(2)


def cae_table(cae_records: list[dict]) -> pd.DataFrame:
    """Per CAE cell: the split sizes, the chosen threshold and minimum area, and the validation balanced
    accuracy of that choice."""
    return pd.DataFrame([{"category": r["config"]["category"], "seed": r["config"]["seed"],
                          **{k: r["info"][k] for k in CAE_INFO}}
                         for r in cae_records if r["status"] == "ok"]).round(4)
