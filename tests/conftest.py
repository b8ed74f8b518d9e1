"""Shared test configuration: Hypothesis profiles, and ``require_program``.

``ci`` (set by .ci/run through HYPOTHESIS_PROFILE) is derandomised and has no
deadline, so CI is reproducible and never flaky on a loaded machine.
"""

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
        message = f"{name} is not installed: {install_hint}"
        if os.environ.get("TINYGRAD_BP_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
