"""How every picture writes a number: four significant digits, as short as that allows.

One formatter for every label (records, tensor summaries, the step-through's edges
and captions), so the same number reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Arrays with at most this many elements are written out; larger ones are summarised.
MAX_LISTED = 4


def number(value: float) -> str:
    """A number with 4 significant digits (``%.4g``), and never ``-0``.

    Huge and tiny magnitudes switch to exponent form instead of hundreds of digits
    or a misleading ``-0.0000``.

    >>> [number(x) for x in (0.77701, -0.025812, 2.0, -0.0, 1e-20, -1e-20)]
    ['0.777', '-0.02581', '2', '0', '1e-20', '-1e-20']
    >>> [number(x) for x in (1e308, 5e-324, float("nan"), float("-inf"))]
    ['1e+308', '4.941e-324', 'nan', '-inf']
    """
    text = format(float(value), ".4g")
    return "0" if text == "-0" else text


def numbers(values: Any) -> str:
    """A number, a short array written out, or a longer array's mean, min and max.

    >>> numbers(0.77701), numbers(np.array([1.0, -2.5]))
    ('0.777', '[1, -2.5]')
    >>> numbers(np.arange(6.0).reshape(2, 3))
    'mean 2.5 min 0 max 5'
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        return number(float(array))
    if array.size <= MAX_LISTED:
        return "[" + ", ".join(number(value) for value in array.ravel()) + "]"
    with np.errstate(all="ignore"):  # inf - inf in a mean is nan, said as nan
        mean = array.mean()
    return f"mean {number(mean)} min {number(array.min())} max {number(array.max())}"
