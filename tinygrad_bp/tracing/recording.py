"""Recording a step: run ``fn``, and sort the leaves of its graph into kinds.

A traced step has to know, for every leaf of the recorded graph, where its
number comes from at the next call:

- a **parameter**: a leaf that existed before ``fn`` ran (the same object in
  every run); its current ``data`` is read at each call and it receives a grad;
- an **input**: a ``Value``/``Tensor`` passed in the arguments (by identity), or
  a leaf ``fn`` made from a number of the arguments (``Value(x)``, ``-y``,
  ``1 - y``, a copy of an array);
- a **constant**: a leaf ``fn`` made that does not depend on any of them.

Numbers in the arguments are not objects we can follow, so the recorder runs
``fn`` three more times, as **probes**, with every input number and every leaf's
data moved (and put back after): a little (about 2**-14 of itself), a lot (up
to half), and wildly (signs flipped, units saturated). A new leaf that no probe
changes is a constant; one that a probe changes must be one of a few simple
forms of one input number (``x``, ``-x``, ``c - x``), checked exactly in every
probe; anything else was computed outside the graph from data (``max(v.data
...)``, a mask from ``z.data``), which a replay could not recompute, so tracing
refuses it. Each probe must also record a graph of the same shape: a branch
that a move flips is found here. (A wild probe that fails, say by taking the
log of a negative number, is left out; it tells nothing.)
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import engine as engine_module
from .. import functions as functions_module
from .. import graph as graph_module
from .. import tensor as tensor_module
from ..engine import Value
from ..graph import toposort
from ..tensor import Tensor

Node = Any  # a Value or a Tensor

# How far the probe moves a number x: by (|x| + 1) * _NUDGE * (1 + i / n), i the
# number's position among n, so that equal inputs move apart and can be told apart.
_NUDGE = 2.0**-14
_SPREAD = 2.0**20  # n: more positions than any traced step has scalar inputs
_WILD = 1000.0


class TraceError(ValueError):
    """A function (or a call) the traced step cannot replay exactly."""


def flatten(args: Sequence[Any]) -> tuple[Any, list[Any]]:
    """The arguments' structure (a hashable key) and their numeric leaves, in order.

    Leaves: Values, Tensors, real numbers and numeric numpy arrays. Lists and
    tuples are walked into; anything else is part of the structure (compared
    with ``==`` at each call).

    >>> key, leaves = flatten(([1.0, 2.0], 3))
    >>> leaves
    [1.0, 2.0, 3]
    """
    leaves: list[Any] = []

    def walk(x: Any) -> Any:
        if isinstance(x, Value):
            leaves.append(x)
            return "Value"
        if isinstance(x, Tensor):
            leaves.append(x)
            return ("Tensor", x.shape, x.dtype.str)
        if isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, np.timedelta64):
            leaves.append(x)
            return "number"
        if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
            leaves.append(x)
            return ("array", x.shape, x.dtype.str)
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, tuple(walk(item) for item in x))
        return ("static", x)

    return tuple(walk(arg) for arg in args), leaves


@dataclass
class Source:
    """Where a leaf's number comes from at each call.

    kind: "param" (``node`` itself, re-read), "input" (argument leaf ``index``,
    flat element ``element`` for a scalar taken out of an array or a Tensor),
    "const" (``value`` kept).
    form: for inputs, how the leaf is made from the input: "x", "-x" or "c-x"
    (with ``c``); ``cast_first`` says whether the dtype cast comes before it.
    """

    kind: str
    node: Node = None
    index: int = -1
    element: int | None = None
    form: str = "x"
    c: float = 0.0
    cast_first: bool = True
    value: Any = None


@dataclass
class Recording:
    """One run of ``fn``: its graph in the order of the reverse sweep, and the leaves' sources."""

    root: Node
    order: list[Node]  # toposort: children before parents, root last
    sources: dict[int, Source]  # id(leaf) -> where its data comes from
    key: Any  # the arguments' structure
    leaves: list[Any]  # the example arguments' numeric leaves
    params: dict[int, dict[str, Any]] = field(default_factory=dict)  # tensor ops' parameters
    guards: list[Guard] = field(default_factory=list)  # fn's comparisons on Values' data


def _nudge(x: float, position: int) -> float:
    """The small move: a relative 2**-14 or so, different for each position."""
    return x + (abs(x) + 1.0) * _NUDGE * (1.0 + (position % _SPREAD) / _SPREAD)


def _shake(x: float, position: int, how: str) -> float:
    """The large move: up to half of x and 0.01, pseudo-random by position (signs mostly
    kept); the wild one: -1000 x plus up to 1000, flipping signs and saturating units."""
    u = math.sin(position * 12.9898 + 78.233) * 43758.5453
    u = 2.0 * (u - math.floor(u)) - 1.0  # in [-1, 1)
    if how == "wild":
        return -_WILD * x + _WILD * u
    return x * (1.0 + 0.5 * u) + 0.01 * u


def _moved_array(a: np.ndarray, start: int, how: str) -> np.ndarray:
    if a.dtype.kind in "iub":
        if a.dtype.kind == "b":
            return ~a
        top = int(a.max()) if a.size else 0
        shift = 2 if how != "small" and top > 1 else 1
        return (a + shift) % (top + 1) if top > 0 else a + 1
    positions = (np.arange(a.size).reshape(a.shape) + start) % _SPREAD
    if how != "small":
        u = np.sin(positions * 12.9898 + 78.233) * 43758.5453
        u = 2.0 * (u - np.floor(u)) - 1.0
        if how == "wild":
            return (-_WILD * a + _WILD * u).astype(a.dtype)
        return (a * (1.0 + 0.5 * u) + 0.01 * u).astype(a.dtype)
    step = (np.abs(a) + 1.0) * _NUDGE * (1.0 + positions / _SPREAD)
    return (a + step).astype(a.dtype)


def _moved(x: Any, position: int, how: str) -> Any:
    """A number or array of the arguments, moved."""
    if isinstance(x, np.ndarray):
        return _moved_array(x, position, how)
    if isinstance(x, (bool, np.bool_)):
        return x
    if isinstance(x, numbers.Integral):
        return x + 1
    number = _nudge(float(x), position) if how == "small" else _shake(float(x), position, how)
    return type(x)(number) if isinstance(x, np.generic) else number


def _rebuild(args: Sequence[Any], replace: Callable[[Any], Any]) -> tuple[Any, ...]:
    def walk(x: Any) -> Any:
        if isinstance(x, (list, tuple)) and not isinstance(x, (Value, Tensor)):
            return type(x)(walk(item) for item in x)
        if isinstance(x, (Value, Tensor, numbers.Real, np.bool_, np.ndarray)):
            return replace(x)
        return x

    return tuple(walk(arg) for arg in args)


def _run(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[Node, list[Node]]:
    root = fn(*args)
    if isinstance(root, Tensor):
        if root.data.size != 1:
            raise TraceError(
                f"trace: fn must return one number, got a Tensor of shape {root.shape}"
            )
        if not root.requires_grad:
            raise TraceError("trace: fn's result does not depend on any tensor that requires grad")
    elif not isinstance(root, Value):
        raise TraceError(f"trace: fn must return a Value or a Tensor, got {type(root).__name__}")
    return root, toposort(root)


def _same_path(first: list[Node], second: list[Node]) -> str | None:
    """None if both graphs have the same shape; else what differs."""
    if len(first) != len(second):
        return f"{len(first)} nodes, then {len(second)}"
    index = {id(node): i for i, node in enumerate(first)}
    index2 = {id(node): i for i, node in enumerate(second)}
    for a, b in zip(first, second):
        if a.op != b.op:
            return f"operation {a.op!r}, then {b.op!r}"
        if [index[id(c)] for c in a.children] != [index2[id(c)] for c in b.children]:
            return f"the operands of {a.op!r} differ"
        if isinstance(a, Tensor) and (a.shape != b.shape or a.dtype != b.dtype):
            return f"{a.op or 'a leaf'} of shape {a.shape}, then {b.shape}"
    return None


class _Probe:
    """Move the data of the given nodes (leaves, argument nodes) for one run, then put it back."""

    def __init__(self, nodes: list[Node], how: str) -> None:
        unique = {id(node): node for node in nodes}
        self.nodes = list(unique.values())
        self.how = how
        self.saved = [_snapshot(node) for node in self.nodes]

    def __enter__(self) -> None:
        for position, node in enumerate(self.nodes):
            if isinstance(node, Tensor):
                node.data[...] = _moved_array(node.data, position, self.how)
            else:
                node.data = _moved(node.data, position, self.how)

    def __exit__(self, *exc: object) -> None:
        for node, data in zip(self.nodes, self.saved):
            if isinstance(node, Tensor):
                node.data[...] = data
            else:
                node.data = data


def _snapshot(node: Node) -> Any:
    return node.data.copy() if isinstance(node, Tensor) else node.data


@dataclass(frozen=True)
class Guard:
    """A comparison fn's own code made on a node's data: ``node op other`` was ``result``.

    ``other`` is a number, or (as a position in the graph's order) another node.
    """

    position: int
    op: str
    other: Any
    other_is_node: bool
    result: bool


class _Watched(float):
    """A Value's data as fn's own code reads it while tracing: comparisons are logged."""

    node: Node
    log: list[tuple[Node, str, Any, bool]]

    def __new__(cls, value: float, node: Node, log: list[tuple[Node, str, Any, bool]]) -> _Watched:
        watched = super().__new__(cls, value)
        watched.node, watched.log = node, log
        return watched

    def _logged(self, op: str, other: Any, result: Any) -> Any:
        if result is not NotImplemented:
            other = other.node if isinstance(other, _Watched) else other
            self.log.append((self.node, op, other, bool(result)))
        return result

    def __lt__(self, other: Any) -> Any:
        return self._logged("<", other, float.__lt__(self, other))

    def __le__(self, other: Any) -> Any:
        return self._logged("<=", other, float.__le__(self, other))

    def __gt__(self, other: Any) -> Any:
        return self._logged(">", other, float.__gt__(self, other))

    def __ge__(self, other: Any) -> Any:
        return self._logged(">=", other, float.__ge__(self, other))

    def __eq__(self, other: object) -> Any:
        return self._logged("==", other, float.__eq__(self, other))

    def __ne__(self, other: object) -> Any:
        return self._logged("!=", other, float.__ne__(self, other))

    def __bool__(self) -> bool:
        return bool(self._logged("!=", 0.0, float(self) != 0.0))

    __hash__ = float.__hash__


# Code whose reads of a Value's data are the graph's own arithmetic, not fn's decisions.
_INTERNAL = {
    module.__file__ for module in (engine_module, graph_module, tensor_module, functions_module)
} | {str(path) for path in Path(__file__).parent.glob("*.py")}


_DATA = "data"  # the slot of Value that _watching wraps


@contextlib.contextmanager
def _watching(log: list[tuple[Node, str, Any, bool]]) -> Iterator[None]:
    """Meanwhile, fn's own reads of ``Value.data`` give floats that log their comparisons.

    That is how a branch on data (``if z.data > 0``) is found: the traced step
    checks each logged comparison at every call and raises ValueError when one
    comes out the other way. Only the tracing thread's reads are watched; other
    threads read plain floats (a little slower, until the recording ends).
    """
    slot = Value.__dict__["data"]
    tracing_thread = threading.get_ident()

    def get(node: Value) -> Any:
        value = slot.__get__(node, Value)
        if threading.get_ident() != tracing_thread:  # another thread's reads are its own
            return value
        if sys._getframe(1).f_code.co_filename in _INTERNAL:
            return value
        return _Watched(value, node, log)

    def put(node: Value, value: Any) -> None:
        slot.__set__(node, float(value) if isinstance(value, _Watched) else value)

    setattr(Value, _DATA, property(get, put))
    try:
        yield
    finally:
        setattr(Value, _DATA, slot)


def _guards(log: list[tuple[Node, str, Any, bool]], order: list[Node]) -> list[Guard]:
    """The logged comparisons, their nodes given as positions in ``order``."""
    position = {id(node): i for i, node in enumerate(order)}
    guards = []
    for node, op, other, result in log:
        other_is_node = isinstance(other, Value)
        for watched in (node, other) if other_is_node else (node,):
            if id(watched) not in position:
                raise TraceError(
                    "trace: fn compares the data of a Value that does not lead to its result"
                )
        if not other_is_node and not isinstance(other, (numbers.Real, np.bool_)):
            raise TraceError(f"trace: fn compares a Value's data with {type(other).__name__}")
        other = position[id(other)] if other_is_node else float(other)
        guards.append(Guard(position[id(node)], op, other, other_is_node, result))
    return guards


@dataclass
class _Run:
    """One probe run: its graph, every node's data, the tensor ops' parameters, the arguments."""

    order: list[Node]
    data: list[Any]
    params: dict[int, tuple[Any, dict[str, Any]]]
    leaves: list[Any]


_FLIPPED = "flipped"  # what _probe gives when fn took another branch on data


@contextlib.contextmanager
def _recording_params(params_of: dict[int, tuple[Any, dict[str, Any]]]) -> Iterator[None]:
    """Keep the primitive and keyword parameters of every tensor operation run meanwhile.

    ``Tensor`` runs each primitive through ``tensor._apply``; the recorder wraps it
    for the duration of one run of ``fn`` (the parameters, such as an index or an
    axis, are not kept on the graph).
    """
    original = tensor_module._apply

    def apply(function: Any, *inputs: Tensor, **params: Any) -> Tensor:
        out = original(function, *inputs, **params)
        params_of[id(out)] = (function, params)
        return out

    tensor_module._apply = apply
    try:
        yield
    finally:
        tensor_module._apply = original


def record(fn: Callable[..., Any], args: Sequence[Any]) -> Recording:
    """Run ``fn(*args)`` and two probes, and say where each leaf's number comes from.

    The small probe moves every number by about 2**-14 of itself: a leaf that
    keeps its value through it and the large probe (numbers moved by up to half)
    is a constant; the large probe also catches constants computed from data
    (``np.where(z.data >= 0, ...)``) that a small move would not flip.
    """
    key, arg_leaves = flatten(args)
    params_of: dict[int, tuple[Any, dict[str, Any]]] = {}
    log: list[tuple[Node, str, Any, bool]] = []
    with _recording_params(params_of), _watching(log):
        root, order = _run(fn, args)
    guards = _guards(log, order)
    leaves = [node for node in order if not node.children]
    nodes_of_args = {id(x): i for i, x in enumerate(arg_leaves) if isinstance(x, (Value, Tensor))}
    runs = []
    for how in ("small", "large", "wild"):
        run = _probe(fn, args, leaves, arg_leaves, order, how, guards)
        if run == _FLIPPED and how == "small":
            raise TraceError(
                "trace: fn branches on data right at the example (a move of 2**-14 "
                "flips a comparison); trace it at another example"
            )
        if isinstance(run, _Run):
            runs.append(run)
    sources: dict[int, Source] = {}
    for position, node in enumerate(order):
        others = [run.order[position] for run in runs]
        if node.children:
            if any(node is other for other in others):
                raise TraceError(
                    f"trace: fn uses a {node.op!r} node computed before the call; compute it in fn"
                )
            continue
        if id(node) in nodes_of_args:
            sources[id(node)] = Source("input", index=nodes_of_args[id(node)])
        elif all(node is other for other in others):
            sources[id(node)] = Source("param", node=node)
        else:
            moved = [run.data[position] for run in runs]
            sources[id(node)] = _new_leaf_source(node, moved, arg_leaves, [r.leaves for r in runs])
    params: dict[int, dict[str, Any]] = {}
    for position, node in enumerate(order):
        if node.children and isinstance(node, Tensor):
            params[id(node)] = _param_sources(
                node,
                params_of[id(node)][1],
                [run.params[id(run.order[position])][1] for run in runs],
                arg_leaves,
                [run.leaves for run in runs],
            )
    return Recording(root, order, sources, key, arg_leaves, params, guards)


def _probe(
    fn: Callable[..., Any],
    args: Sequence[Any],
    leaves: list[Node],
    arg_leaves: list[Any],
    order: list[Node],
    how: str,
    guards: list[Guard],
) -> Any:
    """Run fn with every number moved, checking that it takes the same path.

    A wild probe that fails (a log of a negative number, say) tells nothing and
    gives None; any other failure, or another path, refuses the trace.
    """
    counter = iter(range(1 << 62))
    probe_args = _rebuild(
        args, lambda x: x if isinstance(x, (Value, Tensor)) else _moved(x, next(counter), how)
    )
    _, probe_leaves = flatten(probe_args)
    params: dict[int, tuple[Any, dict[str, Any]]] = {}
    arg_nodes = [x for x in arg_leaves if isinstance(x, (Value, Tensor))]
    near = "values near" if how == "small" else "other values of"
    quiet = np.errstate(all="ignore") if how == "wild" else contextlib.nullcontext()
    log: list[tuple[Node, str, Any, bool]] = []
    with _Probe([*leaves, *arg_nodes], how), _recording_params(params), quiet, _watching(log):
        try:
            _, probe_order = _run(fn, probe_args)
        except Exception as error:  # the example ran: any failure here is the probe's
            if _flipped(log, guards):
                return _FLIPPED
            if how == "wild":
                return None
            raise TraceError(
                f"trace: fn fails for {near} its inputs and parameters: {error}"
            ) from None
        data = [_snapshot(node) for node in probe_order]
    if _flipped(log, guards):
        return _FLIPPED
    if [_without_result(g) for g in _guards(log, probe_order)] != [
        _without_result(g) for g in guards
    ]:
        raise TraceError(f"trace: fn compares other data for {near} its inputs and parameters")
    differs = _same_path(order, probe_order)
    if differs is not None:
        raise TraceError(
            f"trace: fn takes another path for {near} its inputs and parameters: {differs}"
        )
    return _Run(probe_order, data, params, probe_leaves)


def _flipped(log: list[tuple[Node, str, Any, bool]], guards: list[Guard]) -> bool:
    """Whether a comparison of the probe came out otherwise than in the first run."""
    return any(entry[3] != guard.result for entry, guard in zip(log, guards))


def _without_result(guard: Guard) -> tuple[Any, ...]:
    return guard.position, guard.op, guard.other, guard.other_is_node


def _param_sources(
    node: Tensor,
    first: dict[str, Any],
    others: list[dict[str, Any]],
    leaves: list[Any],
    moved: list[list[Any]],
) -> dict[str, Any]:
    """The keyword parameters of one primitive: kept as they are, or (parts of an index)
    taken from an integer input: ``ParamInput(k)`` stands for argument leaf k."""
    out: dict[str, Any] = {}
    for name, value in first.items():
        seen = [other[name] for other in others]
        if all(_same_param(value, v) for v in seen):
            out[name] = value
            continue
        tupled = isinstance(value, tuple)
        parts = value if tupled else (value,)
        sourced: list[Any] = []
        for j, part in enumerate(parts):
            part_seen = [v[j] if tupled else v for v in seen]
            if all(_same_param(part, v) for v in part_seen):
                sourced.append(part)
                continue
            dtype = np.asarray(part).dtype
            matches = [
                k
                for k, x in enumerate(leaves)
                if isinstance(x, (np.ndarray, numbers.Integral))
                and all(
                    _equal(np.asarray(p), np.asarray(xs[k]).astype(dtype))
                    for p, xs in zip([part, *part_seen], [leaves, *moved])
                )
            ]
            if len(matches) != 1:
                raise TraceError(
                    f"trace: the {name!r} of {node.op!r} is computed from data outside the graph"
                )
            sourced.append(ParamInput(matches[0], dtype))
        out[name] = tuple(sourced) if tupled else sourced[0]
    return out


@dataclass(frozen=True)
class ParamInput:
    """A primitive's parameter (or one part of an index) that is argument leaf ``index``."""

    index: int
    dtype: np.dtype


def _same_param(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_param(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype
    return type(a) is type(b) and a == b


def _new_leaf_source(
    node: Node, moved: list[Any], leaves: list[Any], probe_leaves: list[list[Any]]
) -> Source:
    """A leaf made inside fn: a constant if no probe moved it, else one form of one input."""
    data = node.data
    if all(_equal(data, m) for m in moved):
        return Source("const", value=data.copy() if isinstance(data, np.ndarray) else data)
    found = [
        source
        for index, x in enumerate(leaves)
        if not isinstance(x, (Value, Tensor))
        for source in _forms(data, moved, index, x, [p[index] for p in probe_leaves])
    ]
    what = f"a leaf of shape {data.shape}" if isinstance(data, np.ndarray) else f"a leaf {data!r}"
    if not found:
        raise TraceError(
            f"trace: fn makes {what} from data outside the graph (not x, -x or c - x of one "
            "input number); a traced step could not recompute it"
        )
    if len(found) > 1:
        raise TraceError(f"trace: {what} could come from more than one input number")
    return found[0]


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return a.shape == np.shape(b) and bool(np.array_equal(a, b, equal_nan=True))
    return a == b or (a != a and b != b)


def _apply_form(x: Any, form: str, c: float) -> Any:
    if form == "x":
        return x
    if form == "-x":
        return -x
    return c - x


def _forms(data: Any, moved: list[Any], index: int, x: Any, xs: list[Any]) -> list[Source]:
    """The ways ``data`` (in the probes: ``moved``) is x, -x or c - x of input ``x`` (``xs``)."""
    if isinstance(data, np.ndarray):  # a Tensor leaf: the whole input, reshaped and cast
        if np.size(x) != data.size:
            return []
        arrays = [np.asarray(v).reshape(data.shape) for v in (x, *xs)]
        for cast_first in (True, False):
            c = _constant(data, arrays[0], cast_first)
            for form in ("x", "-x", "c-x"):
                made = [_make(a, form, c, data.dtype, cast_first) for a in arrays]
                if all(_equal(m, d) for m, d in zip(made, [data, *moved])):
                    return [Source("input", index=index, form=form, c=c, cast_first=cast_first)]
        return []
    found = []
    columns = [np.asarray(v).reshape(-1).tolist() for v in (x, *xs)]
    for element, values in enumerate(zip(*columns)):
        c = float(round(data + values[0], 12))
        for form in ("x", "-x", "c-x"):
            made = [_apply_form(float(v), form, c) for v in values]
            if all(_equal(m, d) for m, d in zip(made, [data, *moved])):
                flat = None if np.ndim(x) == 0 else element
                found.append(Source("input", index=index, element=flat, form=form, c=c))
                break
    return found


def _constant(data: np.ndarray, a: np.ndarray, cast_first: bool) -> float:
    if data.size == 0:
        return 0.0
    first = float(data.reshape(-1)[0]) + float(a.reshape(-1)[0])
    return float(round(first, 12)) if math.isfinite(first) else 0.0


def _make(a: np.ndarray, form: str, c: float, dtype: np.dtype, cast_first: bool) -> np.ndarray:
    if cast_first:
        return np.asarray(_apply_form(a.astype(dtype), form, dtype.type(c)))
    return np.asarray(_apply_form(a, form, c)).astype(dtype)
