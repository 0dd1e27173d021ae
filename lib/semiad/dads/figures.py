"""Figures of the DADS Figure 2 notebook (one function per figure; tidy frames in, a Figure out)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from semiad.core import plotting
from semiad.dads import grid as dads
from semiad.dads.study import CTG

SUBSTITUTE_TITLES = {"shuttle_aad": "shuttle (substitute for HAR)"}


def _panel_title(protocol: str, dataset: str, feature_set: str) -> str:
    name = SUBSTITUTE_TITLES.get(dataset, dataset)
    if dataset == CTG:
        name += " (34 cols, leak-assisted)" if feature_set == "authors" else " (clean 21 cols)"
    return f"{protocol}\n{name}"


def protocol_curves(results: pd.DataFrame, protocols: list[str], metric: str = "auc_roc") -> Figure:
    """Figure 2 once per protocol: one row of panels per protocol (mean +- std over seeds vs
    contamination), every method, DADS drawn thick; CTG panels say which columns they read."""
    sub = pd.concat([results[results["protocol"] == p] for p in protocols])  # rows of panels in this order
    keys = ["protocol", "dataset", "feature_set", "contamination", "method"]
    table = (sub[sub["metric"] == metric].groupby(keys, sort=False)["value"].agg(["mean", "std"]) * 100
             ).reset_index()
    table["panel"] = [_panel_title(p, d, f) for p, d, f in
                      zip(table["protocol"], table["dataset"], table["feature_set"], strict=True)]
    table["contamination %"] = table["contamination"] * 100
    hues = [m.label for m in dads.METHODS if m.label in set(table["method"])]
    n_panels = table.loc[table["protocol"] == protocols[0], "panel"].nunique()
    return plotting.curves_by_panel(table, "panel", "contamination %", "method", ylabel="AUC-ROC (%)",
                                    hue_order=hues, highlight="DADS", ncols=n_panels)


def mechanism_bars(summary: pd.DataFrame) -> Figure:
    """Change of DADS's mean AUC-ROC (points) when one mechanism is switched to the other preset's
    values, one bar per mechanism, one panel per base protocol."""
    bases = list(dict.fromkeys(summary["base"]))
    rows = summary[summary["mechanism"] != "(base)"]
    height = 0.32 * rows.groupby("base").size().max() + 1.2
    fig, axes = plt.subplots(1, len(bases), figsize=(6.2 * len(bases), height), squeeze=False)
    for ax, base in zip(axes.flat, bases, strict=True):
        g = rows[rows["base"] == base].sort_values("change")
        colors = ["tab:red" if c < 0 else "tab:blue" for c in g["change"]]
        ax.barh(g["mechanism"], g["change"], xerr=g["std"] / g["n"] ** 0.5, color=colors, alpha=0.8)
        ax.axvline(0, color="k", lw=0.8)
        base_mean = summary.loc[(summary["base"] == base) & (summary["mechanism"] == "(base)"), "mean"]
        ax.set_title(f"{base} (DADS {float(base_mean.iloc[0]):.1f}) with one mechanism switched")
        ax.set_xlabel("change of AUC-ROC (points; bar: +- s.e.m. of the switched run)")
    fig.tight_layout()
    return fig


def learning_curves(curves: pd.DataFrame, panels, metrics=("episode_return", "val_auc", "size_A", "size_T",
                                                          "n_promoted", "promoted_precision")) -> Figure:
    """DADS per-episode logs (:func:`semiad.dads.grid.learning_curves`): mean over seeds, one
    line per contamination level, one row per panel."""
    fig, axes = plt.subplots(len(panels), len(metrics), figsize=(3.1 * len(metrics), 2.6 * len(panels)),
                             squeeze=False)
    for r, ds in enumerate(panels):
        sub = curves[curves["dataset"] == ds]
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            mean = sub.groupby(["contamination", "episode"])[metric].mean().unstack("contamination")
            if not mean.empty:
                mean.plot(ax=ax, marker=".", legend=(r == 0 and c == 0), cmap="viridis")
            ax.set_title(f"{ds}\n{metric}", fontsize=9)
            ax.set_xlabel("episode")
    fig.tight_layout()
    return fig
