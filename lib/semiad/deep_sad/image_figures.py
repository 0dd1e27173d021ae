"""Figures and small summaries of the Deep SAD image experiments (Ruff et al., ICLR 2020, Figs. 2-9).

Everything here works on the tidy frames of :mod:`semiad.deep_sad.images` (``results``,
``point_summary``, ``wilcoxon_first_second``, ``paper_comparison``) and trains nothing:

* :func:`scenario_curves` — Figs. 2-4: mean ± std AUC per method over gamma_l / gamma_p / k_l, one panel per
  dataset, a star where the 1st and 2nd best differ significantly, the paper's means dashed.
* :func:`sensitivity_curve` — Figs. 5-6: the same over eta or d, with the paper's value at the default.
* :func:`first_vs_second_scatter` — Figs. 7-9: per experiment the AUC of the 1st (y) vs the 2nd method (x).
* :func:`table_mean_std`, :func:`comparison_summary`, :func:`sensitivity_comparison`,
  :func:`scatter_comparison` — the tables the notebooks print next to the figures (the claim checks are in
  :mod:`semiad.deep_sad.claims`).

x values are drawn at evenly spaced categorical positions labelled with their values (the paper's
gamma grids {0, .01, .05, .1, .2}, eta in {1e-2, ..., 1e2} and d in {16, ..., 512} are all log-like).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

STAR = "★"
STAR_GID = "significance-star"
IDENTITY_GID = "identity-line"
X_NAMES = ("x", "gamma_l", "gamma_p", "k_l", "eta", "rep_dim")
#: Figs. 7-9 (CIFAR-10): (1st, 2nd) method per point. The 2nd is the x-axis label of each panel (App. A);
#: the 1st (the rotated y-axis label, unreadable in the text extraction) is the best FIG_COLUMNS method of
#: the paper's Tables 3-5 at that point, which matches every 2nd label. Fig. 9's extracted text holds the
#: panels k_l = 1, 2, 3 only.
PAPER_SCATTER_PAIRS: dict[str, dict[float, tuple[str, str]]] = {
    "labeled": {0.01: ("SSAD Raw", "Deep SAD"), 0.05: ("Deep SAD", "SSAD Hybrid"),
                0.1: ("Deep SAD", "SSAD Hybrid"), 0.2: ("Deep SAD", "Supervised Classifier")},
    "pollution": {0.0: ("Deep SAD", "SSAD Raw"), 0.01: ("Deep SAD", "SSAD Raw"),
                  0.05: ("Deep SAD", "SSAD Raw"), 0.1: ("Deep SAD", "SSAD Raw"),
                  0.2: ("Deep SAD", "SSAD Hybrid")},
    "known_classes": {1.0: ("Deep SAD", "SSAD Raw"), 2.0: ("Deep SAD", "SSAD Raw"),
                      3.0: ("Deep SAD", "SSAD Raw")},
}
SCENARIO_FIGURES = {"labeled": ("fig7", "gamma_l"), "pollution": ("fig8", "gamma_p"),
                    "known_classes": ("fig9", "k_l")}


# ------------------------------------------------------------------------------------------ helpers
def _x_name(frame: pd.DataFrame) -> str:
    """The column holding the curve point (``x`` or the paper's name for it)."""
    for name in X_NAMES:
        if name in frame.columns:
            return name
    raise ValueError(f"frame has none of the x columns {X_NAMES}")


def fmt_x(value: float) -> str:
    """Compact tick label: 0.05 -> '.05', 1.0 -> '1', 100.0 -> '100'."""
    text = f"{float(value):g}"
    return text[1:] if text.startswith("0.") else text


def x_positions(values: Sequence[float]) -> dict[float, int]:
    """Evenly spaced categorical positions of the sorted unique x values."""
    return {float(v): i for i, v in enumerate(sorted({float(v) for v in values}))}


#: Fixed colours of the figures' methods (seaborn "colorblind"); Deep SAD in the strongest one.
METHOD_COLORS: dict[str, str] = {
    "OC-SVM Raw": "#de8f05", "OC-SVM Hybrid": "#0173b2", "Deep SVDD": "#029e73", "SSAD Raw": "#cc78bc",
    "SSAD Hybrid": "#56b4e9", "Supervised Classifier": "#949494", "Deep SAD": "#d55e00",
}


def method_palette(methods: Sequence[str]) -> dict[str, object]:
    """A colour per method: :data:`METHOD_COLORS` where defined, else the "tab10" palette in order."""
    methods = list(dict.fromkeys(methods))
    others = iter(sns.color_palette("tab10", max(len(methods), 1)))
    return {m: METHOD_COLORS[m] if m in METHOD_COLORS else next(others) for m in methods}


def _set_x_axis(ax: Axes, pos: Mapping[float, int], label: str) -> None:
    ax.set_xticks(list(pos.values()))
    ax.set_xticklabels([fmt_x(v) for v in pos])
    ax.set_xlim(-0.3, max(len(pos) - 0.7, 0.3))
    ax.set_xlabel(label)


def _panel_grid(n: int, ncols: int | None = None, size: tuple[float, float] = (4.2, 3.4)
                ) -> tuple[Figure, np.ndarray]:
    ncols = max(1, min(ncols or n, n))
    nrows = math.ceil(n / ncols)
    width = max(size[0] * ncols, 6.0)  # room for the legend / title below a single panel
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, size[1] * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def _curve(ax: Axes, sub: pd.DataFrame, pos: Mapping[float, int], color, label: str, lw: float = 1.5) -> None:
    """One method's mean line (solid, markers) and its mean ± std band."""
    sub = sub.sort_values("x")
    xs = [pos[float(v)] for v in sub["x"]]
    ax.plot(xs, sub["mean"], marker="o", ms=4, lw=lw, color=color, label=label, zorder=3)
    std = sub["std"].fillna(0)
    ax.fill_between(xs, sub["mean"] - std, sub["mean"] + std, color=color, alpha=0.13, lw=0, zorder=1)


def _paper_curve(ax: Axes, sub: pd.DataFrame, pos: Mapping[float, int], color) -> None:
    """The paper's means of one method (dashed, open markers) at the x values we also ran."""
    sub = sub[sub["x"].astype(float).isin(list(pos))].dropna(subset=["paper_mean"]).sort_values("x")
    if sub.empty:
        return
    xs = [pos[float(v)] for v in sub["x"]]
    ax.plot(xs, sub["paper_mean"], ls="--", marker="s", ms=4, mfc="none", lw=1.0, color=color, alpha=0.8,
            zorder=2, gid="paper-curve")


def _stars(ax: Axes, tests: pd.DataFrame, summary: pd.DataFrame, pos: Mapping[float, int]) -> int:
    """A star above the best method's band where its Wilcoxon test against the 2nd is significant."""
    n = 0
    for _, row in tests[tests["significant"].astype(bool)].iterrows():
        top = summary[(summary["x"].astype(float) == float(row["x"])) & (summary["method"] == row["first"])]
        if top.empty or float(row["x"]) not in pos:
            continue
        y = float(top["mean"].iloc[0] + np.nan_to_num(top["std"].iloc[0]))
        ax.annotate(STAR, (pos[float(row["x"])], y), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize=11, color="black", gid=STAR_GID)
        n += 1
    return n


def _legend(fig: Figure, palette: Mapping[str, tuple], paper: bool, extra: Sequence[Line2D] = ()) -> None:
    handles = [Line2D([], [], color=c, marker="o", ms=4, label=m) for m, c in palette.items()]
    if paper:
        handles.append(Line2D([], [], color="0.3", ls="--", marker="s", mfc="none", ms=4,
                              label="paper (mean)"))
    handles += list(extra)
    ncol = max(1, min(len(handles), int(fig.get_figwidth() / 1.7)))
    fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False, bbox_to_anchor=(0.5, -0.01))
    rows = math.ceil(len(handles) / ncol)
    fig.tight_layout(rect=(0, 0.06 * rows, 1, 1))


# ------------------------------------------------------------------------------------------ figures
def scenario_curves(summary: pd.DataFrame, wilcoxon: pd.DataFrame | None = None, x_label: str = "x",
                    columns: Sequence[str] | None = None, paper: pd.DataFrame | None = None,
                    datasets: Sequence[str] | None = None, ylabel: str = "AUC (%)",
                    legend_extra: Sequence[Line2D] = ()) -> Figure:
    """Figs. 2-4: one panel per dataset, mean ± std AUC (%) per method over x (ours solid with a band).

    ``summary`` is :func:`~semiad.deep_sad.images.point_summary` (dataset, x, method, mean, std);
    ``wilcoxon`` (:func:`~semiad.deep_sad.images.wilcoxon_first_second`) adds a star above the
    best method's point where ``significant``; ``paper`` (a ``paper_comparison`` table: dataset, x or the
    paper's x name, method, paper_mean) adds the paper's means dashed with open squares.
    """
    columns = list(columns or dict.fromkeys(summary["method"]))
    summary = summary[summary["method"].isin(columns)]
    datasets = list(datasets or dict.fromkeys(summary["dataset"]))
    if summary.empty or not datasets:
        raise ValueError("summary has no rows for the requested columns")
    palette = method_palette(columns)
    if paper is not None:
        paper = paper.rename(columns={_x_name(paper): "x"})
    fig, axes = _panel_grid(len(datasets))
    for ax, ds in zip(axes.flat, datasets, strict=False):
        sub = summary[summary["dataset"] == ds]
        pos = x_positions(sub["x"])
        for m in columns:
            if (sub["method"] == m).any():
                _curve(ax, sub[sub["method"] == m], pos, palette[m], m, 2.4 if m == "Deep SAD" else 1.4)
            if paper is not None:
                _paper_curve(ax, paper[(paper["dataset"] == ds) & (paper["method"] == m)], pos, palette[m])
        if wilcoxon is not None and len(wilcoxon):
            _stars(ax, wilcoxon[wilcoxon["dataset"] == ds], sub, pos)
        _set_x_axis(ax, pos, x_label)
        ax.set_title(str(ds))
        ax.set_ylabel(ylabel)
    _legend(fig, {m: palette[m] for m in columns if (summary["method"] == m).any()}, paper is not None,
            legend_extra)
    return fig


def sensitivity_curve(summary: pd.DataFrame, x_label: str, columns: Sequence[str] | None = None,
                      reference: pd.DataFrame | None = None,
                      default_x: Mapping[str, float] | float | None = None,
                      datasets: Sequence[str] | None = None,
                      reference_label: str = "paper: Table 4, γ_p = .1") -> Figure:
    """Figs. 5-6: mean ± std AUC (%) over eta or d per method, one panel per dataset.

    ``reference`` (dataset, method, paper_mean, paper_std; e.g. Table 4 at gamma_p = .1, the same setting)
    is drawn as a dashed horizontal line with a light ± std band; ``default_x`` (one value or one per dataset)
    as a dotted vertical line at the default eta / d.
    """
    extra = []
    if reference is not None:
        extra.append(Line2D([], [], color="0.3", ls="--", lw=1, label=reference_label))
    if default_x is not None:
        extra.append(Line2D([], [], color="0.4", ls=":", lw=1, label="default"))
    fig = scenario_curves(summary, None, x_label, columns, None, datasets, legend_extra=extra)
    columns = list(columns or dict.fromkeys(summary["method"]))
    palette = method_palette(columns)
    datasets = list(datasets or dict.fromkeys(summary[summary["method"].isin(columns)]["dataset"]))
    for ax, ds in zip(fig.axes, datasets, strict=False):
        pos = x_positions(summary.loc[summary["dataset"] == ds, "x"])
        d = default_x.get(ds) if isinstance(default_x, Mapping) else default_x
        if d is not None and float(d) in pos:
            ax.axvline(pos[float(d)], color="0.4", ls=":", lw=1, gid="default-x")
        if reference is None:
            continue
        for _, row in reference[reference["dataset"] == ds].iterrows():
            if row["method"] in palette:
                ax.axhline(row["paper_mean"], color=palette[row["method"]], ls="--", lw=1,
                           gid="paper-reference")
                ax.axhspan(row["paper_mean"] - row["paper_std"], row["paper_mean"] + row["paper_std"],
                           color=palette[row["method"]], alpha=0.06, lw=0)
    return fig


def first_second_pairs(results: pd.DataFrame, wilcoxon: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Per (x, experiment) of ``dataset``: the AUCs of the 1st and the 2nd method of ``wilcoxon``."""
    from semiad.deep_sad.images import best_variants

    chosen = best_variants(results[results["dataset"] == dataset])
    rows = []
    for _, t in wilcoxon[wilcoxon["dataset"] == dataset].iterrows():
        at = chosen[chosen["x"].astype(float) == float(t["x"])]
        wide = at.pivot_table(index="experiment", columns="method", values="value")
        if t["first"] not in wide or t["second"] not in wide:
            continue
        pair = wide[[t["first"], t["second"]]].dropna()
        rows += [{"dataset": dataset, "x": float(t["x"]), "experiment": e, "first": t["first"],
                  "second": t["second"], "first_auc": a, "second_auc": b}
                 for e, a, b in zip(pair.index, pair[t["first"]], pair[t["second"]], strict=True)]
    return pd.DataFrame(rows, columns=["dataset", "x", "experiment", "first", "second", "first_auc",
                                       "second_auc"])


def _scatter_panel(ax: Axes, sub: pd.DataFrame, title: str) -> None:
    """One Fig. 7-9 panel: 1st (y) vs 2nd (x) AUC per experiment, the identity line, the share above it."""
    lo = math.floor(min(sub["first_auc"].min(), sub["second_auc"].min(), 0.9) * 10) / 10
    ax.plot([lo, 1], [lo, 1], color="black", lw=1, gid=IDENTITY_GID, zorder=1)
    ax.scatter(sub["second_auc"], sub["first_auc"], s=14, alpha=0.75, color="#0173b2", zorder=2)
    ax.set(xlim=(lo, 1.0), ylim=(lo, 1.0), aspect="equal")
    ax.set_xlabel(f"2nd {sub['second'].iloc[0]}")
    ax.set_ylabel(f"1st {sub['first'].iloc[0]}")
    above = float(np.mean(sub["first_auc"] > sub["second_auc"]))
    ax.set_title(f"{title}  ({above:.0%} above)", fontsize=9)


def first_vs_second_scatter(results: pd.DataFrame, wilcoxon: pd.DataFrame, dataset: str | Sequence[str],
                            x_name: str = "x") -> Figure:
    """Figs. 7-9: one panel per x (one row per dataset); per experiment the AUC of the 1st method (y) vs the
    2nd (x), with the identity line.

    Points above the line are experiments where the 1st method beats the 2nd (App. A: "if most points fall
    above the identity line, [...] the best method indeed significantly outperforms the second best").
    """
    datasets = [dataset] if isinstance(dataset, str) else list(dataset)
    pairs = pd.concat([first_second_pairs(results, wilcoxon, ds) for ds in datasets], ignore_index=True)
    if pairs.empty:
        raise ValueError(f"no paired 1st/2nd AUCs for {datasets}")
    datasets = [ds for ds in datasets if (pairs["dataset"] == ds).any()]
    xs = sorted(pairs["x"].unique())
    fig, axes = plt.subplots(len(datasets), len(xs), figsize=(max(3.0 * len(xs), 6.0), 3.1 * len(datasets)),
                             squeeze=False)
    for row, ds in zip(axes, datasets, strict=True):
        for ax, x in zip(row, xs, strict=True):
            sub = pairs[(pairs["dataset"] == ds) & (pairs["x"] == x)]
            if sub.empty:
                ax.set_visible(False)
                continue
            _scatter_panel(ax, sub, f"{ds}, {x_name} = {fmt_x(x)}")
    fig.suptitle("AUC per experiment: best (1st) vs second best (2nd) method")
    fig.tight_layout()
    return fig


def subsample_curve(effect: pd.DataFrame) -> Figure:
    """AUC (%) of the capped shallow raw methods vs the training-row cap (``run_subsample_effect``)."""
    auc = effect[effect["metric"] == "auc"]
    best = (auc.groupby(["cap", "table_column", "method"])["value"].mean().reset_index()
            .sort_values("value", ascending=False).drop_duplicates(["cap", "table_column"]))
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    palette = method_palette(list(dict.fromkeys(best["table_column"])))
    for col, sub in best.groupby("table_column", sort=False):
        sub = sub.sort_values("cap")
        ax.plot(sub["cap"], 100 * sub["value"], marker="o", ms=4, color=palette[col], label=col)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(best["cap"].unique()))
    ax.set_xticklabels([str(int(c)) for c in sorted(best["cap"].unique())])
    ax.set(xlabel="training rows (cap)", ylabel="AUC (%)", title=f"{auc['dataset'].iloc[0]}: cost of the cap")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ tables
def table_mean_std(summary: pd.DataFrame, columns: Sequence[str], wilcoxon: pd.DataFrame | None = None,
                   x_name: str = "x") -> pd.DataFrame:
    """Tables 3-5 layout: rows (dataset, x), one ``mean±std`` column per paper column, ``—`` = not run;
    the best of ``wilcoxon``'s columns is bold and starred where significant."""
    cells = [f"{m:.1f}" + ("" if s != s else f"±{s:.1f}") for m, s in zip(summary["mean"], summary["std"],
                                                                          strict=True)]
    table = summary.assign(cell=cells)
    if wilcoxon is not None and len(wilcoxon):
        best = wilcoxon.set_index(["dataset", "x"])
        for i, row in table.iterrows():
            key = (row["dataset"], row["x"])
            if key in best.index and best.loc[key, "first"] == row["method"]:
                table.loc[i, "cell"] = f"**{row['cell']}**" + (STAR if best.loc[key, "significant"] else "")
    wide = table.pivot(index=["dataset", "x"], columns="method", values="cell").reindex(columns=list(columns))
    wide.index = wide.index.set_names(["dataset", x_name])
    return wide.astype(object).fillna("—")


def comparison_summary(comparison: pd.DataFrame) -> dict[str, float]:
    """Cells compared, cells within the paper's std, median and max |delta| (AUC points)."""
    ran = comparison.dropna(subset=["ours_mean", "paper_mean"])
    return {"cells": len(ran), "within_paper_std": int(ran["within_paper_std"].astype(bool).sum()),
            "median_abs_delta": float(ran["delta"].abs().median()) if len(ran) else float("nan"),
            "max_abs_delta": float(ran["delta"].abs().max()) if len(ran) else float("nan")}


def paper_summary(scenario: str, datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """The paper's Table 3/4/5 in :func:`point_summary` form (dataset, x, method, mean, std)."""
    from semiad.core.reported import load_reported
    from semiad.deep_sad.images import SCENARIO_AXES

    xname, table = SCENARIO_AXES[scenario]
    paper = load_reported(table).rename(columns={xname: "x"}).dropna(subset=["mean"])
    paper["x"] = paper["x"].astype(float)
    return paper if datasets is None else paper[paper["dataset"].isin(datasets)]


def _mean(summary: pd.DataFrame, method: str, x: float) -> float:
    v = summary.loc[(summary["method"] == method) & (summary["x"].astype(float) == float(x)), "mean"]
    return float(v.iloc[0]) if len(v) else float("nan")


def sensitivity_comparison(summary: pd.DataFrame, kind: str,
                           default_x: Mapping[str, float] | float) -> pd.DataFrame:
    """Figs. 5-6 give no numbers: compare ours at the default eta / d with Table 4 at gamma_p = .1 (the same
    setting), and describe the curve (spread over x; for d the rank correlation with d and whether the gain
    of the last step is smaller than that of the first, i.e. converging)."""
    from scipy.stats import spearmanr

    paper = paper_summary("pollution")
    paper = paper[paper["x"] == 0.1]
    rows = []
    for (ds, m), s in summary.groupby(["dataset", "method"]):
        s = s.sort_values("x")
        d = float(default_x[ds] if isinstance(default_x, Mapping) else default_x)
        ref = paper[(paper["dataset"] == ds) & (paper["method"] == m)]
        row = {"dataset": ds, "method": m, kind: d, "paper_setting": "Table 4, gamma_p=.1",
               "paper_mean": float(ref["mean"].iloc[0]) if len(ref) else np.nan,
               "paper_std": float(ref["std"].iloc[0]) if len(ref) else np.nan,
               "ours_mean": _mean(s, m, d), "ours_std": float(s.loc[s["x"].astype(float) == d, "std"].sum()),
               "curve_min": s["mean"].min(), "curve_max": s["mean"].max(), "n_points": len(s)}
        row["curve_spread"] = row["curve_max"] - row["curve_min"]
        row["delta"] = row["ours_mean"] - row["paper_mean"]
        row["within_paper_std"] = bool(abs(row["delta"]) <= row["paper_std"])
        if kind == "rep_dim" and len(s) > 1:
            row["spearman_auc_vs_d"] = float(spearmanr(s["x"], s["mean"])[0]) if len(s) > 2 else float(
                np.sign(s["mean"].iloc[-1] - s["mean"].iloc[0]))
            steps = np.diff(s["mean"].to_numpy())
            row["last_gain_below_first"] = bool(steps[-1] < steps[0]) if len(steps) > 1 else None
        rows.append(row)
    return pd.DataFrame(rows)


def scatter_comparison(pairs_by_scenario: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per (scenario, x, dataset): the paper's 1st / 2nd on CIFAR-10 (Figs. 7-9) vs ours, and the share of
    our experiments above the identity line. ``pairs_by_scenario`` maps a scenario to
    :func:`first_second_pairs` rows (any datasets)."""
    rows = []
    for scenario, pairs in pairs_by_scenario.items():
        fig, xname = SCENARIO_FIGURES[scenario]
        paper_pairs = PAPER_SCATTER_PAIRS[scenario]
        for x in sorted(set(paper_pairs) | set(pairs["x"].astype(float))):
            paper = paper_pairs.get(x, (None, None))
            base = {"figure": fig, "scenario": scenario, "x_name": xname, "x": x, "paper_dataset": "cifar10",
                    "paper_first": paper[0], "paper_second": paper[1]}
            ours = pairs[pairs["x"].astype(float) == x]
            if ours.empty:
                rows.append({**base, "dataset": None, "status": "not run"})
            for ds, sub in ours.groupby("dataset"):
                first, second = sub["first"].iloc[0], sub["second"].iloc[0]
                rows.append({**base, "dataset": ds, "status": "ok", "ours_first": first,
                             "ours_second": second,
                             "same_first": first == paper[0] if paper[0] else None,
                             "same_pair": (first, second) == paper if paper[0] else None,
                             "n_experiments": len(sub),
                             "share_above_identity": float(np.mean(sub["first_auc"] > sub["second_auc"]))})
    return pd.DataFrame(rows)
