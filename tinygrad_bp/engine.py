"""The scalar engine: ``Value``, one number in a computation graph.

Every operation returns a new ``Value`` that records its operands
(``children``) and, computed in the same step as its data, the local
derivative d(out)/d(child) for each operand (``local_grads``). ``backward()``
then applies the chain rule once per edge, from the root down::

    child.grad += d(out)/d(child) * out.grad

Each op's rule is written once, in ``RULES`` below: its forward formula and its
local derivatives, as expressions over the operands' numbers ``x``, ``y`` (``c``
for a number exponent) and the result ``out``. Three readers use that one table:

- the op methods (``__add__``, ``tanh``, ...), made from the rules when this
  module is imported: each is the straight-line code one would write by hand
  (``out = tanh(x)``, ``local_grads = (1.0 - out * out,)``), with the node built
  inline, so an op costs one Python call (their source is in ``OP_SOURCE``);
- ``tracing.scalar``, which prints the same expressions into a compiled step;
- ``differentiable_local_grads``, which evaluates them on Values, so that a
  gradient can itself be differentiated (``grad(..., create_graph=True)``).

Why compiled rather than interpreted: an op that looked its rule up and
evaluated it at run time would pay a dictionary lookup and an ``eval`` per node,
and an op that called a shared node builder paid two Python calls per node
instead of one; the compiled methods are the code one would write by hand, so
the table costs the eager engine nothing.

The reverse sweep (``backward``) visits the nodes with children by decreasing
creation number (``sweep_order``), each after all its consumers, and runs
micrograd's loop ``child.grad += local * node.grad`` over them.

A superset of micrograd's ``Value``: its constructor ``Value(data, _children,
_op)``, its private names ``_prev``, ``_op`` and ``_backward``, and ops written
its way (a closure assigned to ``out._backward``) work too, so micrograd's
notebooks and lecture exercises run unchanged.
"""

from __future__ import annotations

import ast
import itertools
import linecache
import math
import numbers
import operator
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import numpy as np

from .graph import collector_paused, mode, toposort
from .validate import holds_reals

Number = int | float | np.number
Operand = Union["Value", int, float, np.number]  # noqa: UP007 (a forward reference)


class Rule(NamedTuple):
    """One op: ``out = forward`` and d(out)/d(operand) for each operand, as Python expressions.

    The names in the expressions: ``x`` and ``y`` the operands' numbers, ``c`` a
    number exponent, ``w``, ``x``, ``b`` the weighted sum's weights, inputs and bias,
    ``out`` the result, and the functions of ``FUNCTIONS``. ``constant``: the local
    derivatives are constant between kinks (relu, abs, step), so the second
    derivative is 0 and ``differentiable_local_grads`` gives them as constants.
    """

    forward: str
    local_grads: tuple[str, ...]
    constant: bool = False


# The derivative rules, each written once.
#   op          forward (out = ...)           d(out)/dx, d(out)/dy
RULES: dict[str, Rule] = {
    "+": Rule("x + y", ("1.0", "1.0")),
    "*": Rule("x * y", ("y", "x")),
    "**": Rule("power(x, y)", ("power_slope(x, y)", "exponent_slope(x, y, out)")),
    "**c": Rule("power(x, c)", ("power_slope(x, c)",)),  # a number exponent c
    "exp": Rule("exp(x)", ("out",)),
    "log": Rule("log(x)", ("1.0 / x",)),
    "tanh": Rule("tanh(x)", ("1.0 - out * out",)),
    "sigmoid": Rule("sigmoid(x)", ("out * (1.0 - out)",)),  # the derivation's o(1 - o)
    "relu": Rule("x if x > 0 else 0.0", ("1.0 if x > 0 else 0.0",), constant=True),
    "abs": Rule("abs(x)", ("sign(x)",), constant=True),
    "step": Rule("1.0 if x > 0 else 0.0", ("0.0",), constant=True),
    # z = sum_i w_i x_i + b: dz/dw_i = x_i, dz/dx_i = w_i, dz/db = 1
    "w·x+b": Rule("sum(map(mul, w, x), b)", ("x", "w", "1.0")),
}


# -- the functions the rules call, on numbers ---------------------------------------


def to_float(data: object) -> float:
    """Convert a real number (Python or numpy) to float; TypeError for anything else.

    >>> to_float(3), to_float(np.float32(0.5)), to_float(True)
    (3.0, 0.5, 1.0)
    """
    if type(data) is int or (  # ints first: sum() starts every sum at 0
        isinstance(data, (numbers.Real, np.bool_)) and not isinstance(data, np.timedelta64)
    ):
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308
            raise ValueError(f"Value: {data!r:.60} is too large for a float") from None
    if isinstance(data, np.ndarray) and data.ndim == 0 and holds_reals(data.dtype):
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


def _log(x: float) -> float:
    """ln x; ValueError for x <= 0."""
    if x <= 0:
        raise ValueError(f"log of a non-positive number: {x!r}")
    return math.log(x)


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x) without overflow: sigmoid(-1000) is 0.0, sigmoid(1000) is 1.0."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x: float) -> float:
    """d|x|/dx: 1 for x > 0, -1 for x < 0, 0 at 0."""
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


# The names the rules use, on numbers: the op methods and the compiled step call these.
FUNCTIONS: dict[str, Any] = {
    "power": _power,
    "power_slope": _power_slope,
    "exponent_slope": _exponent_slope,
    "exp": _exp,
    "log": _log,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "sign": _sign,
    "mul": operator.mul,
}


# The marker in ``_b`` of a node whose ``_a`` is the tuple of its operands (more than two).
_MANY: Any = object()
# Creation numbers: a node outnumbers its children. Floats, exact up to 2**53 nodes: a
# float takes 24 bytes where an int past 256 takes 32.
_next_number = itertools.count(0.0).__next__


class Value:
    """A scalar node of a computation graph, with its gradient.

    ``Value(data, _children=(), _op="", *, label="")``: the positional order is
    micrograd's, so ``Value(x, (a, b), "+")`` builds a node by hand, as its lecture
    does; such a node's local derivatives are unknown to us, and gradient flows
    through it only by the closure the user assigns to ``out._backward``.

    Attributes:
        data: the number (float).
        grad: d(root)/d(self) accumulated by ``backward()`` calls (starts at
            ``empty_grad``, 0.0).
        children: the operands this value was computed from, in operand order.
        local_grads: d(self)/d(child) for each child, computed in the forward pass
            (None for a node built by hand, whose derivatives only its closure knows).
        op: the operation that produced it ("" for a leaf); its rule is ``RULES[op]``
            (``RULES["**c"]`` for ``**2``, ``**-1``, ...).
        label: a name for pictures and tables.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a            # c = ab + a
    >>> c.backward()
    >>> c.data, a.grad, b.grad   # dc/da = b + 1, dc/db = a
    (-4.0, -2.0, 2.0)
    """

    # Each slot is paid by every node. The operands and their local derivatives sit in
    # slots, not in tuples: a node is then ONE object for the cyclic garbage collector
    # to count and scan instead of three (node, children tuple, local-grads tuple), and
    # the collector is most of the forward pass's time (docs/performance.md). A node
    # with one operand holds it in ``_a`` (``_b`` None), a node with two in ``_a`` and
    # ``_b``, their local derivatives in ``_da`` and ``_db``; a node with more operands
    # (a weighted sum, a node built by hand) holds the tuples ``children`` in ``_a`` and
    # ``local_grads`` in ``_da``, with ``_b`` the marker ``_MANY``; a leaf has ``_a`` and
    # ``_b`` None. ``children`` and ``local_grads`` are read from these (properties).
    # What few nodes have (a label, a micrograd closure, anomaly mode's origin) has no
    # slot of its own: ``_made_by`` holds the op's name, and for those few nodes a
    # ``_Rare`` record of the op and these attributes instead. Each slot is 8 bytes of
    # every node; a ``__dict__`` slot cost a node 32 (tracemalloc on a microgpt graph:
    # 177 -> 145 bytes per node without it, in CPython 3.11).
    __slots__ = ("data", "grad", "_a", "_b", "_da", "_db", "_made_by", "_created")
    data: float
    grad: float
    _a: Any  # the operand, or the tuple of operands (``_b is _MANY``), or None (a leaf)
    _b: Any  # the second operand, _MANY, or None
    _da: Any  # d(self)/d(_a), or the tuple of local derivatives (None: built by hand)
    _db: float  # d(self)/d(_b)
    _made_by: str | _Rare  # the op ("" for a leaf), or the record of a node with rare attributes
    _created: float  # a node with children: its creation number, larger than its children's

    # numpy defers to our reflected operators: np.float64(2) * Value(3) is a Value.
    __array_ufunc__ = None
    empty_grad = 0.0  # the gradient before any backward (the node protocol's empty gradient)

    def __init__(
        self, data: Number, _children: Iterable[Value] = (), _op: str = "", *, label: str = ""
    ) -> None:
        self.data = data if type(data) is float else to_float(data)
        self.grad = 0.0
        self._made_by = _op if type(_op) is str else _checked_op(_op)
        if label:
            self.label = label
        operands: tuple[Value, ...] = ()
        self._a = self._b = None  # a leaf: the common case, no checks
        if type(_children) is not tuple or _children:
            operands = _checked_children(_children)
            if operands and (mode.plain or mode.thread.grad_enabled):
                # built by hand: only the closure assigned to _backward knows the derivatives
                self._a, self._b, self._da = operands, _MANY, None
                self._created = _next_number()
        if not mode.plain and mode.thread.forward_hook is not None:
            mode.thread.forward_hook(self, self.data, operands)

    # -- the primitives: made from RULES below the class ---------------------------------

    if TYPE_CHECKING:  # declared here for type checkers; see OP_SOURCE for their code

        def __add__(self, other: Operand) -> Value: ...
        def __mul__(self, other: Operand) -> Value: ...
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def tanh(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def relu(self) -> Value: ...
        def abs(self) -> Value: ...
        def step(self) -> Value: ...
        def _power_of_value(self, exponent: Value) -> Value: ...
        def _power_of_number(self, c: float, op: str) -> Value: ...
        def __radd__(self, other: Number) -> Value: ...  # other + self = self + other
        def __rmul__(self, other: Number) -> Value: ...  # other * self = self * other

    def __pow__(self, exponent: Operand) -> Value:
        """a ** b; d/da = b a^(b-1) (0 for b = 0), d/db = a^b ln a (see _exponent_slope)."""
        if isinstance(exponent, Value):
            return self._power_of_value(exponent)
        if type(exponent) is float:  # "**-1.0", "**0.5"
            op = _POWER_OPS.get(exponent) or _power_op(exponent, _POWER_OPS)
            return self._power_of_number(exponent, op)
        if type(exponent) is int:  # "**2", "**-1" (a division)
            op = _INT_POWER_OPS.get(exponent) or _power_op(exponent, _INT_POWER_OPS)
            return self._power_of_number(to_float(exponent), op)
        c = to_float(exponent)
        exact = type(exponent) is int  # "**2"; else the float's repr: the op names c exactly
        return self._power_of_number(c, f"**{exponent}" if exact else f"**{c!r}")

    def __rpow__(self, base: Number) -> Value:
        return Value(base) ** self  # base ** self

    # -- composites (micrograd's spelling) -----------------------------------------

    def __neg__(self) -> Value:  # -self
        return self * -1.0

    def __sub__(self, other: Operand) -> Value:  # self - other
        return self + (-other)

    def __truediv__(self, other: Operand) -> Value:  # self * other^-1
        other = other if isinstance(other, Value) else _constant(other)
        return self * other**-1

    def __rsub__(self, other: Number) -> Value:  # other - self
        return _constant(other) + (-self)

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        return _constant(other) * self**-1

    # -- backward ------------------------------------------------------------------

    def backward(self) -> None:
        """Add d(self)/d(node) to the ``grad`` of every node this value depends on.

        Gradients accumulate: a second call without zeroing doubles every grad.
        Inside ``no_grad()`` it still runs on a graph recorded outside the block,
        as in PyTorch; a value computed inside the block is a leaf, so only its
        own grad changes.
        """
        _backpropagate(self, 1.0)

    def _sweep_order(self) -> tuple[list[Value], list[Value]]:
        """The order of ``graph.backward_order`` for Values: ``sweep_order``."""
        return sweep_order(self)

    def _sweep(self, seed: float) -> None:
        """The reverse sweep seeded with d(root)/d(self) = seed (``graph.backpropagate``)."""
        _backpropagate(self, seed)

    # -- the op and the rare attributes (see ``_made_by``) ---------------------------

    @property
    def op(self) -> str:
        """The operation that produced this value ("" for a leaf); its rule is ``RULES[op]``."""
        made_by = self._made_by
        return made_by if isinstance(made_by, str) else made_by.op

    @op.setter
    def op(self, op: str) -> None:
        op = _checked_op(op)
        with _RARE_LOCK:
            made_by = self._made_by
            if isinstance(made_by, str):
                self._made_by = op
            else:
                made_by.op = op

    def _rare(self) -> _Rare:
        """This node's record of rare attributes, made on first use.

        Under a lock: two threads giving a node its first rare attributes at once
        would otherwise each make a record, and one of the two would be lost.
        """
        with _RARE_LOCK:
            made_by = self._made_by
            if isinstance(made_by, str):
                made_by = self._made_by = _Rare(made_by)
            return made_by

    @property
    def label(self) -> str:
        """A name for pictures and tables ("" if none)."""
        made_by = self._made_by
        return "" if isinstance(made_by, str) else made_by.label

    @label.setter
    def label(self, label: str) -> None:
        self._rare().label = label

    @property
    def _origin(self) -> str | None:
        """Where anomaly mode saw this node made (``file:line``), or None."""
        made_by = self._made_by
        return None if isinstance(made_by, str) else made_by.origin

    @_origin.setter
    def _origin(self, origin: str | None) -> None:
        self._rare().origin = origin

    @property
    def _user_backward(self) -> Callable[[], None] | None:
        """The micrograd closure assigned to ``_backward``, or None."""
        made_by = self._made_by
        return None if isinstance(made_by, str) else made_by.user_backward

    @_user_backward.setter
    def _user_backward(self, closure: Callable[[], None] | None) -> None:
        self._rare().user_backward = closure

    # -- the node protocol: the operands and their local derivatives -----------------

    @property
    def children(self) -> tuple[Value, ...]:
        """The operands this value was computed from, in operand order (``()`` for a leaf)."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        return a if b is _MANY else (a, b)

    @property
    def local_grads(self) -> tuple[float, ...] | None:
        """d(self)/d(child) for each of ``children`` (None for a node built by hand)."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (self._da,)
        return self._da if b is _MANY else (self._da, self._db)

    @local_grads.setter
    def local_grads(self, local_grads: Sequence[float]) -> None:
        """Replace the numbers of the local derivatives, one per child (``trace`` does)."""
        local_grads = tuple(local_grads)
        if len(local_grads) != len(self.children) or self.local_grads is None:
            raise ValueError(
                f"local_grads: {len(local_grads)} numbers for a node of "
                f"{len(self.children)} children (or built by hand, whose closure knows them)"
            )
        if self._b is _MANY:
            self._da = local_grads
        elif len(local_grads) == 1:
            (self._da,) = local_grads
        elif local_grads:
            self._da, self._db = local_grads

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
        if self._a is not None:  # the closure now says what the derivatives are
            self._a, self._b, self._da = self.children, _MANY, None

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


_RARE_LOCK = threading.Lock()  # taken only to make or rename a record (see ``Value._rare``)


class _Rare:
    """The op of a node that also has a label, a micrograd closure or an origin."""

    __slots__ = ("op", "label", "user_backward", "origin")

    def __init__(self, op: str) -> None:
        self.op = op
        self.label = ""
        self.user_backward: Callable[[], None] | None = None
        self.origin: str | None = None


# The ops of number exponents, made once each, not per node: "**-1.0", "**0.5", ... for
# floats, "**2", "**-1", ... for ints (apart: the dict would take -1 and -1.0 for one key).
_POWER_OPS: dict[float, str] = {}
_INT_POWER_OPS: dict[int, str] = {}


def _power_op(exponent: Any, ops: dict[Any, str]) -> str:
    """The op of ``x ** exponent``, kept in ``ops`` for the next node (up to 1,000 of them)."""
    op = f"**{exponent}"
    if len(ops) < 1000:
        ops[exponent] = op
    return op


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


def _checked_op(op: object) -> str:
    """The name of an op: a str (micrograd's ``_op``), else TypeError naming the type."""
    if not isinstance(op, str):
        raise TypeError(f"Value: the op must be a str, got {type(op).__name__} {op!r:.40}")
    return str(op)


def _constant(number: Number) -> Value:
    """A number operand made a leaf: ``Value(number)`` without the checks of ``_children``."""
    leaf = _new_value(Value)
    leaf.data = number if type(number) is float else to_float(number)
    leaf.grad = 0.0
    leaf._a = leaf._b = None
    leaf._made_by = ""
    if not mode.plain and mode.thread.forward_hook is not None:
        mode.thread.forward_hook(leaf, leaf.data, ())
    return leaf


_new_value = object.__new__


def _unrecorded(node: Value) -> None:
    """What an op does when ``mode.plain`` is off: honour no_grad, call the forward hook."""
    operands = node.children
    thread = mode.thread
    if not thread.grad_enabled:
        node._a = node._b = None
    if thread.forward_hook is not None:
        thread.forward_hook(node, node.data, operands)


# -- the op methods, made from RULES ---------------------------------------------------

# Each op as one would write it by hand for speed: read the operands' numbers,
# compute ``out`` and the local derivatives with the rule's expressions, and build
# the node in place (no further call). Only when a thread has switched grad off
# or installed an observer (``mode.plain`` False) does ``_unrecorded`` run.
_BUILD_NODE = """\
    node = new_value(Value)
    node.data = out
    node.grad = 0.0
{operands}    node._made_by = {op}
    node._created = next_number()
    if not mode.plain:
        unrecorded(node)
    return node
"""
_READS = {
    "unary": ("self", "    x = self.data\n"),
    "binary": (
        "self, other",
        "    if not isinstance(other, Value):\n        other = constant(other)\n"
        "    x = self.data\n    y = other.data\n",
    ),
    "exponent": ("self, c, op", "    x = self.data\n"),
    "weighted_sum": (
        "weights, inputs, bias",
        "    w = list(map(data_of, weights))\n    x = list(map(data_of, inputs))\n"
        "    b = bias.data\n",
    ),
}
# Where each kind of op puts its operands and their local derivatives (see the slots).
_OPERANDS = {
    "unary": "    node._a = self\n    node._b = None\n    node._da = {0}\n",
    "binary": "    node._a = self\n    node._b = other\n    node._da = {0}\n    node._db = {1}\n",
    "exponent": "    node._a = self\n    node._b = None\n    node._da = {0}\n",
    "weighted_sum": "    node._a = (*weights, *inputs, bias)\n    node._b = _MANY\n"
    "    node._da = (*{0}, *{1}, {2})\n",
}
#            op        kind            made as
_METHODS = {
    "+": ("binary", "__add__"),
    "*": ("binary", "__mul__"),
    "**": ("binary", "_power_of_value"),
    "**c": ("exponent", "_power_of_number"),
    "exp": ("unary", "exp"),
    "log": ("unary", "log"),
    "tanh": ("unary", "tanh"),
    "sigmoid": ("unary", "sigmoid"),
    "relu": ("unary", "relu"),
    "abs": ("unary", "abs"),
    "step": ("unary", "step"),
    "w·x+b": ("weighted_sum", "_weighted_sum"),
}


def _op_source(op: str) -> str:
    """The source of the method that computes ``op``, made from ``RULES[op]``."""
    rule, (kind, name) = RULES[op], _METHODS[op]
    arguments, reads = _READS[kind]
    build = _BUILD_NODE.format(
        operands=_OPERANDS[kind].format(*rule.local_grads),
        op="op" if kind == "exponent" else repr(op),
    )
    docstring = (
        f'    """out = {rule.forward}; d(out)/d(operands): {", ".join(rule.local_grads)}"""\n'
    )
    return f"def made({arguments}):  # {name}\n{docstring}{reads}    out = {rule.forward}\n{build}"


def _made_ops() -> dict[str, Callable[..., Value]]:
    """Every op's function, compiled from its source (kept in ``OP_SOURCE`` for readers).

    The code is filed under this module, every line at the rule's row of ``RULES``:
    a traceback through an op shows the rule it runs, and code that tells the
    engine's own frames from the user's (anomaly mode, ``trace``) sees an engine frame.
    """
    rows = _rule_rows()
    made: dict[str, Callable[..., Value]] = {}
    for op in RULES:
        namespace = {
            **FUNCTIONS,
            "Value": Value,
            "new_value": _new_value,
            "next_number": _next_number,
            "mode": mode,
            "unrecorded": _unrecorded,
            "_MANY": _MANY,
            "constant": _constant,
            "data_of": operator.attrgetter("data"),
        }
        tree = ast.parse(OP_SOURCE[op])
        for syntax in ast.walk(tree):
            if "lineno" in syntax._attributes:
                syntax.lineno = syntax.end_lineno = rows.get(op, 1)  # type: ignore[attr-defined]
        exec(compile(tree, __file__, "exec"), namespace)
        function = namespace["made"]  # not named after the op: ``exp`` calls FUNCTIONS' exp
        name = _METHODS[op][1]
        function.__name__, function.__qualname__ = name, f"Value.{name}"
        made[op] = function
    return made


def _rule_rows() -> dict[str, int]:
    """The line of each op's row in ``RULES`` in this file (none if the source is not at hand)."""
    source = linecache.getlines(__file__)
    start = next((i for i, line in enumerate(source) if line.startswith("RULES")), len(source))
    rows = {}
    for number, line in enumerate(source[start:], start=start + 1):
        op = line.strip().partition(": Rule(")[0].strip('"')
        if op in RULES and op not in rows:
            rows[op] = number
    return rows


OP_SOURCE: dict[str, str] = {op: _op_source(op) for op in RULES}
_OPS = _made_ops()
for _op, (_kind, _name) in _METHODS.items():
    if _kind != "weighted_sum":
        setattr(Value, _name, _OPS[_op])
# other + self is self + other (and * alike): the same method, not a second call to it
for _name, _reflected in (("__add__", "__radd__"), ("__mul__", "__rmul__")):
    setattr(Value, _reflected, getattr(Value, _name))


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
    return _OPS["w·x+b"](weights, inputs, bias)


# -- the reverse sweep -------------------------------------------------------------------


def sweep_order(root: Value, nodes: list[Value] | None = None) -> tuple[list[Value], list[Value]]:
    """The nodes below ``root``: those with children in the sweep's order, and the leaves.

    The order of ``backward()`` (decreasing creation number, see ``_reached``), read
    without writing anything: the walk is ``graph.toposort``'s, whose set of visited
    nodes leaves every ``grad`` alone, so it may run while another thread sweeps the
    same graph. (The sweep's own walk marks the grads, which it owns while it runs:
    two sweeps of graphs that share nodes must not overlap.)
    A caller that has walked the graph already passes ``nodes = toposort(root)``.

    >>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
    >>> c = a * b
    >>> d = c + a
    >>> interior, leaves = sweep_order(d)
    >>> [node.op for node in interior], [leaf.label for leaf in leaves]
    (['+', '*'], ['a', 'b'])
    """
    if nodes is None:
        nodes = toposort(root)
    interior = [node for node in nodes if node._a is not None]
    interior.sort(key=_creation_number, reverse=True)
    return interior, [node for node in nodes if node._a is None]


class _Mark(float):
    """0.0 as an object of its own, made afresh for each walk (see ``_reached``)."""

    __slots__ = ()


def _reached(root: Value) -> tuple[list, list, list]:
    """Every node below ``root``: those with children in sweep order, the leaves, and held grads.

    One walk collects the nodes reachable from ``root``; the nodes with children
    are then sorted by decreasing creation number ``_created``. A node is made
    after its children, so each comes after all of its consumers, and a sort in C
    costs far less than a second walk over the edges. The walk takes the last
    operand first, which for an expression (whose right operand is made after its
    left one) is already decreasing creation order, so the sort has little to do.

    The walk marks each node as it first reaches it, by setting its ``grad`` to this
    walk's own ``_Mark`` (equal to 0.0, identical to no other object): "reached?" is
    then one identity test, where a set of the nodes cost a hash insertion per node
    and its growth, and the sweep needs every grad at 0.0 anyway. A node is marked
    when it is pushed, so it is on the stack at most once: a weight read by many
    products is pushed once, not once per product. The (node, grad) pairs whose grad
    was nonzero before come back in ``held``. It reads the operands from the slots
    (see ``Value``).
    """
    mark = _Mark()
    held: list[tuple[Value, Any]] = []
    interior: list[Value] = []
    leaves: list[Value] = []
    grad = root.grad
    if grad:
        held.append((root, grad))
    root.grad = mark
    stack = [root]
    # The marking of an operand is written out for each slot it can come from: a call
    # or a loop over a tuple per edge would cost more than the marking itself.
    while stack:
        node = stack.pop()  # the last operand first: the order is then nearly sorted already
        a = node._a
        if a is None:
            leaves.append(node)
            continue
        interior.append(node)
        b = node._b
        if b is _MANY:
            for child in a:
                grad = child.grad
                if grad is not mark:
                    if grad:
                        held.append((child, grad))
                    child.grad = mark
                    stack.append(child)
            continue
        grad = a.grad
        if grad is not mark:
            if grad:
                held.append((a, grad))
            a.grad = mark
            stack.append(a)
        if b is not None:
            grad = b.grad
            if grad is not mark:
                if grad:
                    held.append((b, grad))
                b.grad = mark
                stack.append(b)
    interior.sort(key=_creation_number, reverse=True)
    return interior, leaves, held


_creation_number = operator.attrgetter("_created")


def _backpropagate(root: Value, seed: float) -> None:
    """The reverse sweep from ``root``: order, seed, one loop (HIPS autograd's shape).

    During the sweep each ``grad`` holds this sweep's gradient alone (the grads held
    before are set aside by the walk and added back at the end, so gradients
    accumulate as in PyTorch): the chain-rule loop is micrograd's, and a micrograd
    closure reads in ``self.grad`` exactly this sweep's gradient. The order is
    ``sweep_order``'s: nodes by decreasing creation number, each after all its consumers.
    If the sweep raises, every grad is put back as it was.
    """
    with collector_paused():
        interior, leaves, held = _reached(root)
        try:
            root.grad = seed
            hook = None if mode.plain else mode.thread.backward_hook
            if hook is None:
                _chain_rule(interior)
            else:
                _observed_chain_rule(interior, hook)
        except BaseException:
            for node in itertools.chain(interior, leaves):
                node.grad = 0.0
            for node, grad in held:
                node.grad = grad
            raise
        for node, grad in held:
            node.grad += grad


def _chain_rule(order: list[Value]) -> None:
    """child.grad += d(node)/d(child) * node.grad along every edge, nodes in ``order``.

    Read straight from the slots (see ``Value``): one operand, two, or a tuple.
    """
    for node in order:
        upstream = node.grad
        b = node._b
        if b is None:  # one operand
            node._a.grad += node._da * upstream  # the chain rule
        elif b is not _MANY:  # two operands
            node._a.grad += node._da * upstream
            b.grad += node._db * upstream
        elif node._da is None:  # built by hand: its own closure applies the chain rule
            _run_closure(node)
        else:
            for child, local in zip(node._a, node._da):
                child.grad += local * upstream


def _observed_chain_rule(order: list[Value], hook: Callable[[Any, tuple[Any, ...]], None]) -> None:
    """``_chain_rule``, telling ``hook(node, sent)`` what each node sends to its children."""
    for node in order:
        if node.local_grads is None:
            _observed_closure(node, hook)
            continue
        upstream = node.grad
        sent = tuple(local * upstream for local in node.local_grads)
        hook(node, sent)
        for child, gradient in zip(node.children, sent):
            child.grad += gradient


def _run_closure(node: Value) -> None:
    """A hand-built node's step: its micrograd closure adds local * node.grad to each child."""
    if node._user_backward is not None:
        node._user_backward()
    for child in node.children:  # a float, also where the closure wrote none (see _Mark)
        child.grad = to_float(child.grad)


def _observed_closure(node: Value, hook: Callable[[Any, tuple[Any, ...]], None]) -> None:
    """``_run_closure``, with what the closure sends to each child read apart for the hook."""
    children = dict.fromkeys(node.children)  # each child once, in operand order
    held = [child.grad for child in children]
    for child in children:
        child.grad = 0.0
    try:
        _run_closure(node)
        sent = {child: child.grad for child in children}
    finally:
        for child, grad in zip(children, held):
            child.grad = grad
    hook(node, tuple(sent[child] for child in node.children))
    for child, gradient in sent.items():
        child.grad += gradient


# -- derivatives that can be differentiated again ------------------------------------------


def _power_slope_of_values(base: Value, exponent: Value | float) -> Value:
    """b a^(b-1) as a Value, and the constant 0 where ``_power_slope`` gives 0 by convention."""
    b = exponent.data if isinstance(exponent, Value) else exponent
    if b == 0 and (base.data == 0 or not isinstance(exponent, Value)):
        return Value(0.0)
    return exponent * base ** (exponent - 1)


def _exponent_slope_of_values(base: Value, exponent: Value, out: Value) -> Value:
    """a^b ln a as a Value for a > 0; elsewhere ``_exponent_slope``'s constant."""
    if base.data > 0:
        return out * base.log()
    return Value(_exponent_slope(base.data, exponent.data, out.data))


# The functions the local derivatives call, on Values (the others appear only in forwards).
_ON_VALUES = {"power_slope": _power_slope_of_values, "exponent_slope": _exponent_slope_of_values}
_LOCAL_GRADS = {
    op: tuple(compile(g, f"<d {op}>", "eval") for g in rule.local_grads)
    for op, rule in RULES.items()
}


def rule_of(node: Value) -> tuple[str, float | None]:
    """The key of ``node``'s rule in ``RULES`` and its number exponent (None if it has none).

    >>> rule_of(Value(3.0) ** 2), rule_of(Value(3.0).tanh())
    (('**c', 2.0), ('tanh', None))
    """
    op = node.op
    if op.startswith("**") and op != "**":
        return "**c", float(op[2:])
    if op not in RULES:
        raise ValueError(f"no derivative rule for the {op!r} op")
    return op, None


def differentiable_local_grads(node: Value) -> tuple[Value, ...]:
    """d(node)/d(child) for each of ``node.children``, as Values that can be differentiated.

    The local derivatives of ``RULES``, the expressions the eager op computed as
    numbers, evaluated on Values: over ``node.children`` and over ``node`` itself
    where the rule is written with the output (exp' = out, tanh' = 1 - out^2,
    sigmoid' = out(1 - out)), so that a second backward pass goes through them.
    Where a rule's derivatives are constant between kinks (relu, abs, step) they
    are constant Values, as are the conventions at the edges of ``**`` (see
    ``_power_slope``). A leaf has none: ``()``.

    Raises ValueError for a node built by hand (micrograd-style, ``local_grads``
    None): only its closure knows its derivatives.

    >>> x = Value(0.5)
    >>> y = x.tanh()
    >>> (slope,) = differentiable_local_grads(y)   # 1 - tanh(x)^2, a Value of x
    >>> slope.backward()
    >>> round(slope.data, 6), round(x.grad, 6)     # d/dx (1 - tanh^2) = -2 tanh (1 - tanh^2)
    (0.786448, -0.726862)
    """
    if node.local_grads is None:
        raise ValueError(
            f"differentiable_local_grads: the {node.op!r} node was built by hand; "
            "only its _backward closure knows its derivatives"
        )
    if not node.children:
        return ()
    op, exponent = rule_of(node)
    children = node.children
    if op == "w·x+b":  # per element: d/dw_i reads x_i, d/dx_i reads w_i
        n = (len(children) - 1) // 2
        d_weight, d_input, d_bias = _LOCAL_GRADS[op]
        pairs = [{"w": w, "x": x} for w, x in zip(children[:n], children[n : 2 * n])]
        return (
            *(_evaluated(d_weight, pair, False) for pair in pairs),
            *(_evaluated(d_input, pair, False) for pair in pairs),
            _evaluated(d_bias, {}, False),
        )
    names: dict[str, Any] = {"x": children[0], "y": children[-1], "out": node, "c": exponent}
    constant = RULES[op].constant
    return tuple(_evaluated(local, names, constant) for local in _LOCAL_GRADS[op])


def _evaluated(local: Any, names: dict[str, Any], constant: bool) -> Value:
    """A local derivative's expression evaluated on Values (on their data if ``constant``)."""
    if constant:
        numbers = {name: getattr(v, "data", v) for name, v in names.items()}
        return Value(eval(local, FUNCTIONS, numbers))
    result = eval(local, {**FUNCTIONS, **_ON_VALUES}, names)
    return result if isinstance(result, Value) else Value(result)
