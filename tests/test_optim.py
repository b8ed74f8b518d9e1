"""Optimisers against their update rules written out by hand."""

import math

import numpy as np
import pytest

from tinygrad_bp import Tensor, Value
from tinygrad_bp.optim import SGD, Adam


def quadratic_grads(values, tensor):
    """Set up the gradient of sum(w^2) for Values and a Tensor: g = 2 w."""
    for v in values:
        v.grad = 2 * v.data
    tensor.grad = 2 * tensor.data


def test_sgd_with_momentum_follows_its_recurrence_on_both_engines():
    values = [Value(1.0), Value(-2.0)]
    tensor = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = SGD([*values, tensor], lr=0.1, momentum=0.9)
    w, velocity = np.array([1.0, -2.0]), np.zeros(2)
    for _ in range(5):
        quadratic_grads(values, tensor)
        optimizer.step()
        velocity = 0.9 * velocity + 2 * w
        w = w - 0.1 * velocity
        np.testing.assert_allclose([v.data for v in values], w, rtol=1e-14)
        np.testing.assert_allclose(tensor.data, w, rtol=1e-14)


def test_adam_follows_its_recurrence_on_both_engines():
    values = [Value(1.0), Value(-2.0)]
    tensor = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = Adam([*values, tensor], lr=0.01)
    w, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 6):
        quadratic_grads(values, tensor)
        optimizer.step()
        g = 2 * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose([x.data for x in values], w, rtol=1e-12)
        np.testing.assert_allclose(tensor.data, w, rtol=1e-12)


def test_updates_are_in_place_and_keep_float32():
    tensor = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    storage = tensor.data
    for optimizer in (SGD([tensor], lr=0.1, momentum=0.5), Adam([tensor], lr=0.1)):
        tensor.grad = np.ones(3, dtype=np.float32)
        optimizer.step()
        assert tensor.data is storage and tensor.data.dtype == np.float32


def test_parameters_without_a_gradient_do_not_move():
    tensor = Tensor(np.ones(2), requires_grad=True)
    SGD([tensor], lr=1.0).step()
    np.testing.assert_array_equal(tensor.data, [1.0, 1.0])


def test_zero_grad_clears_both_engines():
    value, tensor = Value(1.0), Tensor(np.ones(2), requires_grad=True)
    value.grad, tensor.grad = 3.0, np.ones(2)
    SGD([value, tensor], lr=0.1).zero_grad()
    assert value.grad == 0.0 and tensor.grad is None


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda: SGD([], lr=0.1), ValueError, "no parameters"),
        (lambda: SGD([Value(1.0)], lr=-1.0), ValueError, "lr"),
        (lambda: SGD([Value(1.0)], lr=float("nan")), ValueError, "lr"),
        (lambda: SGD([1.0], lr=0.1), TypeError, "float"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=1.5), ValueError, "momentum"),
        (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, "betas"),
    ],
)
def test_bad_arguments_are_named(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_sgd_weight_decay_adds_lambda_w_to_the_gradient_with_and_without_momentum():
    # L2 in the gradient, as PyTorch's SGD: g = 2 w + lambda w, written out by hand.
    for momentum in (0.0, 0.9):
        values = [Value(1.0), Value(-2.0)]
        tensor = Tensor(np.array([1.0, -2.0]), requires_grad=True)
        optimizer = SGD([*values, tensor], lr=0.1, momentum=momentum, weight_decay=0.5)
        w, velocity = np.array([1.0, -2.0]), np.zeros(2)
        for _ in range(4):
            quadratic_grads(values, tensor)
            optimizer.step()
            velocity = momentum * velocity + (2 * w + 0.5 * w)
            w = w - 0.1 * velocity
            np.testing.assert_allclose([v.data for v in values], w, rtol=1e-14)
            np.testing.assert_allclose(tensor.data, w, rtol=1e-14)


def test_sgd_weight_decay_first_step_by_hand_and_leaves_the_grad_alone():
    w = Value(1.0)
    (w * w).backward()
    SGD([w], lr=0.1, weight_decay=0.5).step()
    assert w.data == 1.0 - 0.1 * (2.0 + 0.5 * 1.0) and w.grad == 2.0
    tensor = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    tensor.grad = np.array([2.0, -4.0])
    SGD([tensor], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_array_equal(tensor.data, [1.0 - 0.1 * 2.5, -2.0 + 0.1 * 5.0])
    np.testing.assert_array_equal(tensor.grad, [2.0, -4.0])  # .grad stays dJ/dw


def test_adam_weight_decay_is_l2_through_the_moments_not_adamw():
    # PyTorch's Adam(weight_decay=): g = dJ/dw + lambda w feeds m and v. Two steps of
    # w^2 from w = 1, lr 0.1, lambda 0.5, written out (AdamW would give 0.85 first).
    w = Value(1.0)
    optimizer = Adam([w], lr=0.1, weight_decay=0.5)
    b1, b2, eps = 0.9, 0.999, 1e-8
    expected, m, v = 1.0, 0.0, 0.0
    for t in (1, 2):
        w.grad = 0.0
        (w * w).backward()
        optimizer.step()
        g = 2 * expected + 0.5 * expected
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        expected -= 0.1 * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        assert w.data == pytest.approx(expected, rel=1e-14)


def test_weight_decay_must_be_a_non_negative_number():
    w = Value(1.0)
    for optimizer in (SGD, Adam):
        with pytest.raises(ValueError, match="weight_decay"):
            optimizer([w], lr=0.1, weight_decay=-1.0)
        with pytest.raises(TypeError, match="weight_decay"):
            optimizer([w], lr=0.1, weight_decay="0.1")


def test_weight_decay_matches_pytorch_where_installed():
    torch = pytest.importorskip("torch")
    start = np.array([[0.5, -1.5], [2.0, 0.25]])
    for ours_class, theirs_class, options in [
        (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
        (Adam, torch.optim.Adam, dict(lr=0.05, weight_decay=0.1)),
    ]:
        ours = Tensor(start.copy(), requires_grad=True)
        theirs = torch.tensor(start.copy(), requires_grad=True)
        mine, pytorch = ours_class([ours], **options), theirs_class([theirs], **options)
        for _ in range(5):
            mine.zero_grad()
            ((ours * ours * ours).sum()).backward()
            mine.step()
            pytorch.zero_grad()
            ((theirs * theirs * theirs).sum()).backward()
            pytorch.step()
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
