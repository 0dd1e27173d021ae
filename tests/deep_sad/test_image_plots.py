"""The Deep SAD image-figure helpers on a small synthetic results frame (nothing is trained)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from semiad.deep_sad import image_figures as P  # noqa: E402
from semiad.deep_sad.claims import claims_check  # noqa: E402
from semiad.deep_sad.images import point_summary, wilcoxon_first_second  # noqa: E402

XS = (0.0, 0.05, 0.1)
N_EXP = 6
#: (variant label, paper column, base AUC); MNIST: Deep SAD beats SSAD Hybrid in every experiment
#: (Wilcoxon p = 1/32 < .05); F-MNIST: the two swap places from one experiment to the next (not significant).
METHODS = (("Deep SAD", "Deep SAD", 0.90), ("SSAD Hybrid", "SSAD Hybrid", 0.85),
           ("OC-SVM Raw (nu=0.1)", "OC-SVM Raw", 0.70), ("OC-SVM Raw (nu=0.5)", "OC-SVM Raw", 0.75),
           ("Supervised Classifier", "Supervised Classifier", 0.60))


def _results() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for ds in ("mnist", "fashion_mnist"):
        for x in XS:
            for e in range(N_EXP):
                for label, column, base in METHODS:
                    if column == "Supervised Classifier" and x == 0:
                        continue  # needs labels, as in the real grid
                    value = base + 0.01 * x * 10 + rng.uniform(0, 0.01)
                    if ds == "fashion_mnist" and column in ("Deep SAD", "SSAD Hybrid"):
                        value = 0.85 + (0.03 if (e % 2 == 0) == (column == "Deep SAD") else -0.03)
                    rows.append({"method": label, "table_column": column, "dataset": ds, "x": x,
                                 "experiment": f"{ds}-{e}", "metric": "auc", "value": value, "status": "ok"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def frames():
    results = _results()
    return results, point_summary(results), wilcoxon_first_second(results, columns=None)


def _stars(fig) -> list:
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == P.STAR_GID]


def test_wilcoxon_fixture_has_significant_and_non_significant_points(frames):
    _, _, w = frames
    assert w.loc[w["dataset"] == "mnist", "significant"].all()
    assert not w.loc[w["dataset"] == "fashion_mnist", "significant"].any()
    assert (w.loc[w["dataset"] == "mnist", "first"] == "Deep SAD").all()


def test_scenario_curves_one_panel_per_dataset_one_line_per_method_and_stars(frames):
    results, summary, w = frames
    columns = ["OC-SVM Raw", "SSAD Hybrid", "Supervised Classifier", "Deep SAD"]
    fig = P.scenario_curves(summary, w, "gamma_l", columns)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for ax in axes:
        labels = [ln.get_label() for ln in ax.get_lines()]
        assert sorted(labels) == sorted(columns)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", ".05", ".1"]
        assert len(ax.collections) == len(columns)  # one ± std band each
    stars = _stars(fig)
    assert len(stars) == int(w["significant"].sum()) == len(XS)  # only the MNIST panel
    assert all(t.get_text() == P.STAR for t in stars)
    assert {t.axes.get_title() for t in stars} == {"mnist"}
    plt.close(fig)


def test_scenario_curves_star_sits_above_the_best_methods_band(frames):
    _, summary, w = frames
    fig = P.scenario_curves(summary, w, "gamma_l", ["SSAD Hybrid", "Deep SAD"])
    best = summary[(summary["dataset"] == "mnist") & (summary["method"] == "Deep SAD")].sort_values("x")
    ys = sorted(t.xy[1] for t in _stars(fig))
    np.testing.assert_allclose(ys, sorted(best["mean"] + best["std"]))
    plt.close(fig)


def test_scenario_curves_draws_the_paper_means_dashed(frames):
    _, summary, w = frames
    paper = summary.rename(columns={"x": "gamma_l", "mean": "paper_mean"}).assign(
        paper_mean=lambda d: d["paper_mean"] - 5)
    fig = P.scenario_curves(summary, w, "gamma_l", ["SSAD Hybrid", "Deep SAD"], paper=paper)
    dashed = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == "paper-curve"]
    assert len(dashed) == 4 and all(ln.get_linestyle() == "--" for ln in dashed)
    plt.close(fig)


def test_first_vs_second_scatter_panels_identity_and_axis_labels(frames):
    results, _, w = frames
    fig = P.first_vs_second_scatter(results, w, "mnist", "gamma_l")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(XS)
    for ax in axes:
        identity = [ln for ln in ax.get_lines() if ln.get_gid() == P.IDENTITY_GID]
        assert len(identity) == 1
        xd, yd = identity[0].get_data()
        np.testing.assert_allclose(xd, yd)
        assert ax.get_ylabel() == "1st Deep SAD" and ax.get_xlabel() == "2nd SSAD Hybrid"
        offsets = ax.collections[0].get_offsets()
        assert len(offsets) == N_EXP and (offsets[:, 1] > offsets[:, 0]).all()  # all above the line
        assert "100% above" in ax.get_title()
    plt.close(fig)


def test_first_vs_second_scatter_two_datasets_gives_a_row_each(frames):
    results, _, w = frames
    fig = P.first_vs_second_scatter(results, w, ["mnist", "fashion_mnist"], "gamma_l")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2 * len(XS)
    plt.close(fig)


def test_sensitivity_curve_marks_default_and_reference(frames):
    _, summary, _ = frames
    ref = pd.DataFrame({"dataset": ["mnist"], "method": ["Deep SAD"], "paper_mean": [80.0],
                        "paper_std": [3.0]})
    fig = P.sensitivity_curve(summary, "eta", ["Deep SAD"], reference=ref, default_x={"mnist": 0.05})
    gids = {ax.get_title(): [ln.get_gid() for ln in ax.get_lines()] for ax in fig.axes}
    assert set(gids) == {"mnist", "fashion_mnist"}
    assert gids["mnist"].count("default-x") == 1 and gids["mnist"].count("paper-reference") == 1
    assert "default-x" not in gids["fashion_mnist"] and "paper-reference" not in gids["fashion_mnist"]
    ax = next(a for a in fig.axes if a.get_title() == "mnist")
    line = next(ln for ln in ax.get_lines() if ln.get_gid() == "default-x")
    assert line.get_xdata()[0] == 1  # categorical position of 0.05 among (0, .05, .1)
    plt.close(fig)


def test_table_mean_std_has_every_column_and_marks_the_best(frames):
    _, summary, w = frames
    columns = ["OC-SVM Raw", "IF Raw", "SSAD Hybrid", "Supervised Classifier", "Deep SAD"]
    table = P.table_mean_std(summary, columns, w, "gamma_l")
    assert list(table.columns) == columns and table.index.names == ["dataset", "gamma_l"]
    assert (table["IF Raw"] == "—").all()
    assert table.loc[("mnist", 0.0), "Supervised Classifier"] == "—"
    best = table.loc[("mnist", 0.05), "Deep SAD"]
    assert best.startswith("**") and best.endswith(P.STAR)
    assert not table.loc[("fashion_mnist", 0.05)].str.endswith(P.STAR).any()


def test_claims_and_scatter_comparison(frames):
    results, summary, w = frames
    claims = claims_check(summary, "labeled", ["SSAD Hybrid", "Supervised Classifier", "Deep SAD"])
    best = claims[claims["claim"].str.startswith("Deep SAD performs best")].set_index("dataset")["holds_ours"]
    assert bool(best["mnist"]) is True
    sup = claims[claims["claim"].str.startswith("Supervised is vulnerable")]
    assert sup["holds_ours"].astype(bool).all()
    pairs = {"labeled": P.first_second_pairs(results, w, "mnist")}
    comp = P.scatter_comparison(pairs)
    at = comp[(comp["x"] == 0.05) & (comp["dataset"] == "mnist")].iloc[0]
    assert at["paper_first"] == "Deep SAD" and at["ours_first"] == "Deep SAD"
    assert at["share_above_identity"] == 1
    assert (comp.loc[comp["x"] == 0.2, "status"] == "not run").all()


def test_fmt_x_and_positions():
    assert [P.fmt_x(v) for v in (0, 0.05, 1.0, 100.0)] == ["0", ".05", "1", "100"]
    assert P.x_positions([0.1, 0.0, 0.1, 100]) == {0.0: 0, 0.1: 1, 100.0: 2}


def test_sensitivity_verdicts_follow_the_paper_std_and_the_rank_correlation():
    from semiad.deep_sad.claims import _verdict

    eta = pd.Series({"dataset": "mnist", "ours_mean": 91.2, "paper_mean": 91.2, "paper_std": 4.9,
                     "curve_spread": 4.8, "n_points": 5})
    assert _verdict(eta, "eta").endswith("'fairly robust' holds")
    assert _verdict(pd.Series({**eta, "curve_spread": 10.4}), "eta").endswith("is doubtful")
    d = pd.Series({"dataset": "mnist", "method": "Deep SAD", "rep_dim": 32.0, "ours_mean": 91.2,
                   "paper_mean": 91.2, "paper_std": 4.9, "spearman_auc_vs_d": 0.89,
                   "last_gain_below_first": True})
    assert _verdict(d, "rep_dim").endswith("holds")
    assert _verdict(pd.Series({**d, "spearman_auc_vs_d": -0.1}), "rep_dim").endswith("not shown")
