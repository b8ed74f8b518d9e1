"""``tinygrad-bp check-engine``'s work: grade, print, write the machine report, exit status.

The command-line parser lives with the other subcommands (``cli.check_engine``);
it calls ``grade`` with the parsed options. Everything about grading a class
from the command line is here: parsing ``--require`` and ``--points``, the
progress line on a terminal, what Ctrl-C prints, and which report goes where
(the text to stdout, the machine-readable report to ``--output`` only).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from .. import validate
from .checks import CHECKS, PROFILES, GradingInterrupted, check_engine
from .formats import FORMATS, render
from .loader import parse_spec
from .reports import CheckResult, EngineReport
from .seeding import SECRET_VARIABLE, student_seed

__all__ = ["grade", "parse_points", "parse_required"]


def parse_required(text: str) -> tuple[str, ...]:
    """``"add,mul,radd"`` as check names (ValueError naming any unknown one).

    >>> parse_required("add, mul")
    ('add', 'mul')
    """
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise ValueError(f"--require: unknown ops {unknown}; the checks are {', '.join(CHECKS)}")
    return names


def parse_points(text: str) -> dict[str, float]:
    """``"add=2,deep_chain=5"`` as points per check (ValueError for a bad entry).

    >>> parse_points("add=2, deep_chain=0.5")
    {'add': 2.0, 'deep_chain': 0.5}
    """
    points = {}
    for entry in (part.strip() for part in text.split(",") if part.strip()):
        name, equals, number = entry.partition("=")
        name = name.strip()
        if not equals or name not in CHECKS:
            raise ValueError(
                f"--points: expected check=N with a check among {', '.join(CHECKS)}, "
                f"got {entry!r:.60}"
            )
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"--points: {name}: expected a number, got {number!r:.40}") from None
        points[name] = validate.real(f"--points {name}", value, minimum=0.0, maximum=1e6)
    return points


def _secret(secret: str | None, secret_file: str | None) -> str:
    """The course secret: --secret, else the file, else the environment variable."""
    if secret:
        return secret
    if secret_file:
        return Path(secret_file).read_text().strip()
    return os.environ.get(SECRET_VARIABLE, "")


class _Progress:
    """``[3/21] mul pass`` on one terminal line of stderr, rewritten per check."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, result: CheckResult, number: int, total: int) -> None:
        line = f"[{number}/{total}] {result.name} {result.status}"
        end = "\n" if number == total else ""
        self.stream.write(f"\r\033[K{line}{end}")
        self.stream.flush()


def grade(
    spec: str,
    *,
    form: str = "text",
    output: str | None = None,
    max_examples: int = 100,
    timeout: float | None = 10.0,
    deadline: float | None = None,
    required: Sequence[str] = PROFILES["micrograd"],
    points: Mapping[str, float] | None = None,
    student: str | None = None,
    secret: str | None = None,
    secret_file: str | None = None,
    hidden: bool = False,
) -> int:
    """Grade ``spec``; print the text report; write ``form`` to ``output``; the exit status.

    0 every check passed, 1 some failed (or nothing passed). Bad options raise
    ValueError (the caller reports them in one line, exit status 2), and so does
    an engine that cannot be loaded, after its report is written. On Ctrl-C the
    checks finished so far are printed (and written) before ``KeyboardInterrupt``
    propagates.
    """
    if form not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {form!r}")
    if form != "text" and output is None:
        raise ValueError(f"--format {form} writes its report to a file: give --output FILE")
    parse_spec(spec)
    seed = None
    if student is not None:
        course_secret = _secret(secret, secret_file)
        if not course_secret:
            sys.stderr.write(
                f"check-engine: no course secret, so --student's cases follow from the ID "
                f"alone and anyone can compute them (give --secret or ${SECRET_VARIABLE})\n"
            )
        seed = student_seed(course_secret, student)
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    try:
        report = check_engine(
            spec,
            max_examples,
            timeout,
            required=required,
            points=points,
            seed=seed,
            deadline=deadline,
            progress=progress,
        )
    except GradingInterrupted as interrupted:
        if progress is not None:  # end the progress line before anything else is written
            sys.stderr.write("\n")
        _publish(interrupted.report, form, output, hidden)
        raise
    _publish(report, form, output, hidden)
    if report.load_error:  # the report is written; the reason is also the one line of an error
        raise ValueError(report.load_error)
    return report.exit_status


def _publish(report: EngineReport, form: str, output: str | None, hidden: bool) -> None:
    """The machine report to ``output`` (written whole, then renamed), then the text to stdout."""
    shown = report.hidden() if hidden else report
    if output is not None:
        path = Path(output)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(render(shown, form))
        partial.replace(path)
    print(shown)
