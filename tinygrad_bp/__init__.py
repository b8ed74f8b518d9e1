"""tinygrad_bp: a small, exact and fast autograd framework for learning backpropagation.

>>> from tinygrad_bp import Value
>>> x = Value(2.0)
>>> y = x * x + 3 * x     # dy/dx = 2x + 3
>>> y.backward()
>>> x.grad
7.0
"""

from . import delta
from .check import AnomalyError, detect_anomaly, gradcheck
from .engine import Value
from .graph import no_grad
from .tensor import Tensor
from .tracing import trace

__all__ = [
    "Value",
    "Tensor",
    "no_grad",
    "gradcheck",
    "detect_anomaly",
    "AnomalyError",
    "delta",
    "trace",
]
__version__ = "0.1.0"
