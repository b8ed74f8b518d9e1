"""The command line, run in-process through ``cli.main`` and as ``python -m tinygrad_bp``."""

import html
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_bp
from conftest import needs_dot
from tinygrad_bp import delta, nn
from tinygrad_bp.cli import main
from tinygrad_bp.cli.arguments import MAX_JSON_BYTES
from tinygrad_bp.explain import WORKED_INPUT, WORKED_LR, WORKED_TARGET, WORKED_WEIGHTS

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WORKED_JSON = {
    "weights": [w.tolist() for w in WORKED_WEIGHTS],
    "x": WORKED_INPUT.tolist(),
    "y": WORKED_TARGET.tolist(),
    "lr": WORKED_LR,
}


def run_module(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tinygrad_bp", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)


def assert_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000, path


def assert_one_line_error(capsys, code, *fragments):
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinygrad-bp: error:"), captured.err
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in captured.err


# -- worked-example and explain ------------------------------------------------------------


def test_worked_example_command_prints_the_table(capsys):
    assert main(["worked-example"]) == 0
    out = capsys.readouterr().out
    assert "delta[2][1]" in out and "0.02577665" in out and " NO" not in out
    assert out.count(" yes") == 25


def explain_rows(out):
    """name -> (autograd, closed form) of the printed table."""
    rows = {}
    for line in out.splitlines():
        parts = line.rsplit(maxsplit=3)
        if len(parts) == 4 and parts[3] in ("yes", "NO"):
            rows[parts[0]] = (float(parts[1]), float(parts[2]))
    return rows


def test_explain_from_options_matches_the_closed_form(capsys):
    weights = [np.array([[0.1, -0.2], [0.3, 0.4]]), np.array([[0.5], [-0.6], [0.7]])]
    x, y, lr = np.array([2.0]), np.array([0.25]), 0.3
    argv = ["explain", "--x", "2", "--y", "0.25", "--lr", "0.3"]
    for w in weights:
        argv += ["--weights", json.dumps(w.tolist())]
    assert main(argv) == 0
    rows = explain_rows(capsys.readouterr().out)
    activations = delta.forward(weights, x)
    updates = delta.weight_updates(activations, delta.deltas(weights, activations, y), lr)
    assert rows["o[2][1]"][0] == pytest.approx(activations[2][0], abs=5e-9)
    assert rows["Delta w[1][1,2]"][0] == pytest.approx(updates[0][1, 1], abs=5e-9)
    assert len(rows) == 3 + 1 + 3 + 2 * (4 + 3)


def test_explain_from_a_json_file(tmp_path, capsys):
    spec = tmp_path / "net.json"
    spec.write_text(json.dumps(WORKED_JSON))
    assert main(["explain", "--json", str(spec)]) == 0
    rows = explain_rows(capsys.readouterr().out)
    assert rows["new w[2][0,1]"][0] == pytest.approx(1.01288833, abs=1e-8)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ('{"weights": [[[1, 1]', "malformed JSON"),
        ("[1, 2]", "JSON object"),
        ('{"weights": [[[1, 1], [2]]], "x": [1], "y": [1]}', "weights[0] must be a matrix"),
        ('{"weights": [[[1], [2], [3]]], "x": [1], "y": [1]}', "does not fit"),
        ('{"weights": [[[1], [2]]], "x": [1]}', "missing key(s) y"),
        ('{"weights": [[[1], [2]]], "x": [1], "y": [1], "lr": "big"}', "lr must be a real number"),
        ('{"weights": [[[1], [2]]], "x": [1], "y": [1], "lr": 1e999}', "lr must be a finite"),
        ('{"weights": [[[1], [2]]], "x": [1], "y": [1], "lr": %s}' % ("9" * 400), "lr must be a"),
        ('{"weights": [[[%s], [2]]], "x": [1], "y": [1]}' % ("9" * 400), "too large for a float"),
        ('{"weights": [[[%s], [2]]], "x": [1], "y": [1]}' % ("9" * 5000), "malformed JSON"),
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
        (
            json.dumps({"weights": [np.zeros((41, 25)).tolist()], "x": [0] * 40, "y": [0] * 25}),
            "1,025 weights; at most 1,000",
        ),
    ],
)
def test_explain_rejects_bad_json_in_one_line(tmp_path, capsys, content, fragment):
    spec = tmp_path / "bad.json"
    spec.write_text(content)
    assert_one_line_error(capsys, main(["explain", "--json", str(spec)]), fragment)


def test_explain_refuses_a_file_that_is_not_utf8_or_too_long(tmp_path, capsys):
    spec = tmp_path / "latin1.json"
    spec.write_bytes(b'{"weights": [[[1], [2]]], "x": [1], "y": [1], "note": "\xe9t\xe9"}')
    assert_one_line_error(capsys, main(["explain", "--json", str(spec)]), "not UTF-8 text")
    spec.write_bytes(b" " * (MAX_JSON_BYTES + 1))
    assert_one_line_error(capsys, main(["explain", "--json", str(spec)]), "1,000,000 bytes")


def test_explain_refuses_deeply_nested_weights_in_one_line(capsys):
    deep = "[" * 20_000 + "]" * 20_000
    code = main(["explain", "--weights", deep, "--x", "1", "--y", "1"])
    assert_one_line_error(capsys, code, "--weights", "nested too deeply")


def test_the_shipped_example_file_runs_as_the_readme_says(capsys):
    assert main(["explain", "--json", str(REPO / "examples" / "net.json")]) == 0
    assert " NO" not in capsys.readouterr().out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_or_a_device_named_as_a_file_is_one_line_not_a_hang(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opened for reading, it would wait for a writer forever
    for path in (str(fifo), "/dev/zero"):  # /dev/zero would be read until memory runs out
        code = main(["explain", "--json", path])
        assert_one_line_error(capsys, code, "not a regular file")
        code = main(["xor", "--load", path])
        assert_one_line_error(capsys, code, f"--load {path}", "not a regular file")


def test_a_model_file_with_a_damaged_header_is_one_line(tmp_path, capsys):
    model = tmp_path / "xor.npz"
    nn.save(nn.MLP(2, [2, 1], rng=0), model)
    with zipfile.ZipFile(model) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    damaged = tmp_path / "damaged.npz"
    with zipfile.ZipFile(damaged, "w") as archive:
        for name, data in members.items():  # an unclosed string: numpy's tokenize.TokenError
            archive.writestr(name, data.replace(b"'descr'", b"'''descr'", 1))
    code = main(["xor", "--load", str(damaged)])
    assert_one_line_error(capsys, code, f"--load {damaged}", "header")


def test_explain_needs_its_inputs(capsys):
    assert_one_line_error(capsys, main(["explain", "--x", "1"]), "--weights")
    assert_one_line_error(capsys, main(["explain", "--json", "/no/such/file.json"]), "cannot read")


# -- xor, gates, train -------------------------------------------------------------------------


def test_xor_command_learns_xor_and_writes_its_plots(tmp_path, capsys):
    assert main(["xor", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "4/4 outputs on the right side of 0.5" in out and "converged after" in out
    for name in ("xor_loss.png", "xor_boundary.png", "xor_network.png"):
        assert_png(tmp_path / name)


def test_xor_command_prints_the_loss_going_down(capsys):
    assert main(["xor", "--print-every", "100"]) == 0
    losses = [
        float(line.split("=")[1])
        for line in capsys.readouterr().out.splitlines()
        if line.strip().startswith("epoch")
    ]
    assert len(losses) >= 3 and losses[-1] < losses[0]


def test_gates_command_reports_perceptron_failure_on_xor(tmp_path, capsys):
    assert main(["gates", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "XOR  never converged" in out and "AND  converged" in out
    assert_png(tmp_path / "perceptron_errors.png")
    assert_png(tmp_path / "xor_by_hand.png")


def test_xor_saves_the_trained_model_and_loads_it_back(tmp_path, capsys):
    model = tmp_path / "xor.npz"
    assert main(["xor", "--quiet", "--save", str(model)]) == 0
    assert f"wrote {model}" in capsys.readouterr().out
    saved = nn.MLP(2, [2, 1])
    nn.load(saved, model)  # what was written is a model of the right shape
    # Started from the trained weights, the first epoch's J is already below epsilon 0.01,
    # where a fresh start (seed 1) begins near J = 0.6.
    assert main(["xor", "--load", str(model), "--print-every", "1000"]) == 0
    out = capsys.readouterr().out
    assert f"from {model}" in out and "converged after 1 epochs" in out
    first_j = float(out.split("epoch      1   J = ")[1].split()[0])
    assert first_j < 0.01
    assert abs(nn.get_weights(saved)[1][0, 0]) > 1  # trained, not the small initial weights


def test_a_model_file_that_does_not_fit_is_one_line(tmp_path, capsys):
    model = tmp_path / "xor.npz"
    assert main(["xor", "--quiet", "--epochs", "1", "--save", str(model)]) == 1
    capsys.readouterr()
    code = main(["train", "moons", "--hidden", "8", "--load", str(model)])
    assert_one_line_error(capsys, code, f"--load {model}")
    (tmp_path / "junk.npz").write_bytes(b"not an archive")
    code = main(["xor", "--load", str(tmp_path / "junk.npz")])
    assert_one_line_error(capsys, code, "junk.npz", "not a .npz archive")
    assert_one_line_error(capsys, main(["xor", "--load", str(tmp_path / "none.npz")]), "No such")
    code = main(["xor", "--save", str(tmp_path / "no" / "dir.npz")])
    assert_one_line_error(capsys, code, "--save", "no directory")
    assert_one_line_error(capsys, main(["train", "xor", "--save", str(tmp_path)]), "directory")


def test_train_saves_a_model_that_train_loads(tmp_path, capsys):
    model = tmp_path / "moons.npz"
    argv = ["train", "moons", "--hidden", "8", "--epochs", "200", "--quiet"]
    assert main([*argv, "--save", str(model)]) == 0
    trained = float(capsys.readouterr().out.split("final loss ")[1].split()[0])
    assert main([*argv, "--epochs", "1", "--load", str(model)]) == 0
    resumed = float(capsys.readouterr().out.split("final loss ")[1].split()[0])
    assert resumed < trained * 1.2  # a fresh network starts near log 2 = 0.69
    assert resumed < 0.5


def test_xor_writes_its_loss_history_as_a_table(tmp_path, capsys):
    assert main(["xor", "--quiet", "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "xor_loss.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss"
    losses = [float(row.split(",")[1]) for row in rows[1:]]
    epochs = int(capsys.readouterr().out.split("converged after ")[1].split()[0])
    assert len(losses) == epochs and losses[-1] < 0.01 < losses[0]


@pytest.mark.parametrize("dataset", ["moons", "circles"])
def test_train_command_classifies_held_out_points_and_plots(dataset, tmp_path, capsys):
    argv = ["train", dataset, "--hidden", "8,8", "--epochs", "300", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("training accuracy ")[1].split("%")[0])
    test_accuracy = float(out.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 95.0 and test_accuracy >= 90.0
    assert_png(tmp_path / f"{dataset}_loss.png")
    assert_png(tmp_path / f"{dataset}_boundary.png")


def test_train_holds_out_the_asked_fraction(capsys):
    argv = ["train", "moons", "--n", "100", "--epochs", "5", "--test-fraction", "0.3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Training moons on 70 points, 30 held out for testing" in out
    assert main(["train", "moons", "--n", "100", "--epochs", "5", "--test-fraction", "0"]) == 0
    out = capsys.readouterr().out
    assert "100 points, 0 held out" in out and "test accuracy" not in out


def test_train_on_xor_trains_on_the_whole_truth_table(capsys):
    assert main(["train", "xor", "--hidden", "8,8", "--epochs", "300"]) == 0
    out = capsys.readouterr().out
    assert "all 4 rows of the truth table" in out and "test accuracy" not in out
    assert "training accuracy 100.0%" in out


def test_hidden_0_trains_the_two_layer_network_and_says_so(capsys):
    assert main(["train", "moons", "--hidden", "0", "--epochs", "50"]) == 0
    out = capsys.readouterr().out
    assert "no hidden layer (the tutorial's two-layer network" in out and "3 weights" in out
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "0 for no hidden layer" in capsys.readouterr().out


def test_train_command_fits_the_sine_and_plots_the_curve(tmp_path, capsys):
    argv = ["train", "sine", "--epochs", "300", "--optimizer", "adam", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" not in out
    final_loss = float(out.split("final loss ")[1].split()[0])
    assert final_loss < 0.01  # the mean squared error of a constant guess is about 0.125
    assert float(out.split("test mean squared error ")[1].split()[0]) < 0.02
    assert_png(tmp_path / "sine_fit.png")


def test_train_with_sgd_minibatches_and_relu_runs(capsys):
    argv = ["train", "moons", "--optimizer", "sgd", "--lr", "0.5", "--batch-size", "16"]
    assert main([*argv, "--activation", "relu", "--epochs", "50", "--quiet"]) == 0
    assert "training accuracy" in capsys.readouterr().out


# -- graph ---------------------------------------------------------------------------------------


@needs_dot
def test_graph_of_an_expression_shows_labels_data_and_grads(tmp_path, capsys):
    path = tmp_path / "expr.svg"
    argv = ["graph", "(a*b + c).tanh()", "--value", "a=2", "--value", "b=-1", "--value", "c=1.5"]
    assert main([*argv, "--out", str(path)]) == 0
    picture = html.unescape(path.read_text())  # Graphviz writes "-" as &#45;
    assert picture.startswith("<?xml") and "<svg" in picture
    for label in (">a<", ">b<", ">c<", "a * b + c", "tanh"):
        assert label in picture, label
    # e = tanh(ab + c) = tanh(-0.5), and de/da = (1 - e^2) b with b = -1.
    e = np.tanh(2 * -1 + 1.5)
    assert f"data {e:.4g}" in picture and f"grad {(1 - e**2) * -1:.4g}" in picture
    assert str(path) in capsys.readouterr().out


@needs_dot
def test_graph_of_the_worked_network_labels_every_weight(tmp_path):
    path = tmp_path / "net.svg"
    assert main(["graph", "--network", "2,2,1", "--out", str(path)]) == 0
    picture = html.unescape(path.read_text())
    for label in ("w[1][0,1]", "w[2][2,1]", "z[1][2]", "o[2][1]", ">J<"):
        assert label in picture, label
    # dJ/dw_0,output = -delta_output: the closed form's number is in the picture.
    activations = delta.forward(WORKED_WEIGHTS, WORKED_INPUT)
    delta_out = delta.deltas(WORKED_WEIGHTS, activations, WORKED_TARGET)[-1][0]
    assert f"grad {-delta_out:.4g}" in picture


@needs_dot
def test_graph_steps_write_a_page(tmp_path):
    argv = ["graph", "a*b + a", "--value", "a=3", "--value", "b=2", "--steps"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    page = tmp_path / "backward.html"
    assert page.read_text().count("<svg") == 1  # one layout, the steps replayed on it
    assert "Step 4 of 4" in page.read_text()  # a, b, a*b, a*b + a


@needs_dot
def test_graph_png_via_the_module_entry_point(tmp_path):
    result = run_module(
        "graph", "a.relu() - 2 ** a", "--value", "a=1", "--out", "g.png", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert_png(tmp_path / "g.png")


@pytest.mark.parametrize(
    "expression, fragment",
    [
        ("__import__('os').system('true')", "only the methods"),
        ("a.__class__", "attributes may only be called methods"),
        ("[a][0]", "Subscript is not allowed"),
        ("b * 2", "no value for 'b'"),
        ("a +", "cannot parse"),
        ("a" + " + a" * 300, "longer than 500"),
        ("+".join(["a"] * 101), "201 names, numbers and operations; at most 200"),
    ],
)
def test_graph_refuses_a_bad_expression_in_one_line_and_draws_nothing(
    expression, fragment, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code = main(["graph", expression, "--value", "a=1", "--out", "never.svg"])
    assert_one_line_error(capsys, code, fragment, "(see tinygrad-bp graph --help)")
    assert not list(tmp_path.iterdir())


# -- check-engine ---------------------------------------------------------------------------------


def test_check_engine_passes_our_own_value(capsys):
    code = main(["check-engine", "tinygrad_bp.engine:Value", "--max-examples", "5"])
    out = capsys.readouterr().out
    assert code == 0 and "0 fail" in out and "sigmoid" in out


def test_check_engine_fails_a_broken_engine(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken_engine.py").write_text(
        "from tinygrad_bp.engine import Value as Base\n"
        "class Value(Base):\n"
        "    __slots__ = ()\n"
        "    def tanh(self):\n"
        "        return super().tanh() * 1.01  # a wrong tanh\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(["check-engine", "broken_engine:Value", "--max-examples", "5"])
    out = capsys.readouterr().out
    assert code == 1 and "fail" in out


def test_check_engine_reports_a_bad_spec_in_one_line(capsys):
    assert_one_line_error(capsys, main(["check-engine", "no_such_module:Value"]), "no_such_module")
    assert_one_line_error(capsys, main(["check-engine", "nocolon"]), "module:ClassName")
    code = main(["check-engine", "builtins:str"])  # a class, but not a Value class
    assert_one_line_error(capsys, code, "builtins.str is not a micrograd-style Value class")


# -- arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["xor", "--lr", "fast"], "argument --lr"),
        (["xor", "--lr", "-1"], "must be positive, got -1.0"),
        (["xor", "--lr", "nan"], "must be a finite number"),
        (["xor", "--epsilon", "-1"], "--epsilon: must be positive"),
        (["xor", "--epsilon", "nan"], "--epsilon: must be a finite number"),
        (["xor", "--epsilon", "0"], "--epsilon: must be positive"),
        (["xor", "--epochs", "1000001"], "must be at most 1000000"),
        (["xor", "--epochs", "9" * 5000], "expected an integer"),
        (["gates", "--max-epochs", "10000000"], "must be at most 1000000"),
        (["train", "moons", "--hidden", ""], "positive widths"),
        (["train", "moons", "--hidden", "8,,8"], "positive widths"),
        (["train", "moons", "--hidden", ",".join(["1"] * 101)], "at most 100 layers"),
        (["train", "moons", "--hidden", "100000,100000"], "limit of 1,000,000"),
        (["train", "moons", "--n", "100000000000"], "--n: must be at most 100000"),
        (["train", "moons", "--n", "100000", "--hidden", "200"], "use --batch-size"),
        (
            [
                "train",
                "moons",
                "--n",
                "100000",
                "--hidden",
                "500,500",
                "--batch-size",
                "8",
                "--epochs",
                "100000",
            ],
            "more than the limit of 1,000,000,000,000",
        ),
        (["train", "moons", "--test-fraction", "1"], "must be at most 0.9"),
        (["train", "moons", "--test-fraction", "-0.1"], "must be at least 0.0"),
        (["graph", "--network", "100000,100000,1"], "10,000,200,001 weights; a graph picture"),
        (["graph", "--network", "8,16,16,1", "--steps"], "more than max_frames=300"),
        (["graph", "--network", "0"], "at least two widths"),
        (["train", "mnist"], "invalid choice: 'mnist'"),
        (["train", "moons", "--hidden", "8,x"], "positive widths"),
        (["train", "moons", "--optimizer", "rmsprop"], "invalid choice"),
        (["train", "moons", "--epochs", "0"], "must be at least 1, got 0"),
        (["graph"], "EXPRESSION or --network"),
        (["graph", "a", "--value", "a"], "NAME=NUMBER"),
        (["graph", "--network", "2,2,3"], "one output unit"),
        (["graph", "a", "--value", "a=1", "--out", "x.txt"], "unsupported suffix"),
        (["graph", "--network", "2,x"], "--network: expected positive widths"),
        (["graph", "--network", "2,2,1", "--x", "1,2,3"], "does not fit x"),
        (["graph", "--network", "2,3,1", "--x", "nan,1"], "x must be finite"),
        (["graph", "--network", "2,3,1", "--seed", "-1"], "must be at least 0, got -1"),
        (["xor", "--seed", "-1"], "must be at least 0, got -1"),
        (["train", "moons", "--n", "1"], "at least 2"),
        (["explain", "--weights", "[[1],[2]]", "--x", "1", "--y", "1", "--lr", "inf"], "finite"),
        (["no-such-command"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_give_one_clear_line(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(capsys, main(argv), fragment)


def test_every_subcommand_has_help(capsys):
    commands = ["worked-example", "explain", "xor", "gates", "graph", "train", "check-engine"]
    for command in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: tinygrad-bp {command}") and "--help" in out


@pytest.mark.parametrize(
    "command, shown",
    [
        ("xor", ["(default: 2.0)", "(default: 5000)", "(default: 0.01)", "(default: 1)"]),
        ("train", ["(default: [8])", "(default: tanh)", "(default: 0.25)", "(default: 200)"]),
        ("train", ["(default: adam)", "at most 1,000,000 (default: 500)"]),
        ("train", ["100,000 points", "1,000,000 weights", "1,000,000,000,000 multiply-adds"]),
        ("graph", ["(default: LR)", "200 names, numbers and", "500 weights", "300 steps"]),
        ("explain", ["(default: 0.5)", "1,000 weights"]),
        ("gates", ["(default: 100)", "at most 1,000,000"]),
    ],
)
def test_help_shows_defaults_and_limits(command, shown, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    for text in shown:
        assert text in out, text
    assert "(default: None)" not in out and "(default: False)" not in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tinygrad-bp {tinygrad_bp.__version__}"


def test_running_out_of_memory_is_one_line(monkeypatch, capsys):
    def exhausted():
        raise MemoryError

    monkeypatch.setattr("tinygrad_bp.explain.worked_example", exhausted)
    assert_one_line_error(capsys, main(["worked-example"]), "out of memory")


def test_ctrl_c_in_training_writes_the_history_so_far(tmp_path, monkeypatch, capsys):
    def interrupted_fit(*args, on_epoch, **kwargs):
        for epoch, loss in enumerate([0.7, 0.6, 0.5], start=1):
            on_epoch(epoch, loss)
        raise KeyboardInterrupt

    monkeypatch.setattr("tinygrad_bp.xor.fit", interrupted_fit)
    assert main(["xor", "--out", str(tmp_path), "--save", str(tmp_path / "m.npz")]) == 130
    captured = capsys.readouterr()
    assert captured.err == "tinygrad-bp: interrupted\n"
    assert "interrupted after 3 of 5000 epochs, J = 0.500000" in captured.out
    assert f"wrote {tmp_path / 'xor_loss.png'}" in captured.out
    assert (tmp_path / "xor_loss.csv").read_text().splitlines() == [
        "epoch,loss",
        "1,0.7",
        "2,0.6",
        "3,0.5",
    ]
    assert_png(tmp_path / "xor_loss.png")
    assert not (tmp_path / "m.npz").exists()  # a half-trained model is not saved


def test_ctrl_c_anywhere_else_is_status_130_without_a_traceback(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr("tinygrad_bp.explain.worked_example", interrupted)
    assert main(["worked-example"]) == 130
    assert capsys.readouterr().err == "tinygrad-bp: interrupted\n"


def test_module_entry_point_and_bad_arguments(tmp_path):
    ok = run_module("--help", cwd=tmp_path)
    assert ok.returncode == 0 and "worked-example" in ok.stdout and "check-engine" in ok.stdout
    bad = run_module("xor", "--lr", "fast", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "tinygrad-bp: error: argument --lr: expected a number, got 'fast' "
        "(see tinygrad-bp xor --help)"
    ]


@needs_dot
def test_an_out_path_that_is_a_file_is_bad_input(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["gates", "--out", str(blocker)])
    assert_one_line_error(capsys, code, "cannot create the directory")
    code = main(["graph", "a", "--value", "a=1", "--out", str(blocker / "g.svg")])
    assert_one_line_error(capsys, code, str(blocker))


@pytest.mark.parametrize("error", [ValueError("a bug"), OSError(5, "Input/output error")])
def test_a_library_error_is_not_reported_as_bad_input(error, monkeypatch, capsys):
    def broken():
        raise error

    monkeypatch.setattr("tinygrad_bp.explain.worked_example", broken)
    with pytest.raises(type(error)):  # keeps its traceback, not exit 2
        main(["worked-example"])
    assert "tinygrad-bp: error" not in capsys.readouterr().err


def test_a_broken_pipe_in_process_is_quiet_with_status_141(monkeypatch, capsys):
    def reader_gone():
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("tinygrad_bp.explain.worked_example", reader_gone)
    assert main(["worked-example"]) == 141
    assert capsys.readouterr().err == ""


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """As in ``tinygrad-bp check-engine ... | head -3``: no error, status 141."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tinygrad_bp", "worked-example"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env
    )
    process.stdout.close()  # the reader is gone before the command writes anything
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait() == 141, stderr
    assert stderr == ""
