"""One training loop for both engines: online or mini-batch gradient descent.

Online training (``batch_size=1``) is the derivation's procedure: take one
example, run it forward, backpropagate its error, update every weight, move on
to the next example. An epoch is one pass over the training set; its loss is
the sum of the examples' losses measured on the way (for the default loss,
J = 1/2 sum over examples and outputs of (y - o)^2). Training stops when that
loss falls below ``epsilon`` or after ``epochs`` passes.

``train_on_dataset`` wraps ``fit`` for the examples and ``tinygrad-bp train``: a
tensor MLP with one sigmoid output unit, trained on a toy data set by name.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from . import data, validate
from .delta import real_array
from .engine import Value
from .graph import no_grad
from .losses import binary_cross_entropy, half_sse, mse
from .nn import Sequential, tensor_mlp
from .optim import SGD, Adam, Optimizer
from .tensor import Tensor

# The optimisers ``train_on_dataset`` (and ``tinygrad-bp train``) choose from by name.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}


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
        X: inputs, shape (n, n_in). y: targets, shape (n, n_out) or (n,). Targets with one
            number per output are reshaped to the output's shape; others (one integer
            class per example, for cross_entropy) are passed to the loss as they are.
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
    X, y = real_array(X, "fit: X"), real_array(y, "fit: y")
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
    _check_widths(model, loss, X, y, step is _scalar_step)
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


def _check_widths(
    model: Any, loss: Callable[[Any, Any], Any], X: np.ndarray, y: np.ndarray, scalar: bool
) -> None:
    """Run the first example forward and into the loss, recording nothing, so that a model
    that does not fit X or y fails before any grad or weight changes (ValueError naming
    the shapes)."""
    with no_grad():
        out = model(X[0].tolist()) if scalar else model(X[:1])
        outputs = _shape(out)
        if math.prod(outputs) == y[0].size:
            return
        try:  # not one target per output: the loss must accept them as they are (classes)
            loss(out, y[0] if scalar else y[:1])
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"fit: the model gives {math.prod(outputs)} outputs per example, but y of shape "
                f"{y.shape} has {y[0].size} per example ({error})"
            ) from None


def _shape(out: Any) -> tuple[int, ...]:
    """The shape of a model's output: a Tensor's, or that of a (nested) list of Values."""
    return out.shape if isinstance(out, Tensor) else np.shape(np.asarray(out, dtype=object))


def _targets(y: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """y in the output's shape when it holds one number per output; else y unchanged."""
    return y.reshape(shape) if y.size == math.prod(shape) else y


def _scalar_step(
    model: Any, loss: Callable[[Any, Any], Any], X: np.ndarray, y: np.ndarray
) -> float:
    """Forward and backward every example of the batch; gradients add up."""
    total = 0.0
    for x_row, y_row in zip(X, y):
        out = model(x_row.tolist())
        value = loss(out, _targets(y_row, _shape(out)))
        value.backward()
        total += value.data
    return total


def _tensor_step(
    model: Any, loss: Callable[[Any, Any], Any], X: np.ndarray, y: np.ndarray
) -> float:
    """Forward and backward the whole batch at once (the model converts X to its dtype)."""
    out = model(X)
    value = loss(out, _targets(y, out.shape))
    value.backward()
    return float(value.item())


# -- a tensor MLP on a toy data set ------------------------------------------------------


@dataclass
class TrainingRun:
    """What ``train_on_dataset`` made: the trained network, its data and loss history.

    Attributes:
        model: The trained tensor network (one sigmoid output unit).
        X: The training inputs, shape (n, d). y: Their targets, shape (n,).
        history: ``fit``'s loss per epoch.
        classification: True when y holds 0/1 labels (else a regression target).
        X_test, y_test: The held-out examples, never trained on (none by default).
    """

    model: Sequential
    X: np.ndarray
    y: np.ndarray
    history: History
    classification: bool
    X_test: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    y_test: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def predict(self, points: Any) -> np.ndarray:
        """The network's output for each row of ``points``, shape (n,); no graph is recorded."""
        with no_grad():
            return self.model(np.asarray(points, dtype=np.float64)).data[:, 0]

    @property
    def accuracy(self) -> float:
        """The fraction of examples on the right side of 0.5 (classification only)."""
        return _accuracy(self.predict(self.X), self.y)

    @property
    def test_accuracy(self) -> float:
        """The same fraction on the held-out examples (nan when there are none)."""
        return _accuracy(self.predict(self.X_test), self.y_test) if len(self.y_test) else math.nan


def _accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean((outputs > 0.5) == (targets > 0.5)))


def split(
    X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)``: a random ``test_fraction`` of the rows held out.

    ``round(test_fraction * n)`` rows (at most n - 1) drawn at random with ``seed`` (the
    toy sets come ordered by class) become the test set; both parts keep the rows' order.

    >>> X_train, y_train, X_test, y_test = split(np.arange(8.0)[:, None], np.arange(8.0), 0.25)
    >>> X_train.shape, X_test.shape
    ((6, 1), (2, 1))
    >>> sorted([*y_train, *y_test]) == list(range(8))
    True
    """
    fraction = validate.real("test_fraction", test_fraction, 0.0, 1.0)
    order = np.random.default_rng(seed).permutation(len(X))
    held_out = min(round(fraction * len(X)), len(X) - 1)
    test, train = np.sort(order[:held_out]), np.sort(order[held_out:])
    return X[train], y[train], X[test], y[test]


def train_on_dataset(
    dataset: str,
    hidden: Sequence[int] = (8,),
    activation: str = "tanh",
    optimizer: str = "adam",
    lr: float = 0.05,
    epochs: int = 500,
    batch_size: int | None = None,
    loss: Callable[[Any, Any], Any] | None = None,
    epsilon: float | None = None,
    seed: int = 0,
    n: int = 200,
    progress: bool | None = False,
    on_epoch: Callable[[int, float], None] | None = None,
    test_fraction: float = 0.0,
    model: Sequential | None = None,
) -> TrainingRun:
    """Train a tensor MLP with one sigmoid output unit on a toy data set of ``data``.

    The network is ``tensor_mlp([d, *hidden, 1], activation, "sigmoid")``; data and
    initial weights both come from ``seed``. The loss defaults to binary cross-entropy
    for the classification sets and to the mean squared error for ``sine``;
    ``batch_size=None`` is full-batch descent, any other size visits the examples
    in a new order each epoch.

    Args:
        dataset: A name ``data.load`` knows, e.g. one of ``data.DATASETS``.
        hidden: The hidden layers' widths; ``[]`` for none.
        activation: The hidden units' activation (sigmoid, tanh, relu, linear).
        optimizer: A name of ``OPTIMIZERS`` (sgd or adam), with learning rate ``lr``.
        epochs, batch_size, epsilon, progress, on_epoch: as for ``fit``.
        loss: loss(prediction, target), default as above.
        seed: The seed of the data, the initial weights and the shuffling.
        n: The number of points (the fixed truth tables ignore it).
        test_fraction: The part of the points held out for testing (see ``split``).
        model: The network to train (e.g. one ``nn.load`` filled) instead of a new one.

    Returns:
        A ``TrainingRun``.

    Example:
        >>> run = train_on_dataset("xor", hidden=[4], epochs=300, lr=0.1)
        >>> run.accuracy, run.history.epochs
        (1.0, 300)
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    X, y, X_test, y_test = split(*data.load(dataset, n=n, rng=seed), test_fraction, seed)
    classification = dataset.lower() != "sine"
    if loss is None:
        loss = binary_cross_entropy if classification else mse
    if model is None:
        model = tensor_mlp([X.shape[1], *hidden, 1], activation, "sigmoid", rng=seed)
    history = fit(
        model,
        X,
        y,
        loss=loss,
        optimizer=OPTIMIZERS[optimizer](model.parameters(), lr),
        epochs=epochs,
        epsilon=epsilon,
        batch_size=batch_size,
        shuffle=batch_size is not None,
        rng=seed,
        progress=progress,
        on_epoch=on_epoch,
    )
    return TrainingRun(model, X, y, history, classification, X_test, y_test)
