"""The common tensor primitives written out as the numpy lines their ``forward`` and
``backward`` run, so the generated step reads like the derivation and skips a method
call per node.

Each writer returns the same numpy calls, in the same order and on the same
dtypes, as the primitive of ``functions`` it stands for, so the numbers are the
same to the last bit (``trace`` checks that on the example before it hands the
step out); a primitive without a writer here is replayed through its own
``forward``/``backward``.

A writer takes the output's name, the operands' names, the node and its
parameters, and returns ``(forward lines, backward)``, where ``backward(g,
needed)`` gives the lines to run first and one vector-Jacobian-product
expression per operand (None where not needed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import functions as F
from ..tensor import Tensor

Backward = Callable[[str, tuple[bool, ...]], tuple[list[str], list[str | None]]]
Written = tuple[list[str], Backward]


def _unary(out: str, forward: str, vjp: str) -> Written:
    """A one-operand primitive: ``out = forward``; d operand = ``vjp`` with g for upstream."""
    return [f"{out} = {forward}"], lambda g, needed: ([], [vjp.format(g=g)])


@dataclass(frozen=True)
class Reuse:
    """Which arrays a node's lines may write into (changing no number, only allocations).

    buffer: a name holding an array kept between calls, for the node's output (a
    matmul result); None for a new array. input_owned: the operand is an array of
    this step that nothing else reads, so the output may overwrite it. upstream_owned:
    the same for the upstream gradient, so the product may overwrite it.
    """

    buffer: str | None = None
    input_owned: bool = False
    upstream_owned: bool = False
    exponent_less_one: str | None = None  # Pow by a constant nowhere 0: the name of b - 1


def write(
    node: Tensor, out: str, ins: list[str], params: dict[str, str], reuse: Reuse
) -> Written | None:
    """The lines of ``node``'s primitive, or None when it has no writer here."""
    ctx = node._ctx
    kind = type(ctx)
    a = ins[0]
    if kind is F.Add:
        return [f"{out} = {a} + {ins[1]}"], lambda g, needed: ([], [g, g])
    if kind is F.Sub:
        return [f"{out} = {a} - {ins[1]}"], lambda g, needed: ([], [g, f"-{g}"])
    if kind is F.Mul:
        b = ins[1]
        return [f"{out} = {a} * {b}"], lambda g, needed: ([], [f"{g} * {b}", f"{g} * {a}"])
    if kind is F.ReLU:
        return _relu(out, a, reuse)
    if kind is F.Tanh:
        return _unary(out, f"np.tanh({a})", f"{{g}} * (1 - {out} * {out})")
    if kind is F.Exp:
        return _unary(out, f"np.exp({a})", f"{{g}} * {out}")
    if kind is F.Log:
        return _unary(out, f"np.log({a})", f"{{g}} / {a}")
    if kind is F.Sigmoid:
        e = f"{out}_e"
        forward = [f"{e} = np.exp(-np.abs({a}))", f"{out} = np.where({a} >= 0, 1, {e}) / (1 + {e})"]
        return forward, lambda g, needed: ([], [f"{g} * {out} * (1 - {out})"])
    if kind is F.Pow:
        return _pow(out, ins, reuse.exponent_less_one)
    if kind is F.Sum:
        return _sum(node, out, a, params)
    if kind is F.Affine:
        return _affine(node, out, ins, reuse.buffer)
    if kind is F.LogSoftmax:
        axis = params["axis"]
        s = f"{out}_shifted"
        forward = [
            f"{s} = {a} - {a}.max(axis={axis}, keepdims=True)",
            f"{out} = {s} - np.log(np.exp({s}).sum(axis={axis}, keepdims=True))",
        ]
        vjp = f"{{g}} - np.exp({out}) * {{g}}.sum(axis={axis}, keepdims=True)"
        return forward, lambda g, needed: ([], [vjp.format(g=g)])
    if kind is F.GetItem:
        return _getitem(node, out, a, params)
    return None


def _pow(out: str, ins: list[str], exponent_less_one: str | None) -> Written:
    """y = a ** b;  da = g where(b == 0, 0, b a ** (b - 1));  db = g where(a == 0, 0, y ln a).

    For a constant b that is nowhere 0, ``where`` picks its third operand everywhere,
    and ``b - 1`` is computed once: da = g (b a ** (b - 1)), the same numbers.
    """
    a, b = ins
    forward = [f"{out} = {a} ** {b}"]

    def backward(g: str, needed: tuple[bool, ...]) -> tuple[list[str], list[str | None]]:
        if exponent_less_one is not None:
            da = f"{g} * ({b} * {a} ** {exponent_less_one})"
        else:
            da = f"{g} * np.where({b} == 0, 0, {b} * {a} ** ({b} - 1))"
        db = f"{g} * np.where({a} == 0, 0, {out} * np.log({a}))" if needed[1] else None
        return [], [da if needed[0] else None, db]

    return forward, backward


def _sum(node: Tensor, out: str, a: str, params: dict[str, str]) -> Written:
    """y = sum of a over axis;  da = g copied along the summed axes (into a new array)."""
    axis, keepdims = params.get("axis", "None"), params.get("keepdims", "False")
    total = f"{a}.sum(axis={axis}, keepdims={keepdims})"
    forward = [f"{out} = {f'np.asarray({total})' if node.ndim == 0 else total}"]
    shape = node.children[0].shape

    def backward(g: str, needed: tuple[bool, ...]) -> tuple[list[str], list[str | None]]:
        spread = g if keepdims == "True" or axis == "None" else f"np.expand_dims({g}, {axis})"
        da = f"d{out}_spread"
        return [f"{da} = np.empty({shape!r}, {g}.dtype)", f"{da}[...] = {spread}"], [da]

    return forward, backward


def _relu(out: str, a: str, reuse: Reuse) -> Written:
    """y = max(a, 0);  da = g * [y > 0]; in place where nothing else reads a (or g)."""
    forward = f"np.maximum({a}, 0, out={a})" if reuse.input_owned else f"np.maximum({a}, 0)"

    def backward(g: str, needed: tuple[bool, ...]) -> tuple[list[str], list[str | None]]:
        if reuse.upstream_owned:
            return [f"{g} *= {out} > 0"], [g]
        return [], [f"{g} * ({out} > 0)"]

    return [f"{out} = {forward}"], backward


def _affine(node: Tensor, out: str, ins: list[str], buffer: str | None) -> Written:
    """y = x @ W + b;  dx = g @ W^T;  dW = x^T @ g;  db = sum of g over the batch."""
    x, weight, bias = ins
    x_node, _, bias_node = node.children
    product = f"np.matmul({x}, {weight}{f', out={buffer}' if buffer else ''})"
    if np.can_cast(bias_node.dtype, node.dtype):
        forward = [f"{out} = {product}", f"{out} += {bias}"]
    else:
        forward = [f"{out} = np.matmul({x}, {weight}) + {bias}"]

    def backward(g: str, needed: tuple[bool, ...]) -> tuple[list[str], list[str | None]]:
        rows = f"{g}.reshape(-1, {g}.shape[-1])"
        xs = f"{x}.reshape(-1, {x}.shape[-1])" if x_node.ndim != 2 else x
        dx = f"{g} @ {weight}.T" if needed[0] else None
        dweight = f"{xs}.T @ {rows if node.ndim != 2 else g}" if needed[1] else None
        dbias = f"{rows if node.ndim != 2 else g}.sum(axis=0)" if needed[2] else None
        return [], [dx, dweight, dbias]

    return forward, backward


def _getitem(node: Tensor, out: str, a: str, params: dict[str, str]) -> Written:
    """y = a[index];  da = zeros like a with g added at the indexed places."""
    ctx: Any = node._ctx
    index = params["index"]
    shape = node.children[0].shape

    def backward(g: str, needed: tuple[bool, ...]) -> tuple[list[str], list[str | None]]:
        da = f"d{out}_scatter"
        put = f"{da}[{index}] = {g}" if ctx.basic else f"np.add.at({da}, {index}, {g})"
        return [f"{da} = np.zeros({shape!r}, dtype={g}.dtype)", put], [da]

    return [f"{out} = {a}[{index}]"], backward
