"""Notebooks are pages (issue #18): short, and one hop from the README to the code they call.

Every notebook has at most 50 code lines (non-blank, non-comment lines of its code cells) and no code
cell over 15 lines; the README's layout table names, for each notebook, the `semiad` function that
computes its artifacts, and that function exists and is called by the notebook.
"""

from __future__ import annotations

import importlib
import json
import re

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*/*.ipynb"))
MAX_CODE_LINES, MAX_CELL_LINES = 50, 15


def _code_cells(nb_path) -> list[list[str]]:
    cells = json.loads(nb_path.read_text())["cells"]
    return [[line for line in "".join(c["source"]).splitlines()
             if line.strip() and not line.strip().startswith("#")]
            for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebook_is_a_page(nb):
    cells = _code_cells(nb)
    total = sum(len(c) for c in cells)
    assert total <= MAX_CODE_LINES, f"{nb.name}: {total} code lines (at most {MAX_CODE_LINES})"
    long = [len(c) for c in cells if len(c) > MAX_CELL_LINES]
    assert not long, f"{nb.name}: code cells of {long} lines (at most {MAX_CELL_LINES})"


def _readme_calls() -> dict[str, str]:
    """``paper/notebook`` -> ``semiad.module.function`` from the README's layout table."""
    text = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| \[`([\w/]+)`\]\([^)]*\) \| `(semiad\.[\w.]+)`", text, re.M)
    return dict(rows)


def test_readme_names_the_function_each_notebook_calls():
    calls = _readme_calls()
    names = {f"{nb.parent.name}/{nb.stem}" for nb in NOTEBOOKS}
    assert set(calls) == names, f"README layout table rows differ from the notebooks: {set(calls) ^ names}"
    for name, dotted in calls.items():
        module, func = dotted.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), func)), dotted
        source = "\n".join("\n".join(c) for c in _code_cells(REPO / "notebooks" / f"{name}.ipynb"))
        assert re.search(rf"\b{func}\(", source), f"{name} does not call {func}"
