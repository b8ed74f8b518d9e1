"""What both engines share: the graph walk, the reverse sweep and the grad mode.

A node is any object with a ``children`` tuple (the operands it was computed
from) that hashes and compares by identity (``object``'s own ``__hash__`` and
``__eq__``: neither engine overrides them). Both engines (``Value`` and
``Tensor``) follow the same protocol, so one topological sort and one reverse
sweep serve both, and so do the pictures in ``viz`` and the checks in ``check``.
This module knows no numbers and no numpy.

Reverse mode in one paragraph: sort the graph so that every node comes after
its children, seed the root with d(root)/d(root) = 1, then visit the nodes from
the root downwards. When a node is visited every consumer of it has already
been visited, so its upstream gradient is complete; the node adds it to its
``grad`` and passes ``local derivative * upstream`` on to each child. That last
step is the chain rule, and it is all that backpropagation is.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any


def toposort(root: Any) -> list[Any]:
    """Return every node reachable from ``root``, each after all its children.

    Iterative depth-first search with an explicit stack of ``(node, its children
    still to visit)``, so a chain of a million nodes needs no Python recursion: a
    node goes down to its next unvisited child, and is appended to the order once
    it has none left. ``root`` comes last.

    The visited set holds the nodes themselves: the protocol requires identity
    hashing, which is what ``object`` gives, and a set of nodes is about twice as
    fast as a set of ``id(node)`` ints (no int object made per edge).

    >>> class Node:
    ...     def __init__(self, name, *children):
    ...         self.name, self.children = name, children
    >>> a = Node("a"); b = Node("b", a); c = Node("c", a, b)
    >>> [node.name for node in toposort(c)]
    ['a', 'b', 'c']
    """
    order: list[Any] = []
    visited = {root}
    stack = [(root, iter(root.children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child.children)))
                break
        else:  # every child is in the order: the node follows them
            stack.pop()
            order.append(node)
    return order


def backpropagate(root: Any, seed: Any) -> None:
    """Run the reverse sweep from ``root``, seeded with d(root)/d(root) = ``seed``.

    Each node keeps the gradient flowing into it during this sweep in its
    ``_pending`` slot (empty value ``node._EMPTY``), separate from ``grad``, so
    that every call adds exactly d(root)/d(node) to ``node.grad`` whatever the
    grads already held: a second call without zeroing doubles them, as in
    PyTorch. The engine's ``_propagate()`` moves ``_pending`` into ``grad`` (emptying
    it) and applies the chain rule to the node's children.

    A sweep that raises part-way (``detect_anomaly`` does) changes no grad.

    Python's cyclic garbage collector is paused meanwhile and then restored as
    it was (any cycle made meanwhile is collected later): on a deep graph the
    walk's stack of live tuples set off collections that each traversed the
    whole graph, doubling the time of a 300,000-deep chain.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        _sweep(root, seed)
    finally:
        if collecting:
            gc.enable()


def _sweep(root: Any, seed: Any) -> None:
    """The sweep itself; ``backpropagate`` pauses the collector around it."""
    order = toposort(root)
    # Grads are replaced, never written into, so keeping references is a snapshot.
    saved_grads = [node.grad for node in order]
    root._pending = seed
    try:
        for node in reversed(order):
            node._propagate()
    except BaseException:
        # An error (anomaly mode, a user hook) stopped the sweep: undo it entirely.
        for node, grad in zip(order, saved_grads):
            node._pending = node._EMPTY
            node.grad = grad
        raise


class _Mode:
    """Global switches read by every operation of both engines.

    ``grad_enabled``: whether operations record the graph (False inside
    ``no_grad()``). ``anomaly_hook``: None, or the function that
    ``check.detect_anomaly()`` installs to inspect every new node and every
    backward step (a hook keeps imports flowing one way: the engines never
    import ``check``).

    The hook is called as ``hook(node, phase, values, operands)``:

    - ``phase == "forward"``, once per new node, leaves included: ``values`` is
      ``(node's value,)`` and ``operands`` the nodes it was computed from, whether
      or not the graph was recorded (inside ``no_grad()``, or a tensor op none of
      whose operands requires grad, ``node.children`` is empty but ``operands``
      is not); ``()`` for a leaf.
    - ``phase == "backward"``, once per step of the reverse sweep of a node with
      children: ``values`` holds the gradient sent to each child (None for a
      tensor operand that does not require grad), ``operands`` is ``node.children``.

    The engines test ``mode.anomaly_hook is not None`` before building any of the
    arguments, so a mode without a hook costs one test per operation.
    """

    __slots__ = ("grad_enabled", "anomaly_hook")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly_hook: Any = None


mode = _Mode()


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context manager inside which no operation records the graph.

    Results computed inside have no children and do not require grad, so they
    cost no memory for backward (use it for evaluation and weight updates).

    >>> from tinygrad_bp import Value
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.children
    ()
    """
    previous = mode.grad_enabled
    mode.grad_enabled = False
    try:
        yield
    finally:
        mode.grad_enabled = previous
