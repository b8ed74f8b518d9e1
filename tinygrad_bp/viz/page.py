"""One self-contained HTML page from a page's files: what both saved pages are made of.

A page lives in the package as real files: an HTML file that links its style
sheet (``<link rel="stylesheet" href="x.css">``) and its script (``<script
src="x.js"></script>``), beside them. ``self_contained_page`` puts both inline and
the page's data, as JSON, in a ``<script type="application/json">`` element before
the script, so the page opens from the disk with no server and no network. The
step-through of backward (``viz.render_backward``) and the recorded training run
(``watch --record``) are built this way; the live watch page serves the same
files as they are.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from string import Template
from typing import Any

__all__ = ["self_contained_page"]

_STYLE = re.compile(r'<link rel="stylesheet" href="([\w.-]+\.css)">')
_SCRIPT = re.compile(r'<script src="([\w.-]+\.js)"></script>')


def self_contained_page(
    package: str, name: str, data_id: str, data: Any, fields: dict[str, Any] | None = None
) -> str:
    """The page ``name`` of ``package`` with its style and script inline and ``data`` inside.

    Args:
        package: the package holding the page's files, e.g. ``"tinygrad_bp.watch"``.
        name: the HTML file, e.g. ``"page.html"``.
        data_id: the id of the JSON script element the page's script reads.
        data: anything ``json.dumps`` writes; "</" in it is written "<\\/", which reads
            the same and cannot end the script element early.
        fields: ``$name`` placeholders of the HTML file and their text, filled in
            before the files are put inline (their ``$`` are the script's own).

    Example:
        >>> page = self_contained_page("tinygrad_bp.watch", "page.html", "recording", {"a": 1})
        >>> '<script src=' in page, '<script type="application/json" id="recording">' in page
        (False, True)
    """
    files = resources.files(package)
    page = files.joinpath(name).read_text(encoding="utf-8")
    if fields is not None:
        page = Template(page).substitute(fields)
    scripts = _SCRIPT.findall(page)
    assert len(scripts) == 1 and _STYLE.search(page), f"{name} must link one script and a style"
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    page = _STYLE.sub(lambda found: f"<style>\n{_text(files, found[1])}</style>", page)
    return _SCRIPT.sub(
        lambda found: (
            f'<script type="application/json" id="{data_id}">{payload}</script>\n'
            f"<script>\n{_text(files, found[1])}</script>"
        ),
        page,
    )


def _text(files: Any, name: str) -> str:
    return files.joinpath(name).read_text(encoding="utf-8")
