"""``gates``: the perceptron on AND/OR/NOT/XOR, and XOR from OR, NAND and AND."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .. import data, delta, explain, viz
from ..perceptron import perceptron_on_gates
from .arguments import MAX_EPOCHS, epochs, out_dir, path_text, report_files


def add_parser(commands: Any) -> None:
    gates = commands.add_parser(
        "gates",
        help="perceptron vs XOR, and the OR/NAND/AND network",
        description="The perceptron rule learns AND, OR and NOT but never XOR; three sigmoid "
        "units (OR, NAND, then AND) compute XOR.",
    )
    gates.add_argument(
        "--max-epochs", type=epochs, default=100, help=f"epochs per gate, at most {MAX_EPOCHS:,}"
    )
    gates.add_argument(
        "--out", type=path_text, metavar="DIR", help="write the mistakes plot and network here"
    )
    gates.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    folder = out_dir(args)
    print("The perceptron on the logic gates (step activation, perceptron rule):")
    results = perceptron_on_gates(args.max_epochs)
    for name, result in results.items():
        verdict = f"converged in {result.epochs} epochs" if result.converged else "never converged"
        print(f"  {name:<4} {verdict}")
    print("\nXOR from three sigmoid units: OR and NAND in the hidden layer, AND on top.")
    print(" x1  x2 |  OR  NAND | AND = XOR")
    for x_row in data.xor()[0]:
        hidden, out = delta.forward(list(explain.HAND_BUILT_XOR), x_row)[1:]
        print(
            f" {x_row[0]:.0f}   {x_row[1]:.0f}  | {hidden[0]:.2f}  {hidden[1]:.2f} |  {out[0]:.2f}"
        )
    if folder is not None:
        errors: dict[str, Sequence[int]] = {n: r.errors for n, r in results.items()}
        report_files(
            [
                viz.plot_mistakes(
                    errors,
                    folder / "perceptron_errors.png",
                    "Perceptron on the truth tables:\n"
                    "AND, OR and NOT reach 0 mistakes, XOR never does",
                ),
                viz.plot_network(
                    explain.HAND_BUILT_XOR,
                    folder / "xor_by_hand.png",
                    "XOR truth table by hand: XOR = AND(OR, NAND)",
                    unit_names=[None, ["OR", "NAND"], ["AND"]],
                ),
            ]
        )
    return 0
