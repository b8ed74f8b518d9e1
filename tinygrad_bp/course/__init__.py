"""The course: the tutorial as notebooks with exercises, self-checks and solutions.

The notebooks ship with the package as text, MyST Markdown (``notebooks/*.md``),
and are built into Jupyter's ``.ipynb`` when asked, in one of two versions:

- ``"solutions"``: every cell as written, the solution regions marked with
  nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and every exercise
  and check cell carrying nbgrader's cell metadata;
- ``"student"``: the same with each solution region replaced by a stub
  (``tinygrad_bp.course.markup``), so that, run unfilled, exactly the check cells fail.

A check cell is a code cell tagged ``check``; it follows its exercise. Reading
MyST needs the ``course`` extra (jupytext, nbformat): ``pip install "tinygrad_bp[course]"``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from .markup import has_solution, student_source

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
VERSIONS = ("student", "solutions")
CHECK_TAG = "check"
INSTALL_HINT = 'the course needs its extra: pip install "tinygrad_bp[course]"'

__all__ = ["NOTEBOOKS", "VERSIONS", "CourseToolsMissing", "notebook", "sources", "write_course"]


class CourseToolsMissing(ImportError):
    """jupytext or nbformat, which read and write the notebooks, is not installed."""


def sources() -> list[Path]:
    """The notebooks' text sources, in the course's order (their names start with it).

    >>> [path.name for path in sources()][:2]
    ['01-perceptron.md', '02-sigmoid-gates.md']
    """
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.md"))


def _tool(name: str) -> Any:
    """One of the course extra's modules (jupytext, nbformat), imported on first use."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise CourseToolsMissing(INSTALL_HINT) from error


def _nbgrader(cell: Any, grade_id: str) -> dict[str, Any] | None:
    """nbgrader's metadata for an exercise (solution) or check (test) cell, else None."""
    if CHECK_TAG in cell.metadata.get("tags", []):
        kind = {"solution": False, "grade": True, "locked": True, "points": 1}
    elif has_solution(cell.source):
        kind = {"solution": True, "grade": False, "locked": False}
    else:
        return None
    return {**kind, "grade_id": grade_id, "schema_version": 3}


def notebook(source: str | os.PathLike[str], version: str = "solutions") -> Any:
    """The notebook built from one text source, as an ``nbformat`` notebook.

    Args:
        source: A MyST Markdown notebook (one of ``sources()``).
        version: ``"solutions"`` or ``"student"``.

    Raises:
        ValueError: An unknown version.
        CourseToolsMissing: jupytext is not installed.

    >>> nb = notebook(sources()[0], "student")
    >>> marked = [cell.metadata["nbgrader"] for cell in nb.cells if "nbgrader" in cell.metadata]
    >>> [marking["solution"] for marking in marked][:2]
    [True, False]
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    path = Path(source)
    nb = _tool("jupytext").read(path, fmt="md:myst")
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        marking = _nbgrader(cell, f"{path.stem}-cell{number}")
        if marking is not None:
            cell.metadata["nbgrader"] = marking
        if version == "student":
            cell.source = student_source(cell.source)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata.pop("jupytext", None)
    return nb


def write_course(
    folder: str | os.PathLike[str], version: str = "student", force: bool = False
) -> list[Path]:
    """Write every notebook of the course, built as ``version``, into ``folder``.

    The folder is created if needed. Nothing is written when a notebook of the
    same name is already there, unless ``force``.

    Returns:
        The paths written, in the course's order.

    Raises:
        FileExistsError: A notebook exists and ``force`` is False (names the first one).
        CourseToolsMissing: jupytext is not installed.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [path.name for path in write_course(folder)][:1]
    ['01-perceptron.ipynb']
    """
    folder = Path(folder)
    books = [(folder / f"{path.stem}.ipynb", notebook(path, version)) for path in sources()]
    existing = [target for target, _ in books if target.exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} exists (use --force to overwrite)")
    nbformat = _tool("nbformat")
    folder.mkdir(parents=True, exist_ok=True)
    for target, nb in books:
        nbformat.write(nb, target)
    return [target for target, _ in books]
