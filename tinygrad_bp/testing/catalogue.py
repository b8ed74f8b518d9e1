"""The op catalogue: every op the tests and the grader check, with its oracle.

One row per op: its name, the formula as printed, the op as any engine computes
it (``ours``: operators and methods, so that one function serves our ``Value``,
our ``Tensor`` and a student's class), the reference on Python floats, the
reference on numpy arrays where it differs, and the arguments with the domain
each is drawn from (away from kinks and poles, where central differences would
be wrong). ``check_engine`` grades the rows marked ``graded`` (``OPS``, in
the order of its report); the test suite runs every row that applies to scalars
on ``Value`` and every row that applies to tensors on ``Tensor``, forward
against the reference and backward against central differences of it.

>>> op = op_named("tanh")
>>> op.formula, op.reference(0.0), [arg.name for arg in op.args]
('a.tanh()', 0.0, ['a'])
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = ["CATALOGUE", "OPS", "Arg", "OpCheck", "op_named"]


@dataclass(frozen=True)
class Arg:
    """One argument of an op: drawn from [low, high], ``margin`` away from ``kink``.

    Attributes:
        name: its name in the formula.
        low: the smallest value drawn.
        high: the largest value drawn.
        is_value: True for an engine value (differentiated), False for a plain number.
        kink: a point where the op is not differentiable (or has a pole), or a
            tuple of them (clip's two bounds); draws stay ``margin`` away from each.
        margin: how far from the kink draws stay.
    """

    name: str
    low: float
    high: float
    is_value: bool = True
    kink: float | tuple[float, ...] | None = None
    margin: float = 1e-3

    def strategy(self) -> st.SearchStrategy[float]:
        """Floats in [low, high], away from the kink if there is one.

        >>> Arg("a", 0.1, 5.0).strategy()
        floats(min_value=0.1, max_value=5.0, allow_nan=False, allow_infinity=False)
        """
        floats = st.floats(self.low, self.high, allow_nan=False, allow_infinity=False)
        if self.kink is None:
            return floats
        return floats.filter(self.is_clear)

    def is_clear(self, x: float) -> bool:
        """Whether x is more than ``margin`` away from the kink (always, without one).

        >>> Arg("a", -5.0, 5.0, kink=0.0).is_clear(1e-4)
        False
        """
        kinks = () if self.kink is None else np.atleast_1d(self.kink)
        return all(abs(x - kink) > self.margin for kink in kinks)


def _call_with_numbers(
    function: Callable[..., Any], args: tuple[Arg, ...], numbers: tuple[float, ...], *values: Any
) -> Any:
    """``function`` on the values and numbers, each put back in its argument's place."""
    values_left, numbers_left = iter(values), iter(numbers)
    return function(*(next(values_left) if arg.is_value else next(numbers_left) for arg in args))


@dataclass(frozen=True)
class OpCheck:
    """One row of the op catalogue.

    Attributes:
        name: the row's name (a test id, a row of the grader's report).
        formula: the formula as printed (c and p are plain numbers).
        ours: computes it on engine values or tensors (operators and methods).
        reference: computes it on Python floats: the oracle.
        args: the arguments, in call order.
        on_arrays: the reference on numpy arrays, when ``reference`` does not take them.
        graded: whether ``check_engine`` grades this row.
        scalar: whether it applies to scalar engines (``Value``).
        tensor: whether it applies to ``Tensor`` (elementwise, broadcasting its values).
        min_dims: the fewest dimensions a tensor operand needs.
    """

    name: str
    formula: str
    ours: Callable[..., Any]
    reference: Callable[..., Any]
    args: tuple[Arg, ...]
    on_arrays: Callable[..., Any] | None = None
    graded: bool = False
    scalar: bool = True
    tensor: bool = True
    min_dims: int = 0

    @property
    def numpy_reference(self) -> Callable[..., Any]:
        """The reference that takes numpy arrays."""
        return self.reference if self.on_arrays is None else self.on_arrays

    @property
    def values(self) -> tuple[Arg, ...]:
        """The arguments that are engine values."""
        return tuple(arg for arg in self.args if arg.is_value)

    @property
    def numbers(self) -> tuple[Arg, ...]:
        """The arguments that are plain numbers."""
        return tuple(arg for arg in self.args if not arg.is_value)

    def points(self) -> st.SearchStrategy[tuple[float, ...]]:
        """One float per argument, each from its domain."""
        return st.tuples(*(arg.strategy() for arg in self.args))

    def with_numbers(
        self, function: Callable[..., Any], numbers: Sequence[float]
    ) -> Callable[..., Any]:
        """``function`` (``ours`` or a reference) as a function of the values alone.

        >>> rsub = op_named("rsub")
        >>> rsub.with_numbers(rsub.reference, [3.0])(1.0)   # c - a with c = 3
        2.0
        """
        return partial(_call_with_numbers, function, self.args, tuple(numbers))


# -- the ops as any engine computes them, and their references ----------------------------


def _method(name: str, x: Any) -> Any:
    """``x.name()``: a method of an engine value or tensor."""
    return getattr(x, name)()


def _exp(x: float) -> float:
    """e^x, inf instead of OverflowError."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _relu(x: float) -> float:
    """max(0, x)."""
    return x if x > 0 else 0.0


def _sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x), through the identity (1 + tanh(x/2)) / 2 (no overflow)."""
    tanh = math.tanh if isinstance(x, float) else np.tanh
    return 0.5 * (1.0 + tanh(0.5 * x))


def _array_relu(a: np.ndarray) -> np.ndarray:
    """max(0, a) elementwise."""
    return np.maximum(a, 0.0)


def _operand_twice(a: Any) -> Any:
    """a * a + (a + a): a is both operands of a product and of a sum; d/da = 2a + 2.

    An engine that sets ``grad =`` instead of adding (``grad +=``) in either op
    keeps only one of the contributions.
    """
    return a * a + (a + a)


def _reused_across_branches(a: Any, b: Any) -> Any:
    """h = a * b feeds two branches that meet again: (h + a) * (h + b)."""
    h = a * b
    return (h + a) * (h + b)


def _square(a: Any) -> Any:
    """a ** 2."""
    return a**2


def _cube(a: Any) -> Any:
    """a ** 3."""
    return a**3


def _sqrt(a: Any) -> Any:
    """a ** 0.5."""
    return a**0.5


def _pow_2_5(a: Any) -> Any:
    """a ** 2.5."""
    return a**2.5


def _reciprocal(a: Any) -> Any:
    """1 / a, with the int 1 on the left."""
    return 1 / a


def _sum(a: Any) -> Any:
    """The sum of every element."""
    return a.sum()


def _mean(a: Any) -> Any:
    """The mean of every element."""
    return a.mean()


def _transpose(a: Any) -> Any:
    """The axes reversed."""
    return a.T


def _flatten(a: Any) -> Any:
    """One axis, in C order."""
    return a.reshape(-1)


def _clip(a: Any) -> Any:
    """a clipped to [-1, 1.5]."""
    return a.clip(-1.0, 1.5)


def _clamp_min(a: Any) -> Any:
    """a clamped from below at 0.5 (PyTorch's spelling)."""
    return a.clamp(min=0.5)


def _clip_hi(a: Any) -> Any:
    """a clipped from above at 0.5."""
    return a.clip(hi=0.5)


def _unsqueeze(a: Any) -> Any:
    """A new leading axis of size 1."""
    return a.unsqueeze(0)


def _expand(a: Any) -> Any:
    """Two copies along a new leading axis (a broadcast, no copy)."""
    return a.expand(2, *a.shape)


def _same_dtype(a: Any) -> Any:
    """``astype`` to the dtype it already has: the values pass through."""
    return a.astype(a.dtype)


def _array_clip(a: Any, lo: float | None, hi: float | None) -> Any:
    """numpy's clip, for the references."""
    return np.clip(a, lo, hi)


def _array_expand(a: np.ndarray) -> np.ndarray:
    return np.broadcast_to(a, (2, *np.shape(a)))


def _softmax(a: np.ndarray) -> np.ndarray:
    """e^a / sum e^a along the last axis (shifted by the maximum, which cancels)."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(a: np.ndarray) -> np.ndarray:
    """log(softmax(a)) along the last axis."""
    return np.log(_softmax(a))


_A, _B = Arg("a", -5.0, 5.0), Arg("b", -5.0, 5.0)
_C = Arg("c", -5.0, 5.0, is_value=False)
_POSITIVE = Arg("a", 0.2, 5.0)
_NONZERO_A = Arg("a", -5.0, 5.0, kink=0.0, margin=0.2)  # 1/a: its pole avoided
_NONZERO_B = Arg("b", -5.0, 5.0, kink=0.0, margin=0.2)
_KINKED = Arg("a", -5.0, 5.0, kink=0.0)  # relu and abs: their kink avoided
_graded = partial(OpCheck, graded=True)

CATALOGUE: tuple[OpCheck, ...] = (
    # graded by check_engine, in the order of its report
    _graded("add", "a + b", operator.add, operator.add, (_A, _B)),
    _graded("sub", "a - b", operator.sub, operator.sub, (_A, _B)),
    _graded("mul", "a * b", operator.mul, operator.mul, (_A, _B)),
    _graded("div", "a / b", operator.truediv, operator.truediv, (_A, _NONZERO_B)),
    _graded("pow", "a ** p", operator.pow, operator.pow,
            (_POSITIVE, Arg("p", -2.0, 2.0, is_value=False))),
    _graded("neg", "-a", operator.neg, operator.neg, (_A,)),
    _graded("radd", "c + a", operator.add, operator.add, (_C, _A)),
    _graded("rmul", "c * a", operator.mul, operator.mul, (_C, _A)),
    _graded("rsub", "c - a", operator.sub, operator.sub, (_C, _A)),
    _graded("rdiv", "c / a", operator.truediv, operator.truediv, (_C, _NONZERO_A)),
    _graded("relu", "a.relu()", partial(_method, "relu"), _relu, (_KINKED,),
            on_arrays=_array_relu),
    _graded("tanh", "a.tanh()", partial(_method, "tanh"), math.tanh, (_A,), on_arrays=np.tanh),
    _graded("exp", "a.exp()", partial(_method, "exp"), _exp, (_A,), on_arrays=np.exp),
    _graded("sigmoid", "a.sigmoid()", partial(_method, "sigmoid"), _sigmoid,
            (Arg("a", -8.0, 8.0),)),
    _graded("log", "a.log()", partial(_method, "log"), math.log, (Arg("a", 0.1, 5.0),),
            on_arrays=np.log),
    _graded("abs", "a.abs()", partial(_method, "abs"), abs, (_KINKED,), on_arrays=np.abs),
    _graded("accumulation", "a * a + (a + a)", _operand_twice, _operand_twice, (_A,)),
    _graded("branch_reuse", "(h + a) * (h + b) with h = a * b", _reused_across_branches,
            _reused_across_branches, (_A, _B)),
    # the tests' further cases: other exponents and constants, and the tensor-only ops
    OpCheck("pow_values", "a ** b", operator.pow, operator.pow,
            (Arg("a", 0.2, 3.0), Arg("b", -3.0, 3.0))),
    OpCheck("square", "a ** 2", _square, _square, (_A,)),
    OpCheck("cube", "a ** 3", _cube, _cube, (Arg("a", -3.0, 3.0),)),
    OpCheck("pow_half", "a ** 0.5", _sqrt, _sqrt, (Arg("a", 0.1, 5.0),)),
    OpCheck("pow_2_5", "a ** 2.5", _pow_2_5, _pow_2_5, (Arg("a", 0.2, 3.0),)),
    OpCheck("rpow", "c ** a", operator.pow, operator.pow,
            (Arg("c", 0.5, 3.0, is_value=False), Arg("a", -3.0, 3.0))),
    OpCheck("div_number", "a / c", operator.truediv, operator.truediv,
            (_A, Arg("c", -5.0, 5.0, is_value=False, kink=0.0, margin=0.5))),
    OpCheck("reciprocal", "1 / a", _reciprocal, _reciprocal, (_NONZERO_A,)),
    OpCheck("sum", "a.sum()", _sum, np.sum, (_A,), scalar=False),
    OpCheck("mean", "a.mean()", _mean, np.mean, (_A,), scalar=False),
    OpCheck("T", "a.T", _transpose, np.transpose, (_A,), scalar=False),
    OpCheck("reshape", "a.reshape(-1)", _flatten, np.ravel, (_A,), scalar=False),
    OpCheck("softmax", "a.softmax()", partial(_method, "softmax"), _softmax, (_A,),
            scalar=False, min_dims=1),
    OpCheck("log_softmax", "a.log_softmax()", partial(_method, "log_softmax"), _log_softmax,
            (_A,), scalar=False, min_dims=1),
    OpCheck("sqrt", "a.sqrt()", partial(_method, "sqrt"), np.sqrt, (Arg("a", 0.1, 5.0),),
            scalar=False),
    OpCheck("clip", "a.clip(-1, 1.5)", _clip, partial(_array_clip, lo=-1.0, hi=1.5),
            (Arg("a", -5.0, 5.0, kink=(-1.0, 1.5)),), scalar=False),
    OpCheck("clamp_min", "a.clamp(min=0.5)", _clamp_min, partial(_array_clip, lo=0.5, hi=None),
            (Arg("a", -5.0, 5.0, kink=0.5),), scalar=False),
    OpCheck("clip_hi", "a.clip(hi=0.5)", _clip_hi, partial(_array_clip, lo=None, hi=0.5),
            (Arg("a", -5.0, 5.0, kink=0.5),), scalar=False),
    OpCheck("var", "a.var()", partial(_method, "var"), np.var, (_A,), scalar=False),
    OpCheck("squeeze", "a.squeeze()", partial(_method, "squeeze"), np.squeeze, (_A,),
            scalar=False),
    OpCheck("unsqueeze", "a.unsqueeze(0)", _unsqueeze, partial(np.expand_dims, axis=0), (_A,),
            scalar=False),
    OpCheck("flatten", "a.flatten()", partial(_method, "flatten"), np.ravel, (_A,),
            scalar=False),
    OpCheck("expand", "a.expand(2, *a.shape)", _expand, _array_expand, (_A,), scalar=False),
    OpCheck("astype", "a.astype(a.dtype)", _same_dtype, np.asarray, (_A,), scalar=False),
)  # fmt: skip

# The rows check_engine grades, in the order of its report.
OPS: tuple[OpCheck, ...] = tuple(op for op in CATALOGUE if op.graded)


def op_named(name: str) -> OpCheck:
    """The catalogue's row called ``name``.

    Raises:
        KeyError: no row has that name (the message lists them).
    """
    for op in CATALOGUE:
        if op.name == name:
            return op
    raise KeyError(f"no op named {name!r}; the catalogue has {[op.name for op in CATALOGUE]}")
