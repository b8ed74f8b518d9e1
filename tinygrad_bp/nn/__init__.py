"""Neural-network modules on both engines (see modules.py)."""

from .modules import (
    MLP,
    Layer,
    Linear,
    Module,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    get_weights,
    load,
    save,
    set_weights,
    sigmoid_network,
    tensor_mlp,
    write_atomically,
)

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
]
