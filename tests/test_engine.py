"""The scalar engine against independent oracles: math, analytic derivatives, finite differences."""

import math
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from user_ops import micrograd_relu, user_mul, user_sin

from tinygrad_bp import Value, no_grad
from tinygrad_bp.engine import sweep_order, weighted_sum
from tinygrad_bp.testing import CATALOGUE, programs

EPS = 1e-6


def central_difference(f, x: float, eps: float = EPS) -> float:
    """(f(x + eps) - f(x - eps)) / (2 eps), on plain floats."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def partial_derivative(f, point, index, eps: float = EPS) -> float:
    """df/dx_index at ``point`` by central differences, on plain floats."""
    plus, minus = list(point), list(point)
    plus[index] += eps
    minus[index] -= eps
    return (f(*plus) - f(*minus)) / (2 * eps)


SCALAR_OPS = [op for op in CATALOGUE if op.scalar]  # every op of the catalogue a Value has


@pytest.mark.parametrize("op", SCALAR_OPS, ids=[op.name for op in SCALAR_OPS])
@given(data=st.data())
def test_op_matches_its_reference_and_finite_differences(op, data):
    point = data.draw(op.points())  # one float per argument, away from kinks and poles
    operands = [Value(x) if arg.is_value else x for arg, x in zip(op.args, point)]
    out = op.ours(*operands)
    out.backward()
    assert out.data == pytest.approx(op.reference(*point), rel=1e-12, abs=1e-12)
    for index, (arg, operand) in enumerate(zip(op.args, operands)):
        if arg.is_value:
            numeric = partial_derivative(op.reference, point, index)
            assert operand.grad == pytest.approx(numeric, rel=1e-5, abs=1e-6), arg.name


@pytest.mark.parametrize("number", [2, 2.5, np.float64(2.5), np.float32(2.5), np.int64(2)])
def test_plain_and_numpy_numbers_work_on_either_side(number):
    v = Value(3.0)
    results = [
        v + number,
        number + v,
        v - number,
        number - v,
        v * number,
        number * v,
        v / number,
        number / v,
        v**number,
        number**v,
    ]
    expected = [
        3 + number,
        number + 3,
        3 - number,
        number - 3,
        3 * number,
        number * 3,
        3 / number,
        number / 3,
        3**number,
        number**3,
    ]
    for result, want in zip(results, expected):
        assert isinstance(result, Value)
        assert result.data == pytest.approx(float(want))


def test_pow_with_a_value_exponent_follows_pytorch_at_zero_and_negative_bases():
    base, exponent = Value(0.0), Value(2.0)
    (base**exponent).backward()
    assert exponent.grad == 0.0  # d/db 0^b is taken as 0
    base, exponent = Value(-2.0), Value(2.0)
    out = base**exponent
    out.backward()
    assert out.data == 4.0
    assert base.grad == pytest.approx(-4.0)  # b a^(b-1) = 2 * (-2)
    assert math.isnan(exponent.grad)  # a^b ln a has no real value for a < 0


def test_ieee_results_instead_of_python_exceptions():
    assert math.isnan((Value(-8.0) ** 0.5).data)
    assert (Value(1.0) / 0.0).data == math.inf
    assert Value(1000.0).exp().data == math.inf


@pytest.mark.parametrize(
    "x, relu_grad, abs_grad, step",
    [(0.0, 0.0, 0.0, 0.0), (2.0, 1.0, 1.0, 1.0), (-2.0, 0.0, -1.0, 0.0)],
)
def test_kink_conventions(x, relu_grad, abs_grad, step):
    a, b, c = Value(x), Value(x), Value(x)
    a.relu().backward()
    b.abs().backward()
    out = c.step()
    out.backward()
    assert (a.grad, b.grad, out.data, c.grad) == (relu_grad, abs_grad, step, 0.0)


def test_sigmoid_and_tanh_are_exact_at_extreme_inputs_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Value(-1000.0).sigmoid().data == 0.0
        assert Value(1000.0).sigmoid().data == 1.0
        assert Value(-1e308).tanh().data == -1.0
        x = Value(-1000.0)
        x.sigmoid().backward()
        assert x.grad == 0.0


# -- random expression programs vs finite differences -------------------------------


@given(programs())
def test_random_expression_gradients_match_finite_differences(program):
    inputs = list(program.inputs)
    values = [Value(x) for x in inputs]
    out = program.output(*values)
    out.backward()
    assert out.data == pytest.approx(program.output(*inputs), rel=1e-12, abs=1e-12)
    for i, value in enumerate(values):

        def f(x, i=i):
            return program.output(*inputs[:i], x, *inputs[i + 1 :])

        assert value.grad == pytest.approx(central_difference(f, inputs[i]), rel=1e-4, abs=1e-5)


# -- accumulation, reuse and traversal ------------------------------------------------


def test_a_node_used_twice_gets_both_contributions():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_second_backward_doubles_every_grad_including_intermediates():
    x = Value(0.5)
    h = x.tanh()
    y = h * h
    y.backward()
    first = (x.grad, h.grad, y.grad)
    y.backward()
    assert (x.grad, h.grad, y.grad) == pytest.approx(tuple(2 * g for g in first))
    assert y.grad == 2.0


def test_backward_from_an_intermediate_node_adds_its_own_derivatives():
    x = Value(2.0)
    h = x * 3.0
    h.backward()
    assert (x.grad, h.grad) == (3.0, 1.0)


def test_million_node_chain_backpropagates_without_recursion():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    assert y.data == 1_000_001.0


def test_values_hash_and_compare_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b}) == 2
    assert {a: "a"}[a] == "a"
    # graph.toposort keys its visited set by the nodes themselves: identity is required
    assert Value.__hash__ is object.__hash__ and Value.__eq__ is object.__eq__


def test_no_grad_records_no_graph():
    x = Value(2.0)
    with no_grad():
        y = x * x
    assert y.children == () and y.data == 4.0
    y.backward()
    assert x.grad == 0.0
    assert (x * x).children == (x, x)  # recording resumes after the block


# -- micrograd compatibility ----------------------------------------------------------


def test_micrograd_private_names_run_micrograd_style_backward():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + a
    assert d._op == "+" and d._prev == {c, a}
    # micrograd's own backward: topological order, seed, then each node's _backward()
    topo, seen = [], set()

    def build(v):
        if v not in seen:
            seen.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)

    build(d)
    d.grad = 1.0
    for node in reversed(topo):
        node._backward()
    assert (a.grad, b.grad) == (-3.0 + 1.0, 2.0)


def test_attributes_of_a_leaf_and_of_a_result():
    leaf = Value(1.5, label="x")
    out = leaf * 2
    assert (leaf.data, leaf.grad, leaf.op, leaf.children, leaf.label) == (1.5, 0.0, "", (), "x")
    assert out.op == "*" and out.children[0] is leaf and out.children[1].data == 2.0
    assert "x" in repr(leaf) and "1.5" in repr(leaf)


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1.0", None, object(), 1 + 2j, np.array(["a"]), [1.0]])
def test_non_numbers_raise_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_operators_reject_non_numbers_and_leave_operands_unchanged():
    v = Value(1.0)
    with pytest.raises(TypeError, match="str"):
        v + "a"
    assert (v.data, v.grad, v.children) == (1.0, 0.0, ())


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_of_non_positive_raises_value_error(x):
    with pytest.raises(ValueError, match="non-positive"):
        Value(x).log()


@pytest.mark.parametrize("base", [0.0, 2.0, -3.0])
def test_the_gradient_of_x_to_the_zero_is_zero_everywhere_as_pytorch(base):
    x = Value(base)
    (x**0).backward()
    assert x.grad == 0.0  # d/dx 1 = 0, also at x = 0 (not 0 * 0 ** -1 = nan)
    a = Value(base)
    (a ** Value(0.0)).backward()  # a Value exponent: the same local derivative
    assert a.grad == 0.0


def test_value_zero_to_the_value_zero_has_zero_gradients():
    a, b = Value(0.0), Value(0.0)
    out = a**b
    out.backward()
    assert (out.data, a.grad, b.grad) == (1.0, 0.0, 0.0)


# -- ops written micrograd's way: Value(data, _children, _op) and a _backward closure -------


def test_the_positional_constructor_is_micrograds():
    a = Value(2.0)
    node = Value(1.0, (a,), "tanh")
    assert node._prev == {a} and node._op == "tanh" and node.children == (a,)
    assert node.label == "" and Value(1.0, label="x").label == "x"
    with pytest.raises(TypeError, match="keyword-only"):
        Value(1.0, "x")  # the old positional label is refused, not read as children
    with pytest.raises(TypeError, match="child must be a Value"):
        Value(1.0, (a, 3.0), "+")


@given(st.floats(-5.0, 5.0).filter(lambda x: abs(x) > 1e-3))
def test_a_user_written_relu_and_sin_take_part_in_backward(x):
    a = Value(x)
    y = user_sin(micrograd_relu(a * 2.0)) * 3.0  # y = 3 sin(relu(2x))
    y.backward()
    expected = 3.0 * math.cos(2.0 * x) * 2.0 if x > 0 else 0.0  # the analytic derivative
    assert a.grad == pytest.approx(expected, rel=1e-12, abs=1e-12)
    y.backward()  # accumulates exactly, as every other node does
    assert a.grad == pytest.approx(2 * expected, rel=1e-12, abs=1e-12)


def test_a_user_op_reused_in_a_diamond_gets_its_closure_called_once_with_the_whole_grad():
    calls = []
    a = Value(0.7)
    s = user_sin(a)
    original = s._backward

    def counted():
        calls.append(s.grad)
        original()

    s._backward = counted
    y = user_mul(s, s) + s * 4.0  # y = sin(a)^2 + 4 sin(a)
    y.backward()
    assert calls == [pytest.approx(2 * math.sin(0.7) + 4.0)]  # one call, complete grad
    assert a.grad == pytest.approx((2 * math.sin(0.7) + 4.0) * math.cos(0.7), rel=1e-12)


def test_a_100_000_deep_chain_of_user_ops_backpropagates():
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = user_mul(y, Value(1.0))
    y.backward()
    assert x.grad == 1.0


def test_a_node_built_by_hand_without_a_closure_passes_nothing_on():
    a = Value(2.0)
    node = Value(5.0, (a,), "f")  # micrograd's default _backward does nothing
    (node * 3.0).backward()
    assert node.grad == 3.0 and a.grad == 0.0


def test_a_closure_that_raises_leaves_every_grad_as_it_was():
    a = Value(1.0)
    out = Value(2.0, (a,), "broken")

    def _backward():
        a.grad += 1.0
        raise RuntimeError("my bug")

    out._backward = _backward
    y = out * a
    with pytest.raises(RuntimeError, match="my bug"):
        y.backward()
    assert (a.grad, out.grad, y.grad) == (0.0, 0.0, 0.0)


def test_user_ops_agree_with_micrograd_running_the_same_code():
    micrograd = pytest.importorskip("micrograd.engine", reason="pip install micrograd")

    def build(value_class):
        a, b = value_class(0.3), value_class(-1.2)
        out = value_class(a.data * b.data, (a, b), "*")

        def _backward():
            a.grad += b.data * out.grad
            b.grad += a.data * out.grad

        out._backward = _backward
        loss = (out + a).relu() * b + out * out
        loss.backward()
        return a.grad, b.grad

    assert build(Value) == pytest.approx(build(micrograd.Value), rel=1e-14)


@pytest.mark.parametrize(
    "base, exponent, d_exponent",
    [(0.0, 2.0, 0.0), (0.0, 0.0, 0.0), (0.0, -1.0, -math.inf), (2.0, 3.0, 8 * math.log(2.0))],
)
def test_the_exponents_gradient_at_base_zero_is_pytorchs(base, exponent, d_exponent):
    # d/db a^b = a^b ln a: at a = 0 the constant 0 or 1 for b >= 0, inf * -inf for b < 0
    a, b = Value(base), Value(exponent)
    (a**b).backward()
    assert b.grad == d_exponent
    torch = pytest.importorskip("torch", reason="PyTorch (optional) confirms the convention")
    ta = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
    (ta**tb).backward()
    assert tb.grad.item() == d_exponent


def test_a_closure_reads_this_sweeps_gradient_when_grads_are_already_held():
    seen = []
    x = Value(0.5)

    def tripled(self):
        out = Value(3 * self.data, (self,), "3x")

        def _backward():
            seen.append(out.grad)
            self.grad += 3 * out.grad

        out._backward = _backward
        return out

    y = tripled(x) * 2.0
    y.backward()
    y.backward()  # every grad already holds the first sweep's
    assert seen == [2.0, 2.0]  # d(y)/d(out) = 2 in each sweep, never the running sum
    assert x.grad == 12.0  # twice 3 * 2


def test_number_operands_become_leaves_with_float_data():
    y = Value(2.0) * 3 + np.float32(0.5)
    constants = [child for node in (y, y.children[0]) for child in node.children[1:]]
    assert [c.data for c in constants] == [0.5, 3.0]
    assert all(type(c.data) is float and not c.children and c.op == "" for c in constants)


# -- the node protocol read from the slots ----------------------------------------------------


def test_children_and_local_grads_of_each_kind_of_node():
    x, y = Value(3.0), Value(-2.0)
    assert (x.children, x.local_grads) == ((), ())  # a leaf
    product = x * y  # d/dx = y, d/dy = x
    assert product.children == (x, y) and product.local_grads == (-2.0, 3.0)
    square = x**2  # d/dx = 2x
    assert square.children == (x,) and square.local_grads == (6.0,)
    z = weighted_sum([x, y], [y, x], Value(1.0))  # dz/dw_i = x_i, dz/dx_i = w_i, dz/db = 1
    assert z.children[:4] == (x, y, y, x) and z.local_grads == (-2.0, 3.0, 3.0, -2.0, 1.0)
    by_hand = Value(1.0, (x, y, x), "f")  # micrograd's way: the closure knows the derivatives
    assert by_hand.children == (x, y, x) and by_hand.local_grads is None
    product._backward = lambda: None  # a closure assigned to an op's node takes over
    assert product.children == (x, y) and product.local_grads is None


def test_replaced_local_grads_are_the_ones_the_sweep_uses():
    x, y = Value(3.0), Value(-2.0)
    out = x * y
    out.local_grads = (10.0, 20.0)
    out.backward()
    assert (x.grad, y.grad) == (10.0, 20.0)
    with pytest.raises(ValueError, match="3 numbers for a node of 2 children"):
        out.local_grads = (1.0, 2.0, 3.0)
    assert out.local_grads == (10.0, 20.0)


def test_grads_are_plain_floats_after_a_sweep_even_where_nothing_reached_them():
    a, b = Value(2.0), Value(5.0)
    node = Value(1.0, (a,), "f")  # no closure: it passes nothing on to a
    (node * b).backward()
    assert all(type(v.grad) is float for v in (a, b, node))
    assert (a.grad, b.grad, node.grad) == (0.0, 1.0, 5.0)  # d(node*b)/db = node, d/dnode = b


def test_sweep_order_leaves_every_grad_as_it_was():
    x, y = Value(3.0), Value(-2.0)
    out = (x * y + x).tanh()
    x.grad, y.grad = 0, 1.5  # an int zero stays an int zero
    interior, leaves = sweep_order(out)
    assert [n.op for n in interior] == ["tanh", "+", "*"] and set(leaves) == {x, y}
    assert (type(x.grad), x.grad, y.grad, out.grad) == (int, 0, 1.5, 0.0)


@pytest.mark.parametrize("op", [None, 3, b"+", len])
def test_an_op_that_is_not_a_str_is_refused_by_name(op):
    with pytest.raises(TypeError, match=type(op).__name__):
        Value(1.0, (Value(2.0),), op)
    node = Value(1.0) * 2.0
    with pytest.raises(TypeError, match="must be a str"):
        node.op = op
    assert node.op == "*"


def test_a_label_and_a_closure_given_at_once_in_two_threads_both_stay():
    # Both go into the node's one record of rare attributes: neither may be lost.
    import threading

    nodes = [Value(float(k), (Value(1.0),), "f") for k in range(20_000)]
    closures = [lambda: None for _ in nodes]
    start = threading.Barrier(2)

    def name_them() -> None:
        start.wait()
        for k, node in enumerate(nodes):
            node.label = f"n{k}"

    def give_closures() -> None:
        start.wait()
        for node, closure in zip(nodes, closures):
            node._backward = closure

    threads = [threading.Thread(target=name_them), threading.Thread(target=give_closures)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(switch)
    assert all(node.label == f"n{k}" for k, node in enumerate(nodes))
    assert all(node._backward is closure for node, closure in zip(nodes, closures))
    assert all(node.op == "f" for node in nodes)
