"""Tensor-engine workloads: one MLP training step written in each framework.

The step is: forward a batch, loss, backward, plain SGD. Every implementation
starts from the same weights (``initial_weights``) and the same batch, and
exposes ``step() -> loss`` and ``weights() -> [(W, b), ...]`` with W of shape
(n_in, n_out), so ``run.py`` can check that they all compute the same thing.

Peers: the same step written by hand in numpy (forward, manual backward,
in-place SGD), PyTorch (CPU, ``nn`` + ``optim``), MyGrad and HIPS autograd;
each is skipped when not installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_bp import Tensor, losses
from tinygrad_bp import nn as tnn
from tinygrad_bp.optim import SGD


@dataclass(frozen=True)
class Spec:
    """An MLP training step: layer sizes, activations, loss, batch size, dtype."""

    sizes: tuple[int, ...]
    hidden: str  # "relu" or "sigmoid"
    output: str | None  # "sigmoid", or None for linear (logits)
    loss: str  # "cross_entropy" (from logits, mean) or "half_sse" (1/2 sum (o - y)^2)
    batch: int
    dtype: type = np.float64
    lr: float = 0.01

    def activation(self, layer: int) -> str | None:
        return self.hidden if layer < len(self.sizes) - 2 else self.output

    def label(self) -> str:
        return "-".join(map(str, self.sizes)) + f" b{self.batch} {np.dtype(self.dtype).name}"


def initial_weights(spec: Spec, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, U(-1/sqrt(n_in), 1/sqrt(n_in)), in float64."""
    rng = np.random.default_rng(seed)
    layers = []
    for nin, nout in zip(spec.sizes[:-1], spec.sizes[1:]):
        bound = 1.0 / np.sqrt(nin)
        layers.append((rng.uniform(-bound, bound, (nin, nout)), rng.uniform(-bound, bound, nout)))
    return layers


def batch(spec: Spec, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (batch, n_in) and targets: class indices, or numbers in [0, 1] per output."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((spec.batch, spec.sizes[0])).astype(spec.dtype)
    if spec.loss == "cross_entropy":
        return X, rng.integers(0, spec.sizes[-1], spec.batch)
    return X, rng.uniform(0.0, 1.0, (spec.batch, spec.sizes[-1])).astype(spec.dtype)


class TinygradBP:
    """tinygrad_bp: Sequential of Linear and activation modules, losses, optim.SGD."""

    name = "tinygrad_bp"

    def __init__(self, spec: Spec, weights: list, X: np.ndarray, y: np.ndarray) -> None:
        layers: list[tnn.Module] = []
        for index, (W, b) in enumerate(weights):
            linear = tnn.Linear(*W.shape, dtype=spec.dtype)
            linear.weight.data[...] = W
            linear.bias.data[...] = b
            layers.append(linear)
            activation = spec.activation(index)
            if activation is not None:
                layers.append(tnn.get_activation(activation).module())
        self.model = tnn.Sequential(*layers)
        self.loss = {"cross_entropy": losses.cross_entropy, "half_sse": losses.half_sse}[spec.loss]
        self.X, self.y = Tensor(X, dtype=spec.dtype), y
        self.optimizer = SGD(self.model.parameters(), lr=spec.lr)

    def step(self) -> float:
        loss = self.loss(self.model(self.X), self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def weights(self) -> list:
        return [(m.weight.data, m.bias.data) for m in self.model.layers if hasattr(m, "weight")]


class HandNumpy:
    """The same step by hand: forward, the backward pass written out, in-place SGD.

    Backward, layer by layer from the top: g = dJ/dz (z the net input), then
    dJ/dW = x^T g, dJ/db = sum over the batch of g, dJ/dx = g W^T (old W).
    """

    name = "hand numpy"

    def __init__(self, spec: Spec, weights: list, X: np.ndarray, y: np.ndarray) -> None:
        self.spec, self.X, self.y = spec, X, y
        self.params = [(W.astype(spec.dtype), b.astype(spec.dtype)) for W, b in weights]
        self.rows = np.arange(spec.batch)

    def step(self) -> float:
        spec, lr = self.spec, self.spec.lr
        outputs = [self.X]
        for index, (W, b) in enumerate(self.params):
            z = outputs[-1] @ W
            z += b
            if spec.activation(index) == "relu":
                np.maximum(z, 0, out=z)
            elif spec.activation(index) == "sigmoid":
                z = 1 / (1 + np.exp(-z))
            outputs.append(z)
        out = outputs[-1]
        if spec.loss == "cross_entropy":  # dJ/dz = (softmax(z) - onehot(y)) / n
            shifted = out - out.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            loss = -log_p[self.rows, self.y].mean()
            g = np.exp(log_p)
            g[self.rows, self.y] -= 1
            g /= spec.batch
        else:  # J = 1/2 sum (o - y)^2: dJ/do = o - y
            g = out - self.y
            loss = 0.5 * np.sum(g * g)
        for index in reversed(range(len(self.params))):
            o = outputs[index + 1]
            if spec.activation(index) == "relu":
                g *= o > 0
            elif spec.activation(index) == "sigmoid":
                g *= o * (1 - o)
            W, b = self.params[index]
            grad_W, grad_b = outputs[index].T @ g, g.sum(axis=0)
            if index:
                g = g @ W.T
            grad_W *= lr
            W -= grad_W
            grad_b *= lr
            b -= grad_b
        return float(loss)

    def weights(self) -> list:
        return self.params


class PyTorch:
    """PyTorch CPU: nn.Sequential of nn.Linear and activations, F.cross_entropy, optim.SGD."""

    name = "PyTorch"

    def __init__(self, spec: Spec, weights: list, X: np.ndarray, y: np.ndarray) -> None:
        import torch

        self.torch = torch
        dtype = {np.float64: torch.float64, np.float32: torch.float32}[spec.dtype]
        layers: list[Any] = []
        for index, (W, b) in enumerate(weights):
            linear = torch.nn.Linear(*W.shape, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W.T.copy()))
                linear.bias.copy_(torch.from_numpy(b))
            layers.append(linear)
            activation = spec.activation(index)
            if activation is not None:
                layers.append(getattr(torch.nn, tnn.get_activation(activation).torch)())
        self.model = torch.nn.Sequential(*layers)
        self.X = torch.from_numpy(X)
        self.y = torch.from_numpy(y)
        self.cross_entropy = spec.loss == "cross_entropy"
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=spec.lr)

    def step(self) -> float:
        out = self.model(self.X)
        if self.cross_entropy:
            loss = self.torch.nn.functional.cross_entropy(out, self.y)
        else:
            loss = 0.5 * ((out - self.y) ** 2).sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def weights(self) -> list:
        linears = [m for m in self.model if hasattr(m, "weight")]
        return [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in linears]


class MyGrad:
    """MyGrad: mygrad.Tensor parameters, its nnet activations and losses, SGD on .data."""

    name = "MyGrad"

    def __init__(self, spec: Spec, weights: list, X: np.ndarray, y: np.ndarray) -> None:
        import mygrad
        from mygrad.nnet import activations
        from mygrad.nnet.losses import softmax_crossentropy

        self.mygrad, self.spec, self.X, self.y = mygrad, spec, X, y
        self.params = [
            (mygrad.Tensor(W.astype(spec.dtype)), mygrad.Tensor(b.astype(spec.dtype)))
            for W, b in weights
        ]
        self.activations = {"relu": activations.relu, "sigmoid": activations.sigmoid}
        self.cross_entropy = softmax_crossentropy

    def step(self) -> float:
        x = self.X
        for index, (W, b) in enumerate(self.params):
            x = self.mygrad.matmul(x, W) + b
            activation = self.spec.activation(index)
            if activation is not None:
                x = self.activations[activation](x)
        if self.spec.loss == "cross_entropy":
            loss = self.cross_entropy(x, self.y)
        else:
            loss = 0.5 * self.mygrad.sum((x - self.y) ** 2)
        loss.backward()
        for W, b in self.params:
            W.data -= self.spec.lr * W.grad
            b.data -= self.spec.lr * b.grad
        return loss.item()

    def weights(self) -> list:
        return [(W.data, b.data) for W, b in self.params]


class HipsAutograd:
    """HIPS autograd: the loss as a function of the weights, value_and_grad, in-place SGD."""

    name = "HIPS autograd"

    def __init__(self, spec: Spec, weights: list, X: np.ndarray, y: np.ndarray) -> None:
        import autograd.numpy as anp
        from autograd import value_and_grad
        from autograd.scipy.special import logsumexp

        self.params = [W.astype(spec.dtype) for pair in weights for W in pair]
        rows = np.arange(spec.batch)

        def loss(params: list) -> Any:
            x = X
            for index in range(len(params) // 2):
                x = anp.dot(x, params[2 * index]) + params[2 * index + 1]
                if spec.activation(index) == "relu":
                    x = anp.maximum(x, 0)
                elif spec.activation(index) == "sigmoid":
                    x = 1 / (1 + anp.exp(-x))
            if spec.loss == "cross_entropy":
                log_p = x - logsumexp(x, axis=1, keepdims=True)
                return -anp.mean(log_p[rows, y])
            return 0.5 * anp.sum((x - y) ** 2)

        self.value_and_grad = value_and_grad(loss)
        self.lr = spec.lr

    def step(self) -> float:
        loss, grads = self.value_and_grad(self.params)
        for p, g in zip(self.params, grads):
            p -= self.lr * g
        return float(loss)

    def weights(self) -> list:
        return list(zip(self.params[::2], self.params[1::2]))


IMPLEMENTATIONS = (TinygradBP, HandNumpy, PyTorch, MyGrad, HipsAutograd)
PEER_MODULES = {PyTorch: ("torch",), MyGrad: ("mygrad",), HipsAutograd: ("autograd", "scipy")}


def build_all(spec: Spec, include: set[str] | None = None) -> dict[str, Any]:
    """Every installed implementation of the step, from the same weights and batch."""
    import importlib.util

    weights, (X, y) = initial_weights(spec), batch(spec)
    built = {}
    for implementation in IMPLEMENTATIONS:
        needed = PEER_MODULES.get(implementation, ())
        if any(importlib.util.find_spec(module) is None for module in needed):
            continue
        if include is None or implementation.name in include:
            built[implementation.name] = implementation(spec, weights, X, y)
    return built
