"""Tests for tinygrad_bp.perceptron: the learning rule, convergence, and input checks."""

import itertools

import numpy as np
import pytest

from tinygrad_bp.perceptron import FitResult, Perceptron, perceptron_on_gates

TWO_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATES = {
    "AND": (TWO_INPUTS, np.array([0.0, 0.0, 0.0, 1.0])),
    "OR": (TWO_INPUTS, np.array([0.0, 1.0, 1.0, 1.0])),
    "NOT": (np.array([[0.0], [1.0]]), np.array([1.0, 0.0])),
}
XOR = (TWO_INPUTS, np.array([0.0, 1.0, 1.0, 0.0]))


@pytest.mark.parametrize("gate", sorted(GATES))
def test_separable_gates_converge_and_are_then_classified_correctly(gate):
    X, y = GATES[gate]
    perceptron = Perceptron(X.shape[1])
    result = perceptron.fit(X, y, max_epochs=100)
    assert result.converged
    assert 1 <= result.epochs <= 100
    assert len(result.errors) == result.epochs
    assert result.errors[-1] == 0 and all(count > 0 for count in result.errors[:-1])
    np.testing.assert_array_equal(perceptron.predict(X), y)
    assert [perceptron.predict(x) for x in X] == y.tolist()


def test_xor_does_not_converge():
    result = Perceptron(2).fit(*XOR, max_epochs=100)
    assert result.converged is False and result.epochs == 100
    assert len(result.errors) == 100
    assert all(count > 0 for count in result.errors)


@pytest.mark.parametrize("max_epochs", [1, 7, 100])
def test_perceptron_on_gates_trains_a_fresh_unit_on_each_gate(max_epochs):
    results = perceptron_on_gates(max_epochs)
    assert list(results) == ["AND", "OR", "NOT", "XOR"]
    for name, (X, y) in {**GATES, "XOR": XOR}.items():
        assert results[name] == Perceptron(X.shape[1]).fit(X, y, max_epochs=max_epochs), name
    assert results["XOR"].converged is False and results["XOR"].epochs == max_epochs


@pytest.mark.parametrize("labels", list(itertools.product((0.0, 1.0), repeat=4)))
def test_every_two_input_boolean_function_but_xor_and_xnor_is_learnt(labels):
    result = Perceptron(2).fit(TWO_INPUTS, np.array(labels), max_epochs=100)
    separable = labels not in [(0.0, 1.0, 1.0, 0.0), (1.0, 0.0, 0.0, 1.0)]
    assert result.converged == separable
    assert len(result.errors) == result.epochs


def test_starts_from_zero_weights_and_predicts_zero():
    perceptron = Perceptron(3)
    np.testing.assert_array_equal(perceptron.w, np.zeros(4))
    assert perceptron.predict(np.array([1.0, -2.0, 3.0])) == 0.0  # w^T x = 0 is not > 0


def test_one_mistake_applies_the_learning_rule_once():
    perceptron = Perceptron(2, lr=0.5)
    result = perceptron.fit(np.array([[1.0, 2.0]]), np.array([1.0]), max_epochs=1)
    # w <- w + lr (y - f(x)) x  with x = (1, 1, 2), y = 1, f(x) = 0
    np.testing.assert_array_equal(perceptron.w, [0.5, 0.5, 1.0])
    assert result == FitResult(converged=False, epochs=1, errors=[1])


def test_a_correct_prediction_leaves_the_weights_alone():
    perceptron = Perceptron(1)
    perceptron.w = np.array([-1.0, 3.0])
    result = perceptron.fit(np.array([[1.0], [0.0]]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(perceptron.w, [-1.0, 3.0])
    assert result == FitResult(converged=True, epochs=1, errors=[0])


def test_predict_takes_one_example_or_a_batch():
    perceptron = Perceptron(2)
    perceptron.w = np.array([-1.0, 1.0, 1.0])
    single = perceptron.predict(np.array([1.0, 1.0]))
    assert isinstance(single, float) and single == 1.0
    batch = perceptron.predict(TWO_INPUTS)
    assert batch.shape == (4,)
    assert batch.tolist() == [0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("x", [np.zeros(3), np.zeros((4, 3)), np.zeros((1, 2, 2))])
def test_predict_rejects_the_wrong_shape(x):
    with pytest.raises(ValueError, match=r"expected x of shape \(2,\) or \(n, 2\)"):
        Perceptron(2).predict(x)


def test_fit_rejects_inputs_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"\(n, 3\).*\(4, 2\)"):
        Perceptron(3).fit(TWO_INPUTS, XOR[1])


def test_fit_rejects_labels_that_do_not_match_the_examples():
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        Perceptron(2).fit(TWO_INPUTS, np.zeros(3))


@pytest.mark.parametrize("labels", [[0, 1, 2, 1], [-1, 1, 1, -1], [0, 0.5, 1, 1]])
def test_fit_rejects_labels_other_than_zero_and_one(labels):
    perceptron = Perceptron(2)
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        perceptron.fit(TWO_INPUTS, labels)
    np.testing.assert_array_equal(perceptron.w, np.zeros(3))


def test_fit_rejects_no_epochs_and_a_perceptron_needs_an_input():
    with pytest.raises(ValueError, match="max_epochs must be at least 1, got 0"):
        Perceptron(2).fit(*XOR, max_epochs=0)
    with pytest.raises(ValueError, match="n_inputs must be at least 1, got 0"):
        Perceptron(0)
