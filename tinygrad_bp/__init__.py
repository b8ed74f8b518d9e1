"""tinygrad_bp: a small, exact and fast autograd framework for learning backpropagation."""

from .engine import Value
from .graph import no_grad

__all__ = ["Value", "no_grad"]
__version__ = "0.1.0"
