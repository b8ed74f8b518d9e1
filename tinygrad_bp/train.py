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
from .losses import half_sse
from .optim import SGD, Optimizer


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
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or len(y) != len(X):
        raise ValueError(
            f"fit needs X of shape (n, n_in) and n targets, got {X.shape} and {y.shape}"
        )
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr)
    step = _scalar_step if _is_scalar_model(model) else _tensor_step
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
