"""Hypothesis strategies shared by the test modules.

``sigmoid_networks`` is public in ``tinygrad_bp.testing`` (the engine grader uses
it too); it is re-exported here so the test modules keep importing it from here.
"""

from hypothesis import strategies as st

from tinygrad_bp.testing import sigmoid_networks

__all__ = ["finite", "sigmoid_networks"]

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
