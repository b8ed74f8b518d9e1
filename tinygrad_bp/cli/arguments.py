"""What every subcommand shares: the usage error, the limits, the argument types.

Bad input means what the user named or gave: arguments, which every parser and
option handler validates before any work (raising ``UsageError``), files that
cannot be read or written, and a missing Graphviz. Sizes are bad input too when
they are too large to be sensible: every subcommand checks them against the
``MAX_*`` limits below before it starts, names the limit in its message and in
its ``--help``, so that nothing runs unbounded.

Each argument type is an argparse ``type=``: it parses the text and checks the
number with ``validate``, so a bad value gets one line naming the flag.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import explain, validate, viz

PROG = "tinygrad-bp"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as the shell reports for a command stopped by Ctrl-C

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


positive_int = _number(int, minimum=1)
epochs = _number(int, minimum=1, maximum=MAX_EPOCHS)
seed = _number(int, minimum=0)  # numpy's generators need >= 0
port = _number(int, minimum=0, maximum=65535)  # 0: the system picks a free port
point_count = _number(int, minimum=2, maximum=MAX_POINTS)  # every data set has 2 classes
positive_float = _number(float, positive=True)
finite_float = _number(float)
test_fraction = _number(float, minimum=0.0, maximum=0.9)
_width = _number(int, minimum=1)


def path_text(text: str) -> str:
    """argparse type of the paths (--out, --json, --save, --load): any text but NUL."""
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"a path cannot contain a NUL character, got {text!r:.40}")
    return text


def number_list(text: str) -> list[float]:
    """argparse type: "1,0.5,-2" -> [1.0, 0.5, -2.0]."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        message = f"expected numbers separated by commas, got {text!r:.40}"
        raise argparse.ArgumentTypeError(message) from None


def widths(text: str) -> list[int]:
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


def assignment(text: str) -> tuple[str, float]:
    """argparse type: "a=2" -> ("a", 2.0)."""
    name, _, number = text.partition("=")
    try:
        value = float(number)
    except ValueError:
        value = None
    if not name.isidentifier() or value is None:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r:.40}")
    return name, value


# -- checks of what the arguments name, before any work ----------------------------------


def weight_count(sizes: Sequence[int]) -> int:
    """The weights and biases of a fully connected network with these layer widths."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))


def check_network(weights: Any, x: Any, y: Any) -> None:
    """UsageError unless the user's weights, x and y are numbers that fit together."""
    try:
        checked = explain.checked_network(weights, x, y)[0]  # what explain() does first
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


def out_dir(args: argparse.Namespace) -> Path | None:
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


def say(args: argparse.Namespace, *lines: str) -> None:
    """Print unless --quiet."""
    if not getattr(args, "quiet", False):
        print(*lines, sep="\n")


def report_files(paths: Sequence[Path]) -> None:
    """One "wrote PATH" line per file written."""
    for path in paths:
        print(f"wrote {path}")
