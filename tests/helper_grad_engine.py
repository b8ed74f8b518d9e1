"""A student's engine whose module has a ``grad`` of its own: a finite-difference helper.

It is not the engine's second order (it takes no ``create_graph``), so the grader
must pass over it and skip the second-order check, at no cost.
"""

from test_testing import MiniValue


class HelperGradValue(MiniValue):
    """MiniValue, defined in a module that also has a numerical-derivative helper."""


def grad(f, x, h=1e-6):
    """df/dx by central differences: the student's own check of their engine."""
    return (f(x + h) - f(x - h)) / (2 * h)
