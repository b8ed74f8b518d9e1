"""Checking autograd: gradients against central differences, and anomaly mode.

``gradcheck`` is the test every op of both engines must pass: the gradient that
backpropagation computes must agree with the slope measured by nudging each
input a little either way,

    dJ/dx_i  ~  (J(x + eps e_i) - J(x - eps e_i)) / (2 eps),

whose error shrinks like eps^2. With ``order=2`` it checks the derivative of the
gradient the same way: H u (the Hessian times a random direction u, by two
reverse sweeps, see ``autodiff.hvp``) against differences of differences of J,

    (H u)_i  ~  (J(x + d e_i + d u) - J(x + d e_i - d u)
                 - J(x - d e_i + d u) + J(x - d e_i - d u)) / (4 d^2),

which use J alone, so a rule whose own derivative is wrong is caught even where
its first derivative happens to be right. ``check_vjp`` is the same idea for a tensor
function with many outputs, tested along one random direction at a time (the
dot-product test of HIPS/autograd).

``detect_anomaly()`` watches every node while it is active and raises
``AnomalyError`` at the first operation whose forward value or backward
gradient is NaN or infinite, naming the op and the line of user code that
created it (as PyTorch's anomaly mode does).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

import numpy as np

from . import validate
from .autodiff import hvp
from .engine import Value
from .graph import enable_grad, no_grad, observing, toposort
from .report import Report
from .tensor import Tensor

Node = Value | Tensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


# -- gradcheck ------------------------------------------------------------------------


@dataclass(frozen=True)
class GradcheckReport(Report):
    """The verdict of ``gradcheck``: truthy when every element agrees.

    Attributes:
        ok: whether |analytic - numeric| <= atol + rtol * |numeric| for every element.
        worst_input: position in ``inputs`` of the element closest to (or furthest
            past) its tolerance.
        worst_index: that element's index in its input (``()`` for a Value).
        analytic: its gradient by backpropagation.
        numeric: its gradient by central differences.
        error: |analytic - numeric|.
        tolerance: atol + rtol * |numeric|, the largest error allowed there.
    """

    ok: bool
    worst_input: int
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    error: float
    tolerance: float

    def __str__(self) -> str:
        return (
            f"gradcheck {self.verdict}: worst element is input {self.worst_input} "
            f"at index {self.worst_index}: analytic {self.analytic:.10g} vs "
            f"numeric {self.numeric:.10g}, error {self.error:.3g} "
            f"(allowed {self.tolerance:.3g})"
        )


def gradcheck(
    f: Callable[..., Node],
    inputs: Node | Sequence[Node],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
) -> GradcheckReport:
    """Compare the gradient of ``f(*inputs)`` by backpropagation with central differences.

    For every element x_i of every input, the analytic dJ/dx_i from ``backward()``
    must satisfy |analytic - numeric| <= atol + rtol * |numeric|, where

        numeric = (J(x + eps e_i) - J(x - eps e_i)) / (2 eps)

    is evaluated in float64 inside ``no_grad()``: each input's data is replaced by a
    float64 copy while it is nudged, so a float32 tensor is differentiated
    numerically in float64 while its analytic gradient keeps its own dtype.

    Nothing the caller holds is changed: every input's data, grad and
    ``requires_grad`` and the grad of every other node of the graph (e.g. a model's
    parameters used inside ``f``) are restored afterwards, even if ``f`` raises.

    Args:
        f: called as ``f(*inputs)``; must return a scalar Value or a one-element Tensor.
        inputs: a Value or Tensor, or a sequence of them (may be mixed).
        eps: the nudge of central differences.
        atol: absolute tolerance.
        rtol: tolerance relative to the numeric gradient.
        order: 1 checks the gradient; 2 checks its derivative along a random
            direction u (drawn from a fixed seed): H u by ``grad(...,
            create_graph=True)`` against second differences of J. Second
            differences divide by the step squared, so order 2 steps by
            max(eps, SECOND_ORDER_STEP) = 1e-4 by default.

    Returns:
        A ``GradcheckReport``, truthy when every element agrees; ``str()`` of it
        names the worst element (for order 2, an element of H u).

    Raises:
        TypeError: an input is not a Value or Tensor, or ``f`` does not return a
            scalar Value or one-element Tensor.
        ValueError: the inputs have no elements to check.

    >>> x, y = Value(0.5), Value(-2.0)
    >>> report = gradcheck(lambda a, b: a * b + a.tanh(), (x, y))
    >>> bool(report), x.grad, y.grad      # grads are left as they were
    (True, 0.0, 0.0)
    >>> bool(gradcheck(lambda a, b: a * b + a.tanh(), (x, y), order=2))
    True
    """
    _check_settings(f, eps, atol, rtol)
    if order not in (1, 2) or isinstance(order, bool):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    inputs = _as_input_tuple(inputs)
    with _inputs_restored(inputs):
        out = _call_recording(f, inputs)
        _scalar_output(out)
        if order == 1:
            analytic = _backward_gradients(out, inputs, seed=None)
            with no_grad():
                numeric = _numeric_gradients(lambda: _scalar_output(f(*inputs)), inputs, eps)
        else:
            step = max(eps, SECOND_ORDER_STEP)
            direction = _second_order_direction(inputs)
            products = hvp(f, inputs, direction)
            analytic = [np.array(np.asarray(hu.data), np.float64) for hu in products]
            largest: list[float] = [0.0]
            with no_grad():
                slope = _slope_along(f, inputs, direction, step, largest)
                numeric = _numeric_gradients(slope, inputs, step)
            # Each J is rounded by up to 1.1e-16 |J|; the double difference divides by d^2.
            return _compare(analytic, numeric, atol + 2.2e-16 * largest[0] / step**2, rtol)
    return _compare(analytic, numeric, atol, rtol)


SECOND_ORDER_STEP = 1e-4  # second differences: rounding ~ 1e-16 / d^2, truncation ~ d^2


def _second_order_direction(inputs: tuple[Node, ...]) -> list[Any]:
    """The direction u of the order-2 check: standard normal, the same at every call."""
    rng = np.random.default_rng(0)
    return [
        float(rng.standard_normal()) if isinstance(x, Value) else rng.standard_normal(x.shape)
        for x in inputs
    ]


def _slope_along(
    f: Callable[..., Node],
    inputs: tuple[Node, ...],
    direction: list[Any],
    step: float,
    largest: list[float],
) -> Callable[[], float]:
    """A function giving dJ/dt of J(x + t u) at the inputs' current data, by differences.

    ``largest[0]`` keeps the largest |J| met, which bounds the rounding error.
    """

    def slope() -> float:
        starts = [np.array(x.data, dtype=np.float64) for x in inputs]
        sides = []
        for sign in (1.0, -1.0):
            for x, start, u in zip(inputs, starts, direction, strict=True):
                _set_data(x, start + sign * step * np.asarray(u))
            sides.append(_scalar_output(f(*inputs)))
            largest[0] = max(largest[0], abs(sides[-1]))
        for x, start in zip(inputs, starts, strict=True):
            _set_data(x, start)
        return (sides[0] - sides[1]) / (2.0 * step)

    return slope


@dataclass(frozen=True)
class VjpReport(Report):
    """The verdict of ``check_vjp``: truthy when both sides of the dot-product test agree.

    Attributes:
        ok: whether |by_backward - numeric| <= atol + rtol * |numeric|.
        by_backward: <J^T u, v>, from one ``backward(u)``.
        numeric: <u, J v>, by central differences along v.
        error: |by_backward - numeric|.
        tolerance: atol + rtol * |numeric|.
    """

    ok: bool
    by_backward: float
    numeric: float
    error: float
    tolerance: float

    def __str__(self) -> str:
        return (
            f"check_vjp {self.verdict}: <J^T u, v> = {self.by_backward:.10g} by backward vs "
            f"<u, J v> = {self.numeric:.10g} by differences, error {self.error:.3g} "
            f"(allowed {self.tolerance:.3g})"
        )


def check_vjp(
    f: Callable[..., Tensor],
    inputs: Node | Sequence[Node],
    rng: np.random.Generator | int | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> VjpReport:
    """The dot-product test of a tensor-valued ``f``: <J^T u, v> = <u, J v>.

    With a random cotangent u (shaped like the output) and a random direction v
    (one array per input), the left side comes from one ``backward(u)`` and the
    right side from two evaluations, (<u, f(x + eps v)> - <u, f(x - eps v)>) / (2 eps),
    in float64 inside ``no_grad()``. One backward and two forwards test every
    output and input at once, where ``gradcheck`` needs two forwards per element.
    Inputs, grads and other nodes' grads are restored as in ``gradcheck``.

    Args:
        f: called as ``f(*inputs)``; must return a Tensor (of any shape).
        inputs: a Value or Tensor, or a sequence of them.
        rng: a np.random.Generator, a seed or None, for u and v.
        eps: the step along v.
        atol: absolute tolerance.
        rtol: tolerance relative to the numeric side.

    Returns:
        A ``VjpReport``, truthy when both sides agree.

    Raises:
        TypeError: an input is not a Value or Tensor, or ``f`` does not return a Tensor.
        ValueError: the inputs have no elements to check.

    >>> w = Tensor([[1.0, -2.0], [0.5, 3.0]])
    >>> bool(check_vjp(lambda x: (x @ w).tanh(), Tensor([[0.1, 0.2]]), rng=0))
    True
    """
    _check_settings(f, eps, atol, rtol)
    inputs = _as_input_tuple(inputs)
    rng = np.random.default_rng(rng)
    with _inputs_restored(inputs):
        out = _call_recording(f, inputs)
        if not isinstance(out, Tensor):
            raise TypeError(f"check_vjp: f must return a Tensor, got {type(out).__name__}")
        cotangent = rng.standard_normal(out.shape)
        directions = [rng.standard_normal(np.shape(x.data)) for x in inputs]
        gradients = _backward_gradients(out, inputs, seed=cotangent)
        by_backward = sum(float(np.sum(g * v)) for g, v in zip(gradients, directions, strict=True))
        numeric = _directional_derivative(f, inputs, directions, cotangent, eps)
    error = abs(by_backward - numeric)
    tolerance = atol + rtol * abs(numeric)
    return VjpReport(error <= tolerance, by_backward, numeric, error, tolerance)


def _check_settings(f: Any, eps: Any, atol: Any, rtol: Any) -> None:
    """TypeError unless ``f`` is callable and eps, atol, rtol are real numbers;
    ValueError unless they are finite, eps > 0 and atol, rtol >= 0."""
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    validate.real("eps", eps, positive=True)
    validate.real("atol", atol, minimum=0.0)
    validate.real("rtol", rtol, minimum=0.0)


def _as_input_tuple(inputs: Node | Sequence[Node]) -> tuple[Node, ...]:
    """Accept one node or a sequence of nodes; TypeError naming anything else."""
    if isinstance(inputs, (Value, Tensor)):
        return (inputs,)
    if not isinstance(inputs, (tuple, list)):
        raise TypeError(
            f"inputs must be a Value, a Tensor or a tuple/list of them, got {type(inputs).__name__}"
        )
    for position, x in enumerate(inputs):
        if not isinstance(x, (Value, Tensor)):
            raise TypeError(f"input {position} must be a Value or a Tensor, got {type(x).__name__}")
    if sum(np.size(x.data) for x in inputs) == 0:
        raise ValueError("the inputs have no elements to check")
    return tuple(inputs)


@contextlib.contextmanager
def _inputs_restored(inputs: tuple[Node, ...]) -> Iterator[None]:
    """Put back every input's data, grad and requires_grad on exit, even after an error."""
    saved = [(x.data, x.grad, getattr(x, "requires_grad", False)) for x in inputs]
    try:
        yield
    finally:
        for x, (data, grad, requires_grad) in zip(inputs, saved, strict=True):
            x.data, x.grad = data, grad
            if isinstance(x, Tensor):
                x.requires_grad = bool(requires_grad)


def _call_recording(f: Callable[..., Node], inputs: tuple[Node, ...]) -> Node:
    """``f(*inputs)`` with every input's grad zeroed and every tensor requiring grad,
    its graph recorded even when called inside ``no_grad()``."""
    for x in inputs:
        x.grad = x.empty_grad
        if isinstance(x, Tensor):
            x.requires_grad = True
    with enable_grad():
        return f(*inputs)


def _scalar_output(out: object) -> float:
    """The number a checked function returned; TypeError unless it is one."""
    if isinstance(out, Value):
        return out.data
    if isinstance(out, Tensor):
        if out.data.size != 1:
            raise TypeError(f"gradcheck: f must return a scalar, got a Tensor of shape {out.shape}")
        return float(out.data.reshape(()))
    raise TypeError(
        f"gradcheck: f must return a scalar Value or a one-element Tensor, got {type(out).__name__}"
    )


def _backward_gradients(
    out: Node, inputs: tuple[Node, ...], seed: np.ndarray | None
) -> list[np.ndarray]:
    """d(out)/dx (times ``seed``) for every input by one backward, as float64 arrays.

    Every other node of the graph starts this backward from a zero grad and gets
    its own grad object back afterwards, untouched.
    """
    input_ids = {id(x) for x in inputs}
    others = [node for node in toposort(out) if id(node) not in input_ids]
    saved_grads = [node.grad for node in others]
    try:
        for node in others:
            node.grad = node.empty_grad
        if isinstance(out, Tensor) and not out.requires_grad:
            pass  # f's output does not depend on the inputs: every gradient is zero
        elif isinstance(out, Tensor):
            out.backward(seed)
        else:
            out.backward()
        return [
            np.zeros(np.shape(x.data)) if x.grad is None else np.array(x.grad, dtype=np.float64)
            for x in inputs
        ]
    finally:
        for node, grad in zip(others, saved_grads, strict=True):
            node.grad = grad


def _set_data(x: Node, work: np.ndarray) -> None:
    """Give ``x`` the float64 values ``work`` (a float for a Value, the array for a Tensor)."""
    x.data = float(work) if isinstance(x, Value) else work


def _numeric_gradients(
    evaluate: Callable[[], float], inputs: tuple[Node, ...], eps: float
) -> list[np.ndarray]:
    """dE/dx for every input by central differences, nudging one element at a time.

    ``evaluate()`` computes the scalar E from the inputs' current data. Each input's
    data is swapped for a float64 copy ``work`` while it is nudged, so the caller's
    array is never written (``_inputs_restored`` puts it back).
    """
    gradients = []
    for x in inputs:
        work = np.array(x.data, dtype=np.float64)
        gradient = np.zeros(work.shape)
        for index in np.ndindex(work.shape):
            center = work[index]
            work[index] = center + eps
            _set_data(x, work)
            plus = evaluate()
            work[index] = center - eps
            _set_data(x, work)
            minus = evaluate()
            work[index] = center
            _set_data(x, work)
            gradient[index] = (plus - minus) / (2.0 * eps)
        gradients.append(gradient)
    return gradients


def _directional_derivative(
    f: Callable[..., Tensor],
    inputs: tuple[Node, ...],
    directions: list[np.ndarray],
    cotangent: np.ndarray,
    eps: float,
) -> float:
    """<u, J v> = d/dt <u, f(x + t v)> at t = 0, by central differences in float64."""
    starts = [np.array(x.data, dtype=np.float64) for x in inputs]
    sides = []
    with no_grad():
        for step in (eps, -eps):
            for x, start, direction in zip(inputs, starts, directions, strict=True):
                _set_data(x, start + step * direction)
            sides.append(float(np.sum(cotangent * f(*inputs).data)))
    return (sides[0] - sides[1]) / (2.0 * eps)


def _compare(
    analytic: list[np.ndarray], numeric: list[np.ndarray], atol: float, rtol: float
) -> GradcheckReport:
    """Report the element whose error most exceeds its tolerance (NaN counts as worst)."""
    candidates = []  # (error - tolerance, input position, index) of each input's worst
    for position, (a_grad, n_grad) in enumerate(zip(analytic, numeric, strict=True)):
        if a_grad.size == 0:
            continue
        excess = np.abs(a_grad - n_grad) - (atol + rtol * np.abs(n_grad))
        excess = np.where(np.isnan(excess), np.inf, excess)
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape))
        candidates.append((float(excess[index]), position, index))
    worst_excess, position, index = max(candidates)
    analytic_value = float(analytic[position][index])
    numeric_value = float(numeric[position][index])
    return GradcheckReport(
        ok=worst_excess <= 0.0,
        worst_input=position,
        worst_index=index,
        analytic=analytic_value,
        numeric=numeric_value,
        error=abs(analytic_value - numeric_value),
        tolerance=atol + rtol * abs(numeric_value),
    )


# -- anomaly mode -----------------------------------------------------------------------


class AnomalyError(FloatingPointError):
    """An operation produced NaN or inf, in its forward value or its backward gradient."""


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Context manager: raise ``AnomalyError`` at the op that first makes a NaN or inf.

    While active, every new node remembers the ``file:line`` of the user code that
    created it (``node._origin``), and:

    - forward: an operation whose value is non-finite although all its operands
      are finite raises, whether or not it records the graph (inside ``no_grad()``,
      or a tensor op none of whose operands requires grad, it is checked all the
      same). Leaves never raise, since they are the user's input, and neither does
      an op fed a NaN or inf operand, so the error names the op that created the
      bad value, not every op downstream of it.
    - backward: a node that sends a non-finite gradient to any of its children
      raises. The check stops the sweep at the first such gradient, so the node's
      own upstream gradient was finite (unless ``backward(grad)`` was seeded with
      one): again the error names the op where the NaN or inf appeared.

    The message names the op, the phase, the shapes of the node and its operands and
    where the node was created. Contexts nest; on exit the previous observers are
    restored, even after an error. A graph stays usable after an error in backward.
    Anomaly mode belongs to the thread that enters it, as grad mode does.

    >>> with detect_anomaly():  # doctest: +ELLIPSIS
    ...     root = Value(-1.0) ** 0.5
    Traceback (most recent call last):
    ...
    tinygrad_bp.check.AnomalyError: op '**0.5' produced nan in forward (its value); ...
    """
    with observing(forward=_check_forward, backward=_check_backward):
        yield


def _check_forward(node: Node, value: Any, operands: tuple[Node, ...]) -> None:
    """Remember where ``node`` was made; raise if it made a NaN or inf from finite operands.

    ``operands`` are the node's operands even when the graph is not recorded, so ops
    made inside ``no_grad()`` are checked too; a leaf has none and never raises.
    """
    node._origin = _user_origin()
    if operands and not _finite(value) and all(_finite(operand.data) for operand in operands):
        raise AnomalyError(_anomaly_message(node, "forward", value, operands))


def _check_backward(node: Node, sent: tuple[Any, ...]) -> None:
    """Raise if ``node`` sends a NaN or inf gradient to any of its children."""
    for gradient in sent:
        if not _finite(gradient):
            raise AnomalyError(_anomaly_message(node, "backward", gradient, node.children))


def _finite(value: Any) -> bool:
    """Whether a number or array (or None: no gradient) holds no NaN or inf."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return bool(np.all(np.isfinite(value)))


def _user_origin() -> str:
    """``file:line`` of the innermost caller outside this package (the user's code)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR + os.sep):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _shape(node: Node) -> str:
    """'scalar' for a Value, the shape tuple for a tensor."""
    return "scalar" if isinstance(node, Value) else str(tuple(node.data.shape))


def _anomaly_message(node: Node, phase: str, bad: Any, operands: tuple[Node, ...]) -> str:
    """Name the op, the phase, the kind of bad number, the shapes and the origin."""
    kind = "nan" if bool(np.any(np.isnan(bad))) else "inf"
    where = "its value" if phase == "forward" else "the gradient it sends to its operands"
    shapes = ", ".join(_shape(operand) for operand in operands)
    origin = node._origin or "unknown (created outside detect_anomaly())"
    return (
        f"op '{node.op}' produced {kind} in {phase} ({where}); "
        f"output shape {_shape(node)}, operand shapes [{shapes}]; created at {origin}"
    )
