"""The readers' site (docs/build.py): built from the committed executed notebooks and checked in a real
headless browser (Debian's chromium driven by Selenium through chromium-driver), plus CITATION.cff
validated by cffconvert and the papers' BibTeX facts checked against the paper texts."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag

import pytest
import tomllib
import yaml

from semiad.core import status
from tests.conftest import REPO

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver", "chromium-driver")
PAPER_TEXTS = REPO.parent / "shared" / "papers"
CFFCONVERT_VENV = REPO / "build" / "cffconvert"
SCREENSHOT = Path(os.environ.get("SEMIAD_SITE_SCREENSHOT", REPO / "build" / "site" / "landing.png"))


def _load_build_module():
    spec = importlib.util.spec_from_file_location("semiad_site_build", REPO / "docs" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


site_build = _load_build_module()


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built by the documented command's script from the committed notebooks (into a temp dir)."""
    work = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "docs" / "build.py"), "--out", str(work / "_site"),
                    "--work", str(work / "work"), "--jobs", "2"], check=True, cwd=REPO)
    print(f"site built in {time.perf_counter() - start:.1f} s")
    return work / "_site"


@pytest.fixture(scope="module")
def server(site):
    """The built site served over HTTP on a free local port (as a reader's web server would)."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium under Selenium; skipped only where the browser is not installed."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed: pip install -r requirements.txt")
    binary = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    driver = next((shutil.which(d) for d in DRIVERS if shutil.which(d)), None)
    if binary is None or driver is None:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver; .ci/run does this when it runs as root)")
    options = Options()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1400", "--hide-scrollbars"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


# ----------------------------------------------------------------------------- browser helpers
PAGE_INFO_JS = """
const imgs = Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);
const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
return {ready: document.readyState, title: document.title, imgs: imgs, links: links};
"""


def _visit(driver, url: str) -> dict:
    driver.get(url)
    for _ in range(100):
        info = driver.execute_script(PAGE_INFO_JS)
        if info["ready"] == "complete" and all(done for _, done, _ in info["imgs"]):
            return info
        time.sleep(0.1)
    return info


def _crawl(driver, base: str) -> dict[str, dict]:
    """Every HTML page of the site reachable from the landing page, with its images and links."""
    pages: dict[str, dict] = {}
    queue = [base + "index.html"]
    while queue:
        url = queue.pop()
        if url in pages:
            continue
        pages[url] = _visit(driver, url)
        for link in pages[url]["links"]:
            target, _ = urldefrag(link)
            if target.startswith(base) and target.endswith(".html") and target not in pages:
                queue.append(target)
    return pages


def _page_url(base: str, doc: str) -> str:
    return base + re.sub(r"\.(ipynb|md)$", ".html", doc)


# ----------------------------------------------------------------------------- the browser test
def test_site_in_a_headless_browser(site, server, browser):
    base = server
    rows = status.collect(REPO)

    # Landing page: loads, its status table has one row per notebook, in the status order, thumbnails load.
    info = _visit(browser, base + "index.html")
    assert "semiad" in info["title"]
    table_rows = browser.find_elements("css selector", "table.status-table tbody tr")
    assert len(table_rows) == len(rows)
    assert [r.find_elements("css selector", "td")[1].text for r in table_rows] == [
        f"{r.paper}/{r.notebook}" for r in rows]
    thumbs = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.status-table img')).map(i => i.naturalWidth)")
    assert len(thumbs) == sum(bool(r.figure) for r in rows) and all(w > 0 for w in thumbs)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT)) and SCREENSHOT.stat().st_size > 10_000
    print(f"landing-page screenshot: {SCREENSHOT}")

    pages = _crawl(browser, base)

    # Every image of every page loads.
    broken = [(url, src) for url, page in pages.items() for src, _, width in page["imgs"] if width == 0]
    assert not broken, f"images that did not load: {broken[:10]}"

    # No broken internal link: every target answers 200 and every #fragment exists on its page.
    html_cache: dict[str, str] = {}
    bad = []
    for url, page in pages.items():
        for link in set(page["links"]):
            target, fragment = urldefrag(link)
            if not target.startswith(base):
                continue
            is_html = target.endswith(".html")
            try:
                request = urllib.request.Request(target, method="GET" if is_html else "HEAD")
                with urllib.request.urlopen(request) as resp:
                    body = resp.read()
            except urllib.error.HTTPError as err:
                bad.append((url, link, err.code))
                continue
            if fragment and is_html:
                text = html_cache.setdefault(target, body.decode("utf-8"))
                if f'id="{unquote(fragment)}"' not in text:
                    bad.append((url, link, "no such anchor"))
    assert not bad, f"broken internal links: {bad[:10]}"
    n_links = sum(len(set(p["links"])) for p in pages.values())
    n_images = sum(len(p["imgs"]) for p in pages.values())
    print(f"crawled {len(pages)} pages: {n_images} images loaded, {n_links} links checked")
    assert len(pages) > len(rows) + 5 and n_images > len(rows)

    # One page per notebook: it states profile and data source and shows every committed PNG, loaded.
    for row in rows:
        url = _page_url(base, f"{row.paper}/{row.notebook}.ipynb")
        assert url in pages, f"no page for {row.paper}/{row.notebook}"
        _visit(browser, url)
        note = browser.find_element("css selector", ".semiad-provenance").text
        assert f"Profile: {row.profile}" in note
        assert "Data source: " + (row.data_source or "not recorded") in note
        label = re.sub(r"[^a-z0-9]+", "-", f"{row.paper}/{row.notebook}-artifacts".lower())
        widths = browser.execute_script(
            "const s = document.getElementById(arguments[0]).closest('section');"
            "return Array.from(s.querySelectorAll('figure img')).map(i => i.naturalWidth)", label)
        pngs = sorted((REPO / "figures" / row.paper / row.notebook).glob("*.png"))
        assert len(widths) == len(pngs) and all(w > 0 for w in widths), (row.notebook, widths, pngs)
        if (REPO / "figures" / row.paper / row.notebook / "comparison.csv").is_file():
            assert browser.find_elements("css selector", "table.semiad-table")

    # One section per paper with its README text and the paper's BibTeX; the protocol / ablation pages.
    facts = site_build.load_papers()
    for paper in dict.fromkeys(r.paper for r in rows):
        url = base + f"{paper}/index.html"
        assert url in pages
        _visit(browser, url)
        bib = browser.find_element("css selector", "div.highlight-bibtex pre").text
        assert facts[paper]["title"] in bib and f"@{facts[paper]['type']}{{{facts[paper]['key']}," in bib
        assert "Which runs this section shows" in browser.find_element("css selector", "article").text
    assert base + "deep_sad/protocol_ablation.html" in pages


# ----------------------------------------------------------------------------- generator pieces
def test_link_rewriter_maps_repository_links_to_site_pages():
    rewrite = site_build.LinkRewriter({"notebooks/p/a.ipynb": "p/a.ipynb", "README.md": "index.md",
                                       "figures/p/a/c.csv": "_artifacts/p/a/c.csv"})
    text = ("[a](../../notebooks/p/a.ipynb) [same](a.ipynb#x) [root](../../README.md) "
            "[csv](../../figures/p/a/c.csv) [web](https://example.org) [anchor](#sec) "
            "[gone](../../lib/semiad/x.py)")
    out = rewrite(text, "notebooks/p/README.md", "p/index.md")
    assert out == ("[a](a.ipynb) [same](a.ipynb#x) [root](../index.md) [csv](../_artifacts/p/a/c.csv) "
                   "[web](https://example.org) [anchor](#sec) gone (`lib/semiad/x.py` in the repository)")
    assert rewrite.dropped == ["notebooks/p/README.md: ../../lib/semiad/x.py"]


def test_bibtex_leaves_out_what_the_text_does_not_state():
    facts = site_build.load_papers()
    assert list(facts) == list(status.PAPER_TITLES)  # one entry per paper, in the status order
    deep_sad = site_build.bibtex(facts["deep_sad"])
    assert deep_sad.startswith("@inproceedings{ruff2020deep,") and "year      = {2020}" in deep_sad
    assert "Ruff, Lukas and Vandermeulen, Robert A." in deep_sad
    rlad = site_build.bibtex(facts["rlad"])
    assert "author    =" not in rlad and "year      =" not in rlad and "names no title line, authors" in rlad


@pytest.mark.skipif(not PAPER_TEXTS.is_dir(), reason=f"the paper texts are not here ({PAPER_TEXTS})")
def test_bibtex_facts_are_in_the_paper_texts():
    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s).lower()

    for paper, entry in site_build.load_papers().items():
        text = norm((PAPER_TEXTS / entry["text"]).read_text(encoding="utf-8"))
        assert norm(entry["title"]) in text, paper
        for surname in entry["text_authors"]:
            assert surname.lower() in text, (paper, surname)
        for name in ("year", "pages"):
            if name in entry:
                assert entry[name].split("-")[0] in text, (paper, name)
        if not entry["authors"]:
            assert entry.get("note"), f"{paper}: an entry without authors must say why in note"


# ----------------------------------------------------------------------------- CITATION.cff
def _cffconvert() -> Path:
    """cffconvert from PATH or its own environment (its jsonschema < 4 pin clashes with Jupyter's)."""
    found = shutil.which("cffconvert")
    if found:
        return Path(found)
    exe = CFFCONVERT_VENV / "bin" / "cffconvert"
    if not exe.is_file():
        try:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(CFFCONVERT_VENV)], check=True,
                           capture_output=True)
            pins = REPO / "docs" / "requirements-cffconvert.txt"
            subprocess.run([str(CFFCONVERT_VENV / "bin" / "pip"), "install", "-q",
                            "--disable-pip-version-check", "-r", str(pins)], check=True,
                           capture_output=True, timeout=300)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            pytest.skip(f"cffconvert could not be installed into {CFFCONVERT_VENV}: {err}")
    return exe


def test_citation_cff_validates_with_cffconvert(tmp_path):
    exe = _cffconvert()
    ok = subprocess.run([str(exe), "--validate", "-i", str(REPO / "CITATION.cff")], capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "valid" in ok.stdout
    broken = tmp_path / "CITATION.cff"  # the check can fail: a file without authors does not validate
    data = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    del data["authors"]
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert subprocess.run([str(exe), "--validate", "-i", str(broken)], capture_output=True).returncode != 0


def test_citation_cff_matches_the_project_and_the_papers():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    with (REPO / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    assert str(cff["version"]) == project["version"] and cff["license"] == project["license"]
    titles = [ref["title"] for ref in cff["references"]]
    assert titles == [entry["title"] for entry in site_build.load_papers().values()]


def test_site_output_is_git_ignored():
    ignored = subprocess.run(["git", "check-ignore", "-q", "_site/index.html"], cwd=REPO)
    assert ignored.returncode == 0, "_site/ must be git-ignored"
