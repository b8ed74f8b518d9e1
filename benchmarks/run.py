"""Run every benchmark of the issue "Speed" side by side and print one table of ratios.

    python benchmarks/run.py            # the full run (a few minutes)
    python benchmarks/run.py --quick    # a smoke run (seconds)
    python benchmarks/run.py --only traced   # the traced steps (tinygrad_bp.trace) alone

Each workload first checks that every implementation computes the same loss
(and the same weights after a step) from the same data and initial weights,
then times them in interleaved rounds and reports medians. Peers that are not
installed (micrograd, PyTorch, MyGrad, HIPS autograd) are skipped with a note.

BLAS and PyTorch are pinned to ``--threads`` threads (default 1) for every
implementation alike, so the comparison does not depend on how busy the other
cores are.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sizes:
    """How big each workload is, and how many interleaved rounds to time."""

    moons_samples: int = 100
    lanes: int = 1000  # elementary ops: lanes * depth * 3 nodes
    depth: int = 66
    chain: int = 1_000_000
    xor_epochs: int = 2000
    rounds: int = 15


FULL = Sizes()
QUICK = Sizes(moons_samples=20, lanes=100, depth=20, chain=100_000, xor_epochs=100, rounds=3)
TINY = Sizes(moons_samples=4, lanes=4, depth=3, chain=1000, xor_epochs=2, rounds=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--rounds", type=int, help="interleaved timing rounds per workload")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    parser.add_argument("--only", help="only the workloads whose name starts so, e.g. traced")
    args = parser.parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)  # read when numpy's BLAS first loads
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this working tree

    from benchmarks import suite

    sizes = QUICK if args.quick else FULL
    if args.rounds:
        sizes = Sizes(**{**sizes.__dict__, "rounds": args.rounds})
    suite.run(sizes, args.threads, args.only)


if __name__ == "__main__":
    main()
