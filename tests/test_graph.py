"""The shared graph walk, reverse sweep and grad mode, on minimal nodes of our own."""

import gc
import sys
import threading

import pytest
from hypothesis import given
from threads import held_in_another_thread

from tinygrad_bp import Value
from tinygrad_bp.engine import sweep_order
from tinygrad_bp.graph import (
    backpropagate,
    backward_order,
    collector_paused,
    mode,
    no_grad,
    observing,
    toposort,
)
from tinygrad_bp.testing import programs


class Node:
    """The graph protocol at its smallest: children, grad, and a local chain rule."""

    empty_grad = 0.0

    def __init__(self, name, *children, local=()):
        self.name, self.children, self.local = name, children, local
        self.grad, self._pending = 0.0, 0.0

    def _propagate(self):
        upstream, self._pending = self._pending, 0.0
        self.grad += upstream
        for child, derivative in zip(self.children, self.local):
            child._pending += derivative * upstream


def test_toposort_puts_every_node_after_its_children_and_each_once():
    a = Node("a")
    b = Node("b", a, a)
    c = Node("c", a, b)
    d = Node("d", c, b)
    order = toposort(d)
    names = [n.name for n in order]
    assert sorted(names) == ["a", "b", "c", "d"] and names[-1] == "d"
    position = {n.name: i for i, n in enumerate(order)}
    for node in order:
        assert all(position[child.name] < position[node.name] for child in node.children)


def test_toposort_of_a_deep_chain_needs_no_recursion():
    node = Node("x0")
    for i in range(200_000):
        node = Node(f"x{i + 1}", node)
    order = toposort(node)
    assert len(order) == 200_001 and order[0].name == "x0"


def test_backpropagate_applies_the_chain_rule_and_accumulates():
    # d = 3c + 2b, c = 5a, b = 7a  =>  dd/da = 3*5 + 2*7 = 29
    a = Node("a")
    b = Node("b", a, local=(7.0,))
    c = Node("c", a, local=(5.0,))
    d = Node("d", c, b, local=(3.0, 2.0))
    backpropagate(d, 1.0)
    assert (a.grad, b.grad, c.grad, d.grad) == (29.0, 2.0, 3.0, 1.0)
    backpropagate(d, 1.0)
    assert a.grad == 58.0  # a second sweep adds the same again


def test_a_sweep_that_raises_changes_no_grad_and_leaves_nothing_pending():
    class Failing(Node):
        def _propagate(self):
            raise FloatingPointError("stop")

    a = Node("a")
    broken = Failing("broken", a, local=(1.0,))
    top = Node("top", broken, a, local=(1.0, 1.0))
    a.grad = 5.0
    with pytest.raises(FloatingPointError):
        backpropagate(top, 1.0)
    assert (a.grad, broken.grad, top.grad) == (5.0, 0.0, 0.0)
    assert all(n._pending == 0.0 for n in (a, broken, top))


def test_backpropagate_restores_the_garbage_collector_state():
    was_enabled = gc.isenabled()
    try:
        gc.disable()
        backpropagate(Node("x"), 1.0)
        assert not gc.isenabled()
        gc.enable()
        backpropagate(Node("x"), 1.0)
        assert gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_no_grad_switches_recording_off_and_restores_it_even_on_error():
    assert mode.grad_enabled
    with pytest.raises(RuntimeError), no_grad():
        assert not mode.grad_enabled
        with no_grad():
            assert not mode.grad_enabled
        assert not mode.grad_enabled  # nested blocks restore the outer state
        raise RuntimeError
    assert mode.grad_enabled


def test_backward_order_takes_each_node_after_all_its_consumers_layer_by_layer():
    # top uses mid1 and mid2, both use leaf; mid2 also uses mid1
    leaf = Node("leaf")
    mid1 = Node("mid1", leaf)
    mid2 = Node("mid2", mid1, leaf)
    top = Node("top", mid1, mid2)
    names = [node.name for node in backward_order(top)]
    assert names == ["top", "mid2", "mid1", "leaf"]
    assert toposort(top)[-1] is top and set(toposort(top)) == set(backward_order(top))


def test_backward_order_of_a_deep_chain_needs_no_recursion():
    node = Node("x0")
    for i in range(200_000):
        node = Node(f"x{i + 1}", node)
    order = backward_order(node)
    assert len(order) == 200_001 and order[-1].name == "x0"


def run_in_thread(target):
    """Run ``target`` in a new thread and return what it returned (re-raising its error)."""
    result = {}

    def body():
        try:
            result["value"] = target()
        except BaseException as error:  # handed back to the caller's thread
            result["error"] = error

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_overlapping_no_grad_blocks_in_two_threads_leave_recording_on():
    # The audit's scenario: B enters while A is inside, A leaves first, then B.
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()

    def thread_a():
        with no_grad():
            a_inside.set()
            b_inside.wait(10)
        a_left.set()

    def thread_b():
        a_inside.wait(10)
        with no_grad():
            b_inside.set()
            a_left.wait(10)

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    x = Value(3.0)
    y = x * x
    y.backward()
    assert x.grad == 6.0 and mode.grad_enabled


def test_no_grad_in_another_thread_does_not_stop_recording_here():
    with held_in_another_thread(no_grad):
        x = Value(2.0)
        y = x * x  # recorded: this thread's mode is untouched
        assert y.children == (x, x)


def test_a_new_thread_starts_with_recording_on_and_no_observers():
    with no_grad(), observing(forward=lambda node, value, operands: None):
        state = run_in_thread(lambda: (mode.grad_enabled, mode.forward_hook, mode.backward_hook))
        assert not mode.grad_enabled and mode.forward_hook is not None
    assert state == (True, None, None)


def test_observers_chain_and_are_restored():
    seen = []
    with observing(forward=lambda node, value, operands: seen.append(("outer", value))):
        with observing(forward=lambda node, value, operands: seen.append(("inner", value))):
            Value(1.0)
        Value(2.0)
    Value(3.0)
    assert seen == [("outer", 1.0), ("inner", 1.0), ("outer", 2.0)]
    assert mode.forward_hook is None and mode.backward_hook is None


# -- the Value sweep's order: creation numbers ------------------------------------------------


@given(programs())
def test_the_value_order_puts_every_node_after_all_its_consumers(program):
    xs = [Value(x) for x in program.inputs]
    root = program.output(*xs)
    order = backward_order(root)
    position = {node: i for i, node in enumerate(order)}
    assert order[0] is root and len(position) == len(order) == len(toposort(root))
    for node in order:
        assert all(position[child] > position[node] for child in node.children)
    interior, leaves = sweep_order(root)
    assert [n for n in order if n.children] == interior
    assert set(leaves) == {n for n in order if not n.children}


def test_the_value_order_of_a_network_is_layer_by_layer():
    from tinygrad_bp.nn import MLP

    net = MLP(3, [4, 2], rng=0)
    out = sum(net([1.0, -2.0, 0.5]))
    position = {node: i for i, node in enumerate(backward_order(out))}
    output_layer, hidden_layer = net.layers[1].parameters(), net.layers[0].parameters()
    assert max(position[w] for w in output_layer) < min(position[w] for w in hidden_layer)


def test_a_value_sweep_seeded_through_backpropagate_scales_every_grad():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1 = 7
    backpropagate(y, 2.0)
    assert (x.grad, y.grad) == (14.0, 2.0)


def test_two_threads_pausing_the_collector_leave_it_as_it_was():
    # The interleaving that used to leave it off for good: A pauses, B pauses (and so
    # sees it off), A resumes, B resumes.
    assert gc.isenabled()
    a_paused, b_paused, a_done = threading.Event(), threading.Event(), threading.Event()

    def first():
        with collector_paused():
            a_paused.set()
            b_paused.wait(10)
        a_done.set()

    def second():
        a_paused.wait(10)
        with collector_paused():
            b_paused.set()
            a_done.wait(10)
            assert not gc.isenabled()  # still paused for this thread's sweep

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    [thread.start() for thread in threads]
    [thread.join(20) for thread in threads]
    assert gc.isenabled()


def test_the_value_order_writes_no_grad_while_another_thread_reads_them():
    # backward_order (trace, the step-through and grad read it) may run while another
    # thread uses the same graph: it must not write a grad, not even for a moment.
    x = [Value(0.1 * i) for i in range(50)]
    total = x[0]
    for _ in range(40):
        total = total + sum(xi * xi for xi in x).tanh()
    nodes = toposort(total)
    for node in nodes:
        node.grad = 0.5
    seen_other = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen_other.extend(node.grad for node in nodes if node.grad != 0.5)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # let the watcher run in the middle of each walk
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(20):
            backward_order(total)
    finally:
        done.set()
        watcher.join(timeout=30)
        sys.setswitchinterval(switch)
    assert not watcher.is_alive()
    assert seen_other == []
    assert all(node.grad == 0.5 for node in nodes)
