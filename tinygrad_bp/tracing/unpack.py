"""The first lines of a generated step: take the call's arguments apart, as at trace time.

The structure of the example arguments (``record.flatten``) becomes one
unpacking assignment per argument, ``(i0, i1), i2 = a0``, so a call with another
nesting or length fails right there; the generated step turns that failure into
a ValueError that names the difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .recording import TraceError, flatten
from .statics import Path, describe, place


def patterns(key: tuple[Any, ...]) -> tuple[list[str], list[Any]]:
    """One unpacking target per argument (``i<k>`` for argument leaf k), and the static parts.

    >>> patterns(("number", ("list", ("number", "number"))))
    (['i0', '[i1, i2]'], [])
    """
    counter = iter(range(1 << 62))
    statics: list[Any] = []

    def walk(part: Any) -> str:
        if isinstance(part, tuple) and part and part[0] in ("list", "tuple"):
            return "[" + ", ".join(walk(item) for item in part[1]) + "]"
        if isinstance(part, tuple) and part and part[0] == "static":
            statics.append(part[1])
            return f"s{len(statics) - 1}"
        return f"i{next(counter)}"

    return [walk(part) for part in key], statics


def leaf_paths(key: tuple[Any, ...]) -> list[str]:
    """Where each argument leaf (``i<k>``) sits in the arguments, as ``mismatch`` names places.

    >>> leaf_paths(flatten((1.0, [2.0, 3], (np.zeros(2),)))[0])
    ['args[0]', 'args[1][0]', 'args[2][0]']
    """
    paths: list[str] = []

    def walk(part: Any, path: Path) -> None:
        if _kind(part) in ("list", "tuple"):
            for index, item in enumerate(part[1]):
                walk(item, (*path, index))
        elif _kind(part) != "static":
            paths.append(place(path))

    for position, part in enumerate(key):
        walk(part, (position,))
    return paths


def mismatch(key: tuple[Any, ...], args: tuple[Any, ...]) -> TraceError:
    """The error for a call whose arguments are not shaped like the example's.

    It names the first place where they differ, at any depth, as a path into the
    arguments: ``args[1][2]`` is item 2 of the second argument, ``args[0]['lr']``
    the key ``'lr'`` of the first.

    >>> key, _ = flatten(([1.0, [2.0, 3.0]],))
    >>> print(mismatch(key, ([1.0, [2.0, 3.0, 4.0]],)))
    step: args[0][1]: a list of 2 items when traced, 3 now (trace again for another structure)
    """
    new_key, _ = flatten(args)
    if len(new_key) != len(key):
        return TraceError(f"step takes {len(key)} arguments as traced, given {len(new_key)}")
    for position, (old, new) in enumerate(zip(key, new_key)):
        found = _difference(old, new)
        if found is not None:
            path, how = found
            where = place((position, *path))
            return TraceError(f"step: {where}: {how} (trace again for another structure)")
    return TraceError("step: the arguments differ from the example's")


def _difference(old: Any, new: Any) -> tuple[Path, str] | None:
    """Where the structure ``new`` (``flatten``'s) first differs from ``old``, and how."""
    if old == new:
        return None
    kinds = {_kind(old), _kind(new)}
    if kinds == {"list"} or kinds == {"tuple"}:
        if len(old[1]) != len(new[1]):
            return (), f"a {old[0]} of {len(old[1])} items when traced, {len(new[1])} now"
        for index, (old_item, new_item) in enumerate(zip(old[1], new[1])):
            found = _difference(old_item, new_item)
            if found is not None:
                return (index, *found[0]), found[1]
    if kinds == {"static"}:
        return old[1].difference(new[1].value)
    return (), f"{_describe(old)} when traced, {_describe(new)} now"


def _kind(part: Any) -> str:
    """What ``flatten`` made of an argument part: "Value", "number", "list", "static", ..."""
    return part if isinstance(part, str) else part[0]


def _describe(part: Any) -> str:
    """A part of ``flatten``'s structure in words."""
    kind = _kind(part)
    if kind in ("list", "tuple"):
        return f"a {kind} of {len(part[1])} items"
    if kind in ("Tensor", "array"):
        shape, dtype = part[1], np.dtype(part[2])
        what = "a Tensor" if kind == "Tensor" else "a numpy array"
        grad = " that requires grad" if kind == "Tensor" and part[3] else ""
        return f"{what} of shape {shape} ({dtype}){grad}"
    if kind == "static":
        return describe(part[1].value)
    return f"a {kind}"
