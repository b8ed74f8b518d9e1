"""XOR by backpropagation: the 2-2-1 sigmoid network learns what the perceptron cannot.

The tutorial's claim: trained with online updates w_ij <- w_ij + lr delta_j x_i on
J = 1/2 sum (y - o)^2 until J < epsilon, a network with two hidden sigmoid units
computes XOR. ``train_xor`` runs that training and reads the four outputs;
``xor_pictures`` draws what the network learnt. The ``xor`` subcommand and
``examples/xor_2_2_1.py`` both run this one flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import data, viz
from .graph import no_grad
from .nn import MLP, get_weights, sigmoid_network
from .train import History, fit

__all__ = ["XorRun", "train_xor", "xor_pictures"]


@dataclass(frozen=True)
class XorRun:
    """A trained XOR network: the net, its loss history and its four outputs.

    ``X`` and ``y`` are the truth table (``data.xor()``), ``outputs[i]`` the net's
    output on ``X[i]``.
    """

    net: MLP
    history: History
    X: np.ndarray
    y: np.ndarray
    outputs: np.ndarray

    @property
    def correct(self) -> int:
        """How many of the four outputs are on the target's side of 0.5."""
        return int(np.sum((self.outputs > 0.5) == (self.y > 0.5)))


def train_xor(
    net: MLP, lr: float = 2.0, epochs: int = 5000, epsilon: float = 0.01, **fit_options: Any
) -> XorRun:
    """Train ``net`` (2 inputs, one output unit) on XOR by online gradient descent on J.

    ``fit_options`` go to ``fit`` (``progress``, ``on_epoch``, ``log_every``, ...).

    Example:
        >>> run = train_xor(MLP(2, [2, 1], rng=1), progress=False)
        >>> run.history.converged, run.correct
        (True, 4)
    """
    X, y = data.xor()
    history = fit(net, X, y, lr=lr, epochs=epochs, epsilon=epsilon, **fit_options)
    with no_grad():
        outputs = np.array([net(row.tolist()).data for row in X])  # type: ignore[union-attr]
    return XorRun(net, history, X, y, outputs)


def xor_pictures(
    run: XorRun, out: Path, boundary_title: str, network_title: str
) -> tuple[Path, Path]:
    """The decision boundary (``xor_boundary.png``) and the weights (``xor_network.png``).

    The plane is shaded by a tensor copy of the network: the same weights, one
    matrix product per layer instead of one Value per unit and point.
    """
    weights = get_weights(run.net)
    network = sigmoid_network(weights)
    with no_grad():
        boundary = viz.plot_decision_boundary(
            lambda points: network(points).data,
            run.X,
            run.y,
            out / "xor_boundary.png",
            boundary_title,
        )
    return boundary, viz.plot_network(weights, out / "xor_network.png", network_title)
