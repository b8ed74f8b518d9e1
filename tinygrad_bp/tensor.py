"""The tensor engine: ``Tensor``, a numpy array in a computation graph.

Every operation runs one primitive of ``functions`` through ``_apply``, which
(when some operand requires grad) records the operands as the result's
``children`` and keeps the primitive (its ``ctx``) for the reverse sweep.
``backward()`` then applies the chain rule once per edge, from the root down,
in the vector form::

    x.grad += _unbroadcast(vjp_x(g), x.shape)

where ``vjp_x(g)`` is the primitive's vector-Jacobian product for operand ``x`` and
``_unbroadcast`` sums it over the axes that numpy broadcasting added or stretched.

dtype: float64 by default; float32 stays float32 through every operation, Python
numbers included (``x32 * 2.0`` is float32), and so do its grads.
"""

from __future__ import annotations

import numbers
from typing import Any, Union

import numpy as np

from . import functions as F
from .graph import backpropagate, mode

Operand = Union["Tensor", float, int, np.ndarray, list]


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """A fresh float array holding ``data``: float dtypes kept, ints and bools to float64.

    >>> _to_array([1, 2]).dtype, _to_array(np.ones(2, np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    >>> _to_array("abc")
    Traceback (most recent call last):
    TypeError: Tensor needs real numbers, got str
    """
    array = np.asarray(data.data if isinstance(data, Tensor) else data)
    kind = array.dtype.kind
    if kind not in "biuf":
        contents = {"U": "str", "S": "bytes"}.get(kind, array.dtype.name)  # not "str672"
        if kind == "O" and array.size:
            contents = type(array.flat[0]).__name__
            if all(isinstance(x, numbers.Real) for x in array.flat):  # Fraction, huge ints
                try:
                    array = array.astype(np.float64)
                except OverflowError:  # an int beyond 1.8e308
                    raise ValueError(
                        f"Tensor: a number too large for a float in {data!r:.60}"
                    ) from None
                return _to_array(array, dtype)
        of = f" of {contents}" if array.ndim else ""
        raise TypeError(f"Tensor needs real numbers, got {type(data).__name__}{of}")
    if dtype is None:
        dtype = array.dtype if kind == "f" else np.float64
    elif np.dtype(dtype).kind != "f":
        raise TypeError(f"Tensor dtype must be a floating type, got {np.dtype(dtype).name}")
    with np.errstate(over="ignore"):  # beyond float32's range: inf, as in PyTorch
        return np.array(array, dtype=dtype)  # always a copy: user arrays are never aliased


def as_array(data: Any) -> np.ndarray:
    """``np.asarray(data)``; while this thread traces a step, an array that keeps track of
    which argument or node the numbers come from (``tracing.recording``).

    >>> as_array([1, 2]).tolist()
    [1, 2]
    """
    if not mode.plain and mode.thread.tracer is not None:
        return mode.thread.tracer.as_array(data)
    return np.asarray(data)


def _shape_arg(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as numpy and PyTorch do."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def _axes(axis: Any, ndim: int, several: bool = True) -> Any:
    """``axis`` checked against ``ndim`` dimensions and made non-negative (None stays None).

    An int, or (when ``several``) a tuple or list of distinct ints; bools are refused.

    >>> _axes(-1, 2), _axes([0, -1], 3)
    (1, (0, 2))
    >>> _axes(2, 2)
    Traceback (most recent call last):
    ValueError: axis 2 is out of range for a tensor of 2 dimensions
    """
    if axis is None:
        return None
    if several and isinstance(axis, (tuple, list)):
        axes = tuple(_axes(one, ndim, several=False) for one in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {axis!r} repeats an axis")
        return axes
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        expected = "an int or a tuple of ints" if several else "an int"
        raise TypeError(f"axis must be {expected}, got {type(axis).__name__}")
    if not -ndim <= int(axis) < ndim:
        raise ValueError(f"axis {axis} is out of range for a tensor of {ndim} dimensions")
    return int(axis) % ndim


def _pytorch_alias(name: str, value: Any, default: Any, alias: str, alias_value: Any) -> Any:
    """A keyword under numpy's ``name`` or PyTorch's ``alias`` (``dim``, ``keepdim``).

    The PyTorch spelling counts when given (not None); a numpy keyword left at its
    default counts as not given. Both given with different values: TypeError.

    >>> _pytorch_alias("axis", None, None, "dim", 1)
    1
    >>> _pytorch_alias("axis", 0, None, "dim", 1)
    Traceback (most recent call last):
    TypeError: got axis=0 and dim=1: pass only one of them
    """
    if alias_value is None:
        return value
    if value != default and value != alias_value:
        raise TypeError(f"got {name}={value!r} and {alias}={alias_value!r}: pass only one of them")
    return alias_value


def _reduction_args(
    ndim: int, axis: Any, keepdims: Any, dim: Any, keepdim: Any, several: bool = True
) -> tuple[Any, bool]:
    """The checked (axis, keepdims) of a reduction, from numpy's or PyTorch's keywords.

    >>> _reduction_args(2, None, False, -1, True)
    (1, True)
    """
    if axis is None and keepdims is False and dim is None and keepdim is None:
        return None, False  # x.sum(): the common call, kept as fast as before the checks
    axis = _pytorch_alias(
        "axis", _axes(axis, ndim, several), None, "dim", _axes(dim, ndim, several)
    )
    keepdims = _pytorch_alias("keepdims", keepdims, False, "keepdim", keepdim)
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"keepdims must be a bool, got {type(keepdims).__name__}")
    return axis, bool(keepdims)


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting.

    Broadcasting prepends axes and stretches axes of size 1; the gradient of a
    value used many times is the sum of the gradients of its uses, so sum the
    leading axes away, then sum (keepdims) where ``shape`` has a 1.

    >>> _unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def _apply(function: type[F.Function], *inputs: Tensor, **params: Any) -> Tensor:
    """Run one primitive on the inputs' data; record the graph if grad is on and needed.

    The graph is recorded (every operand becomes a child, in operand order) only
    when grad is enabled and some operand requires grad; otherwise the result is
    a leaf that does not require grad.

    A ValueError from numpy (incompatible shapes) is re-raised naming the
    operation and every operand shape as a Python tuple.
    """
    ctx = function()
    try:
        data = ctx.forward(*[x.data for x in inputs], **params)
    except (ValueError, OverflowError) as error:  # OverflowError: an axis beyond 2**63
        shapes = " and ".join(str(x.shape) for x in inputs)
        raise ValueError(
            f"{function.op}: incompatible shapes {shapes}: {str(error).strip()}"
        ) from None
    out = Tensor._wrap(data if type(data) is np.ndarray else np.asarray(data))
    out.op = function.op
    if mode.plain or mode.thread.grad_enabled:
        needs_grad = tuple(x.requires_grad for x in inputs)
        if True in needs_grad:
            ctx.needs_grad = needs_grad
            out.children = inputs
            out.requires_grad = True
            out._ctx = ctx
    if not mode.plain:
        thread = mode.thread
        if thread.forward_hook is not None:
            thread.forward_hook(out, out.data, inputs)
        if thread.tracer is not None:  # trace records the primitive and its parameters
            thread.tracer.applied(out, ctx, inputs, params)
    return out


class Tensor:
    """An n-dimensional array in a computation graph, with its gradient.

    Attributes:
        data: the values (np.ndarray, float32 or float64).
        grad: d(root)/d(self) accumulated by ``backward()`` calls (None before).
        requires_grad: whether operations on it are recorded for backward.
        children: the operands this tensor was computed from, in operand order
            (empty for a leaf, and for any result that does not require grad).
        op: the operation that produced it ("" for a leaf).
        label: a name for pictures and tables.

    ``Tensor(data)`` copies ``data``; non-numeric data (str, None, objects,
    complex) raises TypeError. ``log`` of 0 is -inf and of a negative number nan,
    silently, as in numpy with warnings off (IEEE semantics).

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()          # y = sum x_ij^2
    >>> y.backward()
    >>> y.item(), x.grad.tolist()  # dy/dx = 2x
    (30.0, [[2.0, 4.0], [6.0, 8.0]])
    """

    __slots__ = (
        *("data", "grad", "requires_grad", "children", "op", "label"),
        *("_ctx", "_pending", "_origin"),
    )

    # numpy defers to our reflected operators: np.float64(2) * Tensor(3) is a Tensor.
    __array_ufunc__ = None
    empty_grad = None  # the empty gradient: grad before any backward, _pending between sweeps

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, label: str = ""
    ) -> None:
        self._setup(_to_array(data, dtype), bool(requires_grad), label)
        if not mode.plain:
            if mode.thread.forward_hook is not None:  # leaves are observed too
                mode.thread.forward_hook(self, self.data, ())
            if mode.thread.tracer is not None:  # trace: what the leaf was made from
                mode.thread.tracer.leaf(self, data)

    def _setup(self, data: np.ndarray, requires_grad: bool, label: str) -> None:
        self.data = data
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self.children: tuple[Tensor, ...] = ()
        self.op = ""
        self.label = label
        self._ctx: F.Function | None = None
        self._pending: np.ndarray | None = None
        self._origin: str | None = None

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A leaf around an array we own: no checks, no copy (for op results)."""
        out = object.__new__(cls)
        out._setup(data, requires_grad, "")
        return out

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def zeros(cls, *shape: int, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
        """A tensor of zeros. ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``.

        >>> Tensor.zeros(2, 3).shape
        (2, 3)
        """
        return cls(np.zeros(_shape_arg(shape)), requires_grad, dtype)

    @classmethod
    def ones(cls, *shape: int, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
        """A tensor of ones.

        >>> Tensor.ones(2, dtype=np.float32)
        Tensor([1., 1.], dtype=float32)
        """
        return cls(np.ones(_shape_arg(shape)), requires_grad, dtype)

    @classmethod
    def randn(
        cls, *shape: int, rng: Any = None, dtype: Any = np.float64, requires_grad: bool = False
    ) -> Tensor:
        """Standard normal samples; ``rng`` is a np.random.Generator, a seed or None.

        >>> Tensor.randn(2, 3, rng=0).shape
        (2, 3)
        """
        samples = np.random.default_rng(rng).standard_normal(_shape_arg(shape))
        return cls(samples, requires_grad, dtype)

    # -- plain attributes -------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number.

        >>> Tensor([[2.5]]).item()
        2.5
        """
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data array itself (shared, as in PyTorch: writing to it changes the tensor)."""
        return self.data

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, outside the graph (no grad).

        >>> Tensor([1.0], requires_grad=True).detach().requires_grad
        False
        """
        out = Tensor._wrap(self.data)
        if not mode.plain and mode.thread.tracer is not None:
            mode.thread.tracer.leaf(out, self.data)
        return out

    def _operand(self, other: Operand) -> Tensor:
        """``other`` as a Tensor; a real number (Python or numpy) takes this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(
            other,
            np.timedelta64,  # numpy counts a time span as an integer
        ):
            try:
                with np.errstate(over="ignore"):  # beyond float32's range: inf, as in PyTorch
                    out = Tensor._wrap(np.array(other, dtype=self.data.dtype))
                if not mode.plain and mode.thread.tracer is not None:
                    mode.thread.tracer.leaf(out, other)
                return out
            except OverflowError:  # an int beyond 1.8e308
                raise ValueError(f"Tensor: {other!r:.60} is too large for a float") from None
        return Tensor(other)

    # -- primitives ---------------------------------------------------------------------

    def __add__(self, other: Operand) -> Tensor:
        return _apply(F.Add, self, self._operand(other))

    def __radd__(self, other: Operand) -> Tensor:
        return _apply(F.Add, self._operand(other), self)

    def __sub__(self, other: Operand) -> Tensor:
        return _apply(F.Sub, self, self._operand(other))

    def __rsub__(self, other: Operand) -> Tensor:
        return _apply(F.Sub, self._operand(other), self)

    def __mul__(self, other: Operand) -> Tensor:
        return _apply(F.Mul, self, self._operand(other))

    def __rmul__(self, other: Operand) -> Tensor:
        return _apply(F.Mul, self._operand(other), self)

    def __pow__(self, exponent: Operand) -> Tensor:
        """self ** exponent, a number or a Tensor (d/d exponent = self ** exponent * ln self)."""
        return _apply(F.Pow, self, self._operand(exponent))

    def __rpow__(self, base: Operand) -> Tensor:
        return _apply(F.Pow, self._operand(base), self)

    def matmul(self, other: Operand) -> Tensor:
        """Matrix product with numpy's rules (1-D operands, broadcast batch axes).

        >>> (Tensor([[1.0, 2.0]]) @ Tensor([3.0, 4.0])).tolist()
        [11.0]
        """
        return _apply(F.MatMul, self, self._operand(other))

    __matmul__ = matmul

    def __rmatmul__(self, other: Operand) -> Tensor:
        return _apply(F.MatMul, self._operand(other), self)

    def affine(self, weight: Operand, bias: Operand) -> Tensor:
        """y = x W + b, a layer's net input, recorded as ONE node (``x @ W + b`` makes two).

        x (this tensor) has shape (..., n_in), W (n_in, n_out), b (n_out,);
        y_j = sum_i x_i W_ij + b_j, and dL/dx = g W^T, dL/dW = x^T g, dL/db = sum of g
        over the batch axes. Values and grads are those of ``x @ W + b``.

        >>> x = Tensor([[1.0, 2.0]])
        >>> x.affine(Tensor([[1.0, 0.0], [0.0, 1.0]]), Tensor([10.0, 20.0])).tolist()
        [[11.0, 22.0]]
        """
        return _apply(F.Affine, self, self._operand(weight), self._operand(bias))

    def exp(self) -> Tensor:
        """e ** x elementwise (inf on overflow, without a warning).

        >>> Tensor([0.0, 1.0]).exp().tolist()
        [1.0, 2.718281828459045]
        """
        return _apply(F.Exp, self)

    def log(self) -> Tensor:
        """ln x elementwise (-inf at 0, nan below, without warnings).

        >>> Tensor([1.0, 0.0, -1.0]).log().tolist()
        [0.0, -inf, nan]
        """
        return _apply(F.Log, self)

    def relu(self) -> Tensor:
        """max(x, 0) elementwise; gradient 1 where x > 0, else 0 (0 at the kink).

        >>> Tensor([-2.0, 0.0, 3.0]).relu().tolist()
        [0.0, 0.0, 3.0]
        """
        return _apply(F.ReLU, self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e ** -x) elementwise, finite for any magnitude.

        >>> Tensor([-1000.0, 0.0, 1000.0]).sigmoid().tolist()
        [0.0, 0.5, 1.0]
        """
        return _apply(F.Sigmoid, self)

    def tanh(self) -> Tensor:
        """tanh x elementwise; d/dx = 1 - tanh(x)^2.

        >>> Tensor([0.0, 1000.0]).tanh().tolist()
        [0.0, 1.0]
        """
        return _apply(F.Tanh, self)

    def abs(self) -> Tensor:
        """|x| elementwise; d/dx = sign(x), 0 at x = 0 (as PyTorch).

        >>> Tensor([-2.0, 0.0, 3.0]).abs().tolist()
        [2.0, 0.0, 3.0]
        """
        return _apply(F.Abs, self)

    def sqrt(self) -> Tensor:
        """sqrt(x) elementwise; d/dx = 1 / (2 sqrt x): inf at 0, nan below 0, silently.

        >>> Tensor([4.0, 0.0]).sqrt().tolist()
        [2.0, 0.0]
        """
        return _apply(F.Sqrt, self)

    def clip(self, lo: Operand | None = None, hi: Operand | None = None) -> Tensor:
        """min(max(x, lo), hi) elementwise; a bound may be None (unbounded), a number or a Tensor.

        The gradient to x is 1 where lo <= x <= hi, bounds included, as torch.clamp
        (and 0 everywhere when lo > hi, where every result is hi); Tensor bounds get
        the gradient where they are the result.

        >>> x = Tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
        >>> out = x.clip(0.0, 1.0)
        >>> out.sum().backward()
        >>> out.tolist(), x.grad.tolist()
        ([0.0, 0.0, 0.5, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0, 0.0])
        """
        if lo is None and hi is None:
            raise ValueError("clip needs at least one bound: lo or hi")
        lo = self._operand(-np.inf if lo is None else lo)
        hi = self._operand(np.inf if hi is None else hi)
        return _apply(F.Clip, self, lo, hi)

    def clamp(self, min: Operand | None = None, max: Operand | None = None) -> Tensor:
        """``clip`` under PyTorch's name and keywords: ``x.clamp(min=0.0)``.

        >>> Tensor([-1.0, 2.0]).clamp(min=0.0).tolist()
        [0.0, 2.0]
        """
        return self.clip(min, max)

    def astype(self, dtype: Any) -> Tensor:
        """The values converted to the float ``dtype``; the gradient comes back in this dtype.

        >>> Tensor([1.5]).astype(np.float32).dtype
        dtype('float32')
        """
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"astype needs a floating dtype, got {np.dtype(dtype).name}")
        return _apply(F.AsType, self, dtype=np.dtype(dtype))

    def sum(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
    ) -> Tensor:
        """Sum over ``axis`` (an int, a tuple, or None for all axes); PyTorch's ``dim``, too.

        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0).tolist()
        [4.0, 6.0]
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=1, keepdim=True).tolist()
        [[3.0], [7.0]]
        """
        axis, keepdims = _reduction_args(self.ndim, axis, keepdims, dim, keepdim)
        return _apply(F.Sum, self, axis=axis, keepdims=keepdims)

    def max(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
    ) -> Tensor:
        """Maximum over ``axis``; the gradient is split equally among tied maxima.

        Unlike ``torch.max(x, dim)``, the result is the values alone (see ``argmax``).

        >>> x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
        >>> x.max().backward()
        >>> x.grad.tolist()
        [0.0, 0.5, 0.5]
        """
        axis, keepdims = _reduction_args(self.ndim, axis, keepdims, dim, keepdim)
        return _apply(F.Max, self, axis=axis, keepdims=keepdims)

    def min(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
    ) -> Tensor:
        """Minimum over ``axis``; the gradient is split equally among tied minima.

        >>> x = Tensor([[2.0, 1.0], [1.0, 1.0]], requires_grad=True)
        >>> x.min(dim=1).backward(np.ones(2))
        >>> x.grad.tolist()
        [[0.0, 1.0], [0.5, 0.5]]
        """
        axis, keepdims = _reduction_args(self.ndim, axis, keepdims, dim, keepdim)
        return _apply(F.Min, self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: int) -> Tensor:
        """The same values in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``.

        >>> Tensor.zeros(6).reshape(2, -1).shape
        (2, 3)
        """
        return _apply(F.Reshape, self, shape=_shape_arg(shape))

    def transpose(self, *axes: int) -> Tensor:
        """Permute the axes (reverse them when none are given), as numpy.

        >>> Tensor.zeros(2, 3, 4).transpose(1, 0, 2).shape
        (3, 2, 4)
        """
        return _apply(F.Transpose, self, axes=_shape_arg(axes) or None)

    def expand(self, *shape: int) -> Tensor:
        """The values broadcast to ``shape`` (numpy's rules; -1 keeps a size, as PyTorch).

        The gradient is summed back over the broadcast axes.

        >>> x = Tensor([[1.0], [2.0]], requires_grad=True)
        >>> x.expand(2, 3).tolist()
        [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
        >>> x.expand(4, -1, 3).sum().backward()
        >>> x.grad.tolist()
        [[12.0], [12.0]]
        """
        target = _shape_arg(shape)
        if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in target):
            raise TypeError(f"expand: the shape must be ints, got {target!r}")
        added = len(target) - self.ndim  # the leading axes broadcasting prepends
        target = tuple(  # PyTorch's -1: an existing axis keeps its size
            self.shape[i - added] if n == -1 and i >= added else int(n)
            for i, n in enumerate(target)
        )
        stretchable = all(n in (1, m) for n, m in zip(self.shape, target[added:]))
        if added < 0 or min(target, default=0) < 0 or not stretchable:
            raise ValueError(f"expand: cannot broadcast shape {self.shape} to {target}")
        return _apply(F.Expand, self, shape=target)

    broadcast_to = expand

    @property
    def T(self) -> Tensor:
        """The transpose: all axes reversed.

        >>> Tensor.zeros(2, 3).T.shape
        (3, 2)
        """
        return self.transpose()

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """x - ln(sum_axis e ** x), without warnings for any input.

        Finite for |x| up to half the largest float; beyond that the true result can
        be below the most negative float, and is -inf (IEEE).

        >>> Tensor([0.0, 0.0]).log_softmax().exp().tolist()
        [0.5, 0.5]
        """
        axis = _axes(axis, self.ndim)
        if dim is not None:
            axis = _pytorch_alias("axis", axis, self.ndim - 1, "dim", _axes(dim, self.ndim))
        return _apply(F.LogSoftmax, self, axis=axis)

    def __getitem__(self, index: Any) -> Tensor:
        """Basic (ints, slices) and integer-array indexing; repeated indices add up their grads.

        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> x[[0, 0, 2]].sum().backward()
        >>> x.grad.tolist()
        [2.0, 0.0, 1.0]
        """
        return _apply(F.GetItem, self, index=index)

    # -- composites -----------------------------------------------------------------------

    def __neg__(self) -> Tensor:  # self * -1
        return self * -1

    def __truediv__(self, other: Operand) -> Tensor:  # self * other^-1
        return self * self._operand(other) ** -1

    def __rtruediv__(self, other: Operand) -> Tensor:  # other * self^-1
        return self._operand(other) * self**-1

    def mean(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
    ) -> Tensor:
        """Mean over ``axis``: the sum divided by the number of elements summed.

        >>> Tensor([[1.0, 2.0], [3.0, 5.0]]).mean(axis=1).tolist()
        [1.5, 4.0]
        """
        axis, keepdims = _reduction_args(self.ndim, axis, keepdims, dim, keepdim)
        total = _apply(F.Sum, self, axis=axis, keepdims=keepdims)
        count = self.data.size // max(total.data.size, 1)
        return total / (count or np.nan)  # the mean of no elements is nan, as in numpy

    def var(
        self,
        axis: Any = None,
        keepdims: bool = False,
        ddof: float = 0,
        *,
        dim: Any = None,
        keepdim: Any = None,
        correction: float | None = None,
    ) -> Tensor:
        """Variance over ``axis``: sum (x - mean)^2 / (N - ddof), numpy's default ddof = 0.

        PyTorch's ``correction`` is another name for ``ddof`` (mind that torch.var's
        default is 1). With N - ddof <= 0 the result is inf (or nan for 0 / 0), silently.

        >>> Tensor([1.0, 2.0, 3.0, 4.0]).var().item(), Tensor([1.0, 3.0]).var(ddof=1).item()
        (1.25, 2.0)
        """
        axis, keepdims = _reduction_args(self.ndim, axis, keepdims, dim, keepdim)
        ddof = _pytorch_alias("ddof", ddof, 0, "correction", correction)
        if isinstance(ddof, bool) or not isinstance(ddof, numbers.Real):
            raise TypeError(f"ddof must be a number, got {type(ddof).__name__}")
        return _apply(F.Var, self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(
        self,
        axis: Any = None,
        keepdims: bool = False,
        ddof: float = 0,
        *,
        dim: Any = None,
        keepdim: Any = None,
        correction: float | None = None,
    ) -> Tensor:
        """Standard deviation: sqrt(var(...)), with var's arguments.

        Where it is 0 (a constant input) the gradient is 0, as PyTorch's, not nan.

        >>> x = Tensor([2.0, 2.0, 4.0, 4.0], requires_grad=True)
        >>> out = x.std()
        >>> out.backward()
        >>> out.item(), x.grad.tolist()
        (1.0, [-0.25, -0.25, 0.25, 0.25])
        """
        variance = self.var(axis, keepdims, ddof, dim=dim, keepdim=keepdim, correction=correction)
        return _apply(F.Std, variance)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """e ** x / sum_axis e ** x, computed as exp(log_softmax(x)): stable for any magnitude.

        >>> Tensor([1000.0, 1000.0]).softmax().tolist()
        [0.5, 0.5]
        """
        return self.log_softmax(axis, dim=dim).exp()

    def squeeze(self, axis: Any = None, *, dim: Any = None) -> Tensor:
        """Drop axes of size 1: all of them, or those of ``axis`` (which must have size 1).

        As numpy, an ``axis`` of another size is a ValueError (PyTorch ignores it).

        >>> Tensor.zeros(1, 3, 1).squeeze().shape, Tensor.zeros(1, 3, 1).squeeze(0).shape
        ((3,), (3, 1))
        """
        axes = _pytorch_alias("axis", _axes(axis, self.ndim), None, "dim", _axes(dim, self.ndim))
        axes = (axes,) if isinstance(axes, int) else axes
        if axes is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        for i in axes:
            if self.shape[i] != 1:
                raise ValueError(
                    f"squeeze: axis {i} of shape {self.shape} has size {self.shape[i]}"
                )
        return self.reshape(*(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Insert an axis of size 1 at position ``axis`` of the result (np.expand_dims).

        >>> Tensor.zeros(2, 3).unsqueeze(0).shape, Tensor.zeros(2, 3).unsqueeze(-1).shape
        ((1, 2, 3), (2, 3, 1))
        """
        if axis is None and dim is None:
            raise TypeError("unsqueeze needs an axis (or dim)")
        position = _pytorch_alias(
            "axis", _axes(axis, self.ndim + 1, False), None, "dim", _axes(dim, self.ndim + 1, False)
        )
        return self.reshape(*self.shape[:position], 1, *self.shape[position:])

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """The axes from ``start_dim`` to ``end_dim`` merged into one (all of them by default).

        >>> Tensor.zeros(2, 3, 4).flatten().shape, Tensor.zeros(2, 3, 4).flatten(1).shape
        ((24,), (2, 12))
        """
        ndim = max(self.ndim, 1)  # a 0-d tensor flattens to shape (1,), as in PyTorch
        start, end = _axes(start_dim, ndim, False), _axes(end_dim, ndim, False)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape or (1,)
        merged = int(np.prod(shape[start : end + 1]))
        return self.reshape(*shape[:start], merged, *shape[end + 1 :])

    # -- indices (no gradient) ----------------------------------------------------------

    def argmax(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
    ) -> np.ndarray:
        """The index of the maximum (of the flattened tensor when ``axis`` is None).

        An integer np.ndarray, outside the graph; the first index among ties.

        >>> Tensor([[1.0, 5.0], [7.0, 2.0]]).argmax(axis=1).tolist()
        [1, 0]
        """
        return self._index_of("argmax", axis, keepdims, dim, keepdim)

    def argmin(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
    ) -> np.ndarray:
        """The index of the minimum, as ``argmax``.

        >>> Tensor([[1.0, 5.0], [7.0, 2.0]]).argmin().tolist()
        0
        """
        return self._index_of("argmin", axis, keepdims, dim, keepdim)

    def _index_of(self, name: str, axis: Any, keepdims: Any, dim: Any, keepdim: Any) -> np.ndarray:
        """np.argmax or np.argmin of the data, with the reductions' keywords checked."""
        axis, keepdims = _reduction_args(self.ndim, axis, keepdims, dim, keepdim, several=False)
        try:
            return np.asarray(getattr(self.data, name)(axis=axis, keepdims=keepdims))
        except ValueError:  # an empty axis
            raise ValueError(f"{name} of an empty tensor of shape {self.shape}") from None

    # -- backward --------------------------------------------------------------------------

    def backward(self, grad: Operand | None = None) -> None:
        """Add d(self)/d(node) · grad to the ``grad`` of every tensor this one depends on.

        ``grad`` (the seed, shaped like this tensor) may be omitted only for a
        one-element tensor, where it is 1. Gradients accumulate: a second call
        without zeroing doubles every grad. Inside ``no_grad()`` it still runs on a
        graph recorded outside the block, as in PyTorch (``no_grad`` only stops
        recording); a result computed inside the block has no graph, so it raises.

        Raises:
            RuntimeError: this tensor does not require grad, or ``grad`` is omitted
                for a tensor of more than one element.
            ValueError: ``grad`` has a different shape.

        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * 3).backward(np.array([1.0, 10.0]))  # seed = d(root)/d(x * 3)
        >>> x.grad.tolist()
        [3.0, 30.0]
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of it was "
                "created with requires_grad=True (or it was computed inside no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() needs a grad for a tensor of shape {self.shape}; it may be "
                    "omitted only for a one-element tensor"
                )
            seed = np.ones_like(self.data)
        else:
            seed = _to_array(grad, self.dtype)
            if seed.shape != self.shape:
                raise ValueError(
                    f"backward(): grad of shape {seed.shape} for a tensor of shape {self.shape}"
                )
        backpropagate(self, seed)

    def _propagate(self) -> None:
        """One step of the reverse sweep (see ``graph.backpropagate``).

        Every array sent to ``_pending`` is new and belongs to the receiving node
        alone (``_fit`` copies the upstream gradient itself and views of it), so it
        can become ``grad`` without a copy: no two nodes ever share a grad array.
        """
        if self._pending is None:
            return  # an operand that does not require grad: nothing flows into it
        upstream = np.asarray(self._pending)  # numpy gives 0-d results as scalars
        self._pending = None
        self.grad = upstream if self.grad is None else np.asarray(self.grad + upstream)
        ctx = self._ctx
        if ctx is None:  # a leaf: nothing to pass on
            return
        vjps = zip(ctx.backward(upstream), ctx.needs_grad, self.children, strict=True)
        sent = [self._fit(vjp, child, upstream) if needed else None for vjp, needed, child in vjps]
        if not mode.plain and mode.thread.backward_hook is not None:
            mode.thread.backward_hook(self, tuple(sent))
        for child, g in zip(self.children, sent):
            if g is not None:
                child._pending = g if child._pending is None else child._pending + g  # chain rule

    def _fit(self, vjp: Any, child: Tensor, upstream: np.ndarray) -> np.ndarray:
        """The vector-Jacobian product for ``child``, summed to its shape, in its dtype.

        The result is always a new array: ``upstream`` itself (as ``Add`` returns it)
        and views of it (``Reshape``, ``Transpose``) are copied.
        """
        g = _unbroadcast(np.asarray(vjp), child.data.shape)
        if g.shape != child.data.shape:
            raise RuntimeError(f"{self.op}: gradient of shape {g.shape} for shape {child.shape}")
        if g.dtype != child.data.dtype:
            return g.astype(child.data.dtype)
        return g if g.base is None and g is not upstream else g.copy()

    # -- display ---------------------------------------------------------------------------

    def tolist(self) -> Any:
        """The data as nested Python lists (a float for a 0-d tensor).

        >>> Tensor([[1, 2]]).tolist()
        [[1.0, 2.0]]
        """
        return self.data.tolist()

    def _repr_svg_(self) -> str | None:
        """Jupyter shows the computation graph; plain ``repr`` is unchanged."""
        from .viz import repr_svg  # imported on use: viz sits above the engines

        return repr_svg(self)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
        extras += ", requires_grad=True" if self.requires_grad else ""
        extras += f", label={self.label!r}" if self.label else ""
        return f"Tensor({body}{extras})"


# -- functions of several tensors ---------------------------------------------------------


def _tensors(name: str, items: Any) -> list[Tensor]:
    """``items`` (a list or tuple) as Tensors; numbers take the dtype of the first Tensor.

    >>> [t.dtype.name for t in _tensors("cat", [Tensor(np.ones(1, np.float32)), 2.0])]
    ['float32', 'float32']
    """
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} needs a list or tuple of tensors, got {type(items).__name__}")
    if not items:
        raise ValueError(f"{name} needs at least one tensor, got an empty {type(items).__name__}")
    first = next((item for item in items if isinstance(item, Tensor)), None)
    return [first._operand(item) if first is not None else Tensor(item) for item in items]


def cat(
    tensors: list[Operand] | tuple[Operand, ...], axis: int = 0, *, dim: int | None = None
) -> Tensor:
    """The tensors joined along an existing ``axis`` (np.concatenate, torch.cat).

    The gradient of each input is its slice of the result's gradient.

    >>> a, b = Tensor([[1.0, 2.0]], requires_grad=True), Tensor([[3.0, 4.0]])
    >>> out = cat([a, b], axis=0)
    >>> out.tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> (out * Tensor([[1.0], [10.0]])).sum().backward()
    >>> a.grad.tolist()
    [[1.0, 1.0]]
    """
    inputs = _tensors("cat", tensors)
    if inputs[0].ndim == 0:
        raise ValueError("cat: 0-d tensors have no axis to join along (stack makes one)")
    ndim = inputs[0].ndim
    axis = _pytorch_alias("axis", _axes(axis, ndim, False), 0, "dim", _axes(dim, ndim, False))
    return _apply(F.Cat, *inputs, axis=axis)


concatenate = cat


def stack(
    tensors: list[Operand] | tuple[Operand, ...], axis: int = 0, *, dim: int | None = None
) -> Tensor:
    """The tensors, all of one shape, stacked along a new ``axis`` (np.stack, torch.stack).

    >>> out = stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])], axis=1)
    >>> out.tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    inputs = _tensors("stack", tensors)
    ndim = inputs[0].ndim + 1
    axis = _pytorch_alias("axis", _axes(axis, ndim, False), 0, "dim", _axes(dim, ndim, False))
    return _apply(F.Stack, *inputs, axis=axis)


def where(cond: Any, a: Operand, b: Operand) -> Tensor:
    """Elementwise ``a`` where ``cond`` is true (nonzero), else ``b``, all three broadcast.

    ``cond`` is a Tensor, array, bool or list; it gets no gradient. The gradient of
    ``a`` is the result's gradient where ``cond`` holds (0 elsewhere), of ``b`` the rest.

    >>> x = Tensor([-1.0, 2.0], requires_grad=True)
    >>> out = where(x.data > 0, x, 0.0)
    >>> out.sum().backward()
    >>> out.tolist(), x.grad.tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    mask = as_array(cond.data if isinstance(cond, Tensor) else cond)
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"where: cond must be bools or numbers, got {type(cond).__name__}")
    a, b = _tensors("where", [a, b])
    try:
        np.broadcast_shapes(mask.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"where: incompatible shapes {mask.shape} (cond), {a.shape} and {b.shape}"
        ) from None
    return _apply(F.Where, a, b, cond=mask.astype(bool))
