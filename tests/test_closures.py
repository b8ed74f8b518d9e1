"""``grad`` through nodes built micrograd's way: their closures run on private stand-ins.

Oracles: central differences of the same function computed on plain floats. What
is checked besides the numbers: no ``.grad`` of the graph changes, even for a
moment (a second thread watches them, or sweeps the same graph with ``backward()``),
and the user's closure itself is left as it was.
"""

import contextlib
import functools
import math
import sys
import threading

import pytest
from user_ops import micrograd_relu, user_mul, user_sin

import tinygrad_bp as tbp
from tinygrad_bp import Value
from tinygrad_bp.graph import toposort

EPS = 1e-6
POINT = (0.7, -1.3)


def partial_derivative(f, point, index, eps=EPS):
    """df/dx_index at ``point`` by central differences, on plain floats."""
    plus, minus = list(point), list(point)
    plus[index] += eps
    minus[index] -= eps
    return (f(*plus) - f(*minus)) / (2 * eps)


def lecture_graph(a, b):
    """A loss through the lecture's hand-built ops and the engine's own, as (x, y, loss)."""
    x, y = Value(a, label="x"), Value(b, label="y")
    product = user_mul(user_sin(x * y), x.tanh())
    loss = product + micrograd_relu(y + 2.0) * x + (y**2).sigmoid() / x
    return x, y, loss


def lecture_function(a, b):
    return lecture_graph(a, b)[2].data


EXPECTED = [partial_derivative(lecture_function, POINT, i) for i in range(2)]


def right(gradients):
    return all(math.isclose(g, e, rel_tol=1e-6) for g, e in zip(gradients, EXPECTED, strict=True))


@pytest.fixture
def fast_switching():
    """Threads take turns every 10 microseconds, so that a race shows within a short run."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


@contextlib.contextmanager
def beside(work):
    """Run ``work(stop)`` in another thread while the block runs; it must end with the block."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_backward_in_another_thread_and_grad_both_get_the_right_gradients(fast_switching):
    x, y, loss = lecture_graph(*POINT)
    wrong, started, sweeps = [], threading.Event(), []

    def sweep(stop):
        while not stop.is_set():
            x.grad = y.grad = 0.0
            loss.backward()
            if not right([x.grad, y.grad]):
                wrong.append(("backward", x.grad, y.grad))
            sweeps.append(1)
            started.set()

    with beside(sweep):
        assert started.wait(30)
        for _ in range(1500):
            gradients = [g.data for g in tbp.grad(loss, [x, y])]
            if not right(gradients):
                wrong.append(("grad", *gradients))
    assert len(sweeps) > 1
    assert wrong == []


def test_grad_never_changes_a_grad_that_another_thread_watches(fast_switching):
    x, y, loss = lecture_graph(*POINT)
    nodes = toposort(loss)
    for number, node in enumerate(nodes):
        node.grad = 100.0 + number  # nonzero and distinct: a grad set aside or zeroed shows
    before = [node.grad for node in nodes]
    seen, looks = [], []

    def watch(stop):
        while not stop.is_set():
            now = [node.grad for node in nodes]
            if now != before:
                seen.append(now)
            looks.append(1)

    with beside(watch):
        for _ in range(1500):
            gradients = [g.data for g in tbp.grad(loss, [x, y])]
            assert right(gradients)
    assert len(looks) > 1
    assert seen == []
    assert [node.grad for node in nodes] == before


def test_grad_through_the_lecture_ops_equals_backward_to_the_last_bit():
    x, y, loss = lecture_graph(*POINT)
    gradients = [g.data for g in tbp.grad(loss, [x, y])]
    assert (x.grad, y.grad) == (0.0, 0.0)
    assert right(gradients)
    loss.backward()
    assert gradients == [x.grad, y.grad]


# -- every way a closure can hold its node and operands --------------------------------------


def held_in_cells(x, y):
    return user_mul(x, y)


def held_as_defaults(x, y):
    out = Value(x.data * y.data, (x, y), "*")

    def _backward(a=x, b=y, *, product=out):
        a.grad += b.data * product.grad
        b.grad += a.data * product.grad

    out._backward = _backward
    return out


GLOBAL_SOURCE = """
def _backward():
    x.grad += y.data * out.grad
    y.grad += x.data * out.grad
"""


def held_as_globals(x, y):
    out = Value(x.data * y.data, (x, y), "*")
    names = {"x": x, "y": y, "out": out}
    exec(GLOBAL_SOURCE, names)  # a module of its own, whose globals are the nodes
    out._backward = names["_backward"]
    return out


def held_in_a_list_and_a_dict(x, y):
    operands, result = [x, y], {"out": None}
    out = Value(x.data * y.data, (x, y), "*")
    result["out"] = out

    def _backward():
        for mine, other in zip(operands, reversed(operands)):
            mine.grad += other.data * result["out"].grad

    out._backward = _backward
    return out


def held_by_a_partial(x, y):
    out = Value(x.data * y.data, (x, y), "*")

    def rule(a, b, product):
        a.grad += b.data * product.grad
        b.grad += a.data * product.grad

    out._backward = functools.partial(rule, x, y, product=out)
    return out


def held_by_a_nested_function(x, y):
    out = Value(x.data * y.data, (x, y), "*")

    def to_x():
        x.grad += y.data * out.grad

    def _backward():
        to_x()
        y.grad += x.data * out.grad

    out._backward = _backward
    return out


def read_from_the_nodes_children(x, y):
    out = Value(x.data * y.data, (x, y), "*")

    def _backward():
        for operand in out._prev:  # d(xy)/dx = xy / x
            operand.grad += out.data / operand.data * out.grad

    out._backward = _backward
    return out


def held_by_a_bound_method(x, y):
    out = Value(x.data * y.data, (x, y), "*")

    def rule(product):
        x.grad += y.data * product.grad
        y.grad += x.data * product.grad

    out._backward = rule.__get__(out)  # a method bound to the node itself
    return out


PRODUCTS = [
    held_in_cells,
    held_as_defaults,
    held_as_globals,
    held_in_a_list_and_a_dict,
    held_by_a_partial,
    held_by_a_nested_function,
    read_from_the_nodes_children,
    held_by_a_bound_method,
]


def product_loss(build, a, b):
    x, y = Value(a), Value(b)
    return x, y, (build(x, y) * 0.5 + x).tanh()


def what_the_closure_holds(closure):
    """Every object the closure refers to, by identity, to see that none is replaced."""
    function = getattr(closure, "func", getattr(closure, "__func__", closure))
    cells = [cell.cell_contents for cell in function.__closure__ or ()]
    return [
        function.__code__,
        function.__globals__,
        function.__defaults__,
        function.__kwdefaults__,
        *cells,
        *getattr(closure, "args", ()),
        getattr(closure, "__self__", None),
    ]


@pytest.mark.parametrize("build", PRODUCTS, ids=lambda build: build.__name__)
def test_each_way_of_holding_the_nodes_is_redirected_to_the_stand_ins(build):
    x, y, loss = product_loss(build, *POINT)
    closure = loss.children[0].children[0].children[0]._backward  # tanh(0.5 * out + x)
    held = what_the_closure_holds(closure)
    nodes = toposort(loss)
    for node in nodes:
        node.grad = 7.0
    gradients = [g.data for g in tbp.grad(loss, [x, y])]
    expected = [
        partial_derivative(lambda a, b: math.tanh(0.5 * a * b + a), POINT, i) for i in range(2)
    ]
    assert gradients == pytest.approx(expected, rel=1e-6)
    assert all(node.grad == 7.0 for node in nodes)
    now = what_the_closure_holds(closure)
    assert all(new is old for new, old in zip(now, held, strict=True))


def test_an_operand_used_twice_receives_both_terms():
    x = Value(1.5)
    square = user_mul(x, x)  # micrograd's x * x: self and other are one node
    (slope,) = tbp.grad(square, x)
    assert slope.data == pytest.approx(partial_derivative(lambda a: a * a, [1.5], 0), rel=1e-6)
    assert x.grad == 0.0


def test_a_hand_built_node_without_a_closure_sends_nothing():
    x = Value(2.0)
    out = Value(x.data * 3, (x,), "*3")  # micrograd's default _backward does nothing
    assert tbp.grad(out, x)[0].data == 0.0
    out.backward()
    assert x.grad == 0.0


# -- closures that cannot be pointed at stand-ins are refused ---------------------------------


class Operands:
    def __init__(self, a, b):
        self.a, self.b = a, b


def through_an_object(x, y):
    out = Value(x.data * y.data, (x, y), "mul", label="held")
    operands = Operands(x, y)

    def _backward():
        operands.a.grad += operands.b.data * out.grad
        operands.b.grad += operands.a.data * out.grad

    out._backward = _backward
    return out


def writing_another_value(x, y):
    elsewhere = Value(5.0, label="elsewhere")
    out = Value(x.data * y.data, (x, y), "mul", label="held")

    def _backward():
        x.grad += y.data * out.grad
        y.grad += x.data * out.grad
        elsewhere.grad += 1.0

    out._backward = _backward
    return out


class Rule:
    def __init__(self, x, y, out):
        self.x, self.y, self.out = x, y, out

    def __call__(self):
        self.x.grad += self.y.data * self.out.grad
        self.y.grad += self.x.data * self.out.grad


def a_callable_object(x, y):
    out = Value(x.data * y.data, (x, y), "mul", label="held")
    out._backward = Rule(x, y, out)
    return out


def in_a_list_that_holds_itself(x, y):
    out = Value(x.data * y.data, (x, y), "mul", label="held")
    operands = [x, y]
    operands.append(operands)

    def _backward():
        operands[0].grad += operands[1].data * out.grad
        operands[1].grad += operands[0].data * out.grad

    out._backward = _backward
    return out


def nested_too_deep(x, y):
    out = Value(x.data * y.data, (x, y), "mul", label="held")
    box = [x, y]
    for _ in range(150):
        box = [box]

    def _backward():
        inner = box
        while len(inner) == 1:
            inner = inner[0]
        inner[0].grad += inner[1].data * out.grad
        inner[1].grad += inner[0].data * out.grad

    out._backward = _backward
    return out


REFUSED = {
    through_an_object: "through the attribute 'a' of an object of class Operands",
    writing_another_value: r"holds a Value \(labelled 'elsewhere', data 5\) that is not one",
    a_callable_object: "is a Rule object, not a function",
    in_a_list_that_holds_itself: "holds a list that contains itself and a node",
    nested_too_deep: "nested more than 100 levels deep",
}


@pytest.mark.parametrize("build", list(REFUSED), ids=lambda build: build.__name__)
def test_a_closure_reaching_the_nodes_another_way_is_refused_naming_the_node(build):
    x, y = Value(POINT[0]), Value(POINT[1])
    loss = build(x, y).tanh()
    nodes = toposort(loss)
    for node in nodes:
        node.grad = 7.0
    with pytest.raises(ValueError, match="closure of the 'mul' node labelled 'held'") as refusal:
        tbp.grad(loss, [x, y])
    assert refusal.match(REFUSED[build])
    assert all(node.grad == 7.0 for node in nodes)


def test_a_closure_that_raises_raises_from_grad_and_changes_no_grad():
    x = Value(0.5)
    out = Value(2 * x.data, (x,), "double")

    def _backward():
        x.grad += 2 * out.grad
        raise ArithmeticError("the user's own error")

    out._backward = _backward
    with pytest.raises(ArithmeticError, match="the user's own error"):
        tbp.grad(out, x)
    assert (x.grad, out.grad) == (0.0, 0.0)
