"""Smoke test of benchmarks/: every implementation computes the same thing (no timing).

The benchmark's own agreement checks run on tiny sizes: one training step of
each workload from the same weights gives the same loss and the same weights in
every installed implementation (micrograd, PyTorch, MyGrad, HIPS autograd and
hand-written numpy against tinygrad_bp). A disagreement raises AssertionError.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness, suite  # noqa: E402
from benchmarks import tensor_workloads as tw  # noqa: E402
from benchmarks.run import TINY  # noqa: E402


def test_every_implementation_agrees_on_tiny_sizes():
    suite.check_all(TINY)


def test_the_agreement_check_catches_a_wrong_step():
    spec = suite.TINY_SPECS[0]
    built = tw.build_all(spec, {"tinygrad_bp", "hand numpy"})
    ours, hand = built["tinygrad_bp"], built["hand numpy"]
    hand.params[0][0][0, 0] += 1e-6  # a different starting weight
    with pytest.raises(AssertionError, match="hand numpy disagrees"):
        harness.assert_close("hand numpy", "tinygrad_bp", ours.step(), hand.step(), 1e-9)


def test_the_hand_written_step_is_the_autograd_step():
    for spec in suite.TINY_SPECS:
        built = tw.build_all(spec, {"tinygrad_bp", "hand numpy"})
        losses = [built[name].step() for name in ("tinygrad_bp", "hand numpy")]
        assert losses[0] == pytest.approx(losses[1], rel=1e-5)
        for (W, b), (W_hand, b_hand) in zip(*(built[n].weights() for n in built), strict=True):
            np.testing.assert_allclose(W, W_hand, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(b, b_hand, rtol=1e-5, atol=1e-7)


def test_the_table_has_a_verdict_per_goal():
    rows = [
        harness.speedup_row("w", "peer", ours=1.0, theirs=3.0, at_least=2.0, goal=">= 2x"),
        harness.speedup_row("w", "peer", ours=1.0, theirs=1.5, at_least=2.0, goal=">= 2x"),
        harness.speedup_row("w", "peer", ours=1.0, theirs=1.5, at_least=None, goal="(info)"),
    ]
    assert [row.passed for row in rows] == [True, False, None]
    table = harness.format_table(rows)
    assert "3.00x" in table and "PASS" in table and "MISS" in table
