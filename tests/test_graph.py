"""The shared graph walk, reverse sweep and grad mode, on minimal nodes of our own."""

import gc

import pytest

from tinygrad_bp.graph import backpropagate, mode, no_grad, toposort


class Node:
    """The graph protocol at its smallest: children, grad, and a local chain rule."""

    _EMPTY = 0.0

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
