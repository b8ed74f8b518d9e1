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
input, reported as one line on stderr, and 141 (128 + SIGPIPE, what the shell
reports for ``cat`` or ``yes`` in the same place) when the reader of stdout went
away, as in ``tinygrad-bp check-engine ... | head -3``: silently, since nothing
went wrong that the user has to know about.

Bad input means what the user named or gave: arguments, which every parser and
option handler validates before any work (raising ``UsageError``), files that
cannot be read or written, and a missing Graphviz. Any other exception is a bug
and keeps its traceback.

Each subcommand is argparse wiring and printing over the library: the networks
come from ``nn``, the training from ``train``, the expressions from ``expression``,
the pictures from ``viz``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import data, delta, explain, viz
from .engine import Value
from .expression import ALLOWED_METHODS, parse_expression
from .graph import no_grad, toposort
from .nn import MLP, get_weights, sigmoid_network
from .perceptron import perceptron_on_gates
from .train import OPTIMIZERS, fit, train_on_dataset

PROG = "tinygrad-bp"
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports for a filter killed by SIGPIPE

# Errors about a path the user named (--out, --json, a graph picture): one line, exit 2.
_PATH_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


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
        raise UsageError("--out needs matplotlib: pip install tinygrad_bp[plot]")
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
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise UsageError(f"lr must be a number, got {lr!r}")
    if not math.isfinite(lr):
        raise UsageError(f"lr must be a finite number, got {lr!r}")
    _check_network(weights, x, y)
    return weights, x, y, float(lr)


def _check_network(weights: Any, x: Any, y: Any) -> None:
    """UsageError unless the user's weights, x and y are numbers that fit together."""
    try:
        explain._checked(weights, x, y)  # the validation explain() and autograd_pass() do
    except ValueError as error:
        raise UsageError(str(error)) from None


def _read_json(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    spec = _json_value(text, path)
    if not isinstance(spec, dict):
        raise UsageError(f"{path} must hold a JSON object with weights, x, y and lr")
    return spec


def _json_value(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{source}: malformed JSON: {error}") from None


def _number_list(text: str) -> list[float]:
    """argparse type: "1,0.5,-2" -> [1.0, 0.5, -2.0]."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        message = f"expected numbers separated by commas, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def _widths(text: str) -> list[int]:
    """argparse type: "8,8" -> [8, 8]; "" or "0" -> [] (no hidden layer)."""
    if text.strip() in ("", "0"):
        return []
    try:
        widths = [int(part) for part in text.split(",")]
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected positive widths like 8,8, got {text!r}")
    return widths


def _integer_at_least(minimum: int, expected: str) -> Callable[[str], int]:
    """An argparse type accepting whole numbers >= ``minimum``; ``expected`` words the error."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = minimum - 1
        if number < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return number

    return parse


_positive_int = _integer_at_least(1, "a positive integer")
_seed = _integer_at_least(0, "a non-negative integer")  # numpy's generators need >= 0
_point_count = _integer_at_least(2, "an integer of at least 2")  # every data set has 2 classes


def _positive_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return number


def _assignment(text: str) -> tuple[str, float]:
    """argparse type: "a=2" -> ("a", 2.0)."""
    name, _, number = text.partition("=")
    try:
        value = float(number)
    except ValueError:
        value = None
    if not name.isidentifier() or value is None:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}")
    return name, value


def cmd_xor(args: argparse.Namespace) -> int:
    out_dir = _out_dir(args)
    X, y = data.xor()
    net = MLP(2, [2, 1], rng=args.seed)
    print(f"Training the 2-2-1 sigmoid network on XOR: online SGD, lr {args.lr}, seed {args.seed}")

    def report(epoch: int, loss: float) -> None:
        if epoch == 1 or epoch % args.print_every == 0:
            _say(args, f"  epoch {epoch:>6}   J = {loss:.6f}")

    history = fit(
        net,
        X,
        y,
        lr=args.lr,
        epochs=args.epochs,
        epsilon=args.epsilon,
        progress=False if args.quiet else None,
        on_epoch=report,
    )
    status = "converged" if history.converged else "did not reach epsilon"
    print(f"{status} after {history.epochs} epochs, J = {history.losses[-1]:.6f}")
    print("\n x1  x2 | target  output")
    correct = 0
    for x_row, target in zip(X, y):
        out = net(x_row.tolist()).data
        correct += (out > 0.5) == (target > 0.5)
        print(f" {x_row[0]:.0f}   {x_row[1]:.0f}  |   {target:.0f}     {out:.4f}")
    print(f"\n{correct}/4 outputs on the right side of 0.5")
    print("learnt weights (bias row first):")
    weights = get_weights(net)
    for w in weights:
        print(np.array2string(w, precision=4))
    if out_dir is not None:
        network = sigmoid_network(weights)  # a tensor copy, to shade the plane quickly
        with no_grad():
            boundary = viz.plot_decision_boundary(
                lambda points: network(points).data,
                X,
                y,
                out_dir / "xor_boundary.png",
                "XOR, 2-2-1",
            )
        _report_files(
            [
                viz.plot_losses({"J": history.losses}, out_dir / "xor_loss.png", "XOR, 2-2-1"),
                boundary,
                viz.plot_network(weights, out_dir / "xor_network.png", "XOR, learnt weights"),
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
        hidden, out = delta.forward(explain.HAND_BUILT_XOR, x_row)[1:]
        print(
            f" {x_row[0]:.0f}   {x_row[1]:.0f}  | {hidden[0]:.2f}  {hidden[1]:.2f} |  {out[0]:.2f}"
        )
    if out_dir is not None:
        errors = {name: result.errors for name, result in results.items()}
        _report_files(
            [
                viz.plot_losses(errors, out_dir / "perceptron_errors.png", "Perceptron mistakes"),
                viz.plot_network(
                    explain.HAND_BUILT_XOR, out_dir / "xor_by_hand.png", "XOR by hand"
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
    n_weights = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if n_weights > viz.MAX_NODES:
        raise UsageError(
            f"--network {args.network} has {n_weights} weights; a graph picture draws at most "
            f"{viz.MAX_NODES} nodes, so give a network of at most {viz.MAX_NODES} weights"
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
    every = max(1, args.epochs // 10)

    def report(epoch: int, loss: float) -> None:
        if epoch == 1 or epoch % every == 0:
            _say(args, f"  epoch {epoch:>6}   loss {loss:.6f}")

    _say(args, f"Training {args.dataset}: hidden {args.hidden or 'none'}, {args.activation}")
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
        on_epoch=report,
        compile=not args.no_compile,
    )
    print(f"final loss {run.history.losses[-1]:.6f} after {run.history.epochs} epochs")
    if run.classification:
        print(f"training accuracy {run.accuracy:.1%}")
    if out is not None:
        name = args.dataset
        paths = [viz.plot_losses({name: run.history.losses}, out / f"{name}_loss.png", name)]
        if run.classification:
            paths.append(
                viz.plot_decision_boundary(run.predict, run.X, run.y, out / f"{name}_boundary.png")
            )
        else:
            paths.append(viz.plot_fitted_curve(run.predict, run.X, run.y, out / f"{name}_fit.png"))
        _report_files(paths)
    return 0


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


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (a UsageError), not usage + exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand (``--help`` on each)."""
    parser = _Parser(prog=PROG, description="Replay the backpropagation tutorial with tinygrad_bp.")
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
        "layer of shape (n_in + 1, n_out), row 0 the biases.",
        epilog='example: explain --weights "[[1,1],[0.25,0.15],[0.2,0.1]]" '
        '--weights "[[1],[0.3],[0.4]]" --x 1,0 --y 1 --lr 0.5',
    )
    command.add_argument(
        "--weights", action="append", metavar="JSON", help="one layer's matrix (repeat per layer)"
    )
    command.add_argument("--x", type=_number_list, help="the input, e.g. 1,0")
    command.add_argument("--y", type=_number_list, help="the target, e.g. 1")
    command.add_argument("--lr", type=float, default=0.5, help="learning rate (default 0.5)")
    command.add_argument("--code", action="store_true", help="also print the traced step's code")
    command.add_argument(
        "--json", metavar="FILE", help='a file {"weights": [...], "x": [...], "y": [...], "lr": ..}'
    )
    command.set_defaults(run=cmd_explain)


def _add_xor(commands: Any) -> None:
    xor = commands.add_parser(
        "xor",
        help="train the 2-2-1 sigmoid network on XOR",
        description="Online gradient descent on J = 1/2 sum (y - o)^2 until J < epsilon.",
    )
    xor.add_argument("--lr", type=_positive_float, default=2.0, help="learning rate (default 2.0)")
    xor.add_argument("--epochs", type=_positive_int, default=5000, help="most epochs (5000)")
    xor.add_argument("--epsilon", type=float, default=0.01, help="stop when J < epsilon (0.01)")
    xor.add_argument("--seed", type=_seed, default=1, help="seed of the initial weights (1)")
    xor.add_argument("--print-every", type=_positive_int, default=50, help="epochs between lines")
    xor.add_argument("--quiet", action="store_true", help="print only the result")
    xor.add_argument("--out", metavar="DIR", help="write loss, boundary and network PNGs here")
    xor.set_defaults(run=cmd_xor)


def _add_gates(commands: Any) -> None:
    gates = commands.add_parser(
        "gates",
        help="perceptron vs XOR, and the OR/NAND/AND network",
        description="The perceptron rule learns AND, OR and NOT but never XOR; three sigmoid "
        "units (OR, NAND, then AND) compute XOR.",
    )
    gates.add_argument("--max-epochs", type=_positive_int, default=100, help="per gate (100)")
    gates.add_argument("--out", metavar="DIR", help="write the mistakes plot and network here")
    gates.set_defaults(run=cmd_gates)


def _add_graph(commands: Any) -> None:
    graph = commands.add_parser(
        "graph",
        help="draw the computation graph of an expression or a small network",
        description="Draw the graph of an expression (after backward, so every node shows "
        "its grad) or of a sigmoid network's loss J. Expressions may use names, numbers, "
        "+ - * / **, unary minus and the methods " + ", ".join(ALLOWED_METHODS) + ".",
        epilog='example: graph "(a*b + c).tanh()" --value a=2 --value b=-1 --value c=1.5. '
        f"Limits: at most {viz.MAX_NODES} values drawn (the rest collapse into one node), "
        f"edges crossing at most {viz.MAX_EDGE_LENGTH} layers in all (a name used by many "
        "operations makes long edges), and for --steps at most "
        f"{viz.MAX_FRAMES} steps and a {viz.MAX_PAGE_BYTES // 1_000_000} MB page.",
    )
    graph.add_argument("expression", nargs="?", help='e.g. "(a*b + c).tanh()"')
    graph.add_argument(
        "--value", type=_assignment, action="append", default=[], metavar="NAME=NUMBER"
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
        "--out", help="the picture file (.svg/.png/.pdf, default graph.svg); a DIR with --steps"
    )
    graph.set_defaults(run=cmd_graph)


def _add_train(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train a tensor MLP on a toy data set",
        description="Train a tensor MLP with a sigmoid output unit (binary cross-entropy for "
        "the classification sets, mean squared error for sine) and plot the result.",
    )
    train.add_argument("dataset", choices=data.DATASETS, help="the data set")
    train.add_argument("--hidden", type=_widths, default=[8], help="hidden widths, e.g. 8,8")
    train.add_argument("--activation", choices=("sigmoid", "tanh", "relu"), default="tanh")
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam")
    train.add_argument("--lr", type=_positive_float, default=0.05, help="learning rate (0.05)")
    train.add_argument("--epochs", type=_positive_int, default=500, help="epochs (500)")
    train.add_argument("--batch-size", type=_positive_int, help="default: the whole data set")
    train.add_argument("--n", type=_point_count, default=200, help="number of points (200)")
    train.add_argument("--seed", type=_seed, default=0, help="seed of data and weights (0)")
    train.add_argument("--quiet", action="store_true", help="print only the result")
    train.add_argument("--out", metavar="DIR", help="write the loss and boundary/fit plots here")
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
    command.add_argument("--port", type=_port, default=8765, help="0 picks a free one (8765)")
    command.add_argument("--no-browser", action="store_true", help="only print the page's URL")
    command.add_argument("--record", metavar="PAGE", help="write a finished run to PAGE instead")
    command.add_argument("--epochs", type=_positive_int, help="epochs to --record (default 1000)")
    command.set_defaults(run=cmd_watch)


def _port(text: str) -> int:
    number = _integer_at_least(0, "a port number in [0, 65535]")(text)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number in [0, 65535], got {text!r}")
    return number


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

    0 ok, 1 claim failed, 2 bad input (one line on stderr), 141 stdout closed by
    its reader (silently). Only the user-facing errors are caught: ``UsageError``
    (arguments and the data they give, validated up front), errors about a path
    the user named, and a missing Graphviz. Any other exception, a ValueError
    from inside the library included, is a bug and propagates with its traceback.

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
    except _PATH_ERRORS as error:
        return _error(f"{error.filename}: {error.strerror}" if error.filename else str(error))


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
