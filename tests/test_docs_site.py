"""The docs site's promises: the index maps every page, the tutorial shows its graph,
and the site has no search box that would stay empty when read from disk."""

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tinygrad_bp import Value
from tinygrad_bp.viz import draw_dot

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def nav_pages():
    """The file of every top-level page in mkdocs.yml's nav, in order (a section by its
    first page)."""
    pages = [next(iter(entry.values())) for entry in CONFIG["nav"]]
    return [next(iter(page[0].values())) if isinstance(page, list) else page for page in pages]


def test_the_index_links_every_page_of_the_nav_and_only_those():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    table = index.split("## Map of the documentation")[1]
    linked = re.findall(r"^\| \[[^\]]+\]\(([\w-]+\.md)\) \|", table, re.MULTILINE)
    assert linked == [page for page in nav_pages() if page != "index.md"]
    assert sorted(nav_pages()) == sorted(page.name for page in DOCS.glob("*.md"))


def tutorial_graph():
    """The graph the tutorial's section 8 draws, built as it builds it."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    d = a * b + c
    d.label = "d"
    d.backward()
    return d


def test_the_tutorial_shows_the_picture_its_code_draws():
    tutorial = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    section = tutorial.split("## 8. A picture of the graph")[1].split("\n## ")[0]
    assert "![" in section and "](img/graph.svg)" in section
    svg = (DOCS / "img" / "graph.svg").read_text(encoding="utf-8")
    texts = [html.unescape(text) for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    source = draw_dot(tutorial_graph()).source
    fields = [
        field.strip()
        for label in re.findall(r'label="\{([^"]*)\}"', source)
        for field in label.split("|")
    ]
    ops = re.findall(r'label="([^"{]*)" shape=ellipse', source)
    assert sorted(texts) == sorted(fields + ops)


def test_the_site_has_no_search_box_and_the_index_says_why(tmp_path):
    assert CONFIG["plugins"] == []
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "no search\nbox" in index or "no search box" in index.replace("\n", " ")
    pytest.importorskip("mkdocs")
    site = tmp_path / "site"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
    command += ["--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (site / "search").exists()
    assert 'id="mkdocs-search-query"' not in (site / "tutorial.html").read_text(encoding="utf-8")
