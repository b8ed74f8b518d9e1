"""The argument checks that several modules share, each written once.

Every public function checks what the user passed in one line at its top, so
the body below it is the formula. A check returns the value converted to what
the body computes with (an int, a float, a float64 array) or raises a
TypeError (the wrong kind of thing) or ValueError (the right kind, a bad value)
whose message names the argument, what was expected and what was given.
Internal invariants use ``assert`` instead; what only our own engine writes is
not checked again. (``delta``, the oracle, keeps its own checks: it imports
only numpy.)
"""

from __future__ import annotations

import math
import numbers
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
