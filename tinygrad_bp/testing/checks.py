"""Grade any micrograd-style autograd engine: Hypothesis strategies and ``check_engine``.

``check_engine(Value)`` runs a property suite against a scalar ``Value`` class
written by anyone: it needs ``Value(number)``, ``.data``, ``.grad``,
``.backward()`` and whichever operators and methods the class has. Each check
draws many inputs with Hypothesis and compares the engine with an oracle that
never involves the engine under test:

- every op (``a - b``, ``tanh(a)``, ...) and the gradient-accumulation checks:
  the same formula on Python floats, and its central finite differences in
  float64, (f(x + eps) - f(x - eps)) / (2 eps);
- random expression programs mixing the ops that passed on their own;
- a chain of up to 5,000 nodes: dy/dx = 1 for y = x + 1 + ... + 1;
- a sigmoid network built from the class's own ``+``, ``*`` and sigmoid (made
  from ``tanh`` or ``exp`` where the class has no ``sigmoid``): dJ/dw for
  J = 1/2 sum (y - o)^2 against the delta rules of ``tinygrad_bp.delta``.

A failing check reports the smallest failing example Hypothesis found. An op
the class lacks (AttributeError or TypeError from the operation itself, tried
once before the property runs) is reported as unsupported, not failed.

The strategies used by the checks are public, for tests of other engines:
``programs``, ``sigmoid_networks`` and ``broadcastable_shapes``.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import operator
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np

try:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:  # Hypothesis is a test dependency, not a core one
    raise ImportError("tinygrad_bp.testing needs Hypothesis: pip install hypothesis") from error

from .. import delta

__all__ = [
    "OPS",
    "PROGRAM_OPS",
    "Arg",
    "CheckResult",
    "EngineReport",
    "OpCheck",
    "Program",
    "ProgramOp",
    "broadcastable_shapes",
    "check_engine",
    "load_class",
    "programs",
    "sigmoid_networks",
]

EPS = 1e-6  # the nudge of central differences
CHAIN_DEPTH = 5_000  # the longest chain the deep-chain check builds
Status = Literal["pass", "fail", "unsupported"]


# -- the ops, on floats (the reference) and on engine values alike --------------------


def _exp(x: float) -> float:
    """e^x, inf instead of OverflowError."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _relu(x: float) -> float:
    """max(0, x)."""
    return x if x > 0 else 0.0


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), through the identity (1 + tanh(x/2)) / 2 (no overflow)."""
    return 0.5 * (1.0 + math.tanh(0.5 * x))


# The float reference of each method an engine value may have.
FLOAT_METHODS: dict[str, Callable[[float], float]] = {
    "relu": _relu,
    "tanh": math.tanh,
    "exp": _exp,
    "sigmoid": _sigmoid,
    "log": math.log,
    "abs": abs,
}


def _unary(name: str, x: Any) -> Any:
    """``x.name()`` for an engine value; the float reference for a Python float."""
    if isinstance(x, float):
        return FLOAT_METHODS[name](x)
    return getattr(x, name)()


def _operand_twice(a: Any) -> Any:
    """a * a + (a + a): a is both operands of a product and of a sum; d/da = 2a + 2.

    An engine that sets ``grad =`` instead of adding (``grad +=``) in either op
    keeps only one of the contributions.
    """
    return a * a + (a + a)


def _reused_across_branches(a: Any, b: Any) -> Any:
    """h = a * b feeds two branches that meet again: (h + a) * (h + b)."""
    h = a * b
    return (h + a) * (h + b)


@dataclass(frozen=True)
class Arg:
    """One argument of an op check: drawn from [low, high].

    Attributes:
        name: its name in the formula.
        low: the smallest value drawn.
        high: the largest value drawn.
        is_value: True for an engine value (differentiated), False for a plain number.
        kink: a point where the op is not differentiable; draws stay 1e-3 away from it.
    """

    name: str
    low: float
    high: float
    is_value: bool = True
    kink: float | None = None

    def strategy(self) -> st.SearchStrategy[float]:
        """Floats in [low, high], away from the kink if there is one.

        >>> Arg("a", 0.1, 5.0).strategy()
        floats(min_value=0.1, max_value=5.0, allow_nan=False, allow_infinity=False)
        """
        floats = st.floats(self.low, self.high, allow_nan=False, allow_infinity=False)
        if self.kink is None:
            return floats
        return floats.filter(partial(_away_from, self.kink))


def _away_from(kink: float, x: float) -> bool:
    """Whether central differences at x stay clear of the kink."""
    return abs(x - kink) > 1e-3


@dataclass(frozen=True)
class OpCheck:
    """One row of the op catalogue.

    Attributes:
        name: the row's name in the report.
        formula: the formula, shown when the check passes (c and p are plain numbers).
        function: computes the formula on Python floats (the reference) and on
            engine values (under test) alike.
        args: the arguments, in call order.
    """

    name: str
    formula: str
    function: Callable[..., Any]
    args: tuple[Arg, ...]


_A, _B = Arg("a", -5.0, 5.0), Arg("b", -5.0, 5.0)
_C = Arg("c", -5.0, 5.0, is_value=False)
_POSITIVE = Arg("a", 0.2, 5.0)

OPS: tuple[OpCheck, ...] = (
    OpCheck("add", "a + b", operator.add, (_A, _B)),
    OpCheck("sub", "a - b", operator.sub, (_A, _B)),
    OpCheck("mul", "a * b", operator.mul, (_A, _B)),
    OpCheck("div", "a / b", operator.truediv, (_A, Arg("b", 0.2, 5.0))),
    OpCheck("pow", "a ** p", operator.pow, (_POSITIVE, Arg("p", -2.0, 2.0, is_value=False))),
    OpCheck("neg", "-a", operator.neg, (_A,)),
    OpCheck("radd", "c + a", operator.add, (_C, _A)),
    OpCheck("rmul", "c * a", operator.mul, (_C, _A)),
    OpCheck("rsub", "c - a", operator.sub, (_C, _A)),
    OpCheck("rdiv", "c / a", operator.truediv, (_C, _POSITIVE)),
    OpCheck("relu", "a.relu()", partial(_unary, "relu"), (Arg("a", -5.0, 5.0, kink=0.0),)),
    OpCheck("tanh", "a.tanh()", partial(_unary, "tanh"), (_A,)),
    OpCheck("exp", "a.exp()", partial(_unary, "exp"), (_A,)),
    OpCheck("sigmoid", "a.sigmoid()", partial(_unary, "sigmoid"), (Arg("a", -8.0, 8.0),)),
    OpCheck("log", "a.log()", partial(_unary, "log"), (Arg("a", 0.1, 5.0),)),
    OpCheck("abs", "a.abs()", partial(_unary, "abs"), (Arg("a", -5.0, 5.0, kink=0.0),)),
    OpCheck("accumulation", "a * a + (a + a)", _operand_twice, (_A,)),
    OpCheck("branch_reuse", "(h + a) * (h + b) with h = a * b", _reused_across_branches, (_A, _B)),
)


# -- expression programs ----------------------------------------------------------------


def _safe_divide(a: Any, b: Any) -> Any:
    """a / (1 + b * b): a division that never divides by zero."""
    return a / (1 + b * b)


def _square(a: Any) -> Any:
    """a ** 2."""
    return a**2


def _slow_exp(a: Any) -> Any:
    """exp(0.1 * a): an exponential that grows slowly."""
    return _unary("exp", 0.1 * a)


def _safe_log(a: Any) -> Any:
    """log(1 + a * a): a logarithm of a positive number."""
    return _unary("log", 1 + a * a)


@dataclass(frozen=True)
class ProgramOp:
    """One instruction of an expression program.

    Attributes:
        template: how a step prints, e.g. ``"{0} / (1 + {1} * {1})"``.
        arity: how many operands it takes.
        function: computes it on floats and on engine values alike.
        needs: the op checks it relies on (the program uses it only when they pass).
        kink: whether it is not differentiable where its operand is 0.
    """

    template: str
    arity: int
    function: Callable[..., Any]
    needs: tuple[str, ...]
    kink: bool = False


PROGRAM_OPS: dict[str, ProgramOp] = {
    "add": ProgramOp("{0} + {1}", 2, operator.add, ("add",)),
    "sub": ProgramOp("{0} - {1}", 2, operator.sub, ("sub",)),
    "mul": ProgramOp("{0} * {1}", 2, operator.mul, ("mul",)),
    "div": ProgramOp("{0} / (1 + {1} * {1})", 2, _safe_divide, ("div", "mul", "radd")),
    "pow": ProgramOp("{0} ** 2", 1, _square, ("pow",)),
    "relu": ProgramOp("relu({0})", 1, partial(_unary, "relu"), ("relu",), kink=True),
    "tanh": ProgramOp("tanh({0})", 1, partial(_unary, "tanh"), ("tanh",)),
    "exp": ProgramOp("exp(0.1 * {0})", 1, _slow_exp, ("exp", "rmul")),
    "sigmoid": ProgramOp("sigmoid({0})", 1, partial(_unary, "sigmoid"), ("sigmoid",)),
    "log": ProgramOp("log(1 + {0} * {0})", 1, _safe_log, ("log", "mul", "radd")),
}


@dataclass(frozen=True)
class Program:
    """A straight-line program: inputs x0, x1, ..., then one step per line.

    Step k computes slot ``len(inputs) + k`` from earlier slots; the program's
    output is the last slot.

    Attributes:
        inputs: the input numbers.
        steps: (op name in ``PROGRAM_OPS``, operand slots) for each step.
    """

    inputs: tuple[float, ...]
    steps: tuple[tuple[str, tuple[int, ...]], ...]

    def run(self, inputs: Sequence[Any]) -> list[Any]:
        """Every slot's value: the inputs, then each step's result (floats or engine values).

        >>> program = Program((2.0, 3.0), (("mul", (0, 1)), ("add", (2, 0))))
        >>> program.run([2.0, 3.0])
        [2.0, 3.0, 6.0, 8.0]
        """
        slots = list(inputs)
        for name, operands in self.steps:
            slots.append(PROGRAM_OPS[name].function(*(slots[i] for i in operands)))
        return slots

    def output(self, *inputs: Any) -> Any:
        """The last slot's value for these inputs.

        >>> Program((2.0,), (("pow", (0,)),)).output(5.0)
        25.0
        """
        return self.run(inputs)[-1]

    def is_well_conditioned(self, bound: float = 1e3, margin: float = 1e-2) -> bool:
        """Whether central differences are accurate here, on the program's own inputs.

        True when every slot is finite with |value| <= bound and every kinked op
        (relu) sees an operand at least ``margin`` away from 0.

        >>> Program((0.0,), (("relu", (0,)),)).is_well_conditioned()
        False
        """
        slots = self.run(self.inputs)
        if not all(math.isfinite(value) and abs(value) <= bound for value in slots):
            return False
        kinked = [operands[0] for name, operands in self.steps if PROGRAM_OPS[name].kink]
        return all(abs(slots[slot]) >= margin for slot in kinked)

    def __str__(self) -> str:
        """One line: the inputs, then each step, e.g. ``x0 = 1.0; x1 = tanh(x0)``."""
        lines = [f"x{index} = {x!r}" for index, x in enumerate(self.inputs)]
        for index, (name, operands) in enumerate(self.steps, start=len(self.inputs)):
            names = [f"x{slot}" for slot in operands]
            lines.append(f"x{index} = " + PROGRAM_OPS[name].template.format(*names))
        return "; ".join(lines)


@st.composite
def _raw_programs(draw: st.DrawFn, ops: Sequence[str], n_inputs: int, max_steps: int) -> Program:
    """Programs over ``ops``, well conditioned or not."""
    inputs = tuple(draw(st.lists(st.floats(-2.0, 2.0), min_size=n_inputs, max_size=n_inputs)))
    steps = []
    for index in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(ops))
        slot = st.integers(0, n_inputs + index - 1)
        operands = tuple(draw(slot) for _ in range(PROGRAM_OPS[name].arity))
        steps.append((name, operands))
    return Program(inputs, tuple(steps))


def programs(
    ops: Iterable[str] = tuple(PROGRAM_OPS), n_inputs: int = 3, max_steps: int = 12
) -> st.SearchStrategy[Program]:
    """Random expression programs, well conditioned for central differences.

    Each step applies one op of ``PROGRAM_OPS`` (+ - * / ** relu tanh exp
    sigmoid log, in forms defined everywhere: ``a / (1 + b * b)``, ``a ** 2``,
    ``exp(0.1 * a)``, ``log(1 + a * a)``) to earlier slots, so nodes are reused
    freely; inputs are in [-2, 2]; ``Program.is_well_conditioned`` holds.

    Args:
        ops: the names of the ops to use (keys of ``PROGRAM_OPS``).
        n_inputs: how many inputs.
        max_steps: the most steps (at least one).

    Returns:
        A strategy of ``Program``.

    Raises:
        ValueError: an op name is unknown, or ``ops`` is empty.

    >>> from hypothesis import find
    >>> print(find(programs(["add"]), lambda p: len(p.steps) == 2))
    x0 = 0.0; x1 = 0.0; x2 = 0.0; x3 = x0 + x0; x4 = x0 + x0
    """
    names = sorted(set(ops))
    unknown = [name for name in names if name not in PROGRAM_OPS]
    if unknown or not names:
        raise ValueError(f"ops must be a non-empty subset of {sorted(PROGRAM_OPS)}, got {ops!r}")
    return _raw_programs(names, n_inputs, max_steps).filter(Program.is_well_conditioned)


# -- sigmoid networks and broadcastable shapes ----------------------------------------

_WEIGHTS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def _sigmoid_networks(
    draw: st.DrawFn, max_layers: int, max_width: int, max_batch: int
) -> tuple[list[int], list[np.ndarray], np.ndarray, np.ndarray]:
    """See ``sigmoid_networks``."""
    n_layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=n_layers + 1, max_size=n_layers + 1))
    weights = [
        draw(hnp.arrays(np.float64, (sizes[i] + 1, sizes[i + 1]), elements=_WEIGHTS))
        for i in range(n_layers)
    ]
    batch = draw(st.integers(1, max_batch))
    X = draw(hnp.arrays(np.float64, (batch, sizes[0]), elements=_WEIGHTS))
    Y = draw(hnp.arrays(np.float64, (batch, sizes[-1]), elements=st.floats(0.0, 1.0)))
    return sizes, weights, X, Y


def sigmoid_networks(
    max_layers: int = 4, max_width: int = 6, max_batch: int = 1
) -> st.SearchStrategy[tuple[list[int], list[np.ndarray], np.ndarray, np.ndarray]]:
    """A fully connected sigmoid network and data for it, in the derivation's convention.

    Args:
        max_layers: the most weight layers (at least one).
        max_width: the widest layer, input and output included.
        max_batch: the most examples.

    Returns:
        A strategy of ``(sizes, weights, X, Y)``: layer sizes ``[n_in, n_1, ..., n_out]``;
        one ``(n_in + 1, n_out)`` weight matrix per layer, bias row first, entries in
        [-3, 3]; inputs ``X`` of shape ``(batch, n_in)`` in [-3, 3]; targets ``Y`` in
        [0, 1] of shape ``(batch, n_out)``.

    >>> from hypothesis import find
    >>> sizes, weights, X, Y = find(sigmoid_networks(), lambda net: len(net[0]) == 3)
    >>> sizes, [w.shape for w in weights], X.shape, Y.shape
    ([1, 1, 1], [(2, 1), (2, 1)], (1, 1), (1, 1))
    """
    return _sigmoid_networks(max_layers, max_width, max_batch)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[hnp.BroadcastableShapes]:
    """Shapes that broadcast together under numpy's rules, and the shape they make.

    A thin wrapper of ``hypothesis.extra.numpy.mutually_broadcastable_shapes``
    with defaults sized for tests of elementwise tensor ops and their gradients.

    Args:
        num_shapes: how many shapes (2 for a binary op).
        min_dims: the fewest dimensions of each shape.
        max_dims: the most dimensions of each shape.
        max_side: the longest side.

    Returns:
        A strategy of ``BroadcastableShapes(input_shapes, result_shape)``.

    >>> from hypothesis import find
    >>> shapes = find(broadcastable_shapes(), lambda s: s.input_shapes[0] != s.result_shape)
    >>> np.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape
    True
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    )


# -- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check.

    Attributes:
        name: the check (an op such as ``"sub"``, or ``"deep_chain"``, ...).
        status: ``"pass"``, ``"fail"`` or ``"unsupported"``.
        detail: what was checked (pass), the smallest failing example and the
            error (fail), or the error of the one trial call (unsupported).
    """

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class EngineReport:
    """What ``check_engine`` found: one ``CheckResult`` per check, printable as a table.

    Attributes:
        engine: the checked class, as ``module.QualifiedName``.
        results: one result per check, in the order they ran.

    >>> report = EngineReport("my.Value", (CheckResult("add", "pass", "a + b"),
    ...                                    CheckResult("tanh", "unsupported", "no tanh")))
    >>> report.ok, report["tanh"].status
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


def _shrunk_failure(
    strategy: st.SearchStrategy[Any], body: Callable[[Any], None], max_examples: int
) -> tuple[Any, BaseException] | None:
    """Run ``body`` on examples of ``strategy``; the smallest failing one, or None.

    Hypothesis shrinks a failure, then replays the smallest failing example last,
    so the last failure recorded here is the shrunk one. Returns (example, error),
    with example None if Hypothesis itself gave up (an unsatisfiable strategy).
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
        except Exception as error:
            failures.append((example, error))
            raise

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
    return CheckResult(name, "fail", f"{where}: {type(error).__name__}: {error}")


def _trial(name: str, attempt: Callable[[], object]) -> CheckResult | None:
    """Call ``attempt`` once; an ``unsupported`` result if the class lacks what it uses."""
    try:
        attempt()
    except (AttributeError, TypeError, NotImplementedError) as error:
        return CheckResult(name, "unsupported", f"{type(error).__name__}: {error}")
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
        out = op.function(*inputs)
        out.backward()
        expected = op.function(*point)
        _expect_close(f"the value of {op.formula}", out.data, expected, "float64 math", 1e-9, 1e-12)
        for index, (arg, operand) in enumerate(zip(op.args, inputs)):
            if arg.is_value:
                numeric = _central_difference(op.function, point, index)
                what = f"d/d{arg.name} of {op.formula}"
                _expect_close(what, operand.grad, numeric, "central differences", 1e-5, 1e-6)

    midpoint = tuple((arg.low + arg.high) / 2 for arg in op.args)
    unsupported = _trial(op.name, partial(op.function, *operands(midpoint)))
    if unsupported:
        return unsupported
    strategy = st.tuples(*(arg.strategy() for arg in op.args))
    describe = partial(_describe_point, op.args)
    return _run_check(op.name, strategy, body, describe, op.formula, max_examples)


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

    unsupported = _trial(name, partial(operator.add, value_class(1.0), 1.0))
    if unsupported:
        return unsupported
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


def _require_value_class(value_class: object) -> None:
    """TypeError unless ``value_class(1.5)`` has data 1.5, a grad and a backward method."""
    name = _qualified_name(value_class)
    try:
        leaf = value_class(1.5)
        data, grad, backward = leaf.data, leaf.grad, leaf.backward
    except Exception as error:
        raise TypeError(
            f"{name} is not a micrograd-style Value class: Value(1.5) with .data, .grad and "
            f".backward() failed with {type(error).__name__}: {error}"
        ) from error
    if float(data) != 1.5 or float(grad) != 0.0 or not callable(backward):
        raise TypeError(
            f"{name} is not a micrograd-style Value class: Value(1.5) has data {data!r} "
            f"(expected 1.5) and grad {grad!r} (expected 0)"
        )


def check_engine(value_class: type, max_examples: int = 100) -> EngineReport:
    """Run the property suite against a micrograd-style ``Value`` class.

    Checks, in order: each op of ``OPS`` (add sub mul div pow neg radd rmul rsub
    rdiv relu tanh exp sigmoid log abs, and the gradient accumulation checks
    ``accumulation`` and ``branch_reuse``) against float64 math and central
    differences; ``expressions``, random programs over the ops that passed;
    ``deep_chain``, a chain of up to 5,000 nodes; ``sigmoid_mlp``, dJ/dw of
    random sigmoid networks against the delta rules of ``tinygrad_bp.delta``.

    Args:
        value_class: the class under test: ``value_class(number)`` makes a leaf
            with ``.data`` and ``.grad`` (0), and ``.backward()`` fills ``.grad``.
        max_examples: how many examples Hypothesis tries per check.

    Returns:
        An ``EngineReport``: ``report.ok`` when every supported check passed;
        ``print(report)`` shows the table.

    Raises:
        TypeError: ``value_class`` does not make micrograd-style values.

    >>> from tinygrad_bp import Value
    >>> report = check_engine(Value, max_examples=10)
    >>> report.ok, report["sub"].status, report["sub"].detail
    (True, 'pass', 'a - b')
    """
    _require_value_class(value_class)
    results = [_check_op(op, value_class, max_examples) for op in OPS]
    passed = {result.name for result in results if result.status == "pass"}
    supported = {result.name for result in results if result.status != "unsupported"}
    results.append(_check_expressions(value_class, passed, supported, max_examples))
    results.append(_check_deep_chain(value_class, max_examples))
    results.append(_check_sigmoid_mlp(value_class, passed, supported, max_examples))
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
        ImportError: the module cannot be imported (or raised while importing).
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
    except Exception as error:
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
