"""The same workloads run as traced steps (``tinygrad_bp.trace``): record once, replay.

Each function here does exactly what its eager counterpart in
``scalar_workloads`` / ``tensor_workloads`` does (same loss, same update), with
the forward and backward pass replaced by one call of a traced step. Tracing
happens once, when the workload is built, outside the timed calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import tensor_workloads as tw
from tinygrad_bp import Value, trace
from tinygrad_bp.data import xor


def hinge_loss(model: Any) -> Callable[[list, list], Value]:
    """micrograd's demo loss as a function of the data: mean hinge + 1e-4 * sum p^2."""

    def loss(X: list, y: list) -> Value:
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        return data_loss + reg_loss

    return loss


def traced_hinge_step(model: Any, X: list, y: list, lr: float) -> Callable[[], float]:
    """``scalar_workloads.hinge_step`` as a traced step: zero the grads, step, SGD."""
    step = trace(hinge_loss(model), X, y)
    params = model.parameters()

    def run() -> float:
        for p in params:
            p.grad = 0.0
        loss = step(X, y)
        for p in params:
            p.data -= lr * p.grad
        return loss

    return run


def traced_xor_train(model: Any, epochs: int, lr: float = 0.5) -> list[float]:
    """``scalar_workloads.xor_train`` with a traced step of J = 1/2 (y - o)^2."""
    X, y = xor()
    examples = list(zip(X.tolist(), y.tolist()))
    step = trace(lambda x, target: 0.5 * (model(x) - target) ** 2, *examples[0])
    params = model.parameters()
    for _ in range(epochs):
        for x, target in examples:
            for p in params:
                p.grad = 0.0
            step(x, target)
            for p in params:
                p.data -= lr * p.grad
    return [p.data for p in params]


class TinygradBPTraced(tw.TinygradBP):
    """tinygrad_bp with the forward and backward of the step traced once (``trace``)."""

    name = "tinygrad_bp traced"

    def __init__(self, spec: tw.Spec, weights: list, X: np.ndarray, y: np.ndarray) -> None:
        super().__init__(spec, weights, X, y)
        self.traced = trace(lambda X, y: self.loss(self.model(X), y), self.X, y)

    def step(self) -> float:
        self.optimizer.zero_grad()
        loss = self.traced(self.X, self.y)
        self.optimizer.step()
        return loss


def build_pair(spec: tw.Spec) -> dict[str, Any]:
    """The eager and the traced tinygrad_bp step and the hand-written one, same weights."""
    weights, (X, y) = tw.initial_weights(spec), tw.batch(spec)
    return {
        "tinygrad_bp": tw.TinygradBP(spec, weights, X, y),
        "tinygrad_bp traced": TinygradBPTraced(spec, weights, X, y),
        "hand numpy": tw.HandNumpy(spec, weights, X, y),
    }
