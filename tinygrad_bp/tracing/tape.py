"""A large ``Value`` step replayed from flat lists: an interpreter made from ``engine.RULES``.

Writing a step of tens of thousands of nodes as Python and compiling it costs
more than it saves: for microgpt's step of one name (about 42,000 nodes) writing
and compiling took about 1.5 s, some 20 eager steps, and the compiled step ran
only about twice as fast as a loop over a list of its ops. So a step of
``TAPE_FROM`` nodes or more runs on a **tape**.

Every node's number has a slot in a list ``v`` (its place in the recording's
order). Each op is an entry ``(code, here, first, second)``: the op's place in
``engine.RULES``, the slot of its result, and its operands' slots (``second``
is the number exponent of ``**c``; for a weighted sum ``first`` is the triple
``(weight slots, input slots, bias slot)``). ``forward`` runs the entries in
order, each by its rule's forward formula. ``backward`` runs them from the last
made to the first, ``backward()``'s own order, and adds ``local derivative *
upstream`` to each operand's slot of the gradients ``g``, edge by edge, as the
eager sweep does: the same operations in the same order, the same numbers.

Both loops are written from ``engine.RULES`` when this module is imported, one
branch per op, the rule's own expressions over its own names (``x``, ``y``,
``c``, ``out``, ``w``, ``b``): no rule is written here a second time.

The rest of the step, small beside the graph, is generated as for a small step
(``scalar``), with ``v[k]`` for a node's name: reading the arguments, the leaves
computed from them, the checks of ``fn``'s decisions on data. ``step.source`` is
that code with each run of the tape written out as the statements it runs
(``spelled_out``), one per node and one per edge, when it is first read.

The step holds the tape, not the recorded graph: lists of tuples of ints, which
Python's cyclic collector stops looking at after its first pass, where the graph's
tens of thousands of nodes would be traversed by every full collection.
"""

from __future__ import annotations

import re
from typing import Any

from ..engine import RULES, Value
from .recording import Recording
from .render import Guards, Renderer
from .scalar import HELPERS as SCALAR_HELPERS
from .scalar import (
    NAME,
    Closure,
    Op,
    expression,
    input_line,
    local_terms,
    observable_leaves,
    rule_key,
    spellings,
    tight,
)

# The number of nodes from which a Value step runs on the tape rather than as compiled code.
TAPE_FROM = 5_000

# Each op's code: its place in RULES.
CODES = {op: code for code, op in enumerate(RULES)}
_WEIGHTED, _EXPONENT = CODES["w·x+b"], CODES["**c"]


# Where each of a rule's names finds its number on the tape.
_PLACES = {"x": "v[first]", "y": "v[second]", "c": "second", "out": "v[here]"}


def _spelled_in(expressions: tuple[str, ...], indent: str) -> tuple[list[str], list[str]]:
    """The lines that give a rule's names read more than once their numbers, and the
    expressions with the names read once replaced by where their numbers are
    (``x * y`` as ``v[first] * v[second]``): a local variable costs a store, a list
    item read twice costs a second read."""
    counts: dict[str, int] = {}
    for text in expressions:
        for word in NAME.findall(text):
            counts[word] = counts.get(word, 0) + 1
    bound = [name for name in _PLACES if counts.get(name, 0) > 1]
    lines = [f"{indent}{name} = {_PLACES[name]}" for name in bound]
    once = {name: place for name, place in _PLACES.items() if name not in bound}

    def place(match: re.Match[str]) -> str:
        return once.get(match.group(), match.group())

    return lines, [NAME.sub(place, text) for text in expressions]


def _term(local: str, bare: bool) -> str:
    """local derivative * upstream; a local derivative of 1 passes the gradient on as it is.

    ``bare``: the rule's expression needs no brackets on the left of ``*`` (``tight``).
    """
    if local == "1.0":
        return "up"
    return f"{local} * up" if bare else f"({local}) * up"


def _backward_lines(op: str, indent: str) -> list[str]:
    rule = RULES[op]
    if op == "w·x+b":  # per element: d/dw_i reads x_i, d/dx_i reads w_i; weights first
        d_weight, d_input, d_bias = rule.local_grads
        places = {"w": "v[wk]", "x": "v[xk]"}

        def term(local: str) -> str:
            spelled = NAME.sub(lambda m: places.get(m.group(), m.group()), local)
            return _term(spelled, tight(local))

        deeper = indent + "    "
        return [
            f"{indent}weights, inputs, bias = first",
            f"{indent}for wk, xk in zip(weights, inputs):",
            f"{deeper}g[wk] += {term(d_weight)}",
            f"{indent}for wk, xk in zip(weights, inputs):",
            f"{deeper}g[xk] += {term(d_input)}",
            f"{indent}g[bias] += {term(d_bias)}",
        ]
    lines, locals_ = _spelled_in(rule.local_grads, indent)
    targets = ("g[first]", "g[second]")
    return lines + [
        f"{indent}{target} += {_term(spelled, tight(local))}"
        for target, spelled, local in zip(targets, locals_, rule.local_grads)
    ]


def _interpreter_source() -> str:
    """The source of ``forward`` and ``backward``: one branch per rule, in ``RULES`` order."""
    forward = ["def forward(tape, v):", "    for code, here, first, second in tape:"]
    backward = ["def backward(tape, v, g):", "    for code, here, first, second in tape:"]
    backward.append("        up = g[here]")
    for op, code in CODES.items():
        keyword = "if" if code == 0 else "elif"
        rule = RULES[op]
        forward.append(f"        {keyword} code == {code}:  # {op}")
        if op == "w·x+b":
            forward += [
                "            w = [v[k] for k in first[0]]",
                "            x = [v[k] for k in first[1]]",
                "            b = v[first[2]]",
                f"            v[here] = {rule.forward}",
            ]
        else:
            lines, (formula,) = _spelled_in((rule.forward,), " " * 12)
            forward += [*lines, f"            v[here] = {formula}"]
        backward.append(f"        {keyword} code == {code}:  # {op}")
        backward += _backward_lines(op, " " * 12)
    return "\n".join([*forward, "", *backward]) + "\n"


INTERPRETER_SOURCE = _interpreter_source()
_interpreter: dict[str, Any] = dict(SCALAR_HELPERS)
exec(compile(INTERPRETER_SOURCE, "<tape interpreter>", "exec"), _interpreter)  # noqa: S102
forward = _interpreter["forward"]
backward = _interpreter["backward"]


def read_data(nodes: list[tuple[Value, int]], v: list[Any]) -> None:
    """Each parameter's current number into its slot."""
    for node, k in nodes:
        v[k] = node.data


def add_grads(nodes: list[tuple[Value, int]], g: list[float]) -> None:
    """Each parameter's gradient, added to its ``grad``."""
    for node, k in nodes:
        node.grad += g[k]


# What the generated part of a tape step calls, by the name it calls it.
HELPERS: dict[str, Any] = {
    **SCALAR_HELPERS,
    "forward": forward,
    "backward": backward,
    "read_data": read_data,
    "add_grads": add_grads,
}


def entry(node: Value, slot: dict[int, int]) -> tuple[Any, ...]:
    """``node``'s entry of the tape: its op's code, its slot, its operands' slots."""
    op = node.op
    known = _RULE_OF_OP.get(op)
    if known is None:
        known = rule_key(node)
        if known[1] is None:  # one entry per rule; an exponent (``**2.5``) is read each time
            _RULE_OF_OP[op] = known
    rule, exponent = known
    children = node.children
    if rule == "w·x+b":
        n = (len(children) - 1) // 2
        weights = tuple(slot[id(c)] for c in children[:n])
        inputs = tuple(slot[id(c)] for c in children[n : 2 * n])
        return _WEIGHTED, slot[id(node)], (weights, inputs, slot[id(children[-1])]), None
    second = exponent if exponent is not None else slot[id(children[-1])]  # a unary op: x again
    return CODES[rule], slot[id(node)], slot[id(children[0])], second


# -- the tape written out, for reading -----------------------------------------------------------

_RUN = re.compile(r"(forward|backward)\((\w+), v(?:, g)?\)")
_OPS = list(RULES)


def spelled_out(body: list[str], names: dict[str, Any]) -> list[str]:
    """``body`` with each run of the tape written out as the statements it runs.

    A statement per op forward (``v[7] = v[3] * v[5]``) and one per edge backward
    (``g[3] += v[5] * g[7]``), spelled from the rules as a small step is, in the
    tape's order: ``exec`` of the result computes what the tape computes.
    """
    lines = []
    for line in body:
        run = _RUN.fullmatch(line)
        if run is None:
            lines.append(line)
            continue
        kind, held = run.groups()
        for item in names[held]:
            op, ins = _spelled(item)
            here = f"v[{item[1]}]"
            if kind == "forward":
                lines.append(f"{here} = {expression(op, ins)}")
                continue
            locals_ = local_terms(op, here, ins) if any(op.factors) else op.factors
            for operand, local in zip(ins, locals_):
                term = f"{local} * g[{item[1]}]" if local else f"g[{item[1]}]"
                lines.append(f"g{operand[1:]} += {term}")
    return lines


# The lines of a tape step that handle all the slots at once (see ``generate``).
_START = re.compile(r"v = (\w+)\.copy\(\)")
_READ = re.compile(r"read_data\((\w+), v\)")
_ZEROS = re.compile(r"g = \[0\.0\] \* \d+")
_ADD = re.compile(r"add_grads\((\w+), g\)")
_SLOT = re.compile(r"\b([vg])\[(\d+)\]")
_ADDED = re.compile(r"(g\d+) \+= (.*)")
_TAKEN = re.compile(r"\.grad \+= g\[(\d+)\]")  # a Value argument's grad

# A tape step's calls after which it is compiled (``compiled``): writing and compiling cost
# about as much as 100 to 200 calls on the tape, whatever the size of the step, so a step
# used more often than that pays at most twice what the better of the two would have.
COMPILE_AT = 100


def compiled(body: list[str], names: dict[str, Any]) -> list[str]:
    """``spelled_out(body)`` with every slot a local variable (``v[7]`` as ``v7``), to compile.

    Python reads and writes local variables much faster than the items of a list, so
    the compiled step runs two to three times as fast as the tape. A node's gradient
    takes its first term as it is, as a small step's code does; a leaf's is added to
    0.0 first, as on the tape, so that a grad of -0.0 comes out as the eager one.
    """
    lines = []
    assigned: set[str] = set()
    spelled = spelled_out(body, names)
    leaves = {f"g{k}" for line in spelled for k in _TAKEN.findall(line)}
    for receiving in filter(None, map(_ADD.fullmatch, spelled)):
        leaves |= {f"g{k}" for _, k in names[receiving.group(1)]}
    for line in spelled:
        if start := _START.fullmatch(line):
            held = start.group(1)
            targets = ", ".join(f"v{k}" for k in range(len(names[held])))
            lines.append(f"{targets}, = {held}")  # the constants; the rest is filled in
        elif read := _READ.fullmatch(line):
            held = read.group(1)
            lines += [f"v{k} = {held}[{i}][0].data" for i, (_, k) in enumerate(names[held])]
        elif _ZEROS.fullmatch(line):
            continue
        elif add := _ADD.fullmatch(line):
            held = add.group(1)
            lines += [f"{held}[{i}][0].grad += g{k}" for i, (_, k) in enumerate(names[held])]
        else:
            line = _SLOT.sub(r"\1\2", line)
            added = _ADDED.fullmatch(line)
            if added and added.group(1) not in assigned:
                zero = "0.0 + " if added.group(1) in leaves else ""  # a grad's sign, as eager
                line = f"{added.group(1)} = {zero}{added.group(2)}"
            if line.startswith("g") and " = " in line:
                assigned.add(line.split(" ", 1)[0])
            lines.append(line)
    return lines


def _spelled(item: tuple[Any, ...]) -> tuple[Op, list[str]]:
    """An entry's rule as format strings (``scalar._spellings``) and its operands as ``v[k]``."""
    code, _, first, second = item
    exponent = repr(second) if code == _EXPONENT else ""
    forward, factors = spellings(_OPS[code], exponent)
    if second is None:  # a weighted sum
        slots = [*first[0], *first[1], first[2]]
    else:
        slots = [first] if code == _EXPONENT or len(factors) == 1 else [first, second]
    return Op((), _OPS[code], forward, factors), [f"v[{k}]" for k in slots]


# An op's rule by its name, for the ops without a number exponent (at most one per rule).
_RULE_OF_OP: dict[str, tuple[str, float | None]] = {}


def generate(recording: Recording) -> tuple[list[str], list[str], list[Any]]:
    """The body of a tape step (its lines), its closure's names, and the objects they name."""
    order, sources = recording.order, recording.sources
    slot = {id(node): k for k, node in enumerate(order)}
    closure = Closure(recording, {*HELPERS, "v", "g"})
    render = Renderer(recording, lambda node: f"v[{slot[id(node)]}]", closure.hold, closure.fresh)
    checks = Guards(recording, render)
    start: list[Any] = [0.0] * len(order)  # the constants in their slots, the rest filled in
    params: list[tuple[Value, int]] = []
    reads: list[str] = []
    lines: list[str] = checks.at(-1)
    entries: list[tuple[Any, ...]] = []  # every op, in order
    segment: list[tuple[Any, ...]] = []  # the ops since the last generated line

    def run_segment() -> None:
        if segment:
            lines.append(f"forward({closure.hold('ops', list(segment))}, v)")
            segment.clear()

    value_inputs: list[tuple[int, int]] = []  # the arguments' slots: (leaf index, slot)
    for k, node in enumerate(order):
        source = sources.get(id(node))
        if source is None:
            segment.append(entry(node, slot))
            entries.append(segment[-1])
        elif source.kind == "expr":
            run_segment()
            made = render(source.expr)
            lines += [*render.lines(), f"v[{k}] = real({made})"]
        elif source.kind == "const":
            start[k] = source.value
        elif source.kind == "param":
            params.append((node, k))
        elif source.kind == "input":
            reads.append(input_line(f"v[{k}]", source))
            value_inputs.append((source.index, k))
        if k in checks.by_position:
            run_segment()
            lines += checks.at(k)
    run_segment()
    root = slot[id(recording.root)]
    observable = {slot[key] for key in observable_leaves(recording)}
    reached, sent = _reached_and_sending(len(order), entries, root, observable)
    receiving = [(node, k) for node, k in params if reached[k] and k in observable]
    inputs = [
        f"i{index}.grad += g[{k}]" for index, k in value_inputs if reached[k] and k in observable
    ]
    return (
        [
            "# the slots of the nodes' numbers: constants in place, then parameters and inputs",
            f"v = {closure.hold('START', start)}.copy()",
            f"read_data({closure.hold('PARAMETERS', params)}, v)",
            *reads,
            "# forward pass: the ops by their rules, in order (and fn's decisions on data checked)",
            *lines,
            "# backward pass: from the loss down, local derivative * upstream, edge by edge",
            f"g = [0.0] * {len(order)}",
            f"g[{root}] = 1.0",
            f"backward({closure.hold('BACKWARD', sent)}, v, g)",
            "# add the gradients to the parameters' grads",
            f"add_grads({closure.hold('RECEIVING', receiving)}, g)",
            *inputs,
            f"return v[{root}]",
        ],
        closure.names,
        closure.objects,
    )


def _reached_and_sending(
    size: int, entries: list[tuple[Any, ...]], root: int, observable: set[int]
) -> tuple[list[bool], list[tuple[Any, ...]]]:
    """Which slots the sweep from the root reaches, and the ops that send a gradient on.

    An op sends when the root reaches it and a leaf that takes a grad (``observable``)
    lies below it. The ops come from the last made to the first: the recording keeps
    the nodes made during the call in the order they were made, and ``backward()``
    takes them by decreasing creation number.
    """
    below = [k in observable for k in range(size)]  # a leaf that takes a grad at or below
    for code, here, first, second in entries:
        if second is None:  # a weighted sum
            below[here] = any(below[k] for k in (*first[0], *first[1], first[2]))
        elif code == _EXPONENT:
            below[here] = below[first]
        else:
            below[here] = below[first] or below[second]
    reached = [False] * size
    reached[root] = True
    sending = []
    for item in reversed(entries):
        code, here, first, second = item
        if not reached[here]:
            continue
        if second is None:
            for k in (*first[0], *first[1], first[2]):
                reached[k] = True
        else:
            reached[first] = True
            if code != _EXPONENT:
                reached[second] = True
        if below[here]:
            sending.append(item)
    return reached, sending
