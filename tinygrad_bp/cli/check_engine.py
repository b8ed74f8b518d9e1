"""``check-engine``: grade a Value class against oracles (tinygrad_bp.testing).

The flags are here; the work (grading, formats, points, bundles) is in
``tinygrad_bp.testing.command`` and ``tinygrad_bp.testing.bundle``.
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import validate
from .arguments import UsageError, positive_float, positive_int

PLATFORMS = ("gradescope", "prairielearn")
MAX_SECONDS = 86_400.0  # a day: the longest --timeout or --deadline


def add_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check-engine",
        help="grade a Value class op by op against independent oracles",
        description="Grade module:ClassName (a micrograd-style Value) by properties against "
        "oracles computed at grading time: float64 math, central differences, the delta rules. "
        "The class is imported and run only in sandboxed child processes. Exit status: 0 every "
        "check passed, 1 some failed, 2 bad usage or an engine that cannot be loaded.",
    )
    check.add_argument("spec", metavar="module:ClassName", help="e.g. micrograd.engine:Value")
    check.add_argument(
        "--max-examples", type=positive_int, default=100, help="cases drawn per check"
    )
    check.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="time limit of each check and of loading the class (default: %(default)g): a "
        "check still running then fails, keeping the credit of its passed cases (at most "
        f"{MAX_SECONDS:g})",
    )
    check.add_argument(
        "--deadline",
        type=positive_float,
        metavar="SECONDS",
        help="time limit of the whole run: checks not started by then fail, and the report "
        "of the others is written",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "gradescope", "prairielearn", "junit"),
        default="text",
        help="the machine-readable report written to --output (stdout keeps the text)",
    )
    check.add_argument("--output", metavar="FILE", help="where --format's report goes")
    check.add_argument(
        "--profile",
        choices=("micrograd", "all", "none"),
        default="micrograd",
        help="the ops the class must have (micrograd: those of micrograd's own engine); "
        "lacking another op leaves it ungraded",
    )
    check.add_argument("--require", metavar="OPS", help="e.g. add,mul,radd: instead of --profile")
    check.add_argument(
        "--points", metavar="CHECK=N,...", help="points per check, e.g. add=2,deep_chain=5 (1 each)"
    )
    check.add_argument(
        "--student",
        metavar="ID",
        help="draw this student's own cases (unpredictable with the course secret)",
    )
    check.add_argument(
        "--secret",
        help="the course secret for --student (or --secret-file, or $TINYGRAD_BP_GRADER_SECRET)",
    )
    check.add_argument("--secret-file", metavar="FILE", help="a file holding the course secret")
    check.add_argument(
        "--hidden", action="store_true", help="report only pass or fail per check: no values"
    )
    check.add_argument(
        "--make-autograder",
        nargs=2,
        metavar=("PLATFORM", "DIR"),
        help=f"write an autograder bundle for PLATFORM ({' or '.join(PLATFORMS)}) into DIR "
        "that grades a submitted file with these options",
    )
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from ..testing import bundle, checks, command
    except ImportError as error:  # Hypothesis, a test dependency, is missing
        raise UsageError(f"check-engine: {error}") from None
    try:
        for flag, seconds in (("--timeout", args.timeout), ("--deadline", args.deadline)):
            if seconds is not None:
                validate.real(flag, seconds, maximum=MAX_SECONDS)
        required = (
            command.parse_required(args.require)
            if args.require is not None
            else checks.PROFILES[args.profile]
        )
        points = command.parse_points(args.points) if args.points else {}
        if args.make_autograder:
            platform, directory = args.make_autograder
            if platform not in PLATFORMS:
                raise ValueError(f"--make-autograder: the platform is one of {PLATFORMS}")
            written = bundle.make_autograder(
                platform,
                directory,
                args.spec,
                required=required,
                points=points,
                max_examples=args.max_examples,
                timeout=args.timeout,
                deadline=args.deadline,
                hidden=args.hidden,
                secret=args.secret,
            )
            print(f"wrote the {platform} autograder to {written}")
            return 0
        return command.grade(
            args.spec,
            form=args.format,
            output=args.output,
            max_examples=args.max_examples,
            timeout=args.timeout,
            deadline=args.deadline,
            required=required,
            points=points,
            student=args.student,
            secret=args.secret,
            secret_file=args.secret_file,
            hidden=args.hidden,
        )
    except ValueError as error:
        raise UsageError(f"check-engine: {str(error).splitlines()[0]}") from None
