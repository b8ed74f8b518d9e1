"""Expressions and guards as lines of the generated step.

An expression (``tracked.Arg``, ``Data``, ``Call``) becomes one Python
expression: ``i3`` for argument leaf 3 (checked as traced), a node's name for
its data, infix for the operators (``1.0 - i0``), ``np.<name>`` for numpy's own
functions, ``max(...)`` for the builtins; anything else the step needs (a dtype,
an array, a primitive's ``forward``) is held in its closure under a name.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import to_float
from .recording import Guard, Recording
from .statics import describe
from .symbolic import INFIX
from .tracked import Arg, Call, Data, TraceError, walk
from .unpack import leaf_paths

_BUILTINS = {
    getattr(builtins, name): name for name in ("max", "min", "bool", "float", "int", "round", "abs")
}


def array_arg(a: Any, shape: tuple[int, ...], dtype: np.dtype, where: str) -> np.ndarray:
    """An array argument, checked to have the shape and dtype it was traced with.

    ``where`` names it in the arguments (``unpack.leaf_paths``).

    >>> array_arg(np.zeros(2), (2,), np.dtype("f8"), "args[0]").tolist()
    [0.0, 0.0]
    >>> array_arg(np.zeros(3), (2,), np.dtype("f8"), "args[0]")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    tinygrad_bp.tracing.tracked.TraceError: step: args[0]: a numpy array of shape (2,) ...
    """
    if type(a) is np.ndarray and a.shape == shape and a.dtype == dtype:
        return a  # the common case, at no cost
    if not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != dtype:
        got = describe(a) if isinstance(a, np.ndarray) else f"a {type(a).__name__}"
        raise TraceError(
            f"step: {where}: a numpy array of shape {shape} ({dtype}) when traced, {got} now"
        )
    return a


def unchanged(value: Any, expected: Any) -> bool:
    """Whether a guarded value is what it was when traced (nan equal to nan).

    >>> unchanged(np.bool_(True), True), unchanged(float("nan"), float("nan")), unchanged(3, 4)
    (True, True, False)
    """
    if isinstance(expected, (bool, int, float)) and not isinstance(value, (list, tuple)):
        value = np.asarray(value)
        if value.ndim:
            return False
        value = value.item()
        return value == expected or (value != value and expected != expected)
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(value, (list, tuple))
            and len(value) == len(expected)
            and all(unchanged(v, e) for v, e in zip(value, expected))
        )
    return bool(np.array_equal(np.asarray(value), np.asarray(expected), equal_nan=True))


def branched(descriptions: list[str], index: int) -> TraceError:
    """The error of a call in which a decision fn made on data comes out otherwise."""
    return TraceError(
        f"step: fn branches on data: {descriptions[index]} when traced, not now; "
        "trace it again for this call"
    )


HELPERS: dict[str, Any] = {
    "np": np,
    "real": to_float,
    "array_arg": array_arg,
    "unchanged": unchanged,
    "branched": branched,
}


class Renderer:
    """Writes expressions given how nodes are named and how objects are held."""

    def __init__(
        self,
        recording: Recording,
        name: Callable[[Any], str],
        hold: Callable[[str, Any], str],
        fresh: Callable[[str], str],
    ) -> None:
        self.recording = recording
        self.paths = leaf_paths(recording.key)  # where each argument leaf is, for messages
        self.name = name
        self.hold = hold
        self.hold_name = fresh
        self.repeated: set[int] = set()
        self.names_of: dict[int, str] = {}
        self.pending: list[str] = []
        exprs = [s.expr for s in recording.sources.values() if s.kind == "expr"]
        exprs += [g.expr for g in recording.guards] + list(recording.params.values())
        self.shared(exprs)

    def shared(self, exprs: list[Any]) -> None:
        """Name the calls that occur more than once among ``exprs`` (a max used by every
        term of a softmax): each is computed once, on a line of its own (see ``lines``)."""
        seen: dict[int, int] = {}
        for expr in exprs:
            for part in walk(expr):
                if isinstance(part, Call):
                    seen[id(part)] = seen.get(id(part), 0) + 1
        self.repeated = {key for key, count in seen.items() if count > 1}

    def lines(self) -> list[str]:
        """The lines that name shared calls met since the last time (to run first)."""
        lines, self.pending = self.pending, []
        return lines

    def __call__(self, expr: Any) -> str:
        if isinstance(expr, Call) and id(expr) in self.repeated:
            if id(expr) not in self.names_of:
                text = self.call(expr)
                self.names_of[id(expr)] = self.hold_name(_stem(expr.function))
                self.pending.append(f"{self.names_of[id(expr)]} = {text}")
            return self.names_of[id(expr)]
        if isinstance(expr, Data):
            return self.name(expr.node)
        if isinstance(expr, Arg):
            leaf = self.recording.leaves[expr.index]
            if isinstance(leaf, np.ndarray):
                return (
                    f"array_arg(i{expr.index}, {leaf.shape!r}, np.dtype({leaf.dtype.str!r}), "
                    f"{self.paths[expr.index]!r})"
                )
            if isinstance(leaf, np.generic):  # traced as a 0-d array, with its methods
                return f"np.asarray(i{expr.index})"
            return f"i{expr.index}"  # a number, as given: the leaf made from it converts it
        if isinstance(expr, Call):
            return self.call(expr)
        return self.constant(expr)

    def call(self, expr: Call) -> str:
        f, args = expr.function, [self(a) for a in expr.args]
        kwargs = [f"{key}={self(value)}" for key, value in expr.kwargs.items()]
        if f in INFIX and len(args) == 2 and not kwargs:
            return f"({args[0]} {INFIX[f]} {args[1]})"
        if f is operator.neg:
            return f"(-{args[0]})"
        if f is operator.getitem:
            return f"{args[0]}[{args[1]}]"
        return f"{self.function(f)}({', '.join([*args, *kwargs])})"

    def function(self, f: Any) -> str:
        try:
            if f in _BUILTINS:
                return _BUILTINS[f]
        except TypeError:  # an unhashable callable
            pass
        name = getattr(f, "__name__", "")
        if getattr(np, name, None) is f:
            return f"np.{name}"
        owner = getattr(f, "__self__", None)
        ufunc = getattr(owner, "__name__", "") if isinstance(owner, np.ufunc) else ""
        if ufunc and getattr(np, ufunc, None) is owner:
            return f"np.{ufunc}" + ("" if name == "__call__" else f".{name}")
        if getattr(np.ndarray, name, None) is f:
            return f"np.ndarray.{name}"
        if getattr(math, name, None) is f:
            return self.hold(name, f)
        if owner is not None and name == "forward":  # a primitive's own forward
            return f"{self.hold(type(owner).__name__.lower(), owner)}.forward"
        return self.hold(name or "function", f)

    def constant(self, value: Any) -> str:
        if isinstance(value, tuple):
            return "(" + "".join(f"{self(v)}, " for v in value) + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self(v) for v in value) + "]"
        if isinstance(value, slice):
            return f"slice({self(value.start)}, {self(value.stop)}, {self(value.step)})"
        if value is Ellipsis:
            return "..."
        if value is None or isinstance(value, (bool, str)) and not isinstance(value, np.generic):
            return repr(value)
        if type(value) is int or type(value) is float and math.isfinite(value):
            return repr(value)
        type_name = getattr(value, "__name__", "") if isinstance(value, type) else ""
        if type_name and getattr(np, type_name, None) is value:
            return f"np.{type_name}"
        if isinstance(value, np.dtype) and getattr(np, value.name, None) is value.type:
            return f"np.{value.name}"
        return self.hold("constant", value)


def _stem(function: Any) -> str:
    name = getattr(function, "__name__", "")
    return {"max": "top", "min": "bottom"}.get(name, "shared")


class Guards:
    """The checks of the recording's guards, written where their operands are known."""

    def __init__(self, recording: Recording, render: Renderer) -> None:
        self.render = render
        self.by_position: dict[int, list[int]] = {}
        for index, guard in enumerate(recording.guards):
            self.by_position.setdefault(guard.position, []).append(index)
        self.guards = recording.guards
        self.table = ""
        if self.guards:
            sharing, render.repeated = render.repeated, set()
            self.table = render.hold("GUARDS", [_describe(g, render) for g in self.guards])
            render.repeated = sharing

    def at(self, position: int) -> list[str]:
        """The checks that can run once ``order[position]`` is computed (-1: at the start)."""
        lines = []
        for index in self.by_position.get(position, []):
            guard = self.guards[index]
            test = f"unchanged({self.render(guard.expr)}, {self.render.constant(guard.expected)})"
            lines += self.render.lines()
            lines.append(f"if not {test}: raise branched({self.table}, {index})")
        return lines


def _describe(guard: Guard, render: Renderer) -> str:
    shown = repr(guard.expected)
    shown = shown if len(shown) < 60 else shown[:57] + "..."
    return f"{render(guard.expr)} was {shown}"
