"""One training loop for both engines: online or mini-batch gradient descent.

Online training (``batch_size=1``) is the derivation's procedure: take one
example, run it forward, backpropagate its error, update every weight, move on
to the next example. An epoch is one pass over the training set; its loss is
the sum of the examples' losses measured on the way (for the default loss,
J = 1/2 sum over examples and outputs of (y - o)^2). Training stops when that
loss falls below ``epsilon`` or after ``epochs`` passes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from .engine import Value
from .graph import no_grad
from .losses import half_sse
from .optim import SGD, Optimizer
from .tensor import Tensor


@dataclass
class History:
    """What ``fit`` did: the loss of every epoch, and whether it reached epsilon."""

    losses: list[float] = field(default_factory=list)
    converged: bool = False

    @property
    def epochs(self) -> int:
        return len(self.losses)


class ProgressBar:
    """A one-line progress bar on a terminal; silent when the stream is not a terminal."""

    def __init__(self, total: int, enabled: bool | None = None, stream: TextIO | None = None):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.every = max(1, total // 200)

    def update(self, epoch: int, loss: float) -> None:
        if self.enabled and (epoch % self.every == 0 or epoch == self.total):
            filled = 30 * epoch // self.total
            bar = "#" * filled + "-" * (30 - filled)
            self.stream.write(f"\r[{bar}] epoch {epoch}/{self.total}  loss {loss:.6g}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _is_scalar_model(model: Any) -> bool:
    params = model.parameters()
    return bool(params) and isinstance(params[0], Value)


def fit(
    model: Any,
    X: Any,
    y: Any,
    loss: Callable[[Any, Any], Any] = half_sse,
    optimizer: Optimizer | None = None,
    lr: float = 0.5,
    epochs: int = 1000,
    epsilon: float | None = None,
    batch_size: int | None = 1,
    shuffle: bool = False,
    rng: np.random.Generator | int | None = None,
    progress: bool | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> History:
    """Train ``model`` on (X, y) and return the loss history.

    Args:
        model: a scalar module (MLP, Layer, Neuron) or a tensor module (Sequential, Linear).
        X: inputs, shape (n, n_in). y: targets, shape (n, n_out) or (n,).
        loss: loss(prediction, target) for one example or batch (default: half_sse).
        optimizer: default SGD(model.parameters(), lr).
        epochs: the most passes over the data. epsilon: stop once an epoch's loss < epsilon.
        batch_size: 1 for online updates (the derivation's), None for the full batch.
        shuffle: visit the examples in a new random order each epoch.
        progress: show a progress bar (None: only on a terminal).
        on_epoch: called as on_epoch(epoch, loss) after every epoch.

    >>> from tinygrad_bp.nn import MLP
    >>> net = MLP(1, [1], rng=0)
    >>> history = fit(net, [[0.0], [1.0]], [0.0, 1.0], lr=2.0, epochs=500, epsilon=0.05)
    >>> history.converged, history.losses[-1] < history.losses[0]
    (True, True)
    """
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"fit needs a module, got {type(model).__name__}")
    X, y = _real_array("X", X), _real_array("y", y)
    if X.ndim != 2 or y.ndim == 0 or len(y) != len(X) or len(X) == 0:
        raise ValueError(
            f"fit needs X of shape (n, n_in) and n targets, n >= 1, got {X.shape} and {y.shape}"
        )
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if epsilon is not None and not isinstance(epsilon, (int, float)):
        raise TypeError(f"epsilon must be a number or None, got {type(epsilon).__name__}")
    optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr)
    step = _scalar_step if _is_scalar_model(model) else _tensor_step
    _check_widths(model, X, y, step is _scalar_step)
    batch_size = len(X) if batch_size is None else batch_size
    rng = np.random.default_rng(rng)
    bar = ProgressBar(epochs, progress)
    history = History()
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            total = 0.0
            for start in range(0, len(X), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                total += step(model, loss, X[batch], y[batch])
                optimizer.step()
            history.losses.append(total)
            bar.update(epoch, total)
            if on_epoch is not None:
                on_epoch(epoch, total)
            if epsilon is not None and total < epsilon:
                history.converged = True
                break
    finally:
        bar.close()
    return history


def _real_array(name: str, data: Any) -> np.ndarray:
    """``data`` as a float64 array; TypeError unless it holds real numbers."""
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"fit: {name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(np.float64)


def _check_widths(model: Any, X: np.ndarray, y: np.ndarray, scalar: bool) -> None:
    """Run the first example forward, recording nothing, so that a model that does not
    fit X or y fails before any grad or weight changes (ValueError naming the shapes)."""
    with no_grad():
        out = model(X[0].tolist()) if scalar else model(X[:1])
    outputs = out.size if isinstance(out, Tensor) else np.size(np.asarray(out, dtype=object))
    if outputs != y[0].size:
        raise ValueError(
            f"fit: the model gives {outputs} outputs per example, but y of shape {y.shape} "
            f"has {y[0].size} per example"
        )


def _scalar_step(
    model: Any, loss: Callable[[Any, Any], Any], X: np.ndarray, y: np.ndarray
) -> float:
    """Forward and backward every example of the batch; gradients add up."""
    total = 0.0
    for x_row, y_row in zip(X, y):
        out = model(x_row.tolist())
        target = y_row.reshape(np.shape(np.asarray(out, dtype=object)))
        value = loss(out, target)
        value.backward()
        total += value.data
    return total


def _tensor_step(
    model: Any, loss: Callable[[Any, Any], Any], X: np.ndarray, y: np.ndarray
) -> float:
    """Forward and backward the whole batch at once (the model converts X to its dtype)."""
    out = model(X)
    value = loss(out, y.reshape(out.shape))
    value.backward()
    return float(value.item())
