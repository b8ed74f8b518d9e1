"""``check-engine``: run the engine checks on a Value class (tinygrad_bp.testing)."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import UsageError, positive_float, positive_int


def add_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check-engine",
        help="check a Value class op by op against finite differences",
        description="Load module:ClassName and run tinygrad_bp.testing.check_engine on it.",
    )
    check.add_argument("spec", metavar="module:ClassName", help="e.g. micrograd.engine:Value")
    check.add_argument(
        "--max-examples", type=positive_int, default=100, help="Hypothesis examples per check"
    )
    check.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="time limit of each check: a check still running then fails (default: %(default)g)",
    )
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from .. import testing
    except ImportError as error:  # Hypothesis, a test dependency, is missing
        raise UsageError(f"check-engine: {error}") from None
    try:  # each check runs isolated: the only errors left are about the spec and the class
        value_class = testing.load_class(args.spec)
        report = testing.check_engine(value_class, args.max_examples, args.timeout)
    except (ValueError, ImportError, AttributeError, TypeError) as error:
        raise UsageError(str(error).splitlines()[0]) from None
    print(report)
    return 0 if report else 1
