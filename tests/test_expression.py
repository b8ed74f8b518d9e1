"""The safe expression parser: arithmetic and the allowed methods, never anything else."""

import numpy as np
import pytest

from tinygrad_bp.expression import ALLOWED_METHODS, parse_expression
from tinygrad_bp.graph import toposort


@pytest.mark.parametrize(
    "expression, fragment",
    [
        ("__import__('os')", "only the methods"),
        ("__import__('os').system('true')", "only the methods"),
        ("a.__class__", "attributes may only be called methods"),
        ("a.data", "attributes may only be called methods"),
        ("a.backward()", "only the methods"),
        ("a.tanh(1)", "only the methods"),
        ("(lambda: 1)()", "only the methods"),
        ("[a][0]", "Subscript is not allowed"),
        ("a if a else a", "IfExp is not allowed"),
        ("'text'", "only real numbers"),
        ("a < 1", "Compare is not allowed"),
        ("a // 2", "FloorDiv is not allowed"),
        ("b * 2", "no value for 'b' (names with a value: a)"),
        ("a +", "cannot parse"),
        ("1" * 400, "only real numbers"),
        ("a" + " + a" * 300, "longer than 500"),
    ],
)
def test_the_expression_parser_refuses_anything_but_arithmetic(expression, fragment):
    with pytest.raises(ValueError) as error:
        parse_expression(expression, {"a": 1.0})
    assert fragment in str(error.value)


def test_the_expression_parser_computes_what_python_computes():
    values = {"a": 0.7, "b": -1.3}
    root = parse_expression("-(a ** 2 / b).exp() + (a * b).sigmoid() - b.abs().log()", values)
    a, b = 0.7, -1.3
    expected = -np.exp(a**2 / b) + 1 / (1 + np.exp(-a * b)) - np.log(abs(b))
    assert root.data == pytest.approx(expected, abs=1e-15)
    root.backward()
    leaf_a = next(node for node in toposort(root) if not node.children and node.label == "a")
    eps = 1e-6

    def f(x):
        return -np.exp(x**2 / b) + 1 / (1 + np.exp(-x * b)) - np.log(abs(b))

    assert leaf_a.grad == pytest.approx((f(a + eps) - f(a - eps)) / (2 * eps), abs=1e-8)


# method, a, the method's value at z = 2a
METHOD_CASES = [
    ("relu", -0.3, 0.0),
    ("abs", -0.3, 0.6),
    ("tanh", 0.3, np.tanh(0.6)),
    ("sigmoid", 0.3, 1 / (1 + np.exp(-0.6))),
    ("exp", 0.3, np.exp(0.6)),
    ("log", 0.3, np.log(0.6)),
]


def test_the_cases_cover_every_allowed_method():
    assert sorted(method for method, _, _ in METHOD_CASES) == sorted(ALLOWED_METHODS)


@pytest.mark.parametrize("method, a, expected", METHOD_CASES)
def test_every_allowed_method_computes_and_labels_its_node(method, a, expected):
    root = parse_expression(f"(a * 2).{method}()", {"a": a})
    assert root.label == f"(a * 2).{method}()"
    assert root.data == pytest.approx(expected, abs=1e-15)
    (product,) = root.children
    assert product.label == "a * 2" and product.data == 2 * a


def test_a_name_used_twice_is_one_leaf():
    root = parse_expression("a * a + a", {"a": 3.0})
    root.backward()
    leaves = [node for node in toposort(root) if not node.children and node.label == "a"]
    assert len(leaves) == 1 and leaves[0].grad == 2 * 3.0 + 1
