"""The collection's status table, generated from the committed artifacts (not hand-edited).

For every notebook ``notebooks/<paper>/<name>.ipynb`` it reads ``figures/<paper>/<name>/``:

* ``comparison.csv`` — paper vs ours per cell. Cells *within* the paper's numbers are counted from the
  first column of :data:`WITHIN_COLUMNS` the file has (``within_paper_std`` for the Deep SAD tables,
  ``agrees`` / ``match`` elsewhere), over the rows that hold a paper number and ours; rows where the
  column is empty (claim rows mixed into the file) are skipped.
* ``claims.csv`` (or, without one, the claim columns of ``comparison.csv``) — the paper's claims checked
  on our run, counted from the first column of :data:`HOLDS_COLUMNS`. Where the file has a ``role``
  column (a notebook that runs a reproduction and its ablations), only the reproduction's rows count.
* ``results.csv`` — the data source of every run (``real`` / ``demo`` / ``synthetic``), and the executed
  notebook ``executed_<profile>.ipynb`` — the profile that produced the artifacts.

and, for the whole collection, :data:`TIMINGS` — each notebook's time for a quick run from an empty cache on
2 cores (``benchmarks/cold_calibration.py --out``; measured where a cold run was timed, else calibrated).

``python -m semiad.core.status`` prints the table as Markdown (``--write FILE`` writes it, ``--readme``
refreshes the block between the status markers of the root README).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from semiad.core.paths import PROJECT_DIR

PROFILE_ORDER = ("paper", "quick", "smoke")
#: Paper folder -> the name the table shows (and the paper's README, ``notebooks/<paper>/README.md``).
PAPER_TITLES = {"deep_sad": "Deep SAD (Ruff et al., ICLR 2020)", "uainets": "UaiNets (active AD, UAI layer)",
                "dads": "DADS (RL anomaly search)", "rlad": "RLAD (DQN + active learning, time series)",
                "residual_rl": "Lee et al. 2022 (RL on CAE residual maps)"}
README_START, README_END = "<!-- status:start -->", "<!-- status:end -->"
WITHIN_COLUMNS = ("within_paper_std", "agrees", "match")
#: Per-notebook cold-cache quick times (columns ``notebook``, ``cold_est_min`` and, where a cold run was
#: timed, ``measured_cold_min``), relative to the root.
TIMINGS = "docs/quick_timings.csv"
HOLDS_COLUMNS = ("holds_ours", "holds", "claim_holds")


@dataclass(frozen=True)
class NotebookStatus:
    """One row of the status table."""

    paper: str
    notebook: str
    profile: str  # the profile of the committed executed notebook, "" if none
    data_source: str  # data sources of the committed runs, "+"-joined; "" if no results.csv
    cells_within: int | None  # None: the artifact has no per-cell paper numbers
    cells: int | None
    claims_hold: int | None
    claims: int | None
    figure: str  # path of the thumbnail PNG relative to the root, "" if none
    cold_minutes: float | None = None  # quick run from an empty cache, 2 cores (:data:`TIMINGS`)
    cold_measured: bool = False  # cold_minutes is a timed cold run, not the calibrated estimate

    @property
    def notebook_path(self) -> str:
        return f"notebooks/{self.paper}/{self.notebook}.ipynb"


def _as_bool(values: pd.Series) -> pd.Series:
    """Booleans from a CSV column (True/False, 'True'/'False', 1/0), NaN where empty."""
    mapping = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}
    return values.map(lambda v: v if isinstance(v, bool) or pd.isna(v)
                      else mapping.get(str(v).strip().lower()))


def _count(frame: pd.DataFrame | None, columns) -> tuple[int | None, int | None]:
    if frame is None:
        return None, None
    for col in columns:
        if col in frame.columns:
            flags = _as_bool(frame[col]).dropna()
            if len(flags):
                return int(flags.astype(bool).sum()), int(len(flags))
    return None, None


def _compared_cells(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Rows that hold both a paper number and ours (blank paper cells and runs not made are no cells)."""
    if frame is None:
        return None
    for pair in (("paper_mean", "paper"), ("ours_mean", "ours")):
        col = next((c for c in pair if c in frame.columns), None)
        if col is not None:
            frame = frame[frame[col].notna()]
    return frame


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _thumbnail(out: Path, notebook: str) -> Path | None:
    """The notebook's main figure: a PNG named after its first word (``fig2``, ``table2``...), else the
    first PNG."""
    pngs = sorted(out.glob("*.png"))
    if not pngs:
        return None
    first = notebook.split("_")[0]
    named = [p for p in pngs if p.stem.startswith(first)]
    return (named or pngs)[0]


def notebook_status(root: Path, paper: str, notebook: str,
                    timings: dict[str, tuple[float, bool]] | None = None) -> NotebookStatus:
    """The status of one notebook from its committed artifacts under ``root/figures``; ``timings``: the
    collection's :func:`cold_minutes` (read here when not given)."""
    out = root / "figures" / paper / notebook
    comparison = _read(out / "comparison.csv")
    claims = _read(out / "claims.csv")
    if claims is None:
        claims = comparison
    if claims is not None and "role" in claims.columns:
        claims = claims[claims["role"] == "reproduction"]
    within, cells = _count(_compared_cells(comparison), WITHIN_COLUMNS)
    hold, n_claims = _count(claims, HOLDS_COLUMNS)
    results = _read(out / "results.csv")
    sources = "" if results is None or "data_source" not in results else "+".join(
        sorted(set(results["data_source"].dropna().astype(str))))
    profile = next((p for p in PROFILE_ORDER if (out / f"executed_{p}.ipynb").is_file()), "")
    thumb = _thumbnail(out, notebook)
    timings = cold_minutes(root) if timings is None else timings
    minutes, measured = timings.get(f"{paper}/{notebook}.ipynb", (None, False))
    return NotebookStatus(paper, notebook, profile, sources, within, cells, hold, n_claims,
                          "" if thumb is None else thumb.relative_to(root).as_posix(), minutes, measured)


def cold_minutes(root: str | Path = PROJECT_DIR) -> dict[str, tuple[float, bool]]:
    """``{"<paper>/<notebook>.ipynb": (minutes, measured)}`` from :data:`TIMINGS`: the timed cold run where
    there is one, else the calibrated estimate (empty without the file)."""
    frame = _read(Path(root) / TIMINGS)
    if frame is None:
        return {}
    measured = frame["measured_cold_min"] if "measured_cold_min" in frame else pd.Series(float("nan"),
                                                                                        index=frame.index)
    return {nb: (float(m), True) if pd.notna(m) else (float(e), False)
            for nb, e, m in zip(frame["notebook"], frame["cold_est_min"], measured, strict=True)}


def format_minutes(s: NotebookStatus) -> str:
    """The time column's text: ``—`` (no timing), ``12.3`` (estimate) or ``**12.3**`` (a timed cold run)."""
    if s.cold_minutes is None:
        return "—"
    return f"**{s.cold_minutes:.1f}**" if s.cold_measured else f"{s.cold_minutes:.1f}"


def collect(root: str | Path = PROJECT_DIR) -> list[NotebookStatus]:
    """One :class:`NotebookStatus` per notebook under ``root/notebooks`` (papers in :data:`PAPER_TITLES`
    order, then by notebook name)."""
    root = Path(root)
    order = {paper: i for i, paper in enumerate(PAPER_TITLES)}
    books = sorted((p for p in (root / "notebooks").glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts),
                   key=lambda p: (order.get(p.parent.name, len(order)), p.parent.name, p.stem))
    timings = cold_minutes(root)  # one file for the whole collection: read once
    return [notebook_status(root, p.parent.name, p.stem, timings) for p in books]


def status_frame(root: str | Path = PROJECT_DIR) -> pd.DataFrame:
    return pd.DataFrame([asdict(s) for s in collect(root)])


def format_ratio(k: int | None, n: int | None) -> str:
    return "—" if n is None else f"{k} / {n}"


def status_markdown(root: str | Path = PROJECT_DIR, link_prefix: str = "", thumb_width: int = 200) -> str:
    """The status table as Markdown; links and images are relative to ``link_prefix``."""
    lines = ["| paper | notebook | profile, data | cells within the paper's numbers | claims that hold "
             "| quick from an empty cache (min) | figure |", "|---|---|---|---|---|---|---|"]
    for s in collect(root):
        data = f"{s.profile or 'not run'}, {s.data_source or 'no results'}"
        paper = f"[{PAPER_TITLES.get(s.paper, s.paper)}]({link_prefix}notebooks/{s.paper}/README.md)"
        img = f'<img src="{link_prefix}{s.figure}" width="{thumb_width}">' if s.figure else ""
        cells, claims = format_ratio(s.cells_within, s.cells), format_ratio(s.claims_hold, s.claims)
        cold = format_minutes(s)
        lines.append(f"| {paper} | [`{s.paper}/{s.notebook}`]({link_prefix}{s.notebook_path}) | {data} | "
                     f"{cells} | {claims} | {cold} | {img} |")
    return "\n".join(lines) + "\n"


def readme_with_status(readme_text: str, table: str) -> str:
    """``readme_text`` with the block between :data:`README_START` and :data:`README_END` replaced."""
    if readme_text.count(README_START) != 1 or readme_text.count(README_END) != 1:
        raise ValueError(f"the README needs exactly one {README_START} ... {README_END} block")
    head, rest = readme_text.split(README_START)
    _, tail = rest.split(README_END)
    return f"{head}{README_START}\n{table}{README_END}{tail}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m semiad.core.status", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(PROJECT_DIR), help="project root (default: this checkout)")
    parser.add_argument("--write", metavar="FILE", help="write the Markdown table to FILE (default: print)")
    parser.add_argument("--link-prefix", default="", help="prefix of the links and image paths")
    parser.add_argument("--readme", action="store_true", help="refresh the table in the root README.md")
    args = parser.parse_args(argv)
    table = status_markdown(args.root, args.link_prefix)
    if args.readme:
        readme = Path(args.root) / "README.md"
        readme.write_text(readme_with_status(readme.read_text(), table))
    elif args.write:
        Path(args.write).write_text(table)
    else:
        print(table, end="")


if __name__ == "__main__":
    main()
