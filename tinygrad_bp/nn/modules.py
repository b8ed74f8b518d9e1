"""The layers: scalar neurons as in micrograd, and fully connected tensor layers.

Scalar modules (built on ``Value``, every number visible): ``Neuron``, ``Layer``,
``MLP``. Tensor modules (built on ``Tensor``, for batches): ``Linear`` and
``Sequential``, with the activation modules of ``activations.py``;
``tensor_mlp`` builds the tensor twin of an ``MLP``.

Every unit computes o = g(z), z = sum_i w_i x_i + b. Initial weights and biases
are drawn from U(-1/sqrt(n_in), 1/sqrt(n_in)).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..engine import Value, weighted_sum
from ..tensor import Tensor
from ..validate import integer, is_sequence
from .activations import ACTIVATIONS, get_activation
from .base import Module, Parameter, count, listing, prefixed

RandomSource = np.random.Generator | int | None


def _as_rng(rng: RandomSource) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _init_bound(nin: int) -> float:
    """Initial weights and biases are drawn from U(-1/sqrt(n_in), 1/sqrt(n_in)).

    PyTorch's default for ``nn.Linear``: each unit's net input starts with a
    variance of about 1/3 whatever the fan-in, in the steep part of sigmoid and
    tanh and with about half of ReLU units active, so all three train.
    """
    return 1.0 / np.sqrt(nin)


def _check_inputs(module: str, x: Sequence[Any], expected: int) -> list[Value]:
    """Turn the inputs into Values (numbers become leaves); wrong length: ValueError."""
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    if not is_sequence(x):
        raise TypeError(f"{module} takes a list of numbers or Values, got {type(x).__name__}")
    if len(x) != expected:
        raise ValueError(f"{module} expects {expected} inputs, given {len(x)}")
    return [xi if isinstance(xi, Value) else Value(xi) for xi in x]


# -- scalar modules ------------------------------------------------------------------


class Neuron(Module):
    """o = g(z), z = sum_i w_i x_i + b, with z recorded as ONE node (see weighted_sum).

    >>> neuron = Neuron(2, rng=0)
    >>> neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.3, 0.4, 1.0
    >>> round(neuron([0.777, 0.759]).data, 3)   # the worked example's output unit
    0.823
    >>> neuron
    Neuron(2, activation='sigmoid')
    """

    def __init__(self, nin: int, activation: str = "sigmoid", rng: RandomSource = None) -> None:
        nin = integer("nin", nin, minimum=1)
        self._g = get_activation(activation).apply
        self.activation = activation
        rng = _as_rng(rng)
        bound = _init_bound(nin)
        self.w = [
            Value(float(x), label=f"w{i + 1}")
            for i, x in enumerate(rng.uniform(-bound, bound, nin))
        ]
        self.b = Value(float(rng.uniform(-bound, bound)), label="b")

    def __call__(self, x: Sequence[Any]) -> Value:
        return self._forward(_check_inputs("Neuron", x, len(self.w)))

    def _forward(self, inputs: list[Value]) -> Value:
        return self._g(weighted_sum(self.w, inputs, self.b))

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        yield "weight", np.array(self.w, dtype=object)
        yield "bias", np.array(self.b, dtype=object)

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """n_out neurons reading the same n_in inputs; one weight matrix (n_in, n_out).

    >>> Layer(2, 16, activation="tanh")
    Layer(2, 16, activation='tanh')
    """

    def __init__(
        self, nin: int, nout: int, activation: str = "sigmoid", rng: RandomSource = None
    ) -> None:
        nout = integer("nout", nout, minimum=1)
        rng = _as_rng(rng)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        inputs = _check_inputs("Layer", x, self.nin)
        out = [neuron._forward(inputs) for neuron in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        yield "weight", np.array([n.w for n in self.neurons], dtype=object).T
        yield "bias", np.array([n.b for n in self.neurons], dtype=object)

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {len(self.neurons)}, activation={self.neurons[0].activation!r})"


class MLP(Module):
    """A multilayer perceptron of scalar neurons, as in micrograd.

    ``MLP(2, [2, 1])`` is the derivation's 2-2-1 network: two inputs, a hidden
    layer of two units and one output unit. Every layer uses ``activation``; the
    last one uses ``output_activation`` when given ("linear" for none). It prints
    its widths, its parameter count and one line per layer. Its weights are
    labelled as the derivation names them, ``w[l][i,j]`` (``w[l][0,j]`` the bias), so
    a picture of its graph names them as ``explain`` does.

    >>> net = MLP(2, [2, 1], rng=0)
    >>> out = net([1.0, 0.0])
    >>> 0.0 < out.data < 1.0, len(net.parameters())
    (True, 9)
    >>> [p.label for p in net.layers[1].parameters()]
    ['w[2][1,1]', 'w[2][2,1]', 'w[2][0,1]']
    >>> MLP(2, [16, 16, 1], output_activation="linear")
    MLP(2 -> 16 -> 16 -> 1, 337 parameters)
      (0): Layer(2, 16, activation='sigmoid')
      (1): Layer(16, 16, activation='sigmoid')
      (2): Layer(16, 1, activation='linear')
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str | None = None,
        rng: RandomSource = None,
    ) -> None:
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer widths, got {nouts!r:.80}")
        get_activation(activation)
        if output_activation is not None:
            get_activation(output_activation)
        rng = _as_rng(rng)
        sizes = [nin, *nouts]
        activations = [activation] * len(nouts)
        if output_activation is not None:
            activations[-1] = output_activation
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activations[i], rng) for i in range(len(nouts))
        ]
        # The derivation's names, which explain and every picture show: w[l][i,j] is the
        # weight from unit i of layer l-1 into unit j of layer l, w[l][0,j] its bias.
        for l_number, layer in enumerate(self.layers, start=1):
            for j, neuron in enumerate(layer.neurons, start=1):
                neuron.b.label = f"w[{l_number}][0,{j}]"
                for i, w in enumerate(neuron.w, start=1):
                    w.label = f"w[{l_number}][{i},{j}]"

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        out: Any = _check_inputs("MLP", x, self.layers[0].nin)
        for layer in self.layers:
            out = [neuron._forward(out) for neuron in layer.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        for i, layer in enumerate(self.layers):
            yield from prefixed(f"layers.{i}", layer._state_items())

    def __repr__(self) -> str:
        widths = [self.layers[0].nin, *(len(layer.neurons) for layer in self.layers)]
        header = f"MLP({' -> '.join(map(str, widths))}, {count(self._parameter_count())})"
        return listing(header, self.layers)


# -- tensor modules ------------------------------------------------------------------


class Linear(Module):
    """y = x W + b for a batch x of shape (..., n_in); W has shape (n_in, n_out).

    The layer records one graph node (``Tensor.affine``), as a neuron's net
    input is one node in the scalar engine.

    W is stored in the derivation's orientation (W[i, j] joins input i to unit j),
    so ``get_weights`` only has to stack the bias on top. Initial weights and
    biases: U(-1/sqrt(n_in), 1/sqrt(n_in)).

    >>> layer = Linear(3, 2, rng=0)
    >>> layer(Tensor.ones(4, 3)).shape
    (4, 2)
    >>> layer
    Linear(3, 2, bias=True)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        rng: RandomSource = None,
        dtype: Any = np.float64,
    ) -> None:
        nin = integer("nin", nin, minimum=1)
        nout = integer("nout", nout, minimum=1)
        rng = _as_rng(rng)
        bound = _init_bound(nin)
        self.weight = Tensor(rng.uniform(-bound, bound, (nin, nout)), True, dtype)
        self.bias = Tensor(rng.uniform(-bound, bound, nout), True, dtype) if bias else None

    def __call__(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x, dtype=self.weight.dtype)
        nin = self.weight.shape[0]
        if x.ndim == 0 or x.shape[-1] != nin:
            raise ValueError(f"Linear expects inputs of shape (..., {nin}), given {x.shape}")
        if self.bias is None:
            return x @ self.weight
        return x.affine(self.weight, self.bias)  # x @ W + b as one node

    def parameters(self) -> list[Tensor]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        yield "weight", self.weight
        if self.bias is not None:
            yield "bias", self.bias

    def __repr__(self) -> str:
        nin, nout = self.weight.shape
        return f"Linear({nin}, {nout}, bias={self.bias is not None})"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 2), Sigmoid(), ...)``.

    It prints as PyTorch's does, one line per layer, under a header with the
    parameter count and, for a stack of Linear layers and activations, the widths.

    >>> from tinygrad_bp.nn import Sigmoid
    >>> net = Sequential(Linear(2, 2, rng=0), Sigmoid(), Linear(2, 1, rng=1), Sigmoid())
    >>> net(np.array([[1.0, 0.0]])).shape
    (1, 1)
    >>> net
    Sequential(2 -> 2 -> 1, 9 parameters)
      (0): Linear(2, 2, bias=True)
      (1): Sigmoid()
      (2): Linear(2, 1, bias=True)
      (3): Sigmoid()
    """

    def __init__(self, *layers: Module) -> None:
        for layer in layers:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes modules, got {type(layer).__name__}")
        self.layers = list(layers)

    def __call__(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        for i, layer in enumerate(self.layers):
            yield from prefixed(f"layers.{i}", layer._state_items())

    def _widths(self) -> list[int]:
        """n_in, then each Linear's n_out, for Linear layers and activations that chain."""
        activations = {a.module for a in ACTIVATIONS.values()}
        widths: list[int] = []
        for layer in self.layers:
            if not isinstance(layer, Linear):
                if type(layer) not in activations:
                    return []  # a layer of another kind may change the width
                continue
            nin, nout = layer.weight.shape
            if widths and nin != widths[-1]:
                return []
            widths = widths or [nin]
            widths.append(nout)
        return widths

    def __repr__(self) -> str:
        sizes = " -> ".join(map(str, self._widths()))
        header = f"Sequential({sizes + ', ' if sizes else ''}{count(self._parameter_count())})"
        return listing(header, self.layers)


def tensor_mlp(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    output_activation: str | None = "sigmoid",
    rng: RandomSource = None,
) -> Sequential:
    """A fully connected tensor network: Linear, activation, ..., Linear, output activation.

    The tensor twin of ``MLP``: ``tensor_mlp([2, 2, 1])`` is the derivation's 2-2-1
    sigmoid network, for batches. Activations are named as for ``MLP``; "linear"
    (or None) for the output gives raw outputs, e.g. the logits for cross_entropy.

    Args:
        sizes: Layer widths ``[n_in, n_1, ..., n_out]``; ``[2, 1]`` has no hidden layer.
        activation: The hidden units' activation: sigmoid, tanh, relu or linear.
        output_activation: The output units' activation; "linear" or None for none.
        rng: A Generator or seed for the initial weights.

    Returns:
        A ``Sequential`` (``get_weights``/``set_weights`` work on it).

    >>> tensor_mlp([2, 8, 1], "tanh", rng=0)
    Sequential(2 -> 8 -> 1, 33 parameters)
      (0): Linear(2, 8, bias=True)
      (1): Tanh()
      (2): Linear(8, 1, bias=True)
      (3): Sigmoid()
    >>> tensor_mlp([64, 10], output_activation="linear")
    Sequential(64 -> 10, 650 parameters)
      (0): Linear(64, 10, bias=True)
    """
    hidden = get_activation(activation)
    output = get_activation("linear" if output_activation is None else output_activation)
    if not is_sequence(sizes):
        raise TypeError(f"sizes must be a list of layer widths, got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes!r:.80}")
    rng = _as_rng(rng)
    layers: list[Module] = []
    for index, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Linear(nin, nout, rng=rng))
        module = output.module if index == len(sizes) - 2 else hidden.module
        if module is not None:
            layers.append(module())
    return Sequential(*layers)
