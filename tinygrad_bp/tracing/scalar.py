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

A step of ``tape.TAPE_FROM`` nodes or more is not written this way: it runs on a
tape (``tape``), which is far quicker to make than this code is to compile.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from typing import Any, NamedTuple

from ..engine import FUNCTIONS, RULES, Value, rule_of, to_float
from ..graph import backward_order
from .names import Names, reserved
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
NAME = re.compile(r"[A-Za-z_]\w*")
# The names a rule's expressions give the numbers of an op (engine.Rule): its operands,
# its exponent, its result.
_OPERANDS = frozenset({"x", "y", "c", "w", "b", "out"})


class _Spelling(dict[str, str]):
    """The names of one node's numbers; a name it does not give is left as it is."""

    def __missing__(self, key: str) -> str:
        return key


@functools.cache
def _template(expression: str, exponent: str) -> str:
    """A rule's expression as a format string over its operands (``x * y`` as ``{x} * {y}``),
    the exponent ``c`` written in (the rule is parsed once, each node only fills it in)."""

    def field(match: re.Match[str]) -> str:
        word = match.group()
        if word == "c" and exponent:
            return exponent
        return f"{{{word}}}" if word in _OPERANDS else word

    return NAME.sub(field, expression)


@functools.cache
def spellings(op: str, exponent: str) -> tuple[str, tuple[str, ...]]:
    """``op``'s forward formula and its local derivatives as factors, as format strings.

    A local derivative of 1 is "" (the gradient passes on unchanged); one that is a
    sum or a conditional is bracketed (see ``tight``).
    """
    rule = RULES[op]
    factors = tuple(
        ""
        if local == "1.0"
        else _template(local, exponent)
        if tight(local)
        else f"({_template(local, exponent)})"
        for local in rule.local_grads
    )
    return _template(rule.forward, exponent), factors


class Op(NamedTuple):
    """An interior node as the step writes it: its operands and its rule (``spellings``)."""

    children: tuple[Value, ...]
    rule: str  # its key in engine.RULES
    forward: str
    factors: tuple[str, ...]

    @property
    def weighted(self) -> bool:
        """A weighted sum w·x+b, whose operands are the weights, the inputs and the bias."""
        return self.rule == "w·x+b"


def rule_key(node: Value) -> tuple[str, float | None]:
    """``node``'s rule in ``engine.RULES`` and its number exponent, or TraceError."""
    try:
        return rule_of(node)
    except ValueError:
        raise TraceError(f"trace: cannot trace the {node.op!r} op (no rule for it)") from None


def op_of(node: Value) -> Op:
    """``node``'s operands and rule as format strings, or TraceError."""
    op, exponent = rule_key(node)
    forward, factors = spellings(op, "" if exponent is None else repr(exponent))
    return Op(node.children, op, forward, factors)


def expression(op: Op, ins: list[str]) -> str:
    """The node computed from its operands: its rule's forward formula."""
    if op.weighted:
        n = (len(ins) - 1) // 2
        w, x = (("(" + "".join(f"{a}, " for a in part) + ")") for part in (ins[:n], ins[n : 2 * n]))
        return op.forward.format_map(_Spelling(w=w, x=x, b=ins[-1]))
    return op.forward.format_map(_Spelling(x=ins[0], y=ins[-1]))


def local_terms(op: Op, out: str, ins: list[str]) -> list[str]:
    """d(out)/d(operand) for each operand, as an expression ("" for 1: the gradient passes)."""
    if op.weighted:  # per element: d/dw_i reads x_i, d/dx_i reads w_i
        n = (len(ins) - 1) // 2
        d_weight, d_input, d_bias = op.factors
        pairs = [_Spelling(w=w, x=x, out=out) for w, x in zip(ins[:n], ins[n : 2 * n])]
        return [
            *(d_weight.format_map(pair) for pair in pairs),
            *(d_input.format_map(pair) for pair in pairs),
            d_bias.format_map(_Spelling(out=out)),
        ]
    names = _Spelling(x=ins[0], y=ins[-1], out=out)
    return [factor.format_map(names) for factor in op.factors]


@functools.cache
def tight(template: str) -> bool:
    """Whether a rule's expression can be multiplied on the right without brackets.

    ``a * b * d`` computes ``(a * b) * d``, as the eager engine does, so a product,
    a quotient, a name or a call stays bare; a sum or a conditional is bracketed.
    Spelling replaces names by names, so the rule's own text decides (parsed once).
    """
    top = ast.parse(template, mode="eval").body
    return isinstance(top, (ast.Name, ast.Call, ast.Constant)) or (
        isinstance(top, ast.BinOp) and isinstance(top.op, (ast.Mult, ast.Div))
    )


def input_line(name: str, source: Source) -> str:
    """The line that reads a Value argument's number (its stand-in's, when traced)."""
    return f"{name} = i{source.index}.data"


def generate(recording: Recording) -> tuple[list[str], list[str], list[Any]]:
    """The body of the step (its lines), its closure's names, and the objects they name."""
    order, sources = recording.order, recording.sources
    closure = Closure(recording, set(HELPERS))
    names = closure.names_of_nodes
    observable = observable_leaves(recording)
    ops = {id(node): op_of(node) for node in order if id(node) not in sources}
    needs: dict[int, bool] = {}
    for node in order:
        op = ops.get(id(node))
        needs[id(node)] = id(node) in observable or (
            op is not None and any(needs[id(c)] for c in op.children)
        )

    spelled: dict[int, str] = {}  # how each node is written: its name, or a constant's value

    def name(node: Value) -> str:
        found = spelled.get(id(node))
        if found is not None:
            return found
        source = sources.get(id(node))
        if source is not None and source.kind == "const":
            found = repr(source.value)
        else:
            default = "x" if source is not None and source.kind in ("input", "expr") else "v"
            default = "w" if source is not None and source.kind == "param" else default
            found = names.name(node, "loss" if node is recording.root else default)
        spelled[id(node)] = found
        return found

    render = Renderer(recording, name, closure.hold, closure.fresh)
    checks = Guards(recording, render)
    ins_of: dict[int, list[str]] = {}  # how each line wrote the node's operands
    reads: list[str] = []
    forward: list[str] = checks.at(-1)
    backward: list[str] = []
    receivers: list[tuple[int, str]] = []  # the leaves that take a grad: (id, what holds it)
    for position, node in enumerate(order):
        source = sources.get(id(node))
        if source is None:
            op = ops[id(node)]
            ins = ins_of[id(node)] = [name(child) for child in op.children]
            forward.append(f"{name(node)} = {expression(op, ins)}")
        elif source.kind == "expr":
            made = render(source.expr)
            forward += [*render.lines(), f"{name(node)} = real({made})"]
        elif source.kind == "param":
            holder = closure.hold(f"p_{name(node)}", node)
            reads.append(f"{name(node)} = {holder}.data")
            receivers.append((id(node), holder))
        elif source.kind == "input":
            reads.append(input_line(name(node), source))
            if id(node) in observable:
                receivers.append((id(node), f"i{source.index}"))
        if position in checks.by_position:
            forward += checks.at(position)
    grad_of: dict[int, str] = {}  # the name of each node's gradient, once it has one
    root = recording.root
    backward.append(f"d_{name(root)} = 1.0")
    grad_of[id(root)] = f"d_{name(root)}"
    for node in backward_order(root):  # backward()'s own order: the same sums
        op = ops.get(id(node))
        if op is None or not needs[id(node)]:
            continue
        upstream = grad_of[id(node)]
        factors = local_terms(op, name(node), ins_of[id(node)]) if any(op.factors) else op.factors
        for child, local in zip(op.children, factors):
            if not needs[id(child)]:
                continue
            term = f"{local} * {upstream}" if local else upstream
            own = f"d_{name(child)}"
            if id(child) in grad_of:
                backward.append(f"{own} += {term}")
            else:
                backward.append(f"{own} = {term}")
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
    return body, closure.names, closure.objects


def observable_leaves(recording: Recording) -> set[int]:
    """The ids of the leaves that take a grad: the parameters and the Value arguments."""
    return {
        id(node)
        for node in recording.order
        if not node.children
        and recording.sources[id(node)].kind in ("param", "input")
        and isinstance(node, Value)  # a Tensor argument read for its data takes no grad
    }


class Closure:
    """The objects a generated step holds in its closure, each under a name of its own.

    ``names_of_nodes`` hands out the nodes' names too, so that no name is given twice.
    """

    def __init__(self, recording: Recording, helpers: set[str]) -> None:
        self.names_of_nodes = Names(reserved(len(recording.key), len(recording.leaves), helpers))
        self.fresh = self.names_of_nodes.fresh
        self.names: list[str] = []
        self.objects: list[Any] = []

    def hold(self, stem: str, obj: Any) -> str:
        """A name for ``obj`` in the step's closure: ``stem`` itself if it is free."""
        holder = self.fresh(stem, exact=True)
        self.names.append(holder)
        self.objects.append(obj)
        return holder
