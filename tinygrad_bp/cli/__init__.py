"""``python -m tinygrad_bp`` (also ``tinygrad-bp``): replay the tutorial's claims.

Subcommands (``--help`` on each says more), one module each, holding its flags
beside the function that runs it:

    worked-example   the derivation's one-step example, by autograd and by the formulas
    explain          the same table for any small sigmoid network, input and target
    xor              train the 2-2-1 sigmoid network on XOR
    gates            the perceptron on AND/OR/NOT/XOR, and XOR from OR, NAND and AND
    graph            draw the computation graph of an expression or a small network
    train            train a tensor MLP on a toy data set and plot what it learnt
    check-engine     run the engine checks on a Value class (when tinygrad_bp.testing exists)
    watch            a live page on which a network trains
    landscape        train a network and draw the error surface around it, with its path
    xor-lab          many 2-h-1 networks on XOR: solved, valley at infinity, or stuck
    course           write the course's notebooks into a folder to open in Jupyter

Exit status: 0 when the claim holds, 1 when it does not (e.g. training did not
reach the target, or the two computations disagree), 2 on bad arguments or bad
input, reported as one line on stderr, 130 (128 + SIGINT) when Ctrl-C stopped
it, and 141 (128 + SIGPIPE, what the shell reports for ``cat`` or ``yes`` in the
same place) when the reader of stdout went away, as in ``tinygrad-bp
check-engine ... | head -3``: silently, since nothing went wrong that the user
has to know about.

Bad input (``arguments.UsageError``, with the limits every subcommand checks
before it starts) is reported in one line; running out of memory too. Any other
exception is a bug and keeps its traceback. Ctrl-C stops any subcommand with
status 130 and one line on stderr, no traceback; ``xor`` and ``train`` first
write the loss history so far (with ``--out``) and print where.

Each subcommand is argparse wiring and printing over the library: the networks
come from ``nn``, the training from ``train``, the expressions from ``expression``,
the pictures from ``viz``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__, viz
from . import (
    check_engine,
    course,
    explain,
    gates,
    graph,
    landscape,
    train,
    watch,
    worked_example,
    xor,
    xor_lab,
)
from .arguments import EXIT_INTERRUPTED, PROG, UsageError

__all__ = ["UsageError", "build_parser", "main"]

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports for a filter killed by SIGPIPE
# In the order --help lists them.
SUBCOMMANDS = (
    *(worked_example, explain, xor, gates, graph, train, check_engine, watch),
    *(landscape, xor_lab, course),
)


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
    """The parser of every subcommand (``--help`` on each).

    Example:
        >>> build_parser().parse_args(["xor", "--lr", "0.5"]).lr
        0.5
    """
    parser = _Parser(prog=PROG, description="Replay the backpropagation tutorial with tinygrad_bp.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
