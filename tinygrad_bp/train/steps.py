"""One training step of ``fit``: forward, backward, the loss as a float; traced when it can be."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..graph import mode, no_grad
from ..tensor import Tensor
from ..tracing import Step, TraceError, trace


def check_widths(
    model: Any, loss: Callable[[Any, Any], Any], X: np.ndarray, y: np.ndarray, scalar: bool
) -> None:
    """Run the first example forward and into the loss, recording nothing, so that a model
    that does not fit X or y fails before any grad or weight changes (ValueError naming
    the shapes)."""
    with no_grad():
        out = model(X[0].tolist()) if scalar else model(X[:1])
        outputs = output_shape(out)
        if math.prod(outputs) == y[0].size:
            return
        try:  # not one target per output: the loss must accept them as they are (classes)
            loss(out, y[0] if scalar else y[:1])
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"fit: the model gives {math.prod(outputs)} outputs per example, but y of shape "
                f"{y.shape} has {y[0].size} per example ({error})"
            ) from None


def output_shape(out: Any) -> tuple[int, ...]:
    """The shape of a model's output: a Tensor's, or that of a (nested) list of Values."""
    return out.shape if isinstance(out, Tensor) else np.shape(np.asarray(out, dtype=object))


def targets_like(y: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """y in the output's shape when it holds one number per output; else y unchanged."""
    return y.reshape(shape) if y.size == math.prod(shape) else y


class Steps:
    """One training step of ``fit``: forward, backward, return the loss; grads add up.

    Scalar models run example by example, tensor models a batch at once. With
    ``compile``, the loss of one example (or batch) is traced the first time each
    shape comes (``tinygrad_bp.trace``) and replayed from then on; a model or loss
    that cannot be traced (``trace`` raises ValueError) keeps the eager step, and
    ``eager`` says why (the first refusal's message).
    """

    def __init__(self, model: Any, loss: Callable[[Any, Any], Any], scalar: bool, compile: bool):
        self.model, self.loss, self.scalar, self.compile = model, loss, scalar, compile
        self.traced: dict[tuple[int, ...], Step | None] = {}
        self.eager = ""

    def example_loss(self, x: Any, y: Any) -> Any:
        """The loss of one example (scalar models: x a list) or one batch (tensor models)."""
        out = self.model(x)
        return self.loss(out, targets_like(y, output_shape(out)))

    def __call__(self, X: np.ndarray, y: np.ndarray) -> float:
        if not self.scalar:
            return self.run(X, y)
        return sum((self.run(x_row.tolist(), y_row) for x_row, y_row in zip(X, y)), 0.0)

    def run(self, x: Any, y: Any) -> float:
        step = None
        if self.compile and mode.observed:  # only the eager step has ops to inspect
            self.eager = self.eager or "an observer (anomaly mode, a step-through) watches every op"
        elif self.compile:
            step = self.step_for(x, y)
        if step is not None:
            try:
                return step(x, y)
            except TraceError:  # another branch on data this time: run this call eagerly
                pass
        value = self.example_loss(x, y)
        value.backward()
        return float(value.data) if self.scalar else float(value.item())

    def step_for(self, x: Any, y: Any) -> Step | None:
        shape = (len(x), *np.shape(y)) if self.scalar else (*np.shape(x), *np.shape(y))
        if shape not in self.traced:
            try:
                self.traced[shape] = trace(self.example_loss, x, y)
            except ValueError as error:  # not traceable: this shape runs eagerly
                self.traced[shape] = None
                self.eager = self.eager or str(error)
        return self.traced[shape]
