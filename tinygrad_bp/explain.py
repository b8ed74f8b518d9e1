"""Explain mode: every number of one backpropagation step, by autograd and by the formulas.

For a fully connected sigmoid network, one input x, one target y and a learning
rate lr, the derivation computes, in this order:

    o_j = g(z_j),  z_j = w_0j + sum_i w_ij x_i          every activation, layer by layer
    J = 1/2 sum_k (y_k - o_k)^2                          the loss
    delta_k = o_k (1 - o_k)(y_k - o_k)                   output units
    delta_h = o_h (1 - o_h) sum_k w_hk delta_k           hidden units
    Delta w_ij = lr delta_j x_i,  w_ij <- w_ij + Delta w_ij

``explain`` finds each of these numbers twice. Once by reverse-mode autograd: a
scalar ``MLP`` runs forward, ``half_sse`` gives J, ``backward()`` fills every
gradient; a unit's delta is then -dJ/dz_j, read off its net-input node z_j, and
Delta w_ij = -lr dJ/dw_ij. Once by the closed form of ``tinygrad_bp.delta``, which
knows no autograd. The table puts the two side by side and says whether they agree.

Names in the table: ``o[l][j]`` is unit j of layer l (layer 0 is the input),
``delta[l][j]`` its delta, and ``w[l][i,j]`` the weight of layer l from unit i
below (i = 0 is the bias, whose input is fixed at 1) to unit j.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import delta
from .engine import Value
from .losses import half_sse
from .nn import MLP, Activation, get_activation, set_weights
from .tensor import Tensor
from .tracing import trace
from .validate import is_sequence

__all__ = [
    "AGREEMENT_TOLERANCE",
    "HAND_BUILT_XOR",
    "WORKED_INPUT",
    "WORKED_LR",
    "WORKED_TARGET",
    "WORKED_WEIGHTS",
    "AutogradPass",
    "ExplainTable",
    "Row",
    "autograd_pass",
    "checked_network",
    "explain",
    "traced_code",
    "worked_example",
]

# The derivation's worked example, in the (n_in + 1, n_out) convention (bias row first):
# both hidden biases 1.0, w_11 = 0.25, w_12 = 0.15, w_21 = 0.2, w_22 = 0.1; output bias
# 1.0, w_1,out = 0.3, w_2,out = 0.4.
WORKED_WEIGHTS = (
    np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]),
    np.array([[1.0], [0.3], [0.4]]),
)
# The tutorial names this example x3 = (0, 1) but its arithmetic uses x1 = 1, x2 = 0.
WORKED_INPUT = np.array([1.0, 0.0])
WORKED_TARGET = np.array([1.0])
WORKED_LR = 0.5

# XOR from three sigmoid units: OR and NAND in the hidden layer, AND of the two on top,
# with weights large enough to saturate every sigmoid (outputs within 1e-4 of 0 or 1).
HAND_BUILT_XOR = (
    np.array([[-10.0, 30.0], [20.0, -20.0], [20.0, -20.0]]),
    np.array([[-30.0], [20.0], [20.0]]),
)

# Two computations of the same number agree when |a - b| <= 1e-12 max(1, |b|):
# both do the same few float64 operations, so they differ only by rounding.
AGREEMENT_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Row:
    """One number of the step, computed two ways.

    Attributes:
        name: The quantity in the derivation's notation, e.g. ``delta[2][1]``.
        autograd: Its value from the scalar engine's backward pass.
        closed_form: Its value from the delta rules of ``tinygrad_bp.delta``.
    """

    name: str
    autograd: float
    closed_form: float

    @property
    def agree(self) -> bool:
        """True when the two values differ by rounding only (see AGREEMENT_TOLERANCE)."""
        scale = max(1.0, abs(self.closed_form))
        return abs(self.autograd - self.closed_form) <= AGREEMENT_TOLERANCE * scale


# The sections of the table, each headed by the rule that gives its numbers.
_SECTIONS = (
    ("o", "activations  o_j = g(z_j), z_j = w_0j + sum_i w_ij x_i"),
    ("J", "loss  J = 1/2 sum_k (y_k - o_k)^2"),
    ("delta", "deltas  delta_j = -dJ/dz_j: o_k(1-o_k)(y_k-o_k) or {slope} sum_k w_hk delta_k"),
    ("Delta w", "updates  Delta w_ij = lr delta_j x_i = -lr dJ/dw_ij"),
    ("new w", "new weights  w_ij + Delta w_ij"),
)


@dataclass(frozen=True)
class ExplainTable:
    """The derivation's table of one step: activations, J, deltas, updates, new weights.

    Attributes:
        rows: Every quantity, in the order the derivation computes them.
        activation: The hidden units' activation (its g'(z) heads the deltas).
    """

    rows: tuple[Row, ...]
    activation: str = "sigmoid"

    @property
    def ok(self) -> bool:
        """True when autograd and the closed form agree on every row."""
        return all(row.agree for row in self.rows)

    def __getitem__(self, name: str) -> Row:
        """The row called ``name``, e.g. ``table["J"]``; KeyError naming it if absent."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row named {name!r}")

    def format(self) -> str:
        """The table as text: one section per rule, one line per number.

        Returns:
            Lines ``name  autograd  delta rules  agree``, 8 decimals, grouped by rule.
        """
        lines = [f"{'quantity':<18}{'autograd':>16}{'delta rules':>16}  agree"]
        for prefix, heading in _SECTIONS:
            section = [row for row in self.rows if _section_of(row.name) == prefix]
            if section:
                lines.append(f"-- {heading.format(slope=self._slope())}")
            for row in section:
                # Adding 0.0 turns -0.0 (from -lr * 0.0) into 0.0 for printing.
                by_autograd, by_rules = row.autograd + 0.0, row.closed_form + 0.0
                verdict = "yes" if row.agree else "NO"
                lines.append(f"{row.name:<18}{by_autograd:>16.8f}{by_rules:>16.8f}  {verdict}")
        return "\n".join(lines)

    __str__ = format

    def _slope(self) -> str:
        """g'(z_h) of the hidden units as the deltas' heading writes it."""
        if self.activation == "sigmoid":
            return "o_h(1-o_h)"  # the derivation's own
        return f"g'(z_h) [{get_activation(self.activation).derivative}]"


def _section_of(name: str) -> str:
    """The section prefix of a row name: ``o``, ``J``, ``delta``, ``Delta w`` or ``new w``."""
    for prefix, _ in reversed(_SECTIONS):  # "Delta w" and "new w" before the shorter ones
        if name.startswith(prefix):
            return prefix
    raise ValueError(f"row {name!r} belongs to no section")


@dataclass(frozen=True)
class AutogradPass:
    """The scalar network after one forward and backward pass on one example.

    Attributes:
        net: The scalar ``MLP`` holding the weights (their ``.grad`` is dJ/dw).
        layers: Each layer's output Values ``o[l][j]``, input side first.
        loss: J, the root of the graph.
    """

    net: MLP
    layers: tuple[tuple[Value, ...], ...]
    loss: Value


def autograd_pass(
    weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, activation: str = "sigmoid"
) -> AutogradPass:
    """Run a scalar MLP with these weights forward and J backward.

    The hidden units compute ``activation`` (a name of ``nn.ACTIVATIONS``); the
    output units are sigmoid, as in the derivation.

    Every node is labelled in the derivation's notation (``x1``, ``w[1][0,2]``,
    ``z[1][2]``, ``o[1][2]``, ``J``), so its picture reads like the derivation.

    Args:
        weights: One ``(n_in + 1, n_out)`` matrix per layer, bias row first.
        x: The input, shape ``(n_in,)``.
        y: The target, shape ``(n_out,)``.

    Returns:
        The network, each layer's outputs and J, with every ``.grad`` filled.

    Raises:
        ValueError: If the shapes of weights, x and y do not fit together.

    Example:
        >>> run = autograd_pass(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET)
        >>> run.loss.label, round(run.loss.data, 4), run.layers[-1][0].label
        ('J', 0.0157, 'o[2][1]')
    """
    weights, x, y = checked_network(weights, x, y)
    net = MLP(len(x), [w.shape[1] for w in weights], activation, output_activation="sigmoid")
    set_weights(net, weights)
    for layer_number, layer in enumerate(net.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            neuron.b.label = f"w[{layer_number}][0,{j}]"
            for i, w in enumerate(neuron.w, start=1):
                w.label = f"w[{layer_number}][{i},{j}]"
    layers, loss = _labelled_forward(net, _labelled_inputs(x), y)
    loss.backward()
    return AutogradPass(net, layers, loss)


def _labelled_inputs(x: np.ndarray) -> list[Value]:
    return [Value(float(xi), label=f"x{i + 1}") for i, xi in enumerate(x)]


def _labelled_forward(
    net: MLP, inputs: list[Value], y: np.ndarray
) -> tuple[tuple[tuple[Value, ...], ...], Value]:
    """Each layer's outputs and J, every node labelled (``z[l][j]``, ``o[l][j]``, ``J``)."""
    outputs, layers = inputs, []
    for layer_number, layer in enumerate(net.layers, start=1):
        outputs = [neuron(outputs) for neuron in layer.neurons]
        for j, o in enumerate(outputs, start=1):
            o.label = f"o[{layer_number}][{j}]"
            _net_input(o).label = f"z[{layer_number}][{j}]"
        layers.append(tuple(outputs))
    loss = half_sse(list(outputs), y)
    loss.label = "J"
    return tuple(layers), loss


def traced_code(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray) -> str:
    """The code ``tinygrad_bp.trace`` writes for this network's step, each line with its value.

    The same labelled network as ``autograd_pass`` (``o_1_1`` is o[1][1], ``w_2_0_1`` the
    output bias w[2][0,1], ``d_z_2_1`` is dJ/dz[2][1] = -delta[2][1]; the inputs are x1, x2,
    and the target enters as the constant -y), traced once and shown with the number every
    line computes for this example.

    Example:
        >>> code = traced_code(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET)
        >>> [line.split("#")[1] for line in code.splitlines() if line.startswith("o_1_1 =")]
        [' = 0.7773']
    """
    run = autograd_pass(weights, x, y)
    _, x, y = checked_network(weights, x, y)
    step = trace(lambda *xs: _labelled_forward(run.net, list(map(Value, xs)), y)[1], *x.tolist())
    return step.annotated(*x.tolist())


def _net_input(o: Value) -> Value:
    """z_j of a unit o_j = g(z_j): the activation node's only child."""
    return o.children[0]


def checked_network(
    weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights, x and y as float64 arrays, or ValueError naming what does not fit.

    What ``explain`` and ``autograd_pass`` check first: one ``(n_in + 1, n_out)``
    matrix per layer, chaining from x to an output of y's shape, all finite.

    Example:
        >>> checked_network([[[0.0], [1.0]]], [2.0], [1.0])[0][0].shape
        (2, 1)
    """
    if not is_sequence(weights):
        raise ValueError(f"weights must be a list with one matrix per layer, got {weights!r:.80}")
    if len(weights) == 0:
        raise ValueError("weights must hold at least one layer's matrix")
    weights = [_number_array(w, f"weights[{i}]", ndim=2) for i, w in enumerate(weights)]
    x = _number_array(x, "x", ndim=1)
    y = _number_array(y, "y", ndim=1)
    output = delta.forward(weights, x)[-1]  # checks that x and the layers chain together
    if y.shape != output.shape:
        raise ValueError(f"y of shape {y.shape} does not match the output of shape {output.shape}")
    for name, array in (("weights", np.concatenate([w.ravel() for w in weights])), ("x", x)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite numbers")
    return weights, x, y


def _number_array(value: object, name: str, ndim: int) -> np.ndarray:
    """value as a non-empty float64 array with ndim axes, or ValueError naming ``name``."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != ndim or array.size == 0:
        kind = "a non-empty list of numbers" if ndim == 1 else "a matrix (list of rows) of numbers"
        raise ValueError(f"{name} must be {kind}, got {value!r:.80}")
    return array


def explain(
    weights: Sequence[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    lr: float,
    activation: str = "sigmoid",
) -> ExplainTable:
    """Compute one online step's table by autograd and by the delta rules, side by side.

    Autograd: ``autograd_pass``; delta_j = -dJ/dz_j and Delta w_ij = -lr dJ/dw_ij.
    Closed form: ``delta.forward``, ``delta.deltas`` and ``delta.weight_updates`` for
    the derivation's sigmoid units. Hidden units of another ``activation`` (tanh,
    relu) take the generalised rule delta_h = g'(z_h) sum_k w_hk delta_k, with g and
    g'(z) = ``slope`` from the one activation table ``nn.ACTIVATIONS``; the output
    unit stays sigmoid, delta_k = o_k (1 - o_k)(y_k - o_k).

    Args:
        weights: One ``(n_in + 1, n_out)`` matrix per layer, bias row first.
        x: The input, shape ``(n_in,)``.
        y: The target, shape ``(n_out,)``.
        lr: The learning rate alpha.
        activation: The hidden units' activation, a name of ``nn.ACTIVATIONS``.

    Returns:
        An ``ExplainTable``; ``str(table)`` is the printed table, ``table.ok`` whether
        every row agrees.

    Raises:
        ValueError: If the shapes do not fit together or lr is not a finite number.

    Example:
        >>> table = explain(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET, WORKED_LR)
        >>> table.ok, round(table["delta[2][1]"].autograd, 4), len(table.rows)
        (True, 0.0258, 25)
        >>> explain(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET, WORKED_LR, "tanh").ok
        True
    """
    if not isinstance(lr, (int, float)) or not math.isfinite(lr):
        raise ValueError(f"lr must be a finite number, got {lr!r}")
    weights, x, y = checked_network(weights, x, y)
    run = autograd_pass(weights, x, y, activation)
    if activation == "sigmoid":
        activations = delta.forward(weights, x)
        closed_deltas = delta.deltas(weights, activations, y)
    else:
        activations, closed_deltas = _generalised_rule(weights, x, y, get_activation(activation))
    updates = delta.weight_updates(activations, closed_deltas, lr)
    rows = [
        *_activation_rows(run, activations),
        Row("J", run.loss.data, delta.half_sse(activations[-1], y)),
        *_delta_rows(run, closed_deltas),
        *_weight_rows(run, weights, updates, lr),
    ]
    return ExplainTable(tuple(rows), activation)


def _generalised_rule(
    weights: list[np.ndarray], x: np.ndarray, y: np.ndarray, hidden: Activation
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every layer's outputs and deltas, hidden units computing ``hidden``, numpy only.

    o = g(z_j) with g = ``hidden`` below the sigmoid output layer; delta_k =
    o_k (1 - o_k)(y_k - o_k) at the output and delta_h = g'(z_h) sum_k w_hk delta_k
    below it, g'(z_h) = ``hidden.slope(o_h, z_h)``.
    """
    outputs, nets = [x], []
    for layer, w in enumerate(weights, start=1):
        nets.append(w[0] + outputs[-1] @ w[1:])
        last = layer == len(weights)
        outputs.append(delta.sigmoid(nets[-1]) if last else hidden.apply(Tensor(nets[-1])).data)
    o = outputs[-1]
    deltas = [o * (1.0 - o) * (y - o)]
    for w, z, h in zip(weights[:0:-1], nets[-2::-1], outputs[-2:0:-1]):
        deltas.insert(0, hidden.slope(h, z) * (w[1:] @ deltas[0]))
    return outputs, deltas


def _activation_rows(run: AutogradPass, activations: list[np.ndarray]) -> list[Row]:
    """o[l][j] by the scalar engine's forward pass and by ``delta.forward``."""
    return [
        Row(o.label, o.data, float(activations[layer][unit]))
        for layer, units in enumerate(run.layers, start=1)
        for unit, o in enumerate(units)
    ]


def _delta_rows(run: AutogradPass, closed_deltas: list[np.ndarray]) -> list[Row]:
    """delta[l][j] as -dJ/dz_j (autograd) and by the delta rules."""
    return [
        Row(f"delta{o.label[1:]}", -_net_input(o).grad, float(closed_deltas[layer][unit]))
        for layer, units in enumerate(run.layers)
        for unit, o in enumerate(units)
    ]


def _weight_rows(
    run: AutogradPass, weights: list[np.ndarray], updates: list[np.ndarray], lr: float
) -> list[Row]:
    """Delta w[l][i,j] = -lr dJ/dw_ij (autograd) and lr delta_j x_i, then the new weights."""
    changes, new_weights = [], []
    for layer, matrix in enumerate(weights):
        for unit, neuron in enumerate(run.net.layers[layer].neurons):
            for i, w in enumerate([neuron.b, *neuron.w]):
                by_autograd, by_rules = -lr * w.grad, float(updates[layer][i, unit])
                old = float(matrix[i, unit])
                changes.append(Row(f"Delta {w.label}", by_autograd, by_rules))
                new_weights.append(Row(f"new {w.label}", old + by_autograd, old + by_rules))
    return changes + new_weights


def worked_example() -> ExplainTable:
    """The derivation's worked example: 2-2-1 network, x = (1, 0), y = 1, lr = 0.5.

    Example:
        >>> table = worked_example()
        >>> round(table["o[1][1]"].closed_form, 3), round(table["new w[2][0,1]"].autograd, 4)
        (0.777, 1.0129)
    """
    return explain(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET, WORKED_LR)
