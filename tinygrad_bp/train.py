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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from tqdm import tqdm

from . import data, validate
from .engine import Value
from .graph import mode, no_grad
from .losses import binary_cross_entropy, half_sse, mse
from .nn import Sequential, tensor_mlp
from .optim import SGD, Adam, Optimizer
from .tensor import Tensor
from .tracing import Step, TraceError, trace

# The optimisers ``train_on_dataset`` (and ``tinygrad-bp train``) choose from by name.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}


def loss_name(loss: Callable[..., Any]) -> str:
    """What the display calls a loss: J for the derivation's half SSE, else its name.

    >>> from tinygrad_bp.losses import half_sse, mse
    >>> loss_name(half_sse), loss_name(mse), loss_name(lambda o, y: o)
    ('J', 'mse', 'loss')
    """
    if loss is half_sse:
        return "J"
    name = getattr(loss, "__name__", "")
    return name if name.isidentifier() else "loss"


@dataclass(repr=False)
class History:
    """What ``fit`` did: the loss of every epoch, and whether it reached epsilon.

    ``loss_name`` is what the progress display and the log call the loss (J for the
    derivation's half SSE); the repr is one short line, however long the training.

    >>> History([0.69314, 0.3, 0.0099], converged=True, loss_name="J")
    History(epochs=3, converged=True, J: 0.6931 -> 0.0099)
    """

    losses: list[float] = field(default_factory=list)
    converged: bool = False
    loss_name: str = "loss"

    @property
    def epochs(self) -> int:
        return len(self.losses)

    def __repr__(self) -> str:
        text = f"History(epochs={self.epochs}, converged={self.converged}"
        if self.losses:
            text += f", {self.loss_name}: {self.losses[0]:.4g} -> {self.losses[-1]:.4g}"
        return text + ")"


def write(line: str, file: TextIO | None = None) -> None:
    """Print ``line`` (default to stdout) without breaking a progress bar on the screen.

    Any bar drawn on the same terminal is cleared first and redrawn below the line
    (``tqdm.write``), so a log line never lands on the bar's row. Use it, not
    ``print``, in an ``on_epoch`` callback of ``fit(progress=True)``.
    """
    tqdm.write(line, file=file if file is not None else sys.stdout)


def _notebook_bar() -> type[tqdm] | None:
    """tqdm's Jupyter widget when running in a notebook kernel with ipywidgets, else None."""
    if "ipykernel.zmqshell" not in sys.modules:
        return None
    with warnings.catch_warnings():  # tqdm warns when ipywidgets is missing: fall back quietly
        warnings.simplefilter("ignore")
        from tqdm import autonotebook  # its tqdm: the widget, or the plain class as a fallback
    return None if autonotebook.tqdm is tqdm else autonotebook.tqdm


class ProgressBar:
    """The progress of training: epoch, percentage and the latest loss, on one line.

    On a terminal it is a live bar (tqdm; redrawn at most 10 times a second), in a
    Jupyter notebook tqdm's widget (one output, not one per epoch); on any other
    stream (a file, a pipe) it stays silent until ``close``, which writes one clean
    final line. It is shown when ``enabled`` (None: only when the stream is a
    terminal). It ends either at 100% or with the reason it stopped
    (``stop("converged at epoch 312: J < 0.01")``). Log lines go through ``write``,
    which clears the bar first, so they never share its row.

    Args:
        total: the number of epochs planned.
        enabled: show the progress (None: only on a terminal).
        stream: where the bar goes (default: sys.stderr).
        name: what the loss is called (J for the derivation's half SSE).
    """

    def __init__(
        self,
        total: int,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        name: str = "loss",
    ):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.name = name
        self.epoch = 0
        self.loss: float | None = None
        self.reason = ""
        self._bar: tqdm | None = None
        if not self.enabled:
            return
        notebook = _notebook_bar() if self.stream is sys.stderr else None
        if notebook is not None:
            self._bar = notebook(total=total, desc=name, unit="epoch")
        elif _isatty(self.stream):
            self._bar = tqdm(
                total=total,
                file=self.stream,
                unit="epoch",
                mininterval=0.1,
                dynamic_ncols=True,
                bar_format=(
                    "{percentage:3.0f}%|{bar}| epoch {n_fmt}/{total_fmt} "
                    "[{elapsed}<{remaining}]{postfix}"
                ),
            )

    def update(self, epoch: int, loss: float) -> None:
        """Record that ``epoch`` (counted from 1) ended with ``loss``; redraw if it is time."""
        self.epoch, self.loss = epoch, loss
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self.name} {loss:.6g}", refresh=False)
            self._bar.update(epoch - self._bar.n)

    def stop(self, reason: str) -> None:
        """Say why training ended before ``total`` epochs (shown when the bar closes)."""
        self.reason = reason

    def write(self, line: str, file: TextIO | None = None) -> None:
        """Print a log line (default to stdout) above the bar, never on its row."""
        write(line, file)

    def close(self) -> None:
        """Leave the final state on screen: 100%, or the epoch reached and why it stopped."""
        if not self.enabled:
            return
        summary = f"{self.name} {self.loss:.6g}" if self.loss is not None else ""
        if self.reason:
            summary += f"; {self.reason}"
        if self._bar is not None:
            self._bar.set_postfix_str(summary, refresh=False)
            self._bar.close()
            return
        self.stream.write(f"epoch {self.epoch}/{self.total}  {summary}\n")
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


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
    log_every: int | None = None,
    compile: bool = True,
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
        progress: show the progress (None: only on a terminal; see ``ProgressBar``).
        on_epoch: called as on_epoch(epoch, loss) after every epoch. To print from it
            while the bar is shown, use ``train.write(line)``, not ``print``.
        log_every: print ``epoch N   J = ...`` to stdout after epoch 1, every
            ``log_every`` epochs and the last one, through the bar (never on its row).
            The loss is called J for the derivation's half SSE, else by its name.
        compile: run each step as a traced step (``tinygrad_bp.trace``: the same numbers,
            faster), traced once per batch shape; where the model or the loss cannot be
            traced, the step runs eagerly. False: always eagerly.

    >>> from tinygrad_bp.nn import MLP
    >>> net = MLP(1, [1], rng=0)
    >>> history = fit(net, [[0.0], [1.0]], [0.0, 1.0], lr=2.0, epochs=500, epsilon=0.05)
    >>> history.converged, history.losses[-1] < history.losses[0]
    (True, True)
    >>> _ = fit(net, [[0.0], [1.0]], [0.0, 1.0], epochs=2, log_every=1)  # doctest: +ELLIPSIS
      epoch      1   J = 0.0...
      epoch      2   J = 0.0...
    """
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"fit needs a module, got {type(model).__name__}")
    X, y = validate.real_array("fit: X", X), validate.real_array("fit: y", y)
    if X.ndim != 2 or y.ndim == 0 or len(y) != len(X) or len(X) == 0:
        raise ValueError(
            f"fit needs X of shape (n, n_in) and n targets, n >= 1, got {X.shape} and {y.shape}"
        )
    epochs = validate.integer("epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = validate.integer("batch_size", batch_size, minimum=1)
    if epsilon is not None:
        epsilon = validate.real("epsilon", epsilon, positive=True)
    if log_every is not None:
        log_every = validate.integer("log_every", log_every, minimum=1)
    optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr)
    scalar = _is_scalar_model(model)
    _check_widths(model, loss, X, y, scalar)
    step = _Steps(model, loss, scalar, compile)
    batch_size = len(X) if batch_size is None else batch_size
    rng = np.random.default_rng(rng)
    name = loss_name(loss)
    bar = ProgressBar(epochs, progress, name=name)
    history = History(loss_name=name)
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            total = 0.0
            for start in range(0, len(X), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                total += step(X[batch], y[batch])
                optimizer.step()
            history.losses.append(total)
            bar.update(epoch, total)
            if on_epoch is not None:
                on_epoch(epoch, total)
            history.converged = epsilon is not None and total < epsilon
            last = history.converged or epoch == epochs
            if log_every is not None and (epoch == 1 or epoch % log_every == 0 or last):
                bar.write(f"  epoch {epoch:>6}   {name} = {total:.6f}")
            if history.converged:
                bar.stop(f"converged at epoch {epoch}: {name} < {epsilon:g}")
                break
    except BaseException as error:  # KeyboardInterrupt too: the bar says why it stopped
        bar.stop(f"stopped by {type(error).__name__} after {history.epochs} epochs")
        raise
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


class _Steps:
    """One training step of ``fit``: forward, backward, return the loss; grads add up.

    Scalar models run example by example, tensor models a batch at once. With
    ``compile``, the loss of one example (or batch) is traced the first time each
    shape comes (``tinygrad_bp.trace``) and replayed from then on; a model or loss
    that cannot be traced (``trace`` raises ValueError) keeps the eager step.
    """

    def __init__(self, model: Any, loss: Callable[[Any, Any], Any], scalar: bool, compile: bool):
        self.model, self.loss, self.scalar, self.compile = model, loss, scalar, compile
        self.traced: dict[tuple[int, ...], Step | None] = {}

    def example_loss(self, x: Any, y: Any) -> Any:
        """The loss of one example (scalar models: x a list) or one batch (tensor models)."""
        out = self.model(x)
        return self.loss(out, _targets(y, _shape(out)))

    def __call__(self, X: np.ndarray, y: np.ndarray) -> float:
        if not self.scalar:
            return self.run(X, y)
        return sum((self.run(x_row.tolist(), y_row) for x_row, y_row in zip(X, y)), 0.0)

    def run(self, x: Any, y: Any) -> float:
        # Anomaly mode (check.detect_anomaly) inspects every op: only the eager step has them.
        step = self.step_for(x, y) if self.compile and not mode.observed else None
        if step is not None:
            try:
                return step(x, y)
            except TraceError:  # another branch on data this time: run this call eagerly
                pass
        value = self.example_loss(x, y)
        value.backward()
        return float(value.data) if self.scalar else float(value.item())

    def step_for(self, x: Any, y: Any) -> Step | None:
        shape = (len(x), *np.shape(y)) if self.scalar else (*np.shape(x), *np.shape(y))
        if shape not in self.traced:
            try:
                self.traced[shape] = trace(self.example_loss, x, y)
            except ValueError:  # not traceable: this shape runs eagerly
                self.traced[shape] = None
        return self.traced[shape]


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
