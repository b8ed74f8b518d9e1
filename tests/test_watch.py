"""tinygrad_bp.watch without a browser: the session, its frames, the server, the CLI.

Oracles: ``train.fit`` run in the test on a model built here (the same run), the
explain table (sigmoid), and central differences of J computed in numpy (tanh, relu).
"""

import http.client
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import default_sigint
from tinygrad_bp import data, explain
from tinygrad_bp.cli import main
from tinygrad_bp.landscape import dataset_loss
from tinygrad_bp.nn import ACTIVATIONS, MLP, get_weights
from tinygrad_bp.train import fit
from tinygrad_bp.watch import record, server, session
from tinygrad_bp.watch.session import Session, make_config

ROOT = Path(__file__).resolve().parents[1]


def reference_run(dataset, hidden, seed, lr, epochs, activation="sigmoid", online=True):
    """The same run in plain Python: the data, the MLP and fit, built here."""
    X, y = data.load(dataset, n=100, rng=seed)
    net = MLP(2, [*hidden, 1], activation, output_activation="sigmoid", rng=seed)
    history = fit(net, X, y, lr=lr, epochs=epochs, batch_size=1 if online else None)
    return net, X, y, history


# -- settings ----------------------------------------------------------------------------


def test_each_data_set_brings_its_own_network_and_learning_rate():
    for dataset in session.DATASETS:
        config = make_config(dataset=dataset)
        assert config.hidden == session.DEFAULT_HIDDEN[dataset]
        assert config.lr == session.DEFAULT_LR[dataset]
    assert make_config(hidden=[], lr=3).hidden == ()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"dataset": "sine"}, "dataset must be one of"),
        ({"hidden": [8] * 5}, "at most 4 hidden layers, got 5"),
        ({"hidden": [17]}, "at most 16 units per layer, got 17"),
        ({"hidden": [0]}, "got 0"),
        ({"hidden": "8"}, "list of layer widths"),
        ({"hidden": [True]}, "list of layer widths"),
        ({"activation": "step"}, "activation must be one of"),
        ({"lr": 0}, "lr must be a number in (0, 100]"),
        ({"lr": float("nan")}, "lr must be"),
        ({"lr": "1"}, "lr must be"),
        ({"seed": -1}, "seed must be"),
        ({"online": "yes"}, "online must be"),
        ({"colour": "red"}, "unknown setting(s) colour"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(fields, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        make_config(**fields)


# -- training: the same run as fit -------------------------------------------------------


@pytest.mark.parametrize("online", [True, False])
def test_epochs_give_the_losses_and_weights_of_fit(online):
    config = make_config(dataset="moons", hidden=[3], seed=5, lr=0.7, online=online)
    watched = Session(config)
    for _ in range(4):
        watched.step_epoch()
    net, _, _, history = reference_run("moons", [3], 5, 0.7, 4, online=online)
    assert watched.loss == history.losses[-1]
    assert [loss for _, loss in watched.curve] == history.losses
    for ours, theirs in zip(get_weights(watched.model), get_weights(net)):
        np.testing.assert_array_equal(ours, theirs)


def test_stepping_examples_then_finishing_the_epoch_is_one_online_epoch():
    watched = Session(make_config(dataset="circles", hidden=[4], seed=2))
    for _ in range(3):
        watched.step_example()
    assert (watched.epoch, watched.position) == (0, 3)
    watched.step_epoch()
    _, _, _, history = reference_run("circles", [4], 2, 0.5, 1)
    assert (watched.epoch, watched.position, watched.loss) == (1, 0, history.losses[0])


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_steps_print_nothing_on_the_servers_terminal(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    watched = Session(make_config(seed=1))
    watched.step_example()
    watched.step_epoch()
    watched.step_epoch()
    assert watched.epoch == 2 and terminal.getvalue() == ""


def test_after_a_step_the_numbers_shown_are_the_next_steps_update():
    watched = Session(make_config(dataset="moons", hidden=[3], seed=6))
    watched.step_example()
    for _ in range(3):
        numbers = watched.frame()["example"]
        assert numbers["index"] == watched.position  # the next example of the epoch
        before = get_weights(watched.model)
        watched.step_example()
        after = get_weights(watched.model)
        for layer, (old, new) in enumerate(zip(before, after)):
            np.testing.assert_allclose(new - old, numbers["dw"][layer], rtol=1e-9, atol=1e-12)


def test_one_example_at_a_time_needs_online_training():
    watched = Session(make_config(online=False))
    with pytest.raises(ValueError, match="online"):
        watched.step_example()


def test_reset_with_the_same_seed_gives_the_same_run():
    watched = Session(make_config(dataset="moons", seed=9))
    first = watched.frame()
    for _ in range(3):
        watched.step_epoch()
    losses = [loss for _, loss in watched.curve]
    watched.reset()
    again = watched.frame()
    assert again["epoch"] == 0 and again["loss"] is None
    assert again["weights"] == first["weights"] and again["points"] == first["points"]
    for _ in range(3):
        watched.step_epoch()
    assert [loss for _, loss in watched.curve] == losses


def test_settings_that_change_the_network_reset_and_the_others_do_not():
    watched = Session(make_config(dataset="xor", seed=1))
    watched.step_epoch()
    watched.configure(lr=0.25, online=False)
    assert watched.epoch == 1 and watched.config.lr == 0.25 and not watched.config.online
    watched.configure(activation="tanh")
    assert watched.epoch == 0 and watched.config.lr == 0.25
    watched.configure(dataset="spirals")  # a new data set brings its own network and lr
    assert watched.config.hidden == (16, 16) and watched.config.lr == 0.3
    with pytest.raises(ValueError, match="at most 16"):
        watched.configure(hidden=[99])
    assert watched.config.hidden == (16, 16)  # a refused setting changes nothing


def test_the_loss_curve_stays_bounded_and_keeps_true_points(monkeypatch):
    monkeypatch.setattr(session, "CURVE_POINTS", 8)
    watched = Session(make_config(dataset="xor", seed=1))
    for _ in range(100):
        watched.step_epoch()
    _, _, _, history = reference_run("xor", [2], 1, 2.0, 100)
    assert len(watched.curve) < 8
    epochs = [epoch for epoch, _ in watched.curve]
    assert epochs == sorted(set(epochs))
    assert all(loss == history.losses[epoch - 1] for epoch, loss in watched.curve)


# -- frames ------------------------------------------------------------------------------


def test_a_frame_is_json_and_shows_the_boundary_over_the_data():
    watched = Session(make_config(dataset="moons", seed=3))
    frame = json.loads(json.dumps(watched.frame()))
    assert len(frame["grid"]) == session.GRID**2
    assert all(0.0 <= o <= 1.0 for o in frame["grid"])
    x_lo, x_hi, y_lo, y_hi = frame["extent"]
    points = np.array(frame["points"])
    assert points.shape == (100, 3)
    assert x_lo < points[:, 0].min() and points[:, 0].max() < x_hi
    assert y_lo < points[:, 1].min() and points[:, 1].max() < y_hi
    before = frame["grid"]
    for _ in range(20):
        watched.step_epoch()
    assert watched.frame()["grid"] != before  # it learns, so the picture moves


def test_the_units_numbers_are_explains_table_for_the_selected_example():
    watched = Session(make_config(dataset="moons", hidden=[3, 2], seed=4))
    for _ in range(2):
        watched.step_epoch()
    watched.select(17)
    numbers = watched.frame()["example"]
    net, X, y, _ = reference_run("moons", [3, 2], 4, 0.5, 2)
    table = explain.explain(get_weights(net), X[17], y[17:18], 0.5)
    assert numbers["index"] == 17 and numbers["x"] == X[17].tolist()
    for layer, width in enumerate([3, 2, 1], start=1):
        for j in range(1, width + 1):
            assert numbers["o"][layer][j - 1] == table[f"o[{layer}][{j}]"].closed_form
            assert numbers["delta"][layer - 1][j - 1] == table[f"delta[{layer}][{j}]"].closed_form
            autograd = numbers["delta_autograd"][layer - 1][j - 1]
            assert autograd == table[f"delta[{layer}][{j}]"].autograd
    assert numbers["dw"][1][0][1] == table["Delta w[2][0,2]"].closed_form
    assert numbers["J"] == table["J"].closed_form
    with pytest.raises(ValueError, match=r"\[0, 100\)"):
        watched.select(100)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_other_activations_show_explains_table_with_their_own_derivative(activation):
    weights = get_weights(MLP(2, [3, 2, 1], activation, output_activation="sigmoid", rng=7))
    x, y, lr = np.array([0.4, -0.9]), 1.0, 0.3
    numbers = session.example_numbers(weights, activation, x, y, lr)
    table = explain.explain(weights, x, [y], lr, activation)
    assert numbers["derivative"] in ACTIVATIONS[activation].derivative
    assert numbers["g"] == [activation, activation, "sigmoid"] and activation in numbers["note"]
    for layer, w in enumerate(weights, start=1):
        for i, j in np.ndindex(w.shape):
            row = table[f"Delta w[{layer}][{i},{j + 1}]"]
            assert numbers["dw"][layer - 1][i][j] == row.closed_form
            assert numbers["dw_autograd"][layer - 1][i][j] == row.autograd
    # g'(z) of each hidden unit, by central differences of g (an oracle outside the table)
    g = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}[activation]
    for z, slope in zip(numbers["z"][:-1], numbers["slope"]):
        z = np.asarray(z)
        np.testing.assert_allclose(slope, (g(z + 1e-6) - g(z - 1e-6)) / 2e-6, atol=1e-6)


# -- the server --------------------------------------------------------------------------


@pytest.fixture
def served():
    httpd = server.WatchServer(Session(make_config(dataset="xor", seed=1)), 0)
    httpd.session.start()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.close()
    thread.join(timeout=10)


def request(httpd, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", httpd.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def control(httpd, message):
    body = json.dumps(message).encode()
    headers = {"Content-Type": "application/json"}
    status, _, answer = request(httpd, "POST", "/control", body, headers)
    return status, json.loads(answer)


def test_the_server_listens_on_the_loopback_only_and_serves_its_own_files(served):
    assert served.server_address[0] == "127.0.0.1"
    status, kind, page = request(served, "GET", "/")
    assert status == 200 and kind.startswith("text/html")
    assert b'id="epoch"' in page and b'id="loss"' in page
    assert re.search(rb"(src|href)=\"(https?:)?//", page) is None  # nothing from elsewhere
    for path, kind_start in (("/watch.js", "text/javascript"), ("/watch.css", "text/css")):
        status, kind, _ = request(served, "GET", path)
        assert status == 200 and kind.startswith(kind_start)
    for path in ("/../pyproject.toml", "/tinygrad_bp/cli.py", "/page.html", "/%2e%2e/etc/passwd"):
        assert request(served, "GET", path)[0] == 404


def test_a_request_naming_another_host_is_refused(served):
    assert request(served, "GET", "/", headers={"Host": "attacker.example:80"})[0] == 403


def test_controls_step_the_session_and_bad_ones_get_400(served):
    status, frame = control(served, {"action": "step_epoch"})
    assert status == 200 and frame["epoch"] == 1
    status, frame = control(served, {"action": "select", "index": 2})
    assert status == 200 and frame["example"]["index"] == 2
    for bad in ({"action": "fly"}, {"action": "configure", "hidden": [64]}, [1], {"x": 1}):
        status, answer = control(served, bad)
        assert status == 400 and answer["error"]
    status, _, _ = request(served, "POST", "/control", b"{}", {"Content-Type": "text/plain"})
    assert status == 415  # a cross-site form cannot send JSON
    headers = {"Content-Type": "application/json"}
    assert request(served, "POST", "/control", b"not json", headers)[0] == 400
    assert served.session.epoch == 1  # nothing refused changed anything


def read_events(httpd, count):
    """The first ``count`` frames of /events."""
    connection = socket.create_connection(("127.0.0.1", httpd.port), timeout=10)
    stream = connection.makefile("rb")
    host = f"127.0.0.1:{httpd.port}"
    connection.sendall(f"GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    frames = []
    try:
        for line in stream:
            if line.startswith(b"data: "):
                frames.append(json.loads(line[6:]))
                if len(frames) == count:
                    break
    finally:
        stream.close()
        connection.close()
    return frames


def test_events_send_the_latest_state_coalescing_epochs(served):
    control(served, {"action": "play"})
    frames = read_events(served, 10)
    control(served, {"action": "pause"})
    versions = [frame["version"] for frame in frames]
    assert versions == sorted(set(versions))
    # XOR trains thousands of epochs a second; at most 30 frames a second go out
    assert frames[-1]["epoch"] - frames[0]["epoch"] > len(frames)


def test_a_session_closed_ends_its_trainer_thread():
    watched = Session(make_config(seed=1))
    watched.start()
    watched.play()
    watched.close()
    assert watched._thread is not None and not watched._thread.is_alive()


def test_pause_stops_between_examples_and_the_run_stays_that_of_fit():
    # Epochs long enough for the interpreter to switch threads inside one (it does every
    # 5 ms): with shorter ones, Pause runs when the trainer sleeps between epochs.
    watched = Session(make_config(dataset="moons", hidden=[12, 12], seed=3))
    watched.start()
    try:
        stops = []
        for k in range(20):
            watched.play()
            watched.wait_for_change(watched.version, 10)  # an epoch trained
            time.sleep(0.01 * (k % 4))
            watched.pause()
            stops.append((watched.epoch, watched.position))
            time.sleep(0.02)
            assert (watched.epoch, watched.position) == stops[-1]  # nothing trains after it
        # online, Pause lands inside an epoch (100 examples; the flag is read before each)
        assert any(position for _, position in stops)
        epochs = watched.epoch + 1
        while watched.epoch < epochs:
            watched.step_epoch()
    finally:
        watched.close()
    # paused and played on mid-epoch twenty times, it is still fit's run, to the last bit
    net, _, _, history = reference_run("moons", [12, 12], 3, 0.5, epochs)
    assert [loss for _, loss in watched.curve] == history.losses
    for ours, theirs in zip(get_weights(watched.model), get_weights(net)):
        np.testing.assert_array_equal(ours, theirs)


def test_paused_the_trainer_sends_the_surface_of_the_weights_as_they_are():
    watched = Session(make_config(dataset="xor", seed=3))
    watched.start()
    try:
        first = watched.frame()["landscape"]
        watched.play()
        watched.wait_for_change(watched.version, 10)
        watched.pause()
        epoch = watched.epoch
        assert epoch > 0
        deadline = time.monotonic() + 30
        panel = first
        while panel["epoch"] != epoch and time.monotonic() < deadline:
            version = watched.version
            panel = json.loads(watched.frame_json())["landscape"]  # the state goes out first
            watched.wait_for_change(version, 1)
    finally:
        watched.close()
    assert (first["epoch"], panel["epoch"], panel["position"]) == (0, epoch, 0)
    J = dataset_loss(watched.X, watched.y)(watched.model).data
    assert panel["center"] == pytest.approx(J, abs=1e-12)


# -- the recorded page -------------------------------------------------------------------


def test_a_recording_holds_a_bounded_number_of_frames_of_the_same_run(tmp_path):
    config = make_config(dataset="xor", seed=1)
    done = record.record(config, 1000, tmp_path / "run.html")
    assert (done.epochs, done.frames, done.interrupted) == (1000, record.MAX_FRAMES, False)
    page = done.path.read_text(encoding="utf-8")
    assert "<script src=" not in page and '<link rel="stylesheet"' not in page  # inline
    payload = re.search(r'<script type="application/json" id="recording">(.*?)</script>', page)
    recording = json.loads(payload.group(1))
    epochs = [frame["epoch"] for frame in recording["frames"]]
    assert epochs[0] == 0 and epochs[-1] == 1000 and epochs == sorted(epochs)
    _, _, _, history = reference_run("xor", [2], 1, 2.0, 1000)
    for frame in recording["frames"][1:]:
        assert frame["loss"] == history.losses[frame["epoch"] - 1]
    assert not list(tmp_path.glob(".run.html*"))  # no temporary file left


def test_ctrl_c_during_a_recording_writes_the_run_so_far(tmp_path):
    def interrupt(epoch, loss):
        if epoch == 5:
            raise KeyboardInterrupt

    done = record.record(make_config(seed=1), 1000, tmp_path / "run.html", on_epoch=interrupt)
    assert done.interrupted and (done.epochs, done.frames) == (5, 2)
    page = done.path.read_text(encoding="utf-8")
    frames = json.loads(re.search(r'id="recording">(.*?)</script>', page).group(1))["frames"]
    assert [frame["epoch"] for frame in frames] == [0, 5]


def test_a_recording_refuses_an_unbounded_run(tmp_path):
    with pytest.raises(ValueError, match="100000"):
        record.record(make_config(), record.MAX_EPOCHS + 1, tmp_path / "run.html")


# -- the test helper that the browser tests use ------------------------------------------


def test_a_missing_program_skips_or_fails_when_ci_requires_it(monkeypatch):
    from conftest import require_module, require_program

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("TINYGRAD_BP_REQUIRE_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install nothing"):
        require_program("nothing", "apt-get install nothing")
    monkeypatch.setenv("TINYGRAD_BP_REQUIRE_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match="nothing is not installed"):
        require_program("nothing", "apt-get install nothing")
    with pytest.raises(pytest.fail.Exception, match="pip install no_such_module"):
        require_module("no_such_module", "pip install no_such_module")


# -- the command line --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--hidden", "8,8,8,8,8"], "at most 4 hidden layers"),
        (["--hidden", "64"], "at most 16 units per layer"),
        (["--lr", "1000"], "lr must be a number in (0, 100]"),
        (["--dataset", "mnist"], "invalid choice"),
        (["--port", "70000"], "--port: must be at most 65535"),
        (["--epochs", "5"], "--epochs goes with --record"),
        (["--record", "no/such/dir/run.html"], "no such directory"),
        (["--record", "x.html", "--epochs", "100001"], "at most 100000"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys):
    assert main(["watch", "--no-browser", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_a_port_in_use_is_one_line_and_exit_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["watch", "--no-browser", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and err.count("\n") == 1


def test_help_states_the_limits(capsys):
    with pytest.raises(SystemExit):
        main(["watch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "at most 4 hidden layers of 16 units" in text
    assert f"at most {record.MAX_FRAMES} frames" in text and "100000" in text


def test_record_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "moons.html"
    argv = ["watch", "--dataset", "moons", "--hidden", "3", "--record", str(path)]
    assert main([*argv, "--epochs", "5", "--seed", "2"]) == 0
    assert f"wrote {path}: 5 epochs, 6 frames" in capsys.readouterr().out
    assert path.stat().st_size > 0


def _environment():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_ctrl_c_stops_the_server_with_exit_130_and_no_traceback():
    command = [sys.executable, "-m", "tinygrad_bp", "watch", "--no-browser", "--port", "0"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
        preexec_fn=default_sigint,  # interruptible even when the suite runs with SIGINT ignored
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert url is not None, line
        connection = http.client.HTTPConnection("127.0.0.1", int(url.group(1)), timeout=10)
        connection.request("GET", "/frame")
        assert json.loads(connection.getresponse().read())["epoch"] == 0
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert "Traceback" not in err and "stopped" in out


def test_controls_that_would_break_the_handler_get_400(served):
    status, answer = control(served, {"action": "configure", "self": 1})
    assert status == 400 and "unknown setting(s) self" in answer["error"]
    headers = {"Content-Type": "application/json"}
    deep = b"[" * 2048 + b"]" * 2048
    status, _, answer = request(served, "POST", "/control", deep, headers)
    assert status == 400 and b"nested too deeply" in answer
    assert request(served, "GET", "/frame")[0] == 200  # still serving


def test_idle_connections_are_closed_and_cannot_use_up_the_server(capfd):
    httpd = server.WatchServer(Session(make_config(dataset="xor", seed=1)), 0, idle_timeout=1.0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    idle = [socket.create_connection(("127.0.0.1", httpd.port), timeout=10) for _ in range(130)]
    try:
        for connection in idle:  # each is closed: by the timeout, or at once past the limit
            assert connection.recv(1) == b""
        assert request(httpd, "GET", "/frame")[0] == 200  # every slot free again
    finally:
        for connection in idle:
            connection.close()
        httpd.shutdown()
        httpd.close()
        thread.join(timeout=10)
    assert "Traceback" not in capfd.readouterr().err


def test_the_server_answers_while_training_plays(served):
    control(served, {"action": "play"})
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        start, answered = time.monotonic(), 0
        while answered < 200 and time.monotonic() - start < 10:
            connection.request("GET", "/frame")
            answered += connection.getresponse().read().startswith(b"{")
    finally:
        connection.close()
        control(served, {"action": "pause"})
    # hundreds a second on an idle machine; 6 a second before the trainer yielded
    assert answered == 200, answered


def test_weights_gone_to_nan_keep_the_last_surface_and_the_trainer_alive():
    watched = Session(make_config(dataset="xor", seed=3))
    first = watched.frame()["landscape"]
    for p in watched.model.parameters():
        p.data = math.nan  # as if the learning rate had blown the weights up
    key, job = watched._landscape_job()
    with pytest.raises(ValueError):
        job()  # no surface through nan weights
    watched._store_landscape(key, job)  # what the trainer thread does: it must not raise
    assert watched._landscape_made[2] == first  # the last surface, which names its own epoch
    assert watched._landscape_made[1] == key  # noted: the trainer does not retry at once
