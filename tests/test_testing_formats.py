"""The grader's reports as course platforms read them, checked against schemas from their docs.

The schemas below are written from the platforms' own documentation:
Gradescope's autograder specification (results.json: top-level ``score``,
``execution_time``, ``output``, ``visibility``, ``stdout_visibility``,
``extra_data``, ``tests``, ``leaderboard``; each test ``score``, ``max_score``,
``status`` "passed"/"failed", ``name``, ``name_format``, ``number``, ``output``,
``output_format``, ``tags``, ``visibility`` one of "hidden", "after_due_date",
"after_published", "visible", ``extra_data``) and PrairieLearn's external
grading (results.json: ``gradable``, ``score`` in [0, 1], ``message``,
``output``, ``format_errors``, ``images``, ``tests`` with ``name``,
``description``, ``points``, ``max_points``, ``message``, ``output``,
``images``). Each is checked strictly: a field the platform does not define is
an error, so is a missing required one or a value of the wrong type.
"""

import io
import json
import math
import xml.etree.ElementTree as ElementTree

import pytest
from test_testing import MiniValue, OverwritingGrads, WrongSignSub

from tinygrad_bp.cli import main
from tinygrad_bp.testing import CheckResult, EngineReport, check_engine
from tinygrad_bp.testing.command import _Progress
from tinygrad_bp.testing.formats import gradescope, junit, prairielearn, records, render

QUICK = 5
NUMBER = (int, float)
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}

# field: (types, required). Only these fields are allowed.
GRADESCOPE = {
    "score": (NUMBER, False),
    "execution_time": (NUMBER, False),
    "output": (str, False),
    "output_format": (str, False),
    "visibility": (str, False),
    "stdout_visibility": (str, False),
    "extra_data": (dict, False),
    "tests": (list, False),
    "leaderboard": (list, False),
}
GRADESCOPE_TEST = {
    "score": (NUMBER, False),
    "max_score": (NUMBER, False),
    "status": (str, False),
    "name": (str, False),
    "name_format": (str, False),
    "number": (str, False),
    "output": (str, False),
    "output_format": (str, False),
    "tags": (list, False),
    "visibility": (str, False),
    "extra_data": (dict, False),
}
PRAIRIELEARN = {
    "gradable": (bool, True),
    "score": (NUMBER, True),
    "message": (str, False),
    "output": (str, False),
    "format_errors": (list, False),
    "images": (list, False),
    "tests": (list, False),
}
PRAIRIELEARN_TEST = {
    "name": (str, True),
    "description": (str, False),
    "points": (NUMBER, False),
    "max_points": (NUMBER, False),
    "message": (str, False),
    "output": (str, False),
    "images": (list, False),
}


def conform(record, schema, where):
    """AssertionError naming the field unless ``record`` fits ``schema`` exactly."""
    assert isinstance(record, dict), f"{where}: not an object"
    unknown = set(record) - set(schema)
    assert not unknown, f"{where}: fields the platform does not define: {sorted(unknown)}"
    for field, (types, required) in schema.items():
        if field not in record:
            assert not required, f"{where}: {field} is required"
            continue
        value = record[field]
        assert isinstance(value, types) and not (types is NUMBER and isinstance(value, bool)), (
            f"{where}.{field}: {type(value).__name__}"
        )
        if types is NUMBER:
            assert math.isfinite(value), f"{where}.{field}: not finite"


def validate_gradescope(results, *, requires_scores=True):
    conform(results, GRADESCOPE, "results")
    # "score" is optional only when every test has one (the spec's rule)
    if requires_scores:
        assert "score" in results or all("score" in t for t in results.get("tests", []))
    if "visibility" in results:
        assert results["visibility"] in VISIBILITY
    for number, test in enumerate(results.get("tests", [])):
        conform(test, GRADESCOPE_TEST, f"tests[{number}]")
        assert test.get("status", "passed") in {"passed", "failed"}
        assert test.get("visibility", "visible") in VISIBILITY
        if "score" in test and "max_score" in test:
            assert 0 <= test["score"] <= test["max_score"]


def validate_prairielearn(results):
    conform(results, PRAIRIELEARN, "results")
    assert 0 <= results["score"] <= 1
    if not results["gradable"]:
        errors = results.get("format_errors")
        assert errors and all(isinstance(error, str) for error in errors)
    for number, test in enumerate(results.get("tests", [])):
        conform(test, PRAIRIELEARN_TEST, f"tests[{number}]")
        if "points" in test and "max_points" in test:
            assert 0 <= test["points"] <= test["max_points"]


def validate_junit(text):
    """JUnit XML as CI systems read it; returns {testcase name: its outcome element or None}."""
    root = ElementTree.fromstring(text)
    assert root.tag == "testsuites"
    cases = {}
    for suite in root.findall("testsuite"):
        assert suite.get("name")
        found = suite.findall("testcase")
        assert int(suite.get("tests")) == len(found)
        outcomes = {"failure": 0, "error": 0, "skipped": 0}
        for case in found:
            assert case.get("name") and case.get("classname")
            marks = [child for child in case if child.tag in outcomes]
            assert len(marks) <= 1
            for mark in marks:
                outcomes[mark.tag] += 1
            cases[case.get("name")] = marks[0] if marks else None
        for tag, count in outcomes.items():
            attribute = {"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]
            assert int(suite.get(attribute)) == count
    return cases


@pytest.fixture(scope="module")
def failing_report():
    """A report with passes, failures with partial credit, and unsupported ops."""
    return check_engine(WrongSignSub, max_examples=QUICK, timeout=None, points={"sub": 3})


@pytest.fixture(scope="module")
def unloadable_report():
    return EngineReport("?", (), load_error="cannot load it: SyntaxError: invalid syntax")


def test_gradescope_results_fit_the_specification(failing_report):
    results = gradescope(failing_report)
    validate_gradescope(results)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["sub"]["status"] == "failed" and tests["sub"]["max_score"] == 3
    assert tests["add"] == {
        "name": "add",
        "score": 1.0,
        "max_score": 1.0,
        "status": "passed",
        "output": "a + b",
        "visibility": "visible",
    }
    assert "sigmoid" not in tests and "sigmoid" in results["output"]  # unsupported: not a test


def test_prairielearn_results_fit_external_grading(failing_report):
    results = prairielearn(failing_report)
    validate_prairielearn(results)
    assert results["gradable"] and "format_errors" not in results
    assert results["score"] == pytest.approx(failing_report.score / failing_report.max_score)
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["sub"]["max_points"] == 3 and tests["sub"]["points"] < 3
    assert tests["sub"]["message"].startswith("a=0.0, b=0.0: d/db of a - b is 1.0")


def test_an_engine_that_does_not_load_is_not_gradable(unloadable_report):
    results = prairielearn(unloadable_report)
    validate_prairielearn(results)
    assert not results["gradable"] and results["score"] == 0
    assert results["format_errors"] == ["cannot load it: SyntaxError: invalid syntax"]
    scope = gradescope(unloadable_report)
    validate_gradescope(scope)
    assert scope["score"] == 0 and scope["tests"] == [] and "SyntaxError" in scope["output"]
    cases = validate_junit(junit(unloadable_report))
    assert cases["load"].tag == "error"


def test_an_engine_without_ops_is_not_gradable():
    class Bare:
        def __init__(self, data):
            self.data, self.grad = data, 0.0

        def backward(self):
            pass

    results = prairielearn(check_engine(Bare, max_examples=QUICK, required=()))
    validate_prairielearn(results)
    assert not results["gradable"] and "none of the graded ops" in results["format_errors"][0]


def test_junit_has_one_testcase_per_check(failing_report):
    cases = validate_junit(junit(failing_report))
    assert list(cases) == [result.name for result in failing_report.results]
    assert cases["sub"].tag == "failure" and cases["sigmoid"].tag == "skipped"
    assert cases["add"] is None


def test_json_records_every_field_and_nothing_json_cannot_hold(failing_report):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    text = render(failing_report, "json")
    data = json.loads(text, parse_constant=refuse)
    assert data == json.loads(json.dumps(records(failing_report)), parse_constant=refuse)
    sub = next(r for r in data["results"] if r["name"] == "sub")
    assert set(sub["failure"]) >= {"inputs", "what", "expected", "got", "relative_error"}
    assert (data["score"], data["exit_status"]) == (pytest.approx(failing_report.score), 1)


def test_a_non_finite_number_in_a_failure_is_written_as_text():
    failure = {"inputs": "a=0.0", "what": "x", "expected": 0.0, "got": math.nan}
    result = CheckResult("tanh", "fail", "a=0.0: x is nan", failure=failure)
    data = json.loads(render(EngineReport("x.Value", (result,)), "json"))
    assert data["results"][0]["failure"]["got"] == "nan"


def test_hidden_reports_say_pass_or_fail_and_nothing_more(failing_report):
    hidden = failing_report.hidden()
    for form in ("gradescope", "prairielearn", "json", "junit", "text"):
        text = render(hidden, form)
        for leak in ("a=0.0", "expected", "d/db", "Hints"):
            assert leak not in text, (form, leak)
    assert [r.status for r in hidden.results] == [r.status for r in failing_report.results]
    assert hidden.score == failing_report.score


def test_the_command_line_writes_the_report_to_the_file_and_the_text_to_stdout(tmp_path, capsys):
    output = tmp_path / "results.json"
    spec = f"{OverwritingGrads.__module__}:{OverwritingGrads.__qualname__}"
    code = main(
        ["check-engine", spec, "--max-examples", "3", "--format", "gradescope", "--output",
         str(output), "--points", "accumulation=4,deep_chain=2"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("check_engine(") and "{" not in out.splitlines()[0]
    results = json.loads(output.read_text())
    validate_gradescope(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["accumulation"]["max_score"] == 4 and tests["deep_chain"]["max_score"] == 2
    assert tests["accumulation"]["status"] == "failed"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no partial file left


@pytest.mark.parametrize(
    "options, message",
    [
        (["--format", "json"], "--format json writes its report to a file: give --output FILE"),
        (["--points", "tanh=x"], "--points: tanh: expected a number, got 'x'"),
        (["--points", "nope=1"], "--points: expected check=N"),
        (["--require", "add,tan"], "--require: unknown ops ['tan']"),
        (["--deadline", "1e9"], "--deadline must be at most 86400.0"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(options, message, capsys, monkeypatch):
    monkeypatch.delenv("TINYGRAD_BP_GRADER_SECRET", raising=False)
    spec = f"{MiniValue.__module__}:{MiniValue.__qualname__}"
    assert main(["check-engine", spec, *options]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_progress_line_names_each_check_as_it_ends():
    stream = io.StringIO()
    progress = _Progress(stream)
    progress(CheckResult("add", "pass", "a + b"), 1, 2)
    progress(CheckResult("sub", "fail", "wrong"), 2, 2)
    assert stream.getvalue() == "\r\033[K[1/2] add pass\r\033[K[2/2] sub fail\n"


def test_student_without_a_secret_runs_stably_and_says_the_cases_are_public(capsys, monkeypatch):
    monkeypatch.delenv("TINYGRAD_BP_GRADER_SECRET", raising=False)
    spec = f"{MiniValue.__module__}:{MiniValue.__qualname__}"
    codes, outputs = [], []
    for _ in range(2):
        codes.append(main(["check-engine", spec, "--student", "alice", "--max-examples", "3"]))
        captured = capsys.readouterr()
        outputs.append(captured.out)
        assert "no course secret" in captured.err
    assert codes[0] == codes[1] in (0, 1) and outputs[0] == outputs[1]
