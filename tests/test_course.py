"""The course's notebooks: the solutions run clean, and the student version, unfilled,
fails exactly its self-checks, each with a message that says what is wrong.

Every notebook is executed twice in a fresh kernel (nbclient, a time limit per
cell): once as the solutions build, once as the student build. The tests that
execute skip, naming the extra, only when the ``course`` extra is not installed.
"""

import importlib.util
from pathlib import Path

import pytest

from tinygrad_bp.course import CHECK_TAG, notebook, sources
from tinygrad_bp.course.markup import BEGIN, END, student_source

ROOT = Path(__file__).resolve().parent.parent
EXTRA = 'the course extra is not installed: pip install -e ".[course]"'
MAX_OUTPUT_LINES = 30  # what a 1366x768 screen shows of one output, roughly
NOTEBOOKS = sources()


def course_tools():
    """The build script's module, once the course extra is known to be installed."""
    for module in ("jupytext", "nbformat", "nbclient", "nbconvert", "ipykernel"):
        pytest.importorskip(module, reason=EXTRA)
    spec = importlib.util.spec_from_file_location("course_build", ROOT / "course" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_check(cell):
    return cell.cell_type == "code" and CHECK_TAG in cell.metadata.get("tags", [])


def errors(cell):
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


def output_lines(output):
    if output.output_type == "stream":
        return output.text.count("\n")
    return output.get("data", {}).get("text/plain", "").count("\n")


def test_the_course_has_its_notebooks_in_order():
    names = [path.stem for path in NOTEBOOKS]
    assert len(names) >= 10, names
    assert [int(name[:2]) for name in names] == list(range(1, len(names) + 1)), names


def test_every_notebook_is_listed_in_the_docs_and_the_site_navigation():
    """A new notebook needs a row in docs/course.md and an entry in mkdocs.yml's nav."""
    introduction = (ROOT / "docs" / "course.md").read_text(encoding="utf-8")
    navigation = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        page = f"course/{path.stem}.md"
        assert f"({page})" in introduction, f"docs/course.md does not link {page}"
        assert f": {page}\n" in navigation, f"mkdocs.yml's nav does not list {page}"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda path: path.stem)
def test_each_exercise_is_followed_by_its_check_and_marked_for_nbgrader(source):
    course_tools()
    nb = notebook(source, "solutions")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    exercises = [i for i, cell in enumerate(code) if BEGIN in cell.source]
    assert exercises, f"{source.name} has no exercise"
    for i in exercises:
        assert END in code[i].source, f"{source.name}: a solution region is not closed"
        assert i + 1 < len(code) and is_check(code[i + 1]), (
            f"{source.name}: exercise cell {i} is not followed by a check cell"
        )
        assert code[i].metadata["nbgrader"]["solution"] is True
        assert code[i + 1].metadata["nbgrader"]["grade"] is True
    ids = [cell.metadata["nbgrader"]["grade_id"] for cell in code if "nbgrader" in cell.metadata]
    assert len(ids) == len(set(ids)), f"{source.name}: grade ids repeat"
    student = notebook(source, "student")
    assert not any(BEGIN in cell.source for cell in student.cells), "a solution left in"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_solutions_run_clean_and_short(source):
    tools = course_tools()
    executed = tools.execute(notebook(source, "solutions"))  # raises on the first error
    for number, cell in enumerate(executed.cells):
        for output in cell.get("outputs", []):
            lines = output_lines(output)
            assert lines <= MAX_OUTPUT_LINES, (
                f"{source.name}, cell {number}: an output of {lines} lines is longer than a screen"
            )
            assert output.get("name") != "stderr", (
                f"{source.name}, cell {number} writes to stderr: {output.text[:300]}"
            )


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_unfilled_student_version_fails_exactly_its_checks(source):
    tools = course_tools()
    executed = tools.execute(notebook(source, "student"), allow_errors=True)
    failed = [number for number, cell in enumerate(executed.cells) if errors(cell)]
    checks = [number for number, cell in enumerate(executed.cells) if is_check(cell)]
    assert failed == checks, f"{source.name}: cells {failed} raised, the checks are {checks}"
    for number in checks:
        (error,) = errors(executed.cells[number])
        assert error.ename in ("AssertionError", "NotImplementedError"), (
            f"{source.name}, check cell {number} raised {error.ename}: {error.evalue}"
        )
        assert error.evalue.strip(), f"{source.name}, check cell {number} fails without a message"


def test_the_notebooks_ship_with_the_package():
    """``tinygrad-bp course`` builds from the sources inside the package: the wheel's
    package data must hold every one of them."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["tinygrad_bp.course"]
    package = ROOT / "tinygrad_bp" / "course"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    assert set(NOTEBOOKS) <= shipped, f"not in the package data: {set(NOTEBOOKS) - shipped}"


def test_a_stub_inside_a_function_names_it():
    cell = f"def sigmoid(z):\n    {BEGIN}\n    return z\n    {END}\n"
    stubbed = student_source(cell)
    assert "return z" not in stubbed
    namespace: dict = {}
    exec(stubbed, namespace)
    with pytest.raises(NotImplementedError, match=r"sigmoid\(\)"):
        namespace["sigmoid"](0.0)


def test_a_top_level_stub_leaves_each_name_unanswered():
    stubbed = student_source(f"a = 1\n{BEGIN}\nw, b = [1.0], 2.0\nlr = 0.5\n{END}\nprint(a)\n")
    namespace: dict = {}
    exec(stubbed, namespace)
    assert (namespace["w"], namespace["b"], namespace["lr"]) == (..., ..., ...)
    assert namespace["a"] == 1


def test_a_top_level_solution_that_assigns_nothing_is_refused():
    with pytest.raises(ValueError, match="must assign a name"):
        student_source(f"{BEGIN}\nprint(1)\n{END}\n")


# -- tinygrad-bp course DIR ----------------------------------------------------------------


def run_cli(*args, cwd):
    import subprocess
    import sys

    command = [sys.executable, "-m", "tinygrad_bp", "course", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_command_writes_the_student_notebooks_without_their_solutions(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason=EXTRA)
    course_tools()
    result = run_cli("lesson", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted((tmp_path / "lesson").glob("*.ipynb"))
    assert [path.stem for path in written] == [path.stem for path in NOTEBOOKS]
    for path in written:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        sources = "\n".join(cell.source for cell in nb.cells)
        assert BEGIN not in sources and "YOUR CODE HERE" in sources, path.name


def test_the_command_refuses_to_overwrite_without_force(tmp_path):
    course_tools()
    assert run_cli("lesson", cwd=tmp_path).returncode == 0
    first = tmp_path / "lesson" / f"{NOTEBOOKS[0].stem}.ipynb"
    first.write_text("my answers", encoding="utf-8")
    again = run_cli("lesson", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "--force" in again.stderr, again.stderr
    assert first.read_text(encoding="utf-8") == "my answers"
    forced = run_cli("lesson", "--force", "--solutions", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert BEGIN in first.read_text(encoding="utf-8")


def test_the_command_refuses_a_file_as_its_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    result = run_cli("notes.txt", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "tinygrad-bp: error: notes.txt exists and is not a directory\n"
    no_argument = run_cli(cwd=tmp_path)
    assert no_argument.returncode == 2 and no_argument.stderr.count("\n") == 1
