"""``python -m tinygrad_bp`` (also ``tinygrad-bp``): replay the tutorial's claims.

Subcommands (``--help`` on each says more):

    worked-example   the derivation's one-step example, by autograd and by the formulas
    explain          the same table for any small sigmoid network, input and target
    xor              train the 2-2-1 sigmoid network on XOR
    gates            the perceptron on AND/OR/NOT/XOR, and XOR from OR, NAND and AND
    graph            draw the computation graph of an expression or a small network
    train            train a tensor MLP on a toy data set and plot what it learnt
    check-engine     run the engine checks on a Value class (when tinygrad_bp.testing exists)

Exit status: 0 when the claim holds, 1 when it does not (e.g. training did not
reach the target, or the two computations disagree), 2 on bad arguments or bad
input, reported as one line on stderr, 130 (128 + SIGINT) when Ctrl-C stopped
it, and 141 (128 + SIGPIPE, what the shell reports for ``cat`` or ``yes`` in the
same place) when the reader of stdout went away, as in ``tinygrad-bp
check-engine ... | head -3``: silently, since nothing went wrong that the user
has to know about.

Bad input means what the user named or gave: arguments, which every parser and
option handler validates before any work (raising ``UsageError``), files that
cannot be read or written, and a missing Graphviz. Sizes are bad input too when
they are too large to be sensible: every subcommand checks them against the
``MAX_*`` limits below before it starts, names the limit in its message and in
its ``--help``, so that nothing runs unbounded. Running out of memory anyway is
reported in one line as well. Any other exception is a bug and keeps its
traceback.

Ctrl-C stops any subcommand with status 130 and one line on stderr, no
traceback; ``xor`` and ``train`` first write the loss history so far (with
``--out``) and print where.

Each subcommand is argparse wiring and printing over the library: the networks
come from ``nn``, the training from ``train``, the expressions from ``expression``,
the pictures from ``viz``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, data, delta, explain, nn, validate, viz
from .engine import Value
from .expression import (
    ALLOWED_METHODS,
    MAX_EXPRESSION_LENGTH,
    MAX_EXPRESSION_NODES,
    parse_expression,
)
from .graph import no_grad, toposort
from .nn import ACTIVATIONS, MLP, get_weights, sigmoid_network, tensor_mlp
from .perceptron import perceptron_on_gates
from .train import OPTIMIZERS, fit, train_on_dataset, write

PROG = "tinygrad-bp"
# The activations a hidden layer may have: those of the one table with a module.
HIDDEN_ACTIVATIONS = tuple(name for name, row in ACTIVATIONS.items() if row.module is not None)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as the shell reports for a command stopped by Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports for a filter killed by SIGPIPE

# -- limits: sizes refused before any work, each named in its message and in --help -----
MAX_EPOCHS = 1_000_000  # xor --epochs, train --epochs, gates --max-epochs
MAX_POINTS = 100_000  # train --n
MAX_HIDDEN_LAYERS = 100  # train --hidden
MAX_TRAIN_WEIGHTS = 1_000_000  # train: the network's weights and biases
MAX_BATCH_UNITS = 10_000_000  # train: points per batch x units, the activations held at once
MAX_TRAIN_WORK = 10**12  # train: epochs x training points x weights, the multiply-adds
MAX_SCALAR_WEIGHTS = 1_000  # explain: one Value (and table row) per weight
MAX_JSON_BYTES = 1_000_000  # explain --json FILE, and each --weights


class UsageError(Exception):
    """Bad arguments or bad input: reported as one line on stderr, exit status 2."""


# -- subcommands -------------------------------------------------------------------------


def _say(args: argparse.Namespace, *lines: str) -> None:
    """Print unless --quiet."""
    if not getattr(args, "quiet", False):
        print(*lines, sep="\n")


def _out_dir(args: argparse.Namespace) -> Path | None:
    """The --out directory for plots, created; checked before any work is done."""
    if args.out is None:
        return None
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError(f"--out needs matplotlib: {viz.INSTALL_MATPLOTLIB}")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the directory {args.out}: {error.strerror}") from None
    return out


def _report_files(paths: Sequence[Path]) -> None:
    for path in paths:
        print(f"wrote {path}")


def cmd_worked_example(args: argparse.Namespace) -> int:
    print("The derivation's worked example: one online step of a 2-2-1 sigmoid network")
    print(f"input x = {explain.WORKED_INPUT.tolist()}, target y = 1, lr = {explain.WORKED_LR}")
    print("(o[l][j]: unit j of layer l; w[l][i,j]: weight from unit i below, 0 = bias)\n")
    table = explain.worked_example()
    print(table)
    return 0 if table.ok else 1


def cmd_explain(args: argparse.Namespace) -> int:
    weights, x, y, lr = _explain_inputs(args)
    table = explain.explain(weights, x, y, lr)  # checks the numbers and their shapes
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    print(f"one online step: x = {x.tolist()}, y = {y.tolist()}, lr = {lr}\n")
    print(table)
    if args.code:
        print("\nthe same step as traced code (tinygrad_bp.trace), each line's value after it:\n")
        print(explain.traced_code(weights, x, y))
    return 0 if table.ok else 1


def _explain_inputs(args: argparse.Namespace) -> tuple[Any, Any, Any, float]:
    """weights, x, y and lr from --json FILE or from --weights/--x/--y/--lr."""
    if args.json is not None:
        if args.weights or args.x is not None or args.y is not None:
            raise UsageError("give either --json FILE or --weights/--x/--y, not both")
        spec = _read_json(args.json)
        missing = [key for key in ("weights", "x", "y") if key not in spec]
        if missing:
            raise UsageError(f"{args.json}: missing key(s) {', '.join(missing)}")
        weights, x, y = spec["weights"], spec["x"], spec["y"]
        lr = spec.get("lr", args.lr)
    else:
        if not args.weights or args.x is None or args.y is None:
            raise UsageError("give --weights (once per layer), --x and --y, or --json FILE")
        weights = [_json_value(text, "--weights") for text in args.weights]
        x, y, lr = args.x, args.y, args.lr
    try:
        lr = validate.real("lr", lr)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None
    _check_network(weights, x, y)
    return weights, x, y, lr


def _check_network(weights: Any, x: Any, y: Any) -> None:
    """UsageError unless the user's weights, x and y are numbers that fit together."""
    try:
        checked = explain._checked(weights, x, y)[0]  # what explain() and autograd_pass() do
    except ValueError as error:
        raise UsageError(str(error)) from None
    except OverflowError:  # an integer of hundreds of digits
        raise UsageError("a number of the weights, x or y is too large for a float") from None
    count = sum(matrix.size for matrix in checked)
    if count > MAX_SCALAR_WEIGHTS:
        raise UsageError(
            f"the network has {count:,} weights; at most {MAX_SCALAR_WEIGHTS:,} are shown "
            "(one Value and one table row each)"
        )


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_JSON_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    if len(raw) > MAX_JSON_BYTES:
        raise UsageError(f"{path} is longer than the limit of {MAX_JSON_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 text (byte {error.start})") from None
    spec = _json_value(text, path)
    if not isinstance(spec, dict):
        raise UsageError(f"{path} must hold a JSON object with weights, x, y and lr")
    return spec


def _json_value(text: str, source: str) -> Any:
    """The JSON value of ``text`` (at most MAX_JSON_BYTES long); UsageError naming ``source``."""
    if len(text) > MAX_JSON_BYTES:
        raise UsageError(f"{source} is longer than the limit of {MAX_JSON_BYTES:,} bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{source}: malformed JSON: {error}") from None
    except RecursionError:
        raise UsageError(f"{source}: malformed JSON: nested too deeply") from None
    except ValueError as error:  # an integer of more than 4300 digits
        raise UsageError(f"{source}: malformed JSON: {error}") from None


# -- argument types: argparse parses the text, validate checks the number ----------------

_SUBJECT = "value"  # the name validate's messages start with, cut off: argparse names the flag


def _number(kind: type, **bounds: Any) -> Callable[[str], Any]:
    """An argparse type: the text as an ``int`` or ``float``, checked by ``validate``.

    ``bounds`` are those of ``validate.integer`` (minimum, maximum) or ``validate.real``
    (minimum, maximum, finite, positive); a bad value gets validate's message, e.g.
    "argument --epochs: must be at least 1, got 0".
    """
    check = validate.integer if kind is int else validate.real
    expected = "an integer" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            number = kind(text)
        except ValueError:  # not a number, or an integer of more than 4300 digits
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r:.40}") from None
        try:
            return check(_SUBJECT, number, **bounds)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix(f"{_SUBJECT} ")) from None

    return parse


_positive_int = _number(int, minimum=1)
_epochs = _number(int, minimum=1, maximum=MAX_EPOCHS)
_seed = _number(int, minimum=0)  # numpy's generators need >= 0
_port = _number(int, minimum=0, maximum=65535)  # 0: the system picks a free port
_point_count = _number(int, minimum=2, maximum=MAX_POINTS)  # every data set has 2 classes
_positive_float = _number(float, positive=True)
_finite_float = _number(float)
_test_fraction = _number(float, minimum=0.0, maximum=0.9)
_width = _number(int, minimum=1)


def _path_text(text: str) -> str:
    """argparse type of the paths (--out, --json, --save, --load): any text but NUL."""
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"a path cannot contain a NUL character, got {text!r:.40}")
    return text


def _number_list(text: str) -> list[float]:
    """argparse type: "1,0.5,-2" -> [1.0, 0.5, -2.0]."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        message = f"expected numbers separated by commas, got {text!r:.40}"
        raise argparse.ArgumentTypeError(message) from None


def _widths(text: str) -> list[int]:
    """argparse type: "8,8" -> [8, 8]; "0" -> [] (no hidden layer)."""
    if text.strip() == "0":
        return []
    parts = text.split(",")
    if len(parts) > MAX_HIDDEN_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_HIDDEN_LAYERS} layers, got {len(parts):,}")
    try:
        return [_width(part) for part in parts]
    except argparse.ArgumentTypeError:
        message = f"expected positive widths like 8,8 (or 0 for none), got {text!r:.40}"
        raise argparse.ArgumentTypeError(message) from None


def _weight_count(sizes: Sequence[int]) -> int:
    """The weights and biases of a fully connected network with these layer widths."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))


def _assignment(text: str) -> tuple[str, float]:
    """argparse type: "a=2" -> ("a", 2.0)."""
    name, _, number = text.partition("=")
    try:
        value = float(number)
    except ValueError:
        value = None
    if not name.isidentifier() or value is None:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r:.40}")
    return name, value


# -- models: --load, --save, and what a run writes when Ctrl-C stops it -------------------


def _check_save_path(path: str | None) -> None:
    """UsageError, before any training, when --save names a place no file can be written."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--save {path}: is a directory")
    if not target.parent.is_dir():
        raise UsageError(f"--save {path}: no directory {str(target.parent)!r}")


def _load_model(model: nn.Module, path: str) -> None:
    """nn.load, with what can go wrong (OSError, ValueError) as a UsageError."""
    try:
        nn.load(model, path)
    except OSError as error:
        raise UsageError(f"--load {path}: {error.strerror or error}") from None
    except ValueError as error:
        problems = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        raise UsageError(f"--load {path}: {problems}") from None


def _save_model(model: nn.Module, path: str | None) -> None:
    if path is None:
        return
    try:
        print(f"wrote {nn.save(model, path)}")
    except (OSError, ValueError) as error:
        raise UsageError(f"--save {path}: {getattr(error, 'strerror', None) or error}") from None


class _LossLog:
    """The on_epoch callback of xor and train: keeps every loss, prints some of them."""

    def __init__(self, args: argparse.Namespace, every: int, name: str) -> None:
        self.args, self.every, self.name = args, every, name
        self.losses: list[float] = []

    def __call__(self, epoch: int, loss: float) -> None:
        self.losses.append(loss)
        if (epoch == 1 or epoch % self.every == 0) and not getattr(self.args, "quiet", False):
            write(f"  epoch {epoch:>6}   {self.name} = {loss:.6f}")  # above the bar, never on it


def _write_history(
    out: Path | None, name: str, title: str, losses: list[float], loss: str = "loss"
) -> list[Path]:
    """The loss per epoch as NAME_loss.csv and NAME_loss.png in ``out`` (nothing without it).

    ``loss`` names the loss on the plot's axis ("J" for the derivation's half SSE).
    """
    if out is None or not losses:
        return []
    table = out / f"{name}_loss.csv"
    rows = "".join(f"{epoch},{loss!r}\n" for epoch, loss in enumerate(losses, start=1))
    table.write_text(f"epoch,loss\n{rows}", encoding="utf-8")
    plot = viz.plot_losses({name: losses}, out / f"{name}_loss.png", title, ylabel=loss)
    return [table, plot]


def _interrupted(out: Path | None, name: str, title: str, log: _LossLog, epochs: int) -> int:
    """After Ctrl-C in training: the history so far written and reported; status 130."""
    done = len(log.losses)
    last = f", {log.name} = {log.losses[-1]:.6f}" if done else ""
    print(f"interrupted after {done} of {epochs} epochs{last}")
    stopped = f"{title} (interrupted at epoch {done})"
    _report_files(_write_history(out, name, stopped, log.losses, log.name))
    print(f"{PROG}: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


XOR_TITLE = "XOR truth table, 2-2-1 sigmoid network, online SGD: J per epoch"


def cmd_xor(args: argparse.Namespace) -> int:
    out_dir = _out_dir(args)
    _check_save_path(args.save)
    X, y = data.xor()
    net = MLP(2, [2, 1], rng=args.seed)
    start = f"seed {args.seed}"
    if args.load is not None:
        _load_model(net, args.load)
        start = f"from {args.load}"
    print(f"Training the 2-2-1 sigmoid network on XOR: online SGD, lr {args.lr}, {start}")
    log = _LossLog(args, args.print_every, "J")
    try:
        history = fit(
            net,
            X,
            y,
            lr=args.lr,
            epochs=args.epochs,
            epsilon=args.epsilon,
            progress=False if args.quiet else None,
            on_epoch=log,
        )
    except KeyboardInterrupt:
        return _interrupted(out_dir, "xor", XOR_TITLE, log, args.epochs)
    status = "converged" if history.converged else "did not reach epsilon"
    print(f"{status} after {history.epochs} epochs, J = {history.losses[-1]:.6f}")
    print("\n x1  x2 | target  output")
    correct = 0
    for x_row, target in zip(X, y):
        output = net(x_row.tolist())
        assert isinstance(output, Value)  # the network has one output unit
        out = output.data
        correct += (out > 0.5) == (target > 0.5)
        print(f" {x_row[0]:.0f}   {x_row[1]:.0f}  |   {target:.0f}     {out:.4f}")
    print(f"\n{correct}/4 outputs on the right side of 0.5")
    print("learnt weights (bias row first):")
    weights = get_weights(net)
    for w in weights:
        print(np.array2string(w, precision=4))
    _save_model(net, args.save)
    if out_dir is not None:
        network = sigmoid_network(weights)  # a tensor copy, to shade the plane quickly
        with no_grad():
            boundary = viz.plot_decision_boundary(
                lambda points: network(points).data,
                X,
                y,
                out_dir / "xor_boundary.png",
                "XOR truth table: the learnt 2-2-1 network's output",
            )
        _report_files(
            [
                *_write_history(out_dir, "xor", XOR_TITLE, history.losses, "J = ½ Σ (y − o)²"),
                boundary,
                viz.plot_network(
                    weights, out_dir / "xor_network.png", "XOR truth table: the learnt weights"
                ),
            ]
        )
    return 0 if correct == 4 else 1


def cmd_gates(args: argparse.Namespace) -> int:
    out_dir = _out_dir(args)
    print("The perceptron on the logic gates (step activation, perceptron rule):")
    results = perceptron_on_gates(args.max_epochs)
    for name, result in results.items():
        verdict = f"converged in {result.epochs} epochs" if result.converged else "never converged"
        print(f"  {name:<4} {verdict}")
    print("\nXOR from three sigmoid units: OR and NAND in the hidden layer, AND on top.")
    print(" x1  x2 |  OR  NAND | AND = XOR")
    for x_row in data.xor()[0]:
        hidden, out = delta.forward(list(explain.HAND_BUILT_XOR), x_row)[1:]
        print(
            f" {x_row[0]:.0f}   {x_row[1]:.0f}  | {hidden[0]:.2f}  {hidden[1]:.2f} |  {out[0]:.2f}"
        )
    if out_dir is not None:
        errors: dict[str, Sequence[int]] = {n: r.errors for n, r in results.items()}
        _report_files(
            [
                viz.plot_mistakes(
                    errors,
                    out_dir / "perceptron_errors.png",
                    "Perceptron on the truth tables:\n"
                    "AND, OR and NOT reach 0 mistakes, XOR never does",
                ),
                viz.plot_network(
                    explain.HAND_BUILT_XOR,
                    out_dir / "xor_by_hand.png",
                    "XOR truth table by hand: XOR = AND(OR, NAND)",
                    unit_names=[None, ["OR", "NAND"], ["AND"]],
                ),
            ]
        )
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    if not args.steps:
        suffix = Path(args.out or "graph.svg").suffix.lower()
        if suffix not in viz.SUPPORTED_SUFFIXES:
            raise UsageError(
                f"cannot render to {args.out!r}: unsupported suffix {suffix!r}; "
                f"use {', '.join(viz.SUPPORTED_SUFFIXES)} (see {PROG} graph --help)"
            )
    root, inputs = _graph_root(args)
    options = {
        "rankdir": args.rankdir,
        "show_constants": not args.hide_constants,
        "hidden": inputs if args.hide_inputs else (),
    }
    try:
        if args.steps:
            path = viz.render_backward(
                root, Path(args.out or "backward") / "backward.html", **options
            )
        else:
            path = viz.render(root, args.out or "graph.svg", **options)
    except viz.GraphTooLargeError as error:
        raise UsageError(f"{error} (see {PROG} graph --help)") from None
    print(f"wrote {path}")
    return 0


def _graph_root(args: argparse.Namespace) -> tuple[Value, list[Value]]:
    """The root of the expression or of --network's loss J, after one backward().

    Also the inputs --hide-inputs leaves out: the network's x1..xn (none for an
    expression, whose names are all it has).
    """
    if (args.expression is None) == (args.network is None):
        raise UsageError("give either an EXPRESSION or --network SIZES")
    if args.expression is not None:
        if args.hide_inputs:
            raise UsageError("--hide-inputs needs --network: an expression's names are its inputs")
        try:
            root = parse_expression(args.expression, dict(args.value))
        except ValueError as error:
            raise UsageError(f"{error} (see {PROG} graph --help)") from None
        root.backward()
        return root, []
    try:
        sizes = _widths(args.network)
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"--network: {error}") from None
    if len(sizes) < 2:
        raise UsageError(f"--network needs at least two widths like 2,2,1, got {args.network!r}")
    if sizes[-1] != 1:
        raise UsageError(f"--network draws one output unit (target y = 1), got {args.network!r}")
    if _weight_count(sizes) > viz.MAX_NODES:
        raise UsageError(
            f"--network {args.network} has {_weight_count(sizes):,} weights; a graph picture "
            f"draws at most {viz.MAX_NODES} nodes, so give a network of at most "
            f"{viz.MAX_NODES} weights (2,16,16,1 has 337)"
        )
    if sizes == [2, 2, 1]:
        weights = list(explain.WORKED_WEIGHTS)
    else:
        weights = get_weights(MLP(sizes[0], sizes[1:], rng=args.seed))
    x = explain.WORKED_INPUT if sizes[0] == 2 else np.ones(sizes[0])
    x = x if args.x is None else np.array(args.x)
    _check_network(weights, x, explain.WORKED_TARGET)
    run = explain.autograd_pass(weights, x, explain.WORKED_TARGET)  # backward done
    parameters = set(run.net.parameters())
    leaves = [node for node in toposort(run.loss) if not node.children]
    return run.loss, [leaf for leaf in leaves if leaf.label and leaf not in parameters]


def cmd_train(args: argparse.Namespace) -> int:
    out = _out_dir(args)
    _check_save_path(args.save)
    points, inputs, table = _dataset_shape(args.dataset, args.n)
    test_fraction = 0.0 if table else args.test_fraction
    held_out = min(round(test_fraction * points), points - 1)  # as train.split rounds it
    sizes = [inputs, *args.hidden, 1]
    _check_training_size(args, sizes, points - held_out)
    model = None
    if args.load is not None:
        model = tensor_mlp(sizes, args.activation, "sigmoid")
        _load_model(model, args.load)
    if args.hidden:
        shape = f"hidden layers {','.join(map(str, args.hidden))} ({args.activation})"
    else:
        shape = "no hidden layer (the tutorial's two-layer network: inputs into one sigmoid unit)"
    if table:
        split = f"all {points} rows of the truth table (too few to hold any out)"
    else:
        split = f"{points - held_out} points, {held_out} held out for testing"
    _say(args, f"Training {args.dataset} on {split}: {shape}, {_weight_count(sizes):,} weights")
    log = _LossLog(args, max(1, args.epochs // 10), "loss")
    kind = "binary cross-entropy" if args.dataset != "sine" else "mean squared error"
    title = f"{args.dataset}, {'-'.join(map(str, sizes))} network: {kind} per epoch"
    try:
        run = train_on_dataset(
            args.dataset,
            hidden=args.hidden,
            activation=args.activation,
            optimizer=args.optimizer,
            lr=args.lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            n=args.n,
            progress=False if args.quiet else None,
            on_epoch=log,
            test_fraction=test_fraction,
            model=model,
            compile=not args.no_compile,
        )
    except KeyboardInterrupt:
        return _interrupted(out, args.dataset, title, log, args.epochs)
    print(f"final loss {run.history.losses[-1]:.6f} after {run.history.epochs} epochs")
    if run.classification:
        tested = f", test accuracy {run.test_accuracy:.1%}" if held_out else ""
        print(f"training accuracy {run.accuracy:.1%}{tested}")
    elif held_out:
        error = np.mean((run.predict(run.X_test) - run.y_test) ** 2)
        print(f"test mean squared error {error:.6f}")
    _save_model(run.model, args.save)
    if out is not None:
        name = args.dataset
        paths = _write_history(out, name, title, run.history.losses, kind)
        if run.classification:
            boundary_title = f"{name} data set: the trained network's decision boundary"
            paths.append(
                viz.plot_decision_boundary(
                    run.predict, run.X, run.y, out / f"{name}_boundary.png", boundary_title
                )
            )
        else:
            fit_title = f"{name} data set: the trained network's function"
            paths.append(
                viz.plot_fitted_curve(run.predict, run.X, run.y, out / f"{name}_fit.png", fit_title)
            )
        _report_files(paths)
    return 0


def _dataset_shape(name: str, n: int) -> tuple[int, int, bool]:
    """(points, inputs, is a fixed truth table) of the data set ``train`` loads with ``n``.

    Read from a sample of 3 points: a truth table (xor) ignores n and keeps its 4 rows.
    """
    sample = data.load(name, n=3, rng=0)[0]
    table = len(sample) != 3
    return (len(sample) if table else n), sample.shape[1], table


def _check_training_size(args: argparse.Namespace, sizes: list[int], points: int) -> None:
    """UsageError, before any work, when training would not fit in memory or in an evening."""
    weights = _weight_count(sizes)
    if weights > MAX_TRAIN_WEIGHTS:
        raise UsageError(
            f"a {'-'.join(map(str, sizes))} network has {weights:,} weights, more than the "
            f"limit of {MAX_TRAIN_WEIGHTS:,} (see {PROG} train --help)"
        )
    batch = min(args.batch_size or points, points)
    units = batch * sum(sizes[1:])
    if units > MAX_BATCH_UNITS:
        raise UsageError(
            f"a batch of {batch:,} points through {sum(sizes[1:]):,} units holds {units:,} "
            f"activations, more than the limit of {MAX_BATCH_UNITS:,}; use --batch-size"
        )
    work = args.epochs * points * weights
    if work > MAX_TRAIN_WORK:
        raise UsageError(
            f"{args.epochs:,} epochs x {points:,} points x {weights:,} weights is {work:.1e} "
            f"multiply-adds, more than the limit of {MAX_TRAIN_WORK:,}; use fewer"
        )


def cmd_check_engine(args: argparse.Namespace) -> int:
    try:
        from . import testing
    except ImportError as error:  # Hypothesis, a test dependency, is missing
        raise UsageError(f"check-engine: {error}") from None
    try:  # each check runs isolated: the only errors left are about the spec and the class
        value_class = testing.load_class(args.spec)
        report = testing.check_engine(value_class, args.max_examples, args.timeout)
    except (ValueError, ImportError, AttributeError, TypeError) as error:
        raise UsageError(str(error).splitlines()[0]) from None
    print(report)
    return 0 if report else 1


# -- the parser --------------------------------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every --help shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (a UsageError), not usage + exit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)  # the subcommands' parsers too
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand (``--help`` on each)."""
    parser = _Parser(prog=PROG, description="Replay the backpropagation tutorial with tinygrad_bp.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_worked_example(commands)
    _add_explain(commands)
    _add_xor(commands)
    _add_gates(commands)
    _add_graph(commands)
    _add_train(commands)
    _add_check_engine(commands)
    _add_watch(commands)
    return parser


def _add_worked_example(commands: Any) -> None:
    worked = commands.add_parser(
        "worked-example",
        help="the derivation's one-step XOR example, by autograd and by formula",
        description="Every number of the tutorial's worked example (2-2-1 network, x = (1, 0), "
        "y = 1, lr = 0.5): activations, J, deltas, weight updates and new weights, each by "
        "autograd and by the delta rules, with a column saying whether they agree.",
    )
    worked.set_defaults(run=cmd_worked_example)


def _add_explain(commands: Any) -> None:
    command = commands.add_parser(
        "explain",
        help="the derivation's table for any small sigmoid network",
        description="One online step of a fully connected sigmoid network on one example, "
        "by autograd and by the delta rules. Weights follow the derivation: one matrix per "
        "layer of shape (n_in + 1, n_out), row 0 the biases. Limits: at most "
        f"{MAX_SCALAR_WEIGHTS:,} weights, and {MAX_JSON_BYTES:,} bytes of JSON per file or "
        "--weights.",
        epilog='example: explain --weights "[[1,1],[0.25,0.15],[0.2,0.1]]" '
        '--weights "[[1],[0.3],[0.4]]" --x 1,0 --y 1 --lr 0.5   (or: explain --json '
        "examples/net.json, the same network as a file)",
    )
    command.add_argument(
        "--weights", action="append", metavar="JSON", help="one layer's matrix (repeat per layer)"
    )
    command.add_argument("--x", type=_number_list, help="the input, e.g. 1,0")
    command.add_argument("--y", type=_number_list, help="the target, e.g. 1")
    command.add_argument("--lr", type=_finite_float, default=0.5, help="learning rate")
    command.add_argument("--code", action="store_true", help="also print the traced step's code")
    command.add_argument(
        "--json",
        type=_path_text,
        metavar="FILE",
        help='a file {"weights": [...], "x": [...], "y": [...], "lr": ..}',
    )
    command.set_defaults(run=cmd_explain)


def _add_model_files(command: argparse.ArgumentParser) -> None:
    """--save and --load, as xor and train take them (nn.save's .npz archive)."""
    command.add_argument(
        "--load",
        type=_path_text,
        metavar="FILE",
        help="start from the weights in FILE (written by --save)",
    )
    command.add_argument(
        "--save", type=_path_text, metavar="FILE", help="write the trained weights to FILE (.npz)"
    )


def _add_xor(commands: Any) -> None:
    xor = commands.add_parser(
        "xor",
        help="train the 2-2-1 sigmoid network on XOR",
        description="Online gradient descent on J = 1/2 sum (y - o)^2 until J < epsilon. "
        "Ctrl-C stops it with status 130, after writing the loss so far (with --out).",
    )
    xor.add_argument("--lr", type=_positive_float, default=2.0, help="learning rate")
    xor.add_argument(
        "--epochs", type=_epochs, default=5000, help=f"most epochs, at most {MAX_EPOCHS:,}"
    )
    xor.add_argument("--epsilon", type=_positive_float, default=0.01, help="stop when J < epsilon")
    xor.add_argument("--seed", type=_seed, default=1, help="seed of the initial weights")
    xor.add_argument("--print-every", type=_positive_int, default=50, help="epochs between lines")
    xor.add_argument("--quiet", action="store_true", help="print only the result")
    xor.add_argument(
        "--out",
        type=_path_text,
        metavar="DIR",
        help="write the loss (PNG and CSV), boundary and network here",
    )
    _add_model_files(xor)
    xor.set_defaults(run=cmd_xor)


def _add_gates(commands: Any) -> None:
    gates = commands.add_parser(
        "gates",
        help="perceptron vs XOR, and the OR/NAND/AND network",
        description="The perceptron rule learns AND, OR and NOT but never XOR; three sigmoid "
        "units (OR, NAND, then AND) compute XOR.",
    )
    gates.add_argument(
        "--max-epochs", type=_epochs, default=100, help=f"epochs per gate, at most {MAX_EPOCHS:,}"
    )
    gates.add_argument(
        "--out", type=_path_text, metavar="DIR", help="write the mistakes plot and network here"
    )
    gates.set_defaults(run=cmd_gates)


def _add_graph(commands: Any) -> None:
    graph = commands.add_parser(
        "graph",
        help="draw the computation graph of an expression or a small network",
        description="Draw the graph of an expression (after backward, so every node shows "
        "its grad) or of a sigmoid network's loss J. Expressions may use names, numbers, "
        "+ - * / **, unary minus and the methods " + ", ".join(ALLOWED_METHODS) + ". "
        f"Limits, so that Graphviz draws it in a moment: an expression of at most "
        f"{MAX_EXPRESSION_LENGTH} characters and {MAX_EXPRESSION_NODES} names, numbers and "
        f"operations; a network of at most {viz.MAX_NODES} weights; at most {viz.MAX_NODES} "
        f"values drawn (the rest collapse into one node), edges crossing at most "
        f"{viz.MAX_EDGE_LENGTH} layers in all (a name used by many operations makes long "
        f"edges), and for --steps at most {viz.MAX_FRAMES} steps and a "
        f"{viz.MAX_PAGE_BYTES // 1_000_000} MB page.",
        epilog='example: graph "(a*b + c).tanh()" --value a=2 --value b=-1 --value c=1.5',
    )
    graph.add_argument("expression", nargs="?", help='e.g. "(a*b + c).tanh()"')
    graph.add_argument(
        "--value",
        type=_assignment,
        action="append",
        default=[],
        metavar="NAME=NUMBER",
        help="the number a name of the expression stands for (repeat per name)",
    )
    graph.add_argument(
        "--network", metavar="SIZES", help="e.g. 2,2,1 (the worked example's weights)"
    )
    graph.add_argument("--x", type=_number_list, help="the network's input (default 1,0)")
    graph.add_argument("--seed", type=_seed, default=0, help="weights of other network sizes")
    graph.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="layout direction")
    graph.add_argument(
        "--steps",
        action="store_true",
        help="write backward.html, a step-through of backward (at most "
        f"{viz.MAX_FRAMES} steps), into --out DIR",
    )
    graph.add_argument(
        "--hide-constants",
        action="store_true",
        help="leave out unlabelled constants (the 0.5 of J): their value is written on the op",
    )
    graph.add_argument(
        "--hide-inputs", action="store_true", help="leave out the network's inputs x1..xn"
    )
    graph.add_argument(
        "--out",
        type=_path_text,
        help="the picture file (.svg/.png/.pdf, default graph.svg); a DIR with --steps",
    )
    graph.set_defaults(run=cmd_graph)


def _add_train(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train a tensor MLP on a toy data set",
        description="Train a tensor MLP with a sigmoid output unit (binary cross-entropy for "
        "the classification sets, mean squared error for sine) on part of the points, "
        "report how it does on the points held out, and plot the result. Limits, checked "
        f"before training: {MAX_POINTS:,} points, {MAX_HIDDEN_LAYERS} hidden layers, "
        f"{MAX_TRAIN_WEIGHTS:,} weights, {MAX_BATCH_UNITS:,} activations per batch (points "
        f"per batch x units), {MAX_TRAIN_WORK:,} multiply-adds in all (epochs x points x "
        "weights). Ctrl-C stops it with status 130, after writing the loss so far (with --out).",
    )
    train.add_argument("dataset", choices=data.DATASETS, help="the data set")
    train.add_argument(
        "--hidden",
        type=_widths,
        default=[8],
        help="hidden widths, e.g. 16,16; 0 for no hidden layer (the tutorial's two-layer "
        "network: the inputs straight into the sigmoid output unit)",
    )
    train.add_argument(
        "--activation",
        choices=HIDDEN_ACTIVATIONS,
        default="tanh",
        help="the hidden units' activation",
    )
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam", help="optimiser")
    train.add_argument("--lr", type=_positive_float, default=0.05, help="learning rate")
    train.add_argument(
        "--epochs", type=_epochs, default=500, help=f"epochs, at most {MAX_EPOCHS:,}"
    )
    train.add_argument("--batch-size", type=_positive_int, help="default: all training points")
    train.add_argument(
        "--n", type=_point_count, default=200, help=f"number of points, at most {MAX_POINTS:,}"
    )
    train.add_argument(
        "--test-fraction",
        type=_test_fraction,
        default=0.25,
        help="part of the points held out to test on (xor's 4 rows are all trained on)",
    )
    train.add_argument("--seed", type=_seed, default=0, help="seed of data, split and weights")
    train.add_argument("--quiet", action="store_true", help="print only the result")
    train.add_argument(
        "--out",
        type=_path_text,
        metavar="DIR",
        help="write the loss (PNG and CSV) and boundary/fit plots here",
    )
    _add_model_files(train)
    train.add_argument("--no-compile", action="store_true", help="run every step eagerly")
    train.set_defaults(run=cmd_train)


def _add_check_engine(commands: Any) -> None:
    check = commands.add_parser(
        "check-engine",
        help="check a Value class op by op against finite differences",
        description="Load module:ClassName and run tinygrad_bp.testing.check_engine on it.",
    )
    check.add_argument("spec", metavar="module:ClassName", help="e.g. micrograd.engine:Value")
    check.add_argument(
        "--max-examples", type=_positive_int, default=100, help="Hypothesis examples per check"
    )
    check.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="time limit of each check: a check still running then fails (default: %(default)g)",
    )
    check.set_defaults(run=cmd_check_engine)


def _add_watch(commands: Any) -> None:
    from .watch import record, session

    command = commands.add_parser(
        "watch",
        help="a live page on which a network trains (or --record a run as one page)",
        description="Serve, on 127.0.0.1 only, a page on which a scalar MLP (sigmoid output "
        "unit, loss J = 1/2 sum (y - o)^2, plain gradient descent) trains live: the network "
        "with its weights, the decision boundary, the loss curve, and each neuron's delta "
        "rule with the numbers plugged in. The page starts paused; Ctrl-C stops the server. "
        f"Limits: at most {session.MAX_LAYERS} hidden layers of {session.MAX_WIDTH} units, "
        f"lr at most {session.MAX_LR:g}.",
        epilog=f"--record PAGE writes a finished run of --epochs epochs (at most "
        f"{record.MAX_EPOCHS}) as one self-contained page with a slider, keeping at most "
        f"{record.MAX_FRAMES} frames (epochs sampled evenly). Example: {PROG} watch --dataset "
        "moons --hidden 8 --record moons.html --epochs 500",
    )
    hidden = ", ".join(
        f"{name} {','.join(map(str, widths))}" for name, widths in session.DEFAULT_HIDDEN.items()
    )
    rates = ", ".join(f"{name} {lr:g}" for name, lr in session.DEFAULT_LR.items())
    command.add_argument("--dataset", choices=session.DATASETS, default="xor")
    command.add_argument(
        "--hidden", type=_widths, help=f"hidden widths, e.g. 8,8; 0 for none ({hidden})"
    )
    command.add_argument("--activation", choices=session.ACTIVATIONS, default="sigmoid")
    command.add_argument("--lr", type=_positive_float, help=f"learning rate ({rates})")
    command.add_argument("--batch", action="store_true", help="one update per epoch, not online")
    command.add_argument("--seed", type=_seed, default=0, help="seed of data and weights (0)")
    command.add_argument("--port", type=_port, default=8765, help="0 picks a free one")
    command.add_argument("--no-browser", action="store_true", help="only print the page's URL")
    command.add_argument("--record", metavar="PAGE", help="write a finished run to PAGE instead")
    command.add_argument("--epochs", type=_positive_int, help="epochs to --record (default 1000)")
    command.set_defaults(run=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    from .train import ProgressBar
    from .watch import record, server, session

    try:
        config = session.make_config(
            dataset=args.dataset,
            hidden=args.hidden,
            activation=args.activation,
            lr=args.lr,
            seed=args.seed,
            online=not args.batch,
        )
    except ValueError as error:
        raise UsageError(f"{error} (see {PROG} watch --help)") from None
    if args.record is None:
        if args.epochs is not None:
            raise UsageError("--epochs goes with --record PAGE")
        try:
            httpd = server.WatchServer(session.Session(config), args.port)
        except OSError as error:
            message = f"cannot listen on 127.0.0.1:{args.port}: {error.strerror}"
            raise UsageError(f"{message} (--port 0 picks a free port)") from None
        return server.serve(httpd, open_browser=not args.no_browser)
    epochs = 1000 if args.epochs is None else args.epochs
    if epochs > record.MAX_EPOCHS:
        raise UsageError(f"--epochs: at most {record.MAX_EPOCHS}, got {epochs}")
    if not Path(args.record).parent.is_dir():
        raise UsageError(f"{args.record}: no such directory {Path(args.record).parent}")
    bar = ProgressBar(epochs)
    try:
        done = record.record(config, epochs, args.record, on_epoch=bar.update)
    except KeyboardInterrupt:  # while the page was being written: the old file stays
        print(f"interrupted; {args.record} not written")
        return 130
    finally:
        bar.close()
    if done.interrupted:
        print(f"interrupted at epoch {done.epochs}; wrote {done.path} ({done.frames} frames)")
        return 130
    print(f"wrote {done.path}: {done.epochs} epochs, {done.frames} frames")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return the exit status.

    0 ok, 1 claim failed, 2 bad input (one line on stderr), 130 stopped by
    Ctrl-C, 141 stdout closed by its reader (silently). Only the user-facing
    errors are caught: ``UsageError`` (arguments and the data they give,
    validated up front), errors about a path the user named, a missing Graphviz,
    running out of memory and Ctrl-C. Any other exception, a ValueError from
    inside the library included, is a bug and propagates with its traceback.

    Example:
        >>> main(["gates", "--max-epochs", "0"])
        2
    """
    try:
        try:
            args = build_parser().parse_args(argv)
            return args.run(args)
        finally:
            sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except (UsageError, viz.GraphvizNotFoundError) as error:
        return _error(str(error))
    except OSError as error:
        if error.filename is None:  # not about a path the user named (--out, --json, ...)
            raise
        return _error(f"{error.filename}: {error.strerror}")
    except MemoryError:
        return _error("out of memory; try smaller sizes (the limits are in --help)")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _error(message: str) -> int:
    """Report bad input as one line on stderr; the exit status 2."""
    line = message.splitlines()[0] if message else "bad input"
    print(f"{PROG}: error: {line}", file=sys.stderr)
    return 2


def _discard_stdout() -> None:
    """Point stdout's file descriptor at /dev/null after a broken pipe.

    The recipe of the Python docs (signal module, "Note on SIGPIPE"): the output
    still buffered would otherwise fail again when the interpreter flushes it on
    exit, printing "Exception ignored ... BrokenPipeError".
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # a stdout with no file descriptor
        pass


if __name__ == "__main__":
    sys.exit(main())
