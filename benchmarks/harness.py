"""Timing and reporting shared by the workloads: interleaved rounds, medians, one table."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def interleaved_medians(
    candidates: dict[str, Callable[[], object]], rounds: int, repeat: int = 1
) -> dict[str, float]:
    """Median seconds per call of each candidate, timed in interleaved rounds.

    Each round calls every candidate ``repeat`` times in a row; the order of the
    candidates rotates from round to round, so a slow spell of the machine (another
    process, a frequency change) hits all of them alike rather than one.
    """
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            run = candidates[name]
            gc.collect()
            start = time.perf_counter()
            for _ in range(repeat):
                run()
            samples[name].append((time.perf_counter() - start) / repeat)
    return {name: statistics.median(times) for name, times in samples.items()}


def assert_close(name: str, reference: str, ours: object, theirs: object, rtol: float) -> None:
    """Raise AssertionError naming both implementations unless the numbers agree."""
    for mine, other in zip(_flat(ours), _flat(theirs), strict=True):
        if not np.allclose(mine, other, rtol=rtol, atol=rtol):
            worst = np.max(np.abs(np.asarray(mine, np.float64) - np.asarray(other, np.float64)))
            raise AssertionError(f"{name} disagrees with {reference}: max |difference| {worst:.3g}")


def _flat(numbers: object) -> list[np.ndarray]:
    if isinstance(numbers, (list, tuple)):
        return [np.asarray(x, dtype=np.float64) for x in numbers]
    return [np.asarray(numbers, dtype=np.float64)]


@dataclass
class Row:
    """One line of the results table: ours against one peer on one workload."""

    workload: str
    peer: str
    ours: str  # our figure, formatted
    theirs: str  # the peer's figure, formatted
    ratio: float | None  # how many times better we are (> 1: better), None if not a ratio
    goal: str
    passed: bool | None  # None: no goal for this row (information only)

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        verdict = {True: "PASS", False: "MISS", None: ""}[self.passed]
        return [self.workload, self.peer, self.ours, self.theirs, ratio, self.goal, verdict]


HEADER = ["workload", "vs", "tinygrad_bp", "peer", "better by", "goal", ""]


def format_table(rows: list[Row]) -> str:
    """A Markdown table (it reads as plain text too)."""
    lines = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    text = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |" for line in lines]
    text.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(text)


def seconds(t: float) -> str:
    """A duration with a sensible unit: 41.2 µs, 1.88 ms, 0.88 s."""
    if t < 1e-3:
        return f"{t * 1e6:.1f} µs"
    if t < 1.0:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def speedup_row(
    workload: str, peer: str, ours: float, theirs: float, at_least: float | None, goal: str
) -> Row:
    """A row for 'we are at least ``at_least`` times faster than the peer' (None: no goal)."""
    ratio = theirs / ours
    passed = None if at_least is None else ratio >= at_least
    return Row(workload, peer, seconds(ours), seconds(theirs), ratio, goal, passed)
