"""The activations, in one table: each name with its method, module, torch and ONNX names.

A unit computes o = g(z) from its net input z. ``ACTIVATIONS`` is the one place
that says which functions g there are and what each is called everywhere: the
``Value``/``Tensor`` method, the tensor module, the ``torch.nn`` class and the ONNX
operator, with g and its derivative written out. "linear" (g(z) = z) has no
method and no module: the modules add nothing for it, as interop adds no
``Identity``. ``nn`` builds its modules from
it, ``interop`` translates through it, and the command line lists its names.

>>> for a in ACTIVATIONS.values():
...     print(f"{a.name:8} {a.formula:22} {a.derivative:26} {a.torch:8} {a.onnx}")
sigmoid  o = 1 / (1 + e^-z)     do/dz = o (1 - o)          Sigmoid  Sigmoid
tanh     o = tanh(z)            do/dz = 1 - o^2            Tanh     Tanh
relu     o = max(0, z)          do/dz = 1 if z > 0 else 0  ReLU     Relu
linear   o = z                  do/dz = 1                  Identity Identity
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import Value
from ..tensor import Tensor
from .base import Module


class _Activation(Module):
    """A parameter-free module applying the activation ``name`` of the table elementwise."""

    name = ""

    def __call__(self, x: Any) -> Any:
        x = x if isinstance(x, (Tensor, Value)) else Tensor(x)
        return ACTIVATIONS[self.name].apply(x)


class Sigmoid(_Activation):
    """g(z) = 1 / (1 + e^-z), elementwise."""

    name = "sigmoid"


class Tanh(_Activation):
    """tanh(z), elementwise."""

    name = "tanh"


class ReLU(_Activation):
    """max(0, z), elementwise."""

    name = "relu"


@dataclass(frozen=True)
class Activation:
    """One activation g, as each part of the library and each framework spells it.

    Attributes:
        name: the name modules take (``MLP(..., activation="tanh")``).
        method: the ``Value`` and ``Tensor`` method computing it, None for "linear".
        module: the tensor module class, None for "linear" (no module is added).
        torch: the ``torch.nn`` class name.
        onnx: the ONNX operator.
        formula: o = g(z), in words of the derivation.
        derivative: do/dz, in terms of the saved output o where it can be.
        slope: do/dz as numbers, ``slope(o, z)`` elementwise: what ``derivative`` writes,
            the g'(z) of the generalised delta rule delta_h = g'(z_h) sum_k w_hk delta_k.
    """

    name: str
    method: str | None
    module: type[Module] | None
    torch: str
    onnx: str
    formula: str
    derivative: str
    slope: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def apply(self, z: Any) -> Any:
        """o = g(z) for a Value or a Tensor z (elementwise), recorded in its graph."""
        return z if self.method is None else getattr(z, self.method)()


def _sigmoid_slope(o: np.ndarray, z: np.ndarray) -> np.ndarray:
    return o * (1.0 - o)  # do/dz = o (1 - o)


def _tanh_slope(o: np.ndarray, z: np.ndarray) -> np.ndarray:
    return 1.0 - o * o  # do/dz = 1 - o^2


def _relu_slope(o: np.ndarray, z: np.ndarray) -> np.ndarray:
    return (np.asarray(z) > 0).astype(np.float64)  # do/dz = 1 if z > 0 else 0


def _linear_slope(o: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.ones_like(z, dtype=np.float64)  # do/dz = 1


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid",
        "sigmoid",
        Sigmoid,
        "Sigmoid",
        "Sigmoid",
        "o = 1 / (1 + e^-z)",
        "do/dz = o (1 - o)",
        _sigmoid_slope,
    ),
    "tanh": Activation(
        "tanh", "tanh", Tanh, "Tanh", "Tanh", "o = tanh(z)", "do/dz = 1 - o^2", _tanh_slope
    ),
    "relu": Activation(
        "relu",
        "relu",
        ReLU,
        "ReLU",
        "Relu",
        "o = max(0, z)",
        "do/dz = 1 if z > 0 else 0",
        _relu_slope,
    ),
    "linear": Activation(
        "linear", None, None, "Identity", "Identity", "o = z", "do/dz = 1", _linear_slope
    ),
}


def get_activation(name: object) -> Activation:
    """The table's entry for ``name``; TypeError unless a str, ValueError listing the names.

    >>> get_activation("tanh").torch
    'Tanh'
    >>> get_activation("swish")
    Traceback (most recent call last):
    ValueError: unknown activation 'swish'; choose one of 'sigmoid', 'tanh', 'relu', 'linear'
    """
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    if name not in ACTIVATIONS:
        names = ", ".join(repr(known) for known in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r:.60}; choose one of {names}")
    return ACTIVATIONS[name]
