"""Tensor primitives: one class per operation, forward and backward side by side.

``forward(ctx, *arrays, **params)`` computes the result from numpy arrays and saves
on ``ctx`` (the Function instance) whatever ``backward`` will need. ``backward(ctx, g)``
receives the upstream gradient ``g`` = d(root)/d(out), shaped like the output, and
returns the vector-Jacobian products d(root)/d(input), one per array input in order,
``None`` where an input needs no gradient (``ctx.needs_grad`` says which do).

Each rule is written once and serves two readers. The eager sweep calls it on
numpy arrays. ``tinygrad_bp.grad(..., create_graph=True)`` calls it on Tensors
(``backward(ctx, g, ops)``): ``g`` is then a Tensor, and so is every saved operand
or output that ``keeps`` names, so the products it returns are Tensor nodes that
can be differentiated again. That is why a rule uses only operators, the methods
arrays and Tensors share (``sum reshape transpose astype .T``, indexing) and the
few functions of ``ops`` (``ArrayOps`` here, its Tensor twin in ``autodiff``);
masks (``a > 0``) are computed from arrays: they are locally constant.

The products are returned in the broadcast shape of the operation: ``Tensor``'s
backward loop sums them back to each input's shape (one ``_unbroadcast`` for every
edge), so no primitive deals with broadcasting. A product may be ``g`` itself or a
view of it (the loop copies those); any other array returned must be new, one per
input, because it becomes that input's gradient without a copy. Derivatives are
written in terms of saved outputs where that is cheaper (exp, sigmoid, tanh,
log_softmax).

Division, negation, mean, softmax, squeeze, unsqueeze and flatten are not here:
``Tensor`` composes them from these primitives. ``Sub``, ``Affine`` and ``Var`` are
primitives for speed only (one node where a composite would record two to five; the
results are the same).
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

Array = np.ndarray
OUTPUT = -1  # in ``keeps``: the saved value is the primitive's output


def _broadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """A new array of ``shape`` holding ``g`` broadcast (np.broadcast_to, but writable)."""
    out = np.empty(shape, g.dtype)
    out[...] = g
    return out


def _scatter(g: Any, shape: tuple[int, ...], index: Any, basic: bool) -> Array:
    """Zeros of ``shape`` with ``g`` ADDED at ``index`` (repeated integer indices add up).

    ``basic``: the index picks no element twice (``_is_basic_index``), so it is a plain store.
    """
    out = np.zeros(shape, dtype=g.dtype)
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


class ArrayOps:
    """What a backward rule needs beyond operators and shared methods, on numpy arrays.

    ``autodiff.TensorOps`` has the same names on Tensors, each recording a node.

    >>> ArrayOps.where(np.array([True, False]), np.array([1.0, 2.0]), 0).tolist()
    [1.0, 0.0]
    """

    where = staticmethod(np.where)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    expand = staticmethod(_broadcast)
    scatter = staticmethod(_scatter)

    @staticmethod
    def mask(g: Array, keep: Array) -> Array:
        """g where ``keep`` holds, else 0 (a product with the bools: numpy's fastest)."""
        return g * keep

    @staticmethod
    def value(x: Array) -> Array:
        """The numbers themselves (a Tensor's ``data``), for masks such as ``b == 0``."""
        return x


class Function:
    """Base class of the primitives; an instance is the ``ctx`` of one application.

    Attributes:
        op: the short name shown in graphs and error messages.
        needs_grad: one bool per array input, set when the graph is recorded.
        keeps: the attributes of ``ctx`` that hold an operand (by position) or the
            output (``OUTPUT``), and that ``backward`` differentiates through: when
            the rule is differentiated again they are replaced by those Tensors.

    >>> ctx = Mul()
    >>> ctx.forward(np.array([2.0]), np.array([3.0]))   # y = a*b
    array([6.])
    >>> ctx.needs_grad = (True, False)
    >>> ctx.backward(np.array([1.0]))                   # (da, db) = (g*b, not needed)
    (array([3.]), None)
    """

    op = ""
    needs_grad: tuple[bool, ...] = ()
    keeps: ClassVar[dict[str, int]] = {}

    def forward(ctx, *arrays: Any, **params: Any) -> Array:
        raise NotImplementedError

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        raise NotImplementedError


def _kept_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """``shape`` with the reduced axes kept as 1 (every axis when ``axis`` is None).

    >>> _kept_shape((2, 3, 4), (0, 2)), _kept_shape((2, 3), None)
    ((1, 3, 1), (1, 1))
    """
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _swap_last(x: Any) -> Any:
    """The last two axes swapped (the matrix transpose of a batch of matrices)."""
    n = x.ndim
    return x.transpose((*range(n - 2), n - 1, n - 2))


class Add(Function):
    """y = a + b;  da = g;  db = g."""

    op = "+"

    def forward(ctx, a: Array, b: Array) -> Array:
        return a + b

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return g, g


class Sub(Function):
    """y = a - b;  da = g;  db = -g."""

    op = "-"

    def forward(ctx, a: Array, b: Array) -> Array:
        return a - b

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return g, (-g if ctx.needs_grad[1] else None)


class Mul(Function):
    """y = a * b;  da = g * b;  db = g * a."""

    op = "*"
    keeps = {"a": 0, "b": 1}

    def forward(ctx, a: Array, b: Array) -> Array:
        ctx.a, ctx.b = a, b
        return a * b

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        da = g * ctx.b if ctx.needs_grad[0] else None
        db = g * ctx.a if ctx.needs_grad[1] else None
        return da, db


class Pow(Function):
    """y = a ** b;  da = g * b * a ** (b - 1);  db = g * y * ln(a).

    da is 0 where b = 0 (y = 1 is constant), also at a = 0, where 0 * 0 ** -1 would
    be nan: only there is the formula replaced, so that d(da)/db = a ** -1 at b = 0.
    db is 0 where a = 0 and b >= 0, -inf where a = 0 and b < 0, and nan where
    a < 0 (as PyTorch). IEEE results without warnings: 0 ** -1 = inf,
    (-8) ** 0.5 = nan.
    """

    op = "**"
    keeps = {"a": 0, "b": 1, "y": OUTPUT}

    @np.errstate(all="ignore")
    def forward(ctx, a: Array, b: Array) -> Array:
        ctx.a, ctx.b = a, b
        ctx.y = a**b
        return ctx.y

    @np.errstate(all="ignore")
    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        a, b = ctx.a, ctx.b
        da = db = None
        if ctx.needs_grad[0]:
            slope = b * a ** (b - 1)
            zero = ops.value(b) == 0
            if zero.any():  # 0 * 0 ** -1 = nan at a = 0, b = 0, where y = 1 is constant: 0
                slope = ops.where(zero & np.isnan(ops.value(slope)), 0, slope)
            da = g * slope
        if ctx.needs_grad[1]:
            constant = (ops.value(a) == 0) & (ops.value(b) >= 0)  # 0 ** b is 0 or 1 there
            db = g * ops.where(constant, 0, ctx.y * ops.log(a))
        return da, db


class Exp(Function):
    """y = e ** a;  da = g * y  (overflow gives inf without a warning)."""

    op = "exp"
    keeps = {"y": OUTPUT}

    @np.errstate(over="ignore")
    def forward(ctx, a: Array) -> Array:
        ctx.y = np.exp(a)
        return ctx.y

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g * ctx.y,)


class Log(Function):
    """y = ln(a);  da = g / a  (IEEE, silently: ln(0) = -inf, ln(a < 0) = nan)."""

    op = "log"
    keeps = {"a": 0}

    @np.errstate(divide="ignore", invalid="ignore")
    def forward(ctx, a: Array) -> Array:
        ctx.a = a
        return np.log(a)

    @np.errstate(divide="ignore", invalid="ignore", over="ignore")  # g / 5e-324 is inf
    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g / ctx.a,)


class ReLU(Function):
    """y = max(a, 0);  da = g * [a > 0]  (0 at the kink)."""

    op = "relu"

    def forward(ctx, a: Array) -> Array:
        ctx.y = np.maximum(a, 0)
        return ctx.y

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (ops.where(ctx.y > 0, g, 0),)  # not g * mask: an infinite g gives 0, not nan


class Sigmoid(Function):
    """y = 1 / (1 + e ** -a);  da = g * y * (1 - y)  (the derivation's o(1 - o)).

    Stable for any magnitude: with e = e ** -|a| <= 1, y = 1 / (1 + e) for a >= 0
    and e / (1 + e) for a < 0, so nothing overflows.
    """

    op = "sigmoid"
    keeps = {"y": OUTPUT}

    def forward(ctx, a: Array) -> Array:
        e = np.exp(-np.abs(a))
        ctx.y = np.where(a >= 0, 1, e) / (1 + e)
        return ctx.y

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g * ctx.y * (1 - ctx.y),)


class Tanh(Function):
    """y = tanh(a);  da = g * (1 - y ** 2)."""

    op = "tanh"
    keeps = {"y": OUTPUT}

    def forward(ctx, a: Array) -> Array:
        ctx.y = np.tanh(a)
        return ctx.y

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g * (1 - ctx.y * ctx.y),)


class Abs(Function):
    """y = |a|;  da = g * sign(a)  (0 at a = 0, as PyTorch)."""

    op = "abs"

    def forward(ctx, a: Array) -> Array:
        ctx.sign = np.sign(a)
        return np.abs(a)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g * ctx.sign,)


class Sqrt(Function):
    """y = sqrt(a);  da = g / (2 y)  (IEEE, silently: inf at a = 0, nan below, as PyTorch)."""

    op = "sqrt"
    keeps = {"y": OUTPUT}

    @np.errstate(invalid="ignore")
    def forward(ctx, a: Array) -> Array:
        ctx.y = np.sqrt(a)
        return ctx.y

    @np.errstate(divide="ignore", invalid="ignore")
    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g / (2 * ctx.y),)


class Std(Sqrt):
    """y = sqrt(v) of a variance v;  dv = g / (2 y), and 0 where y = 0 (as PyTorch).

    At a constant input y = 0: sqrt's infinite slope times dv/dx = 0 would be nan;
    PyTorch's std passes the subgradient 0 there, and so does this class.
    """

    op = "std"

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        (dv,) = super().backward(g, ops)
        return (ops.where(ops.value(ctx.y) == 0, 0, dv),)


class Clip(Function):
    """y = min(max(a, lo), hi)  (so y = hi wherever lo > hi, as numpy and PyTorch).

    Inside the bounds da = g; outside, the bound it was clipped to gets g (hi wherever
    lo > hi). Exactly on a bound, PyTorch's minimum-norm rule (torch >= 2.14): a number
    bound passes nothing to a (0, as relu at 0); a Tensor bound and a share g, 1/2 each.
    """

    op = "clip"

    def forward(ctx, a: Array, lo: Array, hi: Array, tensor_bounds: tuple[bool, bool]) -> Array:
        ctx.a, ctx.lo, ctx.hi, ctx.tensor_bounds = a, lo, hi, tensor_bounds
        return np.minimum(np.maximum(a, lo), hi)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        a, lo, hi = ctx.a, ctx.lo, ctx.hi
        tensor_lo, tensor_hi = ctx.tensor_bounds
        ordered = lo < hi
        at_lo, at_hi = (a == lo) & ordered, (a == hi) & ordered
        shared = (at_lo & tensor_lo) | (at_hi & tensor_hi)  # a tie with a Tensor bound
        half = g / 2
        da = ops.where((lo < a) & (a < hi), g, ops.where(shared, half, 0))
        dlo = ops.where((a < lo) & ordered, g, ops.where(at_lo, half, 0))
        dhi = ops.where((a > hi) | (hi < lo), g, ops.where(at_hi, half, 0))
        return tuple(d if needed else None for d, needed in zip((da, dlo, dhi), ctx.needs_grad))


class Where(Function):
    """y = a where cond, else b;  da = g where cond, else 0;  db = 0 where cond, else g.

    ``cond`` is a boolean array, a parameter rather than an operand: no gradient.
    """

    op = "where"

    def forward(ctx, a: Array, b: Array, cond: Array) -> Array:
        ctx.cond = cond
        return np.where(cond, a, b)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        da = ops.where(ctx.cond, g, 0) if ctx.needs_grad[0] else None
        db = ops.where(ctx.cond, 0, g) if ctx.needs_grad[1] else None
        return da, db


class AsType(Function):
    """y = a converted to the float ``dtype``;  da = g converted back to a's dtype."""

    op = "astype"

    @np.errstate(over="ignore")  # float64 beyond 3.4e38 to float32: inf, silently
    def forward(ctx, a: Array, dtype: np.dtype) -> Array:
        ctx.dtype = a.dtype
        return a.astype(dtype)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g.astype(ctx.dtype),)


class Sum(Function):
    """y = sum of a over ``axis`` (all axes if None);  da = g copied along the summed axes."""

    op = "sum"

    def forward(ctx, a: Array, axis: Any = None, keepdims: bool = False) -> Array:
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        reduced = ctx.keepdims or ctx.axis is None  # a 0-d g broadcasts as it is
        kept = g if reduced else g.reshape(_kept_shape(ctx.shape, ctx.axis))
        return (ops.expand(kept, ctx.shape),)  # copied along the summed axes


class Var(Function):
    """y = sum_axis (a - m)^2 / (N - ddof), m = mean_axis a;  da = g * 2 (a - m) / (N - ddof).

    N counts the elements reduced (m's own partials cancel: sum_axis (a - m) = 0).
    N - ddof <= 0 gives inf, or nan for 0 / 0, as numpy, but silently. One node where
    the composite (mean, sub, mul, sum, div) records five.
    """

    op = "var"
    keeps = {"a": 0}

    @np.errstate(divide="ignore", invalid="ignore")
    def forward(ctx, a: Array, axis: Any = None, keepdims: bool = False, ddof: float = 0) -> Array:
        total = a.sum(axis=axis, keepdims=True)
        count = a.size // max(total.size, 1)
        deviation = a - total / count
        ctx.a, ctx.count, ctx.divisor = a, count, max(count - ddof, 0)
        ctx.axis, ctx.keepdims = axis, keepdims
        squares = (deviation * deviation).sum(axis=axis, keepdims=keepdims)
        return squares / ctx.divisor

    @np.errstate(divide="ignore", invalid="ignore")
    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        a = ctx.a
        g = g if ctx.keepdims else g.reshape(_kept_shape(a.shape, ctx.axis))
        deviation = a - a.sum(axis=ctx.axis, keepdims=True) / ctx.count
        return (g * (2 * deviation) / ctx.divisor,)


class Max(Function):
    """y = max of a over ``axis``;  da = g * tie / (number of ties), tie = [a == y].

    The gradient is split EQUALLY among tied maxima, so it sums to g along the
    axis (the subgradient that treats the tied entries symmetrically).
    """

    op = "max"
    extreme: np.ufunc = np.maximum  # the ufunc whose reduce gives the extreme

    def forward(ctx, a: Array, axis: Any = None, keepdims: bool = False) -> Array:
        peak = ctx.extreme.reduce(a, axis=axis, keepdims=True)
        ctx.share = (a == peak).astype(a.dtype)
        with np.errstate(invalid="ignore"):  # a nan peak ties with nothing: 0 / 0 = nan
            ctx.share /= ctx.share.sum(axis=axis, keepdims=True)
        ctx.axis, ctx.keepdims = axis, keepdims
        return peak if keepdims else np.squeeze(peak, axis=axis)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        g = g if ctx.keepdims else g.reshape(_kept_shape(ctx.share.shape, ctx.axis))
        return (g * ctx.share,)


class Min(Max):
    """y = min of a over ``axis``;  da = g * tie / (number of ties), tie = [a == y]  (as Max)."""

    op = "min"
    extreme = np.minimum


class Reshape(Function):
    """y = a viewed with a new shape;  da = g reshaped back to a's shape."""

    op = "reshape"

    def forward(ctx, a: Array, shape: tuple[int, ...]) -> Array:
        ctx.shape = a.shape
        return a.reshape(shape)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g.reshape(ctx.shape),)


class Transpose(Function):
    """y = a with its axes permuted (reversed if ``axes`` is None);  da = g, inverse permutation."""

    op = "transpose"

    def forward(ctx, a: Array, axes: tuple[int, ...] | None = None) -> Array:
        axes = tuple(reversed(range(a.ndim))) if axes is None else axes
        out = a.transpose(axes)  # numpy checks the axes first
        ctx.inverse = tuple(np.argsort([axis % a.ndim for axis in axes]).tolist())
        return out

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g.transpose(ctx.inverse),)


class Expand(Function):
    """y = a broadcast to ``shape`` (a read-only view, as np.broadcast_to);  da = g.

    da is returned in the broadcast shape, as for every broadcasting op: the backward
    loop's unbroadcast sums it over the added and stretched axes.
    """

    op = "expand"

    def forward(ctx, a: Array, shape: tuple[int, ...]) -> Array:
        return np.broadcast_to(a, shape)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g,)


class Cat(Function):
    """y = the inputs joined along ``axis``;  da_i = the slice of g where input i went."""

    op = "cat"

    def forward(ctx, *arrays: Array, axis: int = 0) -> Array:
        out = np.concatenate(arrays, axis=axis)  # checks the shapes first
        ctx.axis, ctx.ends = axis, np.cumsum([0, *(a.shape[axis] for a in arrays)]).tolist()
        return out

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        before = (slice(None),) * ctx.axis
        pieces = zip(ctx.ends[:-1], ctx.ends[1:])
        return tuple(g[(*before, slice(start, stop))] for start, stop in pieces)


class Stack(Function):
    """y = the inputs stacked along a new ``axis``;  da_i = g at index i of that axis."""

    op = "stack"

    def forward(ctx, *arrays: Array, axis: int = 0) -> Array:
        out = np.stack(arrays, axis=axis)
        ctx.axis, ctx.count = axis % out.ndim, len(arrays)
        return out

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        before = (slice(None),) * ctx.axis
        return tuple(g[(*before, i)] for i in range(ctx.count))


class MatMul(Function):
    """y = a @ b as numpy defines it;  da = g @ b^T;  db = a^T @ g  (^T: last two axes).

    A 1-D a is a row (1, n) and a 1-D b a column (n, 1) whose added axis is dropped
    from y; backward restores that axis in g, promotes the operands and drops it
    again. Batch axes broadcast (the backward loop sums them away).
    """

    op = "@"
    keeps = {"a": 0, "b": 1}

    def forward(ctx, a: Array, b: Array) -> Array:
        ctx.a, ctx.b = a, b
        return np.matmul(a, b)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        a_vector, b_vector = ctx.a.ndim == 1, ctx.b.ndim == 1
        g = g.reshape((*g.shape, 1)) if b_vector else g
        g = g.reshape((*g.shape[:-1], 1, g.shape[-1])) if a_vector else g
        da = db = None
        if ctx.needs_grad[0]:
            b = ctx.b.reshape((-1, 1)) if b_vector else ctx.b
            da = g @ _swap_last(b)
            da = da.reshape((*da.shape[:-2], da.shape[-1])) if a_vector else da
        if ctx.needs_grad[1]:
            a = ctx.a.reshape((1, -1)) if a_vector else ctx.a
            db = _swap_last(a) @ g
            db = db.reshape(db.shape[:-1]) if b_vector else db
        return da, db


class Affine(Function):
    """y = x @ W + b for x of shape (..., n_in), W (n_in, n_out), b (n_out,): a layer's net input.

    dx = g @ W^T;  dW = x^T @ g;  db = sum of g over the batch axes  (the batch axes
    of x and g flattened into one, so dW and db come out in their own shapes).
    """

    op = "x@W+b"
    keeps = {"x": 0, "weight": 1}

    def forward(ctx, x: Array, weight: Array, bias: Array) -> Array:
        ctx.x, ctx.weight = x, weight
        out = np.matmul(x, weight)
        if not np.can_cast(bias.dtype, out.dtype):
            return out + bias  # a wider bias promotes, as x @ W + b does
        out += bias  # in place: out is new, so the bias add allocates nothing
        return out

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        rows = g.reshape(-1, g.shape[-1])  # (batch, n_out); a 1-D g is one row
        dx = g @ ctx.weight.T if ctx.needs_grad[0] else None
        dweight = ctx.x.reshape(-1, ctx.x.shape[-1]).T @ rows if ctx.needs_grad[1] else None
        dbias = rows.sum(axis=0) if ctx.needs_grad[2] else None
        return dx, dweight, dbias


def _is_basic_index(index: Any) -> bool:
    """True for numpy basic indexing (ints, slices, None, ...): no element is picked twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(part, (numbers.Integral, slice, type(None), type(...))) for part in parts)


class GetItem(Function):
    """y = a[index];  da = zeros like a, with g ADDED at the indexed places.

    Integer-array indices may repeat an element; each occurrence adds its share
    (``np.add.at``), so d/da sum(a[[0, 0]]) = [2, 0, ...].
    """

    op = "[]"

    def forward(ctx, a: Array, index: Any) -> Array:
        ctx.shape, ctx.index, ctx.basic = a.shape, index, _is_basic_index(index)
        return a[index]

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (ops.scatter(g, ctx.shape, ctx.index, ctx.basic),)


class Scatter(Function):
    """y = zeros of ``shape`` with a ADDED at ``index`` (GetItem's backward);  da = g[index].

    Recorded only when GetItem's rule is differentiated again: the two are each
    other's vector-Jacobian products.
    """

    op = "scatter"

    def forward(ctx, a: Array, shape: tuple[int, ...], index: Any, basic: bool) -> Array:
        ctx.index = index
        return _scatter(a, shape, index, basic)

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g[ctx.index],)


class LogSoftmax(Function):
    """y = a - ln(sum_axis e ** a);  da = g - e ** y * sum_axis(g).

    Stable: computed as s - ln(sum e ** s) with s = a - max(a), so every e ** s <= 1
    and the sum is >= 1. Where a - max(a) is below the most negative float (inputs
    more than 1.8e308 apart; 3.4e38 in float32), y is -inf, silently (IEEE).
    """

    op = "log_softmax"
    keeps = {"y": OUTPUT}

    @np.errstate(over="ignore")
    def forward(ctx, a: Array, axis: int = -1) -> Array:
        shifted = a - a.max(axis=axis, keepdims=True)
        ctx.y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.axis = axis
        return ctx.y

    def backward(ctx, g: Any, ops: Any = ArrayOps) -> tuple[Any, ...]:
        return (g - ops.exp(ctx.y) * g.sum(axis=ctx.axis, keepdims=True),)
