"""When you outgrow tinygrad_bp: models to PyTorch and ONNX, and back from PyTorch.

A fully connected network is the same few numbers in every framework; only the
layout differs. tinygrad_bp's ``Linear`` computes ``z = x W + b`` with ``W`` of shape
``(n_in, n_out)`` (``W[i, j]`` joins input ``i`` to unit ``j``, as in the
derivation); ``torch.nn.Linear`` computes ``z = x W^T + b`` and stores ``W^T``,
shape ``(n_out, n_in)``; ONNX's ``MatMul`` takes ``W`` as we store it. So moving a
model means transposing (for PyTorch) and naming the activations in the other
framework's words:

==========  ==================  ==============  =============
ours        scalar MLP          torch.nn        ONNX operator
==========  ==================  ==============  =============
Linear      a Layer's weights   Linear          MatMul + Add
Sigmoid     "sigmoid"           Sigmoid         Sigmoid
Tanh        "tanh"              Tanh            Tanh
ReLU        "relu"              ReLU            Relu
(nothing)   "linear"            (nothing)       (nothing)
==========  ==================  ==============  =============

The activation rows are those of ``tinygrad_bp.nn.ACTIVATIONS``, the one table of
activations that interop translates through. Any other layer raises an error
naming its class and position. PyTorch and ONNX are optional: install them with
``pip install -e ".[interop]"`` in a clone. This module
imports them only inside the functions that need them.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, nn
from .files import write_atomically
from .nn import ACTIVATIONS

INSTALL_HINT = (
    'pip install torch onnx onnxruntime (in a clone of tinygrad_bp: pip install -e ".[interop]")'
)

# The activations that are a module of their own (all but "linear"), by our module class.
_MODULES = {a.module: a for a in ACTIVATIONS.values() if a.module is not None}
_NAMES = [module.__name__ for module in _MODULES]
_SUPPORTED = f"Linear, {', '.join(_NAMES[:-1])} and {_NAMES[-1]}"  # Linear, Sigmoid, ... and ReLU

ONNX_OPSET = 17  # ONNX operator set of exported models; onnxruntime >= 1.13 runs it


@dataclass(frozen=True)
class _Dense:
    """One fully connected layer, z = x W + b, with W of shape (n_in, n_out).

    The arrays are the model's own (not copies): readers must copy before keeping them.
    """

    name: str  # the layer's state_dict prefix, e.g. "layers.0"
    weight: np.ndarray
    bias: np.ndarray | None


_Step = _Dense | str  # a fully connected layer, or the name of an activation


def _require(package: str, needed_by: str) -> Any:
    """Import an optional package, or raise ImportError saying how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as error:
        raise ImportError(f"{needed_by} needs {package}: {INSTALL_HINT}") from error


def _steps(model: nn.Module) -> list[_Step]:
    """A scalar MLP or a tensor Sequential as one list of steps, input first.

    Raises TypeError naming the class and position of any layer other than
    Linear, Sigmoid, Tanh and ReLU, and ValueError if the layers' dtypes differ.
    """
    if isinstance(model, nn.MLP):
        steps = _mlp_steps(model)
    elif isinstance(model, nn.Sequential):
        steps = _sequential_steps(model.layers)
    else:
        raise TypeError(f"expected a tinygrad_bp.nn.MLP or Sequential, got {type(model).__name__}")
    dtypes = sorted({step.weight.dtype.name for step in steps if isinstance(step, _Dense)})
    if len(dtypes) > 1:
        raise ValueError(f"the model mixes dtypes {dtypes}; convert its layers to one dtype")
    return steps


def _mlp_steps(model: nn.MLP) -> list[_Step]:
    """Each Layer's weights from get_weights (bias in row 0), then its activation."""
    steps: list[_Step] = []
    for index, (layer, matrix) in enumerate(zip(model.layers, nn.get_weights(model))):
        steps.append(_Dense(f"layers.{index}", weight=matrix[1:], bias=matrix[0]))
        activations = sorted({neuron.activation for neuron in layer.neurons})
        if len(activations) > 1:
            raise ValueError(f"layer {index} of the MLP mixes activations {activations}")
        if ACTIVATIONS[activations[0]].module is not None:
            steps.append(activations[0])
    return steps


def _sequential_steps(layers: list[Any]) -> list[_Step]:
    """A tensor Sequential's layers as steps; anything unsupported raises TypeError."""
    steps: list[_Step] = []
    for position, layer in enumerate(layers):
        if type(layer) is nn.Linear:
            bias = None if layer.bias is None else layer.bias.data
            steps.append(_Dense(f"layers.{position}", layer.weight.data, bias))
        elif type(layer) in _MODULES:
            steps.append(_MODULES[type(layer)].name)
        else:
            raise TypeError(
                f"layer {position} ({type(layer).__name__}) is not supported; "
                f"interop handles {_SUPPORTED}"
            )
    return steps


# -- PyTorch ---------------------------------------------------------------------------


def to_torch(model: nn.Module) -> Any:
    """The same network as a ``torch.nn.Sequential``: same weights, same activations.

    Each fully connected layer becomes a ``torch.nn.Linear`` holding ``W^T`` (torch
    stores (n_out, n_in)) and the same bias, or none; each activation becomes the
    torch module of the same name; an MLP layer with activation "linear" gets no
    activation module. The dtype is the model's: float64 for scalar MLPs and
    default tensor models, float32 for a float32 Sequential.

    Args:
        model: a scalar ``nn.MLP``, or an ``nn.Sequential`` of Linear, Sigmoid, Tanh
            and ReLU layers.

    Returns:
        A new ``torch.nn.Sequential``; it shares no memory with ``model``.

    Raises:
        TypeError: a layer is not supported (the message names its class and position).
        ImportError: PyTorch is not installed.

    >>> from tinygrad_bp.nn import MLP, Linear, Module, Sequential
    >>> to_torch(MLP(2, [3, 1], output_activation="linear", rng=0))  # doctest: +SKIP
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): Sigmoid()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    >>> class Square(Module):  # a layer of our own: x -> x^2
    ...     def __call__(self, x):
    ...         return x * x
    >>> to_torch(Sequential(Linear(2, 1), Square()))
    Traceback (most recent call last):
    TypeError: layer 1 (Square) is not supported; interop handles Linear, Sigmoid, Tanh and ReLU
    """
    steps = _steps(model)
    torch = _require("torch", "to_torch")
    modules = []
    for step in steps:
        if isinstance(step, _Dense):
            modules.append(_torch_linear(torch, step))
        else:
            modules.append(getattr(torch.nn, ACTIVATIONS[step].torch)())
    return torch.nn.Sequential(*modules)


def _torch_linear(torch: Any, step: _Dense) -> Any:
    """A torch.nn.Linear holding W^T and b (torch.tensor copies, so nothing is shared)."""
    n_in, n_out = step.weight.shape
    state = {"weight": torch.tensor(step.weight.T)}
    if step.bias is not None:
        state["bias"] = torch.tensor(step.bias)
    # skip_init: no random initialisation (it would draw from torch's global generator).
    linear = torch.nn.utils.skip_init(
        torch.nn.Linear, n_in, n_out, bias=step.bias is not None, dtype=state["weight"].dtype
    )
    linear.load_state_dict(state)
    return linear


def from_torch(module: Any) -> nn.Sequential:
    """A ``torch.nn.Sequential`` (or one ``torch.nn.Linear``) as an ``nn.Sequential``.

    The reverse of ``to_torch``: each ``torch.nn.Linear`` becomes an ``nn.Linear``
    holding ``W = weight^T`` and the same bias (or none), each ``torch.nn.Sigmoid``,
    ``Tanh`` and ``ReLU`` our module of the same name. The dtype is kept: float32
    stays float32, float64 stays float64 (convert anything else with ``.double()``).

    Args:
        module: a ``torch.nn.Sequential`` of Linear, Sigmoid, Tanh and ReLU modules,
            or a single ``torch.nn.Linear``.

    Returns:
        A new ``nn.Sequential``; it shares no memory with ``module``.

    Raises:
        TypeError: ``module`` or one of its layers is not supported (the message
            names the class and position).
        ValueError: a Linear layer is neither float32 nor float64.
        ImportError: PyTorch is not installed.

    >>> import torch  # doctest: +SKIP
    >>> torch_net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh())  # doctest: +SKIP
    >>> from_torch(torch_net)  # doctest: +SKIP
    Sequential(2 -> 3, 9 parameters)
      (0): Linear(2, 3, bias=True)
      (1): Tanh()
    """
    torch = _require("torch", "from_torch")
    if isinstance(module, torch.nn.Linear):
        module = torch.nn.Sequential(module)
    if not isinstance(module, torch.nn.Sequential):
        kind = type(module)
        raise TypeError(
            "from_torch takes a torch.nn.Sequential or torch.nn.Linear, "
            f"got {kind.__module__}.{kind.__qualname__}"
        )
    activations = {getattr(torch.nn, a.torch): module for module, a in _MODULES.items()}
    layers: list[nn.Module] = []
    for position, layer in enumerate(module):
        if type(layer) is torch.nn.Linear:
            layers.append(_our_linear(torch, layer, position))
        elif type(layer) in activations:
            layers.append(activations[type(layer)]())
        else:
            raise TypeError(
                f"torch layer {position} ({type(layer).__name__}) is not supported; "
                f"interop handles {_SUPPORTED}"
            )
    return nn.Sequential(*layers)


def _our_linear(torch: Any, layer: Any, position: int) -> nn.Linear:
    """An nn.Linear with W = weight^T and the same bias, in the torch layer's dtype."""
    if layer.weight.dtype not in (torch.float32, torch.float64):
        raise ValueError(
            f"torch layer {position} (Linear) is {layer.weight.dtype}; "
            "convert the module with .float() or .double() first"
        )
    state = {name: tensor.detach().cpu().numpy() for name, tensor in layer.state_dict().items()}
    state["weight"] = state["weight"].T
    n_in, n_out = state["weight"].shape
    ours = nn.Linear(n_in, n_out, bias=layer.bias is not None, dtype=state["weight"].dtype)
    ours.load_state_dict(state)  # copies into our own arrays
    return ours


# -- ONNX ------------------------------------------------------------------------------


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike[str],
    batch: int | None = None,
    dtype: Any = np.float32,
) -> Path:
    """Write the network as an ONNX model that onnxruntime (or any ONNX runtime) can run.

    The graph is built directly with ``onnx.helper``, PyTorch is not needed: each
    fully connected layer is ``MatMul(x, W)`` then ``Add(., b)`` (no Add without a
    bias), each activation the ONNX operator of the same name (Sigmoid, Tanh,
    Relu). The weights are initializers named as in ``model.state_dict()``
    (``layers.0.weight``, ``layers.0.bias``, ...), with W in our (n_in, n_out)
    orientation. The input is ``x`` of shape (batch, n_in), the output ``y`` of
    shape (batch, n_out); with ``batch=None`` the batch dimension is the symbolic
    ``"N"``, so one file runs any batch size.

    The graph's dtype is float32 by default, the type every ONNX runtime and
    accelerator supports (outputs agree with ours to about 1e-7 relative); pass
    ``dtype=np.float64`` for a double-precision graph that reproduces a float64
    model to rounding. The model is checked with ``onnx.checker.check_model``
    before it is written, atomically: a temporary file in the same directory is
    renamed over ``path``, so a failure never leaves a half-written file.

    Args:
        model: a scalar ``nn.MLP``, or an ``nn.Sequential`` of Linear, Sigmoid, Tanh
            and ReLU layers.
        path: where to write the .onnx file.
        batch: a fixed batch size, or None for a symbolic one.
        dtype: ``np.float32`` (default) or ``np.float64``.

    Returns:
        ``path``, as a ``Path``.

    Raises:
        TypeError: a layer is not supported (the message names its class and position).
        ValueError: ``batch`` is not a positive integer, ``dtype`` is not float32 or
            float64, or the model has no Linear layer (so no input width).
        ImportError: the onnx package is not installed.

    >>> from tinygrad_bp.nn import MLP
    >>> export_onnx(MLP(2, [2, 1], rng=0), "xor.onnx")  # doctest: +SKIP
    PosixPath('xor.onnx')
    >>> export_onnx(MLP(2, [2, 1], rng=0), "xor.onnx", batch=0)
    Traceback (most recent call last):
    ValueError: batch must be a positive integer or None, got 0
    """
    is_count = isinstance(batch, (int, np.integer)) and not isinstance(batch, bool)
    if batch is not None and (not is_count or batch < 1):
        raise ValueError(f"batch must be a positive integer or None, got {batch!r}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype).name}")
    steps = _steps(model)
    dense = [step for step in steps if isinstance(step, _Dense)]
    if not dense:
        raise ValueError("the model has no Linear layer, so its input width is unknown")
    onnx = _require("onnx", "export_onnx")
    helper = onnx.helper
    nodes, initializers = _onnx_nodes(onnx, steps, np.dtype(dtype))
    elem_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    batch_dim = "N" if batch is None else int(batch)
    n_in, n_out = dense[0].weight.shape[0], dense[-1].weight.shape[1]
    graph = helper.make_graph(
        nodes,
        "tinygrad_bp",
        inputs=[helper.make_tensor_value_info("x", elem_type, [batch_dim, n_in])],
        outputs=[helper.make_tensor_value_info("y", elem_type, [batch_dim, n_out])],
        initializer=initializers,
    )
    opsets = [helper.make_opsetid("", ONNX_OPSET)]
    onnx_model = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="tinygrad_bp",
        producer_version=__version__,
    )
    onnx.checker.check_model(onnx_model, full_check=True)
    data = onnx_model.SerializeToString()
    return write_atomically(path, lambda file: file.write(data))


def _onnx_nodes(onnx: Any, steps: list[_Step], dtype: np.dtype) -> tuple[list[Any], list[Any]]:
    """The graph's nodes, from input "x" to output "y", and its weights as initializers."""
    make_node, from_array = onnx.helper.make_node, onnx.numpy_helper.from_array
    nodes, initializers = [], []
    current = "x"  # the name of the tensor flowing from one node to the next
    for index, step in enumerate(steps):
        if isinstance(step, _Dense):
            weight, bias = f"{step.name}.weight", f"{step.name}.bias"
            initializers.append(from_array(step.weight.astype(dtype), weight))
            nodes.append(make_node("MatMul", [current, weight], [f"{step.name}.xW"]))
            if step.bias is not None:
                initializers.append(from_array(step.bias.astype(dtype), bias))
                nodes.append(make_node("Add", [f"{step.name}.xW", bias], [f"{step.name}.z"]))
        else:
            nodes.append(make_node(ACTIVATIONS[step].onnx, [current], [f"{step}_{index}"]))
        current = nodes[-1].output[0]
    nodes[-1].output[0] = "y"  # the last node's result is the graph's output
    return nodes, initializers


__all__ = ["to_torch", "from_torch", "export_onnx"]
