"""Where a run's data come from, and where its outputs may go: the committed science stays untouched.

Rules (README "Data"):

* **Real data only when a data location is configured** (``data_dir`` / ``--data-dir`` or
  ``$SEMIAD_DATA_DIR``): a missing or incomplete folder is an error naming every missing file and the fix.
* **Demo data only when asked for** (``on_missing_data="demo"``, ``./run_all.sh --demo``) **or when no data
  location is configured at all** (``"auto"``, the notebooks' default); either way a loud banner says so
  before any work, and every artifact is marked: a "DEMO DATA" watermark on each figure, a
  ``data_source`` column in each CSV, a ``DEMO_DATA.txt`` beside them.
* **Only a quick-profile run on configured real data writes into the committed** ``figures/`` tree. Other
  profiles and every demo run write to ``outputs/<profile>[-demo]/<paper>/<notebook>/`` (git-ignored),
  unless the caller names an ``output_dir``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: The profile whose real-data outputs are committed under figures/.
COMMITTED_PROFILE = "quick"
DEMO_MARK = "DEMO DATA — not the paper's data"
ON_MISSING_CHOICES = ("auto", "error", "demo")
_STATE = {"demo": False}


def data_configured(data_dir: str | os.PathLike | None = None) -> bool:
    """Whether the user named a data location (argument or ``$SEMIAD_DATA_DIR``)."""
    return data_dir is not None or bool(os.environ.get("SEMIAD_DATA_DIR"))


def resolve_on_missing(on_missing: str, data_dir: str | os.PathLike | None = None) -> str:
    """The loaders' ``on_missing`` (``"error"`` or ``"demo"``) for a notebook's ``on_missing_data``.

    ``"auto"``: ``"error"`` when a data location is configured (so a missing file stops the run),
    ``"demo"`` when none is (announced loudly here, before any work). A configured folder that does not
    exist is an error right away.
    """
    if on_missing not in ON_MISSING_CHOICES:
        raise ValueError(f"on_missing_data must be one of {ON_MISSING_CHOICES}, got {on_missing!r}")
    if data_configured(data_dir):
        folder = Path(data_dir if data_dir is not None else os.environ["SEMIAD_DATA_DIR"]).expanduser()
        if not folder.is_dir():
            source = "data_dir" if data_dir is not None else "SEMIAD_DATA_DIR"
            raise FileNotFoundError(f"the configured data folder {folder.absolute()} (from {source}) "
                                    "does not exist; fix the path, or unset it to run on demo data")
    if on_missing == "auto":
        on_missing = "error" if data_configured(data_dir) else "demo"
        if on_missing == "demo":
            announce("no data location is configured (data_dir / SEMIAD_DATA_DIR): datasets that are "
                     "neither in the download cache nor downloadable are replaced by DEMO data")
    elif on_missing == "demo":
        announce("demo data were requested (on_missing_data='demo'): datasets that are not found are "
                 "replaced by DEMO data")
    if on_missing == "demo":
        _STATE["demo"] = True
    return on_missing


def announce(reason: str) -> None:
    """Print the demo banner (console and notebook output)."""
    bar = "!" * 100
    print(f"{bar}\n!! {DEMO_MARK.upper()}: {reason}.\n!! Outputs go to outputs/, never into figures/; "
          f"set SEMIAD_DATA_DIR (or --data-dir) for the real data.\n{bar}", flush=True)


def note_sources(sources: Mapping[str, str]) -> None:
    """Record that some dataset of this process resolved to demo data (figures get the watermark)."""
    if any(src == "demo" for src in sources.values()):
        _STATE["demo"] = True


def demo_active() -> bool:
    """Whether this process runs in demo mode or has loaded demo data."""
    return _STATE["demo"]


def reset() -> None:
    """Forget the demo state (tests)."""
    _STATE["demo"] = False


def output_subdir(profile: str | None, demo: bool) -> str | None:
    """``None`` for the committed tree (quick profile, real data), else the ``outputs/`` sub-folder."""
    if profile in (None, COMMITTED_PROFILE) and not demo:
        return None
    return f"{profile or COMMITTED_PROFILE}{'-demo' if demo else ''}"


def stamp_demo_outputs(folder: str | os.PathLike) -> list[Path]:
    """Mark every CSV below ``folder`` as demo (a ``data_source`` column where there is none) and write
    ``DEMO_DATA.txt``; returns the files changed."""
    import pandas as pd

    folder = Path(folder)
    changed = []
    for path in sorted(folder.rglob("*.csv")):
        try:
            table = pd.read_csv(path, comment=None, low_memory=False)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
            continue
        if "data_source" not in table.columns:
            table.insert(0, "data_source", "demo")
            table.to_csv(path, index=False)
            changed.append(path)
    note = folder / "DEMO_DATA.txt"
    note.write_text(f"{DEMO_MARK}: every file in this folder was computed on synthetic stand-in data "
                    "(semiad.core.data.demo and the loaders' make_demo_* functions). They show that the code "
                    "runs, not what the papers found.\n")
    return [*changed, note]


def watermark(fig) -> None:
    """Stamp ``DEMO DATA`` across a matplotlib figure."""
    fig.text(0.5, 0.5, "DEMO DATA", fontsize=60, color="red", alpha=0.25, ha="center", va="center",
             rotation=30, transform=fig.transFigure, zorder=1000)
