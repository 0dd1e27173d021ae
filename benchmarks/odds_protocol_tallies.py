"""The Deep SAD README's protocol table: ODDS cells within the paper's std under each training protocol.

For each protocol (a preset name, optionally ``|test_split=...``) runs, or reads from the cache, the whole
quick ODDS grid of Table 6 (every method, 10 seeds, six sets) and counts the Table 2 cells, the Table 6
cells and the Deep SAD cells whose mean lies within the paper's std (``semiad.core.tables.comparison_table``,
the notebooks' rule). Cold protocols compute their cells first (minutes: the shallow cells are shared).

    python benchmarks/odds_protocol_tallies.py [--protocols paper_text "authors_code|disjoint" ...]
"""

from __future__ import annotations

import argparse
import time

from semiad.core.detectors.protocol import protocol_named
from semiad.core.tables import comparison_table
from semiad.deep_sad import odds

DEFAULT_ROWS = ("paper_text", "authors_code", "authors_code_as_released",
                "authors_code_standardized|disjoint", "authors_code_standardized")


def protocol_from_row(row: str | None):
    """A preset name, optionally with ``|test_split=...`` or ``|disjoint``; empty or None: the default."""
    preset, _, split = (row or "").partition("|")
    training = protocol_named(preset or None)
    return training.switch(test_split=split.removeprefix("test_split=")) if split else training


def tallies(results) -> dict[str, tuple[int, int]]:
    """(cells within the paper's std, cells) for Table 2, Table 6 and Table 6's Deep SAD column."""
    out = {}
    for table, columns, reported in (("Table 2", odds.TABLE2_COLUMNS, "deep_sad_table2"),
                                     ("Table 6", odds.TABLE6_COLUMNS, "deep_sad_table6")):
        comparison = comparison_table(results[results["table_column"].isin(columns)], reported)
        comparison = comparison.dropna(subset=["ours_mean"])
        out[table] = (int(comparison["within_paper_std"].sum()), len(comparison))
    deep_sad = comparison[comparison["method"] == "Deep SAD"]
    out["Deep SAD"] = (int(deep_sad["within_paper_std"].sum()), len(deep_sad))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", nargs="+", default=list(DEFAULT_ROWS))
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    print(f"{'protocol':52s} {'Deep SAD':>9s} {'Table 2':>9s} {'Table 6':>9s} {'seconds':>8s}")
    for row in args.protocols:
        start = time.perf_counter()
        training = protocol_from_row(row)
        results = odds.run_odds(args.profile, methods=odds.ALL_METHODS, training=training, n_jobs=args.jobs,
                                device="cpu", progress=False)
        counts = {k: f"{a} of {b}" for k, (a, b) in tallies(results).items()}
        print(f"{training.name:52s} {counts['Deep SAD']:>9s} {counts['Table 2']:>9s} {counts['Table 6']:>9s} "
              f"{time.perf_counter() - start:8.0f}", flush=True)


if __name__ == "__main__":
    main()
