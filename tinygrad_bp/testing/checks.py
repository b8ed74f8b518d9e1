"""The grader: ``check_engine`` grades a micrograd-style ``Value`` against oracles it computes.

``check_engine(Value)`` (or ``check_engine("module:Value")``) grades a scalar
``Value`` class written by anyone: it needs ``Value(number)``, ``.data``,
``.grad``, ``.backward()`` and whichever operators and methods the class has.
Each check draws cases with Hypothesis; for each case the sandboxed child
(``isolation``, ``probes``) computes the engine's numbers and this process
compares them with an oracle that never involves the engine:

- every op of the catalogue (``a - b``, ``tanh(a)``, ...) and the gradient
  accumulation checks: the reference on Python floats in float64, and its
  central differences (f(x + eps) - f(x - eps)) / (2 eps);
- ``expressions``: random programs mixing the ops that passed on their own;
- ``deep_chain``: a chain of up to 5,000 nodes, dy/dx = 1 for y = x + 1 + ... + 1;
- ``sigmoid_mlp``: a sigmoid network built from the class's own ``+``, ``*`` and
  sigmoid (made from ``tanh`` or ``exp`` where it has none): dJ/dw against the
  delta rules of ``tinygrad_bp.delta``;
- ``second_order``: for an engine that offers second order (a function
  ``grad(output, inputs, create_graph=False)`` with ``tinygrad_bp.grad``'s meaning,
  found by ``probes.grad_function``), the first derivatives and Hessian-vector
  products of random programs and of a small sigmoid network's loss, against the
  closed forms of ``curvature`` (hyper-dual numbers) and central differences of
  the delta rules. An engine that offers none is skipped (unsupported, worth
  nothing), with a note saying what to write to be graded on it.

An op is *unsupported* only when the class lacks the attribute it needs
(``probes.ATTRIBUTES``); whatever the engine raises from an op it has is a
failure of that op. A required op (``required``, by default the ``micrograd``
profile: the ops micrograd's own engine has) that the class lacks fails.
Expected values are computed here at grading time, from the drawn inputs alone;
with a ``seed`` (``seeding.student_seed``) each student gets their own inputs.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import delta, validate
from .catalogue import OPS, OpCheck
from .curvature import network_gradient, network_hvp, program_curvature
from .hints import hints_for
from .isolation import EngineGone, EngineProcess, OutOfTime
from .loader import load_class
from .probes import ATTRIBUTES, GRAD_FUNCTION, SIGMOIDS, answer, class_name
from .reports import CheckResult, EngineReport
from .runner import Tally, private_storage, run_property
from .strategies import PROGRAM_OPS, Program, programs, sigmoid_networks

__all__ = [
    "CHAIN_DEPTH",
    "SECOND_ORDER",
    "SECOND_ORDER_WANTED",
    "CHECKS",
    "EPS",
    "MAX_TIMEOUT",
    "PROFILES",
    "TIMEOUT",
    "GradingInterrupted",
    "check_engine",
]

EPS = 1e-6  # the nudge of central differences
CHAIN_DEPTH = 5_000  # the longest chain the deep-chain check builds
CHAIN_CASES = 20  # the most cases the deep chain draws: each builds thousands of nodes
TIMEOUT = 10.0  # seconds each check may take by default
MAX_TIMEOUT = 86_400.0  # a day: the longest time limit accepted
SECOND_ORDER = "second_order"
LATER_CHECKS = ("expressions", "deep_chain", "sigmoid_mlp", SECOND_ORDER)
CHECKS: tuple[str, ...] = (*(op.name for op in OPS), *LATER_CHECKS)
PROFILES: dict[str, tuple[str, ...]] = {
    # the ops micrograd's own engine (micrograd.engine.Value) offers
    "micrograd": ("add", "sub", "mul", "div", "pow", "neg", "radd", "rmul", "rsub", "rdiv", "relu"),
    "all": tuple(op.name for op in OPS if op.name in ATTRIBUTES),
    "none": (),
}
# The ops the graph checks need: accumulation and branch_reuse use + and * of values.
_NEEDS: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in ATTRIBUTES},
    "accumulation": ("add", "mul"),
    "branch_reuse": ("add", "mul"),
    "deep_chain": ("add",),
    SECOND_ORDER: ("add", "mul"),  # <v, g> = g_0 * Value(v_0) + g_1 * Value(v_1) + ...
}
# What an engine is told when it offers no second order (skipped, or failed when required).
SECOND_ORDER_WANTED = (
    f"the engine offers no second order; to be graded on it, define "
    f"{GRAD_FUNCTION}(output, inputs, create_graph=False) in the module of the class, "
    f"returning d(output)/d(input) for each input as values that, with "
    f"create_graph=True, can be differentiated again (as tinygrad_bp.grad)"
)


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``check_engine``: ``report`` holds the checks finished before it."""

    def __init__(self, report: EngineReport) -> None:
        super().__init__("grading interrupted")
        self.report = report


# -- what a case's answer may say --------------------------------------------------------


class _CaseFailed(AssertionError):
    """One case failed: ``fields`` are the feedback (``what``, ``expected``, ``got``, ...)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        super().__init__(_feedback(fields))


def _feedback(fields: Mapping[str, Any]) -> str:
    """One sentence of feedback from a failure's fields."""
    if "error" in fields:
        return f"the engine raised {fields['error']}"
    if "problem" in fields:
        return str(fields["problem"])
    relative = fields["relative_error"]
    off = f"relative error {relative:.3g}" if fields["expected"] else f"off by {fields['got']!r}"
    said = f"{fields['what']} is {fields['got']!r}, expected {fields['expected']!r}"
    return f"{said} ({fields['oracle']}; {off})"


def _numbers(reply: Any, key: str, count: int) -> list[float]:
    """``reply[key]``: ``count`` numbers; a failure for the engine's error or a malformed reply."""
    if isinstance(reply, dict) and isinstance(reply.get("error"), str):
        stage = str(reply.get("stage", "?"))[:40]
        message = str(reply.get("message", ""))[:600]
        raise _CaseFailed(
            {"error": f"{message or reply['error']} ({stage})", "kind": reply["error"]}
        )
    numbers = reply.get(key) if isinstance(reply, dict) else None
    if (
        not isinstance(numbers, list)
        or len(numbers) != count
        or not all(type(x) in (int, float) for x in numbers)
    ):
        raise _CaseFailed({"problem": f"a malformed answer: its {key!r} is not {count} numbers"})
    return [float(x) for x in numbers]


def _relative_error(got: float, expected: float) -> float:
    """|got - expected| / |expected|: inf when expected is 0 (and got is not) or got not finite."""
    if got == expected:
        return 0.0
    if not math.isfinite(got) or expected == 0:
        return math.inf
    return abs(got - expected) / abs(expected)


def _expect(
    what: str, got: float, expected: float, oracle: str, rel: float, abs_tol: float
) -> None:
    """A failure naming ``what`` unless ``got`` is within rel and abs_tol of ``expected``."""
    if math.isfinite(got) and abs(got - expected) <= max(rel * abs(expected), abs_tol):
        return
    raise _CaseFailed(
        {
            "what": what,
            "expected": expected,
            "got": got,
            "relative_error": _relative_error(got, expected),
            "oracle": oracle,
        }
    )


def _central_difference(f: Callable[..., float], point: Sequence[float], index: int) -> float:
    """df/dx_index at ``point``: (f(.., x + eps, ..) - f(.., x - eps, ..)) / (2 eps)."""
    plus, minus = list(point), list(point)
    plus[index] += EPS
    minus[index] -= EPS
    return float(f(*plus) - f(*minus)) / (2 * EPS)


# -- the properties -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Property:
    """A check: what to draw, what to ask the child, how to judge its reply, how to print a case."""

    name: str
    strategy: st.SearchStrategy[Any]
    request: Callable[[Any], dict[str, Any]]
    judge: Callable[[Any, Any], None]
    describe: Callable[[Any], str]
    passed: str
    explicit: tuple[Any, ...] = ()
    most_cases: int | None = None


def _op_property(op: OpCheck) -> _Property:
    def request(point: tuple[float, ...]) -> dict[str, Any]:
        return {"kind": "op", "op": op.name, "point": list(point)}

    def judge(point: tuple[float, ...], reply: Any) -> None:
        value = _numbers(reply, "value", 1)[0]
        grads = _numbers(reply, "grads", len(op.values))
        _expect(
            f"the value of {op.formula}", value, op.reference(*point), "float64 math", 1e-9, 1e-12
        )
        value_indices = [index for index, arg in enumerate(op.args) if arg.is_value]
        for grad, index in zip(grads, value_indices):
            numeric = _central_difference(op.reference, point, index)
            what = f"d/d{op.args[index].name} of {op.formula}"
            _expect(what, grad, numeric, "central differences", 1e-5, 1e-6)

    def describe(point: tuple[float, ...]) -> str:
        return ", ".join(f"{arg.name}={x!r}" for arg, x in zip(op.args, point))

    return _Property(op.name, op.points(), request, judge, describe, op.formula)


def _expressions_property(ops: Sequence[str]) -> _Property:
    def request(program: Program) -> dict[str, Any]:
        used = program.pruned()
        return {"kind": "program", "inputs": list(used.inputs), "steps": list(used.steps)}

    def judge(program: Program, reply: Any) -> None:
        used = program.pruned()
        value = _numbers(reply, "value", 1)[0]
        grads = _numbers(reply, "grads", len(used.inputs))
        expected = used.output(*used.inputs)
        _expect("the value of the output", value, expected, "float64 math", 1e-9, 1e-9)
        for index, grad in enumerate(grads):
            numeric = _central_difference(used.output, used.inputs, index)
            _expect(f"d(output)/dx{index}", grad, numeric, "central differences", 1e-4, 1e-5)

    def describe(program: Program) -> str:
        return str(program.pruned())

    passed = "random programs over " + ", ".join(ops)
    return _Property("expressions", programs(ops), request, judge, describe, passed)


def _deep_chain_property() -> _Property:
    def judge(depth: int, reply: Any) -> None:
        value = _numbers(reply, "value", 1)[0]
        grad = _numbers(reply, "grads", 1)[0]
        _expect("the value of y", value, 1.0 + depth, "float64 math", 0.0, 0.0)
        _expect("dy/dx", grad, 1.0, "the exact derivative", 0.0, 0.0)

    return _Property(
        "deep_chain",
        st.integers(1, CHAIN_DEPTH),
        lambda depth: {"kind": "chain", "depth": depth},
        judge,
        "depth={:,}".format,
        f"y = x + 1 + ... + 1, up to {CHAIN_DEPTH:,} nodes: dy/dx = 1",
        explicit=(CHAIN_DEPTH,),  # random depths may miss the deepest
        most_cases=CHAIN_CASES,
    )


Network = tuple[list[int], list[np.ndarray], np.ndarray, np.ndarray]


def _network_property(sigmoid: str) -> _Property:
    def request(network: Network) -> dict[str, Any]:
        _, weights, X, Y = network
        return {
            "kind": "network",
            "sigmoid": sigmoid,
            "weights": [w.tolist() for w in weights],
            "x": X[0].tolist(),
            "y": Y[0].tolist(),
        }

    def judge(network: Network, reply: Any) -> None:
        _, weights, X, Y = network
        activations = delta.forward(weights, X[0])
        outputs = _numbers(reply, "outputs", len(activations[-1]))
        grads = _numbers(reply, "grads", sum(w.size for w in weights))
        for k, (o_k, expected) in enumerate(zip(outputs, activations[-1])):
            _expect(f"o[{k}]", o_k, float(expected), "delta.forward", 1e-9, 1e-12)
        updates = delta.weight_updates(activations, delta.deltas(weights, activations, Y[0]), 1.0)
        flat = iter(grads)
        for layer, update in enumerate(updates):
            for (i, j), change in np.ndenumerate(update):
                what = f"dJ/dw[{layer}][{i}, {j}]"
                _expect(what, next(flat), -float(change), "delta rules", 1e-7, 1e-9)

    def describe(network: Network) -> str:
        sizes, weights, X, Y = network
        matrices = [w.tolist() for w in weights]
        return f"sizes={sizes}, weights={matrices}, x={X[0].tolist()}, y={Y[0].tolist()}"

    formula = SIGMOIDS[sigmoid][2]
    passed = f"dJ/dw equals the delta rules, sigmoid(z) = {formula}"
    return _Property("sigmoid_mlp", sigmoid_networks(), request, judge, describe, passed)


Curvature = tuple[str, Any, tuple[float, ...]]  # ("program" or "network", it, the vector v)
# Second derivatives against closed forms: both sides are exact but for rounding, which
# stays near 1e-12 of the terms summed (slots are at most 1e3, a dozen steps of a few
# flops each; 6e-12 at worst in 6,000 random cases); 1e-7 of the terms leaves a margin
# of 10,000, and a wrong rule is off by a share of order one.
CURVATURE_TOLERANCE = 1e-7
# Against central differences of the delta rules (``curvature.HVP_EPS``): their error
# stayed under 4e-10 of |Hv| + 1 in 6,000 random cases; 1e-6 leaves a margin of 2,500.
NETWORK_CURVATURE_TOLERANCE = 1e-6


@st.composite
def _curvature_cases(draw: st.DrawFn, ops: Sequence[str], sigmoid: str | None) -> Curvature:
    """A program over ``ops`` (pruned) or a small sigmoid network, and a vector v for it."""
    kinds = (["program"] if ops else []) + (["network"] if sigmoid else [])
    kind = draw(st.sampled_from(kinds))
    subject: Any
    if kind == "program":
        subject = draw(programs(ops)).pruned()
        size = len(subject.inputs)
    else:
        subject = draw(sigmoid_networks(max_layers=2, max_width=3))
        size = sum(w.size for w in subject[1])
    vector = draw(st.lists(st.floats(-1.0, 1.0), min_size=size, max_size=size))
    return kind, subject, tuple(vector)


def _curvature_oracle(case: Curvature) -> tuple[list[float], list[float], list[float], list[float]]:
    """(values, gradient, H v, size of the terms of each (H v)_i), computed without the engine."""
    kind, subject, vector = case
    if kind == "program":
        value, gradient, hessian = program_curvature(subject)
        terms = [[h * v for h, v in zip(row, vector)] for row in hessian]
        return [value], gradient, [math.fsum(t) for t in terms], [sum(map(abs, t)) for t in terms]
    _, weights, X, Y = subject
    outputs = [float(o) for o in delta.forward(weights, X[0])[-1]]
    hv = network_hvp(weights, X[0], Y[0], vector)
    sizes = [abs(float(h)) + 1.0 for h in hv]  # the loss and its derivatives are of order one
    return outputs, network_gradient(weights, X[0], Y[0]).tolist(), hv.tolist(), sizes


def _curvature_names(case: Curvature) -> list[str]:
    """The name of each input: x0, x1, ... or w[layer][i, j]."""
    kind, subject, _ = case
    if kind == "program":
        return [f"x{i}" for i in range(len(subject.inputs))]
    return [
        f"w[{layer}][{i}, {j}]"
        for layer, w in enumerate(subject[1])
        for (i, j), _ in np.ndenumerate(w)
    ]


def _second_order_property(ops: Sequence[str], sigmoid: str | None) -> _Property:
    def request(case: Curvature) -> dict[str, Any]:
        kind, subject, vector = case
        fields: dict[str, Any]
        if kind == "program":
            fields = {"inputs": list(subject.inputs), "steps": list(subject.steps)}
        else:
            _, weights, X, Y = subject
            fields = {
                "sigmoid": sigmoid,
                "weights": [w.tolist() for w in weights],
                "x": X[0].tolist(),
                "y": Y[0].tolist(),
            }
        return {"kind": "curvature", "case": kind, "vector": list(vector), **fields}

    def judge(case: Curvature, reply: Any) -> None:
        values, gradient, hv, sizes = _curvature_oracle(case)
        names = _curvature_names(case)
        got_values = _numbers(reply, "value", len(values))
        got_gradient = _numbers(reply, "grads", len(names))
        got_hv = _numbers(reply, "hvp", len(names))
        program = case[0] == "program"
        for k, (got, expected) in enumerate(zip(got_values, values)):
            what = "the value of the output" if program else f"o[{k}]"
            _expect(what, got, expected, "float64 math", 1e-9, 1e-9)
        oracle = "hyper-dual numbers" if program else "delta rules"
        for name, got, expected in zip(names, got_gradient, gradient):
            what = f"d(output)/d{name} from {GRAD_FUNCTION}(..., create_graph=True)"
            _expect(what, got, expected, oracle, 1e-7, 1e-9)
        oracle = "hyper-dual numbers" if program else "central differences of the delta rules"
        tolerance = CURVATURE_TOLERANCE if program else NETWORK_CURVATURE_TOLERANCE
        for name, got, expected, size in zip(names, got_hv, hv, sizes):
            what = f"(H v) for {name}, the gradient of <v, grad(output)>"
            _expect(what, got, expected, oracle, tolerance, tolerance * size + 1e-12)

    def describe(case: Curvature) -> str:
        kind, subject, vector = case
        if kind == "program":
            return f"{subject}; v = {list(vector)}"
        sizes, weights, X, Y = subject
        matrices = [w.tolist() for w in weights]
        network = f"sizes={sizes}, weights={matrices}, x={X[0].tolist()}, y={Y[0].tolist()}"
        return f"{network}; v = {list(vector)}"

    explicit = [
        ("program", Program((0.0,), ((op, (0,)),)), (1.0,))  # tanh'' = sigmoid'' = 0 at 0
        for op in ("tanh", "sigmoid")
        if op in ops
    ]
    if "mul" in ops:
        explicit.append(("program", Program((1.0,), (("mul", (0, 0)),)), (1.0,)))  # (x²)'' = 2
    parts = [f"programs over {', '.join(ops)}"] if ops else []
    if sigmoid is not None:
        parts.append(f"sigmoid networks, sigmoid(z) = {SIGMOIDS[sigmoid][2]}")
    passed = "Hessian times v of " + " and ".join(parts)
    return _Property(
        SECOND_ORDER,
        _curvature_cases(ops, sigmoid),
        request,
        judge,
        describe,
        passed,
        explicit=tuple(explicit),
    )


# -- running a property in the sandbox ------------------------------------------------------


class _Session:
    """The child of one check: started on the first case, started again after it dies."""

    def __init__(self, load: Callable[[], object], seconds: float | None) -> None:
        self.load = load
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.child: EngineProcess | None = None
        self.printed = ""

    def ask(self, request: dict[str, Any]) -> Any:
        if self.child is None or not self.child.alive:
            self._start()
        assert self.child is not None
        try:
            return self.child.ask(request)
        except EngineGone as error:
            self._keep_output()
            raise _CaseFailed({"problem": f"no answer: the engine's process {error}"}) from None

    def _start(self) -> None:
        seconds = None
        if self.deadline is not None:
            seconds = self.deadline - time.monotonic()
            if seconds <= 0:
                raise OutOfTime
        self.child = EngineProcess(self.load, answer, seconds).__enter__()
        if "load_error" in self.child.hello:
            error = str(self.child.hello["load_error"])[:600]
            self.close()
            raise _CaseFailed({"problem": f"the engine could not be loaded again: {error}"})

    def _keep_output(self) -> None:
        if self.child is not None and not self.printed:
            self.printed = self.child.printed

    def close(self) -> None:
        if self.child is not None:
            self.child.close()
            self._keep_output()


def _judged(session: _Session, prop: _Property, example: Any) -> None:
    """Ask the child about one case and judge its reply (raises ``_CaseFailed``)."""
    prop.judge(example, session.ask(prop.request(example)))


def _result(prop: _Property, tally: Tally, points: float, cases: int, note: str) -> CheckResult:
    """The check's verdict from its tally."""
    if tally.error is None and tally.counted:
        return CheckResult(prop.name, "pass", prop.passed, points, tally.cases, tally.passed)
    failure: dict[str, Any] | None = None
    if tally.error is not None:
        fields = getattr(tally.error, "fields", {"error": str(tally.error)})
        failure = {"inputs": prop.describe(tally.example), **fields}
        detail = f"{failure['inputs']}: {_feedback(fields)}"
        detail = f"{detail} ({note})" if note else detail
    else:
        detail = note
    return CheckResult(prop.name, "fail", detail, points, cases, tally.passed, failure)


def _run(
    prop: _Property,
    load: Callable[[], object],
    cases: int,
    seed: int | None,
    seconds: float | None,
    points: float,
) -> CheckResult:
    """One property against the engine: every case asked of a sandboxed child, judged here."""
    session = _Session(load, seconds)
    tally = Tally()
    cases = min(cases, prop.most_cases or cases)
    planned = cases + len(prop.explicit)
    note = ""
    try:
        body = partial(_judged, session, prop)
        check_seed = _check_seed(seed, prop.name)
        run_property(prop.strategy, body, cases, check_seed, tally, prop.explicit)
    except OutOfTime:
        if tally.counted:
            note = f"shrinking it stopped at the time limit of {seconds:g} s"
        else:
            note = f"timed out after {seconds:g} s, {tally.cases} of {planned} cases run"
    finally:
        session.close()
    result = _result(prop, tally, points, tally.cases if tally.counted else planned, note)
    return replace(result, printed=session.printed)


def _check_seed(seed: int | None, name: str) -> int | None:
    """Each check's own seed from the run's (None stays None)."""
    if seed is None:
        return None
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


# -- loading and the whole run -----------------------------------------------------------


def _loader(engine: object) -> Callable[[], object]:
    """What the child calls to get the class: import it by spec, or take the one given."""
    if type(engine) is str:  # the child works elsewhere: look where the caller is
        return partial(load_class, engine, os.getcwd())
    return lambda: engine


def _given_name(engine: object) -> str:
    """The engine's name, read without running any of its code: the spec, or the class's."""
    return engine if type(engine) is str else class_name(engine)


def _load(
    load: Callable[[], object], name: str, seconds: float | None
) -> tuple[str, set[str], str]:
    """(engine name, ops it has, why it cannot be graded or ""), from a child of its own."""
    try:
        with EngineProcess(load, answer, seconds) as child:
            if "load_error" in child.hello:
                return name, set(), f"cannot load it: {str(child.hello['load_error'])[:600]}"
            probe = child.ask({"kind": "probe"})
            hello = child.hello
    except OutOfTime:
        return name, set(), f"loading it took more than {seconds:g} s"
    except EngineGone as error:
        return name, set(), f"its process {error} while loading"
    name = str(hello.get("engine", name))[:200]
    has = {str(op) for op in hello.get("has", []) if op in ATTRIBUTES}
    if isinstance(hello.get("grad_function"), str) and hello["grad_function"]:
        has.add(SECOND_ORDER)
    not_a_value = f"{name} is not a micrograd-style Value class"
    if "error" in probe:
        return name, has, f"{not_a_value}: {str(probe.get('message', '?'))[:600]}"
    fits = probe.get("data") == 1.5 and probe.get("grad") == 0 and probe.get("backward") is True
    if not fits or "backward" not in has:
        data, grad = repr(probe.get("data"))[:40], repr(probe.get("grad"))[:40]
        why = "Value(1.5) must have .data 1.5, .grad 0 and a .backward() method (it has data "
        return name, has, f"{not_a_value}: {why}{data}, grad {grad})"
    return name, has, ""


def _unsupported(name: str, has: set[str], required: set[str], points: float) -> CheckResult | None:
    """The verdict of a check whose ops the class lacks (None when it has them all)."""
    if name == SECOND_ORDER and SECOND_ORDER not in has:
        if name in required:
            return CheckResult(name, "fail", f"required, but {SECOND_ORDER_WANTED}", points)
        return CheckResult(name, "unsupported", f"skipped: {SECOND_ORDER_WANTED}", 0.0)
    missing = [op for op in _NEEDS.get(name, ()) if op not in has]
    if not missing:
        return None
    attributes = ", ".join(attribute for op in missing for attribute in ATTRIBUTES[op])
    if name in required:
        return CheckResult(name, "fail", f"required, but the class has no {attributes}", points)
    return CheckResult(name, "unsupported", f"the class has no {attributes}", 0.0)


def _property(name: str, passed: set[str], has: set[str]) -> _Property | str:
    """The property of check ``name``, or why it cannot run with what the class has."""
    for op in OPS:
        if op.name == name:
            return _op_property(op)
    if name == "deep_chain":
        return _deep_chain_property()
    if name == "expressions":
        usable = [op for op, spec in PROGRAM_OPS.items() if set(spec.needs) <= passed]
        usable = usable or [op for op, spec in PROGRAM_OPS.items() if set(spec.needs) <= has]
        return _expressions_property(usable) if usable else "none of its ops passed"
    sigmoid = _network_sigmoid(passed, has)
    if name == SECOND_ORDER:
        usable = [op for op, spec in PROGRAM_OPS.items() if set(spec.needs) <= passed]
        if not usable and sigmoid is None:
            return "none of its ops passed"
        return _second_order_property(usable, sigmoid)
    if sigmoid is None:
        return "needs add, mul, radd, rmul and one of sigmoid, tanh, or exp with pow"
    return _network_property(sigmoid)


def _network_sigmoid(passed: set[str], has: set[str]) -> str | None:
    """How the networks make sigmoid: from ops that passed where they can, else that it has."""
    network = ("add", "mul", "radd", "rmul")
    for ops in (passed, has):
        for sigmoid, (needs, _, _) in SIGMOIDS.items():
            if set(network) | set(needs) <= ops:
                return sigmoid
    return None


def _check_names(required: Iterable[str]) -> set[str]:
    names = set(required)
    unknown = sorted(names - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown checks {unknown}; the checks are {list(CHECKS)}")
    return names


def check_engine(
    engine: object,
    max_examples: int = 100,
    timeout: float | None = TIMEOUT,
    *,
    required: Iterable[str] = PROFILES["micrograd"],
    points: Mapping[str, float] | None = None,
    seed: int | None = None,
    deadline: float | None = None,
    progress: Callable[[CheckResult, int, int], None] | None = None,
) -> EngineReport:
    """Grade a micrograd-style ``Value`` class (or ``"module:Class"``) against oracles.

    Checks, in order: each op of ``OPS`` (add sub mul div pow neg radd rmul rsub
    rdiv relu tanh exp sigmoid log abs, and the gradient accumulation checks
    ``accumulation`` and ``branch_reuse``) against float64 math and central
    differences; ``expressions``, random programs over the ops that passed;
    ``deep_chain``, a chain of up to 5,000 nodes; ``sigmoid_mlp``, dJ/dw of
    random sigmoid networks against the delta rules of ``tinygrad_bp.delta``;
    ``second_order``, Hessian-vector products through the engine's own ``grad``
    function, skipped (unsupported, worth nothing) when it has none.

    The class lives in sandboxed child processes only (``isolation``): loaded
    there (a spec is imported there, under the time limit), asked for numbers
    there, judged here. A check still running after ``timeout`` seconds is
    killed and fails, keeping the credit of the cases it passed.

    Args:
        engine: the class, or ``"module:ClassName"`` to import in the sandbox
            (looked up in the current directory first).
        max_examples: the cases each check draws.
        timeout: the seconds each check (and the loading) may take, or None.
        required: the ops the class must have (``PROFILES``); lacking another
            op makes it unsupported, worth nothing.
        points: what each check is worth (1 by default).
        seed: draw these cases (``seeding.student_seed``); None: the same for all.
        deadline: seconds for the whole run: checks not started by then fail
            as not run, and the report of the others is returned.
        progress: called with each result, its number and the count of checks.

    Returns:
        An ``EngineReport``: truthy when it loaded, something passed and nothing
        failed; ``load_error`` says why it could not be graded.

    Raises:
        GradingInterrupted: Ctrl-C; its ``report`` holds the checks finished.
        TypeError, ValueError: an argument is of the wrong type or out of range.

    >>> from tinygrad_bp import Value
    >>> report = check_engine(Value, max_examples=5)
    >>> bool(report), report["sub"].status, report["sub"].detail
    (True, 'pass', 'a - b')
    """
    max_examples = validate.integer("max_examples", max_examples, minimum=1)
    if timeout is not None:
        timeout = validate.real("timeout", timeout, maximum=MAX_TIMEOUT, positive=True)
    if deadline is not None:
        deadline = validate.real("deadline", deadline, maximum=MAX_TIMEOUT, positive=True)
    required_names = _check_names(required)
    worth = {name: 1.0 for name in CHECKS}
    for name, value in (points or {}).items():
        _check_names([name])
        worth[name] = validate.real(f"points of {name}", value, minimum=0.0)
    if not (type(engine) is str or callable(engine)):
        raise TypeError(
            f"engine must be a class or 'module:ClassName', got {type(engine).__name__}"
        )
    started = time.monotonic()
    load = _loader(engine)
    name, has, load_error = _load(load, _given_name(engine), timeout)
    if load_error:
        return EngineReport(name, (), (), load_error, seconds=time.monotonic() - started)
    results: list[CheckResult] = []
    stopped = ""

    def seconds_left() -> float | None:
        if deadline is None:
            return timeout
        left = deadline - (time.monotonic() - started)
        return left if timeout is None else min(timeout, left)

    def add(result: CheckResult) -> None:
        results.append(result)
        if progress is not None:
            progress(result, len(results), len(CHECKS))

    try:
        with private_storage():
            for check in CHECKS:
                left = seconds_left()
                if left is not None and left <= 0:
                    stopped = f"the deadline of {deadline:g} s passed"
                    add(CheckResult(check, "fail", f"not run: {stopped}", worth[check]))
                    continue
                verdict = _unsupported(check, has, required_names, worth[check])
                if verdict is None:
                    passed = {r.name for r in results if r.status == "pass"}
                    prop = _property(check, passed, has)
                    if isinstance(prop, str):
                        verdict = CheckResult(check, "unsupported", prop, 0.0)
                    else:
                        verdict = _run(prop, load, max_examples, seed, left, worth[check])
                add(verdict)
    except KeyboardInterrupt:
        report = EngineReport(name, tuple(results), (), "", "interrupted by Ctrl-C")
        raise GradingInterrupted(replace(report, seconds=time.monotonic() - started)) from None
    report = EngineReport(name, tuple(results), hints_for(results), "", stopped)
    return replace(report, seconds=time.monotonic() - started)
