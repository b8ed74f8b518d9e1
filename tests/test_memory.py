"""Training does not grow in memory: after 10,000 more steps it holds what it held after 1,000.

Each step builds a graph, backpropagates and updates the weights; when the
step returns, its graph is unreachable and freed (the engines create no
reference cycles, so this happens at once, without the cyclic collector).
tracemalloc measures the memory still allocated after the loop against the
same figure after the warm-up, and the peak during the loop against the peak of
one step; the bounds (under 2 bytes per step) catch any per-step leak, such as
a graph kept alive.
"""

import gc
import tracemalloc
from collections.abc import Callable

import numpy as np

from tinygrad_bp import Tensor, Value
from tinygrad_bp.losses import half_sse
from tinygrad_bp.nn import MLP, Linear, Sequential, Sigmoid
from tinygrad_bp.optim import SGD

STEPS = 10_000
GROWTH_LIMIT = 16 * 1024  # bytes over all the steps: under 2 bytes per step


def growth(step: Callable[[], object], steps: int, warmup: int = 1_000) -> tuple[int, int]:
    """(rise of the memory held, rise of the peak) over ``steps`` steps, after a warm-up.

    The warm-up runs traced too: caches, the optimiser's state and Python's free
    lists of small objects fill up in the first steps, which is not growth. The
    cyclic collector is switched off (a full collection empties the free lists,
    which then refill): the graphs must be freed by reference counting alone.
    """
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(warmup):
            step()
        held_before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        one_step_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        for _ in range(steps):
            step()
        held_after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    return held_after - held_before, peak - one_step_peak


def scalar_step() -> Callable[[], float]:
    """Online SGD on XOR with the 2-2-1 sigmoid MLP: one example per step."""
    net = MLP(2, [2, 1], rng=0)
    optimizer = SGD(net.parameters(), lr=0.5)
    examples = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
    count = [0]

    def step() -> float:
        x, y = examples[count[0] % 4]
        count[0] += 1
        loss = half_sse(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.data

    return step


def tensor_step() -> Callable[[], float]:
    """Mini-batch SGD with a 2-8-1 sigmoid network on a batch of 4."""
    net = Sequential(Linear(2, 8, rng=0), Sigmoid(), Linear(8, 1, rng=1), Sigmoid())
    optimizer = SGD(net.parameters(), lr=0.5)
    X = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])

    def step() -> float:
        loss = half_sse(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def test_scalar_training_loop_does_not_grow():
    held, peak_rise = growth(scalar_step(), STEPS)
    assert held < GROWTH_LIMIT
    assert peak_rise < GROWTH_LIMIT


def test_tensor_training_loop_does_not_grow():
    held, peak_rise = growth(tensor_step(), STEPS)
    assert held < GROWTH_LIMIT
    assert peak_rise < GROWTH_LIMIT


def test_the_measurement_sees_a_leak():
    kept = []
    step = scalar_step()

    def leaky_step() -> None:
        kept.append(Value(step()))  # about 100 bytes a step kept alive

    held, _ = growth(leaky_step, 1_000, warmup=10)
    assert held > 50 * 1_000
