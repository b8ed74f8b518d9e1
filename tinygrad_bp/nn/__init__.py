"""Neural-network modules on both engines, and the derivation's weight convention.

Scalar modules (built on ``Value``, every number visible): ``Neuron``, ``Layer``,
``MLP``, as in micrograd. Tensor modules (built on ``Tensor``, for batches):
``Linear``, ``Sequential`` and the activations ``Sigmoid``, ``Tanh``, ``ReLU``.
``get_weights`` and ``set_weights`` convert any model to and from the
derivation's ``(n_in + 1, n_out)`` matrices; ``save`` and ``load`` keep a state
dict in a .npz file.

One job per file:

- ``base.py``: ``Module``, the base of every module (parameters, their names,
  gradients, the state dict, the printout).
- ``activations.py``: ``ACTIVATIONS``, the one table of activation names with
  their methods, modules, torch and ONNX names, and the modules ``Sigmoid``,
  ``Tanh`` and ``ReLU``.
- ``modules.py``: ``Neuron``, ``Layer``, ``MLP``; ``Linear``, ``Sequential``,
  ``tensor_mlp``.
- ``weights.py``: ``get_weights``, ``set_weights``, ``sigmoid_network``.
- ``state.py``: ``save`` and ``load`` (``write_atomically`` is ``tinygrad_bp.files``').
"""

from ..files import STALE_AFTER, remove_stale_temporaries, write_atomically
from .activations import ACTIVATIONS, Activation, ReLU, Sigmoid, Tanh, get_activation
from .base import Module, Parameter
from .modules import MLP, Layer, Linear, Neuron, RandomSource, Sequential, tensor_mlp
from .state import load, save
from .weights import get_weights, set_weights, sigmoid_network

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
    "write_atomically",
    "remove_stale_temporaries",
    "STALE_AFTER",
    "ACTIVATIONS",
    "Activation",
    "get_activation",
    "Parameter",
    "RandomSource",
]
