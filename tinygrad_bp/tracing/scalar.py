"""Straight-line Python for a recorded ``Value`` graph: plain float arithmetic, one line per node.

The forward pass is one assignment per node, in the order of the graph
(``graph.toposort``). The backward pass visits the nodes in the order
``backward()`` does (``graph.backward_order``: each after all its consumers),
and for each edge adds ``local derivative * upstream`` to the operand's
gradient, the local derivative written as the derivation writes it (sigmoid:
``o * (1.0 - o)``). The same operations in the same order as the eager engine
give the same numbers, to the last bit. Gradients flow only into
nodes that lead to a parameter or an argument ``Value``: the others are thrown
away each call, so no line is spent on them.
"""

from __future__ import annotations

import math
from typing import Any

from ..engine import Value, _exp, _exponent_slope, _power, _power_slope, _sigmoid, to_float
from ..graph import backward_order
from .names import Names, reserved
from .recording import Recording, Source, TraceError
from .render import Guards, Renderer


def _log(x: float) -> float:
    """ln x, with the eager engine's error for x <= 0."""
    if x <= 0:
        raise ValueError(f"log of a non-positive number: {x!r}")
    return math.log(x)


# What the generated code calls, by the name it calls it.
HELPERS: dict[str, Any] = {
    "sigmoid": _sigmoid,
    "exp": _exp,
    "tanh": math.tanh,
    "log": _log,
    "power": _power,
    "power_slope": _power_slope,
    "exponent_slope": _exponent_slope,
    "real": to_float,
    "inf": math.inf,
    "nan": math.nan,
}


def _exponent(node: Value) -> float:
    """The constant exponent of a ``**<c>`` node, checked against the node's own numbers."""
    try:
        c = float(node.op[2:])
    except ValueError:
        raise TraceError(f"trace: cannot read the exponent of the {node.op!r} op") from None
    (base,) = node.children
    (slope,) = node.local_grads or (math.nan,)  # None only for a node built by hand
    same = _power(base.data, c), _power_slope(base.data, c)
    if not _same_float(same[0], node.data) or not _same_float(same[1], slope):
        raise TraceError(f"trace: cannot recover the exponent of the {node.op!r} op")
    return c


def _same_float(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _forward(node: Value, out: str, ins: list[str]) -> str:
    """The line computing ``node`` from its operands."""
    op = node.op
    if op == "+":
        return f"{out} = {ins[0]} + {ins[1]}"
    if op == "*":
        return f"{out} = {ins[0]} * {ins[1]}"
    if op == "w·x+b":
        n = (len(ins) - 1) // 2
        products = ", ".join(f"{w} * {x}" for w, x in zip(ins[:n], ins[n : 2 * n]))
        return f"{out} = sum(({products}{',' if n == 1 else ''}), {ins[-1]})"
    if op.startswith("**") and op != "**":
        return f"{out} = power({ins[0]}, {_exponent(node)!r})"
    unary = {
        "**": f"power({ins[0]}, {ins[-1]})",
        "exp": f"exp({ins[0]})",
        "log": f"log({ins[0]})",
        "tanh": f"tanh({ins[0]})",
        "sigmoid": f"sigmoid({ins[0]})",
        "relu": f"{ins[0]} if {ins[0]} > 0 else 0.0",
        "abs": f"abs({ins[0]})",
        "step": f"1.0 if {ins[0]} > 0 else 0.0",
    }
    if op not in unary:
        raise TraceError(f"trace: cannot trace the {op!r} op (no rule for it)")
    return f"{out} = {unary[op]}"


def _locals(node: Value, out: str, ins: list[str]) -> list[str]:
    """d(out)/d(operand) for each operand, as an expression (the eager engine's local_grads)."""
    op, a = node.op, ins[0]
    if op == "+":
        return ["", ""]  # 1: the upstream gradient passes unchanged
    if op == "*":
        return [ins[1], ins[0]]
    if op == "w·x+b":
        n = (len(ins) - 1) // 2
        return [*ins[n : 2 * n], *ins[:n], ""]
    if op == "**":
        return [f"power_slope({a}, {ins[1]})", f"exponent_slope({a}, {ins[1]}, {out})"]
    if op.startswith("**"):
        c = _exponent(node)
        if c == 0:
            return ["0.0"]
        return [f"{c!r} * {a}" if c - 1 == 1 else f"{c!r} * power({a}, {c - 1!r})"]
    table = {
        "exp": out,
        "log": f"(1.0 / {a})",
        "tanh": f"(1.0 - {out} * {out})",
        "sigmoid": f"{out} * (1.0 - {out})",
        "relu": f"({a} > 0)",
        "abs": f"(1.0 if {a} > 0 else (-1.0 if {a} < 0 else 0.0))",
        "step": "0.0",
    }
    return [table[op]]


def _input_line(name: str, source: Source) -> str:
    """The line that reads a Value argument's number (its stand-in's, when traced)."""
    return f"{name} = i{source.index}.data"


def generate(recording: Recording) -> tuple[list[str], list[str], list[Any]]:
    """The body of the step (its lines), its closure's names, and the objects they name."""
    order, sources = recording.order, recording.sources
    names = Names(reserved(len(recording.key), len(recording.leaves), set(HELPERS)))
    observable = {
        id(node)
        for node in order
        if not node.children
        and sources[id(node)].kind in ("param", "input")
        and isinstance(node, Value)  # a Tensor argument read for its data takes no grad
    }
    needs: dict[int, bool] = {}
    for node in order:
        needs[id(node)] = id(node) in observable or any(needs[id(c)] for c in node.children)

    def name(node: Value) -> str:
        source = sources.get(id(node))
        if source is not None and source.kind == "const":
            return repr(source.value)
        default = "x" if source is not None and source.kind in ("input", "expr") else "v"
        default = "w" if source is not None and source.kind == "param" else default
        return names.name(node, "loss" if node is recording.root else default)

    closure_names: list[str] = []
    closure_objects: list[Any] = []

    def hold(stem: str, obj: Any) -> str:
        holder = names.fresh(stem, exact=True)
        closure_names.append(holder)
        closure_objects.append(obj)
        return holder

    render = Renderer(recording, name, hold, names.fresh)
    checks = Guards(recording, render)
    reads: list[str] = []
    forward: list[str] = checks.at(-1)
    backward: list[str] = []
    writes: list[str] = []
    for position, node in enumerate(order):
        source = sources.get(id(node))
        if source is None:
            _check_value(node)
            forward.append(_forward(node, name(node), [name(c) for c in node.children]))
        elif source.kind == "expr":
            made = render(source.expr)
            forward += [*render.lines(), f"{name(node)} = real({made})"]
        elif source.kind == "param":
            holder = names.fresh(f"p_{name(node)}", exact=True)
            closure_names.append(holder)
            closure_objects.append(node)
            reads.append(f"{name(node)} = {holder}.data")
            writes.append(f"{holder}.grad += d_{name(node)}")
        elif source.kind == "input":
            reads.append(_input_line(name(node), source))
            if id(node) in observable:
                writes.append(f"i{source.index}.grad += d_{name(node)}")
        forward += checks.at(position)
    started: set[int] = set()
    root = recording.root
    backward.append(f"d_{name(root)} = 1.0")
    started.add(id(root))
    for node in backward_order(root):  # backward()'s own order: the same sums
        if not node.children or not needs[id(node)]:
            continue
        ins = [name(c) for c in node.children]
        upstream = f"d_{name(node)}"
        for child, local in zip(node.children, _locals(node, name(node), ins)):
            if not needs[id(child)]:
                continue
            term = f"{local} * {upstream}" if local else upstream
            if id(child) in started:
                backward.append(f"d_{name(child)} += {term}")
            else:
                backward.append(f"d_{name(child)} = {term}")
                started.add(id(child))
    body = [
        "# read the parameters' current data and the inputs",
        *reads,
        "# forward pass: one line per node (and the checks of fn's decisions on data)",
        *forward,
        "# backward pass: d_<node> = d(loss)/d(node), the chain rule edge by edge",
        *backward,
        "# add the gradients to the parameters' grads",
        *writes,
        f"return {name(root)}",
    ]
    return body, closure_names, closure_objects


def _check_value(node: Value) -> None:
    """Refuse nodes whose backward the engine does not know (a user's closure)."""
    if getattr(node, "_user_backward", None) is not None or node.local_grads is None:
        raise TraceError(f"trace: cannot trace the {node.op!r} op: it has its own _backward")
