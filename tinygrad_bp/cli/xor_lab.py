"""``xor-lab``: many 2-h-1 networks trained on XOR, and where each run ended."""

from __future__ import annotations

import argparse
from typing import Any

from ..landscape import xor_lab
from ..landscape.xor_lab import MAX_HIDDEN, MAX_NETWORKS
from ..viz.landscape import plot_xor_lab
from .arguments import (
    UsageError,
    out_dir,
    path_text,
    positive_float,
    positive_int,
    report_files,
    seed,
    widths,
)

MAX_LAB_WORK = 10**10  # seeds x steps x weights, summed over the widths


def add_parser(commands: Any) -> None:
    command = commands.add_parser(
        "xor-lab",
        help="train many 2-h-1 networks on XOR and classify where each run ends",
        description="Full-batch gradient descent on J = 1/2 sum (y - o)^2 for --seeds "
        "networks per width at once; each run is solved (J < --threshold), in a valley at "
        "infinity (J within 1e-3 of 1/4 or 1/3, weights still growing), at a shown local "
        "minimum, or other. The recipe is printed with the table.",
    )
    command.add_argument("--hidden", type=widths, default=[2, 3, 4], help="widths, e.g. 2,3,4")
    command.add_argument(
        "--seeds", type=positive_int, default=1000, help=f"runs per width, at most {MAX_NETWORKS:,}"
    )
    command.add_argument("--steps", type=positive_int, default=50_000, help="steps per run")
    command.add_argument("--lr", type=positive_float, default=0.5, help="step size alpha")
    command.add_argument(
        "--init", type=positive_float, default=1.0, help="initial weights from U(-init, init)"
    )
    command.add_argument(
        "--threshold", type=positive_float, default=0.01, help="solved: J below this"
    )
    command.add_argument("--seed", type=seed, default=0, help="seed of the initial weights")
    command.add_argument("--out", type=path_text, metavar="DIR", help="write the plot here")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.hidden:
        raise UsageError("--hidden needs at least one width (the lab's nets have a hidden layer)")
    if max(args.hidden) > MAX_HIDDEN or args.seeds > MAX_NETWORKS or args.steps < 2:
        raise UsageError(
            f"--hidden at most {MAX_HIDDEN}, --seeds at most {MAX_NETWORKS:,}, --steps at least 2"
        )
    work = sum(args.seeds * args.steps * (4 * h + 1) for h in args.hidden)
    if work > MAX_LAB_WORK:
        raise UsageError(
            f"{work:.1e} weight updates is over the limit of {MAX_LAB_WORK:.0e}: "
            "fewer --seeds or --steps"
        )
    out = out_dir(args)
    lab = xor_lab(
        args.hidden, args.seeds, args.lr, args.steps, args.init, args.threshold, args.seed
    )
    print(lab.recipe)
    print(lab.table())
    if out is not None:
        report_files([plot_xor_lab(lab, out / "xor_lab.png")])
    return 0
