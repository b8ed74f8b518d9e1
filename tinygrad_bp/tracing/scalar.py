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
import functools
import math
import re
from typing import Any

from ..engine import FUNCTIONS, RULES, Rule, Value, rule_of, to_float
from ..graph import backward_order
from .names import Names, is_named, reserved
from .recording import Recording, Source, TraceError
from .render import Guards, Renderer

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
        templates = [d_weight] * n + [d_input] * n + [d_bias]
        spelled = [_spelled(d_weight, pair) for pair in pairs]
        spelled += [_spelled(d_input, pair) for pair in pairs]
        spelled.append(_spelled(d_bias, names))
    else:
        names.update(x=ins[0], y=ins[-1])
        templates = list(rule.local_grads)
        spelled = [_spelled(local, names) for local in templates]
    return [
        "" if local == "1.0" else local if _tight(template) else f"({local})"
        for local, template in zip(spelled, templates)
    ]


@functools.cache
def _tight(template: str) -> bool:
    """Whether a rule's expression can be multiplied on the right without brackets.

    ``a * b * d`` computes ``(a * b) * d``, as the eager engine does, so a product,
    a quotient, a name or a call stays bare; a sum or a conditional is bracketed.
    Spelling replaces names by names, so the rule's own text decides (parsed once).
    """
    top = ast.parse(template, mode="eval").body
    return isinstance(top, (ast.Name, ast.Call, ast.Constant)) or (
        isinstance(top, ast.BinOp) and isinstance(top.op, (ast.Mult, ast.Div))
    )


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

    known = names.of  # the names given so far, by id(node)

    def name(node: Value) -> str:
        if id(node) in known:
            return known[id(node)]
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
    receivers: list[tuple[int, str]] = []  # the leaves that take a grad: (id, what holds it)
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
            receivers.append((id(node), holder))
        elif source.kind == "input":
            reads.append(_input_line(name(node), source))
            if id(node) in observable:
                receivers.append((id(node), f"i{source.index}"))
        forward += checks.at(position)
    # The name holding each node's gradient so far. A gradient that only passes through
    # (local derivative 1, the first to arrive) to a node the derivation does not name
    # (the partial sums of a long sum) keeps its consumer's name: the same number, so no
    # line copies it; a second one to arrive gives the operand a name of its own
    # (``d_v = d_out + ...``, the sum ``+=`` would compute).
    grad_of: dict[int, str] = {}
    root = recording.root
    backward.append(f"d_{name(root)} = 1.0")
    grad_of[id(root)] = f"d_{name(root)}"
    for node in backward_order(root):  # backward()'s own order: the same sums
        if not node.children or not needs[id(node)]:
            continue
        ins = [name(c) for c in node.children]
        upstream = grad_of[id(node)]
        for child, local in zip(node.children, _locals(node, name(node), ins)):
            if not needs[id(child)]:
                continue
            term = f"{local} * {upstream}" if local else upstream
            own = f"d_{name(child)}"
            so_far = grad_of.get(id(child))
            if so_far is None and not local and not is_named(child):
                grad_of[id(child)] = upstream
            elif so_far is None:
                backward.append(f"{own} = {term}")
                grad_of[id(child)] = own
            elif so_far == own:
                backward.append(f"{own} += {term}")
            else:
                backward.append(f"{own} = {so_far} + {term}")
                grad_of[id(child)] = own
    writes = [f"{holder}.grad += {grad_of[key]}" for key, holder in receivers if key in grad_of]
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
