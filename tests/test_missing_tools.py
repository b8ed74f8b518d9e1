"""The end of a test run lists, once, what was missing and how to install it.

The root conftest.py is run for real, in a child pytest, on a small suite whose
tests skip for want of two made-up programs.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SKIPPING_SUITE = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_needs_frob(n):
    pytest.skip("frob is not installed: apt-get install frob")

def test_needs_quux():
    pytest.skip("quux is not installed: brew install quux")

def test_skips_for_another_reason():
    pytest.skip("not today")

def test_runs():
    assert True
"""


def run_suite(tmp_path, body, env=None):
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_suite.py").write_text(body)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_the_missing_programs_are_listed_once_with_their_install_line(tmp_path):
    result = run_suite(tmp_path, SKIPPING_SUITE)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert out.count("skipped for want of a program or package") == 1
    section = out.split("skipped for want of a program or package")[1].splitlines()[1:3]
    assert section == [
        "frob (3 tests skipped): apt-get install frob",
        "quux (1 test skipped): brew install quux",
    ]
    assert "not today" not in out  # other skips stay where -rs shows them


def test_nothing_is_added_when_nothing_is_missing(tmp_path):
    result = run_suite(tmp_path, "def test_runs():\n    assert True\n")
    assert result.returncode == 0 and "for want of" not in result.stdout
