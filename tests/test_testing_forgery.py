"""The grader against the engine it grades: forged verdicts, escapes, lies, and what is left behind.

Each engine here is a student's file written into a temporary folder and
graded by name, the way a course grades a submission: imported only in the
sandboxed children. Each forgery must score 0 on what it fakes, and leave
nothing behind: no process, no file in the student's folder, no text mixed
into the report.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tinygrad_bp.cli import main
from tinygrad_bp.testing import check_engine, runner, student_seed
from tinygrad_bp.testing.strategies import Program, programs

ROOT = Path(__file__).resolve().parents[1]
QUICK = 3  # cases per check: every forgery here shows at the first case
NONE_REQUIRED = ()  # the small engines below lack most ops: leave those ungraded

# A small correct engine (iterative backward), to which each forgery adds its trick.
ENGINE = """
import math

class Value:
    def __init__(self, data, children=(), local=()):
        self.data = float(data)
        self.grad = 0.0
        self.children = children
        self.local = local

    def _wrap(self, other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._wrap(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._wrap(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t * t,))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node.children)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.children, node.local):
                child.grad += local * node.grad
"""


def write_engine(folder, name, extra=""):
    """Write ENGINE plus ``extra`` as ``folder/name.py``; the spec to grade it by."""
    (folder / f"{name}.py").write_text(ENGINE + textwrap.dedent(extra))
    return f"{name}:Value"


def grade(folder, spec, *options, timeout=60):
    """``python -m tinygrad_bp check-engine spec`` run in ``folder`` as its own process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tinygrad_bp", "check-engine", spec, *options]
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
    )


def graded(folder, spec, **options):
    """check_engine on ``folder/spec`` (looked up from that folder), nothing required."""
    here = os.getcwd()
    os.chdir(folder)
    try:
        return check_engine(spec, max_examples=QUICK, required=NONE_REQUIRED, **options)
    finally:
        os.chdir(here)


def test_the_small_engine_passes_what_it_has(tmp_path):
    report = graded(tmp_path, write_engine(tmp_path, "honest"))
    assert report, str(report)
    passed = {r.name for r in report.results if r.status == "pass"}
    assert {"add", "mul", "radd", "rmul", "tanh", "accumulation", "deep_chain"} <= passed


# -- forged verdicts -----------------------------------------------------------------------


def test_exiting_at_import_is_no_pass(tmp_path):
    spec = write_engine(tmp_path, "exits", "import os\nos._exit(0)\n")
    done = grade(tmp_path, spec, "--format", "gradescope", "--output", "results.json")
    assert done.returncode == 2, done
    assert "cannot grade" in done.stdout
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 0


PATCHES_THE_GRADER = """
import math
import tinygrad_bp.testing.checks as checks

math.isclose = lambda *args, **kwargs: True
checks._expect = lambda *args, **kwargs: None
checks._numbers = lambda reply, key, count: [0.0] * count

def tanh(self):
    return Value(42.0, (self,), (0.0,))

def mul(self, other):  # adds instead
    other = self._wrap(other)
    return Value(self.data + other.data, (self, other), (1.0, 1.0))

Value.tanh = tanh
Value.__mul__ = mul
"""


def test_replacing_the_graders_comparisons_changes_nothing(tmp_path):
    report = graded(tmp_path, write_engine(tmp_path, "patcher", PATCHES_THE_GRADER))
    for faked in ("tanh", "mul", "rmul", "accumulation"):
        assert report[faked].status == "fail" and report[faked].score == 0, str(report)
    assert "a.tanh() is 42.0" in report["tanh"].detail  # judged here, against the oracle
    assert report["add"].status == "pass"


FORGE = """
import json, os, struct

def forge():
    for frame in (["pass", "all good"], {"value": [0.0], "grads": [1.0], "id": None}):
        body = json.dumps(frame).encode()
        for fd in range(3, 256):
            try:
                os.write(fd, struct.pack(">I", len(body)) + body)
                os.write(fd, body)
            except OSError:
                pass
"""

FORGES_IN_TANH = (
    FORGE
    + """
def tanh(self):
    forge()
    return Value(42.0, (self,), (0.0,))

Value.tanh = tanh
"""
)


def test_writing_framed_passes_to_every_descriptor_is_no_pass(tmp_path):
    report = graded(tmp_path, write_engine(tmp_path, "framer", FORGES_IN_TANH))
    assert report["tanh"].status == "fail" and report["tanh"].score == 0, str(report)
    assert "no answer" in report["tanh"].detail
    assert report["add"].status == "pass"  # the other checks are judged as before


def test_writing_framed_passes_at_import_cannot_be_graded(tmp_path):
    report = graded(tmp_path, write_engine(tmp_path, "framer", FORGE + "forge()\n"))
    assert "answered out of turn" in report.load_error
    assert report.score == 0 and report.exit_status == 2


def test_a_malformed_answer_is_a_failure():
    class Garbled:  # its data is neither a number nor something float() takes
        def __init__(self, data):
            self.data, self.grad = data, 0.0

        def __add__(self, other):
            return Garbled([1, 2])

        def backward(self):
            pass

    report = check_engine(Garbled, max_examples=QUICK, required=NONE_REQUIRED)
    assert report["add"].status == "fail" and report["add"].score == 0
    assert "reading .data" in report["add"].detail


# -- numbers that lie -------------------------------------------------------------------------

LIARS = {
    "always_equal": """
        class Anything:
            def __eq__(self, other):
                return True
            __hash__ = object.__hash__
            def __sub__(self, other):
                return 0.0
            def __abs__(self):
                return 0.0
        def tanh(self):
            out = Value(0.0, (self,), (0.0,))
            out.data = Anything()
            return out
        Value.tanh = tanh
    """,
    "lying_float": """
        class Liar:
            def __float__(self):
                return 0.0
            def __eq__(self, other):
                return True
        def tanh(self):
            out = Value(0.0, (self,), (0.0,))
            out.data = Liar()
            return out
        Value.tanh = tanh
    """,
    "odd_float": """
        class Odd(float):
            def __eq__(self, other):
                return True
            __hash__ = float.__hash__
            def __sub__(self, other):
                return Odd(0.0)
            __rsub__ = __sub__
            def __abs__(self):
                return Odd(0.0)
            def __float__(self):
                return 0.0
            def __le__(self, other):
                return True
            __lt__ = __ge__ = __gt__ = __le__
        def tanh(self):
            return Value(0.0, (self,), (0.0,))
        def odd_tanh(self):
            out = tanh(self)
            out.data, self.grad = Odd(42.0), Odd(42.0)
            return out
        Value.tanh = odd_tanh
    """,
}


@pytest.mark.parametrize("liar", sorted(LIARS))
def test_numbers_that_lie_score_0_on_what_they_fake(tmp_path, liar):
    report = graded(tmp_path, write_engine(tmp_path, liar, LIARS[liar]))
    assert report["tanh"].status == "fail" and report["tanh"].score == 0, str(report)
    assert report["add"].status == "pass"


# -- what is unsupported, what is required -------------------------------------------------

UNPACKED_CHILDREN = """
class Value(Value):
    def __mul__(self, other):  # micrograd's children passed unpacked: a TypeError inside
        other = self._wrap(other)
        return Value(self.data * other.data, self, other, "*")
"""

DEFINES_EQ = """
from micrograd.engine import Value as Base

class Value(Base):
    def __eq__(self, other):  # now unhashable: micrograd's set of visited nodes fails
        return isinstance(other, Value) and self.data == other.data
"""

NO_RADD = """
del Value.__radd__
"""


def test_an_error_inside_the_students_op_is_a_failure_not_unsupported(tmp_path):
    report = graded(tmp_path, write_engine(tmp_path, "unpacked", UNPACKED_CHILDREN))
    assert report["mul"].status == "fail" and "TypeError" in report["mul"].detail
    assert not report and report.exit_status == 1


def test_an_unhashable_value_fails_with_its_hint(tmp_path):
    pytest.importorskip("micrograd")
    report = graded(tmp_path, write_engine(tmp_path, "hashless", DEFINES_EQ))
    assert report["add"].status == "fail" and "unhashable" in report["add"].detail
    assert not report and any("__hash__" in hint for hint in report.hints)


def test_a_missing_required_op_fails_and_says_what_sum_needs(tmp_path):
    spec = write_engine(tmp_path, "no_radd", NO_RADD)
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        report = check_engine(spec, max_examples=QUICK, required=["add", "radd"])
    finally:
        os.chdir(here)
    assert report["radd"].status == "fail" and report["radd"].score == 0
    assert report["radd"].detail == "required, but the class has no __radd__"
    assert any("sum(values)" in hint for hint in report.hints)
    assert report["sub"].status == "unsupported" and report["sub"].points == 0


def test_a_class_with_no_ops_never_passes():
    class Bare:
        def __init__(self, data):
            self.data, self.grad = data, 0.0

        def backward(self):
            pass

    assert not check_engine(Bare, max_examples=QUICK, required=NONE_REQUIRED)
    report = check_engine(Bare, max_examples=QUICK)  # the micrograd profile: all missing
    assert not report and report.score == 0 and report.exit_status == 1


# -- processes: nothing survives, nothing is orphaned ---------------------------------------

FORKS_SURVIVORS = """
import os, time

def spawn(pids):
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            os.setsid()  # try to escape the process group too
            if os.fork() == 0:  # and the parent: a double fork
                with open(pids, "a") as out:
                    out.write(f"{os.getpid()}\\n")
                time.sleep(120)
            os._exit(0)

SPAWNED = []

def tanh(self):
    if not SPAWNED:  # once per process the grader starts
        SPAWNED.append(spawn(PIDS))
    return Value(0.0, (self,), (1.0,))

Value.tanh = tanh
"""


def alive(pid):
    """Whether the process runs (not gone, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc (Linux only)")
def test_processes_the_engine_forks_do_not_survive_the_grader(tmp_path):
    pids = tmp_path / "pids.txt"
    code = f"PIDS = {str(pids)!r}\n" + FORKS_SURVIVORS
    spec = write_engine(tmp_path, "forker", code)
    started = time.monotonic()
    done = grade(tmp_path, spec, "--max-examples", "2", "--require", "add")
    assert time.monotonic() - started < 60  # capture_output did not wait for survivors
    assert done.returncode in (0, 1), done.stderr
    forked = [int(line) for line in pids.read_text().split()] if pids.exists() else []
    assert not [pid for pid in forked if alive(pid)]


KILLS_ITS_PARENT = """
import os, signal, time

def tanh(self):
    with open(PID, "w") as out:
        out.write(str(os.getpid()))
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(120)

Value.tanh = tanh
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc (Linux only)")
def test_an_engine_that_kills_the_grader_gets_no_verdict_and_leaves_no_orphan(tmp_path):
    pid_file = tmp_path / "child.pid"
    spec = write_engine(tmp_path, "killer", f"PID = {str(pid_file)!r}\n" + KILLS_ITS_PARENT)
    done = grade(tmp_path, spec, "--format", "json", "--output", "report.json")
    assert done.returncode == -signal.SIGKILL  # no report is never exit 0
    assert not (tmp_path / "report.json").exists()
    child = int(pid_file.read_text())
    for _ in range(100):  # PDEATHSIG ends it at once; allow a loaded machine 10 s
        if not alive(child):
            break
        time.sleep(0.1)
    assert not alive(child)


# -- limits, output, the student's folder --------------------------------------------------

GREEDY = """
def tanh(self):
    hog = bytearray(8 << 30)  # 8 GiB
    return Value(len(hog), (self,), (0.0,))

def mul(self, other):
    with open("big.txt", "w") as out:
        out.write("x" * (4 << 20))  # 4 MiB
    return Value(0.0, (self,), (0.0,))

Value.tanh = tanh
Value.__mul__ = mul
"""


def test_memory_and_file_size_are_limited(tmp_path):
    report = graded(tmp_path, write_engine(tmp_path, "greedy", GREEDY))
    assert "MemoryError" in report["tanh"].detail, report["tanh"].detail
    assert "OSError" in report["mul"].detail or "File too large" in report["mul"].detail
    assert not (tmp_path / "big.txt").exists()


def test_prints_at_import_stay_out_of_the_report_and_nothing_lands_in_the_folder(tmp_path):
    spec = write_engine(tmp_path, "chatty", "print('HELLO FROM THE STUDENT')\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = grade(tmp_path, spec, "--max-examples", "2", "--require", "add")
    assert done.stdout.startswith("check_engine(chatty.Value): ")
    assert "HELLO FROM THE STUDENT" not in done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no .hypothesis, no __pycache__


def test_an_import_that_loops_is_cut_at_the_time_limit(tmp_path):
    spec = write_engine(tmp_path, "looping", "while True:\n    pass\n")
    done = grade(tmp_path, spec, "--timeout", "1")
    assert done.returncode == 2
    assert "loading it took more than 1 s" in done.stdout


def test_a_huge_time_limit_is_one_line_not_a_traceback(tmp_path):
    done = grade(tmp_path, "x:Value", "--timeout", "1e308")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "tinygrad-bp: error: check-engine: --timeout must be at most 86400.0, got 1e+308"
    ]


# -- per-student cases, the global deadline, Ctrl-C -----------------------------------------


def drawn(seed):
    cases = []
    runner.run_property(programs(["add", "mul"]), cases.append, 10, seed)
    return [str(case) for case in cases]


def test_each_student_draws_their_own_cases_and_the_same_ones_every_time():
    alice, bob = student_seed("course", "alice"), student_seed("course", "bob")
    assert drawn(alice) == drawn(alice)
    assert drawn(alice) != drawn(bob)
    assert student_seed("other course", "alice") != alice
    assert student_seed("", "alice") == student_seed("", "alice") != alice  # no secret: public


def test_the_same_student_gets_the_same_report(tmp_path):
    spec = write_engine(tmp_path, "wrong_tanh", "Value.tanh = lambda self: Value(self.data)\n")
    seed = student_seed("s3cret", "alice")
    reports = [graded(tmp_path, spec, seed=seed) for _ in range(2)]
    details = [
        [(r.name, r.detail, r.cases, r.passed) for r in report.results] for report in reports
    ]
    assert details[0] == details[1]
    assert not reports[0] and reports[0]["tanh"].status == "fail"


def test_a_counterexample_program_keeps_only_the_inputs_it_uses():
    program = Program((1.0, 2.0, 3.0), (("add", (2, 2)), ("mul", (0, 1))))
    assert str(program.pruned()) == "x0 = 1.0; x1 = 2.0; x2 = x0 * x1"
    assert program.pruned().output(1.0, 2.0) == program.output(1.0, 2.0, 3.0)


LOOPING_TANH = """
def tanh(self):
    while True:
        pass

Value.tanh = tanh
"""


def test_the_global_deadline_writes_the_report_of_the_checks_finished(tmp_path):
    spec = write_engine(tmp_path, "slow", LOOPING_TANH)
    options = ["--deadline", "2", "--timeout", "60", "--require", "add", "--max-examples", "2"]
    done = grade(tmp_path, spec, *options, "--format", "json", "--output", "r.json")
    assert done.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    results = {r["name"]: r for r in report["results"]}
    assert results["add"]["status"] == "pass"
    assert results["tanh"]["detail"].startswith("timed out after")
    assert report["stopped"] == "the deadline of 2 s passed"
    assert results["sigmoid_mlp"]["detail"] == "not run: the deadline of 2 s passed"


PRESSES_CTRL_C = """
import os, signal

def tanh(self):
    os.kill(os.getppid(), signal.SIGINT)  # the user's Ctrl-C reaches the grader mid-check
    while True:
        pass

Value.tanh = tanh
"""


def test_ctrl_c_prints_the_checks_done_and_exits_130(tmp_path, monkeypatch, capsys):
    spec = write_engine(tmp_path, "interrupted", PRESSES_CTRL_C)
    monkeypatch.chdir(tmp_path)
    code = main(["check-engine", spec, "--max-examples", "2", "--require", "add"])
    captured = capsys.readouterr()
    assert code == 130 and "interrupted" in captured.err
    assert "(interrupted by Ctrl-C)" in captured.out.splitlines()[0]
    rows = [line.split(" | ")[0].strip() for line in captured.out.splitlines() if " | " in line]
    assert rows[1:] == ["add", "sub", "mul", "div", "pow", "neg", "radd", "rmul", "rsub", "rdiv",
                        "relu"]  # fmt: skip


def test_a_metaclass_that_raises_on_every_lookup_runs_nothing_in_the_grader():
    class Hostile(type):
        def __getattribute__(cls, name):
            raise SystemExit("ran in the grader")

    class Value(metaclass=Hostile):
        pass

    report = check_engine(Value, max_examples=QUICK)  # would exit here if it ran
    assert report.exit_status == 2 and "is not a micrograd-style Value class" in report.load_error
    assert report.engine.endswith("Value")
