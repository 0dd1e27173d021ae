"""The numbers each paper reports, transcribed into ``data/reported/*.csv``, and paper-vs-ours tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from semiad.core.paths import REPORTED_DIR

#: Reported numbers carry one decimal; "within the paper's std" allows this rounding slack.
ROUNDING = 0.05


def load_reported(name: str) -> pd.DataFrame:
    """Read ``data/reported/<name>.csv`` (``#`` lines are provenance comments)."""
    path = REPORTED_DIR / f"{name}.csv"
    if not path.is_file():
        available = sorted(p.stem for p in REPORTED_DIR.glob("*.csv"))
        raise ValueError(f"no reported table {name!r}; available: {available}")
    return pd.read_csv(path, comment="#")


def compare_to_paper(ours: pd.DataFrame, paper: pd.DataFrame, keys: list[str],
                     missing_note: str = "not run") -> pd.DataFrame:
    """One row per paper cell: paper mean/std, ours mean/std/n, delta and a within-std flag
    (``|delta| <= paper_std + 0.05``, the slack of the paper's one-decimal rounding).

    ``ours`` holds columns ``keys + [mean, std, n]`` (AUC in %); cells the paper reports but we
    have not computed keep ``ours_mean = NaN`` and ``status = missing_note`` — never a fake value.
    """
    merged = paper.rename(columns={"mean": "paper_mean", "std": "paper_std"}).merge(
        ours.rename(columns={"mean": "ours_mean", "std": "ours_std", "n": "ours_n"}),
        on=keys, how="left")
    merged["delta"] = merged["ours_mean"] - merged["paper_mean"]
    # the paper prints one decimal: allow half a unit of its last digit on top of its std
    tolerance = merged["paper_std"] + ROUNDING
    merged["within_paper_std"] = np.where(
        merged["ours_mean"].isna(), pd.NA, (merged["delta"].abs() <= tolerance))
    merged["status"] = np.where(merged["ours_mean"].isna(), missing_note, "ok")
    return merged
