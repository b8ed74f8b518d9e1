"""What the sandboxed child computes with the student's class: numbers, never verdicts.

``answer(Value, request)`` runs in the child (``isolation.EngineProcess``) and
turns one request into plain numbers:

- ``hello``: the class's name and which of the attributes the checks use it has;
- ``op``: one catalogue op at a point, then ``backward()``: the output's data and
  each value operand's grad;
- ``program``: a random expression program, the same;
- ``chain``: ``y = x + 1 + ... + 1``: y's data and x's grad;
- ``network``: a sigmoid network's loss built from the class's own ops: the
  outputs' data and every weight's grad.

Every number is read as an exact float (``_number``): a float subclass counts
as its float value whatever its arithmetic does, an int as its value, anything
else through ``float()``; something that is none of these (an object whose
``__eq__`` always answers True, say) is an error of the engine. An exception the
engine raises becomes ``{"error": type name, "message": ..., "stage": ...}``.
The parent (``checks``) does every comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .catalogue import op_named
from .isolation import error_text
from .strategies import Program

__all__ = ["ATTRIBUTES", "SIGMOIDS", "answer", "class_name"]

# The attributes of the class each op needs: without them the op is unsupported.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "add": ("__add__",),
    "sub": ("__sub__",),
    "mul": ("__mul__",),
    "div": ("__truediv__",),
    "pow": ("__pow__",),
    "neg": ("__neg__",),
    "radd": ("__radd__",),
    "rmul": ("__rmul__",),
    "rsub": ("__rsub__",),
    "rdiv": ("__rtruediv__",),
    "relu": ("relu",),
    "tanh": ("tanh",),
    "exp": ("exp",),
    "sigmoid": ("sigmoid",),
    "log": ("log",),
    "abs": ("abs",),
    "backward": ("backward",),
}


# Ways to get sigmoid(z) from the class's own ops, in order of preference.
def _own_sigmoid(z: Any) -> Any:
    """z.sigmoid()."""
    return z.sigmoid()


def _sigmoid_from_tanh(z: Any) -> Any:
    """sigmoid(z) = 0.5 + 0.5 * tanh(0.5 * z)."""
    return 0.5 + 0.5 * (0.5 * z).tanh()


def _sigmoid_from_exp(z: Any) -> Any:
    """sigmoid(z) = (1 + exp(-1 * z)) ** -1."""
    return (1 + (-1 * z).exp()) ** -1


SIGMOIDS: dict[str, tuple[tuple[str, ...], Callable[[Any], Any], str]] = {
    "sigmoid": (("sigmoid",), _own_sigmoid, "z.sigmoid()"),
    "tanh": (("tanh", "rmul", "radd"), _sigmoid_from_tanh, "0.5 + 0.5 * tanh(0.5 * z)"),
    "exp": (("exp", "pow", "rmul", "radd"), _sigmoid_from_exp, "(1 + exp(-1 * z)) ** -1"),
}


class _EngineError(Exception):
    """The engine raised (or gave something that is not a number) at one stage."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(stage)
        self.stage = stage
        self.error = error


def _number(x: object) -> float:
    """``x`` as an exact float: float subclasses by value, ints by value, else ``float(x)``."""
    if isinstance(x, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(x, float):
        return float.__float__(x)
    if isinstance(x, int):
        return float(int.__index__(x))
    result = float(x)  # type: ignore[arg-type]  # a numpy scalar; a lie only costs the engine
    if type(result) is not float:
        raise TypeError(f"float() of its {type(x).__name__} gave a {type(result).__name__}")
    return result


def _read(values: Sequence[Any], attribute: str) -> list[float]:
    """``attribute`` (data or grad) of each value, as floats."""
    try:
        return [_number(getattr(value, attribute)) for value in values]
    except Exception as error:
        raise _EngineError(f"reading .{attribute}", error) from None


def _stage(stage: str, work: Callable[[], Any]) -> Any:
    """``work()``, any exception of the engine's wrapped as an ``_EngineError`` of ``stage``."""
    try:
        return work()
    except KeyboardInterrupt as error:  # SIGINT is ignored here: the engine raised it
        raise _EngineError(stage, error) from None
    except Exception as error:
        raise _EngineError(stage, error) from None
    except BaseException as error:  # SystemExit, GeneratorExit, ...
        raise _EngineError(stage, error) from None


def _forward_backward(build: Callable[[], tuple[Any, list[Any]]]) -> tuple[Any, list[Any]]:
    """Build (output, leaves), then ``output.backward()``."""
    out, leaves = _stage("forward", build)
    _stage("backward", out.backward)
    return out, leaves


def _hello(value_class: Any) -> dict[str, Any]:
    has = []
    for op, attributes in ATTRIBUTES.items():
        try:
            if all(getattr(value_class, name, None) is not None for name in attributes):
                has.append(op)
        except BaseException:  # a metaclass whose __getattribute__ raises: the op is missing
            pass
    return {"engine": class_name(value_class)[:200], "has": has}


def class_name(value_class: object) -> str:
    """``module.QualifiedName`` of a class, read without running any of its code ("?" else).

    Type's own descriptors are used, past any metaclass's ``__getattribute__``.

    >>> class_name(float), class_name(3)
    ('builtins.float', '?')
    """
    if not issubclass(type(value_class), type):
        return "?"
    module = type.__dict__["__module__"].__get__(value_class)
    qualname = type.__dict__["__qualname__"].__get__(value_class)
    return f"{module}.{qualname}"


def _probe(value_class: Any) -> dict[str, Any]:
    leaf = _stage("Value(1.5)", lambda: value_class(1.5))
    data, grad = _read([leaf], "data")[0], _read([leaf], "grad")[0]
    backward = _stage("reading .backward", lambda: callable(leaf.backward))
    return {"data": data, "grad": grad, "backward": bool(backward is True)}


def _op(value_class: Any, name: str, point: list[float]) -> dict[str, Any]:
    op = op_named(name)
    leaves: list[Any] = []

    def build() -> tuple[Any, list[Any]]:
        operands = []
        for arg, x in zip(op.args, point):
            if arg.is_value:
                leaves.append(value_class(x))
                operands.append(leaves[-1])
            else:
                operands.append(x)
        return op.ours(*operands), leaves

    out, leaves = _forward_backward(build)
    return {"value": _read([out], "data"), "grads": _read(leaves, "grad")}


def _program(value_class: Any, inputs: list[float], steps: list[Any]) -> dict[str, Any]:
    program = Program(tuple(inputs), tuple((str(n), tuple(s)) for n, s in steps))

    def build() -> tuple[Any, list[Any]]:
        leaves = [value_class(x) for x in program.inputs]
        return program.output(*leaves), leaves

    out, leaves = _forward_backward(build)
    return {"value": _read([out], "data"), "grads": _read(leaves, "grad")}


def _chain(value_class: Any, depth: int) -> dict[str, Any]:
    def build() -> tuple[Any, list[Any]]:
        x = value_class(1.0)
        y = x
        for _ in range(depth):
            y = y + 1.0
        return y, [x]

    out, leaves = _forward_backward(build)
    return {"value": _read([out], "data"), "grads": _read(leaves, "grad")}


def _network(
    value_class: Any, sigmoid: str, weights: list[list[list[float]]], x: list[float], y: list[float]
) -> dict[str, Any]:
    """J = 1/2 sum_k (y_k - o_k)^2 built with the class's + and * (numbers on the left)."""
    make_sigmoid = SIGMOIDS[sigmoid][1]
    outputs: list[Any] = []

    def build() -> tuple[Any, list[Any]]:
        values = [[[value_class(w) for w in row] for row in matrix] for matrix in weights]
        below: list[Any] = list(x)
        for matrix in values:
            above = []
            for j in range(len(matrix[0])):
                z = matrix[0][j]
                for i, x_i in enumerate(below):
                    z = z + x_i * matrix[i + 1][j]
                above.append(make_sigmoid(z))
            below = above
        outputs.extend(below)
        loss = None
        for o_k, y_k in zip(below, y):
            error = -y_k + o_k
            term = 0.5 * (error * error)
            loss = term if loss is None else loss + term
        return loss, [w for matrix in values for row in matrix for w in row]

    _, leaves = _forward_backward(build)
    return {"outputs": _read(outputs, "data"), "grads": _read(leaves, "grad")}


def answer(value_class: Any, request: Any) -> dict[str, Any]:
    """The numbers ``request`` asks for, or the engine's error (see the module docstring)."""
    try:
        kind = request["kind"]
        if kind == "hello":
            return _hello(value_class)
        if kind == "probe":
            return _probe(value_class)
        if kind == "op":
            return _op(value_class, request["op"], request["point"])
        if kind == "program":
            return _program(value_class, request["inputs"], request["steps"])
        if kind == "chain":
            return _chain(value_class, request["depth"])
        if kind == "network":
            return _network(
                value_class, request["sigmoid"], request["weights"], request["x"], request["y"]
            )
        return {"error": "ValueError", "message": f"unknown request {kind!r}", "stage": "grader"}
    except _EngineError as failure:
        error = failure.error
        if isinstance(error, RecursionError):  # drop its thousands of frames
            error = error.with_traceback(None)
        return {"error": type(error).__name__, "message": error_text(error), "stage": failure.stage}
    except BaseException as error:  # raised outside any stage: by a metaclass, say
        return {"error": type(error).__name__, "message": error_text(error), "stage": "grader"}
