"""The command line under hostile input: never a traceback, always exit 0, 1 or 2.

Hypothesis drives every subcommand's parser in-process (``cli.main``) with generated
arguments: huge numbers, nan and inf, negatives, empty and long strings, unicode,
deeply nested JSON and random bytes in the files it reads. Each example must end
with status 0 or 1 (it ran), or 2 with exactly one line on stderr naming the
problem; a traceback, any other status or an exception out of ``main`` fails.

Every example is bounded by construction: argparse converts every occurrence of an
option, so the hostile value is always parsed and checked, and a small value given
after it (``--epochs=2``) is the one a run uses. Drawing is replaced by building the
DOT text (no ``dot`` process) and plots by an empty file, so that the CLI's own
checks are what is exercised. A few subprocess runs check Ctrl-C for real: a
SIGINT while ``xor`` or ``train`` trains ends it with status 130, no traceback, and
the loss history written so far in the files it names.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_bp import cli, data, viz
from tinygrad_bp.cli import arguments

REPO = Path(__file__).resolve().parents[1]

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- hostile text --------------------------------------------------------------------------

SPECIAL = [
    "",
    " ",
    "0",
    "-0",
    "-1",
    "1e999",
    "-1e999",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e-320",
    "9" * 400,
    "9" * 5000,
    "1,2",
    ",",
    "8,,8",
    "0,8",
    "1" + ",1" * 200,
    "1000,1000",
    "100000,100000,1",
    "a=1",
    "=",
    "\x00",
    "é",
    "🙂",
    "\u202e",
    "[" * 2000,
    "x" * 10_000,
    "--help",
    "-h",
]

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
).map(str)
hostile = st.one_of(st.sampled_from(SPECIAL), numbers, st.text(max_size=40))

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
deep_nesting = st.integers(min_value=1, max_value=60_000).map(
    lambda depth: "[" * depth + "]" * depth
)
json_texts = st.one_of(
    json_values.map(json.dumps),
    deep_nesting,
    st.text(max_size=200),
    st.builds(
        lambda weights, x, y, lr: json.dumps({"weights": weights, "x": x, "y": y, "lr": lr}),
        json_values,
        json_values,
        json_values,
        json_values,
    ),
)
file_contents = st.one_of(st.binary(max_size=2000), json_texts.map(str.encode))


def options(names):
    """Lists of ``--name=value`` arguments, each name at most once, hostile values."""
    pairs = st.lists(
        st.tuples(st.sampled_from(names), hostile), max_size=4, unique_by=lambda p: p[0]
    )
    return pairs.map(lambda chosen: [f"{name}={value}" for name, value in chosen])


# -- running main in-process ---------------------------------------------------------------


# Where each plotting function of viz takes its output path.
PLOT_PATH_ARGUMENT = {
    "plot_losses": 1,
    "plot_network": 1,
    "plot_decision_boundary": 3,
    "plot_fitted_curve": 3,
}


@pytest.fixture
def quick(monkeypatch):
    """No Graphviz process and no matplotlib: the DOT text is built, plots are empty files."""

    def render(root, path, **kwargs):
        viz.draw_dot(root, **kwargs)
        return Path(path)

    def render_backward(root, path, **kwargs):
        viz.draw_dot(root)
        return Path(path)

    def plotter(path_position):
        def plot(*args, **kwargs):
            path = Path(args[path_position])
            path.write_bytes(b"")
            return path

        return plot

    monkeypatch.setattr(cli.viz, "render", render)
    monkeypatch.setattr(cli.viz, "render_backward", render_backward)
    for name, path_position in PLOT_PATH_ARGUMENT.items():
        monkeypatch.setattr(cli.viz, name, plotter(path_position))


@contextmanager
def in_a_temporary_folder():
    """A fresh empty working folder per example (paths the arguments name land there)."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(before)


def run_main(argv, capsys):
    """Run ``cli.main``; assert the promise; return (status, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except SystemExit as exit_info:  # --help or --version among the arguments
        code = exit_info.code
        assert code == 0, argv
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, (argv, captured.err)
    assert code in (0, 1, 2), (argv, code, captured.err)
    if code == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tinygrad-bp: error: "), (argv, lines)
    return code, captured.out, captured.err


# -- each subcommand -----------------------------------------------------------------------


@FUZZ
@given(extra=options(["--lr", "--epochs", "--epsilon", "--seed", "--print-every", "--out"]))
def test_xor_never_dumps_a_traceback(extra, quick, capsys):
    with in_a_temporary_folder():
        run_main(["xor", "--quiet", *extra, "--epochs=2"], capsys)


@FUZZ
@given(
    dataset=st.one_of(st.sampled_from(data.DATASETS), hostile),
    extra=options(
        [
            "--hidden",
            "--activation",
            "--optimizer",
            "--lr",
            "--epochs",
            "--batch-size",
            "--n",
            "--test-fraction",
            "--seed",
            "--out",
        ]
    ),
)
def test_train_never_dumps_a_traceback(dataset, extra, quick, capsys):
    with in_a_temporary_folder():
        run_main(["train", dataset, "--quiet", *extra, "--epochs=2", "--n=40"], capsys)


@FUZZ
@given(widths=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=4))
def test_train_refuses_or_runs_any_widths(widths, quick, capsys):
    """Valid-looking sizes of any magnitude: refused up front with the limit, or run quickly."""
    hidden = ",".join(map(str, widths))
    argv = ["train", "moons", "--quiet", f"--hidden={hidden}", "--epochs=1", "--n=20"]
    code, _, err = run_main(argv, capsys)
    weights = sum((a + 1) * b for a, b in zip([2, *widths], [*widths, 1]))
    if widths != [0] and (0 in widths or weights > arguments.MAX_TRAIN_WEIGHTS):  # "0": no hidden
        assert code == 2 and ("limit" in err or "widths" in err), err


@FUZZ
@given(extra=options(["--max-epochs", "--out"]))
def test_gates_never_dumps_a_traceback(extra, quick, capsys):
    with in_a_temporary_folder():
        run_main(["gates", *extra, "--max-epochs=3"], capsys)


@FUZZ
@given(
    expression=st.one_of(
        hostile, st.text(alphabet="ab+-*/().0123456789 etanhsigmodlxprcu", max_size=120)
    ),
    values=st.lists(hostile, max_size=3),
    extra=options(["--network", "--x", "--seed", "--rankdir", "--out"]),
    steps=st.booleans(),
)
def test_graph_never_dumps_a_traceback(expression, values, extra, steps, quick, capsys):
    with in_a_temporary_folder():
        argv = ["graph", expression, *[f"--value={value}" for value in values], *extra]
        run_main([*argv, *(["--steps"] if steps else [])], capsys)


@FUZZ
@given(
    network=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=4).flatmap(
        lambda widths: st.sampled_from([widths, [*widths, 1]])
    ),
    steps=st.booleans(),
)
def test_graph_refuses_or_draws_any_network(network, steps, quick, capsys):
    with in_a_temporary_folder():
        argv = ["graph", f"--network={','.join(map(str, network))}", "--out=net.svg"]
        code, _, err = run_main([*argv, *(["--steps", "--out=steps"] if steps else [])], capsys)
    weights = sum((a + 1) * b for a, b in zip(network, network[1:]))
    if weights > arguments.MAX_SCALAR_WEIGHTS:
        assert code == 2, err


@FUZZ
@given(weights=st.lists(json_texts, min_size=1, max_size=3), extra=options(["--x", "--y", "--lr"]))
def test_explain_options_never_dump_a_traceback(weights, extra, capsys):
    run_main(["explain", *[f"--weights={w}" for w in weights], "--x=1", "--y=1", *extra], capsys)


@FUZZ
@given(content=file_contents, extra=options(["--lr"]))
def test_explain_json_files_never_dump_a_traceback(content, extra, capsys):
    with in_a_temporary_folder() as folder:
        (folder / "net.json").write_bytes(content)
        run_main(["explain", "--json=net.json", *extra], capsys)


@FUZZ
@given(content=st.binary(max_size=2000), command=st.sampled_from(["xor", "train"]))
def test_loading_a_hostile_model_file_is_one_line(content, command, quick, capsys):
    with in_a_temporary_folder() as folder:
        (folder / "model.npz").write_bytes(content)
        argv = [command, *(["moons"] if command == "train" else []), "--quiet", "--epochs=1"]
        code, _, err = run_main([*argv, "--load=model.npz"], capsys)
        assert code == 2 and "--load model.npz" in err, err


def not_importable(text):
    """A spec whose module part cannot name a module (importing arbitrary ones is no fuzz)."""
    module = text.partition(":")[0]
    return ":" not in text or not all(part.isidentifier() for part in module.split("."))


specs = st.one_of(
    hostile.filter(not_importable),
    st.sampled_from(["nocolon", ":", "a:", ":b", "tinygrad_bp.engine:NoSuchClass", "builtins:int"]),
)


@FUZZ
@given(spec=specs, extra=options(["--max-examples"]))
def test_check_engine_refuses_a_hostile_spec_in_one_line(spec, extra, capsys):
    code, _, _ = run_main(["check-engine", *extra, "--", spec], capsys)
    assert code == 2


@FUZZ
@given(argv=st.lists(hostile, max_size=4))
def test_any_top_level_arguments(argv, capsys):
    """Random words where the subcommand goes: an invalid choice, help, or a subcommand's error."""
    if argv and argv[0] in ("xor", "train", "gates", "graph", "check-engine"):
        return  # those run; their own tests bound them
    run_main(argv, capsys)


# -- Ctrl-C for real -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, history",
    [
        (["xor", "--epsilon", "1e-300", "--epochs", "1000000", "--print-every", "1"], "xor"),
        (["train", "spirals", "--hidden", "64,64", "--n", "2000", "--epochs", "100000"], "spirals"),
        (["xor", "--epsilon", "1e-300", "--epochs", "1000000", "--print-every", "1"], None),
    ],
    ids=["xor", "train", "xor-without-out"],
)
def test_ctrl_c_stops_training_with_130_and_keeps_the_history(argv, history, tmp_path):
    out = ["--out", str(tmp_path / "out")] if history else []
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_bp", *argv, *out],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    lines = [process.stdout.readline() for _ in range(2)]  # the header, then epoch 1
    assert "epoch      1" in lines[1], lines
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines() == ["tinygrad-bp: interrupted"]
    assert "interrupted after " in stdout
    written = [
        Path(line.removeprefix("wrote "))
        for line in stdout.splitlines()
        if line.startswith("wrote ")
    ]
    if history is None:
        assert written == []
        return
    names = sorted(path.name for path in written)
    assert names == [f"{history}_loss.csv", f"{history}_loss.png"]
    for path in written:
        assert (tmp_path / path).is_file() and (tmp_path / path).stat().st_size > 0
    rows = (tmp_path / "out" / f"{history}_loss.csv").read_text().splitlines()
    epochs = int(stdout.split("interrupted after ")[1].split()[0])
    assert rows[0] == "epoch,loss" and len(rows) == epochs + 1 >= 2
