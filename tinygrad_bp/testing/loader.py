"""Load a student's class by name: ``load_class("module:ClassName")``.

The grader calls it in the sandboxed child only (``checks._loader``), so that
whatever the module does when imported (print, loop, exit, patch the grader)
happens there, under the time limit, and never in the grader's process.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["load_class", "parse_spec"]


@contextlib.contextmanager
def _importable_from(directory: str) -> Iterator[None]:
    """Search ``directory`` for modules first, as ``python -m`` does with the current one."""
    added = "" not in sys.path and directory not in sys.path
    if added:
        sys.path.insert(0, directory)
    try:
        yield
    finally:
        if added:
            sys.path.remove(directory)


def parse_spec(spec: str) -> tuple[str, str]:
    """``"module:ClassName"`` as (module, class path); ValueError for anything else.

    >>> parse_spec("micrograd.engine:Value")
    ('micrograd.engine', 'Value')
    >>> parse_spec("micrograd.engine")
    Traceback (most recent call last):
    ...
    ValueError: expected 'module:ClassName', e.g. 'micrograd.engine:Value'; got 'micrograd.engine'
    """
    module_name, _, attribute = str(spec).rpartition(":")
    names = [*module_name.split("."), *attribute.split(".")]
    if not all(name.isidentifier() for name in names):
        raise ValueError(
            f"expected 'module:ClassName', e.g. 'micrograd.engine:Value'; got {spec!r}"
        )
    return module_name, attribute


def load_class(spec: str, directory: str | None = None) -> type:
    """Import the class named by ``"module:ClassName"`` (as ``tinygrad-bp check-engine``).

    The module is a dotted import path, looked up in ``directory`` (by default
    the current directory) first;
    the class may be a dotted path inside it (``"pkg.mod:Outer.Value"``).

    Args:
        spec: ``"module:ClassName"``.
        directory: where to look for the module first (None: the current directory).

    Returns:
        The class (any callable).

    Raises:
        ValueError: ``spec`` is not of the form ``module:ClassName``.
        ImportError: the module cannot be imported (or raised while importing,
            SystemExit included).
        AttributeError: the module has no such attribute.
        TypeError: the named attribute is not callable.

    >>> load_class("tinygrad_bp.engine:Value").__name__
    'Value'
    >>> load_class("tinygrad_bp.engine")
    Traceback (most recent call last):
    ...
    ValueError: expected 'module:ClassName', e.g. 'micrograd.engine:Value'; got 'tinygrad_bp.engine'
    """
    module_name, attribute = parse_spec(spec)
    try:
        with _importable_from(os.getcwd() if directory is None else directory):
            found: Any = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the module's own code may raise anything, or exit
        raise ImportError(
            f"cannot import module {module_name!r} of {spec!r}: {type(error).__name__}: {error}",
            name=module_name,
        ) from error
    for depth, name in enumerate(attribute.split(".")):
        if not hasattr(found, name):
            owner = ".".join([module_name, *attribute.split(".")[:depth]])
            raise AttributeError(f"{owner!r} has no attribute {name!r} (from {spec!r})")
        found = getattr(found, name)
    if not callable(found):
        raise TypeError(f"{spec!r} names a {type(found).__name__}, not a class")
    return found
