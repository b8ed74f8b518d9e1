"""fit's epoch loss, validation data, early stopping and its word on eager steps.

Every number is checked against one computed here by hand or in plain numpy from
the model's weights, never against fit's own bookkeeping.
"""

import io
import math
import sys

import numpy as np
import pytest

from tinygrad_bp import Value, data
from tinygrad_bp.losses import binary_cross_entropy, cross_entropy, half_sse, mse
from tinygrad_bp.nn import MLP, Linear, Sequential, Sigmoid, get_weights, set_weights
from tinygrad_bp.optim import SGD
from tinygrad_bp.train import History, fit

LN2 = math.log(2.0)


def zero_sigmoid_unit(scalar):
    """One sigmoid unit on 2 inputs with every weight 0: it outputs exactly 1/2."""
    if scalar:
        model = MLP(2, [1], rng=0)
    else:
        model = Sequential(Linear(2, 1, rng=0), Sigmoid())
    set_weights(model, [np.zeros((3, 1))])
    return model


def frozen(model):
    """SGD with a learning rate so small that no weight moves measurably (0 - 1e-300 g)."""
    return SGD(model.parameters(), lr=1e-300)


@pytest.mark.parametrize("scalar", [True, False], ids=["scalar", "tensor"])
@pytest.mark.parametrize("batch_size", [1, 7, 32, None])
def test_the_epoch_loss_is_the_loss_of_the_whole_set_whatever_the_batch_size(scalar, batch_size):
    # The output is 1/2 for every example: BCE = -ln(1/2) = ln 2 per example, so the
    # mean over the set is ln 2; the derivation's J is 1/2 (y - 1/2)^2 = 1/8 per
    # example, summed: n / 8. (Before, BCE at batch 32 summed the batch means.)
    X, y = data.load("moons", n=80, rng=0)
    model = zero_sigmoid_unit(scalar)
    common = dict(epochs=2, batch_size=batch_size, compile=False)
    bce = fit(model, X, y, loss=binary_cross_entropy, optimizer=frozen(model), **common)
    assert bce.losses == pytest.approx([LN2, LN2], rel=1e-12)
    j = fit(model, X, y, loss=half_sse, optimizer=frozen(model), **common)
    assert j.losses == pytest.approx([80 / 8, 80 / 8], rel=1e-12)
    mean_squared = fit(model, X, y, loss=mse, optimizer=frozen(model), **common)
    assert mean_squared.losses == pytest.approx([0.25, 0.25], rel=1e-12)


def test_the_epoch_loss_of_a_moving_model_is_the_mean_of_what_each_batch_saw():
    # Two batches of 2 with plain SGD: the epoch's loss is the mean of the four
    # examples' losses, each measured with the weights of its own batch.
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    model = zero_sigmoid_unit(scalar=False)
    history = fit(model, X, y, loss=binary_cross_entropy, lr=1.0, epochs=1, batch_size=2)
    w = np.zeros(3)  # bias, w1, w2
    losses = []
    for rows in (slice(0, 2), slice(2, 4)):
        x1 = np.column_stack([np.ones(2), X[rows]])
        p = 1 / (1 + np.exp(-(x1 @ w)))
        losses += list(-(y[rows] * np.log(p) + (1 - y[rows]) * np.log(1 - p)))
        w = w - 1.0 * x1.T @ (p - y[rows]) / 2  # d(mean BCE)/dw of this batch
    assert history.losses[0] == pytest.approx(np.mean(losses), rel=1e-12)
    np.testing.assert_allclose(get_weights(model)[0][:, 0], w, rtol=1e-12)


def numpy_bce(model, X, y):
    (w,) = get_weights(model)
    p = 1 / (1 + np.exp(-(w[0, 0] + X @ w[1:, 0])))
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))), p


@pytest.mark.parametrize("scalar", [True, False], ids=["scalar", "tensor"])
def test_validation_loss_and_accuracy_are_those_of_the_weights_after_each_epoch(scalar):
    X, y = data.load("moons", n=200, rng=1)
    X_val, y_val = data.load("moons", n=60, rng=2)
    model = zero_sigmoid_unit(scalar)
    expected = []

    def measure(epoch, loss):
        bce, p = numpy_bce(model, X_val, y_val)
        expected.append((bce, np.mean((p > 0.5) == (y_val > 0.5))))

    history = fit(
        model,
        X,
        y,
        loss=binary_cross_entropy,
        lr=0.5,
        epochs=4,
        batch_size=16,
        validation_data=(X_val, y_val),
        on_epoch=measure,
    )
    assert history.val_losses == pytest.approx([bce for bce, _ in expected], rel=1e-12)
    assert history.val_accuracies == [accuracy for _, accuracy in expected]
    assert history.val_accuracies[-1] > 0.7  # it learnt something, so the numbers are not 1/2
    assert history.best_epoch is None and not history.stopped_early
    assert "val binary_cross_entropy: " in repr(history)


def test_validation_accuracy_of_classes_and_none_for_a_regression():
    X = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    y = np.array([0, 1, 2])
    model = Sequential(Linear(2, 3, rng=0))
    history = fit(model, X, y, loss=cross_entropy, lr=0.5, epochs=3, validation_data=(X, y))
    (w,) = get_weights(model)
    logits = w[0] + X @ w[1:]
    assert history.val_accuracies[-1] == np.mean(logits.argmax(axis=1) == y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert history.val_losses[-1] == pytest.approx(-np.mean(log_p[np.arange(3), y]), rel=1e-12)
    regression = fit(
        Sequential(Linear(1, 1, rng=0)),
        [[0.0], [1.0]],
        [0.3, 0.7],
        loss=mse,
        epochs=2,
        validation_data=([[0.5]], [0.5]),
    )
    assert len(regression.val_losses) == 2 and regression.val_accuracies == []


def test_early_stopping_ends_with_the_best_epochs_weights_restored():
    # Validation labels are XOR's flipped: the better the net learns XOR, the worse
    # it does on them, so after a few epochs the validation loss keeps rising.
    X, y = data.xor()
    model = MLP(2, [3, 1], rng=4)
    weights_after = {}

    def remember(epoch, loss):
        weights_after[epoch] = get_weights(model)

    history = fit(
        model,
        X,
        y,
        lr=2.0,
        epochs=5000,
        validation_data=(X, 1 - y),
        patience=5,
        on_epoch=remember,
    )
    best = history.best_epoch
    assert history.stopped_early and history.epochs == best + 5 < 5000
    assert history.val_losses[best - 1] == min(history.val_losses)
    assert all(loss >= history.val_losses[best - 1] for loss in history.val_losses[best:])
    for ours, saved in zip(get_weights(model), weights_after[best]):
        np.testing.assert_array_equal(ours, saved)
    assert repr(history).endswith(f"stopped early, weights of epoch {best})")


def test_early_stopping_out_of_epochs_still_restores_the_best_weights():
    X, y = data.xor()
    model = Sequential(Linear(2, 1, rng=0), Sigmoid())
    saved = {}
    history = fit(
        model,
        X,
        y,
        lr=2.0,
        epochs=6,
        validation_data=(X, 1 - y),
        patience=100,
        on_epoch=lambda epoch, loss: saved.setdefault(epoch, get_weights(model)),
    )
    assert not history.stopped_early and history.epochs == 6
    best = int(np.argmin(history.val_losses)) + 1
    assert history.best_epoch == best
    for ours, theirs in zip(get_weights(model), saved[best]):
        np.testing.assert_array_equal(ours, theirs)


def test_bad_validation_arguments_are_refused_before_training():
    X, y = data.xor()
    model = MLP(2, [2, 1], rng=0)
    before = get_weights(model)
    with pytest.raises(ValueError, match="patience= stops on the validation loss"):
        fit(model, X, y, patience=3)
    with pytest.raises(ValueError, match="patience"):
        fit(model, X, y, validation_data=(X, y), patience=0)
    with pytest.raises(TypeError, match=r"validation_data must be a pair \(X_val, y_val\)"):
        fit(model, X, y, validation_data=X)
    with pytest.raises(ValueError, match=r"validation_data needs X .* \(4, 2\) and \(3,\)"):
        fit(model, X, y, validation_data=(X, y[:3]))
    with pytest.raises(ValueError, match="expects 2 inputs, given 3"):
        fit(model, X, y, validation_data=(np.zeros((4, 3)), y))
    for ours, theirs in zip(get_weights(model), before):
        np.testing.assert_array_equal(ours, theirs)


def cubed(v):
    """v ** 3 written micrograd's way (a closure): trace refuses it, so fit runs eagerly."""
    out = Value(v.data**3, (v,), "cube")

    def _backward():
        v.grad += 3 * v.data**2 * out.grad

    out._backward = _backward
    return out


def cubed_error(o, y):
    return cubed(o - y)


def test_eager_steps_say_so_and_why_in_the_history_and_the_progress_line():
    X, y = data.xor()
    model = MLP(2, [2, 1], rng=0)
    history = fit(model, X, y, loss=cubed_error, epochs=2, progress=False)
    assert history.eager.startswith("trace: ") and "_backward" in history.eager
    assert f"ran eagerly: {history.eager.splitlines()[0][:20]}" in repr(history)
    assert fit(model, X, y, loss=cubed_error, epochs=1, compile=False).eager == ""
    assert fit(MLP(2, [2, 1], rng=0), X, y, epochs=1).eager == ""  # traced: nothing to say


def test_the_progress_line_of_an_eager_fit_names_the_reason(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    X, y = data.xor()
    history = fit(MLP(2, [2, 1], rng=0), X, y, loss=cubed_error, epochs=2, progress=True)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("epoch 2/2  cubed_error ")
    assert lines[1] == f"  ran eagerly: {history.eager}"


def test_history_without_validation_is_as_before():
    assert History([1.0, 0.5]).val_losses == [] and History().best_epoch is None


def test_a_validation_loss_that_is_never_a_number_keeps_the_last_weights():
    X, y = data.xor()
    model = Sequential(Linear(2, 1, rng=0), Sigmoid())
    history = fit(model, X, y, epochs=5, validation_data=(X, np.full(4, np.nan)), patience=2)
    assert history.stopped_early and history.epochs == 2 and history.best_epoch is None
    assert all(np.isnan(history.val_losses))
