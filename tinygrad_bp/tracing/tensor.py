"""Straight-line numpy for a recorded ``Tensor`` graph: the primitives' own calls, one per node.

Each node of the graph keeps the primitive instance (``ctx``) that made it; the
generated step calls that same instance's ``forward`` with the node's operands
and parameters, and in reverse order its ``backward``, so any primitive
``functions`` has (or gains) replays without a rule written for it here. What
``Tensor``'s reverse sweep decides at every edge (sum a gradient back over
broadcast axes, cast it to the operand's dtype, copy it when it is the upstream
array itself or a view of it) depends only on shapes and dtypes, which a traced
step keeps fixed, so it is decided once here and written out only where needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functions as F
from ..graph import backward_order
from ..tensor import Tensor, _unbroadcast
from . import inline
from .names import Names, reserved
from .recording import ParamInput, Recording, Source, TraceError


def class_index(a: Any, bound: int, dtype: np.dtype, what: str) -> np.ndarray:
    """An integer index array taken from an argument, checked to lie in [0, bound)."""
    array = np.asarray(a)
    if array.dtype.kind not in "iu" and not (
        array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array % 1 == 0)
    ):
        raise TypeError(f"step: {what} must hold integers, got dtype {array.dtype}")
    array = array.astype(dtype, copy=False)
    if array.size and (array.min() < 0 or array.max() >= bound):
        raise ValueError(f"step: {what} must lie in [0, {bound}), got {array.tolist()}")
    return array


def input_array(
    a: Any, given: tuple[int, ...], shape: tuple[int, ...], dtype: np.dtype, what: str
) -> np.ndarray:
    """An argument traced with shape ``given``, as the leaf made from it: ``shape``, ``dtype``.

    A Tensor gives its data; numbers and arrays are cast as the eager code casts them.
    """
    array = a.data if isinstance(a, Tensor) else a
    if type(array) is np.ndarray and array.shape == shape == given and array.dtype == dtype:
        return array  # the common case, at no cost
    array = np.asarray(array)
    if array.shape != given or array.dtype.kind not in "biuf":
        raise TraceError(
            f"step: {what} has shape {array.shape} ({array.dtype}); traced with {given}"
        )
    return array.astype(dtype, copy=False).reshape(shape)


HELPERS: dict[str, Any] = {
    "np": np,
    "unbroadcast": _unbroadcast,
    "class_index": class_index,
    "input_array": input_array,
}


def _literal(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_literal(v) for v in value)
    return (
        value is None
        or isinstance(value, (bool, int, float, str))
        and not isinstance(value, np.generic)
    )


def generate(recording: Recording) -> tuple[list[str], list[str], list[Any]]:
    """The body of the step, its closure's names and the objects they name."""
    return _Writer(recording).write()


def _dtype(node: Tensor) -> str:
    return f"np.{node.dtype.name}"


class _Writer:
    """Writes the lines of one tensor step (the state of the writing: names, closure)."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.names = Names(reserved(len(recording.key), len(recording.leaves), set(HELPERS)))
        self.closure_names: list[str] = []
        self.closure_objects: list[Any] = []
        self.ctx_names: dict[int, str] = {}
        self.inline_backward: dict[int, inline.Backward] = {}
        self.parents: dict[int, list[Tensor]] = {id(node): [] for node in recording.order}
        for node in recording.order:
            for child in node.children:
                self.parents[id(child)].append(node)
        self.consumers = {key: len(users) for key, users in self.parents.items()}
        self.reads: list[str] = []

    def hold(self, stem: str, obj: Any) -> str:
        holder = self.names.fresh(stem, exact=True)
        self.closure_names.append(holder)
        self.closure_objects.append(obj)
        return holder

    def name(self, node: Tensor) -> str:
        source = self.recording.sources.get(id(node))
        kinds = {"param": "W" if node.ndim >= 2 else "b", "input": "x", "const": "c"}
        default = "t" if source is None else kinds[source.kind]
        return self.names.name(node, "loss" if node is self.recording.root else default)

    def write(self) -> tuple[list[str], list[str], list[Any]]:
        recording = self.recording
        order, sources = recording.order, recording.sources
        observable = set()
        forward, backward, writes = [], [], []
        for node in order:
            source = sources.get(id(node))
            if source is None:
                forward += self.forward_lines(node)
                continue
            grads = node.requires_grad and (
                source.kind == "param"
                or source.kind == "input"
                and isinstance(recording.leaves[source.index], Tensor)
            )
            if grads:
                observable.add(id(node))
            out = self.name(node)
            if source.kind == "param":
                holder = self.hold(f"p_{out}", node)
                self.reads.append(f"{out} = {holder}.data")
                if grads:
                    writes.append(_grad_write(holder, f"d_{out}", node))
            elif source.kind == "const":
                self.names.of[id(node)] = self.hold(out, source.value)
            else:
                self.reads.append(_input_line(out, source, node, recording))
                if grads:
                    writes.append(_grad_write(f"i{source.index}", f"d_{out}", node))
        needs: dict[int, bool] = {}
        for node in order:
            needs[id(node)] = id(node) in observable or any(needs[id(c)] for c in node.children)
        root = recording.root
        backward.append(f"d_{self.name(root)} = np.ones({root.shape!r}, {_dtype(root)})")
        started = {id(root)}
        for node in backward_order(root):  # backward()'s own order: the same sums
            if node.children and needs[id(node)]:
                backward += self.backward_lines(node, needs, started)
        params = [s.node for s in sources.values() if s.kind == "param"]
        shapes = [f"{self.name(p)}.shape" for p in params]
        dtypes = [f"{self.name(p)}.dtype" for p in params]
        guard = []
        if params:
            expected = self.hold("PARAMETER_SHAPES", tuple((p.shape, p.dtype) for p in params))
            pairs = "(" + "".join(f"({s}, {d}), " for s, d in zip(shapes, dtypes)) + ")"
            guard = [
                f"if {pairs} != {expected}:",
                f"    raise mismatch_parameters({expected}, {pairs})",
            ]
        body = [
            "# read the parameters' current data and the inputs",
            *self.reads,
            *guard,
            "# IEEE results without warnings (inf, nan), as the primitives give them",
            "with np.errstate(all='ignore'):",
            "    # forward pass: one line per node, the primitives' own numpy",
            *("    " + line for line in forward),
            "    # backward pass: d_<node> = d(loss)/d(node), each primitive's vector-Jacobian",
            "    # product, summed over broadcast axes where the operand is smaller",
            *("    " + line for line in backward),
            "# add the gradients to the parameters' grads",
            *writes,
            f"return {self.name(root)}.item()",
        ]
        return body, self.closure_names, self.closure_objects

    def forward_lines(self, node: Tensor) -> list[str]:
        ctx = node._ctx
        if ctx is None:
            raise TraceError(f"trace: the {node.op!r} node has operands but no primitive")
        out = self.name(node)
        ins = [self.name(child) for child in node.children]
        params = {
            key: self.param(value, node, key, 0)
            for key, value in self.recording.params.get(id(node), {}).items()
        }
        written = inline.write(node, out, ins, params, self.reuse(node))
        if written is not None:
            self.inline_backward[id(node)] = written[1]
            lines = written[0]
            if node.ndim == 0 and not lines[-1].startswith(f"{out} = np.asarray("):
                lines[-1] = f"{out} = np.asarray({lines[-1].split(' = ', 1)[1]})"  # not a scalar
            return lines
        holder = self.hold(f"{type(ctx).__name__.lower()}_{out}", ctx)
        self.ctx_names[id(node)] = holder
        arguments = [*ins, *(f"{key}={value}" for key, value in params.items())]
        call = f"{holder}.forward({', '.join(arguments)})"
        return [f"{out} = {f'np.asarray({call})' if node.ndim == 0 else call}"]

    def reuse(self, node: Tensor) -> inline.Reuse:
        """Where the node's lines may write into arrays instead of making new ones.

        A matmul result goes into a buffer kept between calls (no array of the forward
        pass outlives the call: grads are always new). A ReLU may overwrite its operand
        and its upstream gradient when they come from a layer (``Affine``) written out
        here that only the ReLU reads: no other line sees either array afterwards.
        """
        ctx = node._ctx
        if isinstance(ctx, F.Affine) and np.can_cast(node.children[2].dtype, node.dtype):
            buffer = self.hold(f"buffer_{self.name(node)}", np.empty(node.shape, node.dtype))
            return inline.Reuse(buffer=buffer)
        if isinstance(ctx, F.ReLU):
            (operand,) = node.children
            from_layer = isinstance(operand._ctx, F.Affine) and self.consumers[id(operand)] == 1
            parents = self.parents[id(node)]
            into_layer = len(parents) == 1 and isinstance(parents[0]._ctx, F.Affine)
            into_layer = into_layer and parents[0].children[0] is node  # the layer's x
            return inline.Reuse(input_owned=from_layer, upstream_owned=into_layer)
        if isinstance(ctx, F.Pow):
            source = self.recording.sources.get(id(node.children[1]))
            if source is not None and source.kind == "const" and np.all(source.value != 0):
                picked = np.where(np.asarray(False), 0, np.ones(1, node.dtype))
                if picked.dtype == node.dtype:  # where keeps the dtype: it is a plain copy
                    less_one = self.hold("exponent_less_one", source.value - 1)
                    return inline.Reuse(exponent_less_one=less_one)
        return inline.Reuse()

    def param(self, value: Any, node: Tensor, key: str, axis: int) -> str:
        if isinstance(value, ParamInput):
            holder = self.names.fresh("index")
            shape = node.children[0].shape
            bound = shape[axis] if axis < len(shape) else 0
            self.reads.append(
                f"{holder} = class_index(i{value.index}, {bound}, np.{value.dtype.name}, "
                f"'argument leaf {value.index}')"
            )
            return holder
        if isinstance(value, tuple):
            parts = [self.param(v, node, key, j) for j, v in enumerate(value)]
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        if _literal(value):
            return repr(value)
        return self.hold(key, value)

    def backward_lines(self, node: Tensor, needs: dict[int, bool], started: set[int]) -> list[str]:
        """The vector-Jacobian products of one node, fitted to each operand and accumulated."""
        ctx = node._ctx
        assert ctx is not None  # forward_line refused a node without one
        # Operands whose gradient nobody can see get none (it changes no visible number).
        ctx.needs_grad = tuple(
            needed and needs[id(child)] for needed, child in zip(ctx.needs_grad, node.children)
        )
        upstream = f"d_{self.name(node)}"
        probe = np.ones(node.shape, node.dtype)
        vjps = ctx.backward(probe)
        written = self.inline_backward.get(id(node))
        lines: list[str] = []
        expressions: list[str | None] = []
        if written is not None:
            lines, expressions = written(upstream, ctx.needs_grad)
        targets, adding = [], []
        for j, (vjp, needed, child) in enumerate(zip(vjps, ctx.needs_grad, node.children)):
            if not needed:
                targets.append("_")
                continue
            name = f"d_{self.name(child)}"
            first = id(child) not in started
            started.add(id(child))
            array = np.asarray(vjp)
            fitted = _unbroadcast(array, child.shape)
            g = f"g{j}_{self.name(child)}"
            expression = g if isinstance(vjp, np.ndarray) else f"np.asarray({g})"
            if fitted.shape != array.shape:
                expression = f"unbroadcast({expression}, {child.shape!r})"
            if fitted.dtype != child.dtype:
                expression = f"{expression}.astype({_dtype(child)})"
            elif fitted.base is not None or fitted is probe:
                expression = f"{expression}.copy()"  # the sent gradient must be its own array
            if written is not None:
                product = expressions[j]
                assert product is not None  # the writer gives one for every needed operand
                if expression == g:
                    expression = product if first else f"({product})"
                else:
                    lines.append(f"{g} = {product}")
            elif first and expression == g:
                targets.append(name)  # the product is the operand's whole gradient so far
                continue
            else:
                targets.append(g)
            if not first:
                expression = f"{name} + {expression}"
                if not child.ndim:
                    expression = f"np.asarray({expression})"
            adding.append(f"{name} = {expression}")
        if written is not None:
            return [*lines, *adding]
        unpack = ", ".join(targets) + ("," if len(targets) == 1 else "")
        call = f"{unpack} = {self.ctx_names[id(node)]}.backward({upstream})"
        return [call, *adding]


def _grad_write(holder: str, grad: str, node: Tensor) -> str:
    return (
        f"{holder}.grad = {grad} if {holder}.grad is None else np.asarray({holder}.grad + {grad})"
    )


def _input_line(name: str, source: Source, node: Tensor, recording: Recording) -> str:
    arg = f"i{source.index}"
    given = np.shape(recording.leaves[source.index])
    what = f"argument leaf {source.index}"
    if isinstance(recording.leaves[source.index], Tensor):
        return f"{name} = input_array({arg}, {given!r}, {node.shape!r}, {_dtype(node)}, {what!r})"
    if source.cast_first:
        x = f"input_array({arg}, {given!r}, {node.shape!r}, {_dtype(node)}, {what!r})"
        made = {"x": x, "-x": f"-{x}", "c-x": f"{_dtype(node)}({source.c!r}) - {x}"}
        return f"{name} = {made[source.form]}"
    x = f"input_array({arg}, {given!r}, {node.shape!r}, np.asarray({arg}).dtype, {what!r})"
    made = {"x": x, "-x": f"-{x}", "c-x": f"{source.c!r} - {x}"}
    return f"{name} = ({made[source.form]}).astype({_dtype(node)})"


def mismatch_parameters(expected: tuple[Any, ...], found: tuple[Any, ...]) -> TraceError:
    """The error for a parameter whose data changed shape or dtype since tracing."""
    for (shape, dtype), (new_shape, new_dtype) in zip(expected, found):
        if (shape, dtype) != (new_shape, new_dtype):
            return TraceError(
                f"step: a parameter traced with shape {shape} ({dtype}) now has shape "
                f"{new_shape} ({new_dtype}); trace again"
            )
    return TraceError("step: the parameters changed since tracing; trace again")


HELPERS["mismatch_parameters"] = mismatch_parameters
