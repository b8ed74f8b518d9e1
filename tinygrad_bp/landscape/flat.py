"""A model's weights as one flat vector theta, in the derivation's layout.

theta is the concatenation of ``nn.get_weights(model)``: each layer's (n_in + 1, n_out)
matrix, row 0 the biases, read row by row, input side first. Every entry has a name,
the model's own state-dict name (``layers.0.weight[1, 0]``: input 1 to unit 0 of
layer 0; ``layers.0.bias[0]``), so a slice can be taken along two named weights.
A ``Linear`` without bias keeps its row 0 at zero: ``free`` marks the entries a
direction may move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn import MLP, Layer, Linear, Module, Neuron, Sequential, get_weights, set_weights
from ..nn.activations import ACTIVATIONS

# The models a slice can be taken of: those whose weights get_weights reads.
DENSE_MODELS = (MLP, Layer, Neuron, Linear, Sequential)


@dataclass(frozen=True)
class FlatWeights:
    """The layout of theta for one model: shapes, names, free entries, activations.

    Attributes:
        shapes: each layer's (n_in + 1, n_out).
        names: one name per entry of theta.
        free: True where a direction may move theta (False: a missing bias).
        activations: each layer's activation name, or None if the model is not a
            plain stack of dense layers and table activations (then it can only be
            evaluated through the model itself, one grid point at a time).
    """

    shapes: tuple[tuple[int, int], ...]
    names: tuple[str, ...]
    free: np.ndarray
    activations: tuple[str, ...] | None

    @property
    def size(self) -> int:
        return len(self.names)

    def matrices(self, theta: np.ndarray) -> list[np.ndarray]:
        """theta (..., P) as one (..., n_in + 1, n_out) array per layer (views, not copies)."""
        out, start = [], 0
        for rows, cols in self.shapes:
            stop = start + rows * cols
            out.append(theta[..., start:stop].reshape(*theta.shape[:-1], rows, cols))
            start = stop
        return out

    def index(self, name: str) -> int:
        """Where the entry called ``name`` sits in theta; ValueError listing some names."""
        try:
            return self.names.index(name)
        except ValueError:
            shown = ", ".join(self.names[:6]) + (", ..." if self.size > 6 else "")
            raise ValueError(
                f"no weight called {name!r:.80}; the model's weights are named {shown}"
            ) from None


def flat_weights(model: Module) -> tuple[FlatWeights, np.ndarray]:
    """The layout of a model's theta and theta itself (a float64 copy).

    >>> layout, theta = flat_weights(MLP(2, [2, 1], rng=0))
    >>> layout.size, layout.names[0], layout.names[2], layout.activations
    (9, 'layers.0.bias[0]', 'layers.0.weight[0, 0]', ('sigmoid', 'sigmoid'))
    """
    if not isinstance(model, DENSE_MODELS):
        raise TypeError(
            "an error surface needs an MLP, Layer, Neuron, Linear or Sequential, "
            f"got {type(model).__name__}"
        )
    matrices = get_weights(model)
    counted = sum(matrix.size for matrix in matrices)
    if sum(int(np.size(p.data)) for p in model.parameters()) > counted:
        raise TypeError(
            f"{type(model).__name__} holds parameters outside its dense layers; "
            "an error surface moves only the weights of MLP, Layer, Neuron and Linear layers"
        )
    names, free = _names(model, matrices)
    layout = FlatWeights(
        tuple(m.shape for m in matrices), tuple(names), np.array(free), _activations(model)
    )
    return layout, np.concatenate([m.ravel() for m in matrices])


def _prefixes(model: Module) -> list[str]:
    """The state-dict prefix of each dense layer ('' for a single layer)."""
    if isinstance(model, MLP):
        return [f"layers.{i}." for i in range(len(model.layers))]
    if isinstance(model, Sequential):
        return [f"layers.{i}." for i, layer in enumerate(model.layers) if isinstance(layer, Linear)]
    return [""]


def _names(model: Module, matrices: Sequence[np.ndarray]) -> tuple[list[str], list[bool]]:
    """Each entry's state-dict name, and whether it is free (a missing bias is not)."""
    with_bias = [True] * len(matrices)
    if isinstance(model, (Linear, Sequential)):
        layers = [model] if isinstance(model, Linear) else model.layers
        with_bias = [layer.bias is not None for layer in layers if isinstance(layer, Linear)]
    names, free = [], []
    single_neuron = isinstance(model, Neuron)
    for prefix, matrix, bias in zip(_prefixes(model), matrices, with_bias):
        for i, j in np.ndindex(*matrix.shape):
            if single_neuron:
                names.append("bias" if i == 0 else f"weight[{i - 1}]")
            else:
                names.append(f"{prefix}bias[{j}]" if i == 0 else f"{prefix}weight[{i - 1}, {j}]")
            free.append(bias or i > 0)
    return names, free


def _activations(model: Module) -> tuple[str, ...] | None:
    """Each dense layer's activation name, if the model is a plain stack; else None."""
    if isinstance(model, Neuron):
        return (model.activation,)
    if isinstance(model, Layer):
        return (model.neurons[0].activation,)
    if isinstance(model, MLP):
        return tuple(layer.neurons[0].activation for layer in model.layers)
    layers: list[Module] = [model] if isinstance(model, Linear) else _stack(model)
    by_module = {a.module: a.name for a in ACTIVATIONS.values() if a.module is not None}
    names: list[str] = []
    for layer in layers:
        if isinstance(layer, Linear):
            names.append("linear")
        elif type(layer) in by_module and names and names[-1] == "linear":
            names[-1] = by_module[type(layer)]
        else:
            return None  # a layer of another kind, or two activations in a row
    return tuple(names)


def _stack(model: Module) -> list[Module]:
    """The layers of a Sequential."""
    assert isinstance(model, Sequential)
    return list(model.layers)


def load(model: Module, layout: FlatWeights, theta: np.ndarray) -> None:
    """Write theta into the model (through ``set_weights``)."""
    set_weights(model, layout.matrices(np.asarray(theta, dtype=np.float64)))


def snapshot(model: Module) -> list[Any]:
    """Exact copies of every parameter's data, to put back with ``restore``."""
    return [
        np.copy(p.data) if isinstance(p.data, np.ndarray) else p.data for p in model.parameters()
    ]


def restore(model: Module, saved: Sequence[Any]) -> None:
    """Put back what ``snapshot`` saved, in place (Tensors keep their arrays)."""
    for parameter, data in zip(model.parameters(), saved):
        if isinstance(data, np.ndarray) and isinstance(parameter.data, np.ndarray):
            parameter.data[...] = data
        else:
            parameter.data = data
