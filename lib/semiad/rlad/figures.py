"""Figures of the RLAD notebooks, one function per figure (tidy frames or a table object in, a Figure out).

* :func:`table1_datasets` -- Table 1's data sets (Sec. 6.1): one series per benchmark and the spread of
  per-series anomaly shares.
* :func:`f1_vs_budget` -- Tables 2 / 3 as curves: RLAD's F1 per label budget (Sec. 6.3's budgets) against
  the unsupervised baselines of Sec. 6.4.
* :func:`teaching_example` -- what RLAD asks (margin sampling, Sec. 5.3), propagates (Sec. 5.4) and finds
  on one series.
* :func:`protocols` -- RLAD under the paper's text vs the authors' code (:mod:`semiad.rlad.protocol`),
  four metrics each.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from semiad.core import plotting
from semiad.rlad.claims import CLAIM_METRICS, SHORT_METRIC_LABELS
from semiad.rlad.grid import BENCHMARK_LABELS
from semiad.rlad.tables import DATASET_NAMES, DatasetTable


def table1_datasets(table: DatasetTable) -> Figure:
    """Table 1 (Sec. 6.1). Top: the shortest series of each benchmark that contains anomalies (raw values,
    anomalous points marked). Bottom: histogram over series of the per-series anomaly share, with the
    pooled share dashed."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.2), gridspec_kw={"height_ratios": [1.15, 1]})
    for col, key in enumerate(DATASET_NAMES):
        coll = table.data[key]
        with_anomalies = [s for s in coll if s.n_anomalies > 0] or list(coll)
        example = min(with_anomalies, key=len)
        ax = axes[0, col]
        ax.plot(np.arange(len(example)), example.values, lw=0.6, color=plotting.COLORS["unlabeled"])
        hits = np.flatnonzero(example.labels)
        ax.scatter(hits, example.values[hits], s=14, color=plotting.COLORS["labeled_anomaly"], zorder=3,
                   label="anomaly (label 1)")
        short = example.name if len(example.name) <= 16 else example.name[:8] + "…"
        ax.set_title(f"{DATASET_NAMES[key]}: {short} ({len(example):,} points, {len(hits)} anomalous)")
        ax.set_xlabel("time step")
        ax.set_ylabel("value")
        ax.legend(loc="upper right", frameon=True, fontsize=8)
        ratios = table.per_series.loc[table.per_series["dataset"] == key, "anomaly_pct"]
        ax = axes[1, col]
        ax.hist(ratios, bins=20, color=plotting.COLORS["ours"], alpha=0.85)
        ax.axvline(table.ours.loc[key, "anomaly_pct"], color="black", lw=1, ls="--", label="pooled share")
        ax.set_xlabel("anomalous points per series (%)")
        ax.set_ylabel("series")
        ax.set_title(f"{DATASET_NAMES[key]}: {len(ratios)} series")
        ax.legend(frameon=False, fontsize=8)
    demo = [DATASET_NAMES[k] for k, coll in table.data.items() if coll.is_demo]
    if demo:
        fig.suptitle(f"DEMO DATA (synthetic) for: {', '.join(demo)}", color="firebrick")
    fig.tight_layout()
    return fig


def f1_vs_budget(results: pd.DataFrame, benchmarks, sources: dict[str, str]) -> Figure:
    """Tables 2 / 3 as curves: RLAD's F1 (mean +- std over seeds) per label budget, one panel per benchmark;
    the unsupervised baselines as horizontal lines (solid: threshold from the training labels or SPOT's
    own; dotted: the test-optimal threshold)."""
    f1 = results[results["metric"].isin(["f1", "f1_test_opt"])]
    benchmarks = tuple(benchmarks)
    fig, axes = plt.subplots(1, len(benchmarks), figsize=(6.2 * len(benchmarks), 4.2), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, b in zip(axes[0], benchmarks, strict=True):
        sub = f1[f1["dataset"] == b]
        rl = sub[(sub["method"] == "RLAD") & (sub["metric"] == "f1")]
        r = rl.groupby("budget")["value"].agg(["mean", "std"])
        ax.errorbar(r.index * 100, r["mean"], yerr=r["std"].fillna(0), marker="o", lw=2, color="black",
                    label="RLAD", capsize=3)
        uns = sub[sub["method"] != "RLAD"].groupby(["method", "metric"])["value"].mean()
        for k, method in enumerate(sorted({m for m, _ in uns.index})):
            color = colors[k % len(colors)]
            ax.axhline(uns[(method, "f1")], color=color, lw=1.3, label=method)
            if (method, "f1_test_opt") in uns.index:
                ax.axhline(uns[(method, "f1_test_opt")], color=color, lw=1, ls=":")
        ax.set_xscale("log")
        ax.set_xticks(r.index * 100, [f"{v:g}%" for v in r.index * 100])
        ax.set_xlabel("label budget (queried labels / training windows)")
        ax.set_ylabel("F1 (test windows, pooled)")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{BENCHMARK_LABELS[b]} ({sources[b]} data)")
        ax.legend(fontsize=7, ncol=2, frameon=False)
    if any(s == "demo" for s in sources.values()):
        fig.suptitle("DEMO DATA (synthetic)", color="firebrick")
    fig.tight_layout()
    return fig


def teaching_example(ex: dict) -> Figure:
    """One series of :func:`semiad.rlad.grid.teaching_example`: the windows RLAD queried (margin sampling,
    Sec. 5.3), the warm-up windows (Sec. 5.1), the pseudo-labelled ones (Sec. 5.4), the true anomalies and,
    right of the dashed line, RLAD's detections on the test part."""
    t = np.arange(len(ex["values"]))
    values = ex["values"]
    fig, ax = plt.subplots(figsize=(13, 4.2))
    ax.plot(t, values, lw=0.7, color="0.55", label="series (min-max on the training part)")
    ax.scatter(ex["pseudo"], values[ex["pseudo"]], s=6, color="tab:green", alpha=0.35,
               label=f"pseudo-labelled ({len(ex['pseudo'])})")
    ax.scatter(ex["warmup"], values[ex["warmup"]], s=30, marker="s", facecolor="none",
               edgecolor="tab:purple", label=f"warm-up label ({len(ex['warmup'])})")
    ax.scatter(ex["queried"], values[ex["queried"]], s=28, marker="^", color="tab:blue",
               label=f"queried by active learning ({len(ex['queried'])})")
    hits = np.flatnonzero(ex["labels"])
    ax.scatter(hits, values[hits], s=70, facecolor="none", edgecolor="tab:red", lw=1.5,
               label=f"true anomaly ({len(hits)})")
    det = np.flatnonzero(ex["pred"])
    ax.scatter(det, values[det], s=22, marker="x", color="black", label=f"RLAD detection ({len(det)})")
    ax.axvline(ex["n_train"], ls="--", color="black", lw=1)
    ax.text(ex["n_train"], ax.get_ylim()[1], " test part", va="top")
    ax.set_xlabel("time step")
    ax.set_ylabel("scaled value")
    info = ex["info"]
    ax.set_title(f"{ex['name']} ({ex['source']} data), budget {ex['budget']:.0%}: "
                 f"{len(ex['queried'])} queried, {len(ex['warmup'])} warm-up, "
                 f"{len(ex['pseudo'])} pseudo-labels at the end (all series: {info['labels_queried']}, "
                 f"{info['labels_warmup']}, {info['labels_pseudo']})")
    ax.legend(fontsize=7, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig.tight_layout()
    return fig


def protocols(runs: dict[str, pd.DataFrame], benchmarks, sources: dict[str, str] | None = None) -> Figure:
    """RLAD's four metrics (:data:`~semiad.rlad.claims.CLAIM_METRICS`, mean over seeds) vs label budget,
    one panel per benchmark, one line style per protocol (solid: the first of ``runs``, the notebook's
    default)."""
    benchmarks = tuple(benchmarks)
    fig, axes = plt.subplots(1, len(benchmarks), figsize=(6.2 * len(benchmarks), 4.2), squeeze=False)
    colors = dict(zip(CLAIM_METRICS, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    styles = ("-", "--", ":", "-.")
    for ax, bench in zip(axes[0], benchmarks, strict=True):
        for (name, results), ls in zip(runs.items(), styles, strict=False):
            sub = results[(results["dataset"] == bench) & (results["method"] == "RLAD")]
            mean = sub.groupby(["metric", "budget"])["value"].mean()
            for metric, label in SHORT_METRIC_LABELS.items():
                if metric in mean.index.get_level_values("metric"):
                    m = mean.loc[metric]
                    ax.plot(m.index * 100, m.values, ls=ls, marker="o", color=colors[metric],
                            label=f"{label} | {name}")
        ax.set_xscale("log")
        budgets = sorted({b for r in runs.values() for b in r.loc[r["dataset"] == bench, "budget"].dropna()})
        ax.set_xticks([b * 100 for b in budgets], [f"{b * 100:g}%" for b in budgets])
        ax.set_xlabel("label budget (queried labels / training windows)")
        ax.set_ylabel("RLAD score (test, mean over seeds)")
        ax.set_ylim(0, 1.02)
        where = f" ({sources[bench]} data)" if sources else ""
        ax.set_title(f"RLAD on {BENCHMARK_LABELS[bench]}{where}: protocols side by side")
        ax.legend(fontsize=6.5, ncol=2, frameon=False)
    fig.tight_layout()
    return fig
