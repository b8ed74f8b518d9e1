"""Optimisers: gradient descent with momentum, and Adam, for both engines.

Each update rule is written once, on numpy arrays, and updates them in place.
Tensor parameters are updated in their own storage (no temporaries, float32
stays float32); the ``Value`` parameters are gathered into one float64 vector,
updated by the same rule and written back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .engine import Value
from .tensor import Tensor


class Optimizer:
    """Holds the parameters and applies ``_update(data, grad, state)`` to each array."""

    def __init__(self, params: Iterable[Any], lr: float) -> None:
        params = list(params)
        if not params:
            raise ValueError("the optimiser was given no parameters")
        for p in params:
            if not isinstance(p, (Value, Tensor)):
                raise TypeError(f"parameters must be Values or Tensors, got {type(p).__name__}")
        if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        self.lr = float(lr)
        self.values = [p for p in params if isinstance(p, Value)]
        self.tensors = [p for p in params if isinstance(p, Tensor)]
        self._value_state: dict[str, np.ndarray] = {}
        self._tensor_states: list[dict[str, np.ndarray]] = [{} for _ in self.tensors]

    def step(self) -> None:
        """Move every parameter against its gradient (parameters without one stay)."""
        for tensor, state in zip(self.tensors, self._tensor_states):
            if tensor.grad is not None:
                self._update(tensor.data, tensor.grad, state)
        if self.values:
            data = np.fromiter((v.data for v in self.values), np.float64, len(self.values))
            grad = np.fromiter((v.grad for v in self.values), np.float64, len(self.values))
            self._update(data, grad, self._value_state)
            for value, number in zip(self.values, data.tolist()):
                value.data = number

    def zero_grad(self) -> None:
        """Forget the gradients (Values: 0.0; Tensors: None, as PyTorch)."""
        for value in self.values:
            value.grad = 0.0
        for tensor in self.tensors:
            tensor.grad = None

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent: w <- w - lr * v, with v <- momentum * v + dJ/dw (v = dJ/dw if 0).

    With momentum 0 one step is the derivation's update Delta w_ij = lr delta_j x_i.

    >>> w = Value(1.0); loss = w * w; loss.backward()
    >>> SGD([w], lr=0.1).step(); w.data      # 1 - 0.1 * 2
    0.8
    """

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        step = grad
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = np.zeros_like(data)
            step = state["velocity"]
            step *= self.momentum
            step += grad
        if "scratch" not in state:
            state["scratch"] = np.empty_like(data)
        scratch = np.multiply(step, self.lr, out=state["scratch"])
        np.subtract(data, scratch, out=data)


class Adam(Optimizer):
    """Adam (Kingma & Ba): w <- w - lr * m_hat / (sqrt(v_hat) + eps).

    m <- b1 m + (1 - b1) g and v <- b2 v + (1 - b2) g^2 are running averages of the
    gradient and its square; m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t) undo
    their bias towards zero in the first steps.

    >>> w = Value(1.0); (w * w).backward()
    >>> Adam([w], lr=0.1).step(); round(w.data, 6)   # the first step moves by lr
    0.9
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
        self.betas = betas
        self.eps = eps

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        if "m" not in state:
            state.update(m=np.zeros_like(data), v=np.zeros_like(data), t=0)
        beta1, beta2 = self.betas
        state["t"] += 1
        m, v, t = state["m"], state["v"], state["t"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
