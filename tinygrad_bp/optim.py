"""Optimisers: gradient descent with momentum, and Adam, for both engines.

Both take ``weight_decay`` (lambda, default 0): an L2 penalty lambda/2 sum w^2 on
every parameter, biases included, added to the loss through its gradient,
g <- g + lambda w, before the update rule sees g, as PyTorch's ``SGD`` and
``Adam`` do (not AdamW's decoupled decay). Plain gradient descent then takes
Delta w = -lr (dJ/dw + lambda w), the delta rule with its decay term.

Each update rule is written once, on numpy arrays, and updates them in place.
Tensor parameters are updated in their own storage (no temporaries, float32
stays float32); the ``Value`` parameters are gathered into one float64 vector,
updated by the same rule and written back.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import validate
from .engine import Value
from .tensor import Tensor


class Optimizer:
    """Holds the parameters and applies ``_update(data, grad, state)`` to each array."""

    def __init__(self, params: Iterable[Any], lr: float, weight_decay: float = 0.0) -> None:
        if not isinstance(params, Iterable) or isinstance(params, (Value, Tensor)):
            raise TypeError(
                f"params must be a list of Values or Tensors, got {type(params).__name__}"
            )
        params = list(params)
        if not params:
            raise ValueError("the optimiser was given no parameters")
        for p in params:
            if not isinstance(p, (Value, Tensor)):
                raise TypeError(f"parameters must be Values or Tensors, got {type(p).__name__}")
        self.lr = validate.real("lr", lr, positive=True)
        self.weight_decay = validate.real("weight_decay", weight_decay, minimum=0.0)
        self.values: list[Value] = [p for p in params if isinstance(p, Value)]
        self.tensors: list[Tensor] = [p for p in params if isinstance(p, Tensor)]
        self._value_state: dict[str, np.ndarray] = {}
        self._tensor_states: list[dict[str, np.ndarray]] = [{} for _ in self.tensors]

    def step(self) -> None:
        """Move every parameter against its gradient (parameters without one stay).

        Every gradient is checked first (a real number, or an array of the
        parameter's shape), so a bad one raises before any parameter moves.
        """
        self._check_grads()
        for tensor, state in zip(self.tensors, self._tensor_states):
            if tensor.grad is not None:
                self._update(tensor.data, self._decayed(tensor.data, tensor.grad, state), state)
        if self.values:
            data = np.fromiter((v.data for v in self.values), np.float64, len(self.values))
            grad = np.fromiter((v.grad for v in self.values), np.float64, len(self.values))
            self._update(data, self._decayed(data, grad, self._value_state), self._value_state)
            for value, number in zip(self.values, data.tolist()):
                value.data = number

    def _check_grads(self) -> None:
        for value in self.values:
            if not isinstance(value.grad, numbers.Real):
                kind = type(value.grad).__name__
                raise TypeError(
                    f"the grad of a Value of data {value.data!r} is {kind}, not a number"
                )
        for tensor in self.tensors:
            grad = tensor.grad
            if grad is None:
                continue
            if not isinstance(grad, np.ndarray) or grad.dtype.kind not in "biuf":
                kind = getattr(grad, "dtype", type(grad).__name__)
                raise TypeError(f"the grad of a parameter of shape {tensor.shape} is {kind}")
            if grad.shape != tensor.shape:
                raise ValueError(
                    f"the grad of a parameter of shape {tensor.shape} has shape {grad.shape}"
                )

    def _decayed(self, data: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        """g + lambda w, the gradient of the loss with the L2 penalty (the grad itself if 0).

        Written into a buffer of the parameter's own, so ``.grad`` stays dJ/dw.
        """
        if not self.weight_decay:
            return grad
        if "decayed" not in state:
            state["decayed"] = np.empty_like(data)
        decayed: np.ndarray = np.multiply(data, self.weight_decay, out=state["decayed"])
        decayed += grad
        return decayed

    def zero_grad(self) -> None:
        """Forget the gradients (Values: 0.0; Tensors: None, as PyTorch)."""
        for value in self.values:
            value.grad = value.empty_grad
        for tensor in self.tensors:
            tensor.grad = tensor.empty_grad

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent: w <- w - lr * v, with v <- momentum * v + g (v = g if 0).

    g = dJ/dw + weight_decay * w. With momentum 0 one step is the derivation's
    update Delta w_ij = lr (delta_j x_i - lambda w_ij).

    >>> w = Value(1.0); loss = w * w; loss.backward()
    >>> SGD([w], lr=0.1).step(); w.data      # 1 - 0.1 * 2
    0.8
    >>> w = Value(1.0); loss = w * w; loss.backward()
    >>> SGD([w], lr=0.1, weight_decay=0.5).step(); w.data      # 1 - 0.1 * (2 + 0.5 * 1)
    0.75
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _fraction("momentum", momentum)

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
    their bias towards zero in the first steps. g = dJ/dw + weight_decay * w: the
    L2 penalty of PyTorch's ``Adam(weight_decay=)``, which goes through m and v
    (AdamW instead subtracts lr * lambda * w outside them).

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
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of numbers, got {betas!r}")
        self.betas = (_fraction("betas[0]", betas[0]), _fraction("betas[1]", betas[1]))
        self.eps = validate.real("eps", eps, minimum=0.0)

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


def _fraction(name: str, number: Any) -> float:
    """A decay rate: a real number in [0, 1); TypeError or ValueError naming ``name``."""
    rate = validate.real(name, number, minimum=0.0)
    if rate >= 1.0:
        raise ValueError(f"{name} must be less than 1 (a decay rate in [0, 1)), got {rate!r}")
    return rate
