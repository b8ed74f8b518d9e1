"""What both engines share: the graph walk, the reverse sweep and the grad mode.

A node is any object with a ``children`` tuple (the operands it was computed
from) that hashes and compares by identity (``object``'s own ``__hash__`` and
``__eq__``: neither engine overrides them). Both engines (``Value`` and
``Tensor``) follow the same protocol, so one walk and one reverse sweep serve
both, and so do the pictures in ``viz`` and the checks in ``check``. This
module knows no numbers and no numpy.

Reverse mode in one paragraph: order the graph so that every node comes before
its children, seed the root with d(root)/d(root) = 1, then visit the nodes in
that order, from the root downwards. When a node is visited every consumer of it
has already been visited, so its upstream gradient is complete; the node adds it
to its ``grad`` and passes ``local derivative * upstream`` on to each child. That
last step is the chain rule, and it is all that backpropagation is.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

ForwardHook = Callable[[Any, Any, tuple[Any, ...]], None]
BackwardHook = Callable[[Any, tuple[Any, ...]], None]


def backward_order(root: Any) -> list[Any]:
    """Every node reachable from ``root``, root first, each before all its children.

    The order of the reverse sweep. For nodes whose class gives its own sweep order
    (``Value._sweep_order``: a node is numbered when it is made, after its children)
    the nodes with children come by decreasing creation number, and each leaf right after
    the last of its consumers. For one example through a network that is layer by
    layer: the output layer and its weights, then the hidden layer and its
    weights, the inputs last, the order in which the derivation computes its
    deltas. Other nodes (``Tensor``) get Kahn's order from the root, which agrees
    on such graphs: a node is taken once every consumer of it has been taken.
    No recursion: a chain of a million nodes is fine.

    >>> class Node:
    ...     def __init__(self, name, *children):
    ...         self.name, self.children = name, children
    >>> a = Node("a"); b = Node("b", a); c = Node("c", a, b)
    >>> [node.name for node in backward_order(c)]
    ['c', 'b', 'a']
    """
    sweep_order = getattr(type(root), "_sweep_order", None)
    if sweep_order is None:
        return _kahn_order(root)
    interior, leaves = sweep_order(root)
    if not interior:
        return leaves
    last_consumer = {}
    for node in interior:  # the last consumer of a leaf in the order wins
        for child in node.children:
            if not child.children:
                last_consumer[child] = node
    order = []
    for node in interior:
        order.append(node)
        for child in node.children:
            if last_consumer.get(child) is node:
                order.append(child)
                del last_consumer[child]  # once, even when it is an operand twice
    return order


def _kahn_order(root: Any) -> list[Any]:
    """``backward_order`` for nodes without creation numbers: Kahn's algorithm from the root.

    Count each node's consumers, then take a node once every consumer of it has
    been taken (two loops over the edges).
    """
    consumers = {root: 0}  # node -> how many of its consumers are not yet taken
    counted = consumers.get
    stack = [root]
    while stack:
        for child in stack.pop().children:
            count = counted(child)
            if count is None:  # a node seen for the first time: walk below it too
                consumers[child] = 1
                stack.append(child)
            else:
                consumers[child] = count + 1
    order = [root]
    for node in order:  # the list grows while it is read: a first-in, first-out queue
        for child in node.children:
            left = consumers[child] - 1
            consumers[child] = left
            if left == 0:
                order.append(child)
    return order


def toposort(root: Any) -> list[Any]:
    """Every node reachable from ``root``, each after all its children: ``root`` last.

    The order in which the forward pass could have computed the nodes, operands
    left to right (pictures number their nodes by it). Iterative depth-first search
    with an explicit stack of ``(node, its children still to visit)``: a node goes
    down to its next unvisited child, and is appended once it has none left.

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

    An engine may run its whole sweep itself (``node._sweep(seed)``: ``Value`` does,
    on ``engine.sweep_order``). Otherwise the nodes keep the gradient flowing into them
    during this sweep in a ``_pending`` slot (empty value ``node.empty_grad``),
    apart from ``grad``, so that every call
    adds exactly d(root)/d(node) to ``node.grad`` whatever the grads already held:
    a second call without zeroing doubles them, as in PyTorch. The engine's
    ``_propagate()`` moves ``_pending`` into ``grad`` and applies the chain rule to
    the node's children.
    """
    own_sweep = getattr(root, "_sweep", None)
    if own_sweep is not None:
        own_sweep(seed)
        return
    order = backward_order(root)
    with collector_paused(), restored_on_error(order):
        try:
            root._pending = seed
            for node in order:
                node._propagate()
        except BaseException:
            for node in order:
                node._pending = node.empty_grad
            raise


class _Collector:
    """Who has paused Python's cyclic garbage collector, so that the last one resumes it.

    The collector is one switch for the whole process: two threads that each saved
    and restored it themselves could leave it off for good (the second saves "off"
    while the first has it paused). So the first pauser saves its state and the last
    one out restores it, under a lock.
    """

    lock = threading.Lock()
    pausers = 0
    was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, then restore it as it was.

    On a deep graph the sweep's many live objects set off collections that each
    traverse the whole graph, doubling the time of a 300,000-deep chain. A cycle
    made meanwhile is collected later. Safe to nest and to use from several threads.
    """
    with _Collector.lock:
        if _Collector.pausers == 0:
            _Collector.was_enabled = gc.isenabled()
            gc.disable()
        _Collector.pausers += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.pausers -= 1
            if _Collector.pausers == 0 and _Collector.was_enabled:
                gc.enable()


@contextlib.contextmanager
def restored_on_error(nodes: list[Any]) -> Iterator[list[Any]]:
    """Hold the ``nodes``' grads (the block gets the list); if the block raises, put them back.

    Anomaly mode or a user's closure may raise in the middle of a sweep. Grads
    are replaced, never written into, so keeping references is a snapshot.
    """
    held = [node.grad for node in nodes]
    try:
        yield held
    except BaseException:
        for node, grad in zip(nodes, held):
            node.grad = grad
        raise


class _ThreadMode(threading.local):
    """One thread's switches; each thread starts from these class defaults."""

    grad_enabled: bool = True
    forward_hook: ForwardHook | None = None
    backward_hook: BackwardHook | None = None
    tracer: Any = None  # while this thread traces a step: its recorder (tracing.recording)


class _Mode:
    """The switches every operation of both engines reads, one set per thread.

    Each thread has its own (``thread``), so a ``no_grad()`` or ``detect_anomaly()``
    block in one thread changes nothing in another, as in PyTorch:

    - ``grad_enabled``: whether operations record the graph (False inside
      ``no_grad()``).
    - ``forward_hook``: None, or ``hook(node, value, operands)`` called once for
      every new node, leaves included (``operands == ()``). ``operands`` are the
      nodes it was computed from even when the graph is not recorded (inside
      ``no_grad()``, or a tensor op none of whose operands requires grad).
    - ``backward_hook``: None, or ``hook(node, sent)`` called once per step of the
      reverse sweep of a node with children: ``sent`` holds the gradient sent to
      each of ``node.children`` (None for a tensor that does not require grad).

    Reading a thread-local costs several times a plain attribute, so the engines
    first read ``plain``: True while no block of any thread has changed a switch,
    when every thread records and nobody observes. Only otherwise do they consult
    their thread's own switches. ``plain`` is safe to read without a lock: a thread
    that changes its own switches clears it first and so always sees it cleared,
    and for every other thread the defaults it promises are still true.

    Hooks are installed by ``observing`` (anomaly mode, the step-through), which
    keeps imports flowing one way: the engines never import their observers.
    """

    __slots__ = ("plain", "thread", "_blocks", "_lock")

    def __init__(self) -> None:
        self.plain = True
        self.thread = _ThreadMode()
        self._blocks = 0  # blocks of all threads that are changing a switch now
        self._lock = threading.Lock()

    @property
    def grad_enabled(self) -> bool:
        return self.thread.grad_enabled

    @property
    def forward_hook(self) -> ForwardHook | None:
        return self.thread.forward_hook

    @property
    def backward_hook(self) -> BackwardHook | None:
        return self.thread.backward_hook

    @property
    def observed(self) -> bool:
        """Whether an observer (anomaly mode, a step-through) watches this thread."""
        return self.thread.forward_hook is not None or self.thread.backward_hook is not None

    @contextlib.contextmanager
    def changing(self) -> Iterator[_ThreadMode]:
        """A block that changes this thread's switches (and restores them itself)."""
        with self._lock:
            self._blocks += 1
            self.plain = False
        try:
            yield self.thread
        finally:
            with self._lock:
                self._blocks -= 1
                self.plain = self._blocks == 0


mode = _Mode()


@contextlib.contextmanager
def observing(
    forward: ForwardHook | None = None, backward: BackwardHook | None = None
) -> Iterator[None]:
    """Install observer hooks in this thread for the block, after any already there.

    Observers nest: the hooks installed by an outer block keep being called
    (anomaly mode keeps watching during a step-through), and each block restores
    the previous hooks on exit, even after an error.
    """
    with mode.changing() as thread:
        previous_forward, previous_backward = thread.forward_hook, thread.backward_hook
        thread.forward_hook = _chained(previous_forward, forward)
        thread.backward_hook = _chained(previous_backward, backward)
        try:
            yield
        finally:
            thread.forward_hook, thread.backward_hook = previous_forward, previous_backward


def _chained(first: Callable[..., None] | None, then: Callable[..., None] | None) -> Any:
    """One hook that calls ``first`` and then ``then`` (either may be None)."""
    if first is None or then is None:
        return then if first is None else first

    def both(*args: Any) -> None:
        first(*args)
        then(*args)

    return both


@contextlib.contextmanager
def tracing(tracer: Any) -> Iterator[None]:
    """Let ``tracer`` see, in this thread only, what the tensor engine makes in the block.

    The tensor engine tells it each primitive's instance and parameters
    (``tracer.applied``), the data each leaf was made from (``tracer.leaf``) and
    converts user data through it (``tracer.as_array``): what ``trace`` needs to
    replay a step, which the plain forward hook does not carry.
    """
    with mode.changing() as thread:
        previous = thread.tracer
        thread.tracer = tracer
        try:
            yield
        finally:
            thread.tracer = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager inside which no operation records the graph (in this thread).

    Results computed inside have no children and do not require grad, so they
    cost no memory for backward (use it for evaluation and weight updates).

    >>> from tinygrad_bp import Value
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.children
    ()
    """
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager inside which operations record the graph again (in this thread),
    even within ``no_grad()``, as PyTorch's ``torch.enable_grad``: what differentiates a
    gradient (``grad(..., create_graph=True)``, ``hvp``, ``hessian``) needs its graph.

    >>> from tinygrad_bp import Value
    >>> with no_grad(), enable_grad():
    ...     y = Value(2.0) * 3
    >>> len(y.children)
    2
    """
    return _grad_mode(True)


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    """This thread's grad mode set to ``enabled`` for the block, then put back."""
    with mode.changing() as thread:
        previous = thread.grad_enabled
        thread.grad_enabled = enabled
        try:
            yield
        finally:
            thread.grad_enabled = previous
