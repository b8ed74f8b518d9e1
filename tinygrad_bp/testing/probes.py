"""What the sandboxed child computes with the student's class: numbers, never verdicts.

``answer(Value, request)`` runs in the child (``isolation.EngineProcess``) and
turns one request into plain numbers:

- ``hello``: the class's name and which of the attributes the checks use it has;
- ``op``: one catalogue op at a point, then ``backward()``: the output's data and
  each value operand's grad;
- ``program``: a random expression program, the same;
- ``chain``: ``y = x + 1 + ... + 1``: y's data and x's grad;
- ``network``: a sigmoid network's loss built from the class's own ops: the
  outputs' data and every weight's grad;
- ``curvature``: a program or a network as above, differentiated twice with the
  engine's own ``grad`` function (``grad_function``): the output's data, the
  first derivatives ``grad(output, inputs, create_graph=True)`` and the
  Hessian-vector product ``grad(<v, first derivatives>, inputs)``.

Every number is read as an exact float (``_number``): a float subclass counts
as its float value whatever its arithmetic does, an int as its value, anything
else through ``float()``; something that is none of these (an object whose
``__eq__`` always answers True, say) is an error of the engine. An exception the
engine raises becomes ``{"error": type name, "message": ..., "stage": ...}``.
The parent (``checks``) does every comparison.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .catalogue import op_named
from .isolation import error_text
from .strategies import Program

__all__ = ["ATTRIBUTES", "GRAD_FUNCTION", "SIGMOIDS", "answer", "class_name", "grad_function"]

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


# The function an engine offers second order with: grad(output, inputs, create_graph=False)
# with tinygrad_bp.grad's meaning, in the module of its class or a package above it.
GRAD_FUNCTION = "grad"


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
    found = grad_function(value_class)
    where = found[0] if found is not None else ""
    return {"engine": class_name(value_class)[:200], "has": has, "grad_function": where[:200]}


def grad_function(value_class: object) -> tuple[str, Callable[..., Any]] | None:
    """(where, function): the engine's ``grad``, or None when it offers no second order.

    Looked up, in the child only, in the module that defines the class, then in
    each package above it: ``tinygrad_bp.engine.Value`` finds ``tinygrad_bp.grad``.
    A function of that name that cannot be called as ``grad(output, inputs,
    create_graph=True)`` (a student's finite-difference helper ``grad(f, x)``,
    another library's ``grad``) is not the engine's: passed over.

    >>> from tinygrad_bp import Value
    >>> grad_function(Value)[0], grad_function(float)
    ('tinygrad_bp.grad', None)
    """
    if not issubclass(type(value_class), type):
        return None
    name = type.__dict__["__module__"].__get__(value_class)
    while isinstance(name, str) and name:
        try:
            function = getattr(sys.modules.get(name), GRAD_FUNCTION, None)
            if callable(function) and _takes_create_graph(function):
                return f"{name}.{GRAD_FUNCTION}", function
        except BaseException:  # a module whose __getattr__ raises: no grad there
            pass
        name = name.rpartition(".")[0]
    return None


def _takes_create_graph(function: Callable[..., Any]) -> bool:
    """Whether ``function(output, inputs, create_graph=True)`` binds to its signature.

    A callable whose signature cannot be read (some built-ins) is given the benefit
    of the doubt: the check then says what calling it did.
    """
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(None, [], create_graph=True)
    except TypeError:
        return False
    return True


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


def _network_builder(
    value_class: Any,
    sigmoid: str,
    weights: list[list[list[float]]],
    x: list[float],
    y: list[float],
    outputs: list[Any],
) -> Callable[[], tuple[Any, list[Any]]]:
    """J = 1/2 sum_k (y_k - o_k)^2 built with the class's + and * (numbers on the left).

    The builder returns (J, every weight); the outputs o_k are put in ``outputs``.
    """
    make_sigmoid = SIGMOIDS[sigmoid][1]

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

    return build


def _network(
    value_class: Any, sigmoid: str, weights: list[list[list[float]]], x: list[float], y: list[float]
) -> dict[str, Any]:
    outputs: list[Any] = []
    _, leaves = _forward_backward(_network_builder(value_class, sigmoid, weights, x, y, outputs))
    return {"outputs": _read(outputs, "data"), "grads": _read(leaves, "grad")}


def _gradients(function: Callable[..., Any], out: Any, leaves: list[Any], **options: Any) -> list:
    """``function(out, leaves, **options)`` as a list of one gradient per leaf."""
    found = list(function(out, leaves, **options))
    if len(found) != len(leaves):
        raise ValueError(f"it returned {len(found)} gradients for {len(leaves)} inputs")
    return found


def _curvature(value_class: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Value, first derivatives and Hessian times v, with the engine's own ``grad``.

    <v, g> is built as g_0 * Value(v_0) + g_1 * Value(v_1) + ..., with the class's
    own + and * of two values.
    """
    found = _stage("finding grad", lambda: grad_function(value_class))
    if found is None:
        return {"error": "LookupError", "message": "no grad function", "stage": "finding grad"}
    function = found[1]
    outputs: list[Any] = []
    if request["case"] == "program":
        program = Program(
            tuple(request["inputs"]), tuple((str(n), tuple(s)) for n, s in request["steps"])
        )

        def build() -> tuple[Any, list[Any]]:
            leaves = [value_class(x) for x in program.inputs]
            return program.output(*leaves), leaves

    else:
        build = _network_builder(
            value_class, request["sigmoid"], request["weights"], request["x"], request["y"], outputs
        )
    out, leaves = _stage("forward", build)
    firsts = _stage(
        "grad(..., create_graph=True)",
        lambda: _gradients(function, out, leaves, create_graph=True),
    )

    def inner() -> Any:
        total = None
        for first, v in zip(firsts, request["vector"]):
            term = first * value_class(v)
            total = term if total is None else total + term
        return total

    product = _stage("<v, grad>", inner)
    seconds = _stage("grad of <v, grad>", lambda: _gradients(function, product, leaves))
    shown = outputs if request["case"] == "network" else [out]
    return {
        "value": _read(shown, "data"),
        "grads": _read(firsts, "data"),
        "hvp": _read(seconds, "data"),
    }


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
        if kind == "curvature":
            return _curvature(value_class, request)
        return {"error": "ValueError", "message": f"unknown request {kind!r}", "stage": "grader"}
    except _EngineError as failure:
        error = failure.error
        if isinstance(error, RecursionError):  # drop its thousands of frames
            error = error.with_traceback(None)
        return {"error": type(error).__name__, "message": error_text(error), "stage": failure.stage}
    except BaseException as error:  # raised outside any stage: by a metaclass, say
        return {"error": type(error).__name__, "message": error_text(error), "stage": "grader"}
