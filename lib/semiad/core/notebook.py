"""Small helpers for the notebooks' presentation (banners, markdown tables)."""

from __future__ import annotations

from collections.abc import Mapping

from semiad.core.data.demo import DEMO_BANNER


def show(obj) -> None:
    """``display`` in a notebook, ``print`` elsewhere."""
    try:
        from IPython.display import display
        display(obj)
    except ImportError:  # pragma: no cover - IPython is always present in the kernel
        print(obj)


def demo_banner(sources: Mapping[str, str]) -> str | None:
    """A loud markdown banner when any dataset fell back to embedded demo data, else ``None``."""
    from semiad.core.provenance import note_sources

    note_sources(sources)
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
