"""One function per figure and table of the Deep SAD notebooks (Ruff et al., ICLR 2020).

Each takes the notebook's :class:`~semiad.deep_sad.pages.Page` and the tidy results of its grid, saves its
PNG + PDF and/or CSV by a stable name in ``page.out``, and returns what it drew or tabulated. The plotting
primitives are in :mod:`semiad.deep_sad.image_figures` (Figs. 2-9) and :mod:`semiad.core.plotting`; the
paper-vs-ours comparisons and claim checks in :mod:`semiad.deep_sad.claims`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from semiad.core import plotting, tables
from semiad.core.detectors import protocol as P
from semiad.deep_sad import image_figures as F
from semiad.deep_sad import images, odds
from semiad.deep_sad import protocol_ablation as pa
from semiad.deep_sad.pages import Page


@dataclass(frozen=True)
class ScenarioArtifacts:
    """File stems and axis of one Sec. 4.2 scenario's figure and table."""

    table: str
    figure: str
    x_name: str
    x_label: str


#: Figs. 2-4 / Tables 3-5, per scenario of Sec. 4.2.
SCENARIOS: dict[str, ScenarioArtifacts] = {
    "labeled": ScenarioArtifacts("table3", "fig2_labeled_anomalies", "gamma_l",
                                 "ratio of labeled anomalies γ_l"),
    "pollution": ScenarioArtifacts("table4", "fig3_pollution", "gamma_p",
                                   "pollution ratio γ_p of the unlabeled data"),
    "known_classes": ScenarioArtifacts("table5", "fig4_known_classes", "k_l",
                                       "number of known anomaly classes k_l"),
}


@dataclass(frozen=True)
class SensitivityArtifacts:
    """File stems, axis, methods and default x of one Sec. 4.3 sensitivity figure."""

    table: str
    figure: str
    x_label: str
    methods: tuple[str, ...]
    default: float | Mapping[str, float]


#: Fig. 5 (eta; default 1, Sec. 4.3) and Fig. 6 (d; App. D defaults per dataset, vs SSAD hybrid).
SENSITIVITIES: dict[str, SensitivityArtifacts] = {
    "eta": SensitivityArtifacts("fig5_ours", "fig5_eta_sensitivity", "η (weight of the labeled term)",
                                ("Deep SAD",), 1.0),
    "rep_dim": SensitivityArtifacts("fig6_ours", "fig6_rep_dim", "representation dimension d",
                                    ("Deep SAD", "SSAD Hybrid"), images.DEFAULT_REP_DIM),
}


# ------------------------------------------------------------------------------ Figs. 2-4, Tables 3-5
def scenario_table(page: Page, results: pd.DataFrame, scenario: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tables 3-5 (ours): mean ± std AUC (%) per (dataset, x) for all 13 columns, the best of the figure's
    seven methods bold and starred where its Wilcoxon test against the 2nd is significant (alpha = .05).
    Returns (point summary, Wilcoxon 1st vs 2nd per point, the table); writes ``tableN_ours.csv``."""
    spec = SCENARIOS[scenario]
    summary = images.point_summary(results)
    wilcoxon = images.wilcoxon_first_second(results, columns=images.FIG_COLUMNS)
    table = F.table_mean_std(summary, images.TABLE_COLUMNS, wilcoxon, spec.x_name)
    table.to_csv(page.out / f"{spec.table}_ours.csv")
    return summary, wilcoxon, table


def scenario_figure(page: Page, results: pd.DataFrame, summary: pd.DataFrame, wilcoxon: pd.DataFrame,
                    scenario: str) -> Figure:
    """Figs. 2-4: mean ± std AUC of the figure's seven methods over gamma_l / gamma_p / k_l, one panel per
    dataset, ★ where the 1st and 2nd best differ significantly, the paper's Table 3-5 means dashed."""
    spec = SCENARIOS[scenario]
    fig = F.scenario_curves(summary, wilcoxon, spec.x_label, images.FIG_COLUMNS,
                            paper=images.paper_comparison(results, scenario))
    plotting.save_figure(fig, page.out, spec.figure)
    return fig


def table_paper_vs_ours(page: Page, comparison: pd.DataFrame, scenario: str) -> Figure:
    """Tables 3-5: our mean AUC against the paper's, one dot per table cell."""
    fig = plotting.paper_vs_ours_scatter(comparison.dropna(subset=["paper_mean"]))
    plotting.save_figure(fig, page.out, f"{SCENARIOS[scenario].table}_paper_vs_ours")
    return fig


def subsample_effect(page: Page, caps: Sequence[int] | None = None) -> pd.DataFrame:
    """What the profiles' row caps of OC-SVM / KDE / SSAD raw cost: their AUC (%) on one experiment (normal
    class 0, the Sec. 4.3 defaults) per cap (:func:`semiad.deep_sad.images.run_subsample_effect`). Writes
    ``subsample_effect.csv`` and the figure; returns AUC (%) by method and cap."""
    caps = caps or {"smoke": (50, 100), "quick": (250, 500, 1000, 2000),
                    "paper": (1000, 2500, 5000, 10000)}[page.profile]
    dataset = "mnist" if "mnist" in page.datasets else page.datasets[0]
    effect = images.run_subsample_effect(caps, page.profile, dataset=dataset, **page.run_kwargs())
    effect.to_csv(page.out / "subsample_effect.csv", index=False)
    plotting.save_figure(F.subsample_curve(effect), page.out, "subsample_effect")
    auc = effect[effect["metric"] == "auc"].pivot_table(index="method", columns="cap", values="value")
    return (100 * auc).round(1)


# ------------------------------------------------------------------------------ Figs. 5-6
def sensitivity_table(page: Page, results: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figs. 5-6 as numbers: mean ± std AUC (%) per (dataset, eta or d). Returns (point summary, table);
    writes ``fig5_ours.csv`` / ``fig6_ours.csv``."""
    spec = SENSITIVITIES[kind]
    summary = images.point_summary(results)
    table = F.table_mean_std(summary, list(spec.methods), None, kind)
    table.to_csv(page.out / f"{spec.table}.csv")
    return summary, table


def sensitivity_figure(page: Page, summary: pd.DataFrame, comparison: pd.DataFrame, kind: str) -> Figure:
    """Fig. 5 (Deep SAD over eta) / Fig. 6 (Deep SAD and SSAD hybrid over d): mean ± std AUC, Table 4 at
    gamma_p = .1 dashed (the same setting), the default eta / d dotted."""
    spec = SENSITIVITIES[kind]
    fig = F.sensitivity_curve(summary, spec.x_label, list(spec.methods),
                              reference=comparison[["dataset", "method", "paper_mean", "paper_std"]],
                              default_x=spec.default)
    plotting.save_figure(fig, page.out, spec.figure)
    return fig


# ------------------------------------------------------------------------------ Figs. 7-9
def scatter_figures(page: Page, runs: Mapping[str, pd.DataFrame]) -> list[Figure]:
    """Figs. 7-9 (App. A.2): per experiment the AUC of the 1st (y) vs the 2nd best method (x) of each
    curve point of scenarios (i)-(iii), one panel per point."""
    figs = []
    for scenario, (fig_no, x_name) in F.SCENARIO_FIGURES.items():
        tests = images.wilcoxon_first_second(runs[scenario], columns=images.FIG_COLUMNS)
        fig = F.first_vs_second_scatter(runs[scenario], tests, page.datasets, x_name)
        plotting.save_figure(fig, page.out, f"{fig_no}_{scenario}")
        figs.append(fig)
    return figs


# ------------------------------------------------------------------------------ Tables 1, 2, 6 (ODDS)
def table1(page: Page) -> pd.DataFrame:
    """Table 1: the ODDS sets as loaded, next to the paper's statistics (``table1_datasets.csv``)."""
    stats = odds.table1(odds.OddsConfig.for_profile(page.profile).datasets, page.data_dir, page.on_missing)
    stats.to_csv(page.out / "table1_datasets.csv", index=False)
    return stats


ODDS_TABLES = {"table2": odds.TABLE2_COLUMNS, "table6": odds.TABLE6_COLUMNS}


def odds_table(page: Page, results: pd.DataFrame, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 2 or 6 (ours): mean ± std AUC (%) over seeds, bold = best column per dataset, ★ = Wilcoxon
    1st vs 2nd significant at alpha = .05. Returns (table, Wilcoxon summary); writes ``tableN_ours.csv``."""
    columns = ODDS_TABLES[table]
    ours = tables.summary_table(results, columns)
    ours.to_csv(page.out / f"{table}_ours.csv")
    return ours, tables.wilcoxon_summary(results, columns).round(3)


def odds_paper_vs_ours_figures(page: Page, comparison: pd.DataFrame, table: str) -> list[Figure]:
    """Table 2 or 6, paper vs ours: mean ± std per cell (``tableN_paper_vs_ours``) and one dot per cell
    (``tableN_scatter``)."""
    figs = [plotting.paper_vs_ours_errorbars(comparison), plotting.paper_vs_ours_scatter(comparison)]
    for fig, name in zip(figs, ("paper_vs_ours", "scatter"), strict=True):
        plotting.save_figure(fig, page.out, f"{table}_{name}")
    return figs


# ------------------------------------------------------------------------------ protocol ablation
def differences_table(page: Page) -> pd.DataFrame:
    """Every field in which App. C-E (paper text) and the authors' code differ (``differences.csv``)."""
    diff = pd.DataFrame([{"field": k, "paper text": a, "authors' code": b}
                         for k, (a, b) in P.PAPER_TEXT.differences(P.AUTHORS_CODE).items()])
    diff.to_csv(page.out / "differences.csv", index=False)
    return diff


ABLATION_METHODS = ("Deep SAD", "Deep SVDD (one-class)", "CAE")


def ablation_tables(page: Page, results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Mean AUC (%) per protocol row and dataset for Deep SAD, one-class Deep SVDD and the CAE
    (:func:`~semiad.deep_sad.protocol_ablation.ablation_table`), written as ``ablation_<method>.csv``."""
    out = {m: pa.ablation_table(results, m) for m in ABLATION_METHODS}
    for name, table in out.items():
        table.to_csv(page.out / f"ablation_{name.split(' (')[0].lower().replace(' ', '_')}.csv")
    return out


def ablation_figure(page: Page, results: pd.DataFrame) -> Figure:
    """The change of Deep SAD's AUC per protocol row (``ablation_effects``)."""
    fig = pa.plot_ablation(results)
    plotting.save_figure(fig, page.out, "ablation_effects")
    return fig


def mechanism_figure(page: Page) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The init's mechanism (Eq. (7)): last-layer scale, initial squared distances to c and the labeled
    term eta / d under Glorot vs PyTorch's default init, on the cached autoencoders of three ODDS sets
    (seeds 0-2). Writes ``mechanism_initial_distances.csv`` and the figure; returns (rows, means)."""
    mechanism = pa.mechanism_frame(seeds=(0, 1, 2) if page.profile != "smoke" else (0,), profile=page.profile,
                                   data_dir=page.data_dir, on_missing=page.on_missing)
    mechanism.to_csv(page.out / "mechanism_initial_distances.csv", index=False)
    plotting.save_figure(pa.plot_mechanism(mechanism), page.out, "mechanism_initial_scale")
    means = mechanism.groupby(["dataset", "init"])[["last_layer_rms", "unlabeled_sq_dist", "labeled_sq_dist",
                                                     "labeled_term"]].mean().round(3)
    return mechanism, means
