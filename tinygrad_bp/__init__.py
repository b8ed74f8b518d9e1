"""tinygrad_bp: a small, exact and fast autograd framework for learning backpropagation.

>>> from tinygrad_bp import Value
>>> x = Value(2.0)
>>> y = x * x + 3 * x     # dy/dx = 2x + 3
>>> y.backward()
>>> x.grad
7.0

Every submodule is an attribute of the package, loaded on first use (as
``torch.nn`` is after ``import torch``), so optional extras are imported only
when their module is:

>>> import tinygrad_bp as tbp
>>> tbp.nn.MLP(2, [2, 1]).parameters()[0].data != 0
True
"""

import importlib
from types import ModuleType

from . import delta
from .autodiff import grad, hessian, hvp
from .check import AnomalyError, detect_anomaly, gradcheck
from .engine import Value
from .graph import enable_grad, no_grad
from .tensor import Tensor, cat, concatenate, stack, where
from .tracing import trace

__all__ = [
    "Value",
    "Tensor",
    "no_grad",
    "enable_grad",
    "gradcheck",
    "detect_anomaly",
    "AnomalyError",
    "delta",
    "cat",
    "concatenate",
    "stack",
    "where",
    "trace",
    "grad",
    "hvp",
    "hessian",
]
__version__ = "0.1.0"

# Loaded on first access by __getattr__ below; the core above is imported eagerly.
_SUBMODULES = (
    *("graph", "engine", "functions", "tensor", "autodiff", "validate", "files", "nn"),
    *("losses", "optim", "train", "data", "delta", "perceptron", "check", "explain"),
    *("expression", "viz", "xor"),
    *("testing", "interop", "cli", "tracing", "watch", "landscape"),
)


def __getattr__(name: str) -> ModuleType:
    """Import the submodule ``name`` on first access: ``tinygrad_bp.nn``, ``.viz``, ..."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tinygrad_bp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES})
