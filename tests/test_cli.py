"""The command line, run in-process and as `python -m tinygrad_bp`."""

import subprocess
import sys

import numpy as np
import pytest

from tinygrad_bp import delta
from tinygrad_bp.cli import (
    HAND_BUILT_XOR,
    WORKED_INPUT,
    WORKED_LR,
    WORKED_TARGET,
    WORKED_WEIGHTS,
    main,
    worked_example_rows,
)


def test_worked_example_rows_agree_and_hit_the_tutorials_numbers():
    rows = {
        name: (ours, theirs)
        for name, ours, theirs in worked_example_rows(
            WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET, WORKED_LR
        )
    }
    for ours, theirs in rows.values():
        assert ours == pytest.approx(theirs, abs=1e-12)
    # The tutorial's figures, within the rounding it carried forward (see
    # test_backprop_agreement for the exact hand derivation).
    tutorial = {
        "o[1][1]": (0.777, 5e-4),
        "o[1][2]": (0.759, 1e-3),
        "o[2][1]": (0.824, 1.5e-3),
        "J": (0.0155, 2e-4),
        "delta[2][1]": (0.0255, 5e-4),
        "delta[1][1]": (0.00132, 3e-5),
        "delta[1][2]": (0.00187, 3e-5),
        "new w[2][0,1]": (1.01275, 2e-4),
        "new w[2][1,1]": (0.3099, 2e-4),
        "new w[2][2,1]": (0.4097, 2e-4),
        "new w[1][1,1]": (0.251, 5e-4),
        "new w[1][2,2]": (0.1, 1e-15),
    }
    for name, (figure, rounding) in tutorial.items():
        assert abs(rows[name][0] - figure) <= rounding, name
    assert len(rows) == 3 + 1 + 3 + 9  # activations, J, deltas, weights


def test_worked_example_command_prints_the_table(capsys):
    assert main(["worked-example"]) == 0
    out = capsys.readouterr().out
    assert "delta[2][1]" in out and "0.025" in out and " NO" not in out


def test_xor_command_learns_xor(capsys):
    assert main(["xor", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "4/4 outputs on the right side of 0.5" in out


def test_gates_command_reports_perceptron_failure_on_xor(capsys):
    assert main(["gates"]) == 0
    out = capsys.readouterr().out
    assert "XOR  never converged" in out and "AND  converged" in out


def test_the_hand_built_network_computes_xor():
    for x, target in [((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)]:
        o = delta.forward(HAND_BUILT_XOR, np.array(x, dtype=float))[-1][0]
        assert abs(o - target) < 1e-3


def test_module_entry_point_and_bad_arguments():
    run = [sys.executable, "-m", "tinygrad_bp"]
    ok = subprocess.run([*run, "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "worked-example" in ok.stdout
    bad = subprocess.run([*run, "xor", "--lr", "fast"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid float value" in bad.stderr
