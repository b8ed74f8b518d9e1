"""The grader's reports: ``CheckResult`` per check, ``EngineReport`` for the whole engine.

A check earns its points in proportion to the cases it passed: a check worth
``points`` that passed ``passed`` of ``cases`` cases scores
``points * passed / cases``; a check that passed scores ``points``; a required op
the class lacks scores 0 of its points; an optional op it lacks is worth nothing
(0 of 0) and is listed as unsupported.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from ..report import Report

__all__ = ["CheckResult", "EngineReport", "Status"]

Status = Literal["pass", "fail", "unsupported"]


@dataclass(frozen=True)
class CheckResult(Report):
    """The verdict of one check: truthy unless it failed (unsupported is no failure).

    Attributes:
        name: the check (an op such as ``"sub"``, or ``"deep_chain"``, ...).
        status: ``"pass"``, ``"fail"`` or ``"unsupported"``.
        detail: what was checked (pass), the smallest failing case and what was
            wrong (fail), or what the class lacks (unsupported).
        points: what the check is worth.
        cases: how many cases ran (0 when none could).
        passed: how many of them passed.
        failure: the smallest failing case as fields: ``inputs``, and either
            ``what``, ``expected``, ``got``, ``relative_error`` and ``oracle``,
            or ``error`` (the engine's exception).
        printed: the start of what the engine printed during the check.

    >>> result = CheckResult("sub", "fail", "a=0.0, b=0.0: wrong", points=2, cases=4, passed=1)
    >>> bool(result), result.score, str(result)
    (False, 0.5, 'sub fail: a=0.0, b=0.0: wrong')
    """

    name: str
    status: Status
    detail: str
    points: float = 1.0
    cases: int = 0
    passed: int = 0
    failure: dict[str, Any] | None = field(default=None, compare=False)
    printed: str = field(default="", compare=False)

    @property
    def ok(self) -> bool:
        """Whether the check did not fail."""
        return self.status != "fail"

    @property
    def score(self) -> float:
        """Points earned: all of them for a pass, passed/cases of them for a failure."""
        if self.status == "pass":
            return self.points
        if self.status == "fail" and self.cases:
            return self.points * self.passed / self.cases
        return 0.0

    def __str__(self) -> str:
        return f"{self.name} {self.status}: {self.detail}"


@dataclass(frozen=True)
class EngineReport(Report):
    """What ``check_engine`` found: one ``CheckResult`` per check, printable as a table.

    Truthy when the engine loaded, at least one check passed and none failed.

    Attributes:
        engine: the checked class, as ``module.QualifiedName``.
        results: one result per check, in the order they ran.
        hints: what the failures suggest the student look at.
        load_error: why the engine could not be loaded (then there are no results).
        stopped: why the run ended before every check ran (deadline, Ctrl-C), or "".
        seconds: how long the run took.

    >>> report = EngineReport("my.Value", (CheckResult("add", "pass", "a + b"),
    ...                                    CheckResult("tanh", "unsupported", "no tanh", 0)))
    >>> bool(report), report["tanh"].status, report.score, report.max_score
    (True, 'unsupported', 1.0, 1.0)
    >>> print(report)
    check_engine(my.Value): 1 pass, 0 fail, 1 unsupported; score 1 of 1
    <BLANKLINE>
    op   | result      | points | detail
    -----+-------------+--------+--------
    add  | pass        | 1/1    | a + b
    tanh | unsupported | 0/0    | no tanh
    """

    engine: str
    results: tuple[CheckResult, ...]
    hints: tuple[str, ...] = ()
    load_error: str = ""
    stopped: str = ""
    seconds: float = field(default=0.0, compare=False)

    @property
    def ok(self) -> bool:
        """Whether it loaded, something passed and nothing failed."""
        passed = any(result.status == "pass" for result in self.results)
        return not self.load_error and not self.stopped and passed and not self.failed

    @property
    def exit_status(self) -> int:
        """0 all pass, 1 some fail (or nothing passed), 2 the engine could not be loaded."""
        if self.load_error:
            return 2
        return 0 if self.ok else 1

    @property
    def failed(self) -> tuple[str, ...]:
        """The names of the failed checks."""
        return tuple(result.name for result in self.results if result.status == "fail")

    @property
    def unsupported(self) -> tuple[str, ...]:
        """The names of the checks the class does not support."""
        return tuple(result.name for result in self.results if result.status == "unsupported")

    @property
    def score(self) -> float:
        """The points earned."""
        return sum(result.score for result in self.results)

    @property
    def max_score(self) -> float:
        """The points there were to earn."""
        return sum(result.points for result in self.results)

    @property
    def fraction(self) -> float:
        """score / max_score, in [0, 1] (0 when there was nothing to earn)."""
        return self.score / self.max_score if self.max_score else 0.0

    def __getitem__(self, name: str) -> CheckResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no check named {name!r}; the checks are {[r.name for r in self.results]}")

    def hidden(self) -> EngineReport:
        """The same report telling only pass or fail per check: no inputs, values or hints.

        >>> report = EngineReport("my.Value", (CheckResult("sub", "fail", "a=1.0: wrong"),))
        >>> report.hidden()["sub"].detail
        'failed'
        """
        words = {"pass": "passed", "fail": "failed", "unsupported": "not supported"}
        results = tuple(
            dataclasses.replace(result, detail=words[result.status], failure=None, printed="")
            for result in self.results
        )
        return dataclasses.replace(self, results=results, hints=())

    def summary(self) -> str:
        """The first line: counts and score (or why it could not be graded)."""
        if self.load_error:
            return f"check_engine({self.engine}): cannot grade: {self.load_error}"
        counts = {status: 0 for status in ("pass", "fail", "unsupported")}
        for result in self.results:
            counts[result.status] += 1
        tally = ", ".join(f"{count} {status}" for status, count in counts.items())
        line = (
            f"check_engine({self.engine}): {tally}; score {self.score:.4g} of {self.max_score:.4g}"
        )
        return f"{line} ({self.stopped})" if self.stopped else line

    def __str__(self) -> str:
        lines = [self.summary()]
        if self.results:
            rows = [("op", "result", "points", "detail")]
            rows += [
                (r.name, r.status, f"{r.score:.3g}/{r.points:.3g}", r.detail) for r in self.results
            ]
            widths = [max(len(row[column]) for row in rows) for column in range(4)]
            lines.append("")
            for number, row in enumerate(rows):
                cells = (cell.ljust(width) for cell, width in zip(row, widths))
                lines.append(" | ".join(cells).rstrip())
                if number == 0:
                    lines.append("-+-".join("-" * width for width in widths))
        if self.hints:
            lines += ["", "Hints:", *(f"- {hint}" for hint in self.hints)]
        return "\n".join(lines)
