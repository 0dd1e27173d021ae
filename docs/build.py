"""Build the readers' site from the committed executed notebooks (nothing is re-executed).

    python docs/build.py [--out _site] [--work build/site] [--jobs N]

Tool: Sphinx + myst-nb with the book theme — pip-only (the project's own requirements.txt) and offline,
and it renders committed ``.ipynb`` outputs as they are (``nb_execution_mode = "off"``).

The generator writes a Sphinx source tree into ``<work>/src`` and runs ``sphinx-build -c docs`` into
``<out>``:

* ``index.md`` — the landing page: what the collection is and its commands (from the root README), the
  status table from :func:`semiad.core.status.collect` (the same rows as the README's table, with thumbnails),
  the protocol / ablation pages, the profiles;
* ``<paper>/index.md`` — one section per paper: its ``notebooks/<paper>/README.md`` (links rewritten to
  the site's pages), the runs it shows (profile, data source) and the paper's BibTeX (``docs/papers.toml``);
* ``<paper>/<notebook>.ipynb`` — the committed ``figures/<paper>/<notebook>/executed_<profile>.ipynb``
  with a provenance note (profile, papermill parameters, data source) after its title and the committed
  PNGs and CSVs (as HTML tables) at its end;
* ``data.md`` — ``data/README.md``; ``cluster.md`` — ``docs/cluster.md``; ``<paper>/IMPLEMENTATION.md``
  — a paper's ``IMPLEMENTATION.md`` (its RL methods phase by phase).
"""

from __future__ import annotations

import argparse
import ast
import html
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
import tomllib

DOCS_DIR = Path(__file__).resolve().parent
ROOT = DOCS_DIR.parent
sys.path.insert(0, str(ROOT / "lib"))  # a fresh clone without `pip install -e .` still finds semiad

from semiad.core import status  # noqa: E402  (after the lib/ path above)

#: CSVs shown open on a notebook page; the others go in collapsed blocks.
OPEN_TABLES = {"comparison.csv": "paper vs ours, per cell",
               "claims.csv": "the paper's claims, checked on our run"}
MAX_TABLE_ROWS = 300
THUMB_WIDTH = 360
MARKER = ".semiad-site"  # marks an output folder this script may clear
PROTOCOL_WORDS = ("protocol", "ablation")
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s]+)\)")


@dataclass
class Page:
    """One notebook page: the status row and where its files go in the source tree."""

    row: status.NotebookStatus
    folder: Path  # figures/<paper>/<notebook>/ of the root being built
    executed: Path | None  # the committed executed notebook, None if the notebook was never run
    artifacts: list[Path] = field(default_factory=list)  # committed PNG / CSV files copied to the site

    @property
    def name(self) -> str:
        return f"{self.row.paper}/{self.row.notebook}"

    @property
    def doc(self) -> str:
        """Source path of the page inside the site tree."""
        return f"{self.name}.ipynb" if self.executed is not None else f"{self.name}.md"

    @property
    def label(self) -> str:
        """The target of the page's committed-artifacts section (also its HTML id)."""
        return re.sub(r"[^a-z0-9]+", "-", f"{self.name}-artifacts".lower())

    @property
    def is_protocol(self) -> bool:
        """A protocol / ablation page: named so, or its results or claims carry a protocol or role column."""
        if any(w in self.row.notebook for w in PROTOCOL_WORDS):
            return True
        for csv in ("results.csv", "claims.csv", "comparison.csv"):
            path = self.folder / csv
            if path.is_file() and {"protocol", "role"} & set(pd.read_csv(path, nrows=0).columns):
                return True
        return False


# ----------------------------------------------------------------------------- Markdown helpers
def split_title(markdown: str) -> tuple[str, str]:
    """(the first ``# `` heading's text, the Markdown after it)."""
    match = re.search(r"^# (.+)$", markdown, flags=re.MULTILINE)
    if match is None:
        return "", markdown
    return match.group(1).strip(), markdown[match.end():].lstrip("\n")


def sections(markdown: str) -> dict[str, str]:
    """The ``## `` sections of a Markdown text by heading (body without the heading line)."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}


def shift_headings(markdown: str, by: int) -> str:
    """Headings moved ``by`` levels down (outside fenced code)."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"^#{1,5} ", line):
            line = "#" * by + line
        out.append(line)
    return "\n".join(out)


class LinkRewriter:
    """Rewrites the relative links of a repository Markdown file to the site's pages and files.

    ``site_map`` maps repository paths (``notebooks/deep_sad/fig1_toy.ipynb``) to site source paths
    (``deep_sad/fig1_toy.ipynb``). A link to any other repository file becomes its text and the path in
    code (no broken link on the site); web links and in-page anchors are kept.
    """

    def __init__(self, site_map: dict[str, str]):
        self.site_map = site_map
        self.dropped: list[str] = []

    def target(self, repo_file: str, link: str, page: str) -> str | None:
        """The link as seen from site page ``page`` (a source path), or None if the site lacks it."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("#"):
            return link
        path, _, anchor = link.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(repo_file), path))
        site = self.site_map.get(repo_path)
        if site is None:
            return None
        rel = posixpath.relpath(site, posixpath.dirname(page) or ".")
        return f"{rel}#{anchor}" if anchor else rel

    def __call__(self, markdown: str, repo_file: str, page: str) -> str:
        def replace(match: re.Match) -> str:
            bang, text, link = match.groups()
            new = self.target(repo_file, link, page)
            if new is not None:
                return f"{bang}[{text}]({new})"
            repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(repo_file), link.split("#")[0]))
            self.dropped.append(f"{repo_file}: {link}")
            return f"{text} (`{repo_path}` in the repository)"

        return LINK.sub(replace, markdown)


# ----------------------------------------------------------------------------- facts shown on pages
def load_papers(path: Path = DOCS_DIR / "papers.toml") -> dict[str, dict]:
    """The bibliographic facts of each paper (``docs/papers.toml``)."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


def bibtex(entry: dict) -> str:
    """A BibTeX entry from one table of ``papers.toml``; fields the paper text lacks are left out."""
    fields = [("title", "{" + entry["title"] + "}")]
    if entry.get("authors"):
        fields.append(("author", " and ".join(entry["authors"])))
    for name in ("booktitle", "journal", "pages", "year", "note"):
        if entry.get(name):
            fields.append((name, entry[name]))
    body = ",\n".join(f"  {name:<9} = {{{value}}}" for name, value in fields)
    return f"@{entry['type']}{{{entry['key']},\n{body}\n}}"


def injected_parameters(nb: nbformat.NotebookNode) -> dict[str, object]:
    """The papermill parameters of an executed notebook (its ``injected-parameters`` cell)."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            params = {}
            for node in ast.parse(cell.source).body:
                targets = getattr(node, "targets", [])
                if isinstance(node, ast.Assign) and len(targets) == 1 and isinstance(targets[0], ast.Name):
                    try:
                        params[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        params[node.targets[0].id] = ast.unparse(node.value)
            return params
    return {}


def data_phrase(row: status.NotebookStatus) -> str:
    """Which data produced the run, as the committed ``results.csv`` records it."""
    if not row.data_source:
        return "not recorded (the notebook writes no `data_source` column in `results.csv`)"
    return f"**{row.data_source}** (the `data_source` column of the committed `results.csv`)"


def count_phrase(values: list[str]) -> str:
    """``"real (19 notebooks), not recorded (4)"``: each distinct value with how many notebooks have it."""
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{v} ({n} notebook{'s' if n != 1 else ''})" for v, n in ordered)


def ratio(k: int | None, n: int | None) -> str:
    return status.format_ratio(k, n)


# ----------------------------------------------------------------------------- page builders
def html_table(csv: Path) -> tuple[str, int]:
    """A CSV as an HTML table (at most :data:`MAX_TABLE_ROWS` rows) and its row count."""
    frame = pd.read_csv(csv)
    shown = frame.head(MAX_TABLE_ROWS)
    table = shown.to_html(index=False, na_rep="", border=0, classes=["semiad-table"],
                          float_format=lambda v: f"{v:.4g}")
    return f'<div class="semiad-table-wrap">\n{table}\n</div>', len(frame)


def artifacts_markdown(page: Page, label: str) -> str:
    """The committed figures and tables of a notebook, as MyST Markdown."""
    folder = f"figures/{page.name}"
    rel = f"../_artifacts/{page.name}"
    lines = [f"({label})=", "## Committed figures and tables", "",
             f"The files of `{folder}/` as committed (profile `{page.row.profile or 'none'}`, data source "
             f"{page.row.data_source or 'not recorded'}); PDFs of the figures are in the repository.", ""]
    pngs = [p for p in page.artifacts if p.suffix == ".png"]
    csvs = [p for p in page.artifacts if p.suffix == ".csv"]
    if pngs:
        lines += ["### Figures", ""]
        for png in pngs:
            lines += [f"```{{figure}} {rel}/{png.name}", f":alt: {png.stem}", ":width: 100%", "",
                      f"`{png.name}`", "```", ""]
    if csvs:
        lines += ["### Tables", ""]
        order = list(OPEN_TABLES)
        ordered = sorted(csvs, key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name))
        for csv in ordered:
            table, n_rows = html_table(csv)
            shown = f"{n_rows} rows" if n_rows <= MAX_TABLE_ROWS else f"first {MAX_TABLE_ROWS} of {n_rows}"
            download = f"{{download}}`{csv.name} <{rel}/{csv.name}>`"
            if csv.name in OPEN_TABLES:
                lines += [f"#### `{csv.name}` — {OPEN_TABLES[csv.name]}", "", f"{shown}; {download}", "",
                          "```{raw} html", table, "```", ""]
            else:
                summary = f"<details><summary>{html.escape(csv.name)}</summary>"
                lines += [f"{download} ({shown}):", "", "```{raw} html", summary, table, "</details>", "```",
                          ""]
    return "\n".join(lines)


def provenance_markdown(page: Page, params: dict[str, object], paper_title: str) -> str:
    """The note on a notebook page: which profile, parameters and data produced what it shows."""
    row = page.row
    demo = "demo" in row.data_source.split("+")
    shown = ", ".join(f"`{k}={v!r}`" for k, v in params.items() if not k.endswith("_dir")) or "none recorded"
    executed = f"figures/{page.name}/{page.executed.name}" if page.executed else ""
    label = page.label
    mismatch = ""
    if "profile" in params and row.profile and params["profile"] != row.profile:
        mismatch = f" (its parameters say `profile={params['profile']!r}`)"
    lines = [":::{admonition} Which run this page shows",
             f":class: {'warning' if demo else 'note'} semiad-provenance", "",
             f"* **Profile:** `{row.profile}`{mismatch} — the committed executed notebook `{executed}`, "
             "shown as committed (not re-executed for this site); papermill parameters: " + shown + ".",
             f"* **Data source:** {data_phrase(row)}.",
             f"* **Paper vs ours:** cells within the paper's numbers {ratio(row.cells_within, row.cells)}; "
             f"claims that hold {ratio(row.claims_hold, row.claims)} "
             f"([status table](../index.md#status)).",
             f"* **Paper:** [{paper_title}](index.md) · committed figures and tables: "
             f"{{ref}}`at the end <{label}>` · notebook source: `notebooks/{page.name}.ipynb`."]
    if demo:
        lines.append("* **Demo data:** numbers from demo data (smoke sizes, watermarked) do not reproduce "
                     "the paper.")
    lines.append(":::")
    return "\n".join(lines)


def notebook_page(page: Page, paper_title: str) -> nbformat.NotebookNode:
    """The committed executed notebook, its provenance note under the title and its artifacts at the end."""
    nb = nbformat.read(page.executed, as_version=4)
    params = injected_parameters(nb)
    note = nbformat.v4.new_markdown_cell(provenance_markdown(page, params, paper_title))
    first = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), None)
    if first is not None and nb.cells[first].source.lstrip().startswith("# "):
        # the note goes right under the title line: split the title cell after its heading
        head, _, rest = nb.cells[first].source.lstrip().partition("\n")
        nb.cells[first].source = head
        at = first + 1
        if rest.strip():
            nb.cells.insert(at, nbformat.v4.new_markdown_cell(rest.strip("\n")))
    else:  # no title cell: give the page one
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {page.name}"))
        at = 1
    nb.cells.insert(at, note)
    nb.cells.append(nbformat.v4.new_markdown_cell(artifacts_markdown(page, page.label)))
    for cell in nb.cells:  # cell ids from older nbformat minor versions would fail validation
        cell.pop("id", None)
    nb.nbformat_minor = 4
    return nb


def missing_page(page: Page, paper_title: str) -> str:
    """The page of a notebook that has no committed executed notebook yet."""
    return (f"# {page.name}\n\n:::{{admonition}} Not run yet\n:class: warning\n\nThere is no committed "
            f"executed notebook under `figures/{page.name}/`; profile: none, data source: none.\n:::\n\n"
            f"Paper: [{paper_title}](index.md) · notebook source: `notebooks/{page.name}.ipynb`.\n")


def status_table(pages: list[Page], thumbs: dict[str, str]) -> str:
    """The status table (one row per notebook) as a MyST list-table with thumbnails linked to the pages."""
    lines = ["```{list-table}", ":header-rows: 1", ":class: status-table", ":name: status-table",
             ":widths: 15 28 10 10 10 7 20", "",
             "* - paper", "  - notebook", "  - profile, data", "  - cells within the paper's numbers",
             "  - claims that hold", "  - quick from an empty cache (min)", "  - figure"]
    for page in pages:
        s = page.row
        data = f"{s.profile or 'not run'}, {s.data_source or 'no results'}"
        thumb = f"[![{s.notebook}]({thumbs[page.name]})]({page.doc})" if page.name in thumbs else ""
        lines += [f"* - [{status.PAPER_TITLES.get(s.paper, s.paper)}]({s.paper}/index.md)",
                  f"  - [`{page.name}`]({page.doc})", f"  - {data}", f"  - {ratio(s.cells_within, s.cells)}",
                  f"  - {ratio(s.claims_hold, s.claims)}",
                  f"  - {status.format_minutes(s)}", f"  - {thumb}"]
    lines.append("```")
    return "\n".join(lines)


def make_thumbnail(png: Path, dest: Path, width: int = THUMB_WIDTH) -> None:
    """A ``width``-pixel-wide copy of a PNG for the status table."""
    from PIL import Image

    dest.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(png) as im:
        if im.width > width:
            im = im.resize((width, max(1, round(im.height * width / im.width))), Image.LANCZOS)
        im.save(dest, optimize=True)


def landing_page(root: Path, pages: list[Page], thumbs: dict[str, str], papers: list[str],
                 rewrite: LinkRewriter) -> str:
    """``index.md``: the collection, its commands, the status table, protocol pages, profiles, citation."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    title, body = split_title(readme)
    intro, _, rest = body.partition("```bash")
    commands = rest.split("```", 1)[0].strip("\n")
    parts = sections(readme)
    profiles = count_phrase([p.row.profile or "not run" for p in pages])
    sources = count_phrase([p.row.data_source or "not recorded" for p in pages])
    protocol_pages = [p for p in pages if p.is_protocol]
    if "--site" not in commands:
        commands += "\n./run_all.sh --site    # this site, from the committed executed notebooks -> _site/"
    lines = [f"# {title}", "", rewrite(intro.strip(), "README.md", "index.md"), "",
             "```bash", commands, "```", "",
             "This site shows the **committed** executed notebooks as they are: nothing is re-executed to "
             f"build it. Profiles of the runs shown: {profiles}; data sources: {sources} (\"not recorded\": "
             "the notebook's `results.csv` has no `data_source` column). Every page says which; the table "
             "gives both per notebook.",
             "", "(status)=", "## Status", "",
             "One row per notebook, generated from the committed `comparison.csv` / `claims.csv` / "
             "`results.csv` by the functions of `python -m semiad.core.status` (the same rows as the "
             "README's table). \"Cells within\" counts paper-vs-ours cells inside the paper's reported "
             "spread (or tolerance); \"claims\" counts the paper's statements checked on our run.", "",
             status_table(pages, thumbs), ""]
    if protocol_pages:
        lines += ["## Protocol and ablation pages", "",
                  "Notebooks that run a paper under more than one protocol (the paper's text vs the authors' "
                  "code) or switch one mechanism at a time:", ""]
        lines += [f"* [`{p.name}`]({p.doc}) — {status.PAPER_TITLES.get(p.row.paper, p.row.paper)}"
                  for p in protocol_pages]
        lines.append("")
    if "Profiles" in parts:
        lines += ["## Profiles", "", rewrite(parts["Profiles"], "README.md", "index.md"), ""]
    lines += ["## Citing", "",
              "The collection: `CITATION.cff` in the repository root. Each paper's BibTeX is on its section "
              "page.", "", "```{toctree}", ":caption: Papers", ":maxdepth: 1", ":hidden:", ""]
    lines += [f"{paper}/index" for paper in papers]
    lines += ["```", "", "```{toctree}", ":caption: About", ":maxdepth: 1", ":hidden:", "", "data",
              "cluster", "```", ""]
    return "\n".join(lines)


def paper_page(root: Path, paper: str, pages: list[Page], entry: dict | None, rewrite: LinkRewriter) -> str:
    """``<paper>/index.md``: the paper's README, the runs it shows, its BibTeX and its pages."""
    readme_file = f"notebooks/{paper}/README.md"
    readme_path = root / readme_file
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    title, body = split_title(readme)
    title = title or status.PAPER_TITLES.get(paper, paper)
    lines = [f"# {title}", "", ":::{admonition} Which runs this section shows",
             ":class: note semiad-provenance", "",
             "The results below come from the committed executed notebooks (not re-executed for this site):",
             ""]
    lines += [f"* [`{p.name}`]({posixpath.relpath(p.doc, paper)}) — profile `{p.row.profile or 'not run'}`, "
              f"data source {p.row.data_source or 'not recorded'}" for p in pages]
    lines += [":::", "", rewrite(body, readme_file, f"{paper}/index.md"), ""]
    protocol_pages = [p for p in pages if p.is_protocol]
    if protocol_pages:
        lines += ["## Protocol and ablation pages", ""]
        lines += [f"* [`{p.name}`]({posixpath.relpath(p.doc, paper)})" for p in protocol_pages]
        lines.append("")
    lines += ["## How to cite the paper", ""]
    if entry is None:
        lines += ["No bibliographic entry recorded in `docs/papers.toml`.", ""]
    else:
        lines += ["BibTeX from what the paper text states (`docs/papers.toml`; fields the text lacks are "
                  "left out):", "", "```bibtex", bibtex(entry), "```", ""]
    lines += ["```{toctree}", ":caption: Notebooks", ":maxdepth: 1", ":hidden:", ""]
    lines += [posixpath.relpath(posixpath.splitext(p.doc)[0], paper) for p in pages]
    if (root / "notebooks" / paper / "IMPLEMENTATION.md").is_file():
        lines.append("IMPLEMENTATION")
    lines += ["```", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the source tree
def collect_pages(root: Path) -> list[Page]:
    """One :class:`Page` per notebook of :func:`semiad.core.status.collect`, in its order."""
    pages = []
    for row in status.collect(root):
        out = root / "figures" / row.paper / row.notebook
        executed = out / f"executed_{row.profile}.ipynb" if row.profile else None
        files = sorted(p for p in out.glob("*") if p.suffix in (".png", ".csv")) if out.is_dir() else []
        pages.append(Page(row, out, executed, files))
    return pages


def generate(root: Path, src: Path) -> list[str]:
    """Write the Sphinx source tree for ``root`` into ``src``; returns the repository links it dropped."""
    root, src = root.resolve(), src.resolve()
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    pages = collect_pages(root)
    papers = list(dict.fromkeys(p.row.paper for p in pages))
    facts = load_papers()

    site_map = {"README.md": "index.md", "data/README.md": "data.md", "docs/cluster.md": "cluster.md"}
    for paper in papers:
        site_map[f"notebooks/{paper}/README.md"] = f"{paper}/index.md"
        if (root / "notebooks" / paper / "IMPLEMENTATION.md").is_file():
            # same name as in the repository: the notebooks link it relatively
            site_map[f"notebooks/{paper}/IMPLEMENTATION.md"] = f"{paper}/IMPLEMENTATION.md"
    thumbs: dict[str, str] = {}
    for page in pages:
        site_map[f"notebooks/{page.name}.ipynb"] = page.doc
        for f in page.artifacts:
            dest = src / "_artifacts" / page.name / f.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
            site_map[f"figures/{page.name}/{f.name}"] = f"_artifacts/{page.name}/{f.name}"
        if page.row.figure:
            thumb = f"_artifacts/thumbs/{page.name}.png"
            make_thumbnail(root / page.row.figure, src / thumb)
            thumbs[page.name] = thumb
    rewrite = LinkRewriter(site_map)

    for page in pages:
        title = status.PAPER_TITLES.get(page.row.paper, page.row.paper)
        target = src / page.doc
        target.parent.mkdir(parents=True, exist_ok=True)
        if page.executed is not None:
            nbformat.write(notebook_page(page, title), target)
        else:
            target.write_text(missing_page(page, title), encoding="utf-8")
    for paper in papers:
        paper_pages = [p for p in pages if p.row.paper == paper]
        (src / paper / "index.md").write_text(paper_page(root, paper, paper_pages, facts.get(paper), rewrite),
                                              encoding="utf-8")
    (src / "index.md").write_text(landing_page(root, pages, thumbs, papers, rewrite), encoding="utf-8")
    data_readme = root / "data" / "README.md"
    data_text = data_readme.read_text(encoding="utf-8") if data_readme.is_file() else "# Data\n"
    (src / "data.md").write_text(rewrite(data_text, "data/README.md", "data.md"), encoding="utf-8")
    for repo_file, doc in site_map.items():  # implementation-details pages and the cluster recipes
        if repo_file.endswith(("IMPLEMENTATION.md", "cluster.md")) and (root / repo_file).is_file():
            text = (root / repo_file).read_text(encoding="utf-8")
            (src / doc).write_text(rewrite(text, repo_file, doc), encoding="utf-8")
    return rewrite.dropped


def sphinx_build(src: Path, out: Path, doctrees: Path, jobs: str, warnings: Path) -> None:
    """Run ``sphinx-build -b html -c docs`` on the generated tree; raises if Sphinx fails."""
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(DOCS_DIR), "-d", str(doctrees), "-j", jobs,
           "-q", "-w", str(warnings), str(src), str(out)]
    paths = [str(ROOT / "lib"), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    subprocess.run(cmd, check=True, env=env)


def clear_output(out: Path) -> None:
    """Remove an earlier build in ``out``; refuses a non-empty folder this script did not write."""
    if not out.exists():
        return
    if (out / MARKER).is_file():
        shutil.rmtree(out)
    elif any(out.iterdir()):
        raise SystemExit(f"{out} exists and was not written by docs/build.py; choose another --out")


def build(root: Path = ROOT, out: Path = ROOT / "_site", work: Path = ROOT / "build" / "site",
          jobs: str = "auto") -> Path:
    """Generate the sources and build the site; returns the entry page ``out/index.html``."""
    out, work = out.resolve(), work.resolve()
    dropped = generate(root, work / "src")
    for link in dropped:
        print(f"[site] link to a file the site does not carry, kept as text: {link}")
    clear_output(out)
    # myst-nb writes notebook outputs beside the HTML folder (<html>/../jupyter_execute): build inside the
    # work folder, then move the HTML to `out`.
    html_dir = work / "html"
    if html_dir.exists():
        shutil.rmtree(html_dir)
    sphinx_build(work / "src", html_dir, work / "doctrees", jobs, work / "warnings.txt")
    (html_dir / MARKER).write_text("written by docs/build.py; cleared on the next build\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(html_dir), str(out))
    return out / "index.html"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="output folder (default: _site/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "site",
                        help="generated sources and doctrees (default: build/site/)")
    parser.add_argument("--jobs", default="auto", help="sphinx-build -j (default: auto)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    entry = build(args.root, args.out, args.work, args.jobs)
    warnings = (args.work / "warnings.txt").resolve()
    n_warn = len(warnings.read_text().splitlines()) if warnings.is_file() else 0
    print(f"[site] built {entry} in {time.perf_counter() - start:.0f} s "
          f"({n_warn} Sphinx warning lines: {warnings})")


if __name__ == "__main__":
    main()
