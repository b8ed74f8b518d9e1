"""The training loop: online and batch, both engines, stopping, progress and log."""

import io
import re
import sys

import numpy as np
import pytest

from tinygrad_bp import data, delta, no_grad
from tinygrad_bp.losses import binary_cross_entropy, cross_entropy, half_sse, mse
from tinygrad_bp.nn import MLP, Linear, Sequential, Sigmoid, get_weights, set_weights, tensor_mlp
from tinygrad_bp.optim import SGD
from tinygrad_bp.train import (
    OPTIMIZERS,
    History,
    TrainingRun,
    fit,
    loss_name,
    train_on_dataset,
    write,
)

# Three classes, one per corner of a triangle, with integer class targets.
CORNERS = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
CLASS_X = np.vstack([CORNERS + offset for offset in ([0.3, 0.3], [-0.3, 0.2], [0.2, -0.3])])
CLASS_Y = np.tile([0, 1, 2], 3)


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


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal, to get the live bar."""

    def isatty(self):
        return True


def screen(text):
    """The rows a terminal shows after printing ``text``: a carriage return moves the
    cursor back to the start of the row, later characters overwrite earlier ones,
    and ANSI escapes (tqdm's cursor moves, none for a single bar) are ignored."""
    rows, row, column = [[]], 0, 0
    for char in re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text):
        if char == "\r":
            column = 0
        elif char == "\n":
            rows.append([])
            row, column = row + 1, 0
        else:
            line = rows[row]
            line.extend(" " * (column + 1 - len(line)))
            line[column] = char
            column += 1
    return ["".join(line).rstrip() for line in rows]


def train_xor_on(monkeypatch, stream, **options):
    """fit on XOR with stdout and stderr both going to ``stream``, as on a terminal."""
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(sys, "stderr", stream)
    X, y = data.xor()
    return fit(MLP(2, [2, 1], rng=1), X, y, lr=2.0, **options)


def test_progress_is_silent_off_a_terminal_unless_asked_then_one_clean_final_line(monkeypatch):
    quiet = io.StringIO()
    history = train_xor_on(monkeypatch, quiet, epochs=30)
    assert quiet.getvalue() == "" and history.epochs == 30
    asked = io.StringIO()
    train_xor_on(monkeypatch, asked, epochs=30, progress=True)
    assert "\r" not in asked.getvalue()
    [line] = asked.getvalue().splitlines()
    assert line.startswith("epoch 30/30  J ")


class CountingStream(io.StringIO):
    """A notebook cell's output stream (not a terminal) that counts its writes."""

    writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)


def test_in_a_notebook_without_widgets_progress_is_one_output_not_one_per_epoch(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", type(sys)("ipykernel.zmqshell"))
    cell = CountingStream()
    history = train_xor_on(monkeypatch, cell, epochs=300, progress=True)
    assert cell.writes == 1 and history.epochs == 300
    assert cell.getvalue().startswith("epoch 300/300  J ")


def test_progress_bar_on_a_terminal_finishes_at_100_percent(monkeypatch):
    terminal = FakeTerminal()
    history = train_xor_on(monkeypatch, terminal, epochs=40, progress=True)
    rows = [row for row in screen(terminal.getvalue()) if row]
    assert rows[-1].startswith("100%|") and "epoch 40/40" in rows[-1]
    assert f"J {history.losses[-1]:.4g}" in rows[-1]


def test_progress_bar_says_why_it_stopped_at_convergence(monkeypatch):
    terminal = FakeTerminal()
    history = train_xor_on(monkeypatch, terminal, epochs=5000, epsilon=0.01, progress=True)
    assert history.converged and history.epochs < 5000
    bar, reason = [row for row in screen(terminal.getvalue()) if row][-2:]
    assert f"epoch {history.epochs}/5000" in bar
    assert reason == f"  converged at epoch {history.epochs}: J < 0.01"


def test_at_80_columns_the_bar_keeps_its_width_whatever_the_reason(monkeypatch):
    terminal = FakeTerminal()
    history = train_xor_on(monkeypatch, terminal, epochs=5000, epsilon=0.01, progress=True)
    bar = [row for row in screen(terminal.getvalue()) if "%|" in row][-1]
    start, _, text = bar.rpartition("|")  # tqdm gives the bar what the rest leaves of a row
    assert history.converged and "converged" not in text
    assert len(bar) - len(start.split("|")[1]) <= 80 - 20  # a bar of 20+ columns fits in 80


def test_progress_bar_says_why_it_stopped_on_an_interrupt(monkeypatch):
    def interrupt(epoch, loss):
        if epoch == 3:
            raise KeyboardInterrupt

    terminal = FakeTerminal()
    with pytest.raises(KeyboardInterrupt):
        train_xor_on(monkeypatch, terminal, epochs=10, progress=True, on_epoch=interrupt)
    bar, reason = [row for row in screen(terminal.getvalue()) if row][-2:]
    assert "epoch 3/10" in bar and reason == "  stopped by KeyboardInterrupt after 3 epochs"


def test_log_lines_never_share_a_row_with_the_bar(monkeypatch):
    terminal = FakeTerminal()
    history = train_xor_on(
        monkeypatch, terminal, epochs=5000, epsilon=0.01, progress=True, log_every=100
    )
    rows = [row for row in screen(terminal.getvalue()) if row]
    logs = [row for row in rows if "J = " in row]
    bars = [row for row in rows if "%|" in row]
    assert not [row for row in logs if "%|" in row or "epoch " in row.split("J = ")[1]]
    expected = [1, *range(100, history.epochs, 100), history.epochs]
    assert [int(row.split()[1]) for row in logs] == expected
    assert [row.split("J = ")[1] for row in logs[-1:]] == [f"{history.losses[-1]:.4g}"]
    assert bars == [rows[-2]]  # one bar, left below the log when training ends, then why


def test_log_every_prints_the_loss_by_its_name_without_a_bar(capsys):
    X, y = data.xor()
    fit(MLP(2, [2, 1], rng=1), X, y, epochs=5, log_every=2, progress=False)
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == [
        "1",
        "2",
        "4",
        "5",
    ]
    net = tensor_mlp([2, 2, 1], output_activation="sigmoid", rng=0)
    fit(net, X, y, loss=binary_cross_entropy, epochs=1, log_every=1, progress=False)
    assert "binary_cross_entropy = " in capsys.readouterr().out
    with pytest.raises(ValueError, match="log_every"):
        fit(net, X, y, epochs=1, log_every=0)


def test_write_goes_through_the_bar_from_an_on_epoch_callback(monkeypatch):
    terminal = FakeTerminal()

    def note(epoch, loss):
        write(f"note {epoch}")

    train_xor_on(monkeypatch, terminal, epochs=20, progress=True, on_epoch=note)
    rows = [row for row in screen(terminal.getvalue()) if row]
    assert [row for row in rows if row.startswith("note")] == [f"note {e}" for e in range(1, 21)]
    assert rows[-1].startswith("100%|")


def test_history_repr_is_one_short_line_naming_the_loss():
    X, y = data.xor()
    history = fit(MLP(2, [2, 1], rng=1), X, y, lr=2.0, epochs=5000, epsilon=0.01)
    text = repr(history)
    assert text == (
        f"History(epochs={history.epochs}, converged=True, "
        f"J: {history.losses[0]:.4g} -> {history.losses[-1]:.4g})"
    )
    assert len(text) < 80 and history.epochs > 100
    assert repr(History()) == "History(epochs=0)"
    assert repr(History(epsilon=0.01)) == "History(epochs=0, converged=False)"
    plain = repr(fit(MLP(2, [2, 1], rng=1), X, y, lr=2.0, epochs=3))
    assert plain.startswith("History(epochs=3, J: ") and "converged" not in plain
    assert loss_name(mse) == "mse" and loss_name(half_sse) == "J"


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(4,\)"):
        fit(MLP(2, [1], rng=0), np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="epochs"):
        fit(MLP(2, [1], rng=0), np.zeros((4, 2)), np.zeros(4), epochs=0)


# -- cross-entropy with integer class targets -------------------------------------------


def test_fit_passes_integer_class_targets_to_cross_entropy_unchanged():
    net = tensor_mlp([2, 3], output_activation="linear", rng=0)
    with no_grad():
        first = cross_entropy(net(CLASS_X), CLASS_Y).item()
    history = fit(net, CLASS_X, CLASS_Y, loss=cross_entropy, lr=0.5, epochs=200, batch_size=None)
    assert history.losses[0] == pytest.approx(first, rel=1e-15)  # the loss of the whole batch
    assert history.losses[-1] < 0.1 * history.losses[0]
    with no_grad():
        assert net(CLASS_X).data.argmax(axis=1).tolist() == CLASS_Y.tolist()


def test_scalar_and_tensor_cross_entropy_training_follow_the_same_path():
    scalar = MLP(2, [3], output_activation="linear", rng=0)
    tensor = tensor_mlp([2, 3], output_activation="linear")
    set_weights(tensor, get_weights(scalar))
    a = fit(scalar, CLASS_X, CLASS_Y, loss=cross_entropy, lr=0.1, epochs=5, batch_size=1)
    b = fit(tensor, CLASS_X, CLASS_Y, loss=cross_entropy, lr=0.1, epochs=5, batch_size=1)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-12)
    for ours, theirs in zip(get_weights(scalar), get_weights(tensor)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_targets_that_fit_neither_way_are_named_before_anything_changes():
    net = tensor_mlp([2, 3], output_activation="linear", rng=0)
    before = get_weights(net)
    with pytest.raises(ValueError, match=r"3 outputs per example.*\(9, 2\) has 2 per example"):
        fit(net, CLASS_X, np.zeros((9, 2)), loss=cross_entropy, epochs=1)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 3\)"):
        fit(net, CLASS_X, CLASS_Y + 3, loss=cross_entropy, epochs=1)
    for ours, theirs in zip(get_weights(net), before):
        np.testing.assert_array_equal(ours, theirs)
    assert all(p.grad is None for p in net.parameters())


# -- train_on_dataset ------------------------------------------------------------------


def test_train_on_dataset_is_fit_on_a_tensor_mlp_of_the_named_data():
    run = train_on_dataset("moons", [4], "tanh", "sgd", 0.3, epochs=20, n=30, seed=5)
    X, y = data.moons(30, rng=5)
    np.testing.assert_array_equal(run.X, X)
    np.testing.assert_array_equal(run.y, y)
    net = tensor_mlp([2, 4, 1], "tanh", "sigmoid", rng=5)
    history = fit(
        net,
        X,
        y,
        loss=binary_cross_entropy,
        optimizer=SGD(net.parameters(), 0.3),
        epochs=20,
        batch_size=None,
    )
    assert run.history.losses == history.losses and run.classification
    for ours, theirs in zip(get_weights(run.model), get_weights(net)):
        np.testing.assert_array_equal(ours, theirs)
    with no_grad():
        expected = net(X).data[:, 0]
    np.testing.assert_array_equal(run.predict(X), expected)
    assert run.accuracy == np.mean((expected > 0.5) == (y > 0.5))


def test_train_on_dataset_regresses_the_sine_with_mse_and_takes_a_loss():
    run = train_on_dataset("sine", [8], "sigmoid", "adam", 0.05, epochs=300)
    assert not run.classification
    assert run.history.losses[-1] < 0.01
    assert np.mean((run.predict(run.X) - run.y) ** 2) < 0.01
    stopped = train_on_dataset("xor", [2], "sigmoid", "sgd", 5.0, 3000, loss=half_sse, epsilon=0.01)
    assert isinstance(stopped, TrainingRun) and stopped.history.converged
    assert stopped.history.losses[-1] < 0.01 and stopped.history.epochs < 3000


def test_train_on_dataset_names_a_bad_optimizer_or_data_set():
    assert sorted(OPTIMIZERS) == ["adam", "sgd"]
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; choose one of sgd, adam"):
        train_on_dataset("xor", optimizer="rmsprop")
    with pytest.raises(ValueError, match="unknown data set 'iris'"):
        train_on_dataset("iris")
