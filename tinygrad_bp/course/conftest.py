"""The doctests of ``tinygrad_bp.course`` that read notebooks skip without the course extra.

Reading the MyST sources needs jupytext; ``make test`` on a machine without the
``course`` extra skips those examples, naming the extra, rather than failing.
"""

import importlib.util

import pytest
from _pytest.doctest import DoctestItem

_READ_NOTEBOOKS = ("tinygrad_bp.course.notebook", "tinygrad_bp.course.write_course")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if importlib.util.find_spec("jupytext") is not None:
        return
    skip = pytest.mark.skip(reason='the course extra is not installed: pip install -e ".[course]"')
    for item in items:
        if isinstance(item, DoctestItem) and item.name in _READ_NOTEBOOKS:
            item.add_marker(skip)
