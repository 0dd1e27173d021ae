"""Shared figure style and helpers for every semiad notebook.

* :func:`set_style` — one look for all figures (seaborn "whitegrid", readable fonts).
* :func:`save_figure` — stable file names: ``<name>.png`` (150 dpi) and ``<name>.pdf``.
* :func:`score_map_panel` — an anomaly-score heat map with its decision boundary (Deep SAD Fig. 1).
* :func:`paper_vs_ours_errorbars` — paper mean ± std next to ours, one small facet per dataset.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Colours with a fixed meaning across notebooks (colour-blind safe, from seaborn "colorblind").
COLORS: dict[str, str] = {
    "unlabeled": "#8c8c8c",
    "labeled_normal": "#0173b2",
    "labeled_anomaly": "#de8f05",
    "novel_anomaly": "#d55e00",
    "paper": "#4d4d4d",
    "ours": "#0173b2",
    "boundary": "#000000",
}
#: Sequential colormap for anomaly scores (light = low / normal, dark = high / anomalous).
SCORE_CMAP = "YlGn"

PNG_DPI = 150


def set_style(font_scale: float = 1.0) -> None:
    """Apply the shared look: white grid, readable sans-serif fonts, no top/right spines."""
    sns.set_theme(context="paper", style="whitegrid", font_scale=font_scale)
    mpl.rcParams.update({
        "font.size": 10, "axes.titlesize": 10.5, "axes.labelsize": 10, "legend.fontsize": 9,
        "xtick.labelsize": 9, "ytick.labelsize": 9, "figure.titlesize": 12,
        "axes.spines.top": False, "axes.spines.right": False,
        "savefig.bbox": "tight", "savefig.pad_inches": 0.05,
        "pdf.fonttype": 42,  # embed TrueType fonts: text stays editable/searchable in the PDF
    })


def save_figure(fig: Figure, out_dir: str | os.PathLike, name: str) -> list[Path]:
    """Save ``fig`` as ``out_dir/name.png`` (150 dpi) and ``out_dir/name.pdf``; return the paths.

    In demo mode (:func:`semiad.core.provenance.demo_active`) the figure gets a "DEMO DATA" watermark
    first."""
    from semiad.core import provenance

    if provenance.demo_active():
        provenance.watermark(fig)
    if not name or Path(name).name != name or Path(name).suffix in (".png", ".pdf"):
        raise ValueError(f"name must be a bare file stem like 'fig1_toy', got {name!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=PNG_DPI)
    fig.savefig(paths[1], dpi=PNG_DPI)  # dpi only affects rasterized artists in the PDF
    return paths


def _rank_normalize(zz: np.ndarray) -> np.ndarray:
    """Map scores to their empirical quantile in [0, 1] (robust to each method's score scale)."""
    flat = zz.ravel()
    ranks = np.empty(flat.size)
    ranks[np.argsort(flat, kind="stable")] = np.arange(flat.size)
    return (ranks / max(flat.size - 1, 1)).reshape(zz.shape)


def score_map_panel(ax: Axes, xx: np.ndarray, yy: np.ndarray, zz: np.ndarray,
                    threshold: float | None = None, title: str | None = None,
                    cmap: str = SCORE_CMAP, normalize: str = "rank", levels: int = 20,
                    boundary_color: str = COLORS["boundary"]):
    """Draw an anomaly-score heat map over a 2-D grid and its decision boundary.

    ``zz`` holds raw scores (higher = more anomalous) on the grid ``(xx, yy)``. Colours show
    ``normalize="rank"`` (the quantile of each grid score, so methods with very different score
    scales look comparable), ``"minmax"`` or ``"none"``; the boundary is the contour of the *raw*
    scores at ``threshold``. Returns the filled-contour artist (for a shared colorbar).
    """
    if normalize == "rank":
        shown = _rank_normalize(zz)
    elif normalize == "minmax":
        span = np.ptp(zz)
        shown = (zz - zz.min()) / span if span > 0 else np.zeros_like(zz)
    elif normalize == "none":
        shown = zz
    else:
        raise ValueError(f"normalize must be 'rank', 'minmax' or 'none', got {normalize!r}")
    filled = ax.contourf(xx, yy, shown, levels=levels, cmap=cmap, zorder=0)
    filled.set_rasterized(True)  # keeps the PDF small; boundary and points stay vector graphics
    if threshold is not None and zz.min() < threshold < zz.max():
        ax.contour(xx, yy, zz, levels=[threshold], colors=boundary_color, linewidths=1.6,
                   linestyles="solid", zorder=2)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_aspect("equal")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set(visible=True, color="0.6", linewidth=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return filled


def paper_vs_ours_errorbars(comparison_df: pd.DataFrame, datasets: Sequence[str] | None = None,
                            methods: Sequence[str] | None = None, ncols: int = 3,
                            value_label: str = "AUC (%)",
                            facet_size: tuple[float, float] = (3.6, 2.8),
                            not_run_label: str = "not run") -> Figure:
    """Paper mean ± std next to ours, one small facet per dataset.

    ``comparison_df`` needs the columns dataset, method, paper_mean, paper_std, ours_mean,
    ours_std (values in %, std may be NaN). Within a facet, x = method; the paper's value is a
    grey square, ours a blue circle just to its right. Methods we did not run (``ours_mean`` NaN)
    are marked with ``not_run_label``; methods the paper did not report get no square.
    """
    needed = {"dataset", "method", "paper_mean", "paper_std", "ours_mean", "ours_std"}
    missing = needed - set(comparison_df.columns)
    if missing:
        raise ValueError(f"comparison_df lacks columns {sorted(missing)}")
    df = comparison_df
    datasets = list(dict.fromkeys(df["dataset"])) if datasets is None else list(datasets)
    methods = list(dict.fromkeys(df["method"])) if methods is None else list(methods)
    if not datasets or not methods:
        raise ValueError("comparison_df has no rows to plot")
    ncols = max(1, min(ncols, len(datasets)))
    nrows = math.ceil(len(datasets) / ncols)
    width = max(facet_size[0], 0.45 * len(methods) + 1.0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, facet_size[1] * nrows),
                             sharey=True, squeeze=False)
    x = np.arange(len(methods))
    offset = 0.15
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        sub = df[df["dataset"] == dataset].set_index("method").reindex(methods)
        ax.errorbar(x - offset, sub["paper_mean"], yerr=sub["paper_std"].fillna(0), fmt="s",
                    color=COLORS["paper"], ms=5, capsize=2.5, lw=1.2, label="paper")
        ax.errorbar(x + offset, sub["ours_mean"], yerr=sub["ours_std"].fillna(0), fmt="o",
                    color=COLORS["ours"], ms=5, capsize=2.5, lw=1.2, label="ours")
        for xi in np.flatnonzero(sub["ours_mean"].isna().to_numpy()):
            ax.annotate(not_run_label, (xi + offset, 0.03), xycoords=("data", "axes fraction"),
                        rotation=90, ha="center", va="bottom", fontsize=7, color="0.45")
        ax.set_title(str(dataset))
        ax.set_xticks(x)
        ax.set_xticklabels(methods, rotation=45, ha="right")
        ax.set_xlim(-0.6, len(methods) - 0.4)
        ax.grid(axis="x", visible=False)
    for ax in axes.flat[len(datasets):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(value_label)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncols=2, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def paper_vs_ours_scatter(comparison: pd.DataFrame, title: str | None = None,
                          lower: float | None = None) -> Figure:
    """One-figure summary of a whole table: paper mean (x) vs ours (y) per cell, with both std
    bars, the identity line and a shaded band of +-5 AUC points; one marker colour per method."""
    ran = comparison.dropna(subset=["ours_mean"])
    methods = list(dict.fromkeys(ran["method"]))
    palette = dict(zip(methods, sns.color_palette("colorblind", len(methods)), strict=True))
    fig, ax = plt.subplots(figsize=(6.2, 5.6))
    lo = lower if lower is not None else max(0.0, math.floor(min(ran["paper_mean"].min(),
                                                                 ran["ours_mean"].min()) / 10) * 10)
    grid = np.array([lo, 100.0])
    ax.plot(grid, grid, color="black", lw=1, zorder=1)
    ax.fill_between(grid, grid - 5, grid + 5, color="0.9", zorder=0, label="±5 points")
    for method, sub in ran.groupby("method", sort=False):
        ax.errorbar(sub["paper_mean"], sub["ours_mean"], xerr=sub["paper_std"],
                    yerr=sub["ours_std"], fmt="o", ms=5, lw=0.8, capsize=2, alpha=0.85,
                    color=palette[method], label=method, zorder=2)
    ax.set_xlim(lo, 100.5)
    ax.set_ylim(lo, 100.5)
    ax.set_aspect("equal")
    ax.set_xlabel("paper: AUC (%)")
    ax.set_ylabel("ours: AUC (%)")
    within = ran["within_paper_std"].astype(bool).mean() * 100
    ax.set_title(title or f"paper vs ours — {len(ran)} cells, {within:.0f}% within the paper's std")
    ax.legend(loc="upper left", fontsize=8, frameon=True)
    fig.tight_layout()
    return fig


def curves_by_panel(table: pd.DataFrame, panel: str, x: str, hue: str, mean: str = "mean",
                    std: str | None = "std", ylabel: str = "", xlabel: str | None = None,
                    panel_titles: dict[str, str] | None = None, hue_order: Sequence[str] | None = None,
                    highlight: str | None = None, ncols: int | None = None) -> Figure:
    """One panel per value of ``panel``: ``mean`` vs ``x`` for every ``hue`` (e.g. method), with a
    ``mean ± std`` band; ``highlight`` draws one hue thicker (e.g. the paper's method)."""
    panels = list(dict.fromkeys(table[panel]))
    hues = list(hue_order or dict.fromkeys(table[hue]))
    ncols = ncols or len(panels)
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    palette = dict(zip(hues, sns.color_palette("tab10", len(hues)), strict=True))
    for ax, name in zip(axes.flat, panels, strict=False):
        sub = table[table[panel] == name]
        for h in hues:
            g = sub[sub[hue] == h].sort_values(x)
            if g.empty:
                continue
            lw = 2.6 if h == highlight else 1.3
            ax.plot(g[x], g[mean], marker="o", ms=3.5, lw=lw, color=palette[h], label=h,
                    zorder=3 if h == highlight else 2)
            if std is not None:
                ax.fill_between(g[x], g[mean] - g[std].fillna(0), g[mean] + g[std].fillna(0),
                                color=palette[h], alpha=0.12, lw=0)
        ax.set_title((panel_titles or {}).get(name, name))
        ax.set_xlabel(xlabel or x)
        ax.set_ylabel(ylabel)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 8), frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
