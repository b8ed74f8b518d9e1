"""Record a training path: full-batch gradient descent, the weights kept every few steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn import Module, get_weights
from ..optim import SGD
from ..validate import integer, real


def descent_path(
    model: Module,
    loss_fn: Callable[[Module], Any],
    lr: float,
    steps: int,
    snapshots: int = 200,
) -> list[list[np.ndarray]]:
    """Train ``model`` by gradient descent on ``loss_fn(model)``; return its weights along the way.

    Each step is w <- w - lr dJ/dw (``optim.SGD``); the weights (``nn.get_weights``) are
    kept at the start and then about ``snapshots`` times, evenly, the last step always.

    >>> from tinygrad_bp import data
    >>> from tinygrad_bp.landscape import dataset_loss
    >>> from tinygrad_bp.nn import MLP
    >>> net = MLP(2, [2, 1], rng=0)
    >>> path = descent_path(net, dataset_loss(*data.xor()), lr=0.5, steps=50, snapshots=10)
    >>> len(path), bool(np.array_equal(path[-1][0], get_weights(net)[0]))
    (11, True)
    """
    lr = real("lr", lr, positive=True)
    steps = integer("steps", steps, minimum=1)
    every = max(1, steps // integer("snapshots", snapshots, minimum=1))
    optimizer = SGD(model.parameters(), lr=lr)
    path = [get_weights(model)]
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss_fn(model).backward()
        optimizer.step()
        if step % every == 0 or step == steps:
            path.append(get_weights(model))
    return path
