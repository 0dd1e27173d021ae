"""Tests of the papermill batch runner (semiad.core.batch) on tiny throwaway notebooks.

The notebooks are written with nbformat into ``tmp_path`` and only use the standard library; a
kernel start costs ~2 s, so the tests that execute notebooks are kept few. They need the
Jupyter kernel ``semiad`` (``./run_all.sh`` registers it; by hand:
``.venv/bin/python -m ipykernel install --sys-prefix --name semiad``) and skip without it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from semiad.core import batch

KERNEL = "semiad"

PARAMETERS = """\
profile = "quick"
n_jobs = 2
data_dir = None
output_dir = None
device = "auto"
"""

# Writes what the notebook received into its output folder (the default one when output_dir is
# None: <root>/figures/<paper>/<notebook>/, the kernel's cwd being <root>/notebooks/<paper>/).
RECORD = """\
import json, os
from pathlib import Path
_cwd = Path.cwd()
out = Path(output_dir) if output_dir else _cwd.parents[1] / "figures" / _cwd.name / NB_NAME
out.mkdir(parents=True, exist_ok=True)
(out / "params.json").write_text(json.dumps({
    "profile": profile, "n_jobs": n_jobs, "data_dir": data_dir, "output_dir": output_dir,
    "device": device, "cwd": str(_cwd), "env_data_dir": os.environ.get("SEMIAD_DATA_DIR"),
}))
(out / "results.csv").write_text("method,auc\\nx,0.5\\n")
# one grid cell "computed" here (6 s recorded), cached outside the output folder: the run's ledger sees it
from semiad.core.cache import ResultCache
from semiad.core.grid import cell_record
_cell = cell_record({"task": "nb", "x": NB_NAME}, {"status": "ok"}, 6.0)
ResultCache(out.parent / f"cache-{NB_NAME}").put(_cell)
"""


@pytest.fixture(scope="module")
def kernel() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL not in KernelSpecManager().find_kernel_specs():
        pytest.skip(
            f"Jupyter kernel {KERNEL!r} is not registered; run ./run_all.sh once or "
            f"`python -m ipykernel install --sys-prefix --name {KERNEL}`"
        )
    return KERNEL


def write_notebook(path: Path, *, fail: bool = False) -> Path:
    """A notebook with a ``parameters`` cell that records its parameters (or raises)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": KERNEL,
        "display_name": "Python (semiad)",
        "language": "python",
    }
    nb.cells.append(new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}))
    nb.cells.append(new_code_cell(f"NB_NAME = {path.stem!r}"))
    if fail:
        nb.cells.append(new_code_cell('raise RuntimeError("boom from the test notebook")'))
    nb.cells.append(new_code_cell(RECORD))
    nbformat.write(nb, path)
    return path


def make_project(root: Path) -> Path:
    """``root/notebooks/{alpha/{fail,ok},beta/table2_odds}.ipynb`` plus a checkpoint copy."""
    write_notebook(root / "notebooks" / "alpha" / "fail.ipynb", fail=True)
    write_notebook(root / "notebooks" / "alpha" / "ok.ipynb")
    write_notebook(root / "notebooks" / "beta" / "table2_odds.ipynb")
    write_notebook(root / "notebooks" / "alpha" / ".ipynb_checkpoints" / "ok-checkpoint.ipynb")
    return root


def read_params(folder: Path) -> dict:
    return json.loads((folder / "params.json").read_text())


# --------------------------------------------------------------------------- no kernel needed


def test_discover_notebooks_sorted_skips_checkpoints(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    rel = [p.relative_to(root / "notebooks").as_posix() for p in batch.discover_notebooks(root)]
    assert rel == ["alpha/fail.ipynb", "alpha/ok.ipynb", "beta/table2_odds.ipynb"]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("alpha/*", ["alpha/fail.ipynb", "alpha/ok.ipynb"]),
        ("*table2*", ["beta/table2_odds.ipynb"]),
        ("*/ok.ipynb", ["alpha/ok.ipynb"]),
        ("gamma/*", []),
    ],
)
def test_discover_notebooks_only_glob(tmp_path: Path, glob: str, expected: list[str]) -> None:
    root = make_project(tmp_path)
    found = batch.discover_notebooks(root, glob)
    assert [p.relative_to(root / "notebooks").as_posix() for p in found] == expected


def test_discover_notebooks_without_notebooks_dir(tmp_path: Path) -> None:
    assert batch.discover_notebooks(tmp_path) == []


def test_invalid_profile_raises_before_running(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "notebooks" / "alpha" / "ok.ipynb")
    with pytest.raises(ValueError, match="profile"):
        batch.execute_notebook(nb, "huge", output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_default_output_dir(tmp_path: Path) -> None:
    nb = tmp_path / "notebooks" / "deep_sad" / "fig1_toy.ipynb"
    assert batch.default_output_dir(nb) == tmp_path.resolve() / "figures" / "deep_sad" / "fig1_toy"


def test_main_no_match_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path)
    assert batch.main(["--root", str(root), "--only", "nothing/*"]) == 2
    assert "no notebooks" in capsys.readouterr().err
    assert batch.main(["--root", str(root), "--list", "--only", "alpha/*"]) == 0
    assert capsys.readouterr().out.split() == ["alpha/fail.ipynb", "alpha/ok.ipynb"]
    assert not (root / "figures").exists()  # listing runs nothing


def test_main_rejects_invalid_profile(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        batch.main(["--root", str(tmp_path), "--profile", "huge"])
    assert exc.value.code == 2


def test_format_summary(tmp_path: Path) -> None:
    base = tmp_path / "notebooks"
    runs = [
        batch.NotebookRun(base / "a" / "x.ipynb", "ok", 1.234, 5, None),
        batch.NotebookRun(base / "b" / "y.ipynb", "failed", 0.5, 0, None, "ValueError: bad"),
    ]
    text = batch.format_summary(runs, base)
    lines = text.splitlines()
    assert lines[0].split() == list(batch.SUMMARY_COLUMNS)
    assert lines[2].split() == ["a/x.ipynb", "ok", "1.23", "5", "0", "0", "0.00", "0.00", "1.23"]
    assert lines[3].split() == ["b/y.ipynb", "failed", "0.50", "0", "0", "0", "0.00", "0.00", "0.50"]
    assert "1 ok, 1 failed" in text
    assert "FAILED b/y.ipynb: ValueError: bad" in text


# ------------------------------------------------------------------ executes notebooks (kernel)


def test_execute_notebook_injects_parameters(tmp_path: Path, kernel: str) -> None:
    nb = write_notebook(tmp_path / "notebooks" / "alpha" / "ok.ipynb")
    out = tmp_path / "out"
    data = tmp_path / "data"
    run = batch.execute_notebook(
        nb,
        "smoke",
        output_dir=out,
        data_dir=data,
        n_jobs=3,
        extra_parameters={"device": "cpu"},
        kernel_name=kernel,
    )
    assert run.status == "ok", run.error
    assert run.error is None
    assert run.artifacts == 2  # params.json + results.csv; the executed copy is not counted
    assert run.executed_path == out.resolve() / "executed_smoke.ipynb"
    assert run.minutes > 0
    params = read_params(out)
    assert params == {
        "profile": "smoke",
        "n_jobs": 3,
        "data_dir": str(data.resolve()),
        "output_dir": str(out.resolve()),
        "device": "cpu",
        "cwd": str(nb.parent.resolve()),
        "env_data_dir": params["env_data_dir"],  # environment is not touched by execute_notebook
    }
    executed = nbformat.read(run.executed_path, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'profile = "smoke"' in injected[0].source

    # Re-running writes the same files again: they count as artifacts of the new run too.
    again = batch.execute_notebook(
        nb, "smoke", output_dir=out, kernel_name=kernel, executed_path=tmp_path / "x.ipynb"
    )
    assert again.status == "ok" and again.artifacts == 2
    assert again.executed_path == (tmp_path / "x.ipynb").resolve()
    assert read_params(out)["n_jobs"] == 2  # not injected this time: the notebook's default


def test_main_reports_failures_and_keeps_going(
    tmp_path: Path,
    kernel: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEMIAD_DATA_DIR", raising=False)  # restored after the test
    root = make_project(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    rc = batch.main(
        ["--root", str(root), "--profile", "smoke", "--jobs", "1", "--data-dir", str(data),
         "--kernel", kernel, "--summary-csv", str(tmp_path / "summary.csv")]
    )  # fmt: skip
    assert rc == 1
    out = capsys.readouterr().out

    # alpha/fail.ipynb runs first and fails; the two notebooks after it still ran. A smoke run never
    # writes the committed figures/ tree: its outputs go to outputs/smoke/.
    assert not (root / "figures").exists()
    figures = root / "outputs" / "smoke"
    for paper, name in [("alpha", "ok"), ("beta", "table2_odds")]:
        params = read_params(figures / paper / name)
        assert params["profile"] == "smoke"
        assert params["n_jobs"] == 1
        assert params["data_dir"] == str(data.resolve())
        assert params["env_data_dir"] == str(data.resolve())
        assert params["output_dir"] == str((figures / paper / name).resolve())
        assert (figures / paper / name / "executed_smoke.ipynb").is_file()
    assert not (figures / "alpha" / "fail" / "params.json").exists()
    assert (figures / "alpha" / "fail" / "executed_smoke.ipynb").is_file()  # kept for debugging

    table = out[out.index("\nnotebook ") + 1 :].splitlines()
    assert table[0].split() == list(batch.SUMMARY_COLUMNS)
    rows = {line.split()[0]: line.split()[1:] for line in table[2:5]}
    assert rows["alpha/fail.ipynb"][0] == "failed"
    assert rows["alpha/ok.ipynb"][0] == "ok" and rows["alpha/ok.ipynb"][2] == "2"
    assert rows["beta/table2_odds.ipynb"][0] == "ok"
    assert all(re.fullmatch(r"\d+\.\d\d", r[1]) for r in rows.values())
    assert "2 ok, 1 failed" in out
    assert "FAILED alpha/fail.ipynb: RuntimeError: boom from the test notebook" in out
    # the kernel inherited the notebook's cell ledger: one cell computed, its recorded 6 s counted
    assert rows["alpha/ok.ipynb"][3:6] == ["1", "1", "0.10"] and rows["alpha/fail.ipynb"][3] == "0"
    summary = (tmp_path / "summary.csv").read_text().splitlines()
    assert summary[0] == ",".join(batch.SUMMARY_COLUMNS) and len(summary) == 4


def test_main_only_glob_runs_only_matches(
    tmp_path: Path, kernel: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMIAD_DATA_DIR", str(tmp_path))  # configured real data: quick -> figures/
    root = make_project(tmp_path)
    rc = batch.main(["--root", str(root), "--profile", "quick", "--only", "*table2*"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "beta/table2_odds.ipynb" in out and "alpha/" not in out
    assert read_params(root / "figures" / "beta" / "table2_odds")["profile"] == "quick"
    assert not (root / "figures" / "alpha").exists()


def test_execute_notebook_missing_kernel_is_a_failure(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "notebooks" / "alpha" / "ok.ipynb")
    run = batch.execute_notebook(
        nb, "smoke", output_dir=tmp_path / "out", kernel_name="no-such-kernel-semiad"
    )
    assert run.status == "failed"
    assert run.error and "no-such-kernel-semiad" in run.error


# ------------------------------------------------------------------ set-up files stay in sync


def test_environment_yml_mirrors_requirements() -> None:
    """environment.yml (conda) pins exactly what requirements.txt (run_all.sh's .venv) pins."""
    root = Path(__file__).resolve().parents[2]
    env_file, req_file = root / "environment.yml", root / "requirements.txt"
    if not env_file.is_file() or not req_file.is_file():
        pytest.skip("environment.yml or requirements.txt not in this checkout")
    pins = {
        line.split("#", 1)[0].strip()
        for line in req_file.read_text().splitlines()
        if line.split("#", 1)[0].strip()
    }
    env_pins = {
        m.group(1)
        for m in re.finditer(r"^\s+-\s+([A-Za-z0-9._\[\]-]+==\S+)\s*$", env_file.read_text(), re.M)
    }
    assert env_pins == pins


def test_main_with_a_missing_data_dir_exits_2_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMIAD_DATA_DIR", os.environ.get("SEMIAD_DATA_DIR", ""))  # restored afterwards
    root = make_project(tmp_path)
    assert batch.main(["--root", str(root), "--data-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (root / "figures").exists() and not (root / "outputs").exists()


def test_main_without_data_runs_demo_into_outputs_and_marks_it(
    tmp_path: Path, kernel: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEMIAD_DATA_DIR", raising=False)
    root = make_project(tmp_path)
    assert batch.main(["--root", str(root), "--only", "alpha/ok*", "--kernel", kernel]) == 0
    out = capsys.readouterr().out
    assert "DEMO DATA" in out and "DEMO data" in out  # the banner, then the per-notebook line
    assert not (root / "figures").exists()
    folder = root / "outputs" / "smoke-demo" / "alpha" / "ok"  # demo sizes: smoke
    assert read_params(folder)["profile"] == "smoke"
    assert (folder / "results.csv").read_text().splitlines()[0] == "data_source,method,auc"
    assert (folder / "results.csv").read_text().splitlines()[1].startswith("demo,")
    assert "DEMO DATA" in (folder / "DEMO_DATA.txt").read_text()


def test_demo_run_skips_a_notebook_that_needs_real_data(
    tmp_path: Path, kernel: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEMIAD_DATA_DIR", raising=False)
    path = tmp_path / "notebooks" / "alpha" / "real_only.ipynb"
    write_notebook(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, new_code_cell("from semiad.core.data.resolve import DataNotFoundError\n"
                                     "raise DataNotFoundError('needs the real file x.csv')"))
    nbformat.write(nb, path)
    assert batch.main(["--root", str(tmp_path), "--kernel", kernel]) == 0  # demo: skipped, not failed
    out = capsys.readouterr().out
    assert "skipped" in out and "SKIPPED alpha/real_only.ipynb" in out
    data = tmp_path / "data"
    data.mkdir()
    assert batch.main(["--root", str(tmp_path), "--kernel", kernel, "--data-dir", str(data)]) == 1
