"""The argument checks that several modules share, each written once.

Every public function checks what the user passed in one line at its top, so
the body below it is the formula. A check returns the value converted to what
the body computes with (an int, a float, a float64 array) or raises a
TypeError (the wrong kind of thing) or ValueError (the right kind, a bad value)
whose message names the argument, what was expected and what was given.
Internal invariants use ``assert`` instead; what only our own engine writes is
not checked again.

The module imports nothing of the package (numpy only), so it sits at the
bottom of the layers and the engines use it too: ``tensor``'s argument checks
(axes, shapes, numpy's and PyTorch's keywords, the array a Tensor stores) live
here. (``delta``, the oracle, keeps its own few checks all the same: it imports
no module of the package, so that it shares no code with what it checks.)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

REAL_KINDS = "biuf"  # numpy dtype kinds that hold real numbers: bool, int, uint, float


def is_integer(value: object) -> bool:
    """Whether ``value`` is a Python or numpy integer, and not a bool.

    >>> is_integer(3), is_integer(np.int64(3)), is_integer(True), is_integer(3.0)
    (True, True, False, False)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: object) -> bool:
    """Whether ``value`` is a real number (Python or numpy), and not a bool.

    >>> is_real(0.5), is_real(np.float32(2)), is_real(False), is_real("1")
    (True, True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_sequence(value: object) -> bool:
    """Whether ``value`` is a list, tuple, array or other sequence, and not a str or bytes.

    >>> is_sequence([1, 2]), is_sequence(np.ones(2)), is_sequence("12"), is_sequence(3)
    (True, True, False, False)
    """
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes))


def holds_reals(dtype: Any) -> bool:
    """Whether a numpy dtype holds real numbers (bool, int, uint, float; not complex).

    >>> holds_reals(np.dtype("int8")), holds_reals(np.dtype("<U1")), holds_reals(complex)
    (True, False, False)
    """
    return np.dtype(dtype).kind in REAL_KINDS


def integer(
    name: str, value: object, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an int; TypeError unless an integer, ValueError outside [minimum, maximum].

    >>> integer("epochs", np.int32(5), minimum=1)
    5
    >>> integer("epochs", 0, minimum=1)
    Traceback (most recent call last):
    ValueError: epochs must be at least 1, got 0
    >>> integer("epochs", 2.0)
    Traceback (most recent call last):
    TypeError: epochs must be an integer, got float: 2.0
    """
    if not is_integer(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r:.60}")
    number = int(value)  # type: ignore[call-overload]
    _check_range(name, number, minimum, maximum)
    return number


def real(
    name: str,
    value: object,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    finite: bool = True,
    positive: bool = False,
) -> float:
    """``value`` as a float; TypeError unless a real number, ValueError for a bad value.

    ``finite`` refuses NaN and infinities, ``positive`` zero and below; ``minimum``
    and ``maximum`` bound it inclusively. An int too large for a float counts as
    infinite.

    >>> real("lr", 1)
    1.0
    >>> real("lr", -0.5, positive=True)
    Traceback (most recent call last):
    ValueError: lr must be positive, got -0.5
    >>> real("lr", float("nan"))
    Traceback (most recent call last):
    ValueError: lr must be a finite number, got nan
    >>> real("lr", True)
    Traceback (most recent call last):
    TypeError: lr must be a real number, got bool: True
    """
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r:.60}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        number = math.inf if value > 0 else -math.inf  # type: ignore[operator]
    if finite and not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {number!r}")
    if positive and not number > 0:
        raise ValueError(f"{name} must be positive, got {number!r}")
    _check_range(name, number, minimum, maximum)
    return number


def real_array(name: str, data: object) -> np.ndarray:
    """``data`` as a float64 array; TypeError unless it holds real numbers.

    Not copied if it already is one.

    >>> real_array("X", [1, 2]).dtype
    dtype('float64')
    >>> real_array("fit: X", [["a"]])
    Traceback (most recent call last):
    TypeError: fit: X must hold real numbers, got list of dtype <U1
    """
    array = np.asarray(data)
    if array.dtype.kind not in REAL_KINDS:
        raise TypeError(
            f"{name} must hold real numbers, got {type(data).__name__} of dtype {array.dtype}"
        )
    return array.astype(np.float64, copy=False)


def one_of(name: str, value: object, choices: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``choices``; ValueError listing them otherwise.

    >>> one_of("activation", "tanh", ("sigmoid", "tanh"))
    'tanh'
    >>> one_of("activation", "elu", ("sigmoid", "tanh"))
    Traceback (most recent call last):
    ValueError: activation must be one of 'sigmoid', 'tanh'; got 'elu'
    """
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r:.60}")
    return value


def _check_range(name: str, number: Any, minimum: Any, maximum: Any) -> None:
    """ValueError naming ``name`` when ``number`` lies outside [minimum, maximum]."""
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number!r}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {number!r}")


# -- the arguments of tensor operations ----------------------------------------------------


def float_array(data: Any, dtype: Any = None) -> np.ndarray:
    """A fresh float array holding ``data``: float dtypes kept, ints and bools to float64.

    What a ``Tensor`` stores. ``dtype``, when given, must be a floating type.

    >>> float_array([1, 2]).dtype, float_array(np.ones(2, np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    >>> float_array("abc")
    Traceback (most recent call last):
    TypeError: Tensor needs real numbers, got str
    """
    array = np.asarray(data)
    kind = array.dtype.kind
    if kind not in REAL_KINDS:
        contents = {"U": "str", "S": "bytes"}.get(kind, array.dtype.name)  # not "str672"
        if kind == "O" and array.size:
            contents = type(array.flat[0]).__name__
            if all(isinstance(x, numbers.Real) for x in array.flat):  # Fraction, huge ints
                try:
                    array = array.astype(np.float64)
                except OverflowError:  # an int beyond 1.8e308
                    raise ValueError(
                        f"Tensor: a number too large for a float in {data!r:.60}"
                    ) from None
                return float_array(array, dtype)
        of = f" of {contents}" if array.ndim else ""
        raise TypeError(f"Tensor needs real numbers, got {type(data).__name__}{of}")
    if dtype is None:
        dtype = array.dtype if kind == "f" else np.float64
    elif np.dtype(dtype).kind != "f":
        raise TypeError(f"Tensor dtype must be a floating type, got {np.dtype(dtype).name}")
    with np.errstate(over="ignore"):  # beyond float32's range: inf, as in PyTorch
        return np.array(array, dtype=dtype)  # always a copy: user arrays are never aliased


def shape_arguments(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as numpy and PyTorch do.

    >>> shape_arguments((2, 3)), shape_arguments(([2, 3],))
    ((2, 3), (2, 3))
    """
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def checked_axes(axis: Any, ndim: int, several: bool = True) -> Any:
    """``axis`` checked against ``ndim`` dimensions and made non-negative (None stays None).

    An int, or (when ``several``) a tuple or list of distinct ints; bools are refused.

    >>> checked_axes(-1, 2), checked_axes([0, -1], 3)
    (1, (0, 2))
    >>> checked_axes(2, 2)
    Traceback (most recent call last):
    ValueError: axis 2 is out of range for a tensor of 2 dimensions
    """
    if axis is None:
        return None
    if several and isinstance(axis, (tuple, list)):
        checked = tuple(checked_axes(one, ndim, several=False) for one in axis)
        if len(set(checked)) != len(checked):
            raise ValueError(f"axis {axis!r} repeats an axis")
        return checked
    if not is_integer(axis):
        expected = "an int or a tuple of ints" if several else "an int"
        raise TypeError(f"axis must be {expected}, got {type(axis).__name__}")
    if not -ndim <= int(axis) < ndim:
        raise ValueError(f"axis {axis} is out of range for a tensor of {ndim} dimensions")
    return int(axis) % ndim


def pytorch_alias(name: str, value: Any, default: Any, alias: str, alias_value: Any) -> Any:
    """A keyword under numpy's ``name`` or PyTorch's ``alias`` (``dim``, ``keepdim``).

    The PyTorch spelling counts when given (not None); a numpy keyword left at its
    default counts as not given. Both given with different values: TypeError.

    >>> pytorch_alias("axis", None, None, "dim", 1)
    1
    >>> pytorch_alias("axis", 0, None, "dim", 1)
    Traceback (most recent call last):
    TypeError: got axis=0 and dim=1: pass only one of them
    """
    if alias_value is None:
        return value
    if value != default and value != alias_value:
        raise TypeError(f"got {name}={value!r} and {alias}={alias_value!r}: pass only one of them")
    return alias_value


def reduction_arguments(
    ndim: int, axis: Any, keepdims: Any, dim: Any, keepdim: Any, several: bool = True
) -> tuple[Any, bool]:
    """The checked (axis, keepdims) of a reduction, from numpy's or PyTorch's keywords.

    >>> reduction_arguments(2, None, False, -1, True)
    (1, True)
    """
    if axis is None and keepdims is False and dim is None and keepdim is None:
        return None, False  # x.sum(): the common call, kept as fast as before the checks
    axis = pytorch_alias(
        "axis", checked_axes(axis, ndim, several), None, "dim", checked_axes(dim, ndim, several)
    )
    keepdims = pytorch_alias("keepdims", keepdims, False, "keepdim", keepdim)
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"keepdims must be a bool, got {type(keepdims).__name__}")
    return axis, bool(keepdims)
