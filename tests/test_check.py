"""Tests for tinygrad_bp.check: gradcheck and anomaly mode."""

import math
import sys

import numpy as np
import pytest
from threads import held_in_another_thread

from tinygrad_bp import Value, no_grad
from tinygrad_bp.check import (
    AnomalyError,
    GradcheckReport,
    check_vjp,
    detect_anomaly,
    gradcheck,
)
from tinygrad_bp.graph import mode, observing
from tinygrad_bp.tensor import Tensor


def next_line() -> int:
    """The line number just after the caller's line (where the node under test is made)."""
    return sys._getframe(1).f_lineno + 1


def wrong_square(a: Value) -> Value:
    """a^2 written micrograd's way with a deliberately wrong derivative: 3a instead of 2a."""
    out = Value(a.data**2, (a,), "bad_square")

    def _backward():
        a.grad += 3.0 * a.data * out.grad

    out._backward = _backward
    return out


# -- gradcheck: correct functions pass ----------------------------------------------------


@pytest.mark.parametrize(
    "f, values",
    [
        (lambda x, y: x * y + x.tanh(), (0.5, -2.0)),
        (lambda x: x**3, (1.3,)),
        (lambda x: x.sigmoid(), (-0.7,)),
        (lambda x: (x * x + 1.0).log() / x.exp(), (0.9,)),
        (lambda x, y: x**y, (1.7, 2.5)),
        (lambda x, y: (x - y).relu() + (y / x).abs(), (2.0, -0.5)),
    ],
)
def test_gradcheck_passes_for_correct_scalar_functions(f, values):
    report = gradcheck(f, [Value(v) for v in values])
    assert report, str(report)
    assert isinstance(report, GradcheckReport)
    assert report.error <= report.tolerance
    assert str(report).startswith("gradcheck passed")


def test_gradcheck_accepts_a_single_node():
    assert gradcheck(lambda x: x**2, Value(3.0))


# -- gradcheck: a wrong gradient fails, and the report says where -----------------------------


def test_gradcheck_fails_for_a_wrong_local_derivative():
    report = gradcheck(wrong_square, [Value(1.5)])
    assert not report
    assert (report.worst_input, report.worst_index) == (0, ())
    assert report.analytic == 4.5  # 3 * 1.5, the wrong derivative
    assert report.numeric == pytest.approx(3.0, abs=1e-6)  # 2 * 1.5, the true one
    assert report.error == pytest.approx(1.5, abs=1e-6)
    text = str(report)
    assert "FAILED" in text and "input 0" in text and "4.5" in text and "numeric 3" in text


def test_gradcheck_names_the_input_with_the_wrong_gradient():
    report = gradcheck(lambda x, y: x * 2.0 + wrong_square(y), [Value(1.0), Value(2.0)])
    assert not report
    assert report.worst_input == 1
    assert "input 1" in str(report)


def test_gradcheck_fails_on_a_nan_gradient():
    def nan_derivative(a: Value) -> Value:
        out = Value(a.data * 2.0, (a,), "nan_grad")

        def _backward():
            a.grad += math.nan * out.grad

        out._backward = _backward
        return out

    report = gradcheck(nan_derivative, [Value(1.0)])
    assert not report
    assert math.isnan(report.analytic)
    assert "nan" in str(report)


def test_gradcheck_tolerances_are_used():
    # Central differences of x^3 are off by eps^2 = 1e-12: zero tolerance must fail,
    # a loose one pass.
    assert not gradcheck(lambda x: x**3, [Value(1.1)], eps=1e-3, atol=0.0, rtol=0.0)
    assert gradcheck(lambda x: x**3, [Value(1.1)], eps=1e-3, atol=1e-5, rtol=0.0)


# -- gradcheck and check_vjp on tensors -----------------------------------------------------


def random_tensor(*shape: int, seed: int = 0, dtype=np.float64) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


W = random_tensor(3, 2, seed=1)


@pytest.mark.parametrize(
    "f, shapes",
    [
        (lambda x: (x @ W).tanh().sum(), [(4, 3)]),
        (lambda x, b: (x + b).sigmoid().mean(), [(4, 3), (3,)]),  # broadcasting
        (lambda x: x.log_softmax(axis=-1)[np.arange(4), [0, 2, 1, 2]].sum(), [(4, 3)]),
        (lambda x, y: (x * y.exp() / (y * y + 1.0)).sum(), [(2, 3), (2, 3)]),
        (lambda x: x.max(axis=0).sum(), [(4, 3)]),  # continuous data: no ties
    ],
)
def test_gradcheck_passes_for_correct_tensor_functions(f, shapes):
    inputs = [random_tensor(*shape, seed=seed) for seed, shape in enumerate(shapes)]
    assert gradcheck(f, inputs)


def test_gradcheck_checks_float32_tensors_in_their_own_dtype():
    x = random_tensor(2, 3, dtype=np.float32)
    report = gradcheck(lambda a: (a * a).tanh().sum(), [x])
    assert report, str(report)
    assert x.dtype == np.float32 and x.data.dtype == np.float32


def test_gradcheck_takes_mixed_inputs_and_unused_ones():
    t, v = random_tensor(3), Value(2.0)
    assert gradcheck(lambda a, b: (a * a).sum(), [t, v])  # d/db = 0 on both sides


def test_gradcheck_fails_for_a_wrong_tensor_gradient_and_names_the_element():
    x = Tensor([0.5, -3.0, 1.0])
    report = gradcheck(lambda a: (a * a.detach()).sum(), [x])  # analytic x, true 2x
    assert not report
    assert (report.worst_input, report.worst_index) == (0, (1,))  # the largest |x|
    assert report.analytic == -3.0
    assert report.numeric == pytest.approx(-6.0, abs=1e-6)
    assert "index (1,)" in str(report)


def test_gradcheck_leaves_tensors_as_they_were():
    x = random_tensor(2, 2)
    data_before = x.data
    values_before = x.data.copy()
    weight = Tensor(np.eye(2), requires_grad=True)
    weight_grad = np.full((2, 2), 9.0)
    weight.grad = weight_grad
    assert gradcheck(lambda a: (a @ weight).sum(), [x])
    assert x.data is data_before and np.array_equal(x.data, values_before)
    assert x.grad is None and x.requires_grad is False
    assert weight.grad is weight_grad and np.array_equal(weight_grad, np.full((2, 2), 9.0))


def test_gradcheck_rejects_a_tensor_output_with_many_elements():
    with pytest.raises(TypeError, match=r"Tensor of shape \(2, 3\)"):
        gradcheck(lambda a: a * 2.0, [random_tensor(2, 3)])


def test_check_vjp_passes_for_correct_functions_and_fails_for_a_wrong_one():
    x, b = random_tensor(4, 3), random_tensor(2, seed=5)
    assert check_vjp(lambda a, c: (a @ W + c).tanh(), [x, b], rng=0)
    report = check_vjp(lambda a: a * a.detach(), [x], rng=0)  # J^T u misses half of 2x u
    assert not report
    assert report.by_backward == pytest.approx(report.numeric / 2.0, rel=1e-6)
    assert "FAILED" in str(report)
    assert x.grad is None and b.grad is None


def test_check_vjp_rejects_a_non_tensor_output():
    with pytest.raises(TypeError, match="must return a Tensor, got Value"):
        check_vjp(lambda a: a * 2.0, [Value(1.0)])


# -- gradcheck leaves everything as it was ----------------------------------------------------


def test_gradcheck_leaves_inputs_and_other_grads_unchanged():
    x, y = Value(0.25, label="x"), Value(-1.5, label="y")
    weight = Value(0.8, label="weight")  # a parameter used inside f, not an input
    x.grad, y.grad, weight.grad = 7.0, -3.0, 5.0
    report = gradcheck(lambda a, b: weight * a * b + a.tanh(), (x, y))
    assert report
    assert (x.data, y.data, weight.data) == (0.25, -1.5, 0.8)
    assert (x.grad, y.grad, weight.grad) == (7.0, -3.0, 5.0)


def test_gradcheck_restores_inputs_when_f_raises():
    x = Value(2.0)
    x.grad = 1.25
    calls = []

    def breaks_on_the_second_call(a: Value) -> Value:
        calls.append(a.data)
        if len(calls) > 1:
            raise RuntimeError("boom")
        return a * a

    with pytest.raises(RuntimeError, match="boom"):
        gradcheck(breaks_on_the_second_call, [x])
    assert calls[1] != 2.0  # the failure happened while x was nudged
    assert (x.data, x.grad) == (2.0, 1.25)


# -- gradcheck rejects what it cannot check ------------------------------------------------


def test_gradcheck_rejects_inputs_that_are_not_nodes():
    with pytest.raises(TypeError, match="input 1 must be a Value or a Tensor, got float"):
        gradcheck(lambda x, y: x * y, [Value(1.0), 2.0])
    with pytest.raises(TypeError, match="got str"):
        gradcheck(lambda x: x, "x")


def test_gradcheck_rejects_a_non_scalar_output():
    with pytest.raises(TypeError, match="got float"):
        gradcheck(lambda x: x.data * 2.0, [Value(1.0)])
    with pytest.raises(TypeError, match="got list"):
        gradcheck(lambda x: [x, x], [Value(1.0)])


def test_gradcheck_rejects_nothing_to_check():
    with pytest.raises(ValueError, match="no elements"):
        gradcheck(lambda: Value(1.0), [])


# -- detect_anomaly: forward ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_hook_left_behind():
    """Every test starts and ends without an anomaly hook."""
    assert mode.forward_hook is None and mode.backward_hook is None
    yield
    assert mode.forward_hook is None and mode.backward_hook is None


def test_forward_nan_names_the_op_and_the_line_that_created_it():
    with detect_anomaly():
        x = Value(-1.0)
        with pytest.raises(AnomalyError) as caught:
            line = next_line()
            x**0.5
    message = str(caught.value)
    assert "'**0.5'" in message and "forward" in message and "nan" in message
    assert f"test_check.py:{line}" in message
    assert "output shape scalar" in message and "operand shapes [scalar]" in message


def test_forward_overflow_to_inf_is_an_anomaly():
    with detect_anomaly(), pytest.raises(AnomalyError, match="'exp' produced inf in forward"):
        Value(1000.0).exp()


def test_anomaly_error_is_a_floating_point_error():
    assert issubclass(AnomalyError, FloatingPointError)
    with detect_anomaly(), pytest.raises(FloatingPointError):
        Value(-4.0) ** 0.5


def test_non_finite_leaves_and_their_consumers_do_not_raise():
    with detect_anomaly():
        leaf = Value(math.nan)  # the user's input: not an op
        out = leaf * 2.0 + 1.0  # its operand was already nan: not this op's doing
    assert math.isnan(out.data)


def test_value_ops_made_in_no_grad_are_checked_too():
    with detect_anomaly(), no_grad():
        x = Value(-1.0)
        with pytest.raises(AnomalyError) as caught:
            line = next_line()
            x**0.5  # records no graph, but its operand is known all the same
    message = str(caught.value)
    assert "'**0.5' produced nan in forward" in message
    assert "operand shapes [scalar]" in message and f"test_check.py:{line}" in message


def test_tensor_ops_that_record_no_graph_are_checked_too():
    with detect_anomaly():
        x = Tensor([1.0, -1.0])  # requires no grad: log records no graph
        with pytest.raises(AnomalyError) as caught:
            line = next_line()
            x.log()
    message = str(caught.value)
    assert "'log' produced nan in forward" in message
    assert "output shape (2,)" in message and "operand shapes [(2,)]" in message
    assert f"test_check.py:{line}" in message
    w = Tensor([1.0, 0.0], requires_grad=True)
    with detect_anomaly(), no_grad(), pytest.raises(AnomalyError, match="'log' produced inf"):
        w.log()


def test_unrecorded_ops_fed_a_non_finite_operand_and_leaves_do_not_raise():
    with detect_anomaly(), no_grad():
        leaf = Value(math.inf)  # the user's input: not an op
        out = leaf * 0.0  # nan, but its operand was already inf
        t = Tensor([math.nan, 1.0])
        t_out = t.log() * 2.0
    assert math.isnan(out.data) and math.isnan(t_out.data[0])


def test_nodes_remember_where_they_were_created_only_inside_the_context():
    with detect_anomaly():
        line = next_line()
        inside = Value(2.0) * 3.0
    outside = Value(2.0) * 3.0
    assert inside._origin.endswith(f"test_check.py:{line}")
    assert outside._origin is None


def test_no_error_outside_the_context():
    assert math.isnan((Value(-1.0) ** 0.5).data)
    x = Value(0.0)
    (x**0.5).backward()
    assert x.grad == math.inf


# -- detect_anomaly: backward ------------------------------------------------------------------


def test_backward_inf_names_the_op_that_created_it():
    with detect_anomaly():
        x = Value(0.0)
        line = next_line()
        root = x**0.5  # forward 0.0 is fine; d/dx = 0.5 * 0^-0.5 = inf is not
        out = root * 2.0 + 1.0
        with pytest.raises(AnomalyError) as caught:
            out.backward()
    message = str(caught.value)
    assert "'**0.5'" in message and "backward" in message and "inf" in message
    assert f"test_check.py:{line}" in message


def test_graph_and_grads_are_usable_after_an_anomaly_in_backward():
    x = Value(0.0)
    out = x**0.5 * 3.0
    with detect_anomaly(), pytest.raises(AnomalyError):
        out.backward()
    with detect_anomaly():
        a = Value(2.0)
        b = a * a + a  # db/da = 2a + 1 = 5
        b.backward()
    assert (a.grad, b.grad) == (5.0, 1.0)
    out.backward()  # the same graph again, outside anomaly mode: nothing left pending
    assert x.grad == math.inf


def test_tensor_forward_anomaly_names_op_and_shapes():
    x = Tensor([1.0, -1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        line = next_line()
        x.log()
    message = str(caught.value)
    assert "'log'" in message and "nan in forward" in message
    assert "output shape (2,)" in message and "operand shapes [(2,)]" in message
    assert f"test_check.py:{line}" in message


def test_tensor_backward_anomaly_names_the_op():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        line = next_line()
        root = x**0.5
        with pytest.raises(AnomalyError) as caught:
            (root * 3.0).sum().backward()
    message = str(caught.value)
    assert "'**'" in message and "inf in backward" in message
    assert f"test_check.py:{line}" in message


# -- detect_anomaly: nesting and restoring -------------------------------------------------------


def test_nested_contexts_restore_the_previous_hook():
    seen = []

    def recording_hook(node, value, operands):
        seen.append(node.op)

    with observing(forward=recording_hook):
        with detect_anomaly():
            with detect_anomaly():
                pass
            with pytest.raises(AnomalyError):  # the outer context is still active
                Value(-1.0) ** 0.5
        assert mode.forward_hook is recording_hook
        seen.clear()
        Value(1.0)
        assert seen == [""]


def test_the_hook_is_restored_when_the_body_raises():
    with pytest.raises(AnomalyError), detect_anomaly():
        Value(-1.0) ** 0.5
    assert mode.forward_hook is None and mode.backward_hook is None


def test_a_backward_stopped_by_anomaly_mode_changes_no_grad():
    x, w = Value(0.0), Value(2.0)
    out = x**0.5 * w + w  # d/dx x**0.5 is inf at 0: backward stops part-way
    with detect_anomaly(), pytest.raises(AnomalyError):
        out.backward()
    assert (out.grad, w.grad, x.grad) == (0.0, 0.0, 0.0)
    t = Tensor([0.0, 4.0], requires_grad=True)
    scale = Tensor([1.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError):
        ((t**0.5) * scale + scale).sum().backward()
    assert t.grad is None and scale.grad is None


def test_tensor_leaves_record_their_origin_in_anomaly_mode():
    with detect_anomaly():
        leaf = Tensor([1.0])
    assert leaf._origin is not None and "test_check.py" in leaf._origin


def test_anomaly_mode_in_one_thread_does_not_raise_in_another():
    with held_in_another_thread(detect_anomaly):
        y = Value(-1.0) ** 0.5  # nan, but anomaly mode is the other thread's
        assert math.isnan(y.data)
