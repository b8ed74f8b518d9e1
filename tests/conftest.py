"""Shared test configuration: Hypothesis profiles, ``require_program`` and ``require_module``.

``ci`` (set by .ci/run through HYPOTHESIS_PROFILE) is derandomised and has no
deadline, so CI is reproducible and never flaky on a loaded machine.
"""

import importlib.util
import os
import shutil

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


def _absent(message: str) -> None:
    if os.environ.get("TINYGRAD_BP_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
