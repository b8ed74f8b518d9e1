"""The training loop for both engines: online or mini-batch gradient descent.

Online training (``batch_size=1``) is the derivation's procedure: take one
example, run it forward, backpropagate its error, update every weight, move on
to the next example. An epoch is one pass over the training set; its loss is
the loss of the whole set, gathered on the way (for the default loss, the
derivation's J = 1/2 sum over examples and outputs of (y - o)^2). Training stops
when that loss falls below ``epsilon``, when the validation loss has stopped
improving (``patience``), or after ``epochs`` passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import validate
from ..engine import Value
from ..losses import half_sse, reduction
from ..optim import SGD, Optimizer
from .evaluate import evaluate
from .history import History, loss_name
from .progress import ProgressBar, loss_text
from .steps import Steps, check_widths
from .stopping import EarlyStopping


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
    validation_data: tuple[Any, Any] | None = None,
    patience: int | None = None,
) -> History:
    """Train ``model`` on (X, y) and return the loss history.

    An epoch's loss is the loss of the whole training set, gathered batch by batch
    as the weights move: the mean over the examples for a loss that averages a
    batch (mse, the cross-entropies), the sum for one that sums it (``half_sse``,
    the derivation's J = 1/2 sum over examples and outputs of (y - o)^2); see
    ``losses.reduction``. Either way it does not depend on the batch size.

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
            traced, the step runs eagerly and ``History.eager`` and the progress line
            say why. False: always eagerly.
        validation_data: (X_val, y_val), measured after every epoch with no graph
            recorded: ``History.val_losses`` (on the scale of the epoch's loss) and,
            for class labels, ``History.val_accuracies`` (see ``evaluate.accuracy``).
        patience: stop once the validation loss has not improved for ``patience``
            epochs; training then ends with the weights of the epoch of lowest
            validation loss, restored (``History.best_epoch``), however it ended
            (early, converged or out of epochs). Needs ``validation_data``.

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
    X, y = _data("", X, y)
    validation = _data("val", *_pair(validation_data)) if validation_data is not None else None
    epochs = validate.integer("epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = validate.integer("batch_size", batch_size, minimum=1)
    if epsilon is not None:
        epsilon = validate.real("epsilon", epsilon, positive=True)
    if log_every is not None:
        log_every = validate.integer("log_every", log_every, minimum=1)
    if patience is not None:
        patience = validate.integer("patience", patience, minimum=1)
        if validation is None:
            raise ValueError("fit: patience= stops on the validation loss: give validation_data")
    optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr)
    scalar = _is_scalar_model(model)
    check_widths(model, loss, X, y, scalar)
    if validation is not None:
        check_widths(model, loss, *validation, scalar)
    step = Steps(model, loss, scalar, compile)
    batch_size = len(X) if batch_size is None else batch_size
    rng = np.random.default_rng(rng)
    name = loss_name(loss)
    bar = ProgressBar(epochs, progress, name=name)
    history = History(loss_name=name, epsilon=epsilon)
    stopping = EarlyStopping(model.parameters(), patience) if patience is not None else None
    # Each batch's loss times this is its share of the epoch's loss (see the docstring).
    mean = reduction(loss) == "mean"
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            total = 0.0
            for start in range(0, len(X), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                batch_loss = step(X[batch], y[batch])
                total += batch_loss * len(batch) if mean and not scalar else batch_loss
                optimizer.step()
            total = total / len(X) if mean else total
            history.losses.append(total)
            if validation is not None:
                history.record_validation(*evaluate(model, loss, *validation, scalar))
            bar.update(epoch, total)
            if on_epoch is not None:
                on_epoch(epoch, total)
            history.converged = epsilon is not None and total < epsilon
            early = stopping is not None and stopping.update(epoch, history.val_losses[-1])
            last = history.converged or early or epoch == epochs
            if log_every is not None and (epoch == 1 or epoch % log_every == 0 or last):
                line = f"  epoch {epoch:>6}   {name} = {loss_text(total)}"
                bar.write(line + history.validation_text())
            if history.converged:
                bar.stop(f"converged at epoch {epoch}: {name} < {epsilon:g}")
                break
            if early:
                history.stopped_early = True
                bar.stop(f"stopped early at epoch {epoch}: val {name} no lower for {patience}")
                break
        if stopping is not None and stopping.best_epoch:
            stopping.restore()
            history.best_epoch = stopping.best_epoch
            bar.note(f"weights of epoch {stopping.best_epoch} (lowest val {name}) restored")
        elif stopping is not None:  # every validation loss was nan: nothing to go back to
            bar.note(f"val {name} was never a number: the last weights kept")
    except BrokenPipeError:  # the reader of the output went away: leave nothing behind
        bar.discard()
        raise
    except BaseException as error:  # KeyboardInterrupt too: the bar says why it stopped
        bar.stop(f"stopped by {type(error).__name__} after {history.epochs} epochs")
        raise
    finally:
        history.eager = step.eager
        if step.eager:
            bar.note(f"ran eagerly: {step.eager}")
        bar.close()
    return history


def _is_scalar_model(model: Any) -> bool:
    params = model.parameters()
    return bool(params) and isinstance(params[0], Value)


def _pair(data: Any) -> tuple[Any, Any]:
    """validation_data as (X_val, y_val), or TypeError saying what it must be."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"fit: validation_data must be a pair (X_val, y_val), got {data!r:.80}")
    return data[0], data[1]


def _data(kind: str, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and y as float arrays, with one target (row) per input row, at least one."""
    where, suffix = ("fit: validation_data", "_val") if kind else ("fit", "")
    X = validate.real_array(f"fit: X{suffix}", X)
    y = validate.real_array(f"fit: y{suffix}", y)
    if X.ndim != 2 or y.ndim == 0 or len(y) != len(X) or len(X) == 0:
        raise ValueError(
            f"{where} needs X of shape (n, n_in) and n targets, n >= 1, got {X.shape} and {y.shape}"
        )
    return X, y
