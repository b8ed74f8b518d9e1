"""Oracles of second derivatives for the grader, computed without any engine.

Two oracles, one per kind of case of the ``second_order`` check:

- ``program_curvature``: the value, gradient and Hessian of a ``Program``, exact
  to rounding, by running the program on *hyper-dual numbers*
  a + b ε₁ + c ε₂ + d ε₁ε₂ with ε₁² = ε₂² = 0. Seeding input i with ε₁ and input
  j with ε₂ gives f in a, ∂f/∂x_i in b, ∂f/∂x_j in c and ∂²f/∂x_i∂x_j in d, because
  each op's closed forms carry them along:

      f(x) on a + b ε₁ + c ε₂ + d ε₁ε₂ = f(a) + f'(a) b ε₁ + f'(a) c ε₂
                                       + (f'(a) d + f''(a) b c) ε₁ε₂,

  with f'' written out per op (tanh'' = -2t(1 - t²), sigmoid'' = s(1 - s)(1 - 2s),
  log'' = -1/a², ...), and the product rule's cross terms in ``*``.
- ``network_hvp``: the Hessian of a sigmoid network's loss J = 1/2 Σ (y - o)²
  times a vector v, by central differences of its analytic gradient (the delta
  rules of ``tinygrad_bp.delta``) along v: Hv ≈ (g(w + εv) - g(w - εv)) / 2ε.

>>> from .strategies import Program
>>> cube = Program((2.0,), (("mul", (0, 0)), ("mul", (1, 0))))   # x³ at 2
>>> value, gradient, hessian = program_curvature(cube)
>>> value, gradient, hessian                                       # 8, 3x² = 12, 6x = 12
(8.0, [12.0], [[12.0]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import delta
from .strategies import Program

__all__ = ["HVP_EPS", "HyperDual", "network_gradient", "network_hvp", "program_curvature"]

# Central differences of the gradient: the error is ε²/6 |g'''| (truncation) plus
# about 1e-16 |g| / ε (rounding); ε = 1e-5 keeps both near 1e-11 for the grader's
# small sigmoid networks, whose derivatives of every order are of order one.
HVP_EPS = 1e-5


@dataclass(frozen=True)
class HyperDual:
    """a + b ε₁ + c ε₂ + d ε₁ε₂ with ε₁² = ε₂² = 0: the value, two first derivatives, a second.

    Any function of a program's ops, run on these, carries its mixed second derivative in ``d``.

    >>> x = HyperDual(3.0, 1.0, 1.0, 0.0)        # x = 3, seeded in both directions
    >>> y = x * x * x                            # x³: 27, 3x² = 27, 6x = 18
    >>> y.a, y.b, y.d
    (27.0, 27.0, 18.0)
    """

    a: float
    b: float = 0.0
    c: float = 0.0
    d: float = 0.0

    def _apply(self, f: float, f1: float, f2: float) -> HyperDual:
        """f(self), given f, f' and f'' at ``a``: the chain rule to second order."""
        return HyperDual(f, f1 * self.b, f1 * self.c, f1 * self.d + f2 * self.b * self.c)

    @staticmethod
    def _of(x: Any) -> HyperDual:
        return x if isinstance(x, HyperDual) else HyperDual(float(x))

    def __add__(self, other: Any) -> HyperDual:
        o = self._of(other)
        return HyperDual(self.a + o.a, self.b + o.b, self.c + o.c, self.d + o.d)

    __radd__ = __add__

    def __neg__(self) -> HyperDual:
        return HyperDual(-self.a, -self.b, -self.c, -self.d)

    def __sub__(self, other: Any) -> HyperDual:
        return self + -self._of(other)

    def __rsub__(self, other: Any) -> HyperDual:
        return self._of(other) + -self

    def __mul__(self, other: Any) -> HyperDual:
        """The product rule, its ε₁ε₂ part with the cross terms b₁c₂ + c₁b₂."""
        o = self._of(other)
        return HyperDual(
            self.a * o.a,
            self.a * o.b + self.b * o.a,
            self.a * o.c + self.c * o.a,
            self.a * o.d + self.b * o.c + self.c * o.b + self.d * o.a,
        )

    __rmul__ = __mul__

    def reciprocal(self) -> HyperDual:
        """1/a: (1/a)' = -1/a², (1/a)'' = 2/a³."""
        return self._apply(1.0 / self.a, -1.0 / self.a**2, 2.0 / self.a**3)

    def __truediv__(self, other: Any) -> HyperDual:
        """x * (1/y), its value x / y as floats divide (not x times a rounded 1/y)."""
        o = self._of(other)
        return replace(self * o.reciprocal(), a=self.a / o.a)

    def __rtruediv__(self, other: Any) -> HyperDual:
        return self._of(other) / self

    def __pow__(self, p: float) -> HyperDual:
        """a**p for a number p: p a^(p-1), p (p-1) a^(p-2)."""
        a = self.a
        return self._apply(a**p, p * a ** (p - 1), p * (p - 1) * a ** (p - 2))

    def relu(self) -> HyperDual:
        """max(0, a): slope [a > 0], curvature 0 (away from the kink, where programs stay)."""
        return self._apply(self.a, 1.0, 0.0) if self.a > 0 else HyperDual(0.0)

    def tanh(self) -> HyperDual:
        """t = tanh a: t' = 1 - t², t'' = -2t (1 - t²)."""
        t = math.tanh(self.a)
        return self._apply(t, 1.0 - t * t, -2.0 * t * (1.0 - t * t))

    def sigmoid(self) -> HyperDual:
        """s = 1 / (1 + e^-a): s' = s (1 - s), s'' = s (1 - s)(1 - 2s)."""
        s = 0.5 * (1.0 + math.tanh(0.5 * self.a))
        return self._apply(s, s * (1.0 - s), s * (1.0 - s) * (1.0 - 2.0 * s))

    def exp(self) -> HyperDual:
        """e^a, its own derivative of every order."""
        e = math.exp(self.a)
        return self._apply(e, e, e)

    def log(self) -> HyperDual:
        """log a: 1/a, -1/a²."""
        return self._apply(math.log(self.a), 1.0 / self.a, -1.0 / self.a**2)


def program_curvature(program: Program) -> tuple[float, list[float], list[list[float]]]:
    """The program's value, gradient and Hessian at its own inputs, from hyper-dual numbers.

    One run per pair (i, j) of inputs: input i seeded with ε₁, input j with ε₂.

    >>> product = Program((2.0, 5.0), (("mul", (0, 1)),))     # x0 x1: cross terms only
    >>> program_curvature(product)
    (10.0, [5.0, 2.0], [[0.0, 1.0], [1.0, 0.0]])
    """
    n = len(program.inputs)
    value, gradient = 0.0, [0.0] * n
    hessian = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            seeded = [
                HyperDual(x, float(k == i), float(k == j)) for k, x in enumerate(program.inputs)
            ]
            out = HyperDual._of(program.output(*seeded))
            value, gradient[i], hessian[i][j] = out.a, out.b, out.d
    return value, gradient, hessian


def network_gradient(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dJ/dw of J = 1/2 Σ (y - o)², every weight in order, from the delta rules.

    >>> w = [np.array([[0.0], [0.0]])]                  # o = sigmoid(0) = 1/2
    >>> network_gradient(w, np.array([1.0]), np.array([1.0])).tolist()   # -(y - o) o (1 - o) [1, x]
    [-0.125, -0.125]
    """
    activations = delta.forward(list(weights), x)
    updates = delta.weight_updates(activations, delta.deltas(list(weights), activations, y), 1.0)
    return -np.concatenate([update.ravel() for update in updates])


def network_hvp(
    weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, vector: Sequence[float]
) -> np.ndarray:
    """The Hessian of J times ``vector`` (flat, in weight order): central differences of dJ/dw.

    >>> w = [np.array([[0.0], [0.0]])]
    >>> hv = network_hvp(w, np.array([1.0]), np.array([1.0]), [1.0, 0.0])
    >>> [round(float(h), 8) for h in hv]          # d²J/dw0² = (s')² - (y - s) s'' = 1/16 at 0
    [0.0625, 0.0625]
    """
    v = np.asarray(vector, dtype=np.float64)
    shapes = [w.shape for w in weights]
    flat = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in weights])

    def at(point: np.ndarray) -> np.ndarray:
        splits = np.split(point, np.cumsum([math.prod(s) for s in shapes])[:-1])
        return network_gradient([part.reshape(s) for part, s in zip(splits, shapes)], x, y)

    return (at(flat + HVP_EPS * v) - at(flat - HVP_EPS * v)) / (2 * HVP_EPS)
