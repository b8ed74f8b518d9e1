"""The parts of a step's arguments that are not numbers: kept when traced, compared at each call.

An integer, a string, a dict or any other object among the arguments is part of
the call's structure: a call must pass an equal one. Equal means: integers by
value (3 and ``np.int64(3)`` alike, but not ``True``), dicts, lists and tuples
item by item, numpy arrays by dtype and values, Values and Tensors by identity
(the same node), anything else by its ``==``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..engine import Value
from ..tensor import Tensor

Path = tuple[Any, ...]  # the keys and indices down to a part: ("lr",), (0, "sizes", 2)
NESTING_LIMIT = 100  # levels of lists, tuples, dicts and sets inside one argument
PARTS_LIMIT = 1_000_000  # parts of the arguments, a part counted once per path to it


def place(path: Path) -> str:
    """A place in a call's arguments, as messages name it: argument, then keys and indices.

    >>> place((1, "lr")), place((0, 2, 0))
    ("args[1]['lr']", 'args[0][2][0]')
    """
    return f"args[{path[0]}]" + "".join(f"[{key!r}]" for key in path[1:])


def check_bounded(args: tuple[Any, ...]) -> None:
    """Refuse, with ValueError naming the place, arguments that no walk could finish.

    A list, tuple, dict or set that holds itself (at any depth), nesting deeper than
    ``NESTING_LIMIT``, or more than ``PARTS_LIMIT`` parts, where a part reached along
    two paths counts twice: lists that share their items, ``a = [a, a]`` forty times
    over, have 2**40 paths. Every other walk of the arguments (``flatten``, ``Static``)
    then ends, and soon.

    >>> loop = [1.0]
    >>> loop.append(loop)
    >>> check_bounded((2.0, {"x": loop}))
    Traceback (most recent call last):
    ...
    ValueError: trace: args[1]['x'][1] holds itself (a list inside itself is no argument)
    """
    parts = 0
    stack: list[tuple[Any, Path, tuple[int, ...]]] = [
        (arg, (position,), ()) for position, arg in reversed(list(enumerate(args)))
    ]
    while stack:
        part, path, holders = stack.pop()
        parts += 1
        if parts > PARTS_LIMIT:
            raise ValueError(
                f"trace: the arguments have more than {PARTS_LIMIT:,} parts (a part shared by "
                f"several lists counts once for each); pass arrays instead"
            )
        if isinstance(part, dict):
            items: Any = part.items()
        elif isinstance(part, (list, tuple, set, frozenset)):
            items = enumerate(part)
        else:
            continue
        if id(part) in holders:
            kind = type(part).__name__
            raise ValueError(
                f"trace: {place(path)} holds itself (a {kind} inside itself is no argument)"
            )
        if len(holders) >= NESTING_LIMIT:
            raise ValueError(
                f"trace: {place(path[:1])} nests lists, tuples, dicts or sets more than "
                f"{NESTING_LIMIT} levels deep"
            )
        inside = (*holders, id(part))
        stack.extend((item, (*path, key), inside) for key, item in reversed(list(items)))


class Static:
    """A part of the arguments that is not a number: compared by value at each call.

    ``trace`` keeps a copy, so a dict changed in place between calls is noticed; the
    Values and Tensors in it are kept as they are (they are compared by identity),
    and an object whose copy is not equal to it is kept as it is too.

    >>> traced = Static({"sizes": [2, 3]})
    >>> traced.matches({"sizes": [2, 3]}), traced.difference({"sizes": [2, 4]})
    (True, (('sizes', 1), '3 when traced, 4 now'))
    """

    def __init__(self, value: Any) -> None:
        nodes = {id(node): node for node in _nodes_in(value)}
        try:
            copied = copy.deepcopy(value, nodes)
        except Exception:  # an object that cannot be copied is compared as it is
            copied = value
        self.value = copied if difference(copied, value) is None else value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Static) and difference(self.value, other.value) is None

    def matches(self, value: Any) -> bool:
        """Whether a call's argument is the same as the traced one."""
        return difference(self.value, value) is None

    def difference(self, value: Any) -> tuple[Path, str] | None:
        """Where a call's argument first differs from the traced one, and how (``difference``)."""
        return difference(self.value, value)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return repr(self.value)[:40]


def difference(traced: Any, now: Any) -> tuple[Path, str] | None:
    """Where ``now`` first differs from ``traced`` (keys and indices), and how; None if equal.

    >>> difference({"a": [1, 2]}, {"a": [1, 2]}) is None
    True
    >>> difference({"a": [1, 2]}, {"a": [1, 2, 5]})
    (('a',), 'a list of 2 items when traced, 3 now')
    """
    integers = (int, np.integer)
    if isinstance(traced, integers) and isinstance(now, integers):  # 3 and np.int64(3) alike
        booleans = (bool, np.bool_)
        same = isinstance(traced, booleans) == isinstance(now, booleans) and traced == now
        return None if same else ((), _how(traced, now))
    if type(traced) is not type(now):
        return (), _how(traced, now)
    if isinstance(traced, dict):
        if traced.keys() != now.keys():
            return (), f"a dict with keys {list(traced)} when traced, {list(now)} now"
        return _first_difference((key, traced[key], now[key]) for key in traced)
    if isinstance(traced, (list, tuple)):
        if len(traced) != len(now):
            kind = type(traced).__name__
            return (), f"a {kind} of {len(traced)} items when traced, {len(now)} now"
        return _first_difference(zip(range(len(traced)), traced, now))
    if isinstance(traced, np.ndarray):
        if traced.dtype == now.dtype and bool(np.array_equal(traced, now)):
            return None
        if traced.shape == now.shape and traced.dtype == now.dtype:
            return (), f"{describe(traced)} with other values than when traced"
        return (), _how(traced, now)
    if isinstance(traced, (Value, Tensor)):
        return None if traced is now else ((), f"another {type(now).__name__} than when traced")
    try:
        same = bool(traced == now)
    except Exception:
        same = traced is now
    return None if same else ((), _how(traced, now))


def _first_difference(triples: Any) -> tuple[Path, str] | None:
    for key, traced, now in triples:
        found = difference(traced, now)
        if found is not None:
            path, how = found
            return (key, *path), how
    return None


def _how(traced: Any, now: Any) -> str:
    return f"{describe(traced)} when traced, {describe(now)} now"


def describe(value: Any) -> str:
    """A short description of an argument part, for messages.

    >>> describe(np.zeros((2, 3))), describe("relu"), describe([1, 2])
    ('a numpy array of shape (2, 3) (float64)', "'relu'", 'a list of 2 items')
    """
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} ({value.dtype})"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, (Value, Tensor)):
        return f"a {type(value).__name__}"
    return repr(value)[:40]


def _nodes_in(value: Any) -> list[Any]:
    """The Values and Tensors inside ``value``'s dicts, lists, tuples and sets."""
    nodes, stack = [], [value]
    while stack:
        part = stack.pop()
        if isinstance(part, (Value, Tensor)):
            nodes.append(part)
        elif isinstance(part, dict):
            stack.extend(part.values())
        elif isinstance(part, (list, tuple, set, frozenset)):
            stack.extend(part)
    return nodes
