"""Shared test configuration: Hypothesis profiles, and tests that need a program or package.

``ci`` (set by .ci/run through HYPOTHESIS_PROFILE) is derandomised and has no
deadline, so CI is reproducible and never flaky on a loaded machine.

A test that needs a program such as Graphviz's ``dot`` or Chromium is marked
``needs_dot`` / ``needs_chromium`` (or calls ``require_program``): it skips,
saying how to install the program, where the program is missing, unless
``TINYGRAD_BP_REQUIRE_TOOLS=1`` is set (CI sets it), when it fails instead, so
CI never skips it silently.
"""

import importlib.util
import os
import shutil
import signal
from collections.abc import Iterator
from typing import NoReturn

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

INSTALL_DOT = "install Graphviz: apt-get install graphviz (Debian/Ubuntu) or brew install graphviz"
INSTALL_CHROMIUM = "install Chromium: apt-get install chromium (Debian/Ubuntu)"


def require_program(name: str, install_hint: str) -> str:
    """The path of the program ``name``, or skip the test saying how to install it.

    With TINYGRAD_BP_REQUIRE_TOOLS=1 (as CI sets it) a missing program fails the
    test instead, so that a broken install cannot pass as skipped tests.
    """
    path = shutil.which(name)
    if path is None:
        _absent(f"{name} is not installed: {install_hint}")
    return path


def require_module(name: str, install_hint: str) -> None:
    """Skip (or, with TINYGRAD_BP_REQUIRE_TOOLS=1, fail) unless the module can be imported."""
    if importlib.util.find_spec(name) is None:
        _absent(f"the Python package {name} is not installed: {install_hint}")


def _absent(message: str) -> NoReturn:
    if os.environ.get("TINYGRAD_BP_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{message} (TINYGRAD_BP_REQUIRE_TOOLS=1 requires it)")
    pytest.skip(message)


@pytest.fixture
def dot_program() -> str:
    """The path of Graphviz's ``dot``; the test skips (or fails under CI) without it."""
    return require_program("dot", INSTALL_DOT)


@pytest.fixture
def chromium_program() -> str:
    """The path of Chromium; the test skips (or fails under CI) without it."""
    return require_program("chromium", INSTALL_CHROMIUM)


needs_dot = pytest.mark.usefixtures("dot_program")
needs_chromium = pytest.mark.usefixtures("chromium_program")


# -- Ctrl-C in tests --------------------------------------------------------------------
# A background job of a non-interactive shell (`nohup make test &`) starts with SIGINT
# ignored, and every child inherits that: Python then installs no KeyboardInterrupt
# handler, and a test that interrupts a process would wait on it forever.


def default_sigint() -> None:
    """``preexec_fn`` of a child a test will interrupt: SIGINT back to its default action,
    so that the child's Python raises KeyboardInterrupt on it, however the suite was run."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """For the test's duration, SIGINT to this process raises KeyboardInterrupt (Python's
    own handler), even when the suite was started with SIGINT ignored; restored after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
