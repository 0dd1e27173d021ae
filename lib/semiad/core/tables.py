"""Paper-style tables from tidy results: mean ± std grids, best method + Wilcoxon star, comparisons."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from semiad.core.metrics import wilcoxon_first_vs_second
from semiad.core.reported import compare_to_paper, load_reported


def best_variant_per_column(results: pd.DataFrame, metric: str = "auc") -> pd.DataFrame:
    """Collapse method variants that compete for one paper column to the best by mean AUC.

    App. E reports "the better" Deep SVDD variant (one-class vs soft-boundary) per dataset; the
    choice is made here, per dataset, and recorded in the ``chosen_variant`` column.
    """
    ok = results[(results["metric"] == metric)]
    means = ok.groupby(["dataset", "table_column", "method"])["value"].mean().reset_index()
    best = means.sort_values("value", ascending=False).drop_duplicates(["dataset", "table_column"])
    chosen = best.set_index(["dataset", "table_column"])["method"]
    keep = ok.set_index(["dataset", "table_column"]).index.map(chosen.to_dict().get) == ok["method"]
    out = ok[keep].copy()
    out["chosen_variant"] = out["method"]
    out["method"] = out["table_column"]
    return out


def summary_table(results: pd.DataFrame, columns: Sequence[str], metric: str = "auc",
                  scale: float = 100.0) -> pd.DataFrame:
    """Dataset x paper-column table of ``mean±std`` (AUC in %), ``★`` marks a significant
    Wilcoxon difference between 1st and 2nd (paper Table 2 caption), ``—`` = not run here."""
    per_col = best_variant_per_column(results, metric)
    per_col = per_col[per_col["method"].isin(columns)]  # rank only the paper's columns
    table = pd.DataFrame(index=sorted(per_col["dataset"].unique()), columns=list(columns),
                         dtype=object)
    table[:] = "—"
    for ds, grp in per_col.groupby("dataset"):
        pivot = grp.pivot_table(index="seed", columns="method", values="value") * scale
        test = wilcoxon_first_vs_second(pivot)
        for col in pivot.columns:
            if col not in table.columns:
                continue
            vals = pivot[col].dropna()
            cell = f"{vals.mean():.1f}±{vals.std(ddof=1) if len(vals) > 1 else 0:.1f}"
            if col == test["first"]:
                cell = f"**{cell}**" + ("★" if test["significant"] else "")
            table.loc[ds, col] = cell
        failed = results[(results["dataset"] == ds) & (results["status"] != "ok")]
        for col in failed["table_column"].unique():
            if col in table.columns:
                table.loc[ds, col] = f"failed ({(failed['table_column'] == col).sum()} runs)"
    table.index.name = "dataset"
    return table


def wilcoxon_summary(results: pd.DataFrame, columns: Sequence[str],
                     metric: str = "auc") -> pd.DataFrame:
    """Per dataset: best and second-best paper column, their mean AUCs and the Wilcoxon p-value."""
    per_col = best_variant_per_column(results, metric)
    per_col = per_col[per_col["method"].isin(columns)]
    rows = []
    for ds, grp in per_col.groupby("dataset"):
        pivot = grp.pivot_table(index="seed", columns="method", values="value") * 100
        test = wilcoxon_first_vs_second(pivot)
        rows.append({"dataset": ds, "first": test["first"], "second": test["second"],
                     "first_mean": pivot[test["first"]].mean(),
                     "second_mean": pivot[test["second"]].mean() if test["second"] else np.nan,
                     "wilcoxon_p": test["p"], "significant": test["significant"]})
    return pd.DataFrame(rows)


def comparison_table(results: pd.DataFrame, reported: str, metric: str = "auc",
                     missing_note: str = "not run") -> pd.DataFrame:
    """Paper mean/std vs ours per (dataset, paper column); missing cells stay visibly empty."""
    per_col = best_variant_per_column(results, metric)
    ours = (per_col.groupby(["dataset", "method"])
            .agg(mean=("value", "mean"), std=("value", "std"), n=("value", "count"),
                 chosen_variant=("chosen_variant", "first")).reset_index())
    ours[["mean", "std"]] *= 100
    paper = load_reported(reported)
    paper = paper[paper["dataset"].isin(results["dataset"].unique())]
    return compare_to_paper(ours, paper, ["dataset", "method"], missing_note)
