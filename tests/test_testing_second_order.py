"""The grader's second-order check: who offers it, its oracles, the skip, the mutants.

An engine offers second order with a function ``grad(output, inputs,
create_graph=False)`` in the module of its class (or a package above it):
tinygrad_bp's ``Value`` does (``tinygrad_bp.grad``), micrograd does not and is
skipped, with a note, in every report format, at no cost to its score. The
engines of ``curved_engines`` offer it: a correct one passes; each mutant is
right to first order (every first-order check passes) and fails the
second-order check alone, with a message and, where a pattern fits, a hint.

The oracles (``testing.curvature``) are checked here against what does not
share their code: second central differences of the programs on floats, the
closed forms of x³, tanh and sigmoid, and tinygrad_bp's own ``grad`` of ``grad``.
"""

import json
import math
import xml.etree.ElementTree as ElementTree

import curved_engines
import numpy as np
import pytest
from curved_engines import (
    ConstantLocals,
    CurvedValue,
    HardCoded,
    LoopingGrad,
    NoCreateGraph,
    OracleFiddler,
    TanhDetachedFactor,
    TanhOneMinusOut,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from test_testing import ALL_CHECKS, MiniValue

import tinygrad_bp
from tinygrad_bp import Value
from tinygrad_bp.cli import main
from tinygrad_bp.testing import PROFILES, check_engine, programs, sigmoid_networks, student_seed
from tinygrad_bp.testing.checks import (
    SECOND_ORDER_WANTED,
    _second_order_property,
)
from tinygrad_bp.testing.curvature import (
    HyperDual,
    network_gradient,
    network_hvp,
    program_curvature,
)
from tinygrad_bp.testing.formats import gradescope, junit, prairielearn, records, render
from tinygrad_bp.testing.isolation import EngineProcess
from tinygrad_bp.testing.probes import _network_builder, answer, grad_function
from tinygrad_bp.testing.strategies import Program

EXAMPLES = 20
NO_LIMIT = None
FIRST_ORDER = ALL_CHECKS - {"second_order"}
SKIP = f"skipped: {SECOND_ORDER_WANTED}"


# -- who offers second order ----------------------------------------------------------------


def test_grad_is_found_in_the_module_of_the_class_or_a_package_above_it():
    assert grad_function(Value) == ("tinygrad_bp.grad", tinygrad_bp.grad)
    where, function = grad_function(TanhOneMinusOut)
    assert where == "curved_engines.grad" and function is curved_engines.grad
    assert grad_function(MiniValue) is None  # its module has no grad
    assert grad_function(3.0) is None  # not a class


def test_micrograd_is_skipped_with_a_note_saying_what_to_write():
    engine = pytest.importorskip("micrograd.engine")
    assert grad_function(engine.Value) is None
    report = check_engine(engine.Value, max_examples=3, timeout=NO_LIMIT)
    result = report["second_order"]
    assert result.status == "unsupported" and result.detail == SKIP
    assert "define grad(output, inputs, create_graph=False) in the module" in result.detail
    assert result.points == 0 and result.score == 0 and result.cases == 0
    assert "second_order" not in report.failed


def test_our_value_passes_the_second_order_check():
    report = check_engine(Value, max_examples=EXAMPLES, timeout=NO_LIMIT)
    result = report["second_order"]
    assert result.status == "pass", str(report)
    assert result.detail.startswith("Hessian times v of programs over add, sub, mul")
    assert "sigmoid networks, sigmoid(z) = z.sigmoid()" in result.detail
    assert result.cases == result.passed == EXAMPLES + 3  # and tanh, sigmoid, x² explicitly


def test_a_correct_engine_of_another_design_passes_it_too():
    report = check_engine(CurvedValue, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert report.ok and report["second_order"].status == "pass", str(report)
    assert "0.5 + 0.5 * tanh(0.5 * z)" in report["second_order"].detail  # no sigmoid of its own
    assert set(report.unsupported) == {"sigmoid", "abs"}


# -- the mutants: right to first order, wrong to second -------------------------------------

MUTANTS = [
    (TanhOneMinusOut, "tanh(", "tanh's local derivative must be the node 1 - t * t"),
    (TanhDetachedFactor, "(H v) for x0", "tanh's local derivative must be the node 1 - t * t"),
    (ConstantLocals, "is 0.0, expected", "second derivatives come out 0"),
    (HardCoded, "from grad(..., create_graph=True) is", None),
    (OracleFiddler, "from grad(..., create_graph=True) is 0.0", None),
    (NoCreateGraph, "unexpected keyword argument 'create_graph'", None),
]


@pytest.mark.parametrize("engine, detail, hint", MUTANTS, ids=[m[0].__name__ for m in MUTANTS])
def test_a_mutant_fails_the_second_order_check_alone(engine, detail, hint):
    report = check_engine(engine, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert report.failed == ("second_order",), str(report)
    assert {r.name for r in report.results if r.status == "pass"} >= FIRST_ORDER - {
        "sigmoid",
        "abs",
    }
    result = report["second_order"]
    assert detail in result.detail, result.detail
    assert result.failure["inputs"] in result.detail  # the shrunk case, to reproduce
    assert not report.ok and report.exit_status == 1
    if hint is not None:
        assert any(hint in h for h in report.hints), report.hints


def test_the_issues_tanh_mutant_is_caught_where_its_first_derivative_is_right():
    """At a = 0, 1 - t = 1 - t² = 1: the first derivative is right, the second is -1, not 0."""
    prop = _second_order_property(["tanh"], None)
    case = ("program", Program((0.0,), (("tanh", (0,)),)), (1.0,))
    assert case in prop.explicit  # always tried, whatever Hypothesis draws
    for engine, second in ((TanhOneMinusOut, -1.0), (TanhDetachedFactor, 0.0)):
        with EngineProcess(lambda engine=engine: engine, answer, 10.0) as child:
            reply = child.ask(prop.request(case))
        assert reply["grads"] == [1.0] and reply["hvp"] == [second]
    with pytest.raises(AssertionError, match=r"\(H v\) for x0.* is -1\.0, expected 0\.0"):
        prop.judge(case, {"value": [0.0], "grads": [1.0], "hvp": [-1.0]})
    tanh_at_half = ("program", Program((0.5,), (("tanh", (0,)),)), (1.0,))
    with EngineProcess(lambda: TanhDetachedFactor, answer, 10.0) as child:
        reply = child.ask(prop.request(tanh_at_half))
    t = math.tanh(0.5)
    assert reply["grads"] == [pytest.approx(1 - t * t, rel=1e-15)]  # right to first order
    assert reply["hvp"] == [pytest.approx(-t * (1 - t * t), rel=1e-12)]  # half of -2t(1 - t²)
    with pytest.raises(AssertionError, match=r"\(H v\) for x0"):
        prop.judge(tanh_at_half, reply)


def test_the_same_student_gets_the_same_second_order_case_and_another_student_another():
    alice = student_seed("course", "alice")
    first = check_engine(ConstantLocals, max_examples=5, timeout=NO_LIMIT, seed=alice)
    again = check_engine(ConstantLocals, max_examples=5, timeout=NO_LIMIT, seed=alice)
    assert first["second_order"] == again["second_order"]
    assert first["second_order"].status == "fail"


def test_a_grad_that_never_returns_times_out_and_the_report_goes_on():
    report = check_engine(LoopingGrad, max_examples=3, timeout=1.0)
    result = report["second_order"]
    assert result.status == "fail" and result.detail.startswith("timed out after 1 s")
    assert {r.name for r in report.results} == ALL_CHECKS


# -- the skip in every report, at no cost ---------------------------------------------------


@pytest.fixture(scope="module")
def skipped_report():
    """MiniValue: everything it has passes; second order is skipped."""
    report = check_engine(MiniValue, max_examples=5, timeout=NO_LIMIT)
    assert report["second_order"].status == "unsupported"
    return report


def test_a_skip_costs_nothing(skipped_report):
    assert skipped_report.ok and skipped_report.exit_status == 0
    assert skipped_report.score == skipped_report.max_score
    assert "second_order" not in skipped_report.failed
    assert "0 fail" in skipped_report.summary()


def test_the_skip_shows_in_the_text_table(skipped_report):
    row = next(line for line in str(skipped_report).splitlines() if line.startswith("second_order"))
    assert [cell.strip() for cell in row.split(" | ")] == [
        "second_order",
        "unsupported",
        "0/0",
        SKIP,
    ]
    assert render(skipped_report, "text") == str(skipped_report) + "\n"


def test_the_skip_shows_in_json(skipped_report):
    results = {r["name"]: r for r in json.loads(render(skipped_report, "json"))["results"]}
    assert results["second_order"]["status"] == "unsupported"
    assert results["second_order"]["detail"] == SKIP
    assert results["second_order"]["score"] == 0 and results["second_order"]["points"] == 0
    assert records(skipped_report)["score"] == records(skipped_report)["max_score"]


def test_the_skip_shows_in_gradescope_and_prairielearn(skipped_report):
    scope = gradescope(skipped_report)
    assert f"- second_order: {SKIP}" in scope["output"].splitlines()
    assert "second_order" not in {test["name"] for test in scope["tests"]}  # worth nothing
    assert scope["score"] == sum(test["max_score"] for test in scope["tests"])
    learn = prairielearn(skipped_report)
    assert f"- second_order: {SKIP}" in learn["output"].splitlines()
    assert learn["gradable"] is True and learn["score"] == 1.0


def test_the_skip_shows_in_junit_as_skipped(skipped_report):
    suites = ElementTree.fromstring(junit(skipped_report))
    case = next(c for c in suites.iter("testcase") if c.get("name") == "second_order")
    assert [child.tag for child in case] == ["skipped"]
    assert case.find("skipped").get("message") == SKIP
    assert suites.get("failures") == "0"


def test_hidden_reports_show_the_skip_as_not_supported(skipped_report):
    assert skipped_report.hidden()["second_order"].detail == "not supported"


def test_required_second_order_fails_an_engine_that_does_not_offer_it():
    required = [*PROFILES["micrograd"], "second_order"]
    report = check_engine(MiniValue, max_examples=3, timeout=NO_LIMIT, required=required)
    result = report["second_order"]
    assert result.status == "fail" and result.score == 0 and result.points == 1
    assert result.detail == f"required, but {SECOND_ORDER_WANTED}"


def test_the_command_line_requires_weighs_and_writes_the_skip(tmp_path, capsys):
    out = tmp_path / "results.xml"
    spec = f"{MiniValue.__module__}:MiniValue"
    code = main(["check-engine", spec, "--max-examples", "3", "--format", "junit",
                 "--output", str(out), "--points", "second_order=5"])  # fmt: skip
    assert code == 0
    assert "second_order | unsupported | 0/0" in " ".join(capsys.readouterr().out.split())
    assert f'<skipped message="{SKIP}"' in out.read_text()
    code = main(["check-engine", spec, "--max-examples", "3",
                 "--require", "add,second_order"])  # fmt: skip
    assert code == 1
    assert "required, but the engine offers no second order" in capsys.readouterr().out


# -- the oracles, against what does not share their code ------------------------------------


def second_differences(program, i, j, h=1e-4):
    """∂²f/∂x_i∂x_j by central differences of the program on floats.

    Error: h²/12 |f''''| (truncation) + about 4e-16 |f| / h² (rounding): near 1e-8
    for these programs (values at most 1e3, moderate derivatives).
    """

    def f(di, dj):
        x = list(program.inputs)
        x[i] += di
        x[j] += dj
        return program.output(*x)

    return (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h)


@settings(max_examples=100, deadline=None)
@given(programs(["add", "sub", "mul", "div", "pow", "tanh", "exp", "sigmoid", "log"]))
def test_hyper_dual_hessians_match_second_differences_of_the_floats(program):
    program = program.pruned()
    value, gradient, hessian = program_curvature(program)
    assert value == program.output(*program.inputs)
    n = len(program.inputs)
    for i in range(n):
        e = [1e-6 * (k == i) for k in range(n)]
        plus = program.output(*(x + d for x, d in zip(program.inputs, e)))
        minus = program.output(*(x - d for x, d in zip(program.inputs, e)))
        assert gradient[i] == pytest.approx((plus - minus) / 2e-6, rel=1e-4, abs=1e-5)
        for j in range(n):
            assert hessian[i][j] == pytest.approx(hessian[j][i], rel=1e-12, abs=1e-15)
            assert hessian[i][j] == pytest.approx(
                second_differences(program, i, j), rel=1e-3, abs=1e-3
            )


@given(st.floats(-3.0, 3.0))
def test_hyper_dual_numbers_carry_the_closed_forms(x):
    def second(f):
        return f(HyperDual(x, 1.0, 1.0)).d

    t, s = math.tanh(x), 1 / (1 + math.exp(-x))
    assert second(lambda a: a * a * a) == pytest.approx(6 * x, abs=1e-12)
    assert second(lambda a: a.tanh()) == pytest.approx(-2 * t * (1 - t * t), abs=1e-15)
    assert second(lambda a: a.sigmoid()) == pytest.approx(s * (1 - s) * (1 - 2 * s), abs=1e-15)
    # against central differences of the analytic first derivatives, 1 - t² and s (1 - s)
    h = 1e-5
    tanh_slope = [1 - math.tanh(x + d) ** 2 for d in (h, -h)]
    sigmoids = [1 / (1 + math.exp(-x - d)) for d in (h, -h)]
    sigmoid_slope = [sd * (1 - sd) for sd in sigmoids]
    assert second(lambda a: a.tanh()) == pytest.approx(
        (tanh_slope[0] - tanh_slope[1]) / (2 * h), abs=1e-8
    )
    assert second(lambda a: a.sigmoid()) == pytest.approx(
        (sigmoid_slope[0] - sigmoid_slope[1]) / (2 * h), abs=1e-8
    )
    # the product rule's cross term: d²(x0 x1)/dx0 dx1 = 1, d²/dx0² = 0
    assert (HyperDual(x, 1.0, 0.0) * HyperDual(2.0, 0.0, 1.0)).d == 1.0
    assert (HyperDual(x, 1.0, 1.0) * HyperDual(2.0)).d == 0.0


@settings(max_examples=30, deadline=None)
@given(sigmoid_networks(max_layers=2, max_width=3), st.data())
def test_network_hessians_by_differences_of_the_delta_rules_match_our_hessian(network, data):
    _, weights, X, Y = network
    size = sum(w.size for w in weights)
    v = data.draw(st.lists(st.floats(-1.0, 1.0), min_size=size, max_size=size))

    build = _network_builder(
        Value, "sigmoid", [w.tolist() for w in weights], X[0].tolist(), Y[0].tolist(), []
    )
    out, leaves = build()
    assert [g.data for g in tinygrad_bp.grad(out, leaves)] == pytest.approx(
        network_gradient(weights, X[0], Y[0]).tolist(), rel=1e-9, abs=1e-12
    )
    firsts = tinygrad_bp.grad(out, leaves, create_graph=True)
    inner = sum((g * vi for g, vi in zip(firsts, v)), Value(0.0))
    exact = np.array([h.data for h in tinygrad_bp.grad(inner, leaves)])
    assert np.allclose(network_hvp(weights, X[0], Y[0], v), exact, rtol=1e-6, atol=1e-6)


def test_a_grad_of_another_kind_in_the_module_is_passed_over_at_no_cost():
    # a finite-difference helper grad(f, x) beside the class is not the engine's second order
    import helper_grad_engine

    assert grad_function(helper_grad_engine.HelperGradValue) is None
    report = check_engine(helper_grad_engine.HelperGradValue, max_examples=3, timeout=NO_LIMIT)
    result = report["second_order"]
    assert result.status == "unsupported" and result.points == 0
    assert "second_order" not in report.failed
