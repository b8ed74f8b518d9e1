"""Tests for tinygrad_bp.testing: the strategies, the report, load_class and check_engine.

check_engine is graded on engines whose verdict is known in advance: our own
Value (passes everything), micrograd's Value (passes what it has; its recursive
backward cannot take the deep chain), a small correct engine written here, and
three copies of it with one bug each. A broken engine must fail exactly the
checks its bug touches, each with a shrunk example in the detail.
"""

import math
import re
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_bp import Value, delta
from tinygrad_bp.testing import (
    PROGRAM_OPS,
    CheckResult,
    EngineReport,
    broadcastable_shapes,
    check_engine,
    load_class,
    programs,
    sigmoid_networks,
)

EXAMPLES = 30  # per check: enough for Hypothesis to find every bug planted below


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


# -- check_engine ---------------------------------------------------------------------------

OP_CHECKS = {"add", "sub", "mul", "div", "pow", "neg", "radd", "rmul", "rsub", "rdiv"}
METHOD_CHECKS = {"relu", "tanh", "exp", "sigmoid", "log", "abs"}
GRAPH_CHECKS = {"accumulation", "branch_reuse", "expressions", "deep_chain", "sigmoid_mlp"}
ALL_CHECKS = OP_CHECKS | METHOD_CHECKS | GRAPH_CHECKS
SHRUNK_DEPTH = re.compile(r"^depth=([\d,]+): RecursionError")


def test_our_value_passes_every_check():
    report = check_engine(Value, max_examples=EXAMPLES)
    assert {result.name for result in report.results} == ALL_CHECKS
    assert report.ok, str(report)
    assert report.failed == () and report.unsupported == ()
    assert "z.sigmoid()" in report["sigmoid_mlp"].detail  # the class's own sigmoid is used


def test_a_correct_engine_of_another_design_passes_what_it_has():
    report = check_engine(MiniValue, max_examples=EXAMPLES)
    assert report.ok, str(report)
    assert set(report.unsupported) == {"sigmoid", "log", "abs"}
    assert "tanh(0.5 * z)" in report["sigmoid_mlp"].detail  # sigmoid made from its tanh


def test_micrograd_passes_what_it_supports_and_fails_only_the_deep_chain():
    engine = pytest.importorskip("micrograd.engine")
    report = check_engine(engine.Value, max_examples=EXAMPLES)
    unsupported = {"tanh", "exp", "sigmoid", "log", "abs", "sigmoid_mlp"}
    assert set(report.unsupported) == unsupported
    assert "has no attribute 'tanh'" in report["tanh"].detail
    assert report.failed == ("deep_chain",)
    assert SHRUNK_DEPTH.match(report["deep_chain"].detail), report["deep_chain"].detail
    assert not report.ok
    passed = {result.name for result in report.results if result.status == "pass"}
    assert passed == ALL_CHECKS - unsupported - {"deep_chain"}


def test_a_wrong_sign_in_subtraction_fails_sub_alone_at_the_simplest_inputs():
    report = check_engine(WrongSignSub, max_examples=EXAMPLES)
    assert report.failed == ("sub",), str(report)
    detail = report["sub"].detail
    # Every input exposes the bug, so Hypothesis shrinks to the simplest one.
    assert detail.startswith("a=0.0, b=0.0: AssertionError: d/db of a - b is 1.0, expected -1.0")


def test_overwriting_instead_of_accumulating_fails_every_check_that_reuses_a_node():
    report = check_engine(OverwritingGrads, max_examples=EXAMPLES)
    reusing = ("accumulation", "branch_reuse", "expressions", "sigmoid_mlp")
    assert report.failed == reusing, str(report)
    accumulation = report["accumulation"].detail
    assert accumulation.startswith("a=0.0: AssertionError: d/da of a * a + (a + a)")
    assert report["branch_reuse"].detail.startswith("a=")
    assert report["expressions"].detail.startswith("x0 = ")  # the shrunk program
    assert report["sigmoid_mlp"].detail.startswith("sizes=[")


def test_a_recursive_backward_fails_the_deep_chain_alone_at_a_shrunk_depth():
    report = check_engine(RecursiveBackward, max_examples=EXAMPLES)
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


def test_an_op_that_raises_after_the_trial_call_fails_instead_of_being_unsupported():
    class BrokenTanhBackward(MiniValue):
        def tanh(self):
            return self._result(math.tanh(self.data), (self,), ("not a number",))

    report = check_engine(BrokenTanhBackward, max_examples=EXAMPLES)
    assert "tanh" in report.failed
    assert "TypeError" in report["tanh"].detail


@pytest.mark.parametrize("not_an_engine", [str, dict, 3])
def test_check_engine_rejects_what_does_not_make_values(not_an_engine):
    with pytest.raises(TypeError, match="not a micrograd-style Value class"):
        check_engine(not_an_engine)


# -- the report -------------------------------------------------------------------------------


def make_report():
    return EngineReport(
        "students.alice.Value",
        (
            CheckResult("add", "pass", "a + b"),
            CheckResult("sub", "fail", "a=0.0, b=0.0: AssertionError: wrong"),
            CheckResult("sigmoid", "unsupported", "AttributeError: no sigmoid"),
        ),
    )


def test_report_table_is_aligned_and_lists_every_result():
    report = make_report()
    lines = str(report).splitlines()
    assert lines[0] == "check_engine(students.alice.Value): 1 pass, 1 fail, 1 unsupported"
    table = lines[2:]
    assert [cell.strip() for cell in table[0].split("|")] == ["op", "result", "detail"]
    separators = {tuple(m.start() for m in re.finditer(r" [|] |-[+]-", line)) for line in table}
    assert len(separators) == 1  # every column starts at the same place on every line
    for line, result in zip(table[2:], report.results):
        assert [cell.strip() for cell in line.split(" | ")] == [*vars(result).values()]


def test_report_verdicts_and_lookup():
    report = make_report()
    assert not report.ok
    assert report.failed == ("sub",) and report.unsupported == ("sigmoid",)
    assert report["sigmoid"].status == "unsupported"
    with pytest.raises(KeyError, match="'tanh'.*'add', 'sub', 'sigmoid'"):
        report["tanh"]
    assert EngineReport("x.Value", make_report().results[::2]).ok  # unsupported is not a failure


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
