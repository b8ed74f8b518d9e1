"""An ``EngineReport`` in the forms course platforms read.

- ``records``: plain JSON, every field of the report and of each check.
- ``gradescope``: Gradescope's ``results.json`` (its autograder specification):
  ``score``, ``execution_time``, ``output``, and ``tests[]`` with ``name``,
  ``score``, ``max_score``, ``status`` ("passed"/"failed"), ``output`` and
  ``visibility``. Checks of ops the class lacks that were not required (and the
  second-order check it does not offer) are worth nothing: they are listed in
  ``output``, each with why, not as tests.
- ``prairielearn``: PrairieLearn's external-grading ``results.json``: ``gradable``,
  ``score`` in [0, 1], ``message``, ``output``, ``tests[]`` with ``name``,
  ``points``, ``max_points``, ``message``, ``output`` (checks worth nothing listed
  in ``output`` as for Gradescope); when the engine cannot be
  graded (it does not load, or offers none of the graded ops), ``gradable:
  false`` with ``format_errors``, which the student sees and which costs no attempt.
- ``junit``: JUnit XML (GitHub Classroom, CodeGrade, CI): one ``testcase`` per
  check, ``failure`` for a failed one, ``skipped`` for one the class does not
  support, ``error`` when the engine could not be loaded.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ElementTree
from typing import Any

from .reports import CheckResult, EngineReport

__all__ = ["FORMATS", "gradescope", "junit", "prairielearn", "records", "render"]

FORMATS = ("text", "json", "gradescope", "prairielearn", "junit")


def _rounded(x: float) -> float:
    return round(x, 6)


def _plain(fields: dict[str, Any] | None) -> dict[str, Any] | None:
    """A failure's fields with each non-finite float written as text (JSON has no NaN)."""
    if fields is None:
        return None
    return {
        key: repr(value) if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in fields.items()
    }


def _graded(report: EngineReport) -> list[CheckResult]:
    """The checks worth points (an optional op the class lacks is not)."""
    return [r for r in report.results if r.status != "unsupported"]


def _not_graded_note(report: EngineReport) -> str:
    """Each check the class does not offer, with why (and, for a skip, what would grade it).

    >>> print(_not_graded_note(EngineReport("x.Value", (CheckResult("exp", "unsupported",
    ...                                                             "the class has no exp", 0),))))
    Not graded, worth no points (the class does not offer them):
    - exp: the class has no exp
    """
    lines = [f"- {r.name}: {r.detail}" for r in report.results if r.status == "unsupported"]
    if not lines:
        return ""
    return "\n".join(["Not graded, worth no points (the class does not offer them):", *lines])


def _overall(report: EngineReport) -> str:
    """The text shown for the whole submission: the summary, the hints, what was not graded."""
    lines = [report.summary()]
    if report.hints:
        lines += ["", "Hints:", *(f"- {hint}" for hint in report.hints)]
    note = _not_graded_note(report)
    return "\n".join([*lines, "", note] if note else lines)


def gradability_errors(report: EngineReport) -> list[str]:
    """Why the report cannot be a grade: the engine did not load, or nothing could run.

    >>> gradability_errors(EngineReport("x.Value", (), load_error="cannot load it: SyntaxError"))
    ['cannot load it: SyntaxError']
    """
    if report.load_error:
        return [report.load_error]
    if not any(result.cases for result in report.results):
        return ["the class offers none of the graded ops, so no check could run"]
    return []


def records(report: EngineReport) -> dict[str, Any]:
    """Every field of the report, as JSON-able records.

    >>> records(EngineReport("x.Value", (CheckResult("add", "pass", "a + b"),)))["score"]
    1.0
    """
    return {
        "engine": report.engine,
        "ok": report.ok,
        "exit_status": report.exit_status,
        "score": _rounded(report.score),
        "max_score": _rounded(report.max_score),
        "load_error": report.load_error,
        "stopped": report.stopped,
        "seconds": _rounded(report.seconds),
        "hints": list(report.hints),
        "results": [
            {
                "name": r.name,
                "status": r.status,
                "detail": r.detail,
                "score": _rounded(r.score),
                "points": r.points,
                "cases": r.cases,
                "passed": r.passed,
                "failure": _plain(r.failure),
                "printed": r.printed,
            }
            for r in report.results
        ],
    }


def gradescope(report: EngineReport) -> dict[str, Any]:
    """Gradescope's results.json (see the module docstring).

    >>> out = gradescope(EngineReport("x.Value", (CheckResult("add", "pass", "a + b"),)))
    >>> out["score"], out["tests"][0]["status"], out["tests"][0]["max_score"]
    (1.0, 'passed', 1.0)
    """
    tests = [
        {
            "name": r.name,
            "score": _rounded(r.score),
            "max_score": r.points,
            "status": "passed" if r.status == "pass" else "failed",
            "output": r.detail,
            "visibility": "visible",
        }
        for r in _graded(report)
    ]
    return {
        "score": _rounded(report.score),
        "execution_time": _rounded(report.seconds),
        "output": _overall(report),
        "tests": tests,
    }


def prairielearn(report: EngineReport) -> dict[str, Any]:
    """PrairieLearn's external-grading results.json (see the module docstring).

    >>> out = prairielearn(EngineReport("x.Value", (), load_error="cannot load it: SyntaxError"))
    >>> out["gradable"], out["score"], out["format_errors"]
    (False, 0.0, ['cannot load it: SyntaxError'])
    """
    errors = gradability_errors(report)
    result: dict[str, Any] = {
        "gradable": not errors,
        "score": _rounded(min(1.0, max(0.0, report.fraction))),
        "message": report.summary(),
        "output": _overall(report),
        "tests": [
            {
                "name": r.name,
                "points": _rounded(r.score),
                "max_points": r.points,
                "message": r.detail,
                "output": r.printed,
            }
            for r in _graded(report)
        ],
    }
    if errors:
        result["format_errors"] = errors
    return result


def junit(report: EngineReport) -> str:
    """JUnit XML: one testcase per check (see the module docstring).

    >>> text = junit(EngineReport("x.Value", (CheckResult("add", "fail", "a=0.0: wrong"),)))
    >>> [element.tag for element in ElementTree.fromstring(text).iter()]
    ['testsuites', 'testsuite', 'testcase', 'failure']
    """
    failures = sum(r.status == "fail" for r in report.results)
    skipped = sum(r.status == "unsupported" for r in report.results)
    errors = 1 if report.load_error else 0
    tests = len(report.results) + errors
    counts = {
        "tests": str(tests),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": f"{report.seconds:.3f}",
    }
    suites = ElementTree.Element("testsuites", {"name": "check_engine", **counts})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": report.engine, **counts})
    classname = f"check_engine.{report.engine}"
    if report.load_error:
        case = ElementTree.SubElement(suite, "testcase", {"classname": classname, "name": "load"})
        ElementTree.SubElement(
            case, "error", {"message": report.load_error}
        ).text = report.load_error
    for r in report.results:
        case = ElementTree.SubElement(suite, "testcase", {"classname": classname, "name": r.name})
        if r.status == "fail":
            ElementTree.SubElement(case, "failure", {"message": r.detail}).text = r.detail
        elif r.status == "unsupported":
            ElementTree.SubElement(case, "skipped", {"message": r.detail})
        if r.printed:
            ElementTree.SubElement(case, "system-out").text = r.printed
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        suites, encoding="unicode"
    )


def render(report: EngineReport, form: str) -> str:
    """The report in ``form`` (one of ``FORMATS``), as text to write to a file.

    >>> render(EngineReport("x.Value", (CheckResult("add", "pass", "a + b"),)), "json")[:20]
    '{\\n  "engine": "x.Val'
    """
    if form == "text":
        return str(report) + "\n"
    if form == "junit":
        return junit(report) + "\n"
    makers = {"json": records, "gradescope": gradescope, "prairielearn": prairielearn}
    if form not in makers:
        raise ValueError(f"format must be one of {list(FORMATS)}, got {form!r}")
    return json.dumps(makers[form](report), indent=2, allow_nan=False) + "\n"
