"""Ops written micrograd's way, as its lecture teaches: ``Value(data, (children), op)``
with a ``_backward`` closure. Shared by the tests of the engine, the pictures and the
step-through, so each checks the same user code.
"""

import math

from tinygrad_bp import Value


def micrograd_relu(self):
    """The exercise of micrograd's lecture, verbatim: d/dx relu(x) = [x > 0]."""
    out = Value(0 if self.data < 0 else self.data, (self,), "ReLU")

    def _backward():
        self.grad += (out.data > 0) * out.grad

    out._backward = _backward
    return out


def user_sin(self):
    """sin(x); d/dx = cos(x)."""
    out = Value(math.sin(self.data), (self,), "sin")

    def _backward():
        self.grad += math.cos(self.data) * out.grad

    out._backward = _backward
    return out


def user_mul(self, other):
    """self * other; d/dself = other, d/dother = self."""
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out
