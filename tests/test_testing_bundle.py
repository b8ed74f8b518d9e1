"""Autograder bundles, run as the platforms run them on a good and a bad engine.

The wheel is built once for the module (``pip wheel --no-deps`` of this tree,
a few seconds) and installed into a private folder with ``pip install
--no-deps --no-index --target``, so the bundle's entry point grades with the
tinygrad_bp that ships inside it. The platform's tree (``/autograder`` for
Gradescope, ``/grade`` for PrairieLearn) is laid out under a temporary folder
that the entry point is pointed at with ``GRADER_ROOT``.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
from test_testing_formats import validate_gradescope, validate_prairielearn

from tinygrad_bp.cli import main
from tinygrad_bp.testing import bundle

GOOD = "from tinygrad_bp.engine import Value\n"
BAD = (  # subtraction with the wrong sign
    "from tinygrad_bp.engine import Value as Base\n"
    "class Value(Base):\n"
    "    __slots__ = ()\n"
    "    def __sub__(self, other):\n"
    "        return self + other\n"
)
OPTIONS = ["--max-examples", "3", "--require", "add,sub,mul", "--secret", "course-secret"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built once for every test here."""
    return bundle.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A folder with the wheel's tinygrad_bp installed in it (no dependencies, no index)."""
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*command, "--target", str(target), str(wheel)], check=True)
    return target


def make(platform, folder, wheel):
    """The bundle ``--make-autograder platform folder`` makes with OPTIONS, with the built wheel."""
    return bundle.make_autograder(
        platform,
        folder,
        "engine:Value",
        required=["add", "sub", "mul"],
        points={},
        max_examples=3,
        timeout=10.0,
        deadline=None,
        hidden=False,
        secret="course-secret",
        wheel=wheel,
    )


def run_entry_point(script, root, installed):
    env = {**os.environ, "GRADER_ROOT": str(root), "PYTHON": sys.executable}
    env["PYTHONPATH"] = str(installed)  # the bundle's tinygrad_bp, not this tree's
    done = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done


def gradescope_tree(tmp_path, bundle_dir, engine, student):
    root = tmp_path / "autograder"
    shutil.copytree(bundle_dir, root / "source")
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "engine.py").write_text(engine)
    metadata = {"users": [{"id": student, "email": "s@example.org", "name": "S"}]}
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def test_the_command_line_makes_the_bundle_with_a_wheel_of_this_tree(tmp_path, capsys):
    folder = tmp_path / "bundle"
    args = ["check-engine", "engine:Value", "--make-autograder", "gradescope", str(folder)]
    assert main([*args, *OPTIONS]) == 0
    assert capsys.readouterr().out == f"wrote the gradescope autograder to {folder}\n"
    assert [path.name for path in folder.glob("tinygrad_bp-*.whl")]
    options = json.loads((folder / "grader.json").read_text())
    assert options["required"] == ["add", "sub", "mul"] and options["max_examples"] == 3
    assert bundle.PACKAGE not in {path.name for path in folder.iterdir()}


def test_the_gradescope_bundle_holds_what_gradescope_needs(tmp_path, wheel):
    folder = make("gradescope", tmp_path / "bundle", wheel)
    names = {path.name for path in folder.iterdir()}
    assert names == {"setup.sh", "run_autograder", "grader.json", "secret", wheel.name}
    assert os.access(folder / "run_autograder", os.X_OK) and os.access(folder / "setup.sh", os.X_OK)
    assert f"./{wheel.name}[testing]" in (folder / "setup.sh").read_text()
    assert (folder / "secret").read_text().strip() == "course-secret"
    for answer_bearing in ("expected", "1.0"):  # no oracle output ships
        assert answer_bearing not in (folder / "grader.json").read_text()


@pytest.mark.parametrize("engine, perfect", [(GOOD, True), (BAD, False)], ids=["good", "bad"])
def test_gradescopes_run_autograder_grades_a_submission(
    tmp_path, wheel, installed, engine, perfect
):
    folder = make("gradescope", tmp_path / "bundle", wheel)
    root = gradescope_tree(tmp_path, folder, engine, "student-7")
    run_entry_point(root / "source" / "run_autograder", root, installed)
    results = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(results)
    maximum = sum(test["max_score"] for test in results["tests"])
    assert (results["score"] == maximum) is perfect, results
    tests = {test["name"]: test for test in results["tests"]}
    assert (tests["sub"]["status"] == "passed") is perfect
    assert list((root / "submission").iterdir()) == [root / "submission" / "engine.py"]


def test_prairielearns_entry_point_grades_a_submission(tmp_path, wheel, installed):
    folder = make("prairielearn", tmp_path / "bundle", wheel)
    info = json.loads((folder / "info.json").read_text())["externalGradingOptions"]
    assert info["entrypoint"] == f"/grade/serverFilesCourse/{bundle.PACKAGE}/run.sh"
    assert info["serverFilesCourse"] == [f"{bundle.PACKAGE}/"]
    for engine, perfect in ((GOOD, True), (BAD, False)):
        root = tmp_path / f"grade-{perfect}"
        shutil.copytree(folder / "serverFilesCourse", root / "serverFilesCourse")
        (root / "student").mkdir()
        (root / "student" / "engine.py").write_text(engine)
        (root / "data").mkdir()
        (root / "data" / "data.json").write_text(json.dumps({"variant_seed": 1234}))
        run_entry_point(root / "serverFilesCourse" / bundle.PACKAGE / "run.sh", root, installed)
        results = json.loads((root / "results" / "results.json").read_text())
        validate_prairielearn(results)
        assert results["gradable"]
        assert (results["score"] == 1) is perfect, results


def test_an_unloadable_submission_gets_a_result_and_not_gradable(tmp_path, wheel, installed):
    folder = make("prairielearn", tmp_path / "bundle", wheel)
    root = tmp_path / "grade"
    shutil.copytree(folder / "serverFilesCourse", root / "serverFilesCourse")
    (root / "student").mkdir()
    (root / "student" / "engine.py").write_text("def broken(:\n")
    run_entry_point(root / "serverFilesCourse" / bundle.PACKAGE / "run.sh", root, installed)
    results = json.loads((root / "results" / "results.json").read_text())
    validate_prairielearn(results)
    assert not results["gradable"] and "SyntaxError" in results["format_errors"][0]


def test_a_bundle_is_not_written_over_a_folder_in_use(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    args = ["check-engine", "engine:Value", "--make-autograder", "gradescope", str(tmp_path)]
    assert main(args) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert main([*args[:3], "moodle", str(tmp_path / "new")]) == 2


def test_the_grading_options_round_trip_through_the_bundle():
    options = {"spec": "engine:Value", "required": [], "points": {"add": 2.5}, "max_examples": 7,
               "timeout": 3.0, "deadline": 60.0, "hidden": False}  # fmt: skip
    arguments = bundle.options_arguments(options)
    assert arguments == ["engine:Value", "--require", ",", "--points", "add=2.5", "--max-examples",
                         "7", "--timeout", "3.0", "--deadline", "60.0"]  # fmt: skip
