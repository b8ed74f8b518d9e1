"""The derivation's weight matrices: any model to and from one (n_in + 1, n_out) per layer.

The derivation writes a layer's weights as one matrix ``w`` of shape
``(n_in + 1, n_out)``: ``w[i, j]`` connects unit ``i`` of the layer below to unit
``j`` of the layer above, and row 0 is the bias (its input is fixed at 1).
``get_weights`` and ``set_weights`` convert any model to and from that form, so
one set of weights can be loaded into a scalar MLP, a tensor network and
``tinygrad_bp.delta`` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validate import is_sequence, real_array
from .base import Module, read, write
from .modules import MLP, Layer, Linear, Neuron, Sequential, tensor_mlp


def _dense_layers(model: Module) -> list[Neuron | Layer | Linear]:
    """The fully connected layers of a model, input side first (a Neuron is a layer of one)."""
    if isinstance(model, (Neuron, Layer, Linear)):
        return [model]
    if isinstance(model, MLP):
        return list(model.layers)
    if isinstance(model, Sequential):
        return [layer for layer in model.layers if isinstance(layer, Linear)]
    raise TypeError(
        f"expected an MLP, Layer, Neuron, Linear or Sequential, got {type(model).__name__}"
    )


def _layer_state(layer: Neuron | Layer | Linear) -> tuple[Any, Any]:
    """The layer's (weight, bias) storages, weight (n_in, n_out); a Neuron's as n_out = 1."""
    if isinstance(layer, Neuron):
        return np.array(layer.w, dtype=object).reshape(-1, 1), np.array([layer.b], dtype=object)
    items = dict(layer._state_items())
    return items["weight"], items.get("bias")


def get_weights(model: Module) -> list[np.ndarray]:
    """Each layer's weights as the derivation's (n_in + 1, n_out) matrix, bias in row 0.

    A ``Neuron`` is one layer with n_out = 1.

    >>> net = MLP(2, [2, 1], rng=0)
    >>> [w.shape for w in get_weights(net)]
    [(3, 2), (3, 1)]
    >>> [w.shape for w in get_weights(Neuron(2, rng=0))]
    [(3, 1)]
    """
    matrices = []
    for layer in _dense_layers(model):
        weight, bias = _layer_state(layer)
        nout = weight.shape[1]
        bias_row = np.zeros(nout) if bias is None else read(bias).astype(np.float64)
        matrices.append(np.vstack([bias_row, read(weight).astype(np.float64)]))
    return matrices


def set_weights(model: Module, weights: Sequence[Any]) -> None:
    """Load the derivation's (n_in + 1, n_out) matrices (bias in row 0) into a model.

    Every shape is checked first; on a mismatch nothing changes and ValueError
    lists each problem (TypeError for a matrix that does not hold real numbers).

    >>> neuron = Neuron(2, rng=0)
    >>> set_weights(neuron, [[[1.0], [0.3], [0.4]]])   # bias 1.0, weights 0.3 and 0.4
    >>> neuron.b.data, neuron.w[1].data
    (1.0, 0.4)
    """
    layers = _dense_layers(model)
    if not is_sequence(weights):
        raise TypeError(f"set_weights needs a list of matrices, got {type(weights).__name__}")
    if len(weights) != len(layers):
        raise ValueError(f"set_weights: the model has {len(layers)} layers, given {len(weights)}")
    plans, problems = [], []
    for index, (layer, given) in enumerate(zip(layers, weights)):
        weight, bias = _layer_state(layer)
        nin, nout = weight.shape
        matrix = real_array(f"set_weights: layer {index}", given)
        if matrix.shape != (nin + 1, nout):
            problems.append(
                f"layer {index}: expected shape {(nin + 1, nout)}, given {matrix.shape}"
            )
        elif bias is None and np.any(matrix[0] != 0):
            problems.append(f"layer {index} has no bias, but row 0 is not zero")
        plans.append((weight, bias, matrix))
    if problems:
        raise ValueError("set_weights: " + "; ".join(problems))
    for weight, bias, matrix in plans:
        write(weight, matrix[1:])
        if bias is not None:
            write(bias, matrix[0])


def sigmoid_network(weights: Sequence[Any]) -> Sequential:
    """A tensor sigmoid network holding the derivation's weights, for fast batch outputs.

    The layer widths come from the (n_in + 1, n_out) matrices (bias in row 0); every
    layer, the output included, is sigmoid, as in ``tinygrad_bp.delta``. Useful to run
    a scalar ``MLP``'s learnt weights on thousands of points at once (call it under
    ``no_grad`` when no gradient is wanted).

    >>> from tinygrad_bp import delta
    >>> hidden = np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]])   # the worked example
    >>> weights = [hidden, np.array([[1.0], [0.3], [0.4]])]
    >>> out = sigmoid_network(weights)(np.array([[1.0, 0.0]]))
    >>> bool(np.allclose(out.data[0], delta.forward(weights, np.array([1.0, 0.0]))[-1]))
    True
    """
    if not is_sequence(weights) or not len(weights):
        raise TypeError(f"sigmoid_network needs a list of matrices, got {weights!r:.80}")
    shapes = [np.shape(matrix) for matrix in weights]
    if any(len(shape) != 2 or shape[0] < 2 for shape in shapes):
        raise ValueError(
            f"sigmoid_network needs (n_in + 1, n_out) matrices with n_in >= 1, got shapes {shapes}"
        )
    sizes = [shapes[0][0] - 1, *(shape[1] for shape in shapes)]
    network = tensor_mlp(sizes, "sigmoid", "sigmoid")
    set_weights(network, weights)
    return network
