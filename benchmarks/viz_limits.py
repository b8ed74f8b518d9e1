"""How long Graphviz's ``dot`` takes on the worst graphs the picture limits let through.

``python benchmarks/viz_limits.py`` builds graphs just inside ``viz.MAX_EDGE_LENGTH``
and ``viz.MAX_NODES`` (long edges are what makes ``dot`` slow, not many nodes), runs
``dot -Tsvg`` on each once, and prints the seconds, the layers the edges cross, and
the ratio to the time of the 2-2-1 worked example's picture. It also times the
graph the limits now refuse (``a+a+...+a`` with 100 terms) with a 30 s timeout,
drawn with the limits lifted, to show what they protect against.
"""

from __future__ import annotations

import subprocess
import time

from tinygrad_bp import Value, explain
from tinygrad_bp.viz import MAX_EDGE_LENGTH, draw_dot


def repeated_sum(terms: int) -> Value:
    """a + a + ... + a: one leaf read by every step of a chain."""
    a = Value(1.0, label="a")
    total = a
    for _ in range(terms - 1):
        total = total + a
    return total


def fan_through_tanh(terms: int) -> Value:
    """tanh(a) + tanh(a) + ...: one leaf read through a tanh by every step."""
    a = Value(1.0, label="a")
    total = a.tanh()
    for _ in range(terms - 1):
        total = total + a.tanh()
    return total


def chain(length: int) -> Value:
    """tanh(tanh(...(x))): a long chain without long edges, cut to MAX_NODES."""
    x = Value(0.1, label="x")
    for _ in range(length):
        x = x.tanh()
    return x


def seconds(root: Value, limit: int = MAX_EDGE_LENGTH, timeout: float = 30.0) -> float:
    """Wall time of one ``dot -Tsvg`` run on the picture of ``root`` (inf past the timeout)."""
    source = draw_dot(root, max_edge_length=limit).source.encode()
    start = time.perf_counter()
    try:
        subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return float("inf")
    return time.perf_counter() - start


def main() -> None:
    worked = explain.autograd_pass(
        explain.WORKED_WEIGHTS, explain.WORKED_INPUT, explain.WORKED_TARGET
    ).loss
    baseline = seconds(worked)
    cases = {
        "a+a+...+a, 63 terms (3,968 layers)": repeated_sum(63),
        "tanh(a)+... , 61 terms (3,842 layers)": fan_through_tanh(61),
        "tanh chain of 5,000, cut to 500 nodes": chain(5000),
    }
    print(f"2-2-1 worked example: {baseline:.2f} s (the unit of the ratios)")
    for name, root in cases.items():
        took = seconds(root)
        print(f"{name}: {took:.2f} s, {took / baseline:.0f}x")
    refused = seconds(repeated_sum(100), limit=10**9)
    shown = "over 30 s" if refused == float("inf") else f"{refused:.1f} s"
    print(f"refused now, a+a+...+a with 100 terms drawn anyway: {shown}")


if __name__ == "__main__":
    main()
