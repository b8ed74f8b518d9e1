"""The doctests of the package follow the rule of tests/conftest.py for Graphviz's ``dot``.

A docstring example that runs ``dot`` (``render``, ``render_backward``, ``svg``)
skips, saying how to install Graphviz, where ``dot`` is missing, so that
``make test`` passes on a machine without it; under ``TINYGRAD_BP_REQUIRE_TOOLS=1``
(CI) it runs and fails instead. (The tests' own fixtures live in tests/conftest.py,
which only applies to tests/.)
"""

import os
import re
import shutil

import pytest
from _pytest.doctest import DoctestItem

# A call of one of viz's functions that run the dot program.
_RUNS_DOT = re.compile(r"\b(render|render_backward|svg)\(")
_INSTALL_DOT = "install Graphviz: apt-get install graphviz (Debian/Ubuntu) or brew install graphviz"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("dot") is not None or os.environ.get("TINYGRAD_BP_REQUIRE_TOOLS") == "1":
        return
    skip = pytest.mark.skip(reason=f"`dot` is not installed; {_INSTALL_DOT}")
    for item in items:
        if isinstance(item, DoctestItem) and item.dtest is not None:
            if any(_RUNS_DOT.search(example.source) for example in item.dtest.examples):
                item.add_marker(skip)
