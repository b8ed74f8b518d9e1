"""The docs site's course pages: each notebook, as HTML, generated at build time.

mkdocs loads this file (``hooks:`` in mkdocs.yml). For every notebook of
``tinygrad_bp.course`` it adds a page ``course/NN-name.md`` to the site: the executed
solutions notebook from ``build/course/solutions`` (written by ``make course``) when it
is there and newer than its source, else the notebook without outputs and a note
saying how to get them. nbconvert's ``basic`` template inlines every picture and
fetches nothing, so the pages read offline. Without the course extra each page says
how to install it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.structure.files import File, Files

from tinygrad_bp.course import INSTALL_HINT, notebook, sources

HERE = Path(__file__).resolve().parent
EXECUTED = HERE.parent / "build" / "course" / "solutions"
GET_IT = (
    "Run it yourself: `tinygrad-bp course DIR` writes the notebooks, with the exercises to "
    "fill in, into `DIR` for Jupyter. This page shows the solutions."
)


def _build_script() -> ModuleType | None:
    """course/build.py, or None when the course extra (jupytext, nbconvert, ...) is missing."""
    if importlib.util.find_spec("jupytext") is None:
        return None
    try:
        spec = importlib.util.spec_from_file_location("course_build", HERE / "build.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except ImportError:
        return None


def _page(source: Path, build: ModuleType | None) -> str:
    if build is None:
        return (
            f"{GET_IT}\n\n!!! note\n    This page is generated from the notebook; {INSTALL_HINT}.\n"
        )
    executed = EXECUTED / f"{source.stem}.ipynb"
    if executed.is_file() and executed.stat().st_mtime >= source.stat().st_mtime:
        nb, note = build.nbformat.read(executed, as_version=4), ""
    else:
        nb = notebook(source, "solutions")
        note = "!!! note\n    Shown without its outputs: `make course` runs the notebooks first.\n"
    return f"{note}\n\n{build.html_body(nb)}\n\n---\n\n{GET_IT}\n"


def on_files(files: Files, config: Any) -> Files:
    build = _build_script()
    for source in sources():
        page = _page(source, build)
        files.append(File.generated(config, f"course/{source.stem}.md", content=page))
    return files
