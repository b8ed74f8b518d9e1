"""Neural-network modules on both engines, and the derivation's weight convention.

Scalar modules (built on ``Value``, every number visible): ``Neuron``, ``Layer``,
``MLP``, as in micrograd. Tensor modules (built on ``Tensor``, for batches):
``Linear``, ``Sequential`` and the activations ``Sigmoid``, ``Tanh``, ``ReLU``.

The derivation writes a layer's weights as one matrix ``w`` of shape
``(n_in + 1, n_out)``: ``w[i, j]`` connects unit ``i`` of the layer below to unit
``j`` of the layer above, and row 0 is the bias (its input is fixed at 1).
``get_weights`` and ``set_weights`` convert any model to and from that form, so
one set of weights can be loaded into a scalar MLP, a tensor network and
``tinygrad_bp.delta`` alike.
"""

from __future__ import annotations

import numbers
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..engine import Value, weighted_sum
from ..tensor import Tensor

Parameter = Value | Tensor
RandomSource = np.random.Generator | int | None


def _identity(z: Value) -> Value:
    """The "linear" activation: o = z."""
    return z


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "linear": _identity,
}


def _activation(name: str) -> Callable[[Value], Value]:
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def _as_rng(rng: RandomSource) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _init_bound(nin: int) -> float:
    """Initial weights and biases are drawn from U(-1/sqrt(n_in), 1/sqrt(n_in)).

    PyTorch's default for ``nn.Linear``: each unit's net input starts with a
    variance of about 1/3 whatever the fan-in, in the steep part of sigmoid and
    tanh and with about half of ReLU units active, so all three train.
    """
    return 1.0 / np.sqrt(nin)


def _check_width(name: str, nin: int) -> None:
    if not isinstance(nin, (int, np.integer)) or isinstance(nin, bool):
        raise TypeError(f"{name} must be a positive integer, got {type(nin).__name__}: {nin!r}")
    if nin < 1:
        raise ValueError(f"{name} must be a positive integer, got {nin!r}")


class Module:
    """Base of every module: parameters, gradients and a state dict.

    A subclass defines ``parameters()`` (deterministic order) and
    ``_state_items()``: pairs (name, storage) where storage is a ``Tensor`` or an
    object array of ``Value`` s laid out in the shape of the saved array.
    """

    def parameters(self) -> list[Parameter]:
        raise NotImplementedError

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Forget accumulated gradients (Values: 0.0; Tensors: None, as PyTorch)."""
        for p in self.parameters():
            p.grad = 0.0 if isinstance(p, Value) else None

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return name -> array copies of every parameter."""
        return {name: _read(storage) for name, storage in self._state_items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters, after checking every name and shape.

        On any mismatch nothing is changed and ValueError lists each problem
        (TypeError if some array is not numeric).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict needs a dict of arrays, got {type(state).__name__}")
        storages = dict(self._state_items())
        arrays, problems = {}, []
        for name in storages.keys() - state.keys():
            problems.append(f"missing {name!r}")
        for name in state.keys() - storages.keys():
            problems.append(f"unexpected {name!r}")
        for name in storages.keys() & state.keys():
            expected = _shape(storages[name])
            try:
                array = np.asarray(state[name])
            except Exception as error:  # a ragged list, say
                problems.append(f"{name!r} is not an array: {error}")
                continue
            if array.dtype.kind not in "biuf":
                problems.append(f"{name!r} has non-numeric dtype {array.dtype}")
            elif array.shape != expected:
                problems.append(f"{name!r} has shape {array.shape}, expected {expected}")
            arrays[name] = array
        if problems:
            non_numeric = any("non-numeric" in problem for problem in problems)
            error = TypeError if non_numeric else ValueError
            raise error("load_state_dict: " + "; ".join(sorted(problems)))
        for name, array in arrays.items():
            _write(storages[name], array)


def _read(storage: Any) -> np.ndarray:
    if isinstance(storage, Tensor):
        return storage.data.copy()
    return np.array([v.data for v in storage.flat], dtype=np.float64).reshape(storage.shape)


def _write(storage: Any, array: np.ndarray) -> None:
    if isinstance(storage, Tensor):
        with np.errstate(over="ignore"):  # 1e300 into float32 is inf, as IEEE rounds it
            storage.data[...] = array
    else:
        for value, number in zip(storage.flat, array.flat):
            value.data = float(number)


def _shape(storage: Any) -> tuple[int, ...]:
    return tuple(storage.shape)


def _prefixed(prefix: str, items: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    for name, storage in items:
        yield f"{prefix}.{name}", storage


def _check_inputs(module: str, x: Sequence[Any], expected: int) -> list[Value]:
    """Turn the inputs into Values (numbers become leaves); wrong length: ValueError."""
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    if not isinstance(x, (Sequence, np.ndarray)) or isinstance(x, str):
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
    """

    def __init__(self, nin: int, activation: str = "sigmoid", rng: RandomSource = None) -> None:
        _check_width("nin", nin)
        self.activation = activation
        self._g = _activation(activation)
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
    """n_out neurons reading the same n_in inputs; one weight matrix (n_in, n_out)."""

    def __init__(
        self, nin: int, nout: int, activation: str = "sigmoid", rng: RandomSource = None
    ) -> None:
        _check_width("nout", nout)
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
    last one uses ``output_activation`` when given ("linear" for none).

    >>> net = MLP(2, [2, 1], rng=0)
    >>> out = net([1.0, 0.0])
    >>> 0.0 < out.data < 1.0, len(net.parameters())
    (True, 9)
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
            raise ValueError(f"nouts must be a non-empty list of layer widths, got {nouts!r}")
        rng = _as_rng(rng)
        sizes = [nin, *nouts]
        activations = [activation] * len(nouts)
        if output_activation is not None:
            activations[-1] = output_activation
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activations[i], rng) for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        out: Any = _check_inputs("MLP", x, self.layers[0].nin)
        for layer in self.layers:
            out = [neuron._forward(out) for neuron in layer.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        for i, layer in enumerate(self.layers):
            yield from _prefixed(f"layers.{i}", layer._state_items())

    def __repr__(self) -> str:
        widths = [len(layer.neurons) for layer in self.layers]
        return f"MLP({self.layers[0].nin}, {widths})"


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
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        rng: RandomSource = None,
        dtype: Any = np.float64,
    ) -> None:
        _check_width("nin", nin)
        _check_width("nout", nout)
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


class _Activation(Module):
    """A parameter-free module applying one Tensor method elementwise."""

    method = ""

    def __call__(self, x: Any) -> Any:
        x = x if isinstance(x, (Tensor, Value)) else Tensor(x)
        return getattr(x, self.method)()

    def parameters(self) -> list[Tensor]:
        return []

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        return iter(())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(_Activation):
    """g(z) = 1 / (1 + e^-z), elementwise."""

    method = "sigmoid"


class Tanh(_Activation):
    """tanh(z), elementwise."""

    method = "tanh"


class ReLU(_Activation):
    """max(0, z), elementwise."""

    method = "relu"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 2), Sigmoid(), ...)``.

    >>> net = Sequential(Linear(2, 2, rng=0), Sigmoid(), Linear(2, 1, rng=1), Sigmoid())
    >>> net(np.array([[1.0, 0.0]])).shape
    (1, 1)
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
            yield from _prefixed(f"layers.{i}", layer._state_items())

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential({inner})"


# The tensor module of each activation name of ACTIVATIONS; "linear" adds no module.
_ACTIVATION_MODULES: dict[str, type[_Activation] | None] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "linear": None,
}
assert _ACTIVATION_MODULES.keys() == ACTIVATIONS.keys()


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
    Sequential(Linear(2, 8, bias=True), Tanh(), Linear(8, 1, bias=True), Sigmoid())
    >>> tensor_mlp([64, 10], output_activation="linear")
    Sequential(Linear(64, 10, bias=True))
    """
    output_activation = "linear" if output_activation is None else output_activation
    _activation(activation)
    _activation(output_activation)
    if not isinstance(sizes, (Sequence, np.ndarray)) or isinstance(sizes, str):
        raise TypeError(f"sizes must be a list of layer widths, got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes!r}")
    rng = _as_rng(rng)
    layers: list[Module] = []
    for index, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Linear(nin, nout, rng=rng))
        last = index == len(sizes) - 2
        module = _ACTIVATION_MODULES[output_activation if last else activation]
        if module is not None:
            layers.append(module())
    return Sequential(*layers)


# -- the derivation's weight matrices --------------------------------------------------


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
        nout = _shape(weight)[1]
        bias_row = np.zeros(nout) if bias is None else _read(bias).astype(np.float64)
        matrices.append(np.vstack([bias_row, _read(weight).astype(np.float64)]))
    return matrices


def set_weights(model: Module, weights: Sequence[Any]) -> None:
    """Load the derivation's (n_in + 1, n_out) matrices (bias in row 0) into a model.

    Every shape is checked first; on a mismatch nothing changes and ValueError
    lists each problem.
    """
    layers = _dense_layers(model)
    if not isinstance(weights, (Sequence, np.ndarray)) or isinstance(weights, str):
        raise TypeError(f"set_weights needs a list of matrices, got {type(weights).__name__}")
    if len(weights) != len(layers):
        raise ValueError(f"set_weights: the model has {len(layers)} layers, given {len(weights)}")
    plans, problems = [], []
    for index, (layer, matrix) in enumerate(zip(layers, weights)):
        weight, bias = _layer_state(layer)
        nin, nout = _shape(weight)
        matrix = np.asarray(matrix)
        if matrix.dtype.kind not in "biuf":
            raise TypeError(f"set_weights: layer {index} has non-numeric dtype {matrix.dtype}")
        matrix = matrix.astype(np.float64)
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
        _write(weight, matrix[1:])
        if bias is not None:
            _write(bias, matrix[0])


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
    if not isinstance(weights, (Sequence, np.ndarray)) or isinstance(weights, str) or not weights:
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


# -- save / load ----------------------------------------------------------------------


def _plain_file_mode(path: Path) -> int:
    """The permissions ``open(path, "w")`` would leave: the existing file's, else 0o666 & ~umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mask = os.umask(0)  # the only way to read the umask is to set it
        os.umask(mask)
        return 0o666 & ~mask


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    A rename within one file system is atomic, so a crash mid-write leaves the
    old file (or none) and never a truncated one. The file gets the permissions
    ``open(path, "w")`` would give it (mkstemp's own are 0600).
    """
    path = Path(path)
    mode = _plain_file_mode(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # mkstemp makes it 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def save(model: Module, path: str | os.PathLike[str]) -> Path:
    """Write the state dict as .npz (no pickle), atomically: a crash leaves the old file."""
    state = model.state_dict()
    return write_atomically(path, lambda file: np.savez(file, **state))


def load(model: Module, path: str | os.PathLike[str]) -> None:
    """Read a .npz written by ``save`` into ``model`` (checked first; see load_state_dict).

    Raises:
        OSError: the file cannot be read (FileNotFoundError if it does not exist).
        ValueError: it is not a .npz archive of numeric arrays, or a name or shape
            does not match the model (nothing is changed).
    """
    with open(path, "rb") as file:
        if not zipfile.is_zipfile(file):
            raise ValueError(f"load: {os.fspath(path)!r} is not a .npz archive (save writes one)")
        file.seek(0)
        try:
            with np.load(file, allow_pickle=False) as archive:
                state = {name: archive[name] for name in archive.files}
        except (ValueError, zipfile.BadZipFile) as error:  # object arrays, a damaged file
            raise ValueError(f"load: cannot read {os.fspath(path)!r}: {error}") from None
    model.load_state_dict(state)


__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Linear",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "tensor_mlp",
    "get_weights",
    "set_weights",
    "sigmoid_network",
    "save",
    "load",
]
