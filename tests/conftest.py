"""Shared test configuration: Hypothesis profiles.

``ci`` (set by .ci/run through HYPOTHESIS_PROFILE) is derandomised and has no
deadline, so CI is reproducible and never flaky on a loaded machine.
"""

import os

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
