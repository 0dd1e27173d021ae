"""The library, tests and benchmarks stay ruff-clean (the project's style gate)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(REPO / ".venv" / "bin" / "ruff")
    if not shutil.which(ruff):
        ruff_module = [sys.executable, "-m", "ruff"]
    else:
        ruff_module = [ruff]
    try:
        proc = subprocess.run([*ruff_module, "check", "."], cwd=REPO,
                              capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        pytest.skip("ruff is not installed")
    assert proc.returncode == 0, proc.stdout + proc.stderr
