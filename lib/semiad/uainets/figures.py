"""The UaiNets figures, one function per figure of the paper (or of our own measurements).

Each figure function draws from the tidy results of its notebook's run, saves ``<name>.png`` and
``<name>.pdf`` in ``out`` (:func:`semiad.core.plotting.save_figure`) when ``out`` is given and returns
the figure. :func:`page` opens a notebook page (profile check, data policy, output folder, style).

* Fig. 2 (Sec. 2): :func:`fig2_undecidable_toy`, :func:`fig2_model_scores`, :func:`fig2_capacity_sweep`.
* Figs. 3, 6, 7, 8 (Sec. 4.1, App. B.1, B.3): :func:`found_vs_budget` (panels of :func:`budget_panels`).
* Fig. 4 (Sec. 4.3): :func:`fig4_seen_unseen`.
* Figs. 9, 10 (App. C.1): :func:`latent_figure` (panels of :func:`latent_grid`).
* Fig. 11 (App. C.2): :func:`fig11_choice_evolution`.
* Tables 2, 4 (App. A.2, B.3): :func:`table2_table4_counts_and_examples`.
* Tables 1, 3 (Sec. 4.2, App. B.2): :func:`table1_paper_vs_ours`, :func:`table1_scatter`,
  :func:`f1_std_per_method`; the studies of that notebook: :func:`collapse_trace_covtype`,
  :func:`one_class_guard`, :func:`collapse_trace_kddcup_rev`, :func:`pool_size_covtype`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from semiad.core import plotting
from semiad.uainets.grid import METHOD_LABELS, display_name
from semiad.uainets.synthetic import BUDGET_METHODS


def page(notebook: str, profile: str, output_dir: str | os.PathLike | None = None, data_dir=None,
         on_missing: str | None = "auto", single_thread: bool = False) -> tuple[Path, str | None]:
    """Open a UaiNets notebook page: check the profile, resolve the data policy (``"auto"`` -> ``"error"``
    or ``"demo"``, announced; None leaves it alone), pick the output folder and set the plotting style.

    ``single_thread``: cap BLAS at one thread, as joblib's workers do (the synthetic set builders are
    much faster so on a busy machine). Returns ``(out, on_missing)``.
    """
    from semiad.core.paths import figure_dir
    from semiad.core.profiles import check_profile
    from semiad.core.provenance import resolve_on_missing

    check_profile(profile)
    if on_missing is not None:
        on_missing = resolve_on_missing(on_missing, data_dir)
    out = figure_dir("uainets", notebook, output_dir, profile=profile)
    plotting.set_style()
    if single_thread:
        from semiad.uainets.synthetic import single_thread_blas

        single_thread_blas()
    return out, on_missing


def _save(fig, out, name: str):
    if out is not None:
        plotting.save_figure(fig, out, name)
    return fig


# ---------------------------------------------------------------------------------------------
# Fig. 2
TOY_COLORS = np.array(["#0173b2", "#029e73", "#cc78bc"])


def fig2_undecidable_toy(toy: dict, out=None):
    """Fig. 2: the raw toy (three classes, four clusters), the possible clustered anomalies (centre) and
    the possible low-density anomalies (right)."""
    X = toy["X"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
    axes[0].scatter(X[:, 0], X[:, 1], c=TOY_COLORS[toy["cls"]], s=8, lw=0)
    axes[0].set_title("Raw data: three classes, four clusters")
    for ax, mask, title in ((axes[1], toy["cluster"], "Possible clustered anomalies"),
                            (axes[2], toy["scattered"], "Possible low-density anomalies")):
        ax.scatter(X[~mask, 0], X[~mask, 1], c="0.75", s=8, lw=0, label="normal")
        ax.scatter(X[mask, 0], X[mask, 1], c=plotting.COLORS["novel_anomaly"], s=16, lw=0, label="anomaly")
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize=8)
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return _save(fig, out, "fig2_undecidable_toy")


def fig2_model_scores(toy: dict, models: dict, out=None):
    """What each density model of :func:`semiad.uainets.toy.toy_models` calls anomalous on the toy:
    -log p(x) quantiles, the contour of the (#cluster + #scattered)-th highest score, flagged points
    ringed."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    X = toy["X"]
    xx, yy = np.meshgrid(np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, 200),
                         np.linspace(X[:, 1].min() - 1, X[:, 1].max() + 1, 200))
    grid = np.c_[xx.ravel(), yy.ravel()]
    n_flag = int(toy["cluster"].sum() + toy["scattered"].sum())
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, (name, model) in zip(axes, models.items(), strict=False):
        with threadpool_limits(1):
            fitted = clone(model).fit(X)
            s = -fitted.score_samples(X)
            zz = -fitted.score_samples(grid).reshape(xx.shape)
        thr = np.sort(s)[-n_flag]
        plotting.score_map_panel(ax, xx, yy, zz, threshold=thr, title=name)
        ax.scatter(X[:, 0], X[:, 1], c=TOY_COLORS[toy["cls"]], s=5, lw=0)
        top = s >= thr
        ax.scatter(X[top, 0], X[top, 1], facecolors="none", edgecolors=plotting.COLORS["labeled_anomaly"],
                   s=40, lw=1.2)
    fig.tight_layout()
    return _save(fig, out, "fig2_model_scores")


def fig2_capacity_sweep(sweep: pd.DataFrame, out=None):
    """AUC under both anomaly definitions as capacity grows: GMM components (left) and KDE bandwidth
    (right, smaller = more capacity); mean over toy draws, band +- std."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    labels = {"clustered": "anomalies = small cluster", "low_density": "anomalies = scattered points",
              "cluster_over_scattered": "P(cluster scored above scattered)"}
    for ax, fam in zip(axes, ("GMM", "KDE"), strict=True):
        sub = sweep[sweep["family"] == fam]
        for d, style in (("clustered", "-o"), ("low_density", "-s"), ("cluster_over_scattered", ":^")):
            g = sub[sub["definition"] == d].groupby("capacity")["auc_roc"].agg(["mean", "std"])
            ax.plot(g.index, g["mean"], style, ms=4, label=labels[d])
            std = g["std"].fillna(0)
            ax.fill_between(g.index, g["mean"] - std, g["mean"] + std, alpha=0.15)
        ax.axhline(0.5, color="0.6", lw=0.8)
        ax.set_xlabel("GMM components (capacity →)" if fam == "GMM" else "KDE bandwidth (← capacity)")
        if fam == "KDE":
            ax.set_xscale("log")
            ax.invert_xaxis()
        ax.set_title(fam)
    axes[0].set_ylabel("AUC-ROC")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return _save(fig, out, "fig2_capacity_sweep")


# ---------------------------------------------------------------------------------------------
# Figs. 3, 6-10
#: One colour per method across the budget figures (seaborn "colorblind").
METHOD_COLORS: dict[str, str] = {"Class_uai": "#0173b2", "DAE_uai": "#de8f05", "Class": "#029e73",
                                 "DAE": "#d55e00", "random": "#7f7f7f"}


def budget_panels(med: pd.DataFrame, datasets: Sequence[str], max_budget: int | None = None,
                       methods: Sequence[str] = BUDGET_METHODS, ncols: int = 2, title: str | None = None):
    """Figs. 3 / 6-8: anomalies found vs budget, median over seeds (line) and min-max band, one panel per set;
    ``max_budget`` zooms the x-axis (Fig. 6: b <= 5000)."""
    labels = [METHOD_LABELS.get(m, m) for m in methods]
    ncols = min(ncols, len(datasets))
    nrows = int(np.ceil(len(datasets) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax, ds in zip(axes.ravel(), datasets, strict=False):
        sub = med[med["dataset"] == ds]
        if max_budget is not None:
            sub = sub[sub["budget"] <= max_budget]
        for lab in labels:
            cur = sub[sub["method"] == lab].sort_values("budget")
            if cur.empty:
                continue
            color = METHOD_COLORS.get(lab)
            ax.plot(cur["budget"], cur["median"], color=color, lw=1.6 if lab.endswith("_uai") else 1.2,
                    ls="--" if lab == "random" else "-", label=lab)
            ax.fill_between(cur["budget"], cur["low"], cur["high"], color=color, alpha=0.18, lw=0)
        zoom = "" if max_budget is None else f" (b ≤ {max_budget:,})"
        ax.set_title(f"{display_name(ds)}{zoom}")
        ax.set_xlabel("Budget (b)")
        ax.set_ylabel("# anomalies found")
    for ax in axes.ravel()[len(datasets):]:
        ax.set_visible(False)
    axes.ravel()[0].legend(frameon=True, fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def latent_grid(snaps: pd.DataFrame, method: str, datasets: Sequence[str], seed: int | None = None,
                     sep: pd.DataFrame | None = None, title: str | None = None):
    """Figs. 9-10: l(x) vs s(x) of one UaiNet, rows = sets, columns = snapshots; normals grey, anomalies
    orange (drawn on top). ``sep`` (:func:`semiad.uainets.synthetic.latent_separability`) adds the AUC to
    each title; s on a log axis when positive (both base scores are)."""
    sub = snaps[snaps["method"] == method]
    seed = int(sub["seed"].min()) if seed is None else seed
    sub = sub[sub["seed"] == seed]
    budgets = sorted(sub["budget"].unique())
    fig, axes = plt.subplots(len(datasets), max(1, len(budgets)), figsize=(4.0 * max(1, len(budgets)),
                                                                       3.3 * len(datasets)), squeeze=False)
    for r, ds in enumerate(datasets):
        for c, b in enumerate(budgets):
            ax = axes[r, c]
            g = sub[(sub["dataset"] == ds) & (sub["budget"] == b)]
            normal, anom = g[g["y"] == 0], g[g["y"] == 1]
            ax.scatter(normal["l"], normal["s"], s=3, alpha=0.35, color="#8c8c8c", label="normal",
                       rasterized=True)
            ax.scatter(anom["l"], anom["s"], s=5, alpha=0.7, color="#de8f05", label="anomaly",
                       rasterized=True)
            if len(g) and (g["s"] > 0).all():
                ax.set_yscale("log")
            extra = ""
            if sep is not None:
                hit = sep[(sep["dataset"] == ds) & (sep["method"] == method) & (sep["seed"] == seed)
                          & (sep["budget"] == b)]
                if len(hit):
                    extra = f"\nLR AUC on (l, s) = {hit['auc_lr'].iloc[0]:.3f}"
            ax.set_title(f"{display_name(ds)} (b = {b}){extra}", fontsize=9.5)
            ax.set_xlabel("l(x)")
            ax.set_ylabel("s(x)")
    axes[0, 0].legend(frameon=True, fontsize=8, markerscale=3)
    fig.suptitle(title or f"{method}: latent l(x) vs base score s(x), seed {seed}")
    fig.tight_layout()
    return fig


def found_vs_budget(med: pd.DataFrame, datasets: Sequence[str], name: str, out=None,
                    max_budget: int | None = None, methods: Sequence[str] = BUDGET_METHODS):
    """Figs. 3 and 7-8 (the whole run) or, with ``max_budget``, Figs. 6 and 7-8 (a, c) (the zoom) of the
    median curves of :func:`semiad.uainets.synthetic.median_curves`, saved as ``name``."""
    return _save(budget_panels(med, datasets, max_budget=max_budget, methods=methods), out, name)


def latent_figure(snaps: pd.DataFrame, method: str, datasets: Sequence[str], sep: pd.DataFrame, out=None):
    """Fig. 9 (DAE_uai) or Fig. 10 (Class_uai): l(x) vs s(x) per set (rows) and snapshot (columns)."""
    fig_no, score = ("9", "reconstruction error") if method == "DAE_uai" else ("10", "cross-entropy")
    title = f"Fig. {fig_no}: {method}, l(x) vs s(x) ({score})"
    fig = latent_grid(snaps, method, datasets, sep=sep, title=title)
    return _save(fig, out, f"fig{fig_no}_{method.lower()}_latent")


# ---------------------------------------------------------------------------------------------
# Figs. 4 and 11
def fig4_seen_unseen(table: pd.DataFrame, dagmm: pd.DataFrame, n_top: int, out=None):
    """Fig. 4: test recall@#test-anomalies for seen (left) and unseen (right) attack types vs budget
    (mean over seeds, band min-max; static DAGMM references dotted), and the anomalies the active methods
    found in the training pool (light blue, right axis). ``table`` and ``dagmm``: those of
    :class:`semiad.uainets.real.Fig4Run`."""
    import seaborn as sns

    methods_shown = list(dict.fromkeys(table["method"]))
    if len(dagmm):
        methods_shown += list(dict.fromkeys(dagmm["method"]))
    palette = dict(zip(methods_shown, sns.color_palette("colorblind", len(methods_shown)), strict=True))
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.8), sharey=True)
    titles = ("Anomalies of types seen in training", "New (unseen) anomaly types")
    for ax, col, title in zip(axes, ("recall_seen", "recall_unseen"), titles, strict=True):
        for m in dict.fromkeys(table["method"]):
            g = table[table["method"] == m].groupby("budget")[col].agg(["mean", "min", "max"])
            ax.plot(g.index, 100 * g["mean"], marker="o", ms=3, color=palette[m], label=m,
                    lw=2.4 if m == "DAE_uai" else 1.4)
            ax.fill_between(g.index, 100 * g["min"], 100 * g["max"], color=palette[m], alpha=0.15, lw=0)
        for m in dict.fromkeys(dagmm["method"]) if len(dagmm) else []:
            v = dagmm[dagmm["method"] == m][col].mean()
            ax.axhline(100 * v, color=palette[m], ls=":", lw=1.6, label=m)
        ax.set_xlabel("budget b (audits in the training pool)")
        ax.set_title(title)
        ax.set_ylim(-2, 102)
        ax2 = ax.twinx()
        for m, ls in (("DAE_uai", "-"), ("LODA-AAD", "--")):
            g = table[table["method"] == m].groupby("budget")["found_train"].mean()
            if len(g):
                ax2.plot(g.index, g.values, color="#9ecae1", ls=ls, lw=1.4, label=f"{m}: found in train")
        ax2.set_ylabel("anomalies found in the training pool", color="#3182bd")
        ax2.grid(False)
    axes[0].set_ylabel(f"test recall@{n_top} (%)")
    h, lab = axes[0].get_legend_handles_labels()
    h2, lab2 = ax2.get_legend_handles_labels()
    fig.legend(h + h2, lab + lab2, loc="lower center", ncols=4, frameon=False, bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    return _save(fig, out, "fig4_seen_unseen_recall")


def fig11_choice_evolution(curves: pd.DataFrame, panels: Sequence[str], out=None):
    """Fig. 11: # correct vs # guesses when expert labels stop at b (mean over seeds; dashed: the DAE,
    b = 0; dotted: a perfect ranking); lines stop once every anomaly of the pool is found, as the paper's."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.1 * len(panels), 3.6), squeeze=False)
    for ax, ds in zip(axes[0], panels, strict=True):
        sub = curves[curves["dataset"] == ds]
        if sub.empty:
            ax.set_title(f"{ds}: not run")
            continue
        n_anom, n_pool = int(sub["n_anomalies"].iloc[0]), int(sub["pool"].iloc[0])
        bs = sorted(sub["budget"].unique())
        cmap = plt.get_cmap("viridis", max(len(bs) - 1, 1))
        for i, b in enumerate(bs):
            g = sub[sub["budget"] == b].groupby("guesses")["correct"].mean()
            done = np.flatnonzero(g.to_numpy() >= n_anom)
            g = g.iloc[: done[0] + 1] if len(done) else g
            if b == 0:
                ax.plot(g.index, g.values, color="black", ls="--", lw=1.6, label="DAE (b = 0)")
            else:
                ax.plot(g.index, g.values, color=cmap(i - 1), lw=1.8,
                        label=f"b = {b} ({100 * b / n_pool:.1f} %)")
        ax.plot([0, n_anom, n_pool], [0, n_anom, n_anom], color="0.6", ls=":", lw=1.2, label="perfect")
        ax.set_title(f"{ds} (pool {n_pool:,}, {n_anom:,} anomalies)")
        ax.set_xlabel("# guesses")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("# correct")
    fig.tight_layout()
    return _save(fig, out, "fig11_choice_evolution")


# ---------------------------------------------------------------------------------------------
# Tables 2 and 4
def table2_table4_counts_and_examples(table: pd.DataFrame, sets: dict, seed: int = 0, out=None):
    """Anomalies per synthetic set, ours vs the paper's (Tables 2 / 4, log scale), and per set four random
    normal items and four random anomalies with their class x_y."""
    fig = plt.figure(figsize=(13, 8.6))
    grid = fig.add_gridspec(1 + len(sets) // 2, 2, height_ratios=[2.2] + [1] * (len(sets) // 2))
    ax = fig.add_subplot(grid[0, :])
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["paper_anomalies"], 0.4, label="paper", color=plotting.COLORS["paper"])
    ax.bar(x + 0.2, table["anomalies"], 0.4, label="ours", color=plotting.COLORS["ours"])
    ax.set_xticks(x, table["dataset"], rotation=20, ha="right")
    ax.set_ylabel("# anomalies")
    ax.set_yscale("log")
    ax.legend(frameon=True)
    ax.set_title("Anomalies per synthetic set (log scale)")
    rng = np.random.default_rng(seed)
    for i, ds in enumerate(sets.values()):
        sub = grid[1 + i // 2, i % 2].subgridspec(1, 8, wspace=0.05)
        picks = [(j, 0) for j in rng.choice(np.flatnonzero(ds.y == 0), 4, replace=False)]
        picks += [(j, 1) for j in rng.choice(np.flatnonzero(ds.y == 1), min(4, int(ds.y.sum())),
                                             replace=False)]
        for c, (j, lab) in enumerate(picks):
            a = fig.add_subplot(sub[0, c])
            a.imshow(ds.X[j].reshape(28, 28), cmap="gray_r" if lab == 0 else "Oranges", vmin=0, vmax=1)
            a.set_xticks([])
            a.set_yticks([])
            a.set_xlabel(f"x_y={ds.x_y[j]}", fontsize=7, labelpad=1)
            if c == 0:
                a.set_title(f"{ds.name}: normal | anomalous", fontsize=8.5, loc="left")
    fig.tight_layout()
    return _save(fig, out, "table2_table4_counts_and_examples")


# ---------------------------------------------------------------------------------------------
# Tables 1 and 3, and the studies of their notebook
def _table1_methods(methods) -> list[str]:
    from semiad.uainets.real import EXTRA_METHODS, TABLE1_METHODS

    return [METHOD_LABELS[m] for m in TABLE1_METHODS + EXTRA_METHODS if METHOD_LABELS[m] in set(methods)]


def table1_paper_vs_ours(t1: pd.DataFrame, t3: pd.DataFrame, datasets: Sequence[str], out=None):
    """Tables 1 / 3 per set: the paper's F1 (grey squares, Table 3's std where printed) vs ours
    (mean +- std)."""
    plot_df = t1.rename(columns={"paper": "paper_mean"}).copy()
    t3_std = (t3[(t3["metric"] == "f1")].dropna(subset=["paper_std"])
              .set_index(["dataset", "method"])["paper_std"])
    plot_df["paper_std"] = [t3_std.get((d, m), np.nan) for d, m in zip(plot_df["dataset"], plot_df["method"],
                                                                      strict=True)]
    shown = [d for d in datasets if d in set(plot_df["dataset"])]
    fig = plotting.paper_vs_ours_errorbars(plot_df, datasets=shown,
                                           methods=_table1_methods(plot_df["method"]), ncols=4,
                                           value_label="F1 at b = #anomalies")
    return _save(fig, out, "table1_f1_paper_vs_ours")


def table1_scatter(t1: pd.DataFrame, out=None):
    """Every Table 1 cell: the paper's F1 (x) vs ours (y), identity line, the +-0.10 band of ``agrees``."""
    ran1 = t1.dropna(subset=["ours_mean", "paper"])
    fig, ax = plt.subplots(figsize=(5.4, 5.0))
    ax.plot([0, 1], [0, 1], color="black", lw=1)
    ax.fill_between([0, 1], [-0.1, 0.9], [0.1, 1.1], color="0.9", label="±0.10")
    for m in _table1_methods(ran1["method"]):
        sub = ran1[ran1["method"] == m]
        ax.errorbar(sub["paper"], sub["ours_mean"], yerr=sub["ours_std"].fillna(0), fmt="o", ms=5, capsize=2,
                    label=m, alpha=0.85)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("paper: F1 (Table 1)")
    ax.set_ylabel("ours: F1 (mean over seeds)")
    ax.set_title(f"{len(ran1)} cells, {int(ran1['agrees'].astype(bool).sum())} within ±0.10")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return _save(fig, out, "table1_f1_scatter")


def f1_std_per_method(t1: pd.DataFrame, out=None):
    """Stability (Sec. 4.2 / Table 3): F1 std over seeds per method on Table 3's sets where run, else all."""
    from semiad.uainets.real import TABLE3_DATASETS

    stab = t1.dropna(subset=["ours_std"])
    use = [d for d in TABLE3_DATASETS if d in set(stab["dataset"])] or list(dict.fromkeys(stab["dataset"]))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    if len(stab):
        piv = stab[stab["dataset"].isin(use)].pivot_table(index="dataset", columns="method",
                                                          values="ours_std")
        piv[_table1_methods(piv.columns)].reindex(use).plot.bar(ax=ax, rot=0, width=0.8)
        ax.legend(fontsize=7, ncols=4)
    else:
        ax.text(0.5, 0.5, "one seed: no standard deviation", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("F1 std over seeds")
    ax.set_title("Stability of the methods (lower = more stable)")
    return _save(fig, out, "f1_std_per_method")


def collapse_trace_covtype(traces: pd.DataFrame | None, out=None):
    """One Covtype run call by call under the guard and without it: anomalies found and the AUC of the
    ranking over the items not yet audited (:meth:`semiad.uainets.studies.Table1Studies.covtype_traces`)."""
    if traces is None:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for rule, t in traces.groupby("rule", sort=False):
        axes[0].plot(t["audits"], t["found"], label=rule)
        axes[1].plot(t["audits"], t["auc_unaudited"], label=rule)
    axes[0].set_ylabel("anomalies found")
    axes[1].set_ylabel("AUC of the ranking on unaudited items")
    axes[1].axhline(0.5, color="0.5", lw=0.8, ls=":")
    for ax in axes:
        ax.set_xlabel("audits")
        ax.legend(fontsize=7)
    fig.suptitle(f"Covtype, pool {int(traces['pool'].iloc[0]):,}, seed 0: one-class training vs waiting")
    fig.tight_layout()
    return _save(fig, out, "collapse_trace_covtype")


def one_class_guard(guard: pd.DataFrame | None, panels: Sequence[str], out=None):
    """DAE_uai's F1 per seed and set under each schedule of the guard study, with Table 1's value."""
    if guard is None:
        return None
    from semiad.uainets.schedule import paper_dae_uai

    panels = list(panels)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for i, (label, grp) in enumerate(guard[(guard["metric"] == "f1") & (guard["status"] == "ok")].groupby(
            "schedule", sort=False)):
        xs = np.array([panels.index(d) for d in grp["dataset"]]) + (i - 0.5) * 0.3
        ax.scatter(xs, grp["value"], s=14, label=label, alpha=0.8)
    paper_uai = paper_dae_uai()
    ax.scatter(range(len(panels)), [paper_uai.get(d, np.nan) for d in panels], marker="_", s=300,
               color="black", label="paper (Table 1)")
    ax.set_xticks(range(len(panels)), panels, rotation=30)
    ax.set_ylabel("DAE_uai F1 per seed")
    ax.legend(fontsize=7, ncols=3)
    return _save(fig, out, "one_class_guard")


def collapse_trace_kddcup_rev(rev: pd.DataFrame | None, seed: int | None, out=None):
    """The worst KDDCUP-Rev seed call by call: anomalies found and the AUC over the unaudited items."""
    if rev is None:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(rev["audits"], rev["found"], label="anomalies found")
    ax.set_ylabel("anomalies found")
    ax2 = ax.twinx()
    ax2.plot(rev["audits"], rev["auc_unaudited"], ls="--", color="C1", label="AUC on unaudited items")
    ax2.set_ylabel("AUC of the ranking on unaudited items")
    ax2.set_ylim(0, 1)
    ax2.legend(fontsize=7, loc="lower right")
    ax.set_xlabel("audits")
    ax.set_title(f"KDDCUP-Rev, seed {seed} (worst of the study), default rule")
    ax.legend(fontsize=7)
    return _save(fig, out, "collapse_trace_kddcup_rev")


def pool_size_covtype(pools: pd.DataFrame | None, paper: pd.DataFrame, out=None):
    """Covtype: F1 at b = #anomalies vs pool size per method (mean +- std), the paper's values dotted.
    ``pools``: :meth:`semiad.uainets.studies.Table1Studies.pool_size`'s study; ``paper``: Table 1's Covtype
    rows (:func:`semiad.uainets.real.table1_comparison`)."""
    if pools is None:
        return None
    f1p = pools[(pools["metric"] == "f1") & (pools["status"] == "ok") & (pools["dataset"] == "covtype")]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for m, grp in f1p.groupby("method"):
        g = grp.groupby("pool")["value"]
        ax.errorbar(g.mean().index, g.mean(), yerr=g.std().fillna(0), marker="o", capsize=3, label=m)
    for _, r in paper.dropna(subset=["paper"]).iterrows():
        if r["method"] in set(f1p["method"]):
            ax.axhline(r["paper"], ls=":", lw=1, color="0.4")
    ax.set_xscale("log")
    ax.set_xlabel("pool size (items audited from)")
    ax.set_ylabel("F1 at b = #anomalies")
    ax.set_title("Covtype: F1 vs pool size (dotted: the paper's values)")
    ax.legend(fontsize=7)
    return _save(fig, out, "pool_size_covtype")
