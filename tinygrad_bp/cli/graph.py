"""``graph``: draw the computation graph of an expression or a small network."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .. import explain, viz
from ..engine import Value
from ..expression import (
    ALLOWED_METHODS,
    MAX_EXPRESSION_LENGTH,
    MAX_EXPRESSION_NODES,
    parse_expression,
)
from ..graph import toposort
from ..nn import MLP, get_weights
from .arguments import (
    PROG,
    UsageError,
    assignment,
    check_network,
    number_list,
    path_text,
    seed,
    weight_count,
    widths,
)


def add_parser(commands: Any) -> None:
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
        type=assignment,
        action="append",
        default=[],
        metavar="NAME=NUMBER",
        help="the number a name of the expression stands for (repeat per name)",
    )
    graph.add_argument(
        "--network", metavar="SIZES", help="e.g. 2,2,1 (the worked example's weights)"
    )
    graph.add_argument("--x", type=number_list, help="the network's input (default 1,0)")
    graph.add_argument("--seed", type=seed, default=0, help="weights of other network sizes")
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
        type=path_text,
        help="the picture file (.svg/.png/.pdf, default graph.svg); a DIR with --steps",
    )
    graph.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.steps:
        suffix = Path(args.out or "graph.svg").suffix.lower()
        if suffix not in viz.SUPPORTED_SUFFIXES:
            raise UsageError(
                f"cannot render to {args.out!r}: unsupported suffix {suffix!r}; "
                f"use {', '.join(viz.SUPPORTED_SUFFIXES)} (see {PROG} graph --help)"
            )
    root, inputs = _root(args)
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


def _root(args: argparse.Namespace) -> tuple[Value, list[Value]]:
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
        sizes = widths(args.network)
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"--network: {error}") from None
    if len(sizes) < 2:
        raise UsageError(f"--network needs at least two widths like 2,2,1, got {args.network!r}")
    if sizes[-1] != 1:
        raise UsageError(f"--network draws one output unit (target y = 1), got {args.network!r}")
    if weight_count(sizes) > viz.MAX_NODES:
        raise UsageError(
            f"--network {args.network} has {weight_count(sizes):,} weights; a graph picture "
            f"draws at most {viz.MAX_NODES} nodes, so give a network of at most "
            f"{viz.MAX_NODES} weights (2,16,16,1 has 337)"
        )
    if sizes == [2, 2, 1]:
        weights = list(explain.WORKED_WEIGHTS)
    else:
        weights = get_weights(MLP(sizes[0], sizes[1:], rng=args.seed))
    x = explain.WORKED_INPUT if sizes[0] == 2 else np.ones(sizes[0])
    x = x if args.x is None else np.array(args.x)
    check_network(weights, x, explain.WORKED_TARGET)
    done = explain.autograd_pass(weights, x, explain.WORKED_TARGET)  # backward done
    parameters = set(done.net.parameters())
    leaves = [node for node in toposort(done.loss) if not node.children]
    return done.loss, [leaf for leaf in leaves if leaf.label and leaf not in parameters]
