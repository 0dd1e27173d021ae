"""Where things live: the project root, shipped data, the result cache and figure folders."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: Repository root (``lib/semiad`` is two levels below it). The package is installed editable.
PROJECT_DIR = PACKAGE_DIR.parents[1]
#: Shipped, version-controlled data: registry, embedded demo sets, reported paper numbers.
PROJECT_DATA_DIR = PROJECT_DIR / "data"
REPORTED_DIR = PROJECT_DATA_DIR / "reported"
FIGURES_DIR = PROJECT_DIR / "figures"


def results_dir() -> Path:
    """Root of the on-disk experiment cache (``$SEMIAD_RESULTS_DIR`` or ``<project>/results``)."""
    return Path(os.environ.get("SEMIAD_RESULTS_DIR", PROJECT_DIR / "results")).expanduser()


def download_cache_dir() -> Path:
    """Where downloaded datasets are stored (``$SEMIAD_CACHE_DIR`` or ``~/.cache/semiad``)."""
    default = Path.home() / ".cache" / "semiad"
    return Path(os.environ.get("SEMIAD_CACHE_DIR", default)).expanduser()


#: Outputs that are not the committed science (other profiles, demo data); git-ignored.
OUTPUTS_DIR = PROJECT_DIR / "outputs"


def figure_dir(paper: str, notebook: str, output_dir: str | os.PathLike | None = None,
               profile: str | None = None, demo: bool | None = None) -> Path:
    """A notebook's output folder: ``output_dir`` when given; else ``figures/<paper>/<notebook>/`` for a
    quick-profile run on real data (the committed results) and ``outputs/<profile>[-demo]/<paper>/
    <notebook>/`` for any other profile or demo data (:mod:`semiad.core.provenance`). ``demo=None``: this
    process's demo state."""
    from semiad.core import provenance

    demo = provenance.demo_active() if demo is None else demo
    sub = provenance.output_subdir(profile, demo)
    if output_dir:
        path = Path(output_dir)
    elif sub is None:
        path = FIGURES_DIR / paper / notebook
    else:
        path = OUTPUTS_DIR / sub / paper / notebook
    path.mkdir(parents=True, exist_ok=True)
    return path
