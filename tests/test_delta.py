"""Tests for tinygrad_bp.delta: the worked example, and the delta rules against finite differences.

The oracle here is written independently of delta.py: a plain forward pass that can
nudge any layer's net input z or any weight, and central differences in float64.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import sigmoid_networks
from tutorial_figures import TUTORIAL_FIGURES

from tinygrad_bp import data, perceptron, train
from tinygrad_bp.delta import (
    deltas,
    forward,
    half_sse,
    real_array,
    sgd_step,
    sigmoid,
    weight_updates,
)
from tinygrad_bp.nn import MLP, get_weights
from tinygrad_bp.optim import SGD

EPS = 1e-6
W1 = np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]])  # bias row, then inputs 1 and 2
W2 = np.array([[1.0], [0.3], [0.4]])
X = np.array([1.0, 0.0])
Y = np.array([1.0])
LR = 0.5


# ---------------------------------------------------------------- the worked example


def _ours() -> dict[str, float]:
    """Every number of the worked example, as computed by delta.py."""
    activations = forward([W1, W2], X)
    _, h, o = activations
    delta_hidden, delta_out = deltas([W1, W2], activations, Y)
    new_w1, new_w2 = sgd_step([W1, W2], X, Y, LR)
    return {
        "h1": h[0],
        "h2": h[1],
        "o": o[0],
        "J": half_sse(o, Y),
        "delta_out": delta_out[0],
        "delta_h1": delta_hidden[0],
        "delta_h2": delta_hidden[1],
        "w0_out": new_w2[0, 0],
        "w1_out": new_w2[1, 0],
        "w2_out": new_w2[2, 0],
        "w0_h1": new_w1[0, 0],
        "w0_h2": new_w1[0, 1],
        "w11": new_w1[1, 0],
        "w12": new_w1[1, 1],
        "w21": new_w1[2, 0],
        "w22": new_w1[2, 1],
    }


def _by_hand() -> dict[str, float]:
    """The same numbers, worked out one formula at a time with math.exp."""
    h1 = 1 / (1 + math.exp(-(1.0 + 0.25)))
    h2 = 1 / (1 + math.exp(-(1.0 + 0.15)))
    o = 1 / (1 + math.exp(-(1.0 + 0.3 * h1 + 0.4 * h2)))
    delta_out = o * (1 - o) * (1 - o)
    delta_h1 = h1 * (1 - h1) * 0.3 * delta_out
    delta_h2 = h2 * (1 - h2) * 0.4 * delta_out
    return {
        "h1": h1,
        "h2": h2,
        "o": o,
        "J": 0.5 * (1 - o) ** 2,
        "delta_out": delta_out,
        "delta_h1": delta_h1,
        "delta_h2": delta_h2,
        "w0_out": 1.0 + LR * delta_out * 1,
        "w1_out": 0.3 + LR * delta_out * h1,
        "w2_out": 0.4 + LR * delta_out * h2,
        "w0_h1": 1.0 + LR * delta_h1 * 1,
        "w0_h2": 1.0 + LR * delta_h2 * 1,
        "w11": 0.25 + LR * delta_h1 * 1,
        "w12": 0.15 + LR * delta_h2 * 1,
        "w21": 0.2 + LR * delta_h1 * 0,
        "w22": 0.1 + LR * delta_h2 * 0,
    }


@pytest.mark.parametrize("name", TUTORIAL_FIGURES)
def test_worked_example_matches_the_tutorial(name):
    """Each printed figure, within the drift the tutorial's own rounding explains."""
    printed, rounding = TUTORIAL_FIGURES[name]
    assert abs(_ours()[name] - printed) <= rounding


def test_worked_example_matches_the_formulas_exactly():
    ours, by_hand = _ours(), _by_hand()
    assert ours.keys() == by_hand.keys()
    for name, value in by_hand.items():
        assert ours[name] == pytest.approx(value, abs=1e-14), name


def test_sgd_step_uses_the_original_output_weights_for_the_hidden_deltas():
    new_w1, new_w2 = sgd_step([W1, W2], X, Y, LR)
    h1, o = _by_hand()["h1"], _by_hand()["o"]
    delta_out = o * (1 - o) * (1 - o)
    with_original = h1 * (1 - h1) * W2[1, 0] * delta_out
    with_updated = h1 * (1 - h1) * new_w2[1, 0] * delta_out
    assert new_w1[0, 0] == pytest.approx(1.0 + LR * with_original, abs=1e-14)
    assert abs(new_w1[0, 0] - (1.0 + LR * with_updated)) > 1e-6


# ---------------------------------------------------------------- the oracle


def _activations(weights, x, layer=None, bump=0.0):
    """Plain forward pass; adds ``bump`` to the net input z of ``layer`` if given."""
    outputs = [x]
    for index, w in enumerate(weights):
        z = w[0] + outputs[-1] @ w[1:]
        if index == layer:
            z = z + bump
        outputs.append(1.0 / (1.0 + np.exp(-z)))
    return outputs


def _loss(weights, x, y, layer=None, bump=0.0):
    return 0.5 * np.sum((y - _activations(weights, x, layer, bump)[-1]) ** 2)


def _dloss_dz(weights, x, y, layer):
    """dJ/dz for every unit of ``layer``, by central differences."""
    n_units = weights[layer].shape[1]
    grad = np.empty(n_units)
    for unit in range(n_units):
        bump = np.zeros(n_units)
        bump[unit] = EPS
        up, down = _loss(weights, x, y, layer, bump), _loss(weights, x, y, layer, -bump)
        grad[unit] = (up - down) / (2 * EPS)
    return grad


def _dloss_dw(weights, x, y, layer):
    """dJ/dW for every entry of ``weights[layer]``, by central differences."""
    grad = np.empty_like(weights[layer])
    for index in np.ndindex(grad.shape):
        nudged = [w.copy() for w in weights]
        nudged[layer][index] += EPS
        up = _loss(nudged, x, y)
        nudged[layer][index] -= 2 * EPS
        down = _loss(nudged, x, y)
        grad[index] = (up - down) / (2 * EPS)
    return grad


@st.composite
def networks(draw):
    """(weights, x, y, lr): one example for a shared random sigmoid network, and a rate."""
    _, weights, X, Y = draw(sigmoid_networks())
    return weights, X[0], Y[0], draw(st.floats(0.01, 2.0))


def _close(ours, oracle):
    np.testing.assert_allclose(ours, oracle, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- properties


@given(networks())
def test_forward_matches_a_plain_forward_pass(network):
    weights, x, _, _ = network
    ours = forward(weights, x)
    assert len(ours) == len(weights) + 1
    for mine, oracle in zip(ours, _activations(weights, x), strict=True):
        assert mine.dtype == np.float64 and mine.ndim == 1
        np.testing.assert_allclose(mine, oracle, rtol=1e-12, atol=1e-15)


@given(networks())
def test_deltas_are_minus_dloss_by_dnet_input(network):
    weights, x, y, _ = network
    ours = deltas(weights, forward(weights, x), y)
    assert len(ours) == len(weights)
    for layer, delta in enumerate(ours):
        _close(delta, -_dloss_dz(weights, x, y, layer))


@given(networks())
def test_weight_updates_over_lr_are_minus_dloss_by_dweights(network):
    weights, x, y, lr = network
    activations = forward(weights, x)
    updates = weight_updates(activations, deltas(weights, activations, y), lr)
    assert len(updates) == len(weights)
    for layer, update in enumerate(updates):
        assert update.shape == weights[layer].shape
        _close(update / lr, -_dloss_dw(weights, x, y, layer))


@given(networks())
def test_sgd_step_descends_the_gradient_at_the_original_weights(network):
    weights, x, y, lr = network
    new = sgd_step(weights, x, y, lr)
    for layer, (before, after) in enumerate(zip(weights, new, strict=True)):
        _close(after - before, -lr * _dloss_dw(weights, x, y, layer))


@given(networks())
def test_sgd_step_does_not_mutate_its_inputs(network):
    weights, x, y, lr = network
    copies = [w.copy() for w in weights], x.copy(), y.copy()
    new = sgd_step(weights, x, y, lr)
    for before, after in zip(copies[0], weights, strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(copies[1], x)
    np.testing.assert_array_equal(copies[2], y)
    assert all(a is not b for a, b in zip(new, weights, strict=True))


@given(networks(), st.floats(0.0, 1.0))
def test_weight_decay_adds_minus_lr_lambda_w_the_gradient_of_the_l2_penalty(network, decay):
    # The oracle: central differences of J + lambda/2 sum w^2 (every weight, biases too).
    weights, x, y, lr = network
    new = sgd_step(weights, x, y, lr, weight_decay=decay)
    for layer, (before, after) in enumerate(zip(weights, new, strict=True)):
        penalty_grad = decay * before  # d/dw of lambda/2 w^2, by hand
        _close(after - before, -lr * (_dloss_dw(weights, x, y, layer) + penalty_grad))


def test_weight_decay_zero_is_the_plain_rule_and_needs_the_weights_otherwise():
    weights = [np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]), np.array([[1.0], [0.3], [0.4]])]
    x, y = np.array([1.0, 0.0]), np.array([1.0])
    plain = sgd_step(weights, x, y, 0.5)
    for ours, theirs in zip(sgd_step(weights, x, y, 0.5, weight_decay=0.0), plain, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    activations = forward(weights, x)
    with pytest.raises(ValueError, match="weights="):
        weight_updates(activations, deltas(weights, activations, y), 0.5, weight_decay=0.1)
    with pytest.raises(ValueError, match="do not match"):
        weight_updates(activations, deltas(weights, activations, y), 0.5, 0.1, weights[:1])
    # The worked example's new output bias with lambda = 0.1, by hand:
    # 1.0 + 0.5 (0.025777 * 1 - 0.1 * 1.0) = 0.962888...
    decayed = sgd_step(weights, x, y, 0.5, weight_decay=0.1)
    assert decayed[1][0, 0] == pytest.approx(1.0 + 0.5 * (0.0257767 - 0.1), abs=1e-6)


def test_fit_with_sgd_weight_decay_is_the_delta_rule_with_its_decay_term():
    X, y = data.xor()
    net = MLP(2, [2, 1], rng=3)
    weights = get_weights(net)
    train.fit(net, X, y, optimizer=SGD(net.parameters(), lr=0.5, weight_decay=0.01), epochs=2)
    for _ in range(2):
        for x_row, target in zip(X, y):
            weights = sgd_step(weights, x_row, np.array([target]), 0.5, weight_decay=0.01)
    for ours, theirs in zip(get_weights(net), weights, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- helpers and numerics


def test_half_sse_is_half_the_sum_of_squared_errors():
    assert half_sse(np.array([0.0, 1.0, 3.0]), np.array([1.0, 1.0, 1.0])) == 2.5


def test_sigmoid_is_finite_and_warning_free_for_huge_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(np.array([-1e308, -1000.0, -30.0, 0.0, 30.0, 1000.0, 1e308]))
    assert out.tolist()[:2] == [0.0, 0.0] and out.tolist()[-2:] == [1.0, 1.0]
    assert out[3] == 0.5
    assert out[2] == pytest.approx(1 / (1 + math.exp(30)), rel=1e-15)
    assert out[4] == pytest.approx(1 / (1 + math.exp(-30)), rel=1e-15)


def test_forward_with_huge_weights_stays_finite_and_warning_free():
    weights = [np.array([[0.0], [1e6]]), np.array([[-1e6], [1.0]])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, h, o = forward(weights, np.array([-5.0]))
    assert h.tolist() == [0.0] and o.tolist() == [0.0]


# ---------------------------------------------------------------- shape errors


def test_forward_names_both_shapes_when_x_does_not_fit():
    with pytest.raises(ValueError, match=r"weights\[0\] of shape \(3, 2\).*x of shape \(5,\)"):
        forward([np.zeros((3, 2))], np.zeros(5))


def test_forward_names_both_layers_when_they_do_not_chain():
    with pytest.raises(ValueError, match=r"weights\[1\] of shape \(4, 1\).*\(3, 2\)"):
        forward([np.zeros((3, 2)), np.zeros((4, 1))], np.zeros(2))


def test_forward_rejects_a_batch():
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        forward([W1, W2], np.zeros((4, 2)))


def test_deltas_names_both_shapes_when_y_does_not_fit():
    with pytest.raises(ValueError, match=r"y of shape \(2,\).*\(1,\)"):
        deltas([W1, W2], forward([W1, W2], X), np.zeros(2))


def test_deltas_rejects_activations_of_another_network():
    activations = [X, np.zeros(3), np.zeros(1)]
    with pytest.raises(ValueError, match=r"activations\[1\] of shape \(3,\).*\(3, 2\)"):
        deltas([W1, W2], activations, Y)
    with pytest.raises(ValueError, match="expected 3 activations"):
        deltas([W1, W2], activations[:2], Y)


def test_weight_updates_needs_one_more_activation_than_deltas():
    with pytest.raises(ValueError, match="3 activations and 1 delta"):
        weight_updates(forward([W1, W2], X), [np.zeros(1)], LR)


def test_sgd_step_rejects_a_target_of_the_wrong_shape_and_changes_nothing():
    weights = [W1.copy(), W2.copy()]
    with pytest.raises(ValueError, match=r"\(3,\)"):
        sgd_step(weights, X, np.zeros(3), LR)
    np.testing.assert_array_equal(weights[0], W1)
    np.testing.assert_array_equal(weights[1], W2)


def test_the_oracle_checks_its_own_inputs_and_the_library_shares_one_check():
    # delta keeps its own check (it imports only numpy); the library's modules share
    # validate.real_array instead of borrowing the oracle's.
    assert real_array([1, 2]).dtype == np.float64
    with pytest.raises(TypeError, match="expected real numbers, got list of dtype <U1"):
        real_array(["a"])
    assert not hasattr(perceptron, "real_array") and not hasattr(train, "real_array")
    with pytest.raises(TypeError, match="fit: X must hold real numbers"):
        train.fit(MLP(2, [1], rng=0), [["a", "b"]], [1.0])
    with pytest.raises(TypeError, match="X must hold real numbers"):
        perceptron.Perceptron(2).fit([["a", "b"]], [1.0])
