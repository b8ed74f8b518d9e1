"""Gradients as values: ``grad``, and through it second derivatives (``hvp``, ``hessian``).

``backward()`` adds d(root)/d(node) into every node's ``.grad``. ``grad(output,
inputs)`` runs the same reverse sweep but keeps its results to itself: it returns
d(output)/d(input) for the inputs asked for and touches no ``.grad``. The sweep is
the chain rule of ``graph.backpropagate``, one edge at a time,

    pending[child] += vjp_child(pending[node]),

kept in a dictionary instead of the nodes themselves.

With ``create_graph=True`` each vector-Jacobian product is computed by operations
of the engine itself, so the gradients are nodes of a new graph (which reaches
back into the forward graph: d(x**2)/dx = 2 * x uses x) and can be differentiated
in turn: d/dx of d/dx of f is ``grad(grad(f, x, create_graph=True)[0], x)``. The
rules are not written twice: a tensor primitive's one ``backward`` runs on Tensors
through ``TensorOps`` (see ``functions``), and a Value's local derivatives come as
Values from ``engine.differentiable_local_grads``.

Curvature follows. For a scalar J(w) with gradient g(w), the Hessian H = dg/dw
times a vector v is the gradient of the scalar <g(w), v> (v held constant):
``hvp`` costs two sweeps, and ``hessian`` stacks one such row per element.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

import numpy as np

from . import engine
from . import functions as F
from .closures import sent_by_closure
from .engine import Value
from .graph import backward_order, enable_grad, toposort
from .tensor import Tensor, _apply, _unbroadcast, where
from .validate import float_array

Node = Value | Tensor

HESSIAN_LIMIT = 1000  # elements: the Hessian has HESSIAN_LIMIT**2 entries and as many sweeps


class ShapeError(RuntimeError, ValueError):
    """A non-scalar output without ``grad_output``: as ``backward()``'s RuntimeError,
    and a ValueError too, since the argument is what is wrong."""


class TensorOps:
    """``functions.ArrayOps`` on Tensors: the same names, each recording a node.

    A primitive's ``backward`` called with these (and with Tensors for ``g`` and the
    saved values) builds its vector-Jacobian product as a graph.

    >>> x = Tensor([-1.0, 2.0], requires_grad=True)
    >>> TensorOps.where(x.data > 0, x, 0).tolist()
    [0.0, 2.0]
    """

    where = staticmethod(where)

    @staticmethod
    def exp(x: Tensor) -> Tensor:
        return x.exp()

    @staticmethod
    def log(x: Tensor) -> Tensor:
        return x.log()

    @staticmethod
    def expand(x: Tensor, shape: tuple[int, ...]) -> Tensor:
        return x.expand(*shape)

    @staticmethod
    def scatter(g: Tensor, shape: tuple[int, ...], index: Any, basic: bool) -> Tensor:
        return _apply(F.Scatter, g, shape=shape, index=index, basic=basic)

    @staticmethod
    def mask(g: Tensor, keep: np.ndarray) -> Tensor:
        """g where ``keep`` holds, else 0, in g's dtype (a product would promote to float64)."""
        return where(keep, g, 0)

    @staticmethod
    def value(x: Any) -> Any:
        """The numbers of a Tensor (its ``data``), for masks such as ``b == 0``."""
        return x.data if isinstance(x, Tensor) else x


def grad(
    output: Node,
    inputs: Node | Sequence[Node],
    grad_output: Any = None,
    create_graph: bool = False,
) -> list[Any]:
    """d(output)/d(input) for each input, as Values or Tensors shaped like the inputs.

    No ``.grad`` changes. ``grad_output`` (u, shaped like ``output``) seeds a
    non-scalar output: the results are then the vector-Jacobian products u^T J,
    as ``output.backward(u)`` would add to the grads. An input the output does not
    depend on (or that does not require grad) gets zeros, as PyTorch's
    ``allow_unused=True, materialize_grads=True``.

    Without ``create_graph`` the results are constants. With it they are nodes of a
    graph, so ``grad`` of a result gives second derivatives, and so on to any order;
    a Tensor ``grad_output`` that requires grad is part of that graph too.

    Args:
        output: a Value, or a Tensor (of one element unless ``grad_output`` is given).
        inputs: a Value or Tensor, or a list or tuple of them.
        grad_output: the seed u: a number, array or node shaped like ``output``.
        create_graph: record the gradient computation, to differentiate it again.

    Returns:
        A list with one gradient per input, in order.

    Raises:
        TypeError: ``output`` or an input is not a Value or Tensor, or they mix engines.
        ShapeError (a RuntimeError and ValueError): a Tensor output of more than one
            element without ``grad_output``.
        ValueError: ``grad_output`` has the wrong shape, or ``create_graph`` meets a
            node whose derivative only a micrograd ``_backward`` closure knows.

    >>> x = Value(2.0)
    >>> y = x * x                                  # y = x^2
    >>> (dy,) = grad(y, x, create_graph=True)      # dy/dx = 2x = 4
    >>> z = dy**3 + y                              # z = (dy/dx)^3 + y
    >>> [d.data for d in grad(z, x)], x.grad       # dz/dx = 3 (2x)^2 2 + 2x = 100
    ([100.0], 0.0)
    """
    nodes = _input_list("grad", inputs)
    tensors = _engine_of(output)
    for position, node in enumerate(nodes):
        if isinstance(node, Tensor) != tensors:
            raise TypeError(
                f"grad: the output is a {type(output).__name__} but input {position} is a "
                f"{type(node).__name__}: one graph holds one engine's nodes"
            )
    # The gradient's own graph is recorded even inside no_grad(), as in PyTorch.
    with enable_grad() if create_graph else contextlib.nullcontext():
        seed = _seed(output, grad_output, create_graph)
        if tensors:
            found = _sweep(output, seed, nodes, _tensor_step(create_graph))
            tensor_inputs = cast(list[Tensor], nodes)  # checked above: all Tensors
            return [_tensor_result(x, found.get(x), create_graph) for x in tensor_inputs]
        found = _sweep(output, seed, nodes, _value_step(create_graph))
        return [_value_result(found.get(node), create_graph) for node in nodes]


def hvp(f: Callable[..., Node], params: Node | Sequence[Node], vector: Any) -> list[Any]:
    """The Hessian of ``f(*params)`` times ``vector``: H v, one constant per parameter.

    H v = d/dw <g(w), v> with g = dJ/dw: one sweep for g (recording it), one for the
    gradient of <g, v>, whatever the number of parameters. ``vector`` has one entry
    per parameter (a number for a Value, an array or Tensor of its shape for a
    Tensor); for a single parameter it may be given alone.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> [v.tolist() for v in hvp(lambda x: (x**3).sum(), x, [1.0, 1.0])]  # H = diag(6x)
    [[6.0, 12.0]]
    """
    nodes = _input_list("hvp", params)
    _check_recorded("hvp", nodes)
    vectors = vector if _one_entry_per_node(vector, nodes) else [vector]
    if not isinstance(vectors, (list, tuple)) or len(vectors) != len(nodes):
        raise ValueError(f"hvp: vector needs one entry per parameter ({len(nodes)})")
    with enable_grad():  # f and <g, v> are differentiated: record them even in no_grad()
        gradients = grad(_called("hvp", f, nodes), nodes, create_graph=True)
        terms = [_dot(g, v, node) for g, v, node in zip(gradients, vectors, nodes, strict=True)]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return grad(total, nodes)


def hessian(f: Callable[..., Node], x: Node | Sequence[Node]) -> np.ndarray:
    """The matrix of second derivatives of the scalar ``f(*x)``, float64, (n, n).

    n counts every element of every input, in order (each Tensor flattened in C
    order). Row i is the gradient of the i-th element of the gradient, computed with
    ``create_graph=True``: n + 1 sweeps, so it is for small inputs (at most
    ``HESSIAN_LIMIT`` elements; ``hvp`` scales to any size).

    >>> x = Value(2.0)
    >>> hessian(lambda x: x**4 - 2 * x**2, x)      # f'' = 12 x^2 - 4
    array([[44.]])
    """
    nodes = _input_list("hessian", x)
    _check_recorded("hessian", nodes)
    size = sum(int(np.size(node.data)) for node in nodes)
    if size > HESSIAN_LIMIT:
        raise ValueError(
            f"hessian: the inputs have {size} elements, more than {HESSIAN_LIMIT} "
            f"(the matrix would have {size}**2 entries); use hvp for large inputs"
        )
    with enable_grad():  # f and its gradient are differentiated: record them even in no_grad()
        gradients = grad(_called("hessian", f, nodes), nodes, create_graph=True)
        rows = [_flat(grad(entry, nodes)) for entry in _elements(gradients)]
    return np.array(rows, dtype=np.float64).reshape(size, size)


# -- the sweep ----------------------------------------------------------------------------

Step = Callable[[Any, Any, set[Any]], Iterable[tuple[Any, Any]]]


def _sweep(root: Node, seed: Any, inputs: list[Node], step: Step) -> dict[Any, Any]:
    """The reverse sweep from ``root``, limited to the nodes that lead to an input.

    Returns d(root)/d(input) (times the seed) for each input reached, by identity.
    ``step(node, g, leading)`` gives (child, gradient sent) for each child in
    ``leading`` once the node's gradient g is complete (``backward()``'s order).
    """
    nodes = toposort(root)
    leading = _leading_to(nodes, inputs)
    wanted = set(inputs)
    pending: dict[Any, Any] = {root: seed}
    found: dict[Any, Any] = {}
    for node in _sweep_order(root, nodes, leading):
        if node not in pending:
            continue
        g = pending.pop(node)
        if node in wanted:
            found[node] = g
        for child, sent in step(node, g, leading):
            pending[child] = sent if child not in pending else pending[child] + sent
    return found


def _leading_to(nodes: list[Node], inputs: list[Node]) -> set[Any]:
    """Every node of ``nodes`` (a ``toposort``) from which some input can be reached, inputs too."""
    leading = set(inputs)
    for node in nodes:  # children first: each child is decided before its users
        if node not in leading and any(child in leading for child in node.children):
            leading.add(node)
    return leading


def _sweep_order(root: Node, nodes: list[Node], leading: set[Any]) -> list[Node]:
    """The nodes of ``leading`` in ``backward()``'s order (``backward_order``), no grad written.

    The order fixes the order of each sum of gradients, so the numbers are
    ``backward()``'s to the last bit. For Values the order comes from ``nodes`` (the
    walk already made), by the engine's ``sweep_order``; the leaves send nothing.
    """
    if not isinstance(root, Value):
        return [node for node in backward_order(root) if node in leading]
    interior, leaves = engine.sweep_order(root, cast("list[Value]", nodes))  # a Value's graph
    return [node for node in interior + leaves if node in leading]


def _tensor_step(create_graph: bool) -> Step:
    """The sweep's step on Tensors: a primitive's rule on arrays, or on Tensors to record it.

    With ``create_graph``, a product whose every factor is a constant (the seed
    times a rule that keeps no node that requires grad) is computed on arrays too,
    and enters the graph as a constant: it has no derivative to record.
    """

    def step(node: Tensor, g: Any, leading: set[Any]) -> Iterator[tuple[Tensor, Any]]:
        if node._ctx is None:
            return
        ctx = copy.copy(node._ctx)  # its own needs_grad: the graph is not changed
        ctx.needs_grad = tuple(
            needed and child in leading for needed, child in zip(ctx.needs_grad, node.children)
        )
        kept = {
            name: node if position == F.OUTPUT else node.children[position]
            for name, position in ctx.keeps.items()
        }
        recorded = create_graph and (
            g.requires_grad or any(saved.requires_grad for saved in kept.values())
        )
        if recorded:
            for name, saved in kept.items():
                setattr(ctx, name, saved)
            vjps = ctx.backward(g, TensorOps)
        else:
            vjps = ctx.backward(g.data if create_graph else g)
        for vjp, needed, child in zip(vjps, ctx.needs_grad, node.children, strict=True):
            if not needed:
                continue
            fitted = _unbroadcast(vjp if recorded else np.asarray(vjp), child.shape)
            if fitted.dtype != child.dtype:
                fitted = fitted.astype(child.dtype)
            yield child, Tensor._wrap(np.array(fitted)) if create_graph and not recorded else fitted

    return step


def _value_step(create_graph: bool) -> Step:
    """The sweep's step on Values: local derivative times the node's gradient, per child."""

    def step(node: Value, g: Any, leading: set[Any]) -> Iterator[tuple[Value, Any]]:
        if not node.children:
            return
        if node.local_grads is None:  # built by hand: only its micrograd closure knows
            if create_graph:
                raise ValueError(
                    f"grad(create_graph=True): the {node.op or 'hand-built'!r} node's "
                    "derivative is a micrograd _backward closure, which computes numbers, "
                    "not a graph: it cannot be differentiated twice (build the op from "
                    "Value operations instead)"
                )
            for child, sent in sent_by_closure(node, g):
                if child in leading:
                    yield child, sent
            return
        local_grads = engine.differentiable_local_grads(node) if create_graph else node.local_grads
        for child, local in zip(node.children, local_grads, strict=True):
            if child in leading:
                yield child, local * g

    return step


# -- arguments and results ----------------------------------------------------------------


def _input_list(name: str, inputs: Any) -> list[Node]:
    """One node or a list/tuple of nodes, as a list; TypeError naming anything else."""
    if isinstance(inputs, (Value, Tensor)):
        return [inputs]
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError(
            f"{name}: inputs must be a Value or Tensor or a non-empty list of them, "
            f"got {type(inputs).__name__}"
        )
    for position, node in enumerate(inputs):
        if not isinstance(node, (Value, Tensor)):
            raise TypeError(
                f"{name}: input {position} must be a Value or a Tensor (a node of the "
                f"graph), got {type(node).__name__}"
            )
    return list(inputs)


def _engine_of(output: Any) -> bool:
    """True for a Tensor output, False for a Value; TypeError for anything else."""
    if not isinstance(output, (Value, Tensor)):
        raise TypeError(f"grad: output must be a Value or a Tensor, got {type(output).__name__}")
    return isinstance(output, Tensor)


def _seed(output: Node, grad_output: Any, create_graph: bool) -> Any:
    """d(output)/d(output) times u: 1 for a scalar, else ``grad_output`` checked."""
    if isinstance(output, Value):
        if grad_output is None:
            return Value(1.0) if create_graph else 1.0
        if isinstance(grad_output, Value):
            return grad_output if create_graph else grad_output.data
        seed = engine.to_float(grad_output)
        return Value(seed) if create_graph else seed
    if grad_output is None:
        if output.data.size != 1:
            raise ShapeError(
                f"grad: the output has shape {output.shape}; a grad_output of that shape "
                "is needed (it may be omitted only for a one-element output)"
            )
        array = np.ones_like(output.data)
    elif isinstance(grad_output, Tensor) and create_graph:
        _check_seed_shape(grad_output.shape, output.shape)
        same = grad_output.dtype == output.dtype
        return grad_output if same else grad_output.astype(output.dtype)
    else:
        array = float_array(_data(grad_output), output.dtype)
        _check_seed_shape(array.shape, output.shape)
    return Tensor._wrap(array) if create_graph else array


def _check_seed_shape(shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if shape != expected:
        raise ValueError(f"grad: grad_output of shape {shape} for an output of shape {expected}")


def _tensor_result(node: Tensor, gradient: Any, create_graph: bool) -> Tensor:
    """The gradient for one Tensor input: zeros if the sweep never reached it."""
    if gradient is None:
        return Tensor._wrap(np.zeros(node.shape, node.dtype))
    if create_graph:
        return gradient
    return Tensor._wrap(np.array(gradient, dtype=node.dtype))  # its own array


def _value_result(gradient: Any, create_graph: bool) -> Value:
    """The gradient for one Value input: a constant unless it is a recorded node."""
    if gradient is None:
        return Value(0.0)
    if create_graph and isinstance(gradient, Value):
        return gradient
    return Value(gradient.data if isinstance(gradient, Value) else gradient)


def _check_recorded(name: str, nodes: list[Node]) -> None:
    """ValueError for a Tensor input that does not require grad (its graph is not recorded)."""
    for position, node in enumerate(nodes):
        if isinstance(node, Tensor) and not node.requires_grad:
            raise ValueError(
                f"{name}: input {position} does not require grad, so no graph is recorded "
                "from it: create it with requires_grad=True"
            )


def _called(name: str, f: Callable[..., Node], nodes: list[Node]) -> Node:
    """``f(*nodes)``, checked to be a scalar Value or a one-element Tensor."""
    if not callable(f):
        raise TypeError(f"{name}: f must be callable, got {type(f).__name__}")
    out = f(*nodes)
    if isinstance(out, Tensor) and out.data.size != 1:
        raise ValueError(f"{name}: f must return a scalar, got a Tensor of shape {out.shape}")
    if not isinstance(out, (Value, Tensor)):
        raise TypeError(f"{name}: f must return a Value or a Tensor, got {type(out).__name__}")
    return out


def _one_entry_per_node(vector: Any, nodes: list[Node]) -> bool:
    """Whether ``vector`` is a list with one entry per node, rather than one node's entry.

    Several nodes always need the list; for one node, ``[v]`` with v of its shape is
    the list, and anything else (an array, a number, a list of numbers) its entry.
    """
    if len(nodes) > 1 or not isinstance(vector, (list, tuple)):
        return len(nodes) > 1
    return len(vector) == 1 and np.shape(_data(vector[0])) == np.shape(nodes[0].data)


def _data(x: Any) -> Any:
    """A node's data, anything else as it is."""
    return x.data if isinstance(x, (Value, Tensor)) else x


def _dot(g: Any, v: Any, node: Node) -> Any:
    """<g, v> as a node, with v a constant shaped like ``node``."""
    if isinstance(node, Value):
        return g * engine.to_float(_data(v))
    direction = float_array(_data(v), node.dtype)
    if direction.shape != node.shape:
        raise ValueError(
            f"hvp: vector of shape {direction.shape} for a parameter of shape {node.shape}"
        )
    return (g * Tensor._wrap(direction)).sum()


def _elements(gradients: list[Any]) -> Iterator[Any]:
    """Every element of the gradients, as scalar nodes, in order (Tensors in C order)."""
    for g in gradients:
        if isinstance(g, Tensor):
            for index in np.ndindex(g.shape):
                yield g[index]
        else:
            yield g


def _flat(gradients: list[Any]) -> np.ndarray:
    """The gradients' numbers joined into one float64 vector."""
    return np.concatenate([np.ravel(np.asarray(g.data, dtype=np.float64)) for g in gradients])
