"""Safe arithmetic expressions: the text ``(a*b + c).tanh()`` as a graph of Values.

``parse_expression`` reads the text with ``ast`` and builds the graph node by node,
children first, without ``eval``: only names, numbers, ``+ - * / **``, unary minus
and the Value methods in ``ALLOWED_METHODS`` are accepted, and anything else is
refused before any of it runs. Every node is labelled with its own sub-expression,
so a picture of the graph (``viz.render``) reads like the formula.

Sizes are bounded so that the graph stays a picture one can read and Graphviz can
lay out in a moment: at most ``MAX_EXPRESSION_LENGTH`` characters and
``MAX_EXPRESSION_NODES`` names, numbers and operations. (Graphviz's time grows far
faster than the graph: ``a+a+...+a`` takes 0.5 s with 40 terms, 10 s with 60 and
minutes with 100, as every edge from ``a`` crosses the whole chain.)
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

from .engine import Value

__all__ = ["ALLOWED_METHODS", "MAX_EXPRESSION_LENGTH", "MAX_EXPRESSION_NODES", "parse_expression"]

ALLOWED_METHODS = ("relu", "tanh", "sigmoid", "exp", "log", "abs")
_BINARY_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY_OPERATORS: dict[type[ast.unaryop], Callable[..., Value]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Attribute,
    ast.Name,
    ast.Constant,
    ast.Load,
    *_BINARY_OPERATORS,
    *_UNARY_OPERATORS,
)
MAX_EXPRESSION_LENGTH = 500
MAX_EXPRESSION_NODES = 200  # names, numbers and operations: a+a+...+a of 100 terms has 199
_COUNTED_NODES = (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call)


def parse_expression(text: str, values: dict[str, float]) -> Value:
    """Build the Value graph of an arithmetic expression, without ``eval``.

    Allowed: names (each bound in ``values``), numbers, ``+ - * / **``, unary minus
    and calls of the Value methods relu, tanh, sigmoid, exp, log and abs, as in
    ``(a*b + c).tanh()``. Anything else (other calls, attributes, subscripts, strings,
    lambdas, ...) is refused before any of it runs. Leaves are labelled with their
    names and every operation with its own sub-expression.

    Args:
        text: The expression, at most 500 characters and 200 names, numbers and
            operations (each occurrence counts).
        values: The number each name stands for.

    Returns:
        The root Value (its graph not yet backpropagated).

    Raises:
        ValueError: Naming what is not allowed, the name that has no value, or the
            limit the expression exceeds.

    Example:
        >>> root = parse_expression("(a*b + c).tanh()", {"a": 2.0, "b": -1.0, "c": 2.5})
        >>> root.label, round(root.data, 4)
        ('(a * b + c).tanh()', 0.4621)
        >>> parse_expression("__import__('os')", {})
        Traceback (most recent call last):
        ValueError: only the methods relu, tanh, sigmoid, exp, log, abs may be called, \
as in (a*b).tanh(); got __import__('os')
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"cannot parse the expression {text!r}: {error.msg}") from None
    _check_expression(tree, values)
    leaves = {name: Value(number, label=name) for name, number in values.items()}
    results: dict[int, Value] = {}
    for node in _children_first(tree.body):
        if not isinstance(node, (ast.Attribute, ast.Load, *_BINARY_OPERATORS, *_UNARY_OPERATORS)):
            results[id(node)] = _evaluate(node, results, leaves)
    return results[id(tree.body)]


def _check_expression(tree: ast.Expression, values: dict[str, float]) -> None:
    """Raise ValueError at the first part of the tree that is not allowed."""
    size = sum(isinstance(node, _COUNTED_NODES) for node in ast.walk(tree))
    if size > MAX_EXPRESSION_NODES:
        raise ValueError(
            f"the expression has {size} names, numbers and operations; at most "
            f"{MAX_EXPRESSION_NODES} are drawn (a graph that large is slow to lay out)"
        )
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            raise ValueError(
                f"matrix multiplication (@) is not supported: an expression is of scalar "
                f"Values; use * ({ast.unparse(node)!r})"
            )
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(
                f"{type(node).__name__} is not allowed in an expression ({ast.unparse(node)!r}); "
                f"use names, numbers, + - * / **, unary minus and .{'() .'.join(ALLOWED_METHODS)}()"
            )
        if isinstance(node, ast.Call) and not _is_method_call(node):
            raise ValueError(
                f"only the methods {', '.join(ALLOWED_METHODS)} may be called, "
                f"as in (a*b).tanh(); got {ast.unparse(node)}"
            )
        if isinstance(node, ast.Constant) and not _is_float(node.value):
            raise ValueError(f"only real numbers may appear as constants, got {node.value!r:.40}")
        if isinstance(node, ast.Name) and node.id not in values:
            known = ", ".join(sorted(values)) or "none"
            raise ValueError(f"no value for {node.id!r} (names with a value: {known})")
    calls = sum(isinstance(node, ast.Call) for node in ast.walk(tree))
    attributes = sum(isinstance(node, ast.Attribute) for node in ast.walk(tree))
    if attributes != calls:  # every attribute must be the method of a call
        raise ValueError(
            f"attributes may only be called methods ({', '.join(ALLOWED_METHODS)}), "
            f"as in (a*b).tanh(); got {ast.unparse(tree)}"
        )


def _is_float(constant: object) -> bool:
    """True for an int or float literal that converts to a float (1e999 is inf)."""
    if not isinstance(constant, (int, float)) or isinstance(constant, bool):
        return False
    try:
        float(constant)
    except OverflowError:
        return False
    return True


def _is_method_call(node: ast.Call) -> bool:
    """True for ``<expr>.method()`` with an allowed method and no arguments."""
    return (
        isinstance(node.func, ast.Attribute)
        and node.func.attr in ALLOWED_METHODS
        and not node.args
        and not node.keywords
    )


def _children_first(root: ast.AST) -> list[ast.AST]:
    """Every node of the tree under ``root``, each after all its children (no recursion)."""
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return order[::-1]


def _evaluate(node: ast.AST, results: dict[int, Value], leaves: dict[str, Value]) -> Value:
    """The Value of one checked node, from the Values of its children."""
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, (int, float))  # _check_expression let only numbers in
        return Value(float(node.value))
    if isinstance(node, ast.BinOp):
        out = _BINARY_OPERATORS[type(node.op)](results[id(node.left)], results[id(node.right)])
    elif isinstance(node, ast.UnaryOp):
        out = _UNARY_OPERATORS[type(node.op)](results[id(node.operand)])
    else:  # a checked method call
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        out = getattr(results[id(node.func.value)], node.func.attr)()
    out.label = ast.unparse(node)
    return out
