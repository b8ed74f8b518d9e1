"""Straight-line Python for a recorded ``Value`` graph: plain float arithmetic, one line per node.

The forward pass is one assignment per node, in the order of the graph
(``graph.toposort``). The backward pass visits the nodes in the order
``backward()`` does (``graph.backward_order``: each after all its consumers),
and for each edge adds ``local derivative * upstream`` to the operand's
gradient. Both lines are the op's rule in ``engine.RULES``, the expressions the
eager op runs, spelled with the names of this step (sigmoid's local derivative
``out * (1.0 - out)`` becomes ``o * (1.0 - o)``). The same operations in the
same order as the eager engine give the same numbers, to the last bit. Gradients flow only into
nodes that lead to a parameter or an argument ``Value``: the others are thrown
away each call, so no line is spent on them.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from ..engine import FUNCTIONS, RULES, Rule, Value, rule_of, to_float
from ..graph import backward_order
from .names import Names, reserved
from .recording import Recording, Source, TraceError

# What the generated code calls, by the name it calls it: the functions the rules use.
HELPERS: dict[str, Any] = {
    **FUNCTIONS,
    "abs": abs,
    "sum": sum,
    "map": map,
    "real": to_float,
    "inf": math.inf,
    "nan": math.nan,
}
_NAME = re.compile(r"[A-Za-z_]\w*")


def _spelled(expression: str, names: dict[str, str]) -> str:
    """A rule's expression with its operand names (x, y, out, c, ...) replaced by ``names``."""
    return _NAME.sub(lambda match: names.get(match.group(), match.group()), expression)


def _rule(node: Value) -> tuple[Rule, dict[str, str]]:
    """``node``'s rule and the spelling of its exponent (for ``**c``), or TraceError."""
    try:
        op, exponent = rule_of(node)
    except ValueError:
        raise TraceError(f"trace: cannot trace the {node.op!r} op (no rule for it)") from None
    return RULES[op], {} if exponent is None else {"c": repr(exponent)}


def _forward(node: Value, out: str, ins: list[str]) -> str:
    """The line computing ``node`` from its operands: its rule's forward formula."""
    rule, names = _rule(node)
    if node.op == "w·x+b":
        n = (len(ins) - 1) // 2
        names.update(w=f"({', '.join(ins[:n])},)", x=f"({', '.join(ins[n : 2 * n])},)")
        names["b"] = ins[-1]
    else:
        names.update(x=ins[0], y=ins[-1])
    return f"{out} = {_spelled(rule.forward, names)}"


def _locals(node: Value, out: str, ins: list[str]) -> list[str]:
    """d(out)/d(operand) for each operand, as an expression ("" for 1: the gradient passes)."""
    rule, names = _rule(node)
    names["out"] = out
    if node.op == "w·x+b":  # per element: d/dw_i reads x_i, d/dx_i reads w_i
        n = (len(ins) - 1) // 2
        d_weight, d_input, d_bias = rule.local_grads
        pairs = [{**names, "w": w, "x": x} for w, x in zip(ins[:n], ins[n : 2 * n])]
        spelled = [_spelled(d_weight, pair) for pair in pairs]
        spelled += [_spelled(d_input, pair) for pair in pairs]
        spelled.append(_spelled(d_bias, names))
    else:
        names.update(x=ins[0], y=ins[-1])
        spelled = [_spelled(local, names) for local in rule.local_grads]
    return ["" if local == "1.0" else _factor(local) for local in spelled]


def _factor(expression: str) -> str:
    """``expression`` ready to be multiplied on the right: bracketed unless it binds as tightly.

    ``a * b * d`` computes ``(a * b) * d``, as the eager engine does, so a product,
    a quotient, a name or a call stays bare; a sum or a conditional is bracketed.
    """
    top = ast.parse(expression, mode="eval").body
    tight = isinstance(top, (ast.Name, ast.Call, ast.Constant)) or (
        isinstance(top, ast.BinOp) and isinstance(top.op, (ast.Mult, ast.Div))
    )
    return expression if tight else f"({expression})"


def _input_line(name: str, source: Source, leaf: Any) -> str:
    """The line that reads an input leaf's number from the call's arguments."""
    arg = f"i{source.index}"
    if isinstance(leaf, Value) and source.form == "x" and source.element is None:
        return f"{name} = {arg}.data"
    if source.element is not None:
        number = f"real({arg}.flat[{source.element}])"
    else:
        number = f"({arg} if type({arg}) is float else real({arg}))"
    made = {"x": number, "-x": f"-{number}", "c-x": f"{source.c!r} - {number}"}[source.form]
    return f"{name} = {made}"


def generate(recording: Recording) -> tuple[list[str], list[str], list[Any]]:
    """The body of the step (its lines), its closure's names, and the objects they name."""
    order, sources = recording.order, recording.sources
    names = Names(reserved(len(recording.key), len(recording.leaves), set(HELPERS)))
    observable = {
        id(node)
        for node in order
        if not node.children
        and (
            sources[id(node)].kind == "param"
            or isinstance(recording.leaves[sources[id(node)].index], Value)
            and sources[id(node)].kind == "input"
        )
    }
    needs: dict[int, bool] = {}
    for node in order:
        needs[id(node)] = id(node) in observable or any(needs[id(c)] for c in node.children)

    def name(node: Value) -> str:
        source = sources.get(id(node))
        if source is not None and source.kind == "const":
            return repr(source.value)
        default = "x" if source is not None and source.kind == "input" else "w" if source else "v"
        return names.name(node, "loss" if node is recording.root else default)

    closure_names: list[str] = []
    closure_objects: list[Any] = []
    reads, forward, backward, writes = [], [], [], []
    for node in order:
        source = sources.get(id(node))
        if source is None:
            _check_value(node)
            forward.append(_forward(node, name(node), [name(c) for c in node.children]))
        elif source.kind == "param":
            holder = names.fresh(f"p_{name(node)}", exact=True)
            closure_names.append(holder)
            closure_objects.append(node)
            reads.append(f"{name(node)} = {holder}.data")
            writes.append(f"{holder}.grad += d_{name(node)}")
        elif source.kind == "input":
            leaf = recording.leaves[source.index]
            reads.append(_input_line(name(node), source, leaf))
            if id(node) in observable:
                writes.append(f"i{source.index}.grad += d_{name(node)}")
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
    checks, descriptions = _guard_lines(recording, name)
    if checks:
        closure_names.append("GUARDS")
        closure_objects.append(descriptions)
        forward += ["# the comparisons fn made on data must come out as at trace time", *checks]
    body = [
        "# read the parameters' current data and the inputs",
        *reads,
        "# forward pass: one line per node",
        *forward,
        "# backward pass: d_<node> = d(loss)/d(node), the chain rule edge by edge",
        *backward,
        "# add the gradients to the parameters' grads",
        *writes,
        f"return {name(root)}",
    ]
    return body, closure_names, closure_objects


def branched(descriptions: list[str], index: int) -> TraceError:
    """The error of a call in which a comparison fn makes on data comes out otherwise."""
    return TraceError(
        f"step: fn branches on data: {descriptions[index]} when traced, not now; "
        "trace it again for this path"
    )


HELPERS["branched"] = branched


def _guard_lines(recording: Recording, name: Any) -> tuple[list[str], list[str]]:
    """One check per comparison fn's code made on a Value's data, and their descriptions."""
    checks, descriptions = [], []
    for index, guard in enumerate(recording.guards):
        left = name(recording.order[guard.position])
        right = name(recording.order[guard.other]) if guard.other_is_node else repr(guard.other)
        test = f"{left} {guard.op} {right}"
        checks.append(
            f"if {'not ' if guard.result else ''}({test}): raise branched(GUARDS, {index})"
        )
        descriptions.append(f"{test} was {guard.result}")
    return checks, descriptions


def _check_value(node: Value) -> None:
    """Refuse nodes whose backward the engine does not know (a user's closure)."""
    if getattr(node, "_user_backward", None) is not None or node.local_grads is None:
        raise TraceError(f"trace: cannot trace the {node.op!r} op: it has its own _backward")
