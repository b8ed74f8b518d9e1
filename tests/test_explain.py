"""Explain mode: the derivation's table by autograd, by the delta rules and by finite differences.

The two columns of the table are checked against each other on random networks,
and the weight updates against a third, independent oracle: central differences
of J in float64, Delta w_ij = -lr dJ/dw_ij.
"""

import numpy as np
import pytest
from hypothesis import given
from strategies import sigmoid_networks
from tutorial_figures import EXPLAIN_ROWS, TUTORIAL_FIGURES

from tinygrad_bp import delta
from tinygrad_bp.explain import (
    HAND_BUILT_XOR,
    WORKED_INPUT,
    WORKED_LR,
    WORKED_TARGET,
    WORKED_WEIGHTS,
    Row,
    autograd_pass,
    explain,
    worked_example,
)

LR = 0.5
EPS = 1e-6


def numeric_dJ_dw(weights, x, y):
    """dJ/dw_ij for every weight by central differences, J from delta.forward."""

    def loss(ws):
        return delta.half_sse(delta.forward(ws, x)[-1], y)

    grads = []
    for layer, w in enumerate(weights):
        grad = np.zeros_like(w)
        for index in np.ndindex(*w.shape):
            shifted = [np.array(m, dtype=np.float64) for m in weights]
            shifted[layer][index] = w[index] + EPS
            up = loss(shifted)
            shifted[layer][index] = w[index] - EPS
            grad[index] = (up - loss(shifted)) / (2 * EPS)
        grads.append(grad)
    return grads


@given(sigmoid_networks(max_layers=3, max_width=4))
def test_table_agrees_with_the_delta_rules_on_random_networks(network):
    sizes, weights, X, Y = network
    table = explain(weights, X[0], Y[0], LR)
    assert table.ok, table.format()
    n_units = sum(sizes[1:])
    n_weights = sum(w.size for w in weights)
    assert len(table.rows) == n_units + 1 + n_units + 2 * n_weights
    assert table["J"].closed_form == pytest.approx(
        delta.half_sse(delta.forward(weights, X[0])[-1], Y[0]), abs=1e-15
    )


@given(sigmoid_networks(max_layers=3, max_width=4))
def test_weight_updates_match_central_differences_of_J(network):
    sizes, weights, X, Y = network
    table = explain(weights, X[0], Y[0], LR)
    numeric = numeric_dJ_dw(weights, X[0], Y[0])
    for layer, grad in enumerate(numeric, start=1):
        for i, j in np.ndindex(*grad.shape):
            row = table[f"Delta w[{layer}][{i},{j + 1}]"]
            # Central differences with eps 1e-6 on O(1) functions: error ~1e-10.
            assert row.autograd == pytest.approx(-LR * grad[i, j], abs=1e-8)
            new = table[f"new w[{layer}][{i},{j + 1}]"]
            assert new.autograd == weights[layer - 1][i, j] + row.autograd


def test_deltas_are_minus_dJ_dz_by_finite_differences():
    # Shift one hidden unit's net input by adding to its bias: dz/db = 1, so
    # dJ/dz_j = dJ/dw_0j, and delta_j = -dJ/dz_j.
    numeric = numeric_dJ_dw(list(WORKED_WEIGHTS), WORKED_INPUT, WORKED_TARGET)
    table = worked_example()
    for layer, grad in enumerate(numeric, start=1):
        for j in range(grad.shape[1]):
            assert table[f"delta[{layer}][{j + 1}]"].autograd == pytest.approx(
                -grad[0, j], abs=1e-9
            )


def test_the_worked_example_hits_the_tutorials_numbers():
    table = worked_example()
    assert table.ok
    # The tutorial's figures, within the rounding it carried forward.
    for name, (figure, rounding) in TUTORIAL_FIGURES.items():
        assert abs(table[EXPLAIN_ROWS[name]].autograd - figure) <= rounding, name
    assert len(table.rows) == 3 + 1 + 3 + 9 + 9  # o, J, deltas, Delta w, new w


def test_the_worked_example_by_hand():
    # The forward pass written out, independent of both engines.
    h1 = 1 / (1 + np.exp(-(1.0 + 0.25)))
    h2 = 1 / (1 + np.exp(-(1.0 + 0.15)))
    o = 1 / (1 + np.exp(-(1.0 + 0.3 * h1 + 0.4 * h2)))
    delta_out = o * (1 - o) * (1 - o)
    table = worked_example()
    assert table["o[1][1]"].autograd == pytest.approx(h1, abs=1e-15)
    assert table["o[2][1]"].autograd == pytest.approx(o, abs=1e-15)
    assert table["delta[2][1]"].autograd == pytest.approx(delta_out, abs=1e-15)
    assert table["Delta w[2][1,1]"].autograd == pytest.approx(WORKED_LR * delta_out * h1, abs=1e-15)


def test_the_printed_table_has_every_row_and_a_verdict():
    text = str(worked_example())
    lines = text.splitlines()
    assert lines[0].split() == ["quantity", "autograd", "delta", "rules", "agree"]
    row_lines = [line for line in lines[1:] if not line.startswith("--")]
    assert len(row_lines) == 25 and all(line.endswith("yes") for line in row_lines)
    assert "-0.00000000" not in text  # the zero updates print as 0, not -0


def test_a_disagreeing_row_is_reported():
    row = Row("J", 0.5, 0.5 + 1e-6)
    assert not row.agree
    assert Row("J", 0.5, 0.5 + 1e-14).agree


def test_autograd_pass_labels_nodes_in_the_derivations_notation():
    run = autograd_pass(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET)
    assert [o.label for o in run.layers[0]] == ["o[1][1]", "o[1][2]"]
    assert run.layers[1][0].children[0].label == "z[2][1]"
    assert run.net.layers[0].neurons[1].b.label == "w[1][0,2]"
    # dJ/db of the output unit is -delta_output (dz/db = 1), by the closed form.
    closed_delta = worked_example()["delta[2][1]"].closed_form
    assert run.net.layers[1].neurons[0].b.grad == pytest.approx(-closed_delta, abs=1e-15)


@pytest.mark.parametrize(
    "weights, x, y, message",
    [
        ([], WORKED_INPUT, WORKED_TARGET, "at least one layer"),
        (WORKED_WEIGHTS, np.array([1.0, 0.0, 1.0]), WORKED_TARGET, "does not fit"),
        (WORKED_WEIGHTS, WORKED_INPUT, np.array([1.0, 0.0]), "does not match"),
        (WORKED_WEIGHTS, np.array([np.nan, 0.0]), WORKED_TARGET, "finite"),
        ([[[1, 1], [2]]], [1.0], [1.0], r"weights\[0\] must be a matrix \(list of rows\)"),
        ([WORKED_WEIGHTS[0], [1, 2, 3]], [1, 0], [1], r"weights\[1\] must be a matrix"),
        ("weights", [1, 0], [1], "one matrix per layer"),
        (WORKED_WEIGHTS, ["a", "b"], [1], "x must be a non-empty list of numbers"),
        (WORKED_WEIGHTS, [1, 0], [], "y must be a non-empty list of numbers"),
        (WORKED_WEIGHTS, [[1, 0]], [1], "x must be a non-empty list of numbers"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(weights, x, y, message):
    with pytest.raises(ValueError, match=message):
        explain(weights, x, y, LR)


def test_lists_of_numbers_are_taken_as_arrays():
    lists = [w.tolist() for w in WORKED_WEIGHTS]
    table = explain(lists, [1, 0], [1], WORKED_LR)
    assert table.rows == worked_example().rows


def test_bad_learning_rate_is_refused():
    with pytest.raises(ValueError, match="lr"):
        explain(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET, float("nan"))


def test_the_hand_built_network_computes_xor():
    for x, target in [((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)]:
        o = delta.forward(HAND_BUILT_XOR, np.array(x, dtype=float))[-1][0]
        assert abs(o - target) < 1e-3


def _numpy_loss(weights, activation, x, y):
    """J = 1/2 (y - o)^2 of a network with ``activation`` hidden units, numpy only."""
    hidden = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}[activation]
    o = np.asarray(x, dtype=np.float64)
    for layer, w in enumerate(weights):
        z = w[0] + o @ w[1:]
        o = 1 / (1 + np.exp(-z)) if layer == len(weights) - 1 else hidden(z)
    return 0.5 * float(np.sum((y - o) ** 2))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tanh_and_relu_hidden_units_both_columns_match_central_differences(activation):
    rng = np.random.default_rng(7)
    weights = [rng.normal(size=(3, 3)), rng.normal(size=(4, 2)), rng.normal(size=(3, 1))]
    x, y, lr = np.array([0.4, -0.9]), np.array([1.0]), 0.3
    table = explain(weights, x, y, lr, activation)
    assert table.ok, table.format()
    assert "g'(z_h)" in table.format() and "o_h(1-o_h)" not in table.format()
    for layer, w in enumerate(weights):
        for i, j in np.ndindex(w.shape):
            up = [m.copy() for m in weights]
            down = [m.copy() for m in weights]
            up[layer][i, j] += EPS
            down[layer][i, j] -= EPS
            slope = (_numpy_loss(up, activation, x, y) - _numpy_loss(down, activation, x, y)) / (
                2 * EPS
            )
            row = table[f"Delta w[{layer + 1}][{i},{j + 1}]"]
            assert row.closed_form == pytest.approx(-lr * slope, abs=1e-8)
            assert row.autograd == pytest.approx(-lr * slope, abs=1e-8)
