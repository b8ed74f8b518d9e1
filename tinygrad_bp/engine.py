"""The scalar engine: ``Value``, one number in a computation graph.

Every operation returns a new ``Value`` that records its operands
(``children``) and, computed in the same step as its data, the local
derivative d(out)/d(child) for each operand (``local_grads``). ``backward()``
then applies the chain rule once per edge, from the root down::

    child.grad += d(out)/d(child) * out.grad

A superset of micrograd's ``Value``: its constructor ``Value(data, _children,
_op)``, its private names ``_prev``, ``_op`` and ``_backward``, and ops written
its way (a closure assigned to ``out._backward``) work too, so micrograd's
notebooks and lecture exercises run unchanged.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Union

import numpy as np

from .graph import backpropagate, mode

Number = int | float | np.number
Operand = Union["Value", int, float, np.number]  # noqa: UP007 (a forward reference)


class Value:
    """A scalar node of a computation graph, with its gradient.

    ``Value(data, _children=(), _op="", *, label="")``: the positional order is
    micrograd's, so ``Value(x, (a, b), "+")`` builds a node by hand, as its lecture
    does; such a node's local derivatives are unknown to us, and gradient flows
    through it only by the closure the user assigns to ``out._backward``.

    Attributes:
        data: the number (float).
        grad: d(root)/d(self) accumulated by ``backward()`` calls (starts at 0.0).
        children: the operands this value was computed from, in operand order.
        local_grads: d(self)/d(child) for each child, computed in the forward pass
            (None for a node built by hand, whose derivatives only its closure knows).
        op: the operation that produced it ("" for a leaf).
        label: a name for pictures and tables.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a            # c = ab + a
    >>> c.backward()
    >>> c.data, a.grad, b.grad   # dc/da = b + 1, dc/db = a
    (-4.0, -2.0, 2.0)
    """

    __slots__ = (
        *("data", "grad", "children", "local_grads", "op", "label"),
        *("_pending", "_origin", "_user_backward"),
    )
    data: float
    grad: float
    children: tuple[Value, ...]
    local_grads: tuple[float, ...] | None
    op: str
    label: str
    _pending: float
    _origin: str | None
    _user_backward: Callable[[], None] | None

    # numpy defers to our reflected operators: np.float64(2) * Value(3) is a Value.
    __array_ufunc__ = None
    _EMPTY = 0.0  # the empty gradient: grad before any backward, _pending between sweeps

    def __init__(
        self, data: Number, _children: Iterable[Value] = (), _op: str = "", *, label: str = ""
    ) -> None:
        children = _checked_children(_children)
        self.data = data if type(data) is float else to_float(data)
        self.grad = 0.0
        self.label = label
        self.op = _op
        self._pending = 0.0
        self._origin = None
        recorded = bool(children) and (mode.plain or mode.thread.grad_enabled)
        self.children = children if recorded else ()
        self.local_grads = None if recorded else ()
        self._user_backward = _no_closure if recorded else None
        if not mode.plain and mode.thread.forward_hook is not None:
            mode.thread.forward_hook(self, self.data, children)

    # -- primitives: data and local derivatives together ------------------------

    def __add__(self, other: Operand) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Operand) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent: Operand) -> Value:
        """a ** b; d/da = b a^(b-1) (0 for b = 0), d/db = a^b ln a (see _exponent_slope)."""
        if isinstance(exponent, Value):
            a, b = self.data, exponent.data
            out = _power(a, b)
            slopes = (_power_slope(a, b), _exponent_slope(a, b, out))
            return _node(out, (self, exponent), slopes, "**")
        b = to_float(exponent)
        local = _power_slope(self.data, b)
        return _node(_power(self.data, b), (self,), (local,), f"**{exponent}")

    def __rpow__(self, base: Number) -> Value:
        return Value(base) ** self  # base ** self

    def exp(self) -> Value:
        """e^x; d/dx = e^x (the output itself)."""
        out = _exp(self.data)
        return _node(out, (self,), (out,), "exp")

    def log(self) -> Value:
        """Natural log; d/dx = 1/x. ValueError for x <= 0."""
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number: {self.data!r}")
        return _node(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self) -> Value:
        """tanh(x); d/dx = 1 - tanh(x)^2."""
        out = math.tanh(self.data)
        return _node(out, (self,), (1.0 - out * out,), "tanh")

    def sigmoid(self) -> Value:
        """g(x) = 1 / (1 + e^-x); d/dx = g(x)(1 - g(x)), the derivation's o(1 - o)."""
        out = _sigmoid(self.data)
        return _node(out, (self,), (out * (1.0 - out),), "sigmoid")

    def relu(self) -> Value:
        """max(0, x); d/dx = 1 for x > 0, else 0 (0 at the kink)."""
        positive = self.data > 0
        return _node(self.data if positive else 0.0, (self,), (float(positive),), "relu")

    def abs(self) -> Value:
        """|x|; d/dx = sign(x) (0 at 0)."""
        x = self.data
        sign = 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
        return _node(abs(x), (self,), (sign,), "abs")

    def step(self) -> Value:
        """The perceptron's threshold: 1.0 if x > 0 else 0.0; gradient 0 everywhere."""
        return _node(1.0 if self.data > 0 else 0.0, (self,), (0.0,), "step")

    # -- composites (micrograd's spelling) -----------------------------------------

    def __neg__(self) -> Value:  # -self
        return self * -1.0

    def __sub__(self, other: Operand) -> Value:  # self - other
        return self + (-other)

    def __truediv__(self, other: Operand) -> Value:  # self * other^-1
        other = other if isinstance(other, Value) else Value(other)
        return self * other**-1

    def __radd__(self, other: Number) -> Value:  # other + self
        return self + other

    def __rmul__(self, other: Number) -> Value:  # other * self
        return self * other

    def __rsub__(self, other: Number) -> Value:  # other - self
        return Value(other) + (-self)

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        return Value(other) * self**-1

    # -- backward ------------------------------------------------------------------

    def backward(self) -> None:
        """Add d(self)/d(node) to the ``grad`` of every node this value depends on.

        Gradients accumulate: a second call without zeroing doubles every grad.
        Inside ``no_grad()`` it still runs on a graph recorded outside the block,
        as in PyTorch; a value computed inside the block is a leaf, so only its
        own grad changes.
        """
        backpropagate(self, 1.0)

    def _propagate(self) -> None:
        """One step of the reverse sweep (see ``graph.backpropagate``)."""
        upstream = self._pending
        self._pending = 0.0
        self.grad += upstream
        local_grads = self.local_grads
        if local_grads is None:  # built by hand: only the user's closure knows its derivatives
            self._propagate_by_closure(upstream)
            return
        if not mode.plain and mode.thread.backward_hook is not None:
            mode.thread.backward_hook(self, tuple(local * upstream for local in local_grads))
        for child, local in zip(self.children, local_grads):
            child._pending += local * upstream  # the chain rule

    def _propagate_by_closure(self, upstream: float) -> None:
        """The sweep's step for a node built by hand: run the user's ``_backward`` closure.

        A micrograd closure adds ``local * out.grad`` to each ``child.grad``. So that
        it sends exactly this sweep's gradient, and no grad is counted twice, it runs
        with ``self.grad`` set to the upstream gradient and each child's grad to 0;
        what it leaves in a child's grad is what it sends. Then every grad is put back.
        """
        children = dict.fromkeys(self.children)  # each child once, in operand order
        saved = [(node, node.grad) for node in (self, *children)]
        self.grad = upstream
        for child in children:
            child.grad = 0.0
        closure = self._user_backward or _no_closure
        try:
            closure()
            sent = {child: to_float(child.grad) for child in children}
        finally:
            for node, grad in saved:
                node.grad = grad
        if not mode.plain and mode.thread.backward_hook is not None:
            mode.thread.backward_hook(self, tuple(sent[child] for child in self.children))
        for child, gradient in sent.items():
            child._pending += gradient

    # -- micrograd compatibility ----------------------------------------------------

    @property
    def _prev(self) -> set[Value]:
        return set(self.children)

    @property
    def _op(self) -> str:
        return self.op

    @property
    def _backward(self) -> Callable[[], None]:
        """Apply this node's local chain rule once, as micrograd's closure does.

        Assigning a closure (micrograd's way of writing an op) makes ``backward()``
        call it for this node, once, when the node's gradient is complete.
        """
        return self._user_backward or self._apply_local_chain_rule

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        if not callable(closure):
            raise TypeError(f"_backward must be callable, got {type(closure).__name__}")
        self._user_backward = closure
        self.local_grads = None  # the closure now says what the derivatives are

    def _apply_local_chain_rule(self) -> None:
        for child, local in zip(self.children, self.local_grads or ()):
            child.grad += local * self.grad

    # -- display -------------------------------------------------------------------

    def __repr__(self) -> str:
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data:.6g}, grad={self.grad:.6g})"

    def _repr_svg_(self) -> str | None:
        """Jupyter shows the computation graph; plain ``repr`` is unchanged."""
        from .viz import repr_svg  # imported on use: viz sits above the engines

        return repr_svg(self)

    def __float__(self) -> float:
        return self.data


_new_value = object.__new__


def _node(
    data: float, children: tuple[Value, ...], local_grads: tuple[float, ...], op: str
) -> Value:
    """The result of one of our operations: its data and its local derivatives.

    Builds the Value directly (no argument checks: only our own ops call it), and
    records the graph only when grad mode is on.
    """
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = op
    out._pending = 0.0
    out._origin = None
    out._user_backward = None
    if mode.plain:  # no thread has switched grad off or installed an observer: record
        out.children = children
        out.local_grads = local_grads
        return out
    if mode.thread.grad_enabled:
        out.children = children
        out.local_grads = local_grads
    else:
        out.children = out.local_grads = ()
    if mode.thread.forward_hook is not None:
        mode.thread.forward_hook(out, data, children)
    return out


def _no_closure() -> None:
    """The ``_backward`` of a node built by hand before its closure is assigned (micrograd's)."""


def _checked_children(children: Iterable[Value]) -> tuple[Value, ...]:
    """``_children`` as a tuple of Values; TypeError naming anything else."""
    if isinstance(children, (str, bytes)) or not isinstance(children, Iterable):
        raise TypeError(
            f"Value(data, _children, _op): _children must be a tuple of Values, got "
            f"{type(children).__name__} {children!r:.40} (the label is keyword-only: label=...)"
        )
    children = tuple(children)
    for child in children:
        if not isinstance(child, Value):
            raise TypeError(f"Value: each child must be a Value, got {type(child).__name__}")
    return children


def weighted_sum(weights: Sequence[Value], inputs: Sequence[Value], bias: Value) -> Value:
    """z = sum_i w_i x_i + b as ONE node: dz/dw_i = x_i, dz/dx_i = w_i, dz/db = 1.

    This is the neuron's net input of the derivation, recorded as a single node so
    that graphs stay small and the local derivatives are the derivation's own.

    >>> w, x = [Value(0.3), Value(0.4)], [Value(0.777), Value(0.759)]
    >>> z = weighted_sum(w, x, Value(1.0))
    >>> round(z.data, 4), len(z.children)
    (1.5367, 5)
    """
    if len(weights) != len(inputs):
        raise ValueError(f"weighted_sum: {len(weights)} weights but {len(inputs)} inputs")
    w_data = [w.data for w in weights]
    x_data = [x.data for x in inputs]
    z = sum(map(float.__mul__, w_data, x_data), bias.data)
    return _node(z, (*weights, *inputs, bias), (*x_data, *w_data, 1.0), "w·x+b")


# -- numeric helpers ---------------------------------------------------------------


def to_float(data: object) -> float:
    """Convert a real number (Python or numpy) to float; TypeError for anything else.

    >>> to_float(3), to_float(np.float32(0.5)), to_float(True)
    (3.0, 0.5, 1.0)
    """
    if isinstance(data, (numbers.Real, np.bool_)) and not isinstance(data, np.timedelta64):
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308
            raise ValueError(f"Value: {data!r:.60} is too large for a float") from None
    if isinstance(data, np.ndarray) and data.ndim == 0 and data.dtype.kind in "biuf":
        return float(data)
    raise TypeError(f"Value needs a real number, got {type(data).__name__}: {data!r:.60}")


def _power(base: float, exponent: float) -> float:
    """base ** exponent with IEEE results where Python raises or goes complex.

    (-8) ** 0.5 is nan (not complex), 0 ** -1 is inf, 10 ** 400 is inf.
    """
    try:
        return math.pow(base, exponent)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(base), np.float64(exponent)))


def _power_slope(base: float, exponent: float) -> float:
    """d/d base of base ** exponent = exponent * base ** (exponent - 1).

    0 where the exponent is 0 (x ** 0 = 1 is constant), also at base 0, where the
    formula would give 0 * inf = nan; PyTorch gives 0 too.
    """
    return 0.0 if exponent == 0 else exponent * _power(base, exponent - 1)


def _exponent_slope(base: float, exponent: float, out: float) -> float:
    """d/d exponent of base ** exponent = out ln(base), with PyTorch's results at the edges.

    At base 0 it is 0 for an exponent >= 0 (there 0 ** b is the constant 0 or 1) and
    -inf for a negative one (out = inf times ln 0 = -inf); nan for a negative base.
    """
    if base > 0:
        return out * math.log(base)
    if base == 0:
        return 0.0 if exponent >= 0 else -math.inf
    return math.nan


def _exp(x: float) -> float:
    """e ** x, inf instead of OverflowError for large x."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x) without overflow: sigmoid(-1000) is 0.0, sigmoid(1000) is 1.0."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
