"""Engines that offer second order, for the grader's tests: one correct, and mutants of it.

The grader finds an engine's second order in a function ``grad(output, inputs,
create_graph=False)`` in the module of its class. This module's ``grad`` serves
every class below: it asks the output's class (``gradients``), so each mutant
changes one thing and inherits the rest.

``CurvedValue`` keeps each op's local derivatives twice: as floats (``slopes``,
for the first-order ``backward()``) and as a rule that builds them from the
nodes with the engine's own ops (``rules``, for ``grad``), so that a gradient
built with ``create_graph=True`` can be differentiated again. The mutants are
wrong only where a second derivative can see it: their ``backward()`` and their
first derivatives pass every first-order check.
"""

import math


class CurvedValue:
    """A correct micrograd-style engine with second order through ``grad``."""

    def __init__(self, data, children=(), slopes=(), rules=None):
        self.data = float(data)
        self.grad = 0.0
        self.children = children
        self.slopes = slopes  # d(out)/d(child) as floats
        self.rules = rules  # out -> the same as nodes (or numbers for constants)

    def _wrap(self, other):
        return other if isinstance(other, CurvedValue) else type(self)(other)

    def _make(self, data, children, slopes, rules):
        return type(self)(data, children, slopes, rules)

    def __add__(self, other):
        other = self._wrap(other)
        return self._make(self.data + other.data, (self, other), (1.0, 1.0), lambda out: (1, 1))

    def __mul__(self, other):
        other = self._wrap(other)
        slopes = (other.data, self.data)
        return self._make(self.data * other.data, (self, other), slopes, lambda out: (other, self))

    def __pow__(self, p):
        if p == 0:  # a constant: no 0.0 ** -1 at 0 (differentiating a ** 1 again makes a ** 0)
            return self._make(1.0, (self,), (0.0,), lambda out: (0,))
        slope = p * self.data ** (p - 1)
        return self._make(self.data**p, (self,), (slope,), lambda out: (p * self ** (p - 1),))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + -self._wrap(other)

    def __truediv__(self, other):
        return self * self._wrap(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return -self + other

    def __rtruediv__(self, other):
        return self**-1 * other

    def relu(self):
        slope = float(self.data > 0)
        return self._make(max(self.data, 0.0), (self,), (slope,), lambda out: (slope,))

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, (self,), (1.0 - t * t,), self.tanh_rule)

    @staticmethod
    def tanh_rule(out):
        return (1 - out * out,)

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, (self,), (e,), lambda out: (out,))

    def log(self):
        return self._make(math.log(self.data), (self,), (1.0 / self.data,), lambda out: (self**-1,))

    def local_derivatives(self):
        """d(self)/d(child) for each child, as nodes of this engine where they vary."""
        return self.rules(self)

    def topological_order(self):
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node.children)
        return order

    def backward(self):
        self.grad = 1.0
        for node in reversed(self.topological_order()):
            for child, slope in zip(node.children, node.slopes):
                child.grad += slope * node.grad

    @classmethod
    def gradients(cls, output, inputs, create_graph):
        """d(output)/d(input) for each input, as nodes (constants unless create_graph)."""
        pending = {id(output): cls(1.0)}
        for node in reversed(output.topological_order()):
            upstream = pending.get(id(node))
            if upstream is None or not node.children:
                continue
            for child, local in zip(node.children, node.local_derivatives()):
                share = upstream * local
                pending[id(child)] = pending[id(child)] + share if id(child) in pending else share
        found = [pending.get(id(x), cls(0.0)) for x in inputs]
        return found if create_graph else [cls(g.data) for g in found]


def grad(output, inputs, create_graph=False):
    """This module's second order, with tinygrad_bp.grad's meaning."""
    return type(output).gradients(output, list(inputs), create_graph)


class TanhOneMinusOut(CurvedValue):
    """tanh's rule for ``grad`` written ``1 - out`` (``backward()`` keeps 1 - t²).

    Right at t = 0 to first order; d/da (1 - t) = -(1 - t²) where -2t (1 - t²) is due.
    """

    @staticmethod
    def tanh_rule(out):
        return (1 - out,)


class ConstantLocals(CurvedValue):
    """``grad``'s local derivatives are constants (copies of their values): every first
    derivative is right, every second derivative 0."""

    def local_derivatives(self):
        return tuple(
            type(self)(local.data if isinstance(local, CurvedValue) else local)
            for local in self.rules(self)
        )


class HardCoded(CurvedValue):
    """``grad`` answers 1 for every first derivative and 2 for every second."""

    @classmethod
    def gradients(cls, output, inputs, create_graph):
        return [cls(1.0) * cls(1.0) if create_graph else cls(2.0) for _ in inputs]


class OracleFiddler(CurvedValue):
    """``grad`` first disarms the grader's comparisons and oracles (in its own process),
    then answers zeros."""

    @classmethod
    def gradients(cls, output, inputs, create_graph):
        from tinygrad_bp.testing import checks, curvature

        checks._expect = lambda *args, **kwargs: None
        curvature.program_curvature = lambda program: (0.0, [0.0] * 3, [[0.0] * 3] * 3)
        checks.program_curvature = curvature.program_curvature
        return [cls(0.0) * cls(1.0) for _ in inputs]


class NoCreateGraph(CurvedValue):
    """A ``grad`` written without the create_graph argument."""

    @classmethod
    def gradients(cls, output, inputs, create_graph):
        if create_graph:
            raise TypeError("grad() got an unexpected keyword argument 'create_graph'")
        return super().gradients(output, inputs, create_graph)


class TanhDetachedFactor(CurvedValue):
    """tanh's rule for ``grad`` written ``1 - out * out.data``: its value 1 - t² is right
    everywhere, its derivative -t (1 - t²) half of what is due."""

    @staticmethod
    def tanh_rule(out):
        return (1 - out * out.data,)


class LoopingGrad(CurvedValue):
    """A ``grad`` that never returns."""

    @classmethod
    def gradients(cls, output, inputs, create_graph):
        while True:
            pass
