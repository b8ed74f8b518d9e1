"""Numbers and arrays that remember where they come from, while a step is traced.

``trace`` runs ``fn`` once. So that a replay can recompute everything ``fn``
computed from its inputs, the recorder hands ``fn`` its number arguments as
``TrackedFloat`` and its array arguments as ``TrackedArray``, and gives every
node made during the call data of these types too. Each carries an ``Expr``:
how it was computed from the arguments (``Arg(k)``: argument leaf k) and from
the nodes' data (``Data(node)``). Arithmetic on them, numpy functions and the
usual array methods give tracked results, so ``1 - y``, ``np.where(z.data >= 0,
1.0, 0.0)`` or ``y.astype(np.float32)`` become expressions the step evaluates
at each call. What cannot be followed becomes a **guard**: a comparison in
``fn``'s own code (``if x > 100``), ``bool()`` of an array, a number frozen by
``int()``, ``float()`` or ``round()``; the step checks at each call that it
comes out as it did when traced, and raises ValueError otherwise.

The builtins ``max`` and ``min`` over tracked numbers (microgpt's
``max(v.data for v in logits)``) are recognised as such (by the call that makes
their comparisons) and replayed as a max over the current data, not as guards.

Only the tracing thread makes these objects; the engines' own arithmetic on
them (a primitive's forward and backward, the reverse sweep) gives plain
results, and the engines' own comparisons (``relu``'s ``x > 0``) are their
definitions, not guards.
"""

from __future__ import annotations

import builtins
import dis
import linecache
import math
import operator
import re
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import engine as engine_module
from .. import functions as functions_module
from .. import graph as graph_module
from .. import tensor as tensor_module


class TraceError(ValueError):
    """A function (or a call) the traced step cannot replay exactly."""


# -- expressions ------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)  # not frozen: one is made per node, frozen is slower
class Arg:
    """Argument leaf ``index`` of the call (a number or an array), as passed."""

    index: int


@dataclass(eq=False, slots=True)
class Data:
    """The data of a node made during the call (or of an argument's stand-in)."""

    node: Any


@dataclass(eq=False, slots=True)
class Call:
    """``function(*args, **kwargs)``; its arguments may hold expressions (in lists too)."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


Expr = Arg | Data | Call


def walk(value: Any) -> Iterator[Any]:
    """Every expression inside ``value`` (itself, or inside its lists, tuples, dicts).

    >>> [type(e).__name__ for e in walk(Call(operator.neg, (Arg(0),)))]
    ['Call', 'Arg']
    """
    if isinstance(value, (Arg, Data, Call)):
        yield value
        if isinstance(value, Call):
            for part in (*value.args, *value.kwargs.values()):
                yield from walk(part)
    elif isinstance(value, (list, tuple)):
        for part in value:
            yield from walk(part)
    elif isinstance(value, dict):
        for part in value.values():
            yield from walk(part)


def item(expr: Any, index: Any) -> Call:
    return Call(operator.getitem, (expr, index))


# -- which code is the engines' own ------------------------------------------------------------

_ENGINE_FILES = {functions_module.__file__, graph_module.__file__} | {
    str(path) for path in Path(__file__).parent.glob("*.py")
}
# The tensor engine's own arithmetic: a primitive run, the reverse sweep.
_ENGINE_CODE = {
    function.__code__
    for function in (
        tensor_module._apply,
        tensor_module._unbroadcast,
        tensor_module.Tensor._propagate,
        tensor_module.Tensor._fit,
    )
}
# The scalar engine's op methods: the number an op computes is its node's data, which the
# recorder tracks as the node's own (``Data(node)``) the moment the node is made.
_VALUE_OP_CODE = frozenset(function.__code__ for function in engine_module._OPS.values())
# Code whose comparisons are an op's own definition (relu's x > 0), not fn's decisions.
_DEFINITION_FILES = _ENGINE_FILES | {engine_module.__file__, tensor_module.__file__}


def _engine_arithmetic(depth: int = 2) -> bool:
    code = sys._getframe(depth).f_code
    return code in _ENGINE_CODE or code.co_filename in _ENGINE_FILES


def _definition(depth: int = 2) -> bool:
    return sys._getframe(depth).f_code.co_filename in _DEFINITION_FILES


# -- the recorder's side (set by recording.Recorder) --------------------------------------------


class Log:
    """What the tracked objects report to the recorder of their thread."""

    def guard(self, expr: Any, expected: Any, what: str) -> None:
        raise NotImplementedError

    def converted(self, tracked: Any, value: Any) -> None:
        raise NotImplementedError

    def compared(self, left: Any, op: str, right: Any, result: bool, frame: Any) -> None:
        raise NotImplementedError

    def resolve(self, tracked: Any) -> Any:
        raise NotImplementedError


def expr_of(value: Any) -> Any:
    """The expression of a tracked value (resolved: a max's result stands for the max),
    plain values as they are, lists and tuples walked into."""
    if isinstance(value, TrackedFloat):
        return value.log.resolve(value)
    if isinstance(value, TrackedArray):
        return value._track()
    if isinstance(value, (list, tuple)) and any(_has_tracked(v) for v in value):
        return type(value)(expr_of(v) for v in value)
    return value


def _has_tracked(value: Any) -> bool:
    if isinstance(value, (TrackedFloat, TrackedArray)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_tracked(v) for v in value)
    return False


def plain(value: Any) -> Any:
    """``value`` with every tracked number or array replaced by its plain value.

    >>> plain([1.0, (2, "a")])
    [1.0, (2, 'a')]
    """
    if isinstance(value, TrackedFloat):
        return float(value.real)
    if isinstance(value, TrackedArray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)) and _has_tracked(value):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _log_of(values: Any) -> Log | None:
    for value in values:
        if isinstance(value, (TrackedFloat, TrackedArray)):
            return value.log
        if isinstance(value, (list, tuple)):
            found = _log_of(value)
            if found is not None:
                return found
    return None


# -- numbers -------------------------------------------------------------------------------------


class TrackedFloat(float):
    """A float that knows its expression; arithmetic on it is tracked, comparisons guarded."""

    __slots__ = ("expr", "log")
    expr: Any
    log: Log

    def __new__(cls, value: float, expr: Any, log: Log) -> TrackedFloat:
        number = super().__new__(cls, value)
        number.expr, number.log = expr, log
        return number

    def _apply(self, function: Callable[..., Any], *operands: Any) -> Any:
        values = [float(x.real) if isinstance(x, TrackedFloat) else x for x in operands]
        result = function(*values)
        if not isinstance(result, float):  # NotImplemented, or a complex power
            return result
        return TrackedFloat(result, Call(function, tuple(expr_of(x) for x in operands)), self.log)

    def _binary(self, function: Callable[..., Any], other: Any, reflected: bool) -> Any:
        if not isinstance(other, (float, int)):
            return NotImplemented
        if sys._getframe(2).f_code in _VALUE_OP_CODE:  # its expression would go unused
            return function(other.real, self.real) if reflected else function(self.real, other.real)
        return (
            self._apply(function, other, self) if reflected else self._apply(function, self, other)
        )

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy on a tracked number (``np.exp(x)``, ``np.float64(2) * x``): tracked too."""
        function = getattr(ufunc, method)
        result = function(*plain(list(inputs)), **plain(kwargs))
        expr = Call(function, tuple(expr_of(list(inputs))), expr_of_kwargs(kwargs))
        return wrap(result, expr, self.log)

    def __add__(self, other: Any) -> Any:
        return self._binary(operator.add, other, False)

    def __radd__(self, other: Any) -> Any:
        return self._binary(operator.add, other, True)

    def __sub__(self, other: Any) -> Any:
        return self._binary(operator.sub, other, False)

    def __rsub__(self, other: Any) -> Any:
        return self._binary(operator.sub, other, True)

    def __mul__(self, other: Any) -> Any:
        return self._binary(operator.mul, other, False)

    def __rmul__(self, other: Any) -> Any:
        return self._binary(operator.mul, other, True)

    def __truediv__(self, other: Any) -> Any:
        return self._binary(operator.truediv, other, False)

    def __rtruediv__(self, other: Any) -> Any:
        return self._binary(operator.truediv, other, True)

    def __floordiv__(self, other: Any) -> Any:
        return self._binary(operator.floordiv, other, False)

    def __rfloordiv__(self, other: Any) -> Any:
        return self._binary(operator.floordiv, other, True)

    def __mod__(self, other: Any) -> Any:
        return self._binary(operator.mod, other, False)

    def __rmod__(self, other: Any) -> Any:
        return self._binary(operator.mod, other, True)

    def __pow__(self, other: Any) -> Any:  # type: ignore[override]
        return self._binary(operator.pow, other, False)

    def __rpow__(self, other: Any) -> Any:  # type: ignore[override]
        return self._binary(operator.pow, other, True)

    def __neg__(self) -> Any:
        return self._apply(operator.neg, self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return self._apply(builtins.abs, self)

    # comparisons: guards in fn's code, plain in the engines' own
    def _compare(self, op: str, function: Callable[[Any, Any], bool], other: Any) -> Any:
        if not isinstance(other, (float, int)):
            return NotImplemented
        result = function(
            float(self.real), float(other.real) if isinstance(other, float) else other
        )
        if not _definition(3):
            self.log.compared(self, op, other, result, sys._getframe(2))
        return result

    def __lt__(self, other: Any) -> Any:
        return self._compare("<", operator.lt, other)

    def __le__(self, other: Any) -> Any:
        return self._compare("<=", operator.le, other)

    def __gt__(self, other: Any) -> Any:
        return self._compare(">", operator.gt, other)

    def __ge__(self, other: Any) -> Any:
        return self._compare(">=", operator.ge, other)

    def __eq__(self, other: object) -> Any:
        return self._compare("==", operator.eq, other)

    def __ne__(self, other: object) -> Any:
        return self._compare("!=", operator.ne, other)

    __hash__ = float.__hash__

    # conversions freeze the number: checked at each call
    def __bool__(self) -> bool:
        result = float(self.real) != 0.0
        if not _definition():
            self.log.guard(Call(bool, (expr_of(self),)), result, "bool() of a number")
        return result

    def __float__(self) -> float:
        value = float.__float__(self)
        self.log.converted(self, value)
        return value

    def _frozen(self, function: Callable[[Any], Any]) -> Any:
        result = function(float(self.real))
        self.log.guard(Call(function, (expr_of(self),)), result, f"{function.__name__}()")
        return result

    def __int__(self) -> int:
        return self._frozen(int)

    def __index__(self) -> int:
        return self._frozen(operator.index)

    def __trunc__(self) -> int:
        return self._frozen(math.trunc)

    def __floor__(self) -> int:
        return self._frozen(math.floor)

    def __ceil__(self) -> int:
        return self._frozen(math.ceil)

    def __round__(self, digits: Any = None) -> Any:
        if digits is None:
            return self._frozen(round)
        return self._apply(builtins.round, self, digits)

    def __reduce__(self) -> Any:
        return (float, (float(self.real),))


# -- arrays --------------------------------------------------------------------------------------


class TrackedArray(np.ndarray):
    """An array that knows its expression: numpy functions and the array methods on it
    give tracked results; writing into it is refused (it may be an argument's memory)."""

    expr: Any = None
    log: Log | None = None

    def __array_finalize__(self, obj: Any) -> None:
        # A view numpy made by itself (iteration's rows, .flat): provenance unknown.
        self.expr = None
        self.log = getattr(obj, "log", None)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        outs = kwargs.get("out", ())
        if any(isinstance(o, TrackedArray) for o in outs) and not _engine_arithmetic():
            raise TraceError("trace: fn writes into an array it was given or computed from data")
        function = getattr(ufunc, method)
        if any(np.asarray(x).dtype == object for x in inputs if not isinstance(x, TrackedArray)):
            return _elementwise(function, inputs, kwargs)  # Values: each number tracked
        result = function(*plain(list(inputs)), **plain(kwargs))
        if _engine_arithmetic():
            return result
        return wrap(
            result, Call(function, tuple(expr_of(list(inputs))), expr_of_kwargs(kwargs)), self.log
        )

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        result = func(*plain(list(args)), **plain(kwargs))
        if _engine_arithmetic():
            return result
        return wrap(
            result, Call(func, tuple(expr_of(list(args))), expr_of_kwargs(kwargs)), self.log
        )

    def _track(self) -> Any:
        if self.expr is None:
            raise TraceError(
                "trace: fn uses numbers of an array that numpy made without saying how "
                "(iterating over .flat, a view trace does not follow); index it instead"
            )
        return self.log.resolve(self) if self.log is not None else self.expr

    def __getitem__(self, index: Any) -> Any:
        if _engine_arithmetic() or self.log is None:
            return self.view(np.ndarray)[plain(index)]
        return self._index(index)

    def _index(self, index: Any) -> Any:
        result = self.view(np.ndarray)[plain(index)]
        return wrap(result, Call(operator.getitem, (self._track(), expr_of(index))), self.log)

    def __setitem__(self, index: Any, value: Any) -> None:
        if not _engine_arithmetic():
            raise TraceError("trace: fn writes into an array it was given or computed from data")
        self.view(np.ndarray)[index] = plain(value)

    def __iter__(self) -> Iterator[Any]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        if self.log is None:
            return iter(self.view(np.ndarray))
        return (self._index(i) for i in range(len(self)))

    def __bool__(self) -> bool:
        result = bool(self.view(np.ndarray))
        if self.log is not None and not _definition():
            self.log.guard(Call(bool, (self._track(),)), result, "bool() of an array")
        return result

    def __float__(self) -> float:
        value = float(self.view(np.ndarray))
        if self.log is not None:
            self.log.converted(self, value)
        return value

    def _frozen(self, function: Callable[[Any], Any]) -> Any:
        result = function(self.view(np.ndarray))
        if self.log is not None and not _engine_arithmetic(3):
            self.log.guard(Call(function, (self._track(),)), result, f"{function.__name__}()")
        return result

    def __int__(self) -> int:
        return self._frozen(int)

    def __index__(self) -> int:
        return self._frozen(operator.index)

    def tolist(self) -> Any:
        return self._frozen(np.ndarray.tolist)

    def item(self, *args: Any) -> Any:
        result = self.view(np.ndarray).item(*args)
        if self.log is None or _engine_arithmetic():
            return result
        expr = Call(np.ndarray.item, (self._track(), *args))
        if isinstance(result, float):
            return TrackedFloat(result, expr, self.log)
        self.log.guard(expr, result, "item()")
        return result

    def __reduce__(self) -> Any:
        return self.view(np.ndarray).__reduce__()


def _method(name: str) -> Callable[..., Any]:
    """An ndarray method whose result is tracked: ``np.ndarray.<name>(x, ...)``."""
    function = getattr(np.ndarray, name)

    def method(self: TrackedArray, *args: Any, **kwargs: Any) -> Any:
        result = function(self.view(np.ndarray), *plain(list(args)), **plain(kwargs))
        if _engine_arithmetic() or self.log is None:
            return result
        call = Call(function, (self._track(), *expr_of(list(args))), expr_of_kwargs(kwargs))
        return wrap(result, call, self.log)

    method.__name__ = name
    return method


for _name in ("astype", "reshape", "ravel", "flatten", "copy", "transpose", "squeeze"):
    setattr(TrackedArray, _name, _method(_name))
TrackedArray.T = property(_method("transpose"))  # type: ignore[assignment]


def expr_of_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: expr_of(value) for key, value in kwargs.items()}


def wrap(result: Any, expr: Any, log: Log | None) -> Any:
    """A numpy result as a tracked one: arrays and numpy scalars as TrackedArray."""
    if log is None:
        return result
    if isinstance(result, np.ndarray) and result.dtype != object:
        tracked = result.view(TrackedArray)
        tracked.expr, tracked.log = expr, log
        return tracked
    if isinstance(result, np.generic) and result.dtype != object:
        tracked = np.asarray(result).view(TrackedArray)
        tracked.expr, tracked.log = expr, log
        return tracked
    if isinstance(result, (tuple, list)) and not isinstance(result, np.ndarray):
        return type(result)(wrap(r, item(expr, i), log) for i, r in enumerate(result))
    return result


def _elementwise(function: Callable[..., Any], inputs: Any, kwargs: dict[str, Any]) -> Any:
    """A ufunc on object arrays (Values) with tracked numbers: each element tracked."""
    tracked_inputs = []
    for x in inputs:
        if isinstance(x, TrackedArray) and x.log is not None:
            numbers = np.empty(x.shape, dtype=object)
            expr = x._track()
            for index in np.ndindex(x.shape):
                value = float(x.view(np.ndarray)[index])
                numbers[index] = TrackedFloat(value, item(expr, index), x.log)
            tracked_inputs.append(numbers)
        else:
            tracked_inputs.append(x)
    return function(*tracked_inputs, **plain(kwargs))


# -- builtins max and min over tracked numbers ---------------------------------------------------

_CALL_OPS = {"CALL", "CALL_FUNCTION", "CALL_FUNCTION_EX", "CALL_KW", "PRECALL"}
_BUILTIN_CALL = re.compile(r"\s*(max|min)\s*\(")


def builtin_extreme(frame: types.FrameType) -> Callable[..., Any] | None:
    """``max`` or ``min`` when ``frame`` is calling the builtin of that name right now."""
    code, offset = frame.f_code, frame.f_lasti
    for instruction in dis.get_instructions(code):
        if instruction.offset == offset:
            break
    else:
        return None
    if instruction.opname not in _CALL_OPS or instruction.positions is None:
        return None
    position = instruction.positions
    if position.lineno is None or position.lineno != position.end_lineno:
        return None
    line = linecache.getline(code.co_filename, position.lineno)
    match = _BUILTIN_CALL.match(line[position.col_offset or 0 : position.end_col_offset])
    if match is None:
        return None
    name = match.group(1)
    found = frame.f_locals.get(name, frame.f_globals.get(name, getattr(builtins, name)))
    return found if found is getattr(builtins, name) else None
