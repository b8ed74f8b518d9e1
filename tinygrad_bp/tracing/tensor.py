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

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..functions import ArrayOps, Function
from ..graph import backward_order
from ..tensor import Tensor, _unbroadcast
from .names import Names, reserved
from .recording import Recording, TraceError
from .render import Guards, Renderer
from .symbolic import Sym, SymbolicOps, Text, bare
from .tracked import walk


def input_array(
    a: Any, given: tuple[int, ...], shape: tuple[int, ...], dtype: np.dtype, where: str
) -> np.ndarray:
    """An argument traced with shape ``given``, as the leaf made from it: ``shape``, ``dtype``.

    A Tensor gives its data; numbers and arrays are cast as the eager code casts them.
    ``where`` names the argument (``unpack.leaf_paths``).

    >>> input_array([1, 2], (2,), (1, 2), np.dtype("f8"), "args[0]").tolist()
    [[1.0, 2.0]]
    >>> input_array([1, 2, 3], (2,), (1, 2), np.dtype("f8"), "args[0]")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    tinygrad_bp.tracing.tracked.TraceError: step: args[0]: shape (2,) when traced, shape (3,) ...
    """
    array = a.data if isinstance(a, Tensor) else a
    if type(array) is np.ndarray and array.shape == shape == given and array.dtype == dtype:
        return array  # the common case, at no cost
    array = np.asarray(array)
    if array.shape != given or array.dtype.kind not in "biuf":
        raise TraceError(
            f"step: {where}: shape {given} when traced, shape {array.shape} ({array.dtype}) now"
        )
    return array.astype(dtype, copy=False).reshape(shape)


HELPERS: dict[str, Any] = {
    "np": np,
    "ops": ArrayOps,
    "unbroadcast": _unbroadcast,
    "input_array": input_array,
}


def generate(recording: Recording) -> tuple[list[str], list[str], list[Any]]:
    """The body of the step, its closure's names and the objects they name."""
    return _Writer(recording).write()


def _dtype(node: Tensor) -> str:
    return f"np.{node.dtype.name}"


@dataclass
class _Written:
    """A node whose primitive's rule ran on stand-ins: its products and how to write them."""

    text: Text
    vjps: tuple[Any, ...]
    needs_grad: tuple[bool, ...]
    probe: Any


class _Writer:
    """Writes the lines of one tensor step (the state of the writing: names, closure)."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.names = Names(reserved(len(recording.key), len(recording.leaves), set(HELPERS)))
        self.closure_names: list[str] = []
        self.closure_objects: list[Any] = []
        self.ctx_names: dict[int, str] = {}
        self.reads: list[str] = []
        self.render = Renderer(recording, self.name, self.hold, self.names.fresh)

    def hold(self, stem: str, obj: Any) -> str:
        holder = self.names.fresh(stem, exact=True)
        self.closure_names.append(holder)
        self.closure_objects.append(obj)
        return holder

    def name(self, node: Tensor) -> str:
        source = self.recording.sources.get(id(node))
        kinds = {"param": "W" if node.ndim >= 2 else "b", "input": "x", "expr": "x", "const": "c"}
        default = "t" if source is None else kinds[source.kind]
        return self.names.name(node, "loss" if node is self.recording.root else default)

    def write(self) -> tuple[list[str], list[str], list[Any]]:
        recording = self.recording
        order, sources = recording.order, recording.sources
        observable = {
            id(node)
            for node in order
            if (s := sources.get(id(node))) and s.kind in ("param", "input") and node.requires_grad
        }
        needs: dict[int, bool] = {}
        for node in order:
            needs[id(node)] = id(node) in observable or any(needs[id(c)] for c in node.children)
        self.needs = needs
        self.written: dict[int, _Written] = {}
        backward: list[str] = []
        writes: list[str] = []
        checks = Guards(recording, self.render)
        forward: list[str] = checks.at(-1)
        frozen = []
        for position, node in enumerate(order):
            source = sources.get(id(node))
            if source is None:
                forward += self.forward_lines(node)
            elif source.kind == "expr":
                made = self.render(source.expr)
                forward += self.render.lines()
                forward.append(f"{self.name(node)} = leaf({made}, {_dtype(node)}, {node.shape!r})")
            elif source.kind == "const":
                self.names.of[id(node)] = self.hold(self.name(node), source.value)
            else:
                out = self.name(node)
                if source.kind == "param":
                    holder = self.hold(f"p_{out}", node)
                    self.reads.append(f"{out} = {holder}.data")
                    if node.requires_grad:  # honoured at each call: frozen since, no grad
                        writes.append(f"if {holder}.requires_grad:")
                        writes.append("    " + _grad_write(holder, f"d_{out}", node))
                    else:
                        frozen.append(holder)
                else:
                    given = np.shape(recording.leaves[source.index])
                    where = self.render.paths[source.index]
                    self.reads.append(
                        f"{out} = input_array(i{source.index}, {given!r}, {node.shape!r}, "
                        f"{_dtype(node)}, {where!r})"
                    )
                    if node.requires_grad:
                        writes.append(_grad_write(f"i{source.index}", f"d_{out}", node))
            forward += checks.at(position)
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
        for holder in frozen:  # it had no gradient when traced: none was computed for it
            guard += [f"if {holder}.requires_grad:", f"    raise unfrozen({holder}.label)"]
        body = [
            "# read the parameters' current data and the inputs",
            *self.reads,
            *guard,
            "# IEEE results without warnings (inf, nan), as the primitives give them",
            "with np.errstate(all='ignore'):",
            "    # forward pass: each primitive's own forward, written out as numpy",
            *("    " + line for line in forward),
            "    # backward pass: d_<node> = d(loss)/d(node), each primitive's own vector-",
            "    # Jacobian product written out, summed over broadcast axes where the operand",
            "    # is smaller",
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
        formula = _formula(ctx)
        comment = [f"# {formula}"] if formula else []
        lines = self.written_forward(node, out, ctx)
        if lines is not None:
            return [*comment, *lines]
        ins = [self.name(child) for child in node.children]
        params = {
            key: self.render(value)
            for key, value in self.recording.params.get(id(node), {}).items()
        }
        shared = self.render.lines()
        holder = self.hold(f"{type(ctx).__name__.lower()}_{out}", ctx)
        self.ctx_names[id(node)] = holder
        arguments = [*ins, *(f"{key}={value}" for key, value in params.items())]
        call = f"{holder}.forward({', '.join(arguments)})"
        return [*shared, *comment, f"{out} = {f'np.asarray({call})' if node.ndim == 0 else call}"]

    def written_forward(self, node: Tensor, out: str, primitive: Function) -> list[str] | None:
        """The forward lines of ``node`` from its primitive's ``forward`` run on stand-ins,
        its ``backward`` run the same way and kept for ``backward_lines``; None if either
        rule cannot be written so (the step then calls the primitive)."""
        params = self.recording.params.get(id(node), {})
        if any(True for _ in walk(params)):
            return None  # a parameter computed from the arguments: not a constant
        ctx = copy.copy(primitive)
        ctx.needs_grad = tuple(
            needed and self.needs[id(child)] for needed, child in zip(ctx.needs_grad, node.children)
        )
        sources = self.recording.sources
        operands = [
            Sym.named(
                self.name(c), c.data, known=getattr(sources.get(id(c)), "kind", "") == "const"
            )
            for c in node.children
        ]
        probe = np.ones(node.shape, node.dtype)
        try:
            with np.errstate(all="ignore"):
                y = type(ctx).forward(ctx, *operands, **params)
                saved = {key: v for key, v in vars(ctx).items() if isinstance(v, Sym)}
                uses = {key: v.uses for key, v in saved.items()}
                vjps: tuple[Any, ...] = ()
                if self.needs[id(node)]:
                    g = Sym.named(f"d_{out}", probe)
                    vjps = type(ctx).backward(ctx, g, SymbolicOps(ArrayOps))
        except Exception:  # noqa: BLE001 (Unexpressible, or numpy refused a stand-in)
            return None
        if not isinstance(y, Sym) or not _same(y.value, node.data):
            return None
        if any(needed and not isinstance(v, Sym) for v, needed in zip(vjps, ctx.needs_grad)):
            return None
        text = Text(self.render.constant, lambda s: self.names.fresh(f"{out}_{s}", exact=True))
        expression = y.name or text.expression(y)
        made = f"np.asarray({bare(expression)})" if node.ndim == 0 else bare(expression)
        lines = [*text.lines(), f"{out} = {made}"]
        y.name = y.name or out  # an operand returned as it is keeps its own name
        for key, value in saved.items():  # what backward reads: a line of its own
            if value.uses > uses[key]:
                text.bind(value, key)
        lines += text.lines()
        self.written[id(node)] = _Written(text, vjps, ctx.needs_grad, probe)
        return lines

    def backward_lines(self, node: Tensor, needs: dict[int, bool], started: set[int]) -> list[str]:
        """The vector-Jacobian products of one node, fitted to each operand and accumulated."""
        if id(node) in self.written:
            return self.written_backward(node, started)
        ctx = node._ctx
        assert ctx is not None  # forward_line refused a node without one
        # Operands whose gradient nobody can see get none (it changes no visible number).
        ctx.needs_grad = tuple(
            needed and needs[id(child)] for needed, child in zip(ctx.needs_grad, node.children)
        )
        upstream = f"d_{self.name(node)}"
        probe = np.ones(node.shape, node.dtype)
        vjps = ctx.backward(probe)
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
            if first and expression == g:
                targets.append(name)  # the product is the operand's whole gradient so far
                continue
            targets.append(g)
            if not first:
                expression = f"{name} + {expression}"
                if not child.ndim:
                    expression = f"np.asarray({expression})"
            adding.append(f"{name} = {expression}")
        unpack = ", ".join(targets) + ("," if len(targets) == 1 else "")
        call = f"{unpack} = {self.ctx_names[id(node)]}.backward({upstream})"
        return [call, *adding]

    def written_backward(self, node: Tensor, started: set[int]) -> list[str]:
        """``backward_lines`` for a node whose rule ran on stand-ins: one line per operand."""
        written = self.written[id(node)]
        lines = []
        for vjp, needed, child in zip(written.vjps, written.needs_grad, node.children):
            if not needed:
                continue
            name = f"d_{self.name(child)}"
            first = id(child) not in started
            started.add(id(child))
            array = np.asarray(vjp.value)
            fitted = _unbroadcast(array, child.shape)
            expression = written.text(vjp)
            lines += written.text.lines()
            if not isinstance(vjp.value, np.ndarray):
                expression = f"np.asarray({bare(expression)})"
            if fitted.shape != array.shape:
                expression = f"unbroadcast({bare(expression)}, {child.shape!r})"
            if fitted.dtype != child.dtype:
                expression = f"{expression}.astype({_dtype(child)})"
            elif not child.children and np.shares_memory(fitted, written.probe):
                expression = f"{expression}.copy()"  # a leaf's gradient must be its own array
            if not first:
                expression = f"{name} + {expression}"
                if not child.ndim:
                    expression = f"np.asarray({expression})"
            lines.append(f"{name} = {bare(expression)}")
        return lines


def _same(a: Any, b: Any) -> bool:
    """The same numbers (nan equal to nan), shape and dtype."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))


def _formula(ctx: Any) -> str:
    """The first line of the primitive's docstring: its forward and backward formulas."""
    doc = type(ctx).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def leaf(value: Any, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A leaf made from the arguments, as ``Tensor`` makes it: an array of ``dtype``.

    The step only reads it, so an array already of that dtype is used as it is
    (``Tensor`` would copy it). It must have the shape it was traced with.

    >>> leaf([1, 2], np.float32, (2,))
    array([1., 2.], dtype=float32)
    """
    if type(value) is np.ndarray and value.dtype == dtype and value.shape == shape:
        return value
    array = np.array(value, dtype)
    if array.shape != shape:
        raise TraceError(
            f"step: a leaf made from the arguments has shape {array.shape}, traced {shape}"
        )
    return array


def unfrozen(label: str) -> TraceError:
    """The error for a parameter that requires grad now but did not when traced."""
    return TraceError(
        f"step: the parameter {label or '(unlabelled)'} requires grad now but did not when "
        "traced; trace again"
    )


def _grad_write(holder: str, grad: str, node: Tensor) -> str:
    return (
        f"{holder}.grad = {grad} if {holder}.grad is None else np.asarray({holder}.grad + {grad})"
    )


def mismatch_parameters(expected: tuple[Any, ...], found: tuple[Any, ...]) -> TraceError:
    """The error for a parameter whose data changed shape or dtype since tracing."""
    for (shape, dtype), (new_shape, new_dtype) in zip(expected, found):
        if (shape, dtype) != (new_shape, new_dtype):
            return TraceError(
                f"step: a parameter traced with shape {shape} ({dtype}) now has shape "
                f"{new_shape} ({new_dtype}); trace again"
            )
    return TraceError("step: the parameters changed since tracing; trace again")


HELPERS.update(mismatch_parameters=mismatch_parameters, leaf=leaf, unfrozen=unfrozen)
