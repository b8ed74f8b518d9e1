"""The doctests of the package follow the rule of tests/conftest.py for Graphviz's ``dot``.

A docstring example that runs ``dot`` (``render``, ``render_backward``, ``svg``)
skips, saying how to install Graphviz, where ``dot`` is missing, so that
``make test`` passes on a machine without it; under ``TINYGRAD_BP_REQUIRE_TOOLS=1``
(CI) it runs and fails instead. (The tests' own fixtures live in tests/conftest.py,
which only applies to tests/.)

At the end of the run, one short section lists what was missing (programs such as
``dot`` and Chromium, optional Python packages) and how to install each: every skip
whose reason reads ``<what> is not installed: <how to install it>``, counted, so
that nobody needs ``pytest -rs`` to learn why tests were skipped.
"""

import os
import re
import shutil

import pytest
from _pytest.doctest import DoctestItem
from _pytest.terminal import TerminalReporter

# A call of one of viz's functions that run the dot program.
_RUNS_DOT = re.compile(r"\b(render|render_backward|svg)\(")
_INSTALL_DOT = "install Graphviz: apt-get install graphviz (Debian/Ubuntu) or brew install graphviz"
# The reason of a skip for something missing, as tests/conftest.py and this file write it.
_MISSING = re.compile(r"(?:Skipped: )?(?P<what>.+?) is not installed: (?P<hint>.+)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("dot") is not None or os.environ.get("TINYGRAD_BP_REQUIRE_TOOLS") == "1":
        return
    skip = pytest.mark.skip(reason=f"dot is not installed: {_INSTALL_DOT}")
    for item in items:
        if isinstance(item, DoctestItem) and item.dtest is not None:
            if any(_RUNS_DOT.search(example.source) for example in item.dtest.examples):
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """List, once, each missing program or package that made tests skip, and its install."""
    missing: dict[str, tuple[str, int]] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        found = _MISSING.match(reason)
        if found is not None:
            hint, count = missing.get(found["what"], (found["hint"], 0))
            missing[found["what"]] = (hint, count + 1)
    if not missing:
        return
    terminalreporter.section("skipped for want of a program or package", sep="-")
    for what, (hint, count) in sorted(missing.items()):
        tests = "test" if count == 1 else "tests"
        terminalreporter.line(f"{what} ({count} {tests} skipped): {hint}")
