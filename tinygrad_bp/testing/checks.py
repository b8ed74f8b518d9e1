"""The grader: ``check_engine`` runs a property suite against any micrograd-style ``Value``.

``check_engine(Value)`` runs a property suite against a scalar ``Value`` class
written by anyone: it needs ``Value(number)``, ``.data``, ``.grad``,
``.backward()`` and whichever operators and methods the class has. Each check
draws many inputs with Hypothesis and compares the engine with an oracle that
never involves the engine under test:

- every graded op of the catalogue (``a - b``, ``tanh(a)``, ...) and the
  gradient-accumulation checks: the reference on Python floats, and its central
  finite differences in float64, (f(x + eps) - f(x - eps)) / (2 eps);
- random expression programs mixing the ops that passed on their own;
- a chain of up to 5,000 nodes: dy/dx = 1 for y = x + 1 + ... + 1;
- a sigmoid network built from the class's own ``+``, ``*`` and sigmoid (made
  from ``tanh`` or ``exp`` where the class has no ``sigmoid``): dJ/dw for
  J = 1/2 sum (y - o)^2 against the delta rules of ``tinygrad_bp.delta``.

A failing check reports the smallest failing example Hypothesis found. An op
the class lacks (AttributeError or TypeError from the operation itself, tried
once before the property runs) is reported as unsupported, not failed.

Each check runs isolated (``isolation.run_isolated``): whatever the engine
raises, SystemExit included, is that check's failure with its message, and a
check that runs past the time limit fails as timed out; the other checks and
the report go on.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

from .. import delta, validate
from ..report import Report
from .catalogue import OPS, Arg, OpCheck
from .isolation import Outcome, error_text, run_isolated
from .strategies import PROGRAM_OPS, Program, programs, sigmoid_networks

__all__ = [
    "CHAIN_DEPTH",
    "EPS",
    "TIMEOUT",
    "CheckResult",
    "EngineReport",
    "check_engine",
    "load_class",
]

EPS = 1e-6  # the nudge of central differences
CHAIN_DEPTH = 5_000  # the longest chain the deep-chain check builds
TIMEOUT = 10.0  # seconds each check may take by default
Status = Literal["pass", "fail", "unsupported"]


# -- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult(Report):
    """The verdict of one check: truthy unless it failed (unsupported is no failure).

    Attributes:
        name: the check (an op such as ``"sub"``, or ``"deep_chain"``, ...).
        status: ``"pass"``, ``"fail"`` or ``"unsupported"``.
        detail: what was checked (pass), the smallest failing example and the
            error, or why the check could not finish (fail), or the error of the
            one trial call (unsupported).

    >>> result = CheckResult("sub", "fail", "a=0.0, b=0.0: AssertionError: wrong")
    >>> bool(result), str(result)
    (False, 'sub fail: a=0.0, b=0.0: AssertionError: wrong')
    """

    name: str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the check did not fail."""
        return self.status != "fail"

    def __str__(self) -> str:
        return f"{self.name} {self.status}: {self.detail}"


@dataclass(frozen=True)
class EngineReport(Report):
    """What ``check_engine`` found: one ``CheckResult`` per check, printable as a table.

    Truthy when every supported check passed.

    Attributes:
        engine: the checked class, as ``module.QualifiedName``.
        results: one result per check, in the order they ran.

    >>> report = EngineReport("my.Value", (CheckResult("add", "pass", "a + b"),
    ...                                    CheckResult("tanh", "unsupported", "no tanh")))
    >>> bool(report), report["tanh"].status
    (True, 'unsupported')
    >>> print(report)
    check_engine(my.Value): 1 pass, 0 fail, 1 unsupported
    <BLANKLINE>
    op   | result      | detail
    -----+-------------+--------
    add  | pass        | a + b
    tanh | unsupported | no tanh
    """

    engine: str
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """Whether every supported check passed."""
        return not self.failed

    @property
    def failed(self) -> tuple[str, ...]:
        """The names of the failed checks."""
        return tuple(result.name for result in self.results if result.status == "fail")

    @property
    def unsupported(self) -> tuple[str, ...]:
        """The names of the checks the class does not support."""
        return tuple(result.name for result in self.results if result.status == "unsupported")

    def __getitem__(self, name: str) -> CheckResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no check named {name!r}; the checks are {[r.name for r in self.results]}")

    def __str__(self) -> str:
        counts = {status: 0 for status in ("pass", "fail", "unsupported")}
        for result in self.results:
            counts[result.status] += 1
        summary = ", ".join(f"{count} {status}" for status, count in counts.items())
        rows = [("op", "result", "detail")]
        rows += [(result.name, result.status, result.detail) for result in self.results]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        lines = [f"check_engine({self.engine}): {summary}", ""]
        for number, row in enumerate(rows):
            lines.append(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
            if number == 0:
                lines.append("-+-".join("-" * width for width in widths))
        return "\n".join(lines)


# -- running one property ------------------------------------------------------------


class _EngineRaised(Exception):
    """A BaseException of the engine (not an Exception), as Hypothesis can shrink it."""


def _shrunk_failure(
    strategy: st.SearchStrategy[Any], body: Callable[[Any], None], max_examples: int
) -> tuple[Any, BaseException] | None:
    """Run ``body`` on examples of ``strategy``; the smallest failing one, or None.

    Hypothesis shrinks a failure, then replays the smallest failing example last,
    so the last failure recorded here is the shrunk one. Returns (example, error),
    with example None if Hypothesis itself gave up (an unsatisfiable strategy).
    Any exception of the engine counts, BaseException included (Hypothesis would
    let SystemExit through unshrunk, so it sees an ``_EngineRaised`` instead); a
    KeyboardInterrupt propagates.
    """
    failures: list[tuple[Any, BaseException]] = []

    @settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(strategy)
    def run(example: Any) -> None:
        try:
            body(example)
        except KeyboardInterrupt:
            raise
        except Exception as error:
            failures.append((example, error))
            raise
        except BaseException as error:  # SystemExit, GeneratorExit, ...
            failures.append((example, error))
            raise _EngineRaised(error_text(error)) from error

    try:
        run()
    except Exception as error:
        return failures[-1] if failures else (None, error)
    return None


def _run_check(
    name: str,
    strategy: st.SearchStrategy[Any],
    body: Callable[[Any], None],
    describe: Callable[[Any], str],
    passed: str,
    max_examples: int,
) -> CheckResult:
    """Run one property; a failure's detail is its shrunk example, then the error."""
    failure = _shrunk_failure(strategy, body, max_examples)
    if failure is None:
        return CheckResult(name, "pass", passed)
    example, error = failure
    where = "Hypothesis could not run it" if example is None else describe(example)
    return CheckResult(name, "fail", f"{where}: {error_text(error)}")


def _trial(name: str, attempt: Callable[[], object], where: str) -> CheckResult | None:
    """Call ``attempt`` once (at ``where``): None if it works, else its verdict.

    ``unsupported`` when the class lacks what it uses (AttributeError, TypeError,
    NotImplementedError); ``fail`` naming ``where`` and the error for anything else.
    """
    try:
        attempt()
    except (AttributeError, TypeError, NotImplementedError) as error:
        return CheckResult(name, "unsupported", error_text(error))
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        return CheckResult(name, "fail", f"{where}: {error_text(error)}")
    return None


def _expect_close(
    what: str, actual: Any, expected: float, oracle: str, rel: float, abs_tol: float
) -> None:
    """AssertionError naming ``what`` unless actual and expected agree to rel and abs_tol."""
    if not math.isclose(float(actual), expected, rel_tol=rel, abs_tol=abs_tol):
        raise AssertionError(f"{what} is {float(actual)!r}, expected {expected!r} ({oracle})")


def _central_difference(f: Callable[..., float], point: Sequence[float], index: int) -> float:
    """df/dx_index at ``point``: (f(.., x + eps, ..) - f(.., x - eps, ..)) / (2 eps)."""
    plus, minus = list(point), list(point)
    plus[index] += EPS
    minus[index] -= EPS
    return (f(*plus) - f(*minus)) / (2 * EPS)


def _describe_point(args: Sequence[Arg], point: Sequence[float]) -> str:
    """``a=0.5, b=-1.0``."""
    return ", ".join(f"{arg.name}={x!r}" for arg, x in zip(args, point))


# -- the checks ------------------------------------------------------------------------


def _check_op(op: OpCheck, value_class: type, max_examples: int) -> CheckResult:
    """Value: the formula on floats; grad of each value argument: its central difference."""

    def operands(point: Sequence[float]) -> list[Any]:
        return [value_class(x) if arg.is_value else x for arg, x in zip(op.args, point)]

    def body(point: tuple[float, ...]) -> None:
        inputs = operands(point)
        out = op.ours(*inputs)
        out.backward()
        expected = op.reference(*point)
        _expect_close(f"the value of {op.formula}", out.data, expected, "float64 math", 1e-9, 1e-12)
        for index, (arg, operand) in enumerate(zip(op.args, inputs)):
            if arg.is_value:
                numeric = _central_difference(op.reference, point, index)
                what = f"d/d{arg.name} of {op.formula}"
                _expect_close(what, operand.grad, numeric, "central differences", 1e-5, 1e-6)

    trial_point = tuple(_clear_midpoint(arg) for arg in op.args)
    describe = partial(_describe_point, op.args)
    verdict = _trial(op.name, lambda: op.ours(*operands(trial_point)), describe(trial_point))
    if verdict is not None:
        return verdict
    return _run_check(op.name, op.points(), body, describe, op.formula, max_examples)


def _clear_midpoint(arg: Arg) -> float:
    """The middle of the argument's domain, moved past its kink if it is too close."""
    middle = (arg.low + arg.high) / 2
    return middle if arg.is_clear(middle) else min(arg.high, middle + 2 * arg.margin)


def _usable(
    options: Sequence[tuple[str, ...]], passed: set[str], supported: set[str]
) -> list[tuple[str, ...]]:
    """The options whose needs all passed, else those whose needs are all supported."""
    passing = [needs for needs in options if set(needs) <= passed]
    return passing or [needs for needs in options if set(needs) <= supported]


def _check_expressions(
    value_class: type, passed: set[str], supported: set[str], max_examples: int
) -> CheckResult:
    """Random programs: output equals the float program, grads equal central differences."""
    name = "expressions"
    needs = {op_name: op.needs for op_name, op in PROGRAM_OPS.items()}
    usable = _usable(list(needs.values()), passed, supported)
    ops = [op_name for op_name, op_needs in needs.items() if op_needs in usable]
    if not ops:
        return CheckResult(name, "unsupported", "none of the ops of the programs is supported")

    def body(program: Program) -> None:
        values = [value_class(x) for x in program.inputs]
        out = program.output(*values)
        out.backward()
        expected = program.output(*program.inputs)
        _expect_close("the value of the output", out.data, expected, "float64 math", 1e-9, 1e-9)
        for index, value in enumerate(values):
            numeric = _central_difference(program.output, program.inputs, index)
            what = f"d(output)/dx{index}"
            _expect_close(what, value.grad, numeric, "central differences", 1e-4, 1e-5)

    passed_detail = "random programs over " + ", ".join(ops)
    return _run_check(name, programs(ops), body, str, passed_detail, max_examples)


def _check_deep_chain(value_class: type, max_examples: int) -> CheckResult:
    """y = x + 1 + ... + 1 (depth additions) backpropagates: dy/dx = 1."""
    name = "deep_chain"

    def body(depth: int) -> None:
        x = value_class(1.0)
        y = x
        for _ in range(depth):
            y = y + 1.0
        try:
            y.backward()
        except RecursionError as error:  # drop its thousands of frames, which Hypothesis reads
            raise error.with_traceback(None) from None
        _expect_close("the value of y", y.data, 1.0 + depth, "float64 math", 0.0, 0.0)
        _expect_close("dy/dx", x.grad, 1.0, "the exact derivative", 0.0, 0.0)

    verdict = _trial(name, lambda: value_class(1.0) + 1.0, "x + 1.0 with x = 1.0")
    if verdict is not None:
        return verdict
    describe = "depth={:,}".format
    passed = f"y = x + 1 + ... + 1, up to {CHAIN_DEPTH:,} nodes: dy/dx = 1"
    result = _run_check(name, st.integers(1, CHAIN_DEPTH), body, describe, passed, max_examples)
    if result.status == "pass":  # random depths may miss the deepest: try it too
        result = _run_check(name, st.just(CHAIN_DEPTH), body, describe, passed, 1)
    return result


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


SIGMOIDS: dict[tuple[str, ...], tuple[Callable[[Any], Any], str]] = {
    ("sigmoid",): (_own_sigmoid, "z.sigmoid()"),
    ("tanh",): (_sigmoid_from_tanh, "0.5 + 0.5 * tanh(0.5 * z)"),
    ("exp", "pow"): (_sigmoid_from_exp, "(1 + exp(-1 * z)) ** -1"),
}
# The network uses a + b and a * b between values, c + a and c * a with numbers.
_NETWORK_OPS = ("add", "mul", "radd", "rmul")


def _network_loss(
    value_class: type,
    sigmoid: Callable[[Any], Any],
    weights: list[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[list[list[list[Any]]], list[Any], Any]:
    """Build J = 1/2 sum_k (y_k - o_k)^2 with the engine: (weight values, outputs o, J).

    Each unit computes z_j = w_0j + sum_i x_i w_ij and o_j = sigmoid(z_j), with
    only the class's + and * (a number on the left when one operand is a number).
    """
    weight_values = [[[value_class(float(w)) for w in row] for row in matrix] for matrix in weights]
    below: list[Any] = [float(xi) for xi in x]
    for matrix in weight_values:
        above = []
        for j in range(len(matrix[0])):
            z = matrix[0][j]
            for i, x_i in enumerate(below):
                z = z + x_i * matrix[i + 1][j]
            above.append(sigmoid(z))
        below = above
    terms = []
    for o_k, y_k in zip(below, y):
        error = -float(y_k) + o_k  # o_k - y_k
        terms.append(0.5 * (error * error))
    loss = terms[0]
    for term in terms[1:]:
        loss = loss + term
    return weight_values, below, loss


def _describe_network(network: tuple[list[int], list[np.ndarray], np.ndarray, np.ndarray]) -> str:
    """The shrunk network: sizes, weights, x and y as plain lists."""
    sizes, weights, X, Y = network
    matrices = [w.tolist() for w in weights]
    return f"sizes={sizes}, weights={matrices}, x={X[0].tolist()}, y={Y[0].tolist()}"


def _check_sigmoid_mlp(
    value_class: type, passed: set[str], supported: set[str], max_examples: int
) -> CheckResult:
    """dJ/dw by the engine equals -Delta w / lr of the delta rules, for random networks."""
    name = "sigmoid_mlp"
    options = {(*_NETWORK_OPS, *source): made for source, made in SIGMOIDS.items()}
    usable = _usable(list(options), passed, supported)
    if not usable:
        detail = "needs add, mul, radd, rmul and one of sigmoid, tanh, or exp with pow"
        return CheckResult(name, "unsupported", detail)
    sigmoid, sigmoid_formula = options[usable[0]]

    def body(network: tuple[list[int], list[np.ndarray], np.ndarray, np.ndarray]) -> None:
        sizes, weights, X, Y = network
        weight_values, outputs, loss = _network_loss(value_class, sigmoid, weights, X[0], Y[0])
        loss.backward()
        activations = delta.forward(weights, X[0])
        for k, (o_k, expected) in enumerate(zip(outputs, activations[-1])):
            _expect_close(f"o[{k}]", o_k.data, float(expected), "delta.forward", 1e-9, 1e-12)
        updates = delta.weight_updates(activations, delta.deltas(weights, activations, Y[0]), 1.0)
        for layer, (matrix, update) in enumerate(zip(weight_values, updates)):
            for i, row in enumerate(matrix):
                for j, w in enumerate(row):
                    what = f"dJ/dw[{layer}][{i}, {j}]"
                    _expect_close(what, w.grad, -update[i, j], "delta rules", 1e-7, 1e-9)

    passed_detail = f"dJ/dw equals the delta rules, sigmoid(z) = {sigmoid_formula}"
    return _run_check(
        name, sigmoid_networks(), body, _describe_network, passed_detail, max_examples
    )


def _qualified_name(value_class: object) -> str:
    """``module.QualifiedName`` of a class (or the repr of anything else)."""
    qualname = getattr(value_class, "__qualname__", None)
    if qualname is None:
        return repr(value_class)
    return f"{getattr(value_class, '__module__', '?')}.{qualname}"


def _probe(value_class: Any) -> CheckResult:
    """Whether ``value_class(1.5)`` has data 1.5, grad 0 and a backward method."""
    name = "Value(1.5)"
    try:
        leaf = value_class(1.5)
        data, grad, backward = leaf.data, leaf.grad, leaf.backward
        fits = float(data) == 1.5 and float(grad) == 0.0 and callable(backward)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        detail = f"Value(1.5) with .data, .grad and .backward() failed with {error_text(error)}"
        return CheckResult(name, "fail", detail)
    if not fits:
        detail = (
            f"Value(1.5) has data {data!r:.60} (expected 1.5) and grad {grad!r:.60} (expected 0)"
        )
        return CheckResult(name, "fail", detail)
    return CheckResult(name, "pass", "Value(1.5) has data 1.5 and grad 0")


def _isolated(name: str, check: Callable[[], CheckResult], timeout: float | None) -> CheckResult:
    """``check()`` in a child process (``isolation.run_isolated``): its result, or a failure."""

    def outcome() -> Outcome:
        result = check()
        return (result.status, result.detail)

    status, detail = run_isolated(outcome, timeout)
    if status not in ("pass", "fail", "unsupported"):  # an engine that wrote to our pipe
        return CheckResult(name, "fail", f"the check answered {status!r:.60}")
    return CheckResult(name, status, detail)  # type: ignore[arg-type]


def _accept(example: object) -> None:
    """A property that holds for every example."""


@functools.cache
def _warm_up_hypothesis() -> None:
    """Run one trivial property in this process, once, before the checks fork.

    Each forked check inherits Hypothesis as it is here. Without this, every
    child pays Hypothesis's first-run set-up again, which took most of the time
    of a fast engine's checks (about 3x slower overall).
    """
    _shrunk_failure(st.floats(0.0, 1.0), _accept, 5)


def _require_value_class(value_class: object, timeout: float | None = TIMEOUT) -> None:
    """TypeError unless ``value_class(1.5)`` has data 1.5, a grad and a backward method.

    The trial runs isolated, as the checks do: a constructor that raises anything,
    exits or hangs makes a TypeError naming what happened.
    """
    probe = _isolated("Value(1.5)", partial(_probe, value_class), timeout)
    if probe.status != "pass":
        name = _qualified_name(value_class)
        raise TypeError(f"{name} is not a micrograd-style Value class: {probe.detail}")


def check_engine(
    value_class: type, max_examples: int = 100, timeout: float | None = TIMEOUT
) -> EngineReport:
    """Run the property suite against a micrograd-style ``Value`` class.

    Checks, in order: each op of ``OPS`` (add sub mul div pow neg radd rmul rsub
    rdiv relu tanh exp sigmoid log abs, and the gradient accumulation checks
    ``accumulation`` and ``branch_reuse``) against float64 math and central
    differences; ``expressions``, random programs over the ops that passed;
    ``deep_chain``, a chain of up to 5,000 nodes; ``sigmoid_mlp``, dJ/dw of
    random sigmoid networks against the delta rules of ``tinygrad_bp.delta``.

    Each check runs isolated in a child process (on POSIX; see
    ``tinygrad_bp.testing.isolation``): any exception the engine raises, SystemExit
    and other BaseExceptions included, fails that check with its message, and a
    check still running after ``timeout`` seconds is killed and fails as timed
    out. The other checks run all the same. Only the user's own Ctrl-C
    (KeyboardInterrupt) stops the run.

    Args:
        value_class: the class under test: ``value_class(number)`` makes a leaf
            with ``.data`` and ``.grad`` (0), and ``.backward()`` fills ``.grad``.
        max_examples: how many examples Hypothesis tries per check.
        timeout: the seconds each check may take, or None for no limit.

    Returns:
        An ``EngineReport``, truthy when every supported check passed;
        ``print(report)`` shows the table.

    Raises:
        TypeError: ``value_class`` does not make micrograd-style values, or an
            argument has the wrong type.
        ValueError: ``max_examples`` is below 1 or ``timeout`` is not positive.

    >>> from tinygrad_bp import Value
    >>> report = check_engine(Value, max_examples=10)
    >>> bool(report), report["sub"].status, report["sub"].detail
    (True, 'pass', 'a - b')
    """
    max_examples = validate.integer("max_examples", max_examples, minimum=1)
    if timeout is not None:
        timeout = validate.real("timeout", timeout, positive=True)
    _warm_up_hypothesis()
    _require_value_class(value_class, timeout)
    results = [
        _isolated(op.name, partial(_check_op, op, value_class, max_examples), timeout) for op in OPS
    ]
    passed = {result.name for result in results if result.status == "pass"}
    supported = {result.name for result in results if result.status != "unsupported"}
    later: dict[str, Callable[[], CheckResult]] = {
        "expressions": partial(_check_expressions, value_class, passed, supported, max_examples),
        "deep_chain": partial(_check_deep_chain, value_class, max_examples),
        "sigmoid_mlp": partial(_check_sigmoid_mlp, value_class, passed, supported, max_examples),
    }
    results += [_isolated(name, check, timeout) for name, check in later.items()]
    return EngineReport(_qualified_name(value_class), tuple(results))


# -- loading a class by name -----------------------------------------------------------


@contextlib.contextmanager
def _current_directory_importable() -> Iterator[None]:
    """Search the current directory for modules first, as ``python -m`` does."""
    directory = os.getcwd()
    added = "" not in sys.path and directory not in sys.path
    if added:
        sys.path.insert(0, directory)
    try:
        yield
    finally:
        if added:
            sys.path.remove(directory)


def load_class(spec: str) -> type:
    """Import the class named by ``"module:ClassName"`` (as ``tinygrad-bp check-engine``).

    The module is a dotted import path, looked up in the current directory first;
    the class may be a dotted path inside it (``"pkg.mod:Outer.Value"``).

    Args:
        spec: ``"module:ClassName"``.

    Returns:
        The class (any callable).

    Raises:
        ValueError: ``spec`` is not of the form ``module:ClassName``.
        ImportError: the module cannot be imported (or raised while importing,
            SystemExit included).
        AttributeError: the module has no such attribute.
        TypeError: the named attribute is not callable.

    >>> load_class("tinygrad_bp.engine:Value").__name__
    'Value'
    >>> load_class("tinygrad_bp.engine")
    Traceback (most recent call last):
    ...
    ValueError: expected 'module:ClassName', e.g. 'micrograd.engine:Value'; got 'tinygrad_bp.engine'
    """
    module_name, _, attribute = str(spec).rpartition(":")
    names = [*module_name.split("."), *attribute.split(".")]
    if not all(name.isidentifier() for name in names):
        raise ValueError(
            f"expected 'module:ClassName', e.g. 'micrograd.engine:Value'; got {spec!r}"
        )
    try:
        with _current_directory_importable():
            found: Any = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the module's own code may raise anything, or exit
        raise ImportError(
            f"cannot import module {module_name!r} of {spec!r}: {type(error).__name__}: {error}",
            name=module_name,
        ) from error
    for depth, name in enumerate(attribute.split(".")):
        if not hasattr(found, name):
            owner = ".".join([module_name, *attribute.split(".")[:depth]])
            raise AttributeError(f"{owner!r} has no attribute {name!r} (from {spec!r})")
        found = getattr(found, name)
    if not callable(found):
        raise TypeError(f"{spec!r} names a {type(found).__name__}, not a class")
    return found
