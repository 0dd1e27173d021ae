"""Small helpers for the notebooks' presentation (banners, markdown tables)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from semiad.data.demo import DEMO_BANNER


def show(obj) -> None:
    """``display`` in a notebook, ``print`` elsewhere."""
    try:
        from IPython.display import display
        display(obj)
    except ImportError:  # pragma: no cover - IPython is always present in the kernel
        print(obj)


def demo_banner(sources: Mapping[str, str]) -> str | None:
    """A loud markdown banner when any dataset fell back to embedded demo data, else ``None``."""
    demo = sorted(name for name, src in sources.items() if src == "demo")
    if not demo:
        return None
    text = f"> ⚠️ **{DEMO_BANNER}** Datasets on demo data: {', '.join(demo)}."
    try:
        from IPython.display import Markdown, display
        display(Markdown(text))
    except ImportError:  # pragma: no cover
        pass
    print(text)
    return text


def markdown_table(df: pd.DataFrame, floatfmt: str = ".1f") -> str:
    """Render a DataFrame as a GitHub markdown table without the optional tabulate dependency."""
    cols = [df.index.name or ""] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(idx), *cells]) + " |")
    return "\n".join(lines)
