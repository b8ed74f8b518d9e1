"""Losses on both engines against numpy formulas and finite differences."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_bp import Tensor, Value
from tinygrad_bp.losses import binary_cross_entropy, cross_entropy, half_sse, mse


def numeric_gradient(f, x, eps=1e-6):
    """Central differences of a float function of an array, elementwise."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (f(up) - f(down)) / (2 * eps)
    return grad


def _bce(p, y):
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _bce_logits(z, y):
    """mean(log(1 + e^z) - y z), with numpy's stable logaddexp."""
    return np.mean(np.logaddexp(0.0, z) - y * z)


def _ce(z, t):
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(t)), t].mean()


REGRESSION = [
    (half_sse, lambda o, y: 0.5 * np.sum((y - o) ** 2), st.floats(-3, 3)),
    (mse, lambda o, y: np.mean((y - o) ** 2), st.floats(-3, 3)),
    (binary_cross_entropy, _bce, st.floats(0.05, 0.95)),
]


@pytest.mark.parametrize("loss, reference, elements", REGRESSION, ids=["half_sse", "mse", "bce"])
@given(data=st.data())
def test_losses_match_numpy_and_finite_differences_on_both_engines(loss, reference, elements, data):
    shape = data.draw(st.sampled_from([(1,), (3,), (2, 3)]))
    o = data.draw(hnp.arrays(np.float64, shape, elements=elements))
    y = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)))
    want = reference(o, y)
    want_grad = numeric_gradient(lambda p: reference(p, y), o)

    tensor = Tensor(o, requires_grad=True)
    out = loss(tensor, y)
    out.backward()
    assert out.item() == pytest.approx(want, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(tensor.grad, want_grad, rtol=1e-5, atol=1e-7)

    values = np.array([Value(x) for x in o.flat], dtype=object).reshape(shape).tolist()
    out = loss(values, y)
    out.backward()
    assert out.data == pytest.approx(want, rel=1e-12, abs=1e-12)
    flat = [v for v in np.array(values, dtype=object).flat]
    np.testing.assert_allclose([v.grad for v in flat], want_grad.ravel(), rtol=1e-5, atol=1e-7)


@given(
    hnp.arrays(np.float64, (4,), elements=st.floats(-20, 20)),
    hnp.arrays(np.float64, (4,), elements=st.sampled_from([0.0, 1.0])),
)
def test_binary_cross_entropy_from_logits_matches_the_probability_form(z, y):
    tensor = Tensor(z, requires_grad=True)
    loss = binary_cross_entropy(tensor, y, from_logits=True)
    loss.backward()
    assert loss.item() == pytest.approx(_bce_logits(z, y), rel=1e-9, abs=1e-12)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(tensor.grad, (p - y) / len(z), atol=1e-12)  # analytic: p - y


@given(
    hnp.arrays(np.float64, (3, 4), elements=st.floats(-20, 20)),
    hnp.arrays(np.intp, (3,), elements=st.integers(0, 3)),
)
def test_cross_entropy_matches_numpy_and_its_analytic_gradient(z, t):
    tensor = Tensor(z, requires_grad=True)
    loss = cross_entropy(tensor, t)
    loss.backward()
    assert loss.item() == pytest.approx(_ce(z, t), rel=1e-12, abs=1e-12)
    softmax = np.exp(z - z.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(tensor.grad, (softmax - np.eye(4)[t]) / 3, atol=1e-12)
    values = [Value(x) for x in z[0]]
    one = cross_entropy(values, int(t[0]))
    one.backward()
    assert one.data == pytest.approx(_ce(z[:1], t[:1]), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose([v.grad for v in values], softmax[0] - np.eye(4)[t[0]], atol=1e-12)


def test_half_sse_is_the_derivations_j_for_the_worked_example():
    assert half_sse(Value(0.824), 1.0).data == pytest.approx(0.5 * 0.176**2)
    assert half_sse([Value(0.5), Value(0.25)], [1.0, 0.0]).data == pytest.approx(0.15625)


@pytest.mark.parametrize("magnitude", [1e3, 1e6, 1e300])
def test_cross_entropies_stay_finite_and_warning_free_at_extreme_logits(magnitude):
    z = np.array([[magnitude, -magnitude], [-magnitude, magnitude]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tensor = Tensor(z, requires_grad=True)
        loss = cross_entropy(tensor, np.array([1, 1]))
        loss.backward()
        assert np.isfinite(loss.item()) and np.all(np.isfinite(tensor.grad))
        logits = Tensor(z[0], requires_grad=True)
        bce = binary_cross_entropy(logits, np.array([0.0, 1.0]), from_logits=True)
        bce.backward()
        assert bce.item() == pytest.approx(magnitude)  # softplus(M) - 0 and softplus(-M) + M
        assert np.all(np.isfinite(logits.grad))
        scalar = binary_cross_entropy(Value(-magnitude), 1.0, from_logits=True)
        assert scalar.data == pytest.approx(magnitude)


def test_binary_cross_entropy_of_saturated_probabilities_is_clamped_not_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = Tensor(np.array([0.0, 1.0, 0.0]), requires_grad=True)
        loss = binary_cross_entropy(p, np.array([0.0, 1.0, 1.0]))
        loss.backward()
        assert loss.item() == pytest.approx(100 / 3)  # log clamped at -100, as PyTorch
        assert np.all(np.isfinite(p.grad))
        assert binary_cross_entropy(Value(0.0), 0.0).data == 0.0


@pytest.mark.parametrize("loss", [half_sse, mse, binary_cross_entropy])
def test_shape_mismatch_names_both_shapes(loss):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss(Tensor(np.full((4, 1), 0.5)), np.zeros(4))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        loss([Value(0.5), Value(0.5)], [0.0, 1.0, 0.0])


def test_cross_entropy_rejects_bad_targets_clearly():
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        cross_entropy(logits, np.array([0.5, 1.0]))


def test_non_numeric_predictions_and_targets_raise_type_error():
    with pytest.raises(TypeError, match="str"):
        half_sse(["a"], [1.0])
    with pytest.raises(TypeError, match="dtype"):
        half_sse(Tensor(np.zeros(2)), np.array(["a", "b"]))
    assert math.isclose(half_sse(Value(1.0), np.float32(0.0)).data, 0.5)


# -- review fixes: the top of the float range, one-element shapes, batches of Values ------


def reference_sigmoid(z):
    return 0.5 * (1.0 + math.tanh(0.5 * z))  # an identity, independent of the engines


@pytest.mark.parametrize("z", [1e308, -1e308, 1.7e308, 0.0, 3.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_binary_cross_entropy_from_logits_is_exact_up_to_the_largest_float(z, y):
    expected = float(np.logaddexp(0.0, z) - y * z)  # softplus(z) - y z, by numpy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scalar = Value(z)
        loss = binary_cross_entropy(scalar, y, from_logits=True)
        loss.backward()
        tensor = Tensor([z], requires_grad=True)
        tensor_loss = binary_cross_entropy(tensor, [y], from_logits=True)
        tensor_loss.backward()
    for value, grad in [(loss.data, scalar.grad), (tensor_loss.item(), tensor.grad[0])]:
        assert value == pytest.approx(expected, rel=1e-15, abs=1e-15)
        assert grad == pytest.approx(reference_sigmoid(z) - y, abs=1e-15)  # sigmoid(z) - y
        assert z != 0 or grad == 0.5 - y  # exactly 1/2 - y at the kink of max(z, 0)


def test_binary_cross_entropy_from_logits_in_float32_at_its_largest_values():
    z = Tensor(np.array([3e38, -3e38], np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = binary_cross_entropy(z, np.array([0.0, 0.0]), from_logits=True)
        loss.backward()
    assert loss.dtype == np.float32 and loss.item() == float(np.float32(3e38) / 2)
    assert z.grad.tolist() == [0.5, 0.0]  # (sigmoid(z) - y) / 2


def test_a_single_prediction_matches_a_single_target_whatever_their_shapes():
    net_output = Value(0.5)  # what a width-1 MLP returns
    assert half_sse(net_output, [1.0]).data == 0.125
    assert half_sse([Value(0.5)], 1.0).data == 0.125
    assert half_sse([[Value(0.5)]], np.array([1.0])).data == 0.125
    prediction = Tensor([0.5], requires_grad=True)
    loss = mse(prediction, 1.0)
    loss.backward()
    assert loss.item() == 0.25 and prediction.grad.tolist() == [-1.0]
    assert binary_cross_entropy(Tensor([[0.5]]), Tensor([1.0])).item() == pytest.approx(
        math.log(2.0)
    )
    with pytest.raises(ValueError, match=r"\(1,\).*\(2,\)"):
        half_sse(Tensor([0.5]), [1.0, 0.0])  # a real broadcast is still refused


def test_cross_entropy_of_a_batch_of_values_is_the_mean_of_the_rows():
    z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    t = np.array([0, 2])
    values = [[Value(x) for x in row] for row in z]
    loss = cross_entropy(values, t)
    loss.backward()
    assert loss.data == pytest.approx(_ce(z, t), rel=1e-14)
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    analytic = (softmax - np.eye(3)[t]) / len(t)  # d mean / dz = (softmax - onehot) / N
    np.testing.assert_allclose([[v.grad for v in row] for row in values], analytic, atol=1e-14)
    one = [Value(x) for x in z[0]]
    assert cross_entropy(one, 0).data == pytest.approx(_ce(z[:1], t[:1]), rel=1e-14)


def test_cross_entropy_of_values_names_a_shape_it_cannot_take():
    with pytest.raises(ValueError, match=r"\(1, 1, 2\)"):
        cross_entropy([[[Value(0.0), Value(1.0)]]], [0])
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        cross_entropy([[Value(0.0), Value(1.0)]] * 2, [0, 1, 0])


@pytest.mark.parametrize("loss", [half_sse, mse, binary_cross_entropy])
@pytest.mark.parametrize(
    "pred, target",
    [
        ([], []),
        (Tensor(np.zeros((0,))), np.zeros((0,))),
        (Tensor(np.zeros((0, 1))), np.zeros((0, 1))),
    ],
)
def test_an_empty_batch_has_no_loss(loss, pred, target):
    with pytest.raises(ValueError, match="empty batch"):
        loss(pred, target)


@pytest.mark.parametrize("logits", [Tensor(np.zeros((0, 3))), [], np.empty((0, 3), dtype=object)])
def test_cross_entropy_of_an_empty_batch_is_an_error(logits):
    with pytest.raises(ValueError, match="empty batch"):
        cross_entropy(logits, np.zeros((0,), dtype=int))


@pytest.mark.parametrize("loss", [half_sse, mse, binary_cross_entropy])
def test_a_column_of_predictions_against_flat_targets_says_how_to_reshape(loss):
    predictions = Tensor(np.full((4, 1), 0.5))
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\).*y\[:, None\]"):
        loss(predictions, np.zeros(4))
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\).*y\[:, 0\]"):
        loss(Tensor(np.full(4, 0.5)), np.zeros((4, 1)))
    with pytest.raises(ValueError) as unrelated:
        loss(predictions, np.zeros(3))
    assert "y[" not in str(unrelated.value)
    # The advice is right: the reshaped targets are accepted.
    assert np.isfinite(loss(predictions, np.zeros(4)[:, None]).item())
