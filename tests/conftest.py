"""Test-suite set-up: isolated result cache, headless plotting, one torch thread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_results(tmp_path_factory, monkeypatch):
    """Every test gets its own result cache so cached cells never leak between tests."""
    monkeypatch.setenv("SEMIAD_RESULTS_DIR", str(tmp_path_factory.mktemp("results")))
    import torch
    torch.set_num_threads(1)


def real_data_available() -> bool:
    data_dir = os.environ.get("SEMIAD_DATA_DIR")
    return bool(data_dir) and (Path(data_dir) / "tabular" / "odds" / "thyroid.mat").is_file()


requires_real_data = pytest.mark.skipif(
    not real_data_available(), reason="SEMIAD_DATA_DIR does not point at the shared data folder")
