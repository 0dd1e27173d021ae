"""The generated status table (``semiad.core.status``): counts from the committed artifacts and from a
hand-made tree."""

from __future__ import annotations

import pandas as pd

from semiad.core import status
from semiad.core.batch import discover_notebooks
from tests.conftest import REPO


def test_one_row_per_notebook_with_counts_from_the_committed_files():
    rows = status.collect(REPO)
    assert sorted(f"{r.paper}/{r.notebook}" for r in rows) == sorted(
        p.relative_to(REPO / "notebooks").with_suffix("").as_posix() for p in discover_notebooks(REPO))
    assert [r.paper for r in rows][0] == "deep_sad" and [r.paper for r in rows][-1] == "residual_rl"
    by_name = {f"{r.paper}/{r.notebook}": r for r in rows}
    table2 = by_name["deep_sad/table2_odds"]
    comparison = pd.read_csv(REPO / "figures/deep_sad/table2_odds/comparison.csv")
    assert (table2.cells_within, table2.cells) == (int(comparison["within_paper_std"].sum()), len(comparison))
    assert table2.profile == "quick" and table2.data_source == "real"
    assert (REPO / table2.figure).is_file()
    markdown = status.status_markdown(REPO)
    assert markdown.count("\n| ") == len(rows)  # header + one line per notebook
    # docs/quick_timings.csv (benchmarks/cold_calibration.py) times every notebook, and only those
    timings = pd.read_csv(REPO / status.TIMINGS)
    assert sorted(timings["notebook"]) == sorted(f"{r.paper}/{r.notebook}.ipynb" for r in rows)
    assert all(r.cold_minutes is not None and r.cold_minutes >= 0 for r in rows)
    measured = timings.set_index("notebook")["measured_cold_min"].dropna()
    assert table2.cold_measured and table2.cold_minutes == measured["deep_sad/table2_odds.ipynb"]
    assert f"| **{table2.cold_minutes:.1f}** |" in markdown  # a timed cold run shows in bold


def test_readme_status_table_matches_the_committed_files():
    readme = (REPO / "README.md").read_text()
    assert status.readme_with_status(readme, status.status_markdown(REPO)) == readme, (
        "README status table is stale: run python -m semiad.core.status --readme")


def test_counts_skip_blank_paper_cells_and_ablation_claims(tmp_path):
    (tmp_path / "notebooks/p").mkdir(parents=True)
    (tmp_path / "notebooks/p/fig1_x.ipynb").write_text("{}")
    out = tmp_path / "figures/p/fig1_x"
    out.mkdir(parents=True)
    pd.DataFrame({"paper_mean": [90.0, None, 80.0], "ours_mean": [89.0, 70.0, 60.0],
                  "within_paper_std": [True, False, False]}).to_csv(out / "comparison.csv", index=False)
    pd.DataFrame({"role": ["reproduction", "reproduction", "ablation"], "claim": ["a", "b", "a"],
                  "holds": [True, False, True]}).to_csv(out / "claims.csv", index=False)
    pd.DataFrame({"data_source": ["real", "real"]}).to_csv(out / "results.csv", index=False)
    (out / "executed_quick.ipynb").write_text("{}")
    (out / "other.png").write_bytes(b"")
    (out / "fig1_main.png").write_bytes(b"")
    [row] = status.collect(tmp_path)
    assert (row.cells_within, row.cells) == (1, 2)  # the blank paper cell is no cell
    assert (row.claims_hold, row.claims) == (1, 2)  # the ablation's claim does not count
    assert (row.profile, row.data_source, row.figure) == ("quick", "real", "figures/p/fig1_x/fig1_main.png")
    status.main(["--root", str(tmp_path), "--write", str(tmp_path / "status.md")])
    assert "1 / 2" in (tmp_path / "status.md").read_text()
    assert row.cold_minutes is None and "| 1 / 2 | — |" in (tmp_path / "status.md").read_text()  # no timings
    (tmp_path / "docs").mkdir()
    timings = pd.DataFrame({"notebook": ["p/fig1_x.ipynb"], "cold_est_min": [12.34]})
    timings.to_csv(tmp_path / status.TIMINGS)
    assert status.collect(tmp_path)[0].cold_minutes == 12.34
    assert "| 1 / 2 | 12.3 |" in status.status_markdown(tmp_path)
    timings.assign(measured_cold_min=[9.87]).to_csv(tmp_path / status.TIMINGS)
    assert "| 1 / 2 | **9.9** |" in status.status_markdown(tmp_path)
