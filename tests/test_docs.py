"""The documentation: the site builds in strict mode, and every code example runs.

Each ```python block of a page in docs/ is executed, in page order, in one
namespace per page (like the cells of a notebook), inside a fresh temporary
working directory. A block that fails names its page and block number in the
traceback, so a change to the library that breaks the docs breaks this test.
Numpy's floating-point warnings (RuntimeWarning) count as failures: the pages
promise warning-free numerics.
"""

import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from conftest import INSTALL_DOT, require_program

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"
PAGES = sorted(DOCS.glob("*.md"))

# A fenced block opened by ```python on its own line and closed by ``` on its own line.
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[str]:
    """The source of every ```python block of a markdown page, in order."""
    return PYTHON_BLOCK.findall(page.read_text(encoding="utf-8"))


def html_path(site: Path, page: Path) -> Path:
    """Where mkdocs writes the HTML of a page: ``use_directory_urls: false``, so that the
    links of a site opened from disk name files (tutorial.html), not directories."""
    return site / f"{page.stem}.html"


# What a page would fetch from the network: a script, stylesheet or image from http(s).
REMOTE_RESOURCE = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""")


def test_the_docs_folder_has_the_expected_pages():
    names = {page.name for page in PAGES}
    expected = {
        "index.md",
        "tutorial.md",
        "derivation.md",
        "architecture.md",
        "api.md",
        "errors-and-numerics.md",
        "performance.md",
    }
    assert expected <= names


def test_every_page_is_in_the_nav():
    config = CONFIG.read_text(encoding="utf-8")
    missing = [page.name for page in PAGES if f": {page.name}" not in config]
    assert not missing, f"pages missing from the nav of mkdocs.yml: {missing}"


def test_mkdocs_build_is_strict_clean_and_reads_offline(tmp_path):
    pytest.importorskip("mkdocs")
    site = tmp_path / "site"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
    command += ["--config-file", str(CONFIG), "--site-dir", str(site)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for page in PAGES:
        assert html_path(site, page).is_file(), f"no HTML for {page.name}"
    for built in site.rglob("*.html"):
        text = built.read_text(encoding="utf-8")
        remote = REMOTE_RESOURCE.findall(text)
        assert not remote, f"{built.relative_to(site)} loads {remote} from the network"
        links = re.findall(r'<a [^>]*href="([^"#:]+)"', text)  # the site's own links
        folders = [link for link in links if link.endswith("/") or link in (".", "..")]
        assert not folders, f"{built.relative_to(site)} links to folders {folders}"


def test_the_tutorial_has_code_to_run():
    assert len(python_blocks(DOCS / "tutorial.md")) >= 10


# The README's example runs too: its quick start must stay true.
PAGES_WITH_CODE = [page for page in [*PAGES, ROOT / "README.md"] if python_blocks(page)]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=[page.name for page in PAGES_WITH_CODE])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    text = page.read_text(encoding="utf-8")
    if "render(" in text:
        require_program("dot", f"{page.name} renders pictures; {INSTALL_DOT}")
    extras = ("torch", "onnx", "onnxruntime")
    if "tinygrad_bp.interop" in text and any(importlib.util.find_spec(m) is None for m in extras):
        pytest.skip(f'{page.name} needs the optional extra: pip install -e ".[interop]"')
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for number, source in enumerate(python_blocks(page), start=1):
            code = compile(source, f"docs/{page.name} [python block {number}]", "exec")
            exec(code, namespace)
