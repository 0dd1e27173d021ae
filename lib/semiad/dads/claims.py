"""The claims of DADS's Figure 2 on our results, and the tables the notebook shows beside the figure.

The figure survives only as a caption, so there are no numbers to compare with; the paper's text
(Sec. "Experiments") makes two claims, checked here per protocol arm:

1. "DADS still achieves the best overall performance", although "inferior to the supervised method
   [XGBoost] in annthyroid" (:func:`check_claims`, from :func:`overall_ranking`);
2. "all methods except DADS show varying degrees of decline as the contamination ratio increases" — a
   curve declines when the least-squares slope of AUC over contamination (all seeds) is negative with
   p < 0.05 (:func:`contamination_trend`, ``scipy.stats.linregress``).

Tables take the tidy results of :func:`semiad.dads.study.run_protocol_study` (AUCs in [0, 1]) and give
percentages.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from semiad.dads.grid import METHODS, PAPER_DATASETS
from semiad.dads.study import ABLATION, CTG, REPRODUCTION

#: What ``comparison.csv`` says of the paper's side: the claims are sentences, not numbers.
PAPER_SOURCE = "stated in the text (Sec. Experiments)"


def figure2_table(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """Mean and std (over seeds) per dataset x contamination x method (AUC in %)."""
    sub = results[results["metric"] == metric]
    table = sub.groupby(["dataset", "contamination", "method"])["value"].agg(["mean", "std", "count"])
    table[["mean", "std"]] *= 100
    return table.round(2).reset_index()


def contamination_trend(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """Per dataset and method: slope of AUC (points per 1% contamination) by least squares over all
    (contamination, seed) runs, with the p-value of a zero-slope test (scipy ``linregress``)."""
    rows = []
    sub = results[(results["metric"] == metric) & results["value"].notna()]
    for (ds, method), g in sub.groupby(["dataset", "method"]):
        if g["contamination"].nunique() < 2:
            continue
        fit = stats.linregress(g["contamination"] * 100, g["value"] * 100)
        drop = (g[g["contamination"] == g["contamination"].min()]["value"].mean()
                - g[g["contamination"] == g["contamination"].max()]["value"].mean()) * 100
        rows.append({"dataset": ds, "method": method, "slope_per_pct": fit.slope,
                     "p_value": fit.pvalue, "auc_drop_0_to_max": drop,
                     "declines": bool(fit.slope < 0 and fit.pvalue < 0.05)})
    return pd.DataFrame(rows).round(4)


def overall_ranking(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """Mean AUC (%) per dataset and method over all contaminations and seeds, plus the rank."""
    sub = results[results["metric"] == metric]
    table = (sub.groupby(["dataset", "method"])["value"].mean() * 100).unstack("dataset")
    table["all datasets"] = table.mean(axis=1)
    return table.round(2).sort_values("all datasets", ascending=False)


def check_claims(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """The paper's two claims, evaluated on our results (True/False with the evidence)."""
    ranking = overall_ranking(results, metric)
    trend = contamination_trend(results, metric)
    rows = []
    if "DADS" in ranking.index:
        overall = ranking["all datasets"]
        best = overall.idxmax()
        rows.append({"claim": "DADS has the best overall AUC-ROC (mean over datasets)",
                     "holds": best == "DADS",
                     "evidence": f"best overall: {best} ({overall[best]:.1f}); DADS {overall['DADS']:.1f}"})
        for ds in [c for c in ranking.columns if c != "all datasets"]:
            winner = ranking[ds].idxmax()
            expected = "XGBoost" if ds == "annthyroid" else "DADS"
            source = "paper" if ds in PAPER_DATASETS else "paper's overall claim; substitute panel"
            rows.append({"claim": f"best on {ds}: {expected} ({source})", "holds": winner == expected,
                         "evidence": f"ours: {winner} ({ranking.loc[winner, ds]:.1f}), "
                         f"DADS {ranking.loc['DADS', ds]:.1f}"})
    if not trend.empty:
        others = trend[trend["method"] != "DADS"]
        dads = trend[trend["method"] == "DADS"]
        rows.append({"claim": "all methods except DADS decline as contamination grows",
                     "holds": bool(others["declines"].all()) and not bool(dads["declines"].any()),
                     "evidence": f"significant declines: {int(others['declines'].sum())}/{len(others)} "
                     f"baseline curves, {int(dads['declines'].sum())}/{len(dads)} DADS curves"})
    return pd.DataFrame(rows)




def claims_by_arm(results: pd.DataFrame) -> pd.DataFrame:
    """:func:`check_claims` for each protocol with its own CTG columns, and for
    each with the other CTG columns (CTG claims only: the swap arms cover CTG alone)."""
    out = []
    for proto, sub in results.groupby("protocol", sort=False):
        claims = check_claims(sub)
        if sub["dataset"].nunique() == 1:  # a swap arm: only the per-panel claims are meaningful
            claims = claims[claims["claim"].str.contains(CTG) | claims["claim"].str.startswith("all methods")]
        fs = ", ".join(sorted(set(sub.loc[sub["dataset"] == CTG, "feature_set"])))
        leak = " (leak-assisted)" if "authors" in fs else ""
        out.append(claims.assign(protocol=proto, role=sub["role"].iloc[0], ctg_columns=fs + leak))
    columns = ["protocol", "role", "ctg_columns", "claim", "holds", "evidence"]
    return pd.concat(out, ignore_index=True)[columns]


def feature_set_table(results: pd.DataFrame, metric: str = "auc_roc") -> pd.DataFrame:
    """CTG: mean AUC (%) per method over the contamination levels both column sets ran, one column per
    (protocol, feature set), and the change the 13 extra columns bring under each protocol."""
    ctg = results[(results["dataset"] == CTG) & (results["metric"] == metric)]
    ctg = ctg.assign(base=ctg["protocol"].str.split(" | ", regex=False).str[0])
    parts = []
    for _, g in ctg.groupby("base"):  # per base protocol, the levels both of its column sets ran
        levels = set.intersection(*(set(f["contamination"]) for _, f in g.groupby("feature_set")))
        parts.append(g[g["contamination"].isin(levels)])
    ctg = pd.concat(parts)
    table = ctg.groupby(["method", "base", "feature_set"])["value"].mean().mul(100).unstack(
        ["base", "feature_set"])
    for b in table.columns.get_level_values(0).unique():
        if {(b, "authors"), (b, "clean21")} <= set(table.columns):
            table[(b, "extra columns: change")] = table[(b, "authors")] - table[(b, "clean21")]
    order = [m.label for m in METHODS if m.label in table.index]
    return table.loc[order].sort_index(axis=1).round(1)


# ---------------------------------------------------------------------------------------------
# the notebook's tables
def figure2_pivot(results: pd.DataFrame, protocol: str, metric: str = "auc_roc") -> pd.DataFrame:
    """Figure 2 of one protocol as a table: "mean ± std" (%, over seeds) per (dataset, contamination)
    row and method column, methods in the paper's legend order."""
    table = figure2_table(results[results["protocol"] == protocol], metric)
    cell = table["mean"].map("{:.1f}".format) + " ± " + table["std"].map("{:.1f}".format)
    order = [m.label for m in METHODS if m.label in set(table["method"])]
    return table.assign(cell=cell).pivot_table(index=["dataset", "contamination"], columns="method",
                                               values="cell", aggfunc="first")[order]


def figure2_tables(results: pd.DataFrame, protocols=(REPRODUCTION.name, ABLATION.name),
                   metric: str = "auc_roc") -> dict[str, pd.DataFrame]:
    """:func:`figure2_pivot` for each protocol, by protocol name."""
    return {p: figure2_pivot(results, p, metric) for p in protocols}


def known_vs_unknown(results: pd.DataFrame, protocol: str = REPRODUCTION.name) -> pd.DataFrame:
    """Mean AUC-ROC (%) per method and panel against the known-class and the unknown-class anomalies of
    the test set (the paper's motivation: detecting unknown anomalies)."""
    sub = results[results["protocol"] == protocol]
    known = overall_ranking(sub, "auc_roc_known").add_suffix(" | known")
    unknown = overall_ranking(sub, "auc_roc_unknown").add_suffix(" | unknown")
    return known.join(unknown).round(1)


def rankings(results: pd.DataFrame, protocols=(REPRODUCTION.name, ABLATION.name)) -> pd.DataFrame:
    """:func:`overall_ranking` of each protocol, stacked under a ``protocol`` index level."""
    return pd.concat({p: overall_ranking(results[results["protocol"] == p]) for p in protocols},
                     names=["protocol"])


def comparison(results: pd.DataFrame) -> pd.DataFrame:
    """``comparison.csv``: :func:`claims_by_arm` with the paper's side (a sentence) beside our evidence."""
    claims = claims_by_arm(results)
    claims.insert(3, "paper", PAPER_SOURCE)
    return claims


def search_summary(curves: pd.DataFrame) -> pd.DataFrame:
    """What the search did by the end of its last episode (:func:`semiad.dads.grid.learning_curves`):
    promoted U rows, the share of true anomalies among them, |T|; mean over seeds per panel and level."""
    last = curves.sort_values("episode").groupby(["dataset", "contamination", "seed"]).tail(1)
    return (last.groupby(["dataset", "contamination"])[["n_promoted", "promoted_precision", "size_T"]]
            .mean().round(2))
