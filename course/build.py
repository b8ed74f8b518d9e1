"""Build the course: both versions as .ipynb, the solutions executed, and HTML of each.

    python course/build.py [--out build/course] [--timeout 120]

writes

- ``OUT/student/NN-name.ipynb``: the notebooks a learner fills in (not executed);
- ``OUT/solutions/NN-name.ipynb``: the solutions, executed, with their outputs;
- ``OUT/html/NN-name.html``: each executed solutions notebook as one page that reads
  offline (pictures inline, no script or style fetched from the network).

The docs site (``course/mkdocs_hook.py``) shows the executed notebooks from ``OUT``.
Needs the ``course`` extra: ``pip install -e ".[course]"``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from tinygrad_bp.course import notebook, sources

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "course"
CELL_TIMEOUT = 120  # seconds per cell: the slowest (training, the grader) take a few
CSS = ROOT / "docs" / "css"
# The standalone pages carry the docs site's own two style sheets.
STYLE = "\n".join(
    (CSS / name).read_text(encoding="utf-8") for name in ("pygments.css", "notebook.css")
)


_SRCDOC = re.compile(r'srcdoc="[^"]*"')


def execute(nb: Any, timeout: int = CELL_TIMEOUT, allow_errors: bool = False) -> Any:
    """Run every cell of ``nb`` in a fresh Python kernel, in a temporary folder (the
    files a notebook writes go there), and return it with its outputs."""
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=allow_errors,
            coalesce_streams=True,  # one print's pieces as one output, as Jupyter shows them
            resources={"metadata": {"path": folder}},
        )
        return client.execute()


def html_body(nb: Any) -> str:
    """The notebook as an HTML fragment: cells, outputs and inline pictures, no scripts
    fetched (nbconvert's ``basic`` template), wrapped in ``<div class="notebook">``."""
    exporter = HTMLExporter(template_name="basic", exclude_anchor_links=True)
    body, _ = exporter.from_notebook_node(nb)
    # The site colours code by the class markdown's codehilite gives it (css/pygments.css).
    body = body.replace('class="highlight hl-ipython3"', 'class="codehilite"')
    # nbconvert writes the newlines of an iframe's srcdoc (an embedded page) as they are;
    # Markdown would end the page's raw HTML at the first blank line inside one.
    body = _SRCDOC.sub(lambda match: match[0].replace("\n", "&#10;"), body)
    return f'<div class="notebook">\n{body}\n</div>'


def html_page(nb: Any, title: str) -> str:
    """The notebook as one page that reads offline, with its own small style sheet."""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n<title>{title}</title>\n'
        f"<style>{STYLE}</style></head>\n<body>\n{html_body(nb)}\n</body></html>\n"
    )


def build(out: Path, timeout: int) -> dict[str, float]:
    """Write both versions and the HTML into ``out``; return each notebook's run time."""
    times = {}
    for version in ("student", "solutions", "html"):
        (out / version).mkdir(parents=True, exist_ok=True)
    for source in sources():
        nbformat.write(notebook(source, "student"), out / "student" / f"{source.stem}.ipynb")
        start = time.perf_counter()
        executed = execute(notebook(source, "solutions"), timeout)
        times[source.stem] = time.perf_counter() - start
        nbformat.write(executed, out / "solutions" / f"{source.stem}.ipynb")
        title = executed.cells[0].source.splitlines()[0].lstrip("# ")
        page = html_page(executed, title)
        (out / "html" / f"{source.stem}.html").write_text(page, encoding="utf-8")
        print(f"{source.stem}: executed in {times[source.stem]:.1f} s", flush=True)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the folder to write (%(default)s)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    times = build(args.out, args.timeout)
    print(f"{len(times)} notebooks in {sum(times.values()):.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
