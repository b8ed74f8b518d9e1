"""``explain``: the derivation's table for any small sigmoid network, input and target."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from .. import explain, validate
from ..files import read_regular
from .arguments import (
    MAX_JSON_BYTES,
    MAX_SCALAR_WEIGHTS,
    UsageError,
    check_network,
    finite_float,
    number_list,
    path_text,
)


def add_parser(commands: Any) -> None:
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
    command.add_argument("--x", type=number_list, help="the input, e.g. 1,0")
    command.add_argument("--y", type=number_list, help="the target, e.g. 1")
    command.add_argument("--lr", type=finite_float, default=0.5, help="learning rate")
    command.add_argument("--code", action="store_true", help="also print the traced step's code")
    command.add_argument(
        "--json",
        type=path_text,
        metavar="FILE",
        help='a file {"weights": [...], "x": [...], "y": [...], "lr": ..}',
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    weights, x, y, lr = _inputs(args)
    table = explain.explain(weights, x, y, lr)  # checks the numbers and their shapes
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    print(f"one online step: x = {x.tolist()}, y = {y.tolist()}, lr = {lr}\n")
    print(table)
    if args.code:
        print("\nthe same step as traced code (tinygrad_bp.trace), each line's value after it:\n")
        print(explain.traced_code(weights, x, y))
    return 0 if table.ok else 1


def _inputs(args: argparse.Namespace) -> tuple[Any, Any, Any, float]:
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
    check_network(weights, x, y)
    return weights, x, y, lr


def _read_json(path: str) -> dict[str, Any]:
    try:
        raw = read_regular(path, MAX_JSON_BYTES)  # a FIFO or a device is refused, not read
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(f"cannot read {path}: {error}") from None
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
