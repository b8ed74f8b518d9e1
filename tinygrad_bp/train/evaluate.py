"""A model's loss and accuracy on held-out data, with no graph recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..graph import no_grad
from ..losses import reduction
from .steps import output_shape, targets_like


def evaluate(
    model: Any, loss: Callable[[Any, Any], Any], X: np.ndarray, y: np.ndarray, scalar: bool
) -> tuple[float, float | None]:
    """(loss, accuracy) of ``model`` on (X, y), measured as ``fit`` measures an epoch.

    The loss is what ``loss`` gives on the whole set: the mean over the examples
    for a loss that averages a batch (mse, the cross-entropies), the sum for one
    that sums it (``half_sse``, the derivation's J). The accuracy is that of
    ``accuracy``, None when the targets are not class labels. Nothing is recorded
    and no grad changes.

    >>> from tinygrad_bp.nn import Linear
    >>> from tinygrad_bp.losses import mse
    >>> layer = Linear(1, 1); layer.weight.data[:] = 0.0; layer.bias.data[:] = 0.0
    >>> evaluate(layer, mse, np.ones((4, 1)), np.array([1.0, 1.0, 3.0, 3.0]), scalar=False)
    (5.0, None)
    """
    with no_grad():
        if scalar:
            rows = [model(x.tolist()) for x in X]
            losses = [loss(out, targets_like(t, output_shape(out))).data for out, t in zip(rows, y)]
            total = float(sum(losses))
            value = total / len(X) if reduction(loss) == "mean" else total
            outputs = np.array(
                [[v.data for v in np.ravel(np.asarray(o, dtype=object))] for o in rows]
            )
        else:
            out = model(X)
            value = float(loss(out, targets_like(y, out.shape)).item())
            outputs = out.data.reshape(len(X), -1)
    return value, accuracy(outputs, y)


def accuracy(outputs: np.ndarray, y: np.ndarray) -> float | None:
    """The fraction of examples classified right, or None when y holds no class labels.

    ``outputs`` has one row per example. One output per example with 0/1 targets:
    class 1 where the output is above 1/2 (a sigmoid unit's probability). Several
    outputs: the class is the largest output's index, against integer class
    targets (one per example) or one-hot rows. Any other targets are a
    regression's, and have no accuracy.

    >>> accuracy(np.array([[0.9], [0.2], [0.6]]), np.array([1.0, 0.0, 0.0]))
    0.6666666666666666
    >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
    0.5
    >>> accuracy(np.array([[0.3]]), np.array([0.7])) is None
    True
    """
    outputs = outputs.reshape(len(outputs), -1)
    labels = np.isin(y, (0.0, 1.0)).all()
    if outputs.shape[1] == 1:
        if not labels or y.size != len(outputs):
            return None
        return float(np.mean((outputs[:, 0] > 0.5) == (y.reshape(-1) > 0.5)))
    if y.ndim == 1 and np.all(y == np.round(y)):
        return float(np.mean(outputs.argmax(axis=1) == y))
    if y.shape == outputs.shape and labels and np.all(y.sum(axis=1) == 1):
        return float(np.mean(outputs.argmax(axis=1) == y.argmax(axis=1)))
    return None
