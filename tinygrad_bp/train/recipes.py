"""Recipes: a tensor MLP with one sigmoid output unit, trained on a toy data set by name.

``train_on_dataset`` wraps ``fit`` for the examples and ``tinygrad-bp train``;
``split`` holds out a test set; ``TrainingRun`` is what comes back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import data, validate
from ..graph import no_grad
from ..losses import binary_cross_entropy, mse
from ..nn import Sequential, tensor_mlp
from ..optim import SGD, Adam, Optimizer
from .history import History
from .loop import fit

# The optimisers ``train_on_dataset`` (and ``tinygrad-bp train``) choose from by name.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}


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
    compile: bool = True,
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
        epochs, batch_size, epsilon, progress, on_epoch, compile: as for ``fit``.
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
        compile=compile,
    )
    return TrainingRun(model, X, y, history, classification, X_test, y_test)
