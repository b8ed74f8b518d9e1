"""The training loop: online and batch, both engines, stopping, progress."""

import io

import numpy as np
import pytest

from tinygrad_bp import data, delta
from tinygrad_bp.nn import MLP, Linear, Sequential, Sigmoid, get_weights, set_weights
from tinygrad_bp.train import ProgressBar, fit


def test_online_epoch_equals_the_closed_form_applied_example_by_example():
    X, y = data.xor()
    net = MLP(2, [2, 1], rng=3)
    weights = get_weights(net)
    fit(net, X, y, lr=0.5, epochs=1)
    for x_row, target in zip(X, y):
        weights = delta.sgd_step(weights, x_row, np.array([target]), 0.5)
    for ours, theirs in zip(get_weights(net), weights):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_xor_is_learnt_by_online_sgd_on_the_2_2_1_network():
    X, y = data.xor()
    net = MLP(2, [2, 1], rng=1)
    history = fit(net, X, y, lr=2.0, epochs=5000, epsilon=0.01)
    assert history.converged and history.losses[-1] < 0.01
    assert history.losses[-1] < history.losses[0]
    outputs = [net(x.tolist()).data for x in X]
    assert [o > 0.5 for o in outputs] == [t > 0.5 for t in y]


def test_full_batch_tensor_training_learns_xor():
    X, y = data.xor()
    net = Sequential(Linear(2, 4, rng=0), Sigmoid(), Linear(4, 1, rng=1), Sigmoid())
    history = fit(net, X, y, lr=2.0, epochs=5000, epsilon=0.01, batch_size=None)
    assert history.converged
    assert np.array_equal(net(X).data.ravel() > 0.5, y > 0.5)


def test_scalar_and_tensor_training_follow_the_same_path():
    X, y = data.xor()
    scalar = MLP(2, [2, 1], rng=0)
    tensor = Sequential(Linear(2, 2), Sigmoid(), Linear(2, 1), Sigmoid())
    set_weights(tensor, get_weights(scalar))
    a = fit(scalar, X, y, lr=0.5, epochs=20, batch_size=2)
    b = fit(tensor, X, y, lr=0.5, epochs=20, batch_size=2)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-12)


def test_history_stops_at_epsilon_and_reports_epochs():
    X, y = data.xor()
    history = fit(MLP(2, [2, 1], rng=1), X, y, lr=2.0, epochs=7)
    assert history.epochs == 7 and not history.converged


def test_on_epoch_callback_sees_every_epoch():
    seen = []
    X, y = data.xor()
    fit(MLP(2, [1], rng=0), X, y, epochs=3, on_epoch=lambda epoch, loss: seen.append(epoch))
    assert seen == [1, 2, 3]


def test_progress_bar_is_quiet_off_a_terminal_and_draws_on_request():
    quiet = io.StringIO()
    bar = ProgressBar(10, stream=quiet)
    bar.update(10, 0.5)
    bar.close()
    assert quiet.getvalue() == ""
    loud = io.StringIO()
    bar = ProgressBar(10, enabled=True, stream=loud)
    bar.update(10, 0.5)
    assert "epoch 10/10" in loud.getvalue() and "0.5" in loud.getvalue()


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(4,\)"):
        fit(MLP(2, [1], rng=0), np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="epochs"):
        fit(MLP(2, [1], rng=0), np.zeros((4, 2)), np.zeros(4), epochs=0)
