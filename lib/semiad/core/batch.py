"""Batch runner: execute every paper notebook with papermill and summarise the outcome.

Each figure/table of a paper is one parameterised notebook ``notebooks/<paper>/<artifact>.ipynb``
whose cell tagged ``parameters`` defines at least ``profile``, ``n_jobs``, ``data_dir``,
``output_dir`` and ``device``. This module runs those notebooks one after another (never in
parallel: concurrently started kernels race for ports, and the parallelism lives *inside* the
notebooks via ``n_jobs``), keeps going after a failure and prints a summary table.

Usage (``./run_all.sh`` picks the interpreter and registers the kernel, then calls this)::

    python -m semiad.core.batch                         # every notebook, quick profile
    python -m semiad.core.batch --profile smoke         # fast end-to-end check of all notebooks
    python -m semiad.core.batch --profile paper --only 'deep_sad/*' --jobs 8
    python -m semiad.core.batch --only '*table2*' --data-dir /data/odds
    python -m semiad.core.batch --list                  # only list what would run

Options: ``--profile smoke|quick|paper`` (default ``quick``), ``--only GLOB`` (fnmatch against
the path relative to ``notebooks/``), ``--jobs N`` (injected as ``n_jobs``), ``--data-dir DIR``
(injected as ``data_dir`` and exported as ``$SEMIAD_DATA_DIR``), ``--kernel NAME`` (Jupyter
kernel, default ``semiad``), ``--root DIR`` (project root holding ``notebooks/`` and
``figures/``), ``--log-output`` (stream cell output), ``--summary-csv PATH`` (the summary table as a
CSV), ``--ledger-dir DIR`` (keep each notebook's cell ledger), ``--list``.

Accounting (:mod:`semiad.core.ledger`): each notebook runs with its own cell ledger, so the summary says
how many grid cells it used, how many it computed now, their recorded CPU minutes, and an estimate of its
time from an empty cache (its wall time now plus the CPU time of the cells it read from the cache, divided
by its worker count) — what a warm rerun hides.

Data and outputs (:mod:`semiad.core.provenance`): with a data location (``--data-dir`` or
``$SEMIAD_DATA_DIR``) every notebook runs on the real files (``on_missing_data="error"``: a missing file
fails the notebook, naming it); with ``--demo``, or with no data location at all, it runs on demo data
(announced before any work; with no data location the sizes drop to the ``smoke`` profile unless
``--profile`` is given). Only a quick-profile run on real data writes the committed
``figures/<paper>/<notebook>/``; every other run writes ``outputs/<profile>[-demo]/<paper>/<notebook>/``
and demo outputs are marked (watermarked figures, a ``data_source`` column in every CSV,
``DEMO_DATA.txt``). The executed copy of the notebook lands there too as ``executed_<profile>.ipynb``.
The exit status is 0 when every notebook succeeded, 1 when any failed and 2 when no notebook matched
or the arguments are bad (e.g. a ``--data-dir`` that does not exist).
"""

from __future__ import annotations

import argparse
import fnmatch
import logging
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from semiad.core.ledger import ENV_VAR as LEDGER_ENV
from semiad.core.ledger import CellCost, summarize
from semiad.core.paths import PROJECT_DIR

PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")
DEFAULT_KERNEL = "semiad"
_ERROR_MAX_CHARS = 300


@dataclass
class NotebookRun:
    """Outcome of executing one notebook."""

    notebook: Path
    status: str  # "ok", "failed", or "skipped" (demo run of a notebook that needs real data)
    minutes: float
    artifacts: int  # files written (created or modified) in the output dir, executed copy excluded
    executed_path: Path | None
    error: str | None = None
    cells: CellCost | None = None  # the grid cells it used (None: not recorded)
    workers: int = 1               # its n_jobs: cells computed in parallel
    shared_cpu_s: float = 0.0      # recorded CPU time of cached cells an earlier notebook of the batch used

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def cold_minutes(self) -> float:
        """Estimated minutes from an empty cache: the wall time now plus the recorded CPU time of the
        cells read from the cache, spread over ``workers``, less :attr:`shared_cpu_s` (an estimate:
        recorded times carry the load of the machine that computed them, and a grid's last cells may run
        alone)."""
        cached = self.cells.cached_cpu_s - self.shared_cpu_s if self.cells is not None else 0.0
        return self.minutes + cached / 60.0 / max(self.workers, 1)


def discover_notebooks(root: Path, only: str | None = None) -> list[Path]:
    """All ``<root>/notebooks/**/*.ipynb`` (sorted, checkpoints skipped), filtered by ``only``.

    ``only`` is an :mod:`fnmatch` glob matched against the POSIX path relative to
    ``<root>/notebooks`` (e.g. ``deep_sad/*`` or ``*table2*``).
    """
    nb_dir = Path(root) / "notebooks"
    if not nb_dir.is_dir():
        return []
    found = []
    for path in nb_dir.rglob("*.ipynb"):
        rel = path.relative_to(nb_dir)
        if ".ipynb_checkpoints" in rel.parts or not path.is_file():
            continue
        if only is not None and not fnmatch.fnmatch(rel.as_posix(), only):
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(nb_dir).as_posix())


def default_output_dir(notebook: Path, profile: str | None = None, demo: bool = False) -> Path:
    """``figures/<paper>/<notebook stem>/`` of the project that holds ``notebook`` for a quick run on real
    data, else ``outputs/<profile>[-demo]/<paper>/<notebook stem>/`` (:mod:`semiad.core.provenance`).

    The project root is the parent of the ``notebooks/`` folder when the notebook sits at
    ``<root>/notebooks/<paper>/<nb>.ipynb``, else the installed package's project root.
    """
    from semiad.core.provenance import output_subdir

    notebook = Path(notebook).resolve()
    paper_dir = notebook.parent
    if len(notebook.parents) >= 3 and paper_dir.parent.name == "notebooks":
        root = paper_dir.parent.parent
    else:
        root = PROJECT_DIR
    sub = output_subdir(profile, demo)
    base = root / "figures" if sub is None else root / "outputs" / sub
    return base / paper_dir.name / notebook.stem


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}; got {profile!r}")


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """``{file: (mtime_ns, size)}`` for every regular file below ``folder``."""
    if not folder.is_dir():
        return {}
    snap = {}
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                st = path.stat()
                snap[path] = (st.st_mtime_ns, st.st_size)
        except OSError:  # vanished while walking
            continue
    return snap


def _short_error(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    msg = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    msg = " ".join(msg.split())  # one line
    if len(msg) > _ERROR_MAX_CHARS:
        msg = msg[: _ERROR_MAX_CHARS - 3] + "..."
    return msg


def execute_notebook(
    path: str | os.PathLike[str],
    profile: str,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
    extra_parameters: Mapping[str, Any] | None = None,
    kernel_name: str = DEFAULT_KERNEL,
    executed_path: str | os.PathLike[str] | None = None,
    log_output: bool = False,
    demo: bool = False,
    ledger_path: str | os.PathLike[str] | None = None,
) -> NotebookRun:
    """Execute one notebook with papermill; never raises for a failing notebook.

    Injected parameters: ``profile`` always; ``n_jobs``, ``data_dir`` and ``output_dir`` only when
    given (paths are made absolute, since the kernel runs in the notebook's folder), then
    ``extra_parameters``. The executed notebook is written to ``executed_path`` or by default
    ``<output_dir or default_output_dir(...)>/executed_<profile>.ipynb``. ``demo=True``: the notebook's
    ``on_missing_data`` is set to ``"demo"`` and every CSV it writes is marked afterwards. ``ledger_path``:
    keep the run's cell ledger (:mod:`semiad.core.ledger`) there (default: a temporary file, removed).

    Raises:
        ValueError: ``profile`` is not one of ``smoke``, ``quick``, ``paper`` (checked before
            anything runs).
    """
    _check_profile(profile)
    notebook = Path(path).resolve()

    parameters: dict[str, Any] = {"profile": profile}
    if n_jobs is not None:
        parameters["n_jobs"] = int(n_jobs)
    if data_dir is not None:
        parameters["data_dir"] = str(Path(data_dir).expanduser().resolve())
    if output_dir is not None:
        parameters["output_dir"] = str(Path(output_dir).expanduser().resolve())
    if demo:
        parameters["on_missing_data"] = "demo"
    if extra_parameters:
        parameters.update(extra_parameters)

    out_dir = (
        Path(parameters["output_dir"]) if output_dir is not None
        else default_output_dir(notebook, profile, demo)
    )
    parameters["output_dir"] = str(out_dir)
    if executed_path is None:
        executed = out_dir / f"executed_{profile}.ipynb"
    else:
        executed = Path(executed_path).expanduser().resolve()

    before = _snapshot(out_dir)
    if ledger_path is None:
        fd, name = tempfile.mkstemp(prefix="semiad-cells-", suffix=".jsonl")
        os.close(fd)
        ledger = Path(name)  # outside the outputs: a killed run leaves nothing in figures/
    else:
        ledger = Path(ledger_path).expanduser().resolve()
        ledger.parent.mkdir(parents=True, exist_ok=True)
        ledger.write_text("")
    start = time.perf_counter()
    error: str | None = None
    skipped = False  # a demo run of a notebook that has no demo stand-in for its data
    previous = os.environ.get(LEDGER_ENV)
    try:
        os.environ[LEDGER_ENV] = str(ledger)  # inherited by the kernel and its workers
        import papermill  # deferred: slow import, not needed for --list

        executed.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=str(notebook.parent),
            progress_bar=False,
            log_output=log_output,
        )
    except Exception as exc:  # PapermillExecutionError, missing kernel, bad path, ...
        error = _short_error(exc)
        if demo and getattr(exc, "ename", None) == "DataNotFoundError":
            skipped = True
    finally:
        if previous is None:
            os.environ.pop(LEDGER_ENV, None)
        else:
            os.environ[LEDGER_ENV] = previous
    minutes = (time.perf_counter() - start) / 60.0
    cells = summarize(ledger)
    if ledger_path is None:
        ledger.unlink(missing_ok=True)
    if demo and out_dir.is_dir():
        from semiad.core.provenance import stamp_demo_outputs

        stamp_demo_outputs(out_dir)

    after = _snapshot(out_dir)
    written = [p for p, sig in after.items() if before.get(p) != sig and p != executed]
    return NotebookRun(
        notebook=notebook,
        status="ok" if error is None else "skipped" if skipped else "failed",
        minutes=minutes,
        artifacts=len(written),
        executed_path=executed if executed.exists() else None,
        error=error,
        cells=cells,
        workers=_workers(parameters.get("n_jobs") or _parameter_default(notebook, "n_jobs")),
    )


def _workers(n_jobs: Any) -> int:
    """Cells a notebook computes at once for its ``n_jobs`` (joblib's rule: -1 = every core)."""
    if not isinstance(n_jobs, int) or n_jobs == 0:
        return 1
    return n_jobs if n_jobs > 0 else max((os.cpu_count() or 1) + 1 + n_jobs, 1)


def _parameters_source(notebook: Path) -> str | None:
    """The source of ``notebook``'s cell tagged ``parameters`` (``None``: no such cell)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    return None if cell is None else cell.source


def _parameter_default(notebook: Path, name: str) -> Any:
    """The literal value ``name`` gets in ``notebook``'s parameters cell, or ``None``."""
    import ast

    try:
        body = ast.parse(_parameters_source(notebook) or "").body
    except Exception:  # noqa: BLE001 - unreadable notebook or cell: it fails when papermill runs it
        return None
    for node in body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def _accepted(notebook: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The ``parameters`` that ``notebook``'s parameters cell defines (papermill warns on the others)."""
    source = _parameters_source(notebook)
    if source is None:
        return {}
    return {k: v for k, v in parameters.items() if f"{k} =" in source}


def _display_name(notebook: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return notebook.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return str(notebook)


SUMMARY_COLUMNS = ("notebook", "status", "minutes", "artifacts", "cells", "computed", "cell_cpu_min",
                   "shared_cpu_min", "cold_est_min")


def account_shared(runs: Sequence[NotebookRun]) -> None:
    """Set each run's :attr:`NotebookRun.shared_cpu_s`, in batch order: from an empty cache, a cell that
    several notebooks use is computed by the first of them, so the later ones do not pay for it again."""
    seen: set[str] = set()
    for run in runs:
        if run.cells is not None:
            run.shared_cpu_s = run.cells.cached_cpu_s - run.cells.cached_cpu_s_excluding(seen)
            seen |= set(run.cells.runtime_s)


def summary_rows(runs: Sequence[NotebookRun], base: Path | None = None) -> list[dict[str, Any]]:
    """One dict per run with :data:`SUMMARY_COLUMNS`: wall minutes, files written, the distinct grid cells
    used and computed now, their recorded CPU minutes, and :attr:`NotebookRun.cold_minutes`."""
    rows = []
    for r in runs:
        c = r.cells
        rows.append({"notebook": _display_name(r.notebook, base), "status": r.status,
                     "minutes": round(r.minutes, 2), "artifacts": r.artifacts,
                     "cells": c.cells if c else 0, "computed": c.computed if c else 0,
                     "cell_cpu_min": round(c.cpu_s / 60.0, 2) if c else 0.0,
                     "shared_cpu_min": round(r.shared_cpu_s / 60.0, 2),
                     "cold_est_min": round(r.cold_minutes, 2)})
    return rows


def format_summary(runs: Sequence[NotebookRun], base: Path | None = None) -> str:
    """Plain-text table (:data:`SUMMARY_COLUMNS`), the totals, then one line per failure.

    Notebook names are shown relative to ``base`` (normally ``<root>/notebooks``) when possible.
    """
    header = SUMMARY_COLUMNS
    rows = [tuple(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values())
            for row in summary_rows(runs, base)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join([f"{row[0]:<{widths[0]}}", f"{row[1]:<{widths[1]}}"]
                         + [f"{v:>{w}}" for v, w in zip(row[2:], widths[2:], strict=True)]).rstrip()

    lines = [fmt(header), "  ".join("-" * w for w in widths)]
    lines += [fmt(row) for row in rows]
    failed = [r for r in runs if r.status == "failed"]
    skipped = [r for r in runs if r.status == "skipped"]
    n_ok = len(runs) - len(failed) - len(skipped)
    total = sum(r.minutes for r in runs)
    cold = sum(r.cold_minutes for r in runs)
    lines.append(f"{n_ok} ok, {len(failed)} failed, {total:.2f} min in total"
                 + (f", {len(skipped)} skipped (they need real data, demo run)" if skipped else "")
                 + f"; estimated from an empty cache: {cold:.1f} min (the recorded CPU time of the cells "
                 "read from the cache / n_jobs added; a cell shared by notebooks counted once, where first "
                 "used)")
    for r in skipped:
        lines.append(f"SKIPPED {_display_name(r.notebook, base)} (no demo stand-in): {r.error}")
    for r in failed:
        where = f" (see {r.executed_path})" if r.executed_path else ""
        lines.append(f"FAILED {_display_name(r.notebook, base)}: {r.error}{where}")
    return "\n".join(lines)


def write_summary_csv(runs: Sequence[NotebookRun], path: Path, base: Path | None = None) -> Path:
    """The summary table as a CSV (one row per notebook, :data:`SUMMARY_COLUMNS`), written atomically."""
    import csv
    import io

    from semiad.core.cache import atomic_write_bytes

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(summary_rows(runs, base))
    atomic_write_bytes(path, buf.getvalue().encode())
    return path


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m semiad.core.batch",
        description="Execute the paper notebooks (notebooks/<paper>/<artifact>.ipynb) with "
        "papermill, one after another, and print a summary table.",
    )
    parser.add_argument(
        "--profile", choices=PROFILES, default=None,
        help="experiment size (default: quick; smoke when running on demo data without a data location)",
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="run on embedded demo data (outputs go to outputs/<profile>-demo/, marked DEMO DATA)",
    )
    parser.add_argument(
        "--only", metavar="GLOB", help="fnmatch glob below notebooks/, e.g. 'deep_sad/*'"
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes inside each notebook (n_jobs)"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="dataset folder: injected as data_dir and exported as SEMIAD_DATA_DIR",
    )
    parser.add_argument(
        "--kernel", default=DEFAULT_KERNEL, metavar="NAME", help="Jupyter kernel (default: semiad)"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="project root holding notebooks/ and figures/ (default: this checkout)",
    )
    parser.add_argument(
        "--log-output", action="store_true", help="stream the notebooks' cell output"
    )
    parser.add_argument(
        "--summary-csv", type=Path, default=None, metavar="PATH",
        help="also write the summary table (with each notebook's cells and cold-cache estimate) as a CSV",
    )
    parser.add_argument(
        "--ledger-dir", type=Path, default=None, metavar="DIR",
        help="keep each notebook's cell ledger as DIR/<paper>__<notebook>.jsonl (for "
        "benchmarks/cold_calibration.py)",
    )
    parser.add_argument("--list", action="store_true", help="list the matching notebooks and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 1 some failed, 2 none matched)."""
    args = _build_parser().parse_args(argv)
    root = (args.root if args.root is not None else PROJECT_DIR).expanduser().resolve()
    nb_dir = root / "notebooks"
    notebooks = discover_notebooks(root, args.only)
    if not notebooks:
        what = f" matching {args.only!r}" if args.only else ""
        print(f"[semiad.core.batch] no notebooks{what} under {nb_dir}", file=sys.stderr)
        return 2
    if args.list:
        for nb in notebooks:
            print(nb.relative_to(nb_dir).as_posix())
        return 0

    data_dir: str | None = None
    if args.data_dir is not None:
        data_dir = str(Path(args.data_dir).expanduser().resolve())
    configured = data_dir or os.environ.get("SEMIAD_DATA_DIR")
    if configured and not Path(configured).is_dir():
        source = "--data-dir" if args.data_dir is not None else "SEMIAD_DATA_DIR"
        print(f"[semiad.core.batch] error: the data folder {configured} ({source}) does not exist; "
              "fix the path, or run on demo data with --demo", file=sys.stderr)
        return 2
    if data_dir is not None:
        os.environ["SEMIAD_DATA_DIR"] = data_dir  # inherited by the kernels started below
    demo = bool(args.demo or not configured)
    profile = args.profile or ("smoke" if demo and not args.demo else "quick")
    extra: dict[str, Any] = {} if demo else {"on_missing_data": "error"}
    if demo:
        from semiad.core.provenance import announce

        why = ("--demo was given" if args.demo else
               "no data location is configured (--data-dir / SEMIAD_DATA_DIR), so every notebook runs "
               f"at the {profile!r} profile's sizes on demo data for datasets that cannot be found or "
               "downloaded")
        announce(why)
    if args.log_output:
        logging.basicConfig(level=logging.INFO, format="%(message)s")

    runs: list[NotebookRun] = []
    for i, nb in enumerate(notebooks, start=1):
        name = nb.relative_to(nb_dir).as_posix()
        mode = "DEMO data" if demo else "real data"
        print(f"[semiad.core.batch] ({i}/{len(notebooks)}) {name} [profile={profile}, {mode}] ...")
        run = execute_notebook(
            nb,
            profile,
            data_dir=data_dir,
            n_jobs=args.jobs,
            kernel_name=args.kernel,
            log_output=args.log_output,
            demo=demo,
            extra_parameters=_accepted(nb, extra),
            ledger_path=None if args.ledger_dir is None
            else args.ledger_dir / f"{name.removesuffix('.ipynb').replace('/', '__')}.jsonl",
        )
        detail = f"{run.artifacts} artifacts" if run.ok else run.error
        print(f"[semiad.core.batch]   {run.status} in {run.minutes:.2f} min: {detail}")
        runs.append(run)

    account_shared(runs)
    print()
    print(format_summary(runs, nb_dir))
    if args.summary_csv is not None:
        written = write_summary_csv(runs, args.summary_csv.expanduser(), nb_dir)
        print(f"[semiad.core.batch] summary: {written}")
    return 0 if all(r.status != "failed" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
