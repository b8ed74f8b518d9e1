"""Loss functions for both engines.

Predictions may be a ``Value``, a (nested) list of Values, or a ``Tensor``;
targets numbers, lists, arrays or Tensors of exactly the same shape (no silent
broadcasting: a (4, 1) prediction against a (4,) target is an error, because
broadcasting would quietly compare every prediction with every target). The one
exception: a single prediction and a single target match whatever their shapes
(a width-1 MLP's bare Value against ``[1.0]``, a (1,) Tensor against ``1.0``).
The result is a ``Value`` or a one-element ``Tensor``, ready for ``backward()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .engine import Value
from .tensor import Tensor, as_array

# As in PyTorch, log(p) is clamped at -100 in binary cross-entropy so that a
# probability of exactly 0 or 1 gives a finite loss (and no NaN from 0 * log 0).
LOG_FLOOR = -100.0
_P_FLOOR = math.exp(LOG_FLOOR)


def _as_values(pred: Any) -> np.ndarray:
    """Predictions of the scalar engine as an object array of Values."""
    values = np.empty(np.shape(np.asarray(pred, dtype=object)), dtype=object)
    values[...] = pred if isinstance(pred, Value) else np.asarray(pred, dtype=object)
    for v in values.flat:
        if not isinstance(v, Value):
            raise TypeError(f"predictions must be Values or a Tensor, got {type(v).__name__}")
    return values


def _target_array(target: Any, shape: tuple[int, ...], loss: str) -> np.ndarray:
    array = target.data if isinstance(target, Tensor) else as_array(target)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{loss}: targets must be real numbers, got dtype {array.dtype}")
    if array.shape != shape:
        if array.size == 1 and math.prod(shape) == 1:  # Value vs [1.0], (1,) vs 1.0: one number
            return array.reshape(shape)
        raise ValueError(f"{loss}: predictions of shape {shape} but targets of shape {array.shape}")
    return array


def _pairs(pred: Any, target: Any, loss: str) -> tuple[Any, Any]:
    """(predictions, targets) ready for elementwise math, shapes checked, not empty."""
    if isinstance(pred, Tensor):
        _check_not_empty(pred.shape, loss)
        return pred, _target_array(target, pred.shape, loss).astype(pred.dtype, copy=False)
    values = _as_values(pred)
    _check_not_empty(values.shape, loss)
    targets = _target_array(target, values.shape, loss).astype(np.float64)
    # Flat 1-D arrays: every loss sums over all elements, and numpy turns the
    # results of 0-d object arrays into bare Values.
    return values.reshape(-1), targets.reshape(-1)


def _check_not_empty(shape: tuple[int, ...], loss: str) -> None:
    """ValueError for an empty batch: its loss is undefined (not 0, not nan)."""
    if math.prod(shape) == 0:
        raise ValueError(f"{loss}: an empty batch of predictions (shape {shape}) has no loss")


def _total(terms: Any) -> Any:
    """Sum of loss terms (never empty): Tensor.sum(), or one Python sum over Values."""
    if isinstance(terms, Tensor):
        return terms.sum()
    return sum(terms[1:], terms[0])


def half_sse(pred: Any, target: Any) -> Any:
    """The derivation's J = 1/2 sum (y - o)^2 over every element (a batch: summed).

    dJ/do_k = -(y_k - o_k).

    >>> round(half_sse(Value(0.824), 1.0).data, 4)   # the worked example
    0.0155
    """
    o, y = _pairs(pred, target, "half_sse")
    return _total((o - y) ** 2) * 0.5


def mse(pred: Any, target: Any) -> Any:
    """Mean squared error: (1/n) sum (y - o)^2 over all n elements.

    >>> mse([Value(1.0), Value(3.0)], [0.0, 0.0]).data
    5.0
    """
    o, y = _pairs(pred, target, "mse")
    return _total((o - y) ** 2) * (1.0 / y.size)


def _clamped_log(p: Any) -> Any:
    """max(log p, -100): finite at p = 0, gradient 0 where clamped."""
    if isinstance(p, Tensor):
        keep = (p.data > _P_FLOOR).astype(p.dtype)
        return (p * keep + (1 - keep)).log() + LOG_FLOOR * (1 - keep)
    return np.array([v.log() if v.data > _P_FLOOR else Value(LOG_FLOOR) for v in p], dtype=object)


def _softplus(z: Any) -> Any:
    """log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), stable for any z; d/dz = sigmoid(z).

    max(z, 0) is formed as z * [z >= 0] and |z| as z * s with the constant sign s
    (+1 at 0), not with relu or abs: their derivative conventions at the kink would
    give d/dz = 0 at z = 0 instead of 1/2. Neither overflows, even at z = 1e308
    (where (z + |z|)/2 would).
    """
    if isinstance(z, Tensor):
        positive = z * np.where(z.data >= 0, 1.0, 0.0).astype(z.dtype)
        magnitude = z * np.where(z.data >= 0, 1.0, -1.0).astype(z.dtype)
        return positive + ((-magnitude).exp() + 1.0).log()
    return np.array([_softplus_value(v) for v in z], dtype=object)


def _softplus_value(z: Value) -> Value:
    positive = z.data >= 0
    return z * (1.0 if positive else 0.0) + ((z * (-1.0 if positive else 1.0)).exp() + 1.0).log()


def binary_cross_entropy(pred: Any, target: Any, from_logits: bool = False) -> Any:
    """Mean of -[y log p + (1 - y) log(1 - p)] over all elements.

    With ``from_logits=True`` the predictions are logits z (p = sigmoid(z)) and the
    loss is computed as softplus(z) - y z, finite for any z: dL/dz = p - y.
    Otherwise the predictions are probabilities, and log is clamped at -100.

    >>> round(binary_cross_entropy(Value(0.8), 1.0).data, 4)     # -log 0.8
    0.2231
    >>> binary_cross_entropy(Value(-1000.0), 1.0, from_logits=True).data
    1000.0
    """
    o, y = _pairs(pred, target, "binary_cross_entropy")
    if from_logits:
        terms = _softplus(o) - o * y
    else:
        terms = -(_clamped_log(o) * y + _clamped_log(1.0 - o) * (1.0 - y))
    return _total(terms) * (1.0 / y.size)


def cross_entropy(logits: Any, targets: Any) -> Any:
    """Mean over the batch of -log softmax(z)[t], from logits z and integer classes t.

    ``logits``: a batch, a Tensor or nested list of Values of shape (N, C), with
    integer ``targets`` of shape (N,); or one example: a list of C Values (or a (C,)
    Tensor) with one integer target. Each row's loss is logsumexp(z) - z_t, computed
    as ln(sum_c e^(z_c - max z)) + max z - z_t: silent for any logits, finite for
    logits up to half the largest float in magnitude (beyond, the true loss is inf).

    >>> round(cross_entropy([Value(2.0), Value(0.0)], 0).data, 4)
    0.1269
    >>> round(cross_entropy([[Value(2.0), Value(0.0)], [Value(2.0), Value(0.0)]], [0, 1]).data, 4)
    1.1269
    """
    if isinstance(logits, Tensor):
        _check_not_empty(logits.shape, "cross_entropy")
        if logits.ndim == 1:
            return cross_entropy(logits.reshape(1, -1), _one_target(targets, logits.shape))
        if logits.ndim != 2:
            raise ValueError(f"cross_entropy: logits must have shape (N, C), given {logits.shape}")
        classes = _class_targets(targets, logits.shape)
        picked = logits.log_softmax(axis=-1)[np.arange(logits.shape[0]), classes]
        return -picked.mean()
    values = _as_values(logits)
    _check_not_empty(values.shape, "cross_entropy")
    if values.ndim == 1:
        (target,) = _class_targets(_one_target(targets, values.shape), (1, len(values)))
        return _cross_entropy_row(list(values), target)
    if values.ndim != 2:
        raise ValueError(
            f"cross_entropy: logits must have shape (N, C) or (C,), given {values.shape}"
        )
    classes = _class_targets(targets, values.shape)
    rows = [_cross_entropy_row(list(row), t) for row, t in zip(values, classes)]
    return _total(np.array(rows, dtype=object)) * (1.0 / len(rows))


def _cross_entropy_row(z: list[Value], target: int) -> Value:
    """-log softmax(z)[t] = logsumexp(z) - z_t, with max z subtracted before exp."""
    top = max(v.data for v in z)
    exps = [(v - top).exp() for v in z]
    logsumexp = sum(exps[1:], exps[0]).log() + top
    return logsumexp - z[target]


def _one_target(targets: Any, logits_shape: tuple[int, ...]) -> np.ndarray:
    """The class of a single example, as an array of shape (1,)."""
    array = as_array(targets.data if isinstance(targets, Tensor) else targets)
    if array.size != 1:
        raise ValueError(
            f"cross_entropy: one example of logits of shape {logits_shape} needs one target, "
            f"given shape {array.shape}"
        )
    return array.reshape(1)


def _class_targets(targets: Any, logits_shape: tuple[int, ...]) -> np.ndarray:
    array = as_array(targets.data if isinstance(targets, Tensor) else targets)
    n, classes = logits_shape
    whole = array.dtype.kind in "iub" or (
        array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array % 1 == 0)
    )
    if not whole:
        raise TypeError(f"cross_entropy: targets must be integer class indices, got {array.dtype}")
    if array.shape != (n,):
        raise ValueError(
            f"cross_entropy: logits of shape {logits_shape} need targets of shape {(n,)}, "
            f"given {array.shape}"
        )
    array = array.astype(np.intp)
    if array.size and (array.min() < 0 or array.max() >= classes):
        raise ValueError(f"cross_entropy: targets must lie in [0, {classes}), got {array.tolist()}")
    return array
