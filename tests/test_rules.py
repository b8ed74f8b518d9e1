"""The one home of the scalar derivative rules (``engine.RULES``) and its four readers.

Every op a ``Value`` computes must have a rule, and each reader must handle it:
the eager op (checked against references in test_engine.py), trace's code
generation and trace's tape interpreter (both must give the eager numbers to the
last bit), and
``differentiable_local_grads`` (its Values must equal the eager local derivatives,
and their own derivatives must match central differences of the eager first
derivative: an oracle the rule's second reading does not share).
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_bp import Value
from tinygrad_bp.engine import (
    RULES,
    differentiable_local_grads,
    rule_of,
    weighted_sum,
)
from tinygrad_bp.graph import toposort
from tinygrad_bp.testing import CATALOGUE
from tinygrad_bp.tracing import tape
from tinygrad_bp.tracing.scalar import HELPERS, expression, local_terms, op_of

H = 1e-5  # the step of the central differences of a first derivative

SCALAR_OPS = [op for op in CATALOGUE if op.scalar]


def nodes_of(op, point):
    """The op's graph at ``point``: (its nodes with children, the Value operands)."""
    operands = [Value(x) if arg.is_value else x for arg, x in zip(op.args, point)]
    out = op.ours(*operands)
    return [node for node in toposort(out) if node.children], operands


def generated(node):
    """Run trace's lines for ``node`` alone: its data and its local derivatives."""
    ins = [f"a{i}" for i in range(len(node.children))]
    scope = {**HELPERS, **{name: child.data for name, child in zip(ins, node.children)}}
    op = op_of(node)
    exec(f"out = {expression(op, ins)}", scope)
    locals_ = [
        eval(f"{local} * 1.0" if local else "1.0", scope) for local in local_terms(op, "out", ins)
    ]
    return scope["out"], locals_


def on_the_tape(node):
    """Run the tape interpreter on ``node`` alone: its data, and d(node)/d(operand) for each
    operand (the gradient each operand's slot receives from an upstream of 1)."""
    operands = list(dict.fromkeys(node.children))  # an operand used twice has one slot
    slot = {id(child): k for k, child in enumerate(operands)}
    slot[id(node)] = len(operands)
    v = [child.data for child in operands] + [0.0]
    item = tape.entry(node, slot)
    tape.forward([item], v)
    g = [0.0] * len(v)
    g[-1] = 1.0
    tape.backward([item], v, g)
    if len(operands) < len(node.children):  # x * x: the slot holds both shares, summed
        return v[-1], None
    return v[-1], [g[slot[id(child)]] for child in node.children]


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("op", SCALAR_OPS, ids=[op.name for op in SCALAR_OPS])
@given(data=st.data())
def test_every_node_of_every_catalogue_op_has_its_rule_read_by_all_three_readers(op, data):
    nodes, _ = nodes_of(op, data.draw(op.points()))
    assert nodes
    for node in nodes:
        assert rule_of(node)[0] in RULES  # a Value op without a rule fails here
        out, locals_ = generated(node)  # ... or without code generation here
        assert same(out, node.data), node.op
        assert all(map(same, locals_, node.local_grads)), node.op
        out, locals_ = on_the_tape(node)  # ... or without the tape's branch here
        assert same(out, node.data), node.op
        if locals_ is not None:
            assert all(map(same, locals_, node.local_grads)), node.op
        differentiable = differentiable_local_grads(node)  # ... or without this reader here
        assert len(differentiable) == len(node.children)
        for value, local in zip(differentiable, node.local_grads):
            assert isinstance(value, Value)
            assert value.data == pytest.approx(local, rel=1e-12, abs=1e-15), node.op


# Each rule at points away from its kinks: (make the node from Values, the points).
CASES = {
    "+": (lambda a, b: a + b, [(0.3, -1.2), (2.0, 5.0)]),
    "*": (lambda a, b: a * b, [(0.3, -1.2), (2.0, 5.0)]),
    "**": (lambda a, b: a**b, [(0.7, 2.5), (2.0, -1.5), (1.5, 0.0), (3.0, 1.0)]),
    "**c": (lambda a: a**2.5, [(0.7,), (2.0,)]),
    "**2": (lambda a: a**2, [(-0.7,), (2.0,)]),
    "**-1": (lambda a: a**-1, [(-0.7,), (2.0,)]),
    "**0": (lambda a: a**0, [(-0.7,), (2.0,)]),
    "exp": (lambda a: a.exp(), [(-0.7,), (1.3,)]),
    "log": (lambda a: a.log(), [(0.4,), (2.0,)]),
    "tanh": (lambda a: a.tanh(), [(-0.7,), (0.4,)]),
    "sigmoid": (lambda a: a.sigmoid(), [(-2.0,), (0.4,)]),
    "relu": (lambda a: a.relu(), [(-0.7,), (0.4,)]),
    "abs": (lambda a: a.abs(), [(-0.7,), (0.4,)]),
    "step": (lambda a: a.step(), [(-0.7,), (0.4,)]),
    "w·x+b": (lambda w0, w1, x0, x1, b: weighted_sum([w0, w1], [x0, x1], b),
              [(0.3, -0.4, 0.8, 1.5, 0.1)]),
}  # fmt: skip


def test_the_cases_cover_every_rule():
    covered = {rule_of(make(*(Value(x) for x in points[0])))[0] for make, points in CASES.values()}
    assert covered == set(RULES)


def first_derivatives(make, point, j):
    """d(node)/d(child j) by the eager engine, as a function of the operands' numbers."""

    def local(*numbers):
        return make(*(Value(x) for x in numbers)).local_grads[j]

    return local


@pytest.mark.parametrize("name", CASES)
def test_differentiable_local_grads_match_central_differences_of_the_first_derivative(name):
    make, points = CASES[name]
    for point in points:
        operands = [Value(x) for x in point]
        node = make(*operands)
        assert node.children == tuple(operands)  # the rule's operands are ours
        for j, slope in enumerate(differentiable_local_grads(node)):
            assert slope.data == pytest.approx(node.local_grads[j], rel=1e-12)
            for operand in operands:
                operand.grad = 0.0
            slope.backward()
            eager = first_derivatives(make, point, j)
            for k, operand in enumerate(operands):
                up, down = list(point), list(point)
                up[k] += H
                down[k] -= H
                numeric = (eager(*up) - eager(*down)) / (2 * H)
                assert operand.grad == pytest.approx(numeric, rel=1e-6, abs=1e-6), (name, j, k)


def test_derivatives_of_derivatives_reach_the_second_derivative_of_tanh():
    # d2/dx2 tanh x = -2 tanh x (1 - tanh^2 x): the analytic oracle
    x = Value(0.8)
    (slope,) = differentiable_local_grads(x.tanh())
    slope.backward()
    t = math.tanh(0.8)
    assert x.grad == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)


def test_the_edges_of_power_give_constants_where_the_eager_rule_does():
    zero = Value(0.0)
    for node in (zero**2.0, zero ** Value(0.0), Value(-2.0) ** Value(0.5)):
        for slope, local in zip(differentiable_local_grads(node), node.local_grads):
            assert same(slope.data, local)
    (slope,) = differentiable_local_grads(Value(3.0) ** 0)
    assert slope.data == 0.0 and not slope.children  # x ** 0 is constant


def test_a_leaf_has_no_local_grads_and_a_hand_built_node_is_refused():
    assert differentiable_local_grads(Value(2.0)) == ()
    a = Value(2.0)
    by_hand = Value(4.0, (a,), "square")
    with pytest.raises(ValueError, match="built by hand"):
        differentiable_local_grads(by_hand)


def test_an_op_unknown_to_the_rules_is_named():
    a = Value(2.0)
    odd = a * 2.0
    odd.op = "sin"  # a node whose op no rule describes
    with pytest.raises(ValueError, match="'sin'"):
        differentiable_local_grads(odd)


def test_the_tape_interpreter_has_a_branch_per_rule_in_each_loop():
    """Each rule's branch, forward and backward (the numbers: the catalogue test above)."""
    assert list(tape.CODES) == list(RULES)
    for op in RULES:
        assert tape.INTERPRETER_SOURCE.count(f"code == {tape.CODES[op]}:  # {op}\n") == 2, op


def test_the_op_methods_are_made_from_the_rules():
    from tinygrad_bp.engine import OP_SOURCE

    for op, rule in RULES.items():
        assert f"out = {rule.forward}" in OP_SOURCE[op]
        assert ", ".join(rule.local_grads).replace("x, w", "*x, *w") in OP_SOURCE[op]
