"""``worked-example``: the derivation's one-step example, by autograd and by the formulas."""

from __future__ import annotations

import argparse
from typing import Any

from .. import explain


def add_parser(commands: Any) -> None:
    worked = commands.add_parser(
        "worked-example",
        help="the derivation's one-step XOR example, by autograd and by formula",
        description="Every number of the tutorial's worked example (2-2-1 network, x = (1, 0), "
        "y = 1, lr = 0.5): activations, J, deltas, weight updates and new weights, each by "
        "autograd and by the delta rules, with a column saying whether they agree.",
    )
    worked.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("The derivation's worked example: one online step of a 2-2-1 sigmoid network")
    print(f"input x = {explain.WORKED_INPUT.tolist()}, target y = 1, lr = {explain.WORKED_LR}")
    print("(o[l][j]: unit j of layer l; w[l][i,j]: weight from unit i below, 0 = bias)\n")
    table = explain.worked_example()
    print(table)
    return 0 if table.ok else 1
