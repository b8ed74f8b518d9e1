"""Recording a step: run ``fn`` once and say where every number of its graph comes from.

A traced step has to know, for every leaf of the recorded graph, where its
number comes from at the next call:

- a **parameter**: a leaf that existed before ``fn`` ran; its current ``data``
  is read at each call and it receives a grad;
- an **input**: an argument. A Value or Tensor argument is given to ``fn`` as a
  stand-in (a new leaf with the same data), so that its uses are told apart from
  a parameter's; numbers and arrays are given as ``tracked`` numbers and arrays,
  so that every leaf ``fn`` makes from them (``Value(x)``, ``1 - y``, a cast
  copy) carries the expression that makes it;
- a **constant**: a leaf ``fn`` made from plain numbers (a literal, a module global).

Nothing is patched: the recorder is this thread's observer (``graph.observing``
for Values, ``graph.tracing`` for Tensors), and nothing it does is visible to
another thread. ``fn`` runs exactly once, on the arguments given.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Value
from ..functions import Function
from ..graph import observing, tracing
from ..tensor import Tensor
from ..validate import holds_reals
from .statics import Static, check_bounded
from .tracked import (
    Arg,
    Call,
    Data,
    Log,
    TraceError,
    TrackedArray,
    TrackedFloat,
    builtin_extreme,
    expr_of,
    expr_of_kwargs,
    plain,
    walk,
)

Node = Any  # a Value or a Tensor

__all__ = ["TraceError", "Recording", "Source", "Guard", "record", "flatten"]


def _is_number(x: Any) -> bool:
    return isinstance(x, (float, np.floating)) and not isinstance(x, bool)


def flatten(args: Sequence[Any]) -> tuple[Any, list[Any]]:
    """The arguments' structure (a hashable key) and their tracked leaves, in order.

    Leaves: Values, Tensors, real numbers (floats) and numeric numpy arrays. Lists
    and tuples are walked into. Integers and bools are part of the structure (a
    call with another integer is another call), as is anything else (a dict, a
    string), compared by value at each call.

    >>> key, leaves = flatten(([1.0, 2.0], 3))
    >>> leaves
    [1.0, 2.0]
    """
    check_bounded(tuple(args))  # no list inside itself, no endless nesting: the walk ends
    leaves: list[Any] = []

    def walk_arg(x: Any) -> Any:
        if isinstance(x, Value):
            leaves.append(x)
            return "Value"
        if isinstance(x, Tensor):
            leaves.append(x)
            return ("Tensor", x.shape, x.dtype.str, x.requires_grad)
        if _is_number(x):
            leaves.append(x)
            return "number"
        if isinstance(x, np.ndarray) and holds_reals(x.dtype) and x.ndim > 0:
            leaves.append(x)
            return ("array", x.shape, x.dtype.str)
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, tuple(walk_arg(item) for item in x))
        return ("static", Static(x))

    return tuple(walk_arg(arg) for arg in args), leaves


@dataclass
class Source:
    """Where a leaf's number comes from at each call.

    kind: "param" (``node`` itself, re-read), "input" (argument leaf ``index``: a
    Value or Tensor argument), "const" (``value`` kept) or "expr" (``expr``,
    computed at each call from the arguments and the data of earlier nodes).
    """

    kind: str
    node: Node = None
    index: int = -1
    value: Any = None
    expr: Any = None


@dataclass(frozen=True)
class Guard:
    """Something ``fn`` decided on data: ``expr`` was ``expected`` when traced.

    ``position``: the guard can be checked once ``order[position]`` is computed.
    """

    expr: Any
    expected: Any
    what: str
    position: int


@dataclass
class Recording:
    """One run of ``fn``: its nodes in an order to compute them, and the leaves' sources."""

    root: Node
    order: list[Node]  # every node the step computes, each after what it needs; root last
    sources: dict[int, Source]  # id(leaf) -> where its data comes from
    key: Any  # the arguments' structure
    leaves: list[Any]  # the example arguments' leaves
    params: dict[int, dict[str, Any]] = field(default_factory=dict)  # tensor ops' parameters
    guards: list[Guard] = field(default_factory=list)
    requires_grad: dict[int, bool] = field(default_factory=dict)  # Tensor parameters', traced


@dataclass
class _MaxRun:
    """The comparisons one call of the builtin max (or min) has made so far."""

    frame: Any
    offset: int
    extreme: Callable[..., Any]
    items: list[Any]
    best: Any
    comparisons: list[tuple[Any, str, Any, bool]]


_OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class Recorder(Log):
    """This thread's observer while ``fn`` runs: it sees every node made and every decision."""

    def __init__(self) -> None:
        self.made: dict[int, Node] = {}  # every node made during the call, in creation order
        self.leaf_exprs: dict[int, Any] = {}  # id(leaf) -> the expression its data came from
        self.ops: dict[int, tuple[Any, tuple[Node, ...], dict[str, Any]]] = {}
        self.unrecorded: set[int] = set()  # Values computed by an op without a graph
        self.stand_ins: dict[int, int] = {}  # id(stand-in) -> argument leaf index
        self.guards: list[tuple[Any, Any, str]] = []
        self.pending: tuple[Any, float] | None = None  # a float() not yet made a leaf
        self.run: _MaxRun | None = None
        self.stands_for: dict[int, Any] = {}  # id(tracked) -> the max it is the result of
        self.keep: list[Any] = []  # tracked objects whose ids are keys above
        self.arrays: list[np.ndarray] = []  # the arguments' arrays (and Tensors' data)

    def release(self) -> None:
        """Let go of the graph: its tracked numbers point back here (``log``), and the
        cycle would keep every node alive until the cyclic collector found it."""
        for table in (self.made, self.leaf_exprs, self.ops, self.stands_for):
            table.clear()
        self.keep.clear()
        self.run = self.pending = None

    # -- what the tracked objects report -------------------------------------------------

    def _settle(self) -> None:
        """A float() that no leaf took: the number is frozen, checked at each call."""
        if self.pending is not None:
            tracked, value = self.pending
            self.pending = None
            self.guards.append((Call(float, (self.resolve(tracked),)), value, "float()"))

    def guard(self, expr: Any, expected: Any, what: str) -> None:
        self._settle()
        self._close_run()
        self.guards.append((expr, expected, what))

    def converted(self, tracked: Any, value: Any) -> None:
        self._settle()
        self._close_run()
        self.pending = (tracked, value)

    def compared(self, left: Any, op: str, right: Any, result: bool, frame: Any) -> None:
        self._settle()
        extreme = builtin_extreme(frame) if op in ("<", ">") else None
        if extreme is None:
            self._close_run()
            self.guards.append(
                (Call(_OPERATORS[op], (expr_of(left), expr_of(right))), result, f"a {op} b")
            )
            return
        if (op == ">") == (extreme is max):  # item > best for max (item < best for min)
            new, best = left, right
        else:  # reflected: best < item
            best, new = left, right
        run = self.run
        if (
            run is None
            or (run.frame, run.offset, run.extreme)
            != (
                frame,
                frame.f_lasti,
                extreme,
            )
            or run.best is not best
        ):
            self._close_run()
            run = self.run = _MaxRun(frame, frame.f_lasti, extreme, [best], best, [])
        run.items.append(new)
        run.comparisons.append((left, op, right, result))
        if result:
            run.best = new

    def _close_run(self) -> None:
        run, self.run = self.run, None
        if run is None:
            return
        if isinstance(run.best, (TrackedFloat, TrackedArray)):
            items = tuple(expr_of(x) for x in run.items)
            self.stands_for[id(run.best)] = Call(run.extreme, items)
            self.keep.append(run.best)
            return
        for left, op, right, result in run.comparisons:  # a plain number won: guard each step
            self.guards.append(
                (Call(_OPERATORS[op], (expr_of(left), expr_of(right))), result, f"a {op} b")
            )

    def resolve(self, tracked: Any) -> Any:
        if self.run is not None:
            self._close_run()
        found = self.stands_for.get(id(tracked))
        if found is not None:
            return found
        if tracked.expr is None:
            raise TraceError(
                "trace: fn uses numbers of an array that numpy made without saying how "
                "(iterating over .flat, a view trace does not follow); index it instead"
            )
        return tracked.expr

    # -- what the engines report -------------------------------------------------------

    def observed(self, node: Node, value: Any, operands: tuple[Node, ...]) -> None:
        """The forward hook: a Value was made (Tensors are reported through ``tracing``)."""
        if not isinstance(node, Value):
            return
        if self.run is not None:
            self._close_run()
        pending, self.pending = self.pending, None
        if not operands:
            expr = None
            if pending is not None and _same_number(pending[1], node.data.real):
                expr = self.resolve(pending[0])
                pending = None
            self.leaf_exprs[id(node)] = expr
        elif not node.children:
            self.unrecorded.add(id(node))
        if pending is not None:
            self.pending = pending
            self._settle()
        self.made[id(node)] = node
        node.data = TrackedFloat(node.data.real, Data(node), self)

    def applied(self, out: Tensor, ctx: Any, inputs: tuple[Tensor, ...], params: Any) -> None:
        self._settle()
        self._close_run()
        self.ops[id(out)] = (ctx, inputs, expr_of_kwargs(params))
        self._made_tensor(out)

    def leaf(self, node: Tensor, data: Any) -> None:
        self._settle()
        self._close_run()
        self.leaf_exprs[id(node)] = self._expr_of_data(data)
        self._made_tensor(node)

    def as_array(self, data: Any) -> np.ndarray:
        self._settle()
        if isinstance(data, TrackedArray):
            return data
        if isinstance(data, TrackedFloat) or (
            isinstance(data, (list, tuple)) and any(True for _ in _tracked_in(data))
        ):
            array = np.asarray(plain(data)).view(TrackedArray)
            array.expr, array.log = Call(np.asarray, (expr_of(data),)), self
            return array
        return np.asarray(data)

    def _made_tensor(self, node: Tensor) -> None:
        self.made[id(node)] = node
        tracked = node.data.view(TrackedArray)
        tracked.expr, tracked.log = Data(node), self
        node.data = tracked

    def _expr_of_data(self, data: Any) -> Any:
        """The expression a Tensor leaf's data was made from, None for plain numbers."""
        if isinstance(data, (TrackedArray, TrackedFloat)):
            return self.resolve(data)
        if isinstance(data, (list, tuple)) and any(True for _ in _tracked_in(data)):
            return expr_of(data)
        if isinstance(data, np.ndarray) and not isinstance(data, TrackedArray):
            arrays = [n.data for n in self.made.values() if isinstance(n, Tensor)]
            if any(np.may_share_memory(data, array) for array in [*arrays, *self.arrays]):
                raise TraceError(
                    "trace: fn makes a Tensor from a plain view of an argument or of a node's "
                    "data (np.asarray(...)); use the array as it is, so the step can follow it"
                )
        return None


def _tracked_in(value: Any) -> Any:
    for part in value:
        if isinstance(part, (TrackedFloat, TrackedArray)):
            yield part
        elif isinstance(part, (list, tuple)):
            yield from _tracked_in(part)


def _same_number(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


# -- the run ------------------------------------------------------------------------------------


def _stand_ins(
    args: Sequence[Any], recorder: Recorder, arrays: list[np.ndarray]
) -> tuple[Any, ...]:
    """The arguments as ``fn`` sees them while traced: stand-ins and tracked numbers."""
    counter = iter(range(1 << 62))

    def walk_arg(x: Any) -> Any:
        if isinstance(x, Value):
            k = next(counter)
            value = Value(float(x.data), label=x.label)
            value.data = TrackedFloat(value.data, Data(value), recorder)
            recorder.stand_ins[id(value)] = k
            recorder.keep.append(value)
            return value
        if isinstance(x, Tensor):
            k = next(counter)
            stand_in = Tensor._wrap(x.data, x.requires_grad)
            stand_in.label = x.label
            tracked = x.data.view(TrackedArray)
            tracked.expr, tracked.log = Data(stand_in), recorder
            stand_in.data = tracked
            recorder.stand_ins[id(stand_in)] = k
            recorder.keep.append(stand_in)
            arrays.append(x.data)
            return stand_in
        if isinstance(x, np.floating):  # a numpy scalar: as an array, with its methods
            tracked = np.asarray(x).view(TrackedArray)
            tracked.expr, tracked.log = Arg(next(counter)), recorder
            return tracked
        if _is_number(x):
            return TrackedFloat(float(x), Arg(next(counter)), recorder)
        if isinstance(x, np.ndarray) and holds_reals(x.dtype) and x.ndim > 0:
            tracked = x.view(TrackedArray)
            tracked.expr, tracked.log = Arg(next(counter)), recorder
            arrays.append(x)
            return tracked
        if isinstance(x, (list, tuple)):
            return type(x)(walk_arg(item) for item in x)
        return x

    return tuple(walk_arg(arg) for arg in args)


def record(fn: Callable[..., Any], args: Sequence[Any]) -> Recording:
    """Run ``fn(*args)`` once, observed, and say where each leaf's number comes from."""
    key, arg_leaves = flatten(args)
    nodes_given = [x for x in arg_leaves if isinstance(x, (Value, Tensor))]
    if len({id(x) for x in nodes_given}) != len(nodes_given):
        raise TraceError(
            "trace: the same Value or Tensor is given at two argument positions; "
            "pass it once (its gradient would be split between them)"
        )
    recorder = Recorder()
    traced_args = _stand_ins(args, recorder, recorder.arrays)
    try:
        with observing(forward=recorder.observed), tracing(recorder):
            root = fn(*traced_args)
            recorder._settle()
            recorder._close_run()
        return _recording(recorder, root, key, arg_leaves)
    finally:
        _plain_again(recorder)
        recorder.release()


def _plain_again(recorder: Recorder) -> None:
    """Every node's data (and local derivatives) plain again, as the eager engine made them."""
    for node in [*recorder.made.values(), *recorder.keep]:
        if isinstance(node, Value):
            data = node.data
            if type(data) is TrackedFloat:
                node.data = data.real  # the float itself
            local = node.local_grads or ()
            for g in local:
                if type(g) is TrackedFloat:
                    node.local_grads = tuple(plain(g) for g in local)
                    break
        elif isinstance(node, Tensor) and isinstance(node.data, TrackedArray):
            node.data = node.data.view(np.ndarray)


def _check_root(root: Any) -> None:
    if isinstance(root, Tensor):
        if root.data.size != 1:
            raise TraceError(
                f"trace: fn must return one number, got a Tensor of shape {root.shape}"
            )
        if not root.requires_grad:
            raise TraceError("trace: fn's result does not depend on any tensor that requires grad")
    elif not isinstance(root, Value):
        raise TraceError(f"trace: fn must return a Value or a Tensor, got {type(root).__name__}")


def _recording(recorder: Recorder, root: Any, key: Any, arg_leaves: list[Any]) -> Recording:
    _check_root(root)
    originals = {id(x): x for x in arg_leaves if isinstance(x, (Value, Tensor))}
    sources: dict[int, Source] = {}
    needed: dict[int, Node] = {}
    interior: set[int] = set()  # the needed nodes with children
    stack = [root]  # the graph, and every node whose data an expression reads
    guards = recorder.guards
    for expr, _, _ in guards:
        stack.extend(e.node for e in walk(expr) if isinstance(e, Data))
    while stack:
        node = stack.pop()
        if id(node) in needed:
            continue
        needed[id(node)] = node
        children = node.children
        if children:
            interior.add(id(node))
            stack.extend(children)
        if not children or isinstance(node, Tensor):  # a Value op reads nothing else
            for expr in _exprs_of_node(recorder, node):
                stack.extend(e.node for e in walk(expr) if isinstance(e, Data))
    made, stand_ins = recorder.made, recorder.stand_ins
    before = [n for n in needed.values() if id(n) not in made]
    order = [*before, *(n for n in made.values() if id(n) in needed)]
    requires_grad: dict[int, bool] = {}
    for node in order:
        ident = id(node)
        if ident in interior and ident in made:
            _check_replayable(node)  # the common case first: an op made during the call
        elif ident in stand_ins:
            sources[ident] = Source("input", index=stand_ins[ident])
        elif ident not in made:
            if ident in interior:
                raise TraceError(
                    f"trace: fn uses a {node.op!r} node computed before the call; compute it in fn"
                )
            if ident in originals:
                raise TraceError(
                    "trace: a Value or Tensor given as an argument is also used directly by fn "
                    "(as a parameter); pass it one way only"
                )
            sources[ident] = Source("param", node=node)
            if isinstance(node, Tensor):
                requires_grad[ident] = node.requires_grad
        elif ident in recorder.unrecorded:
            raise TraceError(
                f"trace: fn uses a {node.op!r} Value computed without a graph (inside "
                "no_grad()); a replay cannot recompute it"
            )
        else:
            exprs = list(_exprs_of_node(recorder, node))
            if exprs:
                sources[ident] = Source("expr", expr=exprs[0])
            else:
                data = plain(node.data)
                sources[ident] = Source(
                    "const", value=data.copy() if isinstance(data, np.ndarray) else data
                )
    placed = []
    if guards:
        position = {id(node): i for i, node in enumerate(order)}
        for expr, expected, what in guards:
            after = [position[id(e.node)] for e in walk(expr) if isinstance(e, Data)]
            placed.append(Guard(expr, expected, what, max(after, default=-1)))
    params = {
        id(node): recorder.ops[id(node)][2]
        for node in order
        if isinstance(node, Tensor) and id(node) in interior
    }
    return Recording(root, order, sources, key, arg_leaves, params, placed, requires_grad)


def _check_replayable(node: Node) -> None:
    """Refuse a node the generated code cannot replay, recognised by what it keeps.

    A Value op must keep its local derivatives as numbers (one per operand), not a
    closure of its own (micrograd's ``_backward``); a Tensor op, its primitive (a
    ``functions.Function``). A node whose derivatives are themselves graph nodes
    (made by ``grad(..., create_graph=True)`` inside ``fn``), or that has neither,
    is refused rather than replayed wrongly.
    """
    if isinstance(node, Value):
        local = node.local_grads
        if local is None or node._user_backward is not None:
            raise TraceError(f"trace: cannot trace the {node.op!r} op: it has its own _backward")
        for g in local:  # a loop, not all(...): this runs for every node of the graph
            if not isinstance(g, float):
                raise TraceError(
                    f"trace: the {node.op!r} node keeps its derivatives as graph nodes (made "
                    "by grad(..., create_graph=True) inside fn?); trace cannot replay it"
                )
    elif not isinstance(getattr(node, "_ctx", None), Function):
        raise TraceError(
            f"trace: the {node.op!r} node was not made by a primitive of tinygrad_bp.functions "
            "(grad(..., create_graph=True) inside fn?); trace cannot replay it"
        )


def _exprs_of_node(recorder: Recorder, node: Node) -> list[Any]:
    """How a node made during the call is computed when it is a leaf of the graph."""
    if id(node) not in recorder.made:
        return []
    if node.children:
        if isinstance(node, Tensor):
            return [recorder.ops[id(node)][2]]  # its parameters may read data
        return []
    expr = recorder.leaf_exprs.get(id(node))
    if expr is not None:
        return [expr]
    op = recorder.ops.get(id(node))
    if op is not None:  # a tensor op none of whose operands requires grad: recomputed
        ctx, inputs, params = op
        return [Call(ctx.forward, tuple(Data(x) for x in inputs), params)]
    return []
