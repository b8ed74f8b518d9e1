"""Tests for tinygrad_bp.testing: the strategies, the report, load_class and check_engine.

check_engine is graded on engines whose verdict is known in advance: our own
Value (passes everything), micrograd's Value (passes what it has; its recursive
backward cannot take the deep chain), a small correct engine written here, and
three copies of it with one bug each. A broken engine must fail exactly the
checks its bug touches, each with a shrunk example in the detail.

The grader must also survive what it grades: engines that raise anything
(SystemExit included), recurse without end, loop forever or kill their own
process fail the check concerned, and the rest of the report is still there.
What an engine can do to forge its verdict is in test_testing_forgery.py; the
report formats in test_testing_formats.py; the autograder bundles in
test_testing_bundle.py.
"""

import math
import os
import re
import signal
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_bp import Value, delta
from tinygrad_bp.cli import build_parser, main
from tinygrad_bp.testing import (
    CATALOGUE,
    CHECKS,
    OPS,
    PROGRAM_OPS,
    TIMEOUT,
    CheckResult,
    EngineReport,
    GradingInterrupted,
    broadcastable_shapes,
    check_engine,
    isolation,
    load_class,
    programs,
    sigmoid_networks,
)

EXAMPLES = 20  # per check: enough for Hypothesis to find every bug planted below
NO_LIMIT = None  # the verdict tests must not depend on how loaded the machine is


# -- engines to grade ---------------------------------------------------------------------


class MiniValue:
    """A correct micrograd-style engine with an iterative backward, to break on purpose.

    Each op records its operands and the local derivatives d(out)/d(operand).
    It has no sigmoid, log or abs: the grader makes sigmoid from tanh.
    """

    def __init__(self, data, children=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self.children = children
        self.local_grads = local_grads

    def _wrap(self, other):
        return other if isinstance(other, MiniValue) else type(self)(other)

    def _result(self, data, children, local_grads):
        return type(self)(data, children, local_grads)

    def __add__(self, other):
        other = self._wrap(other)
        return self._result(self.data + other.data, (self, other), (1.0, 1.0))

    def __sub__(self, other):
        other = self._wrap(other)
        return self._result(self.data - other.data, (self, other), (1.0, -1.0))

    def __mul__(self, other):
        other = self._wrap(other)
        return self._result(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent):
        local = exponent * self.data ** (exponent - 1)
        return self._result(self.data**exponent, (self,), (local,))

    def __neg__(self):  # self * -1
        return self * -1.0

    def __truediv__(self, other):  # self * other^-1
        return self * self._wrap(other) ** -1

    def __radd__(self, other):  # other + self
        return self + other

    def __rmul__(self, other):  # other * self
        return self * other

    def __rsub__(self, other):  # -self + other
        return -self + other

    def __rtruediv__(self, other):  # other * self^-1
        return self**-1 * other

    def relu(self):
        return self._result(max(self.data, 0.0), (self,), (float(self.data > 0),))

    def tanh(self):
        out = math.tanh(self.data)
        return self._result(out, (self,), (1.0 - out * out,))

    def exp(self):
        out = math.exp(self.data)
        return self._result(out, (self,), (out,))

    def _topological_order(self):
        """Every node below self, children before parents, with an explicit stack."""
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node.children)
        return order

    def _accumulate(self, child, contribution):
        child.grad += contribution

    def backward(self):
        self.grad = 1.0
        for node in reversed(self._topological_order()):
            for child, local in zip(node.children, node.local_grads):
                node._accumulate(child, local * node.grad)


class WrongSignSub(MiniValue):
    """Bug (a): d(a - b)/db = +1 instead of -1."""

    def __sub__(self, other):
        other = self._wrap(other)
        return self._result(self.data - other.data, (self, other), (1.0, 1.0))


class OverwritingGrads(MiniValue):
    """Bug (b): ``=`` instead of ``+=``, so only the last contribution to a grad survives."""

    def _accumulate(self, child, contribution):
        child.grad = contribution


class RecursiveBackward(MiniValue):
    """Bug (c): micrograd's recursive topological sort, too deep for a long chain."""

    def _topological_order(self):
        order, visited = [], set()

        def visit(node):
            if id(node) not in visited:
                visited.add(id(node))
                for child in node.children:
                    visit(child)
                order.append(node)

        visit(self)
        return order


class ClosureValue(Value):
    """tinygrad_bp's Value with mul, tanh and exp written micrograd's way.

    Each builds ``Value(data, (children), op)`` and assigns a ``_backward``
    closure, as micrograd's lecture does; the other ops are inherited.
    """

    __slots__ = ()

    def __mul__(self, other):
        other = other if isinstance(other, Value) else ClosureValue(other)
        out = ClosureValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = ClosureValue(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = ClosureValue(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out


class WrongClosureTanh(ClosureValue):
    """Bug: the closure of tanh uses 1 + t^2 for its derivative."""

    __slots__ = ()

    def tanh(self):
        t = math.tanh(self.data)
        out = WrongClosureTanh(t, (self,), "tanh")

        def _backward():
            self.grad += (1 + t * t) * out.grad

        out._backward = _backward
        return out


# Engines whose tanh does what no grader should have to survive. Each must fail the
# tanh check alone, at the trial call a = 0.0 (the middle of tanh's domain), with the
# error's message; the sigmoid network then makes its sigmoid from exp.


class EngineAbort(BaseException):
    """An exception outside the Exception hierarchy, as SystemExit is."""


class RaisesRuntimeError(MiniValue):
    def tanh(self):
        raise RuntimeError("my tanh is broken")


class RaisesKeyError(MiniValue):
    def tanh(self):
        return {}["tanh"]


class CallsSystemExit(MiniValue):
    def tanh(self):
        sys.exit(0)


class RaisesBaseException(MiniValue):
    def tanh(self):
        raise EngineAbort("stop everything")


class RaisesKeyboardInterrupt(MiniValue):
    def tanh(self):
        raise KeyboardInterrupt("not the user's")


class RecursesForever(MiniValue):
    def tanh(self):
        return self.tanh()


class ExitsItsProcess(MiniValue):
    def tanh(self):
        os._exit(3)


class LoopsForever(MiniValue):
    def tanh(self):
        while True:
            pass


# -- check_engine ---------------------------------------------------------------------------

OP_CHECKS = {"add", "sub", "mul", "div", "pow", "neg", "radd", "rmul", "rsub", "rdiv"}
METHOD_CHECKS = {"relu", "tanh", "exp", "sigmoid", "log", "abs"}
GRAPH_CHECKS = {"accumulation", "branch_reuse", "expressions", "deep_chain", "sigmoid_mlp"}
ALL_CHECKS = OP_CHECKS | METHOD_CHECKS | GRAPH_CHECKS | {"second_order"}
SHRUNK_DEPTH = re.compile(r"^depth=([\d,]+): the engine raised RecursionError")


def test_our_value_passes_every_check():
    report = check_engine(Value, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert {result.name for result in report.results} == ALL_CHECKS == set(CHECKS)
    assert report.ok, str(report)
    assert report.failed == () and report.unsupported == ()
    assert report.score == report.max_score == len(ALL_CHECKS) and report.exit_status == 0
    assert "z.sigmoid()" in report["sigmoid_mlp"].detail  # the class's own sigmoid is used


def test_a_correct_engine_of_another_design_passes_what_it_has():
    report = check_engine(MiniValue, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert report.ok, str(report)
    assert set(report.unsupported) == {"sigmoid", "log", "abs", "second_order"}
    assert "tanh(0.5 * z)" in report["sigmoid_mlp"].detail  # sigmoid made from its tanh


def test_micrograd_passes_what_it_supports_and_fails_only_the_deep_chain():
    engine = pytest.importorskip("micrograd.engine")
    report = check_engine(engine.Value, max_examples=EXAMPLES, timeout=NO_LIMIT)
    unsupported = {"tanh", "exp", "sigmoid", "log", "abs", "sigmoid_mlp", "second_order"}
    assert set(report.unsupported) == unsupported
    assert report["tanh"].detail == "the class has no tanh" and report["tanh"].points == 0
    assert report.failed == ("deep_chain",)
    assert SHRUNK_DEPTH.match(report["deep_chain"].detail), report["deep_chain"].detail
    assert any("explicit stack" in hint for hint in report.hints)
    assert not report.ok
    passed = {result.name for result in report.results if result.status == "pass"}
    assert passed == ALL_CHECKS - unsupported - {"deep_chain"}


def test_a_wrong_sign_in_subtraction_fails_sub_alone_at_the_simplest_inputs():
    report = check_engine(WrongSignSub, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert report.failed == ("sub",), str(report)
    detail = report["sub"].detail
    # Every input exposes the bug, so Hypothesis shrinks to the simplest one.
    assert detail.startswith("a=0.0, b=0.0: d/db of a - b is 1.0, expected -1.0")
    failure = report["sub"].failure
    assert failure["inputs"] == "a=0.0, b=0.0" and failure["relative_error"] == pytest.approx(2)
    assert (failure["expected"], failure["got"]) == (pytest.approx(-1.0), 1.0)


def test_overwriting_instead_of_accumulating_fails_every_check_that_reuses_a_node():
    report = check_engine(OverwritingGrads, max_examples=EXAMPLES, timeout=NO_LIMIT)
    reusing = ("accumulation", "branch_reuse", "expressions", "sigmoid_mlp")
    assert report.failed == reusing, str(report)
    accumulation = report["accumulation"].detail
    assert accumulation.startswith("a=0.0: d/da of a * a + (a + a)")
    assert any("`+=`, not `=`" in hint for hint in report.hints)
    assert report["branch_reuse"].detail.startswith("a=")
    assert report["expressions"].detail.startswith("x0 = ")  # the shrunk program
    assert report["sigmoid_mlp"].detail.startswith("sizes=[")


def test_a_recursive_backward_fails_the_deep_chain_alone_at_a_shrunk_depth():
    report = check_engine(RecursiveBackward, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert report.failed == ("deep_chain",), str(report)
    match = SHRUNK_DEPTH.match(report["deep_chain"].detail)
    assert match, report["deep_chain"].detail
    depth = int(match.group(1).replace(",", ""))
    assert depth < 5_000  # shrunk below the chain's full length
    chain = start = RecursiveBackward(1.0)
    for _ in range(100):  # a short chain is fine: only the depth is at fault
        chain = chain + 1.0
    chain.backward()
    assert start.grad == 1.0


def test_an_op_that_raises_in_backward_fails_instead_of_being_unsupported():
    class BrokenTanhBackward(MiniValue):
        def tanh(self):
            return self._result(math.tanh(self.data), (self,), ("not a number",))

    report = check_engine(BrokenTanhBackward, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert "tanh" in report.failed
    assert "the engine raised TypeError" in report["tanh"].detail


@pytest.mark.parametrize("not_an_engine", [str, dict])
def test_check_engine_cannot_grade_what_does_not_make_values(not_an_engine):
    report = check_engine(not_an_engine)
    assert "not a micrograd-style Value class" in report.load_error
    assert not report and report.exit_status == 2 and report.results == ()


def test_check_engine_rejects_what_is_neither_a_class_nor_a_spec():
    with pytest.raises(TypeError, match="a class or 'module:ClassName'"):
        check_engine(3)


# -- the report -------------------------------------------------------------------------------


def make_report():
    return EngineReport(
        "students.alice.Value",
        (
            CheckResult("add", "pass", "a + b", points=2.0, cases=5, passed=5),
            CheckResult("sub", "fail", "a=0.0, b=0.0: wrong", cases=4, passed=3),
            CheckResult("sigmoid", "unsupported", "the class has no sigmoid", points=0.0),
        ),
    )


def test_report_table_is_aligned_and_lists_every_result():
    report = make_report()
    lines = str(report).splitlines()
    assert lines[0] == (
        "check_engine(students.alice.Value): 1 pass, 1 fail, 1 unsupported; score 2.75 of 3"
    )
    table = lines[2:]
    assert [cell.strip() for cell in table[0].split("|")] == ["op", "result", "points", "detail"]
    separators = {tuple(m.start() for m in re.finditer(r" [|] |-[+]-", line)) for line in table}
    assert len(separators) == 1  # every column starts at the same place on every line
    points = ["2/2", "0.75/1", "0/0"]
    for line, result, earned in zip(table[2:], report.results, points):
        expected = [result.name, result.status, earned, result.detail]
        assert [cell.strip() for cell in line.split(" | ")] == expected


def test_partial_credit_is_the_share_of_cases_passed():
    report = make_report()
    assert [result.score for result in report.results] == [2.0, 0.75, 0.0]
    assert report.score == 2.75 and report.max_score == 3.0
    assert report.fraction == pytest.approx(2.75 / 3)


def test_report_verdicts_and_lookup():
    report = make_report()
    assert not report.ok
    assert report.failed == ("sub",) and report.unsupported == ("sigmoid",)
    assert report["sigmoid"].status == "unsupported"
    with pytest.raises(KeyError, match="'tanh'.*'add', 'sub', 'sigmoid'"):
        report["tanh"]
    assert EngineReport("x.Value", make_report().results[::2]).ok  # unsupported is not a failure
    nothing_ran = EngineReport("x.Value", make_report().results[2:])
    assert not nothing_ran and nothing_ran.exit_status == 1  # nothing passed: never exit 0


# -- load_class -------------------------------------------------------------------------------


def test_load_class_finds_classes_by_module_and_dotted_name():
    assert load_class("tinygrad_bp.engine:Value") is Value
    assert load_class("tinygrad_bp:engine.Value") is Value


@pytest.mark.parametrize(
    "spec", ["", "tinygrad_bp.engine", "tinygrad_bp.engine:", ":Value", "a b:Value", "a:b:c", 3]
)
def test_load_class_rejects_malformed_specs(spec):
    with pytest.raises(ValueError, match="expected 'module:ClassName'"):
        load_class(spec)


def test_load_class_names_the_spec_when_the_module_is_missing():
    with pytest.raises(ImportError, match="no_such_module_xyz:Value"):
        load_class("no_such_module_xyz:Value")


def test_load_class_names_the_spec_when_the_class_is_missing():
    with pytest.raises(AttributeError, match="'Valu'.*tinygrad_bp.engine:Valu"):
        load_class("tinygrad_bp.engine:Valu")


def test_load_class_rejects_what_is_not_callable():
    with pytest.raises(TypeError, match="not a class"):
        load_class("tinygrad_bp.testing:CHAIN_DEPTH")


def test_load_class_imports_from_the_current_directory_and_reports_import_errors(
    tmp_path, monkeypatch
):
    (tmp_path / "student_engine_ok.py").write_text("class Value:\n    pass\n")
    (tmp_path / "student_engine_broken.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    for name in ("student_engine_ok", "student_engine_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert load_class("student_engine_ok:Value").__name__ == "Value"
    assert str(tmp_path) not in sys.path  # the search path is put back
    with pytest.raises(ImportError, match="student_engine_broken:Value.*no_such_dependency_xyz"):
        load_class("student_engine_broken:Value")


# -- the strategies -----------------------------------------------------------------------------


@given(programs())
def test_programs_are_well_conditioned_and_run_on_floats_and_values(program):
    floats = program.run(program.inputs)
    assert all(math.isfinite(x) and abs(x) <= 1e3 for x in floats)
    values = program.run([Value(x) for x in program.inputs])
    assert [v.data for v in values] == pytest.approx(floats, rel=1e-12, abs=1e-12)
    assert str(program).count(";") == len(program.inputs) + len(program.steps) - 1


@given(st.data())
def test_programs_use_only_the_ops_asked_for(data):
    ops = data.draw(st.lists(st.sampled_from(sorted(PROGRAM_OPS)), min_size=1, unique=True))
    program = data.draw(programs(ops, n_inputs=2, max_steps=4))
    assert {name for name, _ in program.steps} <= set(ops)
    assert len(program.inputs) == 2 and 1 <= len(program.steps) <= 4
    for index, (name, operands) in enumerate(program.steps):
        assert len(operands) == PROGRAM_OPS[name].arity
        assert all(0 <= slot < 2 + index for slot in operands)  # earlier slots only


@pytest.mark.parametrize("ops", [[], ["add", "matmul"]])
def test_programs_reject_unknown_or_no_ops(ops):
    with pytest.raises(ValueError, match="subset of"):
        programs(ops)


@given(sigmoid_networks(max_batch=3))
def test_sigmoid_networks_chain_together_in_the_derivations_convention(network):
    sizes, weights, X, Y = network
    assert [w.shape for w in weights] == [(n + 1, m) for n, m in zip(sizes, sizes[1:])]
    assert X.shape[1] == sizes[0] and Y.shape == (X.shape[0], sizes[-1])
    assert 1 <= X.shape[0] <= 3
    assert ((0.0 <= Y) & (Y <= 1.0)).all()
    assert delta.forward(weights, X[0])[-1].shape == (sizes[-1],)


@given(broadcastable_shapes(num_shapes=3))
def test_broadcastable_shapes_broadcast_to_their_result(shapes):
    arrays = [np.zeros(shape) for shape in shapes.input_shapes]
    assert np.broadcast(*arrays).shape == shapes.result_shape


# -- ops written micrograd's way: a _backward closure -----------------------------------------


def test_ops_written_with_backward_closures_are_graded_like_any_other():
    report = check_engine(ClosureValue, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert report, str(report)
    # second order is looked up in the module of the class (this one, which has no grad)
    assert report.failed == () and report.unsupported == ("second_order",)


def test_a_wrong_derivative_in_a_closure_fails_the_checks_that_use_it():
    report = check_engine(WrongClosureTanh, max_examples=EXAMPLES, timeout=NO_LIMIT)
    assert "tanh" in report.failed and "mul" not in report.failed, str(report)
    found = re.match(
        r"a=(\S+): d/da of a.tanh\(\) is (\S+), expected (\S+) ",
        report["tanh"].detail,
    )
    assert found, report["tanh"].detail
    a, said, expected = (float(group) for group in found.groups())
    assert said == pytest.approx(1 + math.tanh(a) ** 2)  # the closure's wrong derivative
    assert expected == pytest.approx(1 - math.tanh(a) ** 2, rel=1e-6)  # the right one


# -- isolation: whatever the engine does, the grader reports it and goes on --------------------

QUICK = 3  # examples per check: the isolation cases fail at the first call
ISOLATION_CASES = [
    (RaisesRuntimeError, "a=0.0: the engine raised RuntimeError: my tanh is broken (forward)"),
    (RaisesKeyError, "a=0.0: the engine raised KeyError: 'tanh' (forward)"),
    (CallsSystemExit, "a=0.0: the engine raised SystemExit: 0 (forward)"),
    (RaisesBaseException, "a=0.0: the engine raised EngineAbort: stop everything (forward)"),
    (RaisesKeyboardInterrupt, "a=0.0: the engine raised KeyboardInterrupt: not the user's"),
    (RecursesForever, "a=0.0: the engine raised RecursionError: maximum recursion depth"),
    (ExitsItsProcess, "a=0.0: no answer: the engine's process ended without a whole answer"),
]


def assert_tanh_alone_failed(report, detail):
    """tanh failed with ``detail``; every other check is in the report, as for MiniValue."""
    assert {result.name for result in report.results} == ALL_CHECKS
    assert not report and report.failed == ("tanh",), str(report)
    assert report["tanh"].detail.startswith(detail), report["tanh"].detail
    assert set(report.unsupported) == {"sigmoid", "log", "abs", "second_order"}
    assert "exp(-1 * z)" in report["sigmoid_mlp"].detail  # tanh failed: sigmoid from exp
    assert "tanh" not in report["expressions"].detail  # programs use the ops that passed


def cli_check_engine(engine, *options):
    """``tinygrad-bp check-engine module:Class`` on an engine of this module."""
    return main(["check-engine", f"{engine.__module__}:{engine.__qualname__}", *options])


@pytest.mark.parametrize(
    "engine, detail", ISOLATION_CASES, ids=[c[0].__name__ for c in ISOLATION_CASES]
)
def test_an_op_that_raises_or_exits_fails_alone_and_the_report_goes_on(engine, detail):
    assert_tanh_alone_failed(check_engine(engine, max_examples=QUICK, timeout=NO_LIMIT), detail)


def test_the_command_line_grades_a_class_by_name_and_prints_the_table(capsys):
    engine, detail = ISOLATION_CASES[0]
    code = cli_check_engine(engine, "--max-examples", str(QUICK))
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith(f"check_engine({engine.__module__}.{engine.__qualname__}): ")
    rows = {line.split(" | ")[0].strip(): line for line in out.splitlines() if " | " in line}
    assert set(rows) == ALL_CHECKS | {"op"}
    assert re.match(rf"tanh +\| fail +\| 0/1 +\| {re.escape(detail)}", rows["tanh"]), rows["tanh"]


def test_an_op_that_loops_forever_times_out_and_the_report_goes_on():
    report = check_engine(LoopsForever, max_examples=QUICK, timeout=0.5)
    assert {result.name for result in report.results} == ALL_CHECKS
    assert not report and "tanh" in report.failed
    assert report["tanh"].detail.startswith("timed out after 0.5 s, 1 of 3 cases run")
    assert report["tanh"].score == 0 and report["tanh"].cases == QUICK
    for result in report.results:  # on a loaded machine another check may time out too
        assert result.status != "fail" or "timed out" in result.detail, result


def test_a_users_module_calling_sys_exit_in_an_op_exits_1_with_the_report(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "exiting_engine.py").write_text(
        "import sys\n"
        "from tinygrad_bp.engine import Value as Base\n"
        "class Value(Base):\n"
        "    __slots__ = ()\n"
        "    def relu(self):\n"
        "        sys.exit(0)  # a student's leftover exit\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(["check-engine", "exiting_engine:Value", "--max-examples", str(QUICK)])
    out = capsys.readouterr().out
    assert code == 1
    # second order is unsupported: the module of this class has no grad function
    assert "20 pass, 1 fail, 1 unsupported" in out.splitlines()[0]
    relu = r"^relu +\| fail +\| 0/1 +\| a=\S+: the engine raised SystemExit: 0 \(forward\)$"
    assert re.search(relu, out, re.MULTILINE), out


def test_a_constructor_that_exits_or_hangs_cannot_be_graded(tmp_path, monkeypatch, capsys):
    class ExitingConstructor(MiniValue):
        def __init__(self, *args):
            sys.exit(0)

    class HangingConstructor(MiniValue):
        def __init__(self, *args):
            while True:
                pass

    report = check_engine(ExitingConstructor)
    assert report.load_error.endswith(
        "ExitingConstructor is not a micrograd-style Value class: SystemExit: 0"
    )
    assert report.exit_status == 2
    assert check_engine(HangingConstructor, timeout=0.5).load_error == (
        "loading it took more than 0.5 s"
    )
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(0)\nclass Value: pass\n")
    monkeypatch.chdir(tmp_path)
    code = main(["check-engine", "exits_on_import:Value"])
    captured = capsys.readouterr()
    assert (
        code == 2 and "cannot load it: ImportError" in captured.out and "SystemExit" in captured.out
    )
    assert captured.err.startswith("tinygrad-bp: error: check-engine: cannot load it: ImportError")


def test_the_users_ctrl_c_stops_the_run_and_kills_the_check(tmp_path, sigint_raises):
    pid_file = tmp_path / "child.pid"

    class PressesCtrlC(MiniValue):
        def tanh(self):  # what the user's Ctrl-C does: SIGINT to the grader, mid-check
            pid_file.write_text(str(os.getpid()))
            os.kill(os.getppid(), signal.SIGINT)
            while True:
                pass

    with pytest.raises(GradingInterrupted) as interrupted:
        check_engine(PressesCtrlC, max_examples=QUICK, timeout=NO_LIMIT)
    done = interrupted.value.report
    assert [result.name for result in done.results] == list(CHECKS[: CHECKS.index("tanh")])
    assert done.stopped == "interrupted by Ctrl-C" and not done
    child = int(pid_file.read_text())
    assert child != os.getpid()
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left looping
        os.kill(child, 0)


def test_without_fork_the_grader_refuses_to_run_student_code_unisolated(monkeypatch):
    monkeypatch.delattr(os, "fork")
    with pytest.raises(isolation.IsolationUnavailable, match="os.fork"):
        check_engine(MiniValue, max_examples=QUICK)


def test_an_error_message_is_cut_and_a_failing_str_does_not_break_the_report():
    class Unprintable(Exception):
        def __str__(self):
            raise ValueError("no")

    assert isolation.error_text(Unprintable()).startswith("Unprintable: (its message")
    long = isolation.error_text(RuntimeError("x" * 100_000))
    assert len(long) < 600 and long.endswith("(100,000 characters)")


def test_check_engine_checks_its_arguments():
    with pytest.raises(ValueError, match="max_examples must be at least 1, got 0"):
        check_engine(MiniValue, max_examples=0)
    with pytest.raises(ValueError, match="timeout must be positive, got -1.0"):
        check_engine(MiniValue, timeout=-1)
    with pytest.raises(TypeError, match="timeout must be a real number, got str"):
        check_engine(MiniValue, timeout="5")
    with pytest.raises(ValueError, match="unknown checks \\['tan'\\]"):
        check_engine(MiniValue, required=["tan"])


def test_the_command_line_time_limit_defaults_to_the_graders_and_says_so(capsys):
    parser = build_parser()
    assert parser.parse_args(["check-engine", "x:Value"]).timeout == TIMEOUT
    assert parser.parse_args(["check-engine", "x:Value", "--timeout", "0.5"]).timeout == 0.5
    with pytest.raises(SystemExit):
        parser.parse_args(["check-engine", "--help"])
    assert f"(default: {TIMEOUT:g})" in " ".join(capsys.readouterr().out.split())
    assert main(["check-engine", "x:Value", "--timeout", "0"]) == 2


# -- the catalogue ------------------------------------------------------------------------------


def test_the_grader_grades_the_catalogues_graded_rows_in_order():
    assert [op.name for op in OPS] == [op.name for op in CATALOGUE if op.graded]
    assert len({op.name for op in CATALOGUE}) == len(CATALOGUE)  # names are unique
    assert {op.name for op in OPS} == OP_CHECKS | METHOD_CHECKS | {"accumulation", "branch_reuse"}


@pytest.mark.parametrize("op", CATALOGUE, ids=[op.name for op in CATALOGUE])
def test_every_domain_is_a_real_interval_clear_of_its_kink(op):
    for arg in op.args:
        assert arg.low < arg.high and (arg.is_clear(arg.low) or arg.is_clear(arg.high))
    numbers = [arg.high for arg in op.numbers]
    value = op.with_numbers(op.numpy_reference, numbers)(
        *[np.full(2, arg.high) for arg in op.values]
    )
    assert np.all(np.isfinite(value))  # the reference takes arrays
