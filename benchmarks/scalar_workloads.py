"""Scalar-engine workloads: tinygrad_bp's ``Value`` against micrograd's, on micrograd's ground.

Each workload is one function of the ``Value`` class (and the model) it runs
on, so both engines execute exactly the same Python code; only the engine
differs. micrograd has no sigmoid, so the XOR workload gives it one written
the micrograd way (a closure per node, as its lecture adds ``tanh``).
"""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

from tinygrad_bp import Value
from tinygrad_bp import nn as tnn
from tinygrad_bp.data import moons, xor
from tinygrad_bp.graph import toposort

try:
    from micrograd import nn as micro_nn
    from micrograd.engine import Value as MicroValue
except ImportError:  # micrograd is optional: its rows are skipped
    micro_nn = MicroValue = None


# -- micrograd's moons demo: one training step of a 2-16-16-1 MLP on 100 points ----------


def moons_data(n: int) -> tuple[list[list[float]], list[float]]:
    """The demo's data: ``n`` points of two moons with labels -1 and +1."""
    X, y = moons(n, noise=0.1, rng=1)
    return X.tolist(), (2.0 * y - 1.0).tolist()


def hinge_step(value: type, model: Any, X: list, y: list, lr: float) -> float:
    """micrograd's demo step: SVM hinge loss + L2, backward, SGD; returns the loss.

    loss = mean_i relu(1 - y_i score_i) + 1e-4 * sum_p p^2
    """
    inputs = [list(map(value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data


def mlp_pair(sizes: list[int]) -> dict[str, Any]:
    """Our MLP (ReLU hidden, linear output) and micrograd's, with the same weights."""
    ours = tnn.MLP(sizes[0], sizes[1:], activation="relu", output_activation="linear", rng=0)
    models = {"tinygrad_bp": ours}
    if micro_nn is not None:
        theirs = micro_nn.MLP(sizes[0], sizes[1:])
        for p, q in zip(theirs.parameters(), ours.parameters(), strict=True):
            p.data = q.data
        models["micrograd"] = theirs
    return models


def weights_of(model: Any) -> list[float]:
    return [p.data for p in model.parameters()]


# -- elementary ops: many short chains of h <- relu(h * w + c), summed pairwise ----------


def elementary_graph(value: type, lanes: int, depth: int) -> tuple[Any, tuple[Any, Any]]:
    """About 3 * lanes * depth nodes of +, * and relu; returns the root and (w, c).

    Wide rather than deep (sums taken pairwise), so that micrograd's recursive
    topological sort stays within Python's recursion limit.
    """
    w, c = value(0.9), value(0.1)
    heads = []
    for lane in range(lanes):
        h = value(lane / lanes)
        for _ in range(depth):
            h = (h * w + c).relu()
        heads.append(h)
    while len(heads) > 1:
        paired = [a + b for a, b in zip(heads[::2], heads[1::2])]
        heads = paired + heads[len(paired) * 2 :]
    return heads[0], (w, c)


def elementary_run(value: type, lanes: int, depth: int) -> list[float]:
    """Build the graph, backpropagate; returns [root, dw, dc] for the agreement check."""
    root, (w, c) = elementary_graph(value, lanes, depth)
    root.backward()
    return [root.data, w.grad, c.grad]


def count_nodes(root: Any) -> int:
    """Nodes in a graph of either engine (ours: ``children``; micrograd: ``_prev``)."""
    if isinstance(root, Value):
        return len(toposort(root))
    seen, stack = {id(root)}, [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def bytes_per_node(value: type, lanes: int, depth: int) -> float:
    """Memory the built graph holds (tracemalloc), divided by its number of nodes."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        root, _ = elementary_graph(value, lanes, depth)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held / count_nodes(root)


# -- depth: a chain y <- y + 1 -------------------------------------------------------------


def chain(value: type, depth: int) -> float:
    """Backpropagate through ``depth`` additions in a row; returns dy/dx (1.0)."""
    x = value(1.0)
    y = x
    for _ in range(depth):
        y = y + 1.0
    y.backward()
    return x.grad


def deepest_chain(value: type, depths: list[int]) -> tuple[int, str]:
    """The deepest chain in ``depths`` that backpropagates, and what stopped the next one."""
    reached = 0
    for depth in depths:
        try:
            chain(value, depth)
        except RecursionError:
            return reached, f"RecursionError at {depth:,}"
        reached = depth
    return reached, "ok"


# -- XOR: the derivation's 2-2-1 sigmoid network, online SGD ------------------------------


def micrograd_sigmoid(x: Any) -> Any:
    """sigmoid for micrograd, written its way: the local derivative in a closure."""
    s = 1.0 / (1.0 + math.exp(-x.data))
    out = MicroValue(s, (x,), "sigmoid")

    def _backward() -> None:
        x.grad += s * (1.0 - s) * out.grad

    out._backward = _backward
    return out


class MicroSigmoidMLP:
    """micrograd's MLP with sigmoid units (its own has only ReLU), weights from ours."""

    def __init__(self, ours: tnn.MLP) -> None:
        self.layers = [
            [([MicroValue(w.data) for w in n.w], MicroValue(n.b.data)) for n in layer.neurons]
            for layer in ours.layers
        ]

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            x = [micrograd_sigmoid(sum((wi * xi for wi, xi in zip(w, x)), b)) for w, b in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def xor_pair() -> dict[str, Any]:
    """The 2-2-1 sigmoid network of both engines, with the same weights."""
    ours = tnn.MLP(2, [2, 1], rng=0)
    models = {"tinygrad_bp": ours}
    if MicroValue is not None:
        models["micrograd"] = MicroSigmoidMLP(ours)
    return models


def xor_train(model: Any, epochs: int, lr: float = 0.5) -> list[float]:
    """Online SGD on J = 1/2 (y - o)^2, one example at a time; returns the final weights."""
    X, y = xor()
    examples = list(zip(X.tolist(), y.tolist()))
    params = model.parameters()
    for _ in range(epochs):
        for x, target in examples:
            loss = 0.5 * (model(x) - target) ** 2
            model.zero_grad()
            loss.backward()
            for p in params:
                p.data -= lr * p.grad
    return [p.data for p in params]
