"""Tests of the tensor engine (tensor.py and functions.py).

Every operation is checked forward against numpy and backward against central
finite differences of the NUMPY reference in float64 (an oracle independent of our
code), over Hypothesis-generated shapes; binary operations over broadcasting pairs.
"""

import math
import operator
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bp
from tinygrad_bp.graph import mode, no_grad, observing
from tinygrad_bp.tensor import Tensor
from tinygrad_bp.testing import CATALOGUE, broadcastable_shapes

# -- oracles ----------------------------------------------------------------------------


def numeric_grads(reference, arrays, upstream, eps=1e-6):
    """Central differences of L = sum(reference(*arrays) * upstream) w.r.t. each array."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for array in arrays:
        grad = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            old = array[i]
            array[i] = old + eps
            plus = np.sum(reference(*arrays) * upstream)
            array[i] = old - eps
            minus = np.sum(reference(*arrays) * upstream)
            array[i] = old
            grad[i] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def check_op(ours, reference, *arrays):
    """Forward equals numpy; backward equals finite differences of numpy, for a random seed."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = ours(*tensors)
    expected = reference(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    upstream = np.random.default_rng(len(arrays)).standard_normal(out.shape)
    out.backward(upstream)
    for tensor, numeric in zip(tensors, numeric_grads(reference, arrays, upstream), strict=True):
        assert tensor.grad.shape == tensor.shape
        np.testing.assert_allclose(tensor.grad, numeric, rtol=1e-5, atol=1e-6)


# -- strategies -------------------------------------------------------------------------

REAL = st.floats(-3, 3)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def arrays(shape, elements=REAL):
    return hnp.arrays(np.float64, shape, elements=elements)


def softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


TENSOR_OPS = [op for op in CATALOGUE if op.tensor]  # every op of the catalogue a Tensor has
ONE_TENSOR_OPS = [op for op in TENSOR_OPS if len(op.values) == 1]
TWO_TENSOR_OPS = [op for op in TENSOR_OPS if len(op.values) == 2 and not op.numbers]


def at_the_top(op):
    """``op.ours`` of the tensors alone, each number at the top of its range."""
    return op.with_numbers(op.ours, [arg.high for arg in op.numbers])


# -- forward vs numpy, backward vs finite differences -----------------------------------


@pytest.mark.parametrize("op", TENSOR_OPS, ids=[op.name for op in TENSOR_OPS])
@given(data=st.data())
def test_op_broadcasts_and_matches_numpy_and_finite_differences(op, data):
    shapes = data.draw(broadcastable_shapes(len(op.values), min_dims=op.min_dims, max_side=3))
    tensors = [
        data.draw(arrays(shape, arg.strategy()))
        for shape, arg in zip(shapes.input_shapes, op.values, strict=True)
    ]
    numbers = [data.draw(arg.strategy()) for arg in op.numbers]
    ours = op.with_numbers(op.ours, numbers)
    check_op(ours, op.with_numbers(op.numpy_reference, numbers), *tensors)


@st.composite
def axes(draw, ndim):
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    single = st.integers(-ndim, ndim - 1) if ndim else st.nothing()
    several = st.lists(st.integers(0, ndim - 1), unique=True).map(tuple) if ndim else st.just(())
    return draw(st.none() | single | several)


REDUCTIONS = ["sum", "mean", "max", "min", "var", "std"]


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data())
def test_reductions_over_any_axes(name, data):
    shape = data.draw(SHAPES)
    axis, keepdims = data.draw(axes(len(shape))), data.draw(st.booleans())
    # distinct values at least 0.5 apart, so max and min have no ties within eps, nor std a kink
    order = data.draw(st.permutations(range(int(np.prod(shape)))))
    a = np.reshape(order, shape) * 0.5 - 1.0
    check_op(
        lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
        lambda x: getattr(np, name)(x, axis=axis, keepdims=keepdims),
        a,
    )


@given(data=st.data())
def test_log_softmax_and_softmax_along_any_axis(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(arrays(shape))
    check_op(lambda x: x.softmax(axis), lambda x: softmax(x, axis), a)
    check_op(lambda x: x.log_softmax(axis), lambda x: np.log(softmax(x, axis)), a)


@given(data=st.data())
def test_reshape_and_transpose(data):
    shape = data.draw(SHAPES)
    a = data.draw(arrays(shape))
    permutation = tuple(data.draw(st.permutations(range(len(shape)))))
    check_op(lambda x: x.transpose(*permutation), lambda x: np.transpose(x, permutation), a)
    check_op(lambda x: x.reshape(shape[::-1]), lambda x: np.reshape(x, shape[::-1]), a)


@st.composite
def matmul_operands(draw):
    """Operands of every kind numpy's matmul accepts: 1-D, 2-D and broadcast batches."""
    batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    m, n, p = draw(st.tuples(*[st.integers(1, 3)] * 3))
    a_vector, b_vector = draw(st.booleans()), draw(st.booleans())
    a_shape = (n,) if a_vector else batches.input_shapes[0] + (m, n)
    b_shape = (n,) if b_vector else batches.input_shapes[1] + (n, p)
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@given(matmul_operands())
def test_matmul_1d_2d_batched(operands):
    check_op(operator.matmul, np.matmul, *operands)


@st.composite
def affine_operands(draw):
    """x of shape (..., n) with 0-2 batch axes, W (n, p), b (p,): a Linear layer's operands."""
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    n, p = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return draw(arrays(batch + (n,))), draw(arrays((n, p))), draw(arrays((p,)))


def affine(x, weight, bias):
    return x.affine(weight, bias)  # the public method over functions.Affine


@given(affine_operands())
def test_affine_1d_2d_batched(operands):
    check_op(affine, lambda x, weight, bias: x @ weight + bias, *operands)


@given(affine_operands())
def test_affine_gives_exactly_the_values_and_grads_of_matmul_plus_bias(operands):
    x, weight, bias = operands
    x = x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x  # the batched matmul sums differently
    fused = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    composite = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = affine(*fused)
    reference = composite[0] @ composite[1] + composite[2]
    assert out.children == tuple(fused) and out.data.tolist() == reference.data.tolist()
    seed = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(seed)
    reference.backward(seed)
    for ours, theirs in zip(fused, composite, strict=True):
        assert ours.grad.tolist() == theirs.grad.tolist()


def test_affine_only_differentiates_operands_that_need_it_and_keeps_float32():
    x = Tensor(np.ones((4, 3), np.float32))
    weight = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    bias = Tensor(np.zeros(2), requires_grad=True)  # float64: promotes, as x @ W + b does
    out = affine(x, weight, bias)
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad is None and weight.grad.dtype == np.float32 and bias.grad.tolist() == [4, 4]
    assert affine(x, weight, Tensor(np.zeros(2, np.float32))).dtype == np.float32


@given(data=st.data())
def test_getitem_basic_indices(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True))
    check_op(lambda x: x[index], lambda x: x[index], data.draw(arrays(shape)))


@given(data=st.data())
def test_getitem_integer_arrays_accumulate_repeats(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    index = data.draw(hnp.integer_array_indices(shape, result_shape=SHAPES))
    check_op(lambda x: x[index], lambda x: x[index], data.draw(arrays(shape)))


# -- dot-product test: <J v, u> = <v, J^T u> ---------------------------------------------

VJP_CASES = [
    ("matmul", lambda x: x @ np.arange(12.0).reshape(4, 3), (2, 5, 4)),
    ("log_softmax", lambda x: x.log_softmax(axis=1), (3, 4)),
    ("max", lambda x: x.max(axis=0), (4, 3)),
    ("getitem", lambda x: x[[0, 0, 2], 1:], (3, 4)),
    ("sigmoid of sum", lambda x: (x * x).sum(axis=-1).sigmoid(), (2, 3)),
    ("var", lambda x: x.var(axis=(0, 2), keepdims=True, ddof=1), (3, 2, 4)),
    ("std", lambda x: x.std(dim=1), (3, 4)),
    ("clip", lambda x: x.clip(-0.5, Tensor([0.2, 0.4, 1.0, 2.0])), (3, 4)),
    ("expand", lambda x: x.expand(2, 3, -1, 4), (3, 1, 4)),
    (
        "stack, cat",
        lambda x: tinygrad_bp.cat([tinygrad_bp.stack([x, x * x], 1), x[:, None]], 1),
        (2, 3),
    ),
    ("where", lambda x: tinygrad_bp.where(np.arange(3) > 0, x, x.abs() * 2), (4, 3)),
]


@pytest.mark.parametrize("name, f, shape", VJP_CASES)
def test_dot_product_of_jvp_and_vjp(name, f, shape):
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(shape), rng.standard_normal(shape)
    eps = 1e-6
    jvp = (f(Tensor(x + eps * v)).data - f(Tensor(x - eps * v)).data) / (2 * eps)
    u = rng.standard_normal(jvp.shape)
    tensor = Tensor(x, requires_grad=True)
    f(tensor).backward(u)
    np.testing.assert_allclose(np.sum(jvp * u), np.sum(v * tensor.grad), rtol=1e-6)


# -- float32 stays float32 --------------------------------------------------------------


@pytest.mark.parametrize("op", ONE_TENSOR_OPS, ids=[op.name for op in ONE_TENSOR_OPS])
def test_float32_stays_float32_through_unary_ops_and_grads(op):
    x = Tensor(np.array([[0.5, 1.5], [2.0, 0.25]], np.float32), requires_grad=True)
    out = at_the_top(op)(x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("op", TWO_TENSOR_OPS, ids=[op.name for op in TWO_TENSOR_OPS])
@pytest.mark.parametrize("other", [2.0, 3, np.float64(2.0), "tensor"])
def test_float32_stays_float32_through_binary_ops_and_grads(op, other):
    x = Tensor(np.array([0.5, 1.5, 2.0], np.float32), requires_grad=True)
    y = Tensor(np.float32(2.0), requires_grad=True) if other == "tensor" else other
    for out in (op.ours(x, y), op.ours(y, x)):
        assert out.dtype == np.float32
        out.backward(np.ones(3, np.float32))
    assert x.grad.dtype == np.float32
    assert other != "tensor" or y.grad.dtype == np.float32


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x @ x,
        lambda x: x.max(),
        lambda x: x[[0, 0]].sum(),
        lambda x: x[1:].sum(),
        lambda x: x.reshape(1, 3).transpose().sum(),
        lambda x: x.sum(axis=0, keepdims=True).mean(),
    ],
)
def test_float32_stays_float32_through_shape_ops(f):
    x = Tensor(np.array([0.5, 1.5, 2.0], np.float32), requires_grad=True)
    out = f(x)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


def test_mixed_precision_grads_keep_each_leafs_dtype():
    x32 = Tensor(np.ones(3, np.float32), requires_grad=True)
    x64 = Tensor(np.ones(3), requires_grad=True)
    out = (x32 * x64).sum()
    assert out.dtype == np.float64
    out.backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64


# -- gradients of specific conventions --------------------------------------------------


def test_repeated_indices_accumulate_gradient():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x[[0, 0, 0, 2]].backward(np.array([1.0, 2.0, 3.0, 4.0]))
    assert x.grad.tolist() == [6.0, 0.0, 4.0, 0.0]
    m = Tensor(np.zeros((2, 3)), requires_grad=True)
    m[np.array([1, 1, 0]), np.array([2, 2, 0])].sum().backward()
    assert m.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]


def test_boolean_mask_index():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    x[x.data > 0].sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]


def test_max_splits_gradient_equally_among_ties():
    x = Tensor([[1.0, 5.0, 5.0, 5.0], [2.0, 2.0, 0.0, 1.0]], requires_grad=True)
    out = x.max(axis=1)
    assert out.tolist() == [5.0, 2.0]
    out.backward(np.array([3.0, 1.0]))
    np.testing.assert_allclose(x.grad, [[0, 1, 1, 1], [0.5, 0.5, 0, 0]])
    y = Tensor(np.full((2, 2), 7.0), requires_grad=True)
    y.max().backward()
    assert y.grad.tolist() == [[0.25, 0.25], [0.25, 0.25]]


def test_matmul_vectors_follow_numpy_promotion():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    out = a @ b
    assert out.shape == () and out.item() == 11.0
    out.backward()
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [1.0, 2.0]
    m = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    assert (m @ b).shape == (3,) and (a @ m.T).shape == (3,)


def test_matmul_only_differentiates_operands_that_need_it():
    x = Tensor(np.ones((4, 3)))
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    out = x @ w
    assert out.children == (x, w)
    out.sum().backward()
    assert x.grad is None and w.grad.tolist() == [[4.0, 4.0]] * 3


def test_pow_with_tensor_exponent():
    a, b = Tensor([2.0, 0.0], requires_grad=True), Tensor([3.0, 2.0], requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad, [12.0, 0.0])  # b a^(b-1)
    np.testing.assert_allclose(b.grad, [8.0 * np.log(2.0), 0.0])  # a^b ln a; 0 at a = 0


# -- backward semantics -----------------------------------------------------------------


def test_backward_twice_doubles_grads():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    out = (h + h.exp()).sum()
    out.backward()
    first = x.grad.copy()
    np.testing.assert_allclose(first, 2 * x.data * (1 + np.exp(x.data**2)))
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_grads_are_not_aliased_between_nodes():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    out = a + b
    out.backward(np.ones(2))
    a.grad += 100.0  # an optimiser may update grads in place
    assert b.grad.tolist() == [1.0, 1.0] and out.grad.tolist() == [1.0, 1.0]
    seed = np.ones(2)
    out.backward(seed)
    seed[:] = 50.0
    assert out.grad.tolist() == [2.0, 2.0]


def test_tensor_copies_user_arrays():
    array = np.ones(3)
    x = Tensor(array, requires_grad=True)
    array[:] = 5.0
    assert x.data.tolist() == [1.0, 1.0, 1.0]


def test_backward_without_grad_on_non_scalar_names_the_shape():
    out = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        out.backward()
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        out.backward(np.ones((3, 2)))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_one_element_tensor_needs_no_seed():
    x = Tensor([[3.0]], requires_grad=True)
    (x * x).backward()
    assert x.grad.tolist() == [[6.0]]


def test_deep_chain_backward_without_recursion():
    x = Tensor([1.0], requires_grad=True)
    out = x
    for _ in range(20_000):
        out = out * 1.0
    out.backward()
    assert x.grad.tolist() == [1.0]


def test_tensors_hash_and_compare_by_identity_as_the_graph_walk_requires():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2 and a == a and a != b
    assert Tensor.__hash__ is object.__hash__ and Tensor.__eq__ is object.__eq__


def test_no_grad_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        out = (x * 3).sum()
    assert not out.requires_grad and out.children == ()
    assert (x * 3).requires_grad  # recording resumes afterwards
    with pytest.raises(RuntimeError):
        out.backward()


def test_detach_cuts_the_graph_and_shares_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.children == ()
    out = (x * d).sum()
    out.backward()
    assert x.grad.tolist() == [2.0, 4.0]  # d treated as a constant


def test_children_and_op_record_the_graph():
    x, c = Tensor([1.0], requires_grad=True), Tensor([2.0])
    out = x * c + x
    assert out.op == "+" and out.children[0].op == "*"
    assert out.children[0].children == (x, c) and out.children[1] is x
    assert (c * 2).children == ()  # nothing to differentiate: no graph
    assert x.children == () and x.op == ""


def test_observers_see_forward_and_backward():
    calls = []

    def forward(node, value, operands):
        calls.append((node.op, "forward", len(operands)))

    def backward(node, sent):
        calls.append((node.op, "backward", len(sent)))

    with observing(forward=forward, backward=backward):
        x = Tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        with no_grad():
            x * x  # no graph recorded, but the observer still sees both operands
    assert mode.forward_hook is None and mode.backward_hook is None
    assert ("", "forward", 0) in calls  # the leaf: no operands
    assert ("*", "forward", 2) in calls and ("sum", "forward", 1) in calls
    assert ("*", "backward", 2) in calls and ("sum", "backward", 1) in calls
    assert calls[-1] == ("*", "forward", 2)


# -- construction, errors and numerics ----------------------------------------------------


@pytest.mark.parametrize(
    "data, name",
    [("abc", "str"), (None, "NoneType"), (object(), "object"), (1 + 2j, "complex"),
     ([1j, 2.0], "complex"), (["a", "b"], "str"), (np.array([None, 1]), "NoneType")],
)  # fmt: skip
def test_non_numeric_data_raises_type_error_naming_the_type(data, name):
    with pytest.raises(TypeError, match=name):
        Tensor(data)


def test_dtypes_on_construction():
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(True).dtype == np.float64
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError):
        Tensor([1, 2], dtype=np.int64)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow, operator.matmul])  # fmt: skip
def test_incompatible_shapes_raise_value_error_with_both_shapes(op):
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((4, 5)))
    for left, right in ((a, b), (a, np.ones((4, 5))), (np.ones((4, 5)), a)):
        with pytest.raises(ValueError, match=r"\(2, 3\)") as error:
            op(left, right)
        assert "(4, 5)" in str(error.value)
    assert a.grad is None


def test_numpy_operands_on_the_left_defer_to_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    for out in (np.float64(2.0) * x, np.ones((3, 2)) + x, np.ones(2) @ x):
        assert isinstance(out, Tensor)
    (np.ones((3, 2)) - x).sum().backward()
    assert x.grad.tolist() == [-3.0, -3.0]


@pytest.mark.parametrize(
    "f",
    [Tensor.sigmoid, Tensor.tanh, Tensor.softmax, Tensor.log_softmax,
     lambda x: x.softmax() * x],
)  # fmt: skip
def test_saturating_functions_are_finite_and_silent_at_large_inputs(f):
    x = Tensor([-1e4, -1e3, 0.0, 1e3, 1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = f(x)
        out.backward(np.ones(5))
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))


def test_sigmoid_limits_are_exact():
    assert Tensor([-1000.0, 1000.0]).sigmoid().tolist() == [0.0, 1.0]


def test_log_and_division_follow_ieee_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logs = Tensor([0.0, -1.0]).log().data
        quotient = (Tensor([1.0]) / 0.0).data
        big = Tensor([1e4]).exp().data
    assert logs[0] == -np.inf and np.isnan(logs[1])
    assert quotient[0] == np.inf and big[0] == np.inf


def test_constructors():
    assert Tensor.zeros(2, 3).data.tolist() == [[0.0] * 3] * 2
    assert Tensor.ones((2,), dtype=np.float32).dtype == np.float32
    assert Tensor.ones(2, requires_grad=True).requires_grad
    a, b = Tensor.randn(3, 4, rng=0), Tensor.randn(3, 4, rng=np.random.default_rng(0))
    assert a.shape == (3, 4) and np.array_equal(a.data, b.data)


def test_attributes_and_repr():
    x = Tensor([[1.0, 2.0]], requires_grad=True, dtype=np.float32)
    assert (x.shape, x.ndim, x.dtype, x.grad) == ((1, 2), 2, np.float32, None)
    assert x.numpy() is x.data and Tensor([[4.0]]).item() == 4.0
    assert repr(x) == "Tensor([[1., 2.]], dtype=float32, requires_grad=True)"
    assert repr(Tensor(2.0)) == "Tensor(2.)"


# -- review fixes: the top of the float range, nan maxima, x ** 0, the public affine ------


@pytest.mark.parametrize(
    "dtype, huge", [(np.float64, 1e308), (np.float32, 3e38)], ids=["float64", "float32"]
)
def test_log_softmax_at_the_top_of_the_float_range_is_ieee_and_silent(dtype, huge):
    x = Tensor(np.array([-huge, 0.0, huge], dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.log_softmax()
        out.backward(np.ones(3))
        probabilities = x.softmax().data
    # the true values are -2 huge (below the most negative float: -inf), -huge and 0
    assert out.data.tolist() == [-np.inf, -float(dtype(huge)), 0.0] and out.dtype == dtype
    assert probabilities.tolist() == [0.0, 0.0, 1.0]
    assert x.grad.tolist() == [1.0, 1.0, -2.0]  # g - softmax * sum(g), with g = 1


def test_max_of_a_nan_is_nan_without_a_warning():
    x = Tensor([np.nan, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.max()
        out.backward()
    assert np.isnan(out.item())


@pytest.mark.parametrize("base", [0.0, 2.0, -3.0])
def test_the_gradient_of_x_to_the_zero_is_zero_everywhere_as_pytorch(base):
    x = Tensor([base], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x**0).sum().backward()
    assert x.grad.tolist() == [0.0]  # d/dx 1 = 0, also at x = 0 (not 0 * 0 ** -1 = nan)
    a, b = Tensor([0.0, 2.0], requires_grad=True), Tensor([0.0, 0.0], requires_grad=True)
    (a**b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0]
    assert b.grad.tolist() == [0.0, np.log(2.0)]  # a^b ln a, taken as 0 at a = 0


def test_affine_is_a_public_method_equal_to_matmul_plus_bias():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    weight = Tensor([[1.0, -1.0, 0.5], [2.0, 0.0, 1.0]], requires_grad=True)
    bias = Tensor([0.1, 0.2, 0.3], requires_grad=True)
    out = x.affine(weight, bias)
    assert out.children == (x, weight, bias)
    np.testing.assert_array_equal(out.data, x.data @ weight.data + bias.data)
    out.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)) @ weight.data.T)  # g W^T
    np.testing.assert_array_equal(weight.grad, x.data.T @ np.ones((2, 3)))  # x^T g
    assert bias.grad.tolist() == [2.0, 2.0, 2.0]  # g summed over the batch


# -- numerics at the edges (the audit's findings) ------------------------------------------


def test_log_backward_at_the_smallest_subnormal_is_silent_and_infinite():
    x = Tensor([5e-324], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.log().sum().backward()
    assert x.grad.tolist() == [math.inf]  # d/dx ln x = 1/x overflows, as in IEEE


def test_a_python_scalar_beyond_float32_becomes_inf_silently():
    x = Tensor([1.0, -1.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x * 1e300
        z = Tensor([1e300], dtype=np.float32)
    assert y.dtype == np.float32 and y.tolist() == [math.inf, -math.inf]
    assert z.tolist() == [math.inf]


def test_a_time_span_is_not_a_number():
    with pytest.raises(TypeError, match="timedelta64"):
        Tensor([1.0]) * np.timedelta64(3, "D")


def test_fractions_are_real_numbers():
    from fractions import Fraction

    assert Tensor(Fraction(1, 4)).item() == 0.25
    assert Tensor([Fraction(1, 2), 3]).tolist() == [0.5, 3.0]
    with pytest.raises(ValueError, match="too large"):
        Tensor([10**400])


# -- the ops PyTorch and numpy users reach for: shapes, joins, where, conventions ----------


@given(data=st.data())
def test_var_and_std_with_ddof_over_any_axes(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    axis = data.draw(axes(len(shape)).filter(lambda axis: axis != ()))
    keepdims = data.draw(st.booleans())
    ddof = data.draw(st.sampled_from([1, 0.5]))  # every axis has >= 2 elements: N - ddof > 0
    order = data.draw(st.permutations(range(int(np.prod(shape)))))
    a = np.reshape(order, shape) * 0.5 - 1.0
    for name in ("var", "std"):
        check_op(
            lambda x, name=name: getattr(x, name)(axis, keepdims, ddof),
            lambda x, name=name: getattr(np, name)(x, axis=axis, keepdims=keepdims, ddof=ddof),
            a,
        )


@st.composite
def squeezable(draw):
    """An array with some axes of size 1, and a selection of those axes (None, one or several)."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    ones = [i for i, n in enumerate(shape) if n == 1]
    chosen = draw(st.lists(st.sampled_from(ones), unique=True)) if ones else []
    axis = draw(st.none() | st.just(tuple(chosen)) | st.sampled_from(ones or [None]))
    return draw(arrays(shape)), axis


@given(squeezable())
def test_squeeze(case):
    a, axis = case
    check_op(lambda x: x.squeeze(axis), lambda x: np.squeeze(x, axis), a)


@given(data=st.data())
def test_unsqueeze_and_flatten(data):
    shape = data.draw(SHAPES)
    a = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda x: x.unsqueeze(axis), lambda x: np.expand_dims(x, axis), a)
    ndim = max(len(shape), 1)
    start, end = sorted(data.draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2)))
    merged = a.reshape(shape or (1,))
    expected = (*merged.shape[:start], -1, *merged.shape[end + 1 :])
    check_op(lambda x: x.flatten(start, end), lambda x: np.reshape(x, expected), a)


@given(broadcastable_shapes(), st.data())
def test_expand_and_broadcast_to(shapes, data):
    shape, target = shapes.input_shapes[0], shapes.result_shape
    a = data.draw(arrays(shape))
    check_op(lambda x: x.expand(*target), lambda x: np.broadcast_to(x, target), a)
    check_op(lambda x: x.broadcast_to(target), lambda x: np.broadcast_to(x, target), a)
    keep = (-1,) * len(shape)  # PyTorch's -1: this axis keeps its size
    as_torch = (*target[: len(target) - len(shape)], *keep)
    expected = np.broadcast_shapes(shape, target[: len(target) - len(shape)] + shape)
    assert Tensor(a).expand(as_torch).shape == expected


@given(data=st.data())
def test_cat_along_any_axis(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    parts = []
    for size in sizes:
        part_shape = list(shape)
        part_shape[axis] = size
        parts.append(data.draw(arrays(tuple(part_shape))))

    def reference(*arrays):
        return np.concatenate(arrays, axis=axis)

    check_op(lambda *xs: tinygrad_bp.cat(list(xs), axis=axis), reference, *parts)
    check_op(lambda *xs: tinygrad_bp.concatenate(xs, dim=axis), reference, *parts)


@given(data=st.data())
def test_stack_along_any_new_axis(data):
    shape = data.draw(SHAPES)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = data.draw(st.lists(arrays(shape), min_size=1, max_size=3))
    check_op(
        lambda *xs: tinygrad_bp.stack(list(xs), axis=axis),
        lambda *xs: np.stack(xs, axis=axis),
        *parts,
    )


@given(broadcastable_shapes(num_shapes=3), st.data())
def test_where_broadcasts_cond_and_both_branches(shapes, data):
    cond_shape, a_shape, b_shape = shapes.input_shapes
    cond = data.draw(hnp.arrays(np.bool_, cond_shape))
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    check_op(lambda x, y: tinygrad_bp.where(cond, x, y), lambda x, y: np.where(cond, x, y), a, b)


@given(broadcastable_shapes(num_shapes=3), st.data())
def test_clip_with_tensor_bounds_sends_them_the_gradient_where_they_win(shapes, data):
    a_shape, lo_shape, hi_shape = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float64, a_shape, elements=st.sampled_from([-2.5, -0.2, 0.3, 2.0])))
    lo = data.draw(arrays(lo_shape, st.floats(-1.5, -0.5)))  # lo < -0.2 < 0.3 < hi: no ties
    hi = data.draw(arrays(hi_shape, st.floats(0.5, 1.5)))
    check_op(lambda x, low, high: x.clip(low, high), np.clip, a, lo, hi)


def test_where_takes_a_tensor_list_or_bool_condition_and_gives_it_no_gradient():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([10.0, 20.0], requires_grad=True)
    cond = Tensor([1.0, 0.0], requires_grad=True)
    for condition in (cond, [True, False], np.array([1, 0])):
        assert tinygrad_bp.where(condition, a, b).tolist() == [1.0, 20.0]
    out = tinygrad_bp.where(cond, a, b)
    assert out.children == (a, b)  # cond is a parameter, not an operand
    out.backward(np.array([3.0, 4.0]))
    assert a.grad.tolist() == [3.0, 0.0] and b.grad.tolist() == [0.0, 4.0] and cond.grad is None
    assert tinygrad_bp.where(True, a, 0.0).tolist() == [1.0, 2.0]
    assert tinygrad_bp.where(False, 1.0, 2.0).tolist() == 2.0


def test_where_does_not_leak_an_infinite_gradient_into_the_branch_not_taken():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        safe = tinygrad_bp.where(x.data > 0, x, 1.0).sqrt()  # sqrt'(0) = inf not selected
        safe.sum().backward()
    assert x.grad.tolist() == [0.0, 0.25]


def test_min_splits_gradient_equally_among_ties():
    x = Tensor([[1.0, -5.0, -5.0, -5.0], [2.0, 2.0, 3.0, 4.0]], requires_grad=True)
    out = x.min(axis=1)
    assert out.tolist() == [-5.0, 2.0]
    out.backward(np.array([3.0, 1.0]))
    np.testing.assert_allclose(x.grad, [[0, 1, 1, 1], [0.5, 0.5, 0, 0]])


def test_abs_and_sqrt_at_zero_follow_pytorch_without_warnings():
    x = Tensor([0.0, -2.0, 3.0], requires_grad=True)
    x.abs().backward(np.ones(3))
    assert x.grad.tolist() == [0.0, -1.0, 1.0]  # abs'(0) = 0
    y = Tensor([0.0, 0.0, 4.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = y.sqrt()
        out.backward(np.array([1.0, -1.0, 1.0, 1.0]))
    assert out.data[:3].tolist() == [0.0, 0.0, 2.0] and np.isnan(out.data[3])
    assert y.grad[:3].tolist() == [np.inf, -np.inf, 0.25] and np.isnan(y.grad[3])


def test_clip_passes_no_gradient_on_a_number_bound_and_none_when_lo_exceeds_hi():
    x = Tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clip(-1.0, 1.0).backward(np.ones(5))
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]  # torch.clamp >= 2.14: lo < x < hi
    x.grad = None
    out = x.clip(1.0, -1.0)  # lo > hi: every result is hi, as numpy and PyTorch
    out.backward(np.ones(5))
    assert out.tolist() == [-1.0] * 5 and x.grad.tolist() == [0.0] * 5
    with pytest.raises(ValueError, match="at least one bound"):
        x.clip()


def test_std_of_a_constant_has_gradient_zero_and_var_beyond_its_degrees_of_freedom_is_ieee():
    x = Tensor([3.0, 3.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.std()
        out.backward()
        beyond = Tensor([1.0, 2.0]).var(ddof=2).item(), Tensor([1.0, 1.0]).var(ddof=3).item()
    assert out.item() == 0.0 and x.grad.tolist() == [0.0, 0.0, 0.0]  # PyTorch's choice
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns about ddof >= N
        expected = np.var([1.0, 2.0], ddof=2), np.var([1.0, 1.0], ddof=3)
    assert beyond[0] == expected[0] == np.inf and np.isnan(beyond[1]) and np.isnan(expected[1])


def test_argmax_and_argmin_are_numpy_index_arrays():
    a = np.array([[1.0, 7.0, 7.0], [9.0, -2.0, 0.0]])
    x = Tensor(a, requires_grad=True)
    for name in ("argmax", "argmin"):
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                out = getattr(x, name)(axis, keepdims)
                expected = getattr(np, name)(a, axis=axis, keepdims=keepdims)
                assert isinstance(out, np.ndarray) and out.dtype.kind == "i"
                np.testing.assert_array_equal(out, expected)
                np.testing.assert_array_equal(getattr(x, name)(dim=axis, keepdim=keepdims), out)
    assert x.grad is None


def test_astype_converts_and_sends_the_gradient_back_in_the_input_dtype():
    x = Tensor([1.0, 2.0 + 1e-12], requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.data.tolist() == [1.0, 2.0]
    (y * 3.0).backward(np.ones(2, np.float32))
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [3.0, 3.0]
    assert Tensor([1e39]).astype("float32").item() == np.inf  # overflow: inf, silently
    assert y.astype("float").dtype == np.float64  # any name numpy gives a float dtype
    for bad in (np.int64, "int32", bool):
        with pytest.raises(TypeError, match="floating"):
            x.astype(bad)


def test_cat_and_stack_send_gradients_only_to_tensors_that_need_them():
    x, c = Tensor([[1.0, 2.0]], requires_grad=True), Tensor([[3.0, 4.0]])
    out = tinygrad_bp.cat([x, c, [[5.0, 6.0]]], axis=0)
    assert out.shape == (3, 2)
    out.backward(np.arange(6.0).reshape(3, 2))
    assert x.grad.tolist() == [[0.0, 1.0]] and c.grad is None
    x.grad = None
    tinygrad_bp.stack([c, x, x], axis=1).backward(np.arange(6.0).reshape(1, 3, 2))
    assert x.grad.tolist() == [[6.0, 8.0]]  # used twice: rows 1 and 2 summed


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.min(),
        lambda x: x.var(),
        lambda x: x.std(ddof=1),
        lambda x: x.abs().sqrt().sum(),
        lambda x: x.clip(0.6, 1.8).sum(),
        lambda x: x.clamp(Tensor(np.float32(1.0)), None).sum(),
        lambda x: x.expand(2, 3).sum(),
        lambda x: x.unsqueeze(0).squeeze().flatten().sum(),
        lambda x: tinygrad_bp.cat([x, x[:1]]).sum(),
        lambda x: tinygrad_bp.stack([x, x[0] * x]).sum(),
        lambda x: tinygrad_bp.stack([x[0], 2.0]).sum(),
        lambda x: tinygrad_bp.where([True, False, True], x, 2.0).sum(),
        lambda x: tinygrad_bp.where(True, 1.0, x).sum(),
        lambda x: x.astype(np.float64).astype(np.float32).sum(),
    ],
)
def test_float32_stays_float32_through_the_new_ops_and_their_grads(f):
    x = Tensor(np.array([0.5, 1.5, 2.0], np.float32), requires_grad=True)
    out = f(x)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


REDUCTION_CALLS = [
    ("sum", ()),
    ("mean", ()),
    ("max", ()),
    ("min", ()),
    ("var", ()),
    ("std", ()),
    ("var", (1,)),  # ddof, positional
]


@pytest.mark.parametrize("name, extra", REDUCTION_CALLS)
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_dim_and_keepdim_are_axis_and_keepdims(name, extra, axis, keepdims):
    a = np.random.default_rng(3).standard_normal((2, 3, 4))
    numpy_style, torch_style = Tensor(a, requires_grad=True), Tensor(a, requires_grad=True)
    ours = getattr(numpy_style, name)(axis, keepdims, *extra)
    theirs = getattr(torch_style, name)(*([None, False] if extra else []), *extra, dim=axis,
                                        keepdim=keepdims)  # fmt: skip
    np.testing.assert_array_equal(ours.data, theirs.data)
    seed = np.random.default_rng(4).standard_normal(ours.shape)
    ours.backward(seed)
    theirs.backward(seed)
    np.testing.assert_array_equal(numpy_style.grad, torch_style.grad)
    same = getattr(numpy_style, name)(axis, keepdims, *extra, dim=axis, keepdim=keepdims)
    np.testing.assert_array_equal(same.data, ours.data)  # both spellings, equal values: fine


def test_dim_works_for_softmax_squeeze_unsqueeze_cat_and_stack():
    a = np.random.default_rng(5).standard_normal((2, 1, 3))
    x = Tensor(a)
    np.testing.assert_array_equal(x.softmax(dim=0).data, x.softmax(axis=0).data)
    np.testing.assert_array_equal(x.log_softmax(dim=1).data, x.log_softmax(1).data)
    assert x.squeeze(dim=1).shape == (2, 3) and x.unsqueeze(dim=-1).shape == (2, 1, 3, 1)
    assert tinygrad_bp.cat([x, x], dim=2).shape == (2, 1, 6)
    assert tinygrad_bp.stack([x, x], dim=-1).shape == (2, 1, 3, 2)
    assert x.var(correction=1).item() == pytest.approx(np.var(a, ddof=1), rel=1e-12)


@pytest.mark.parametrize(
    "call, keywords",
    [
        (lambda x: x.sum(axis=0, dim=1), ("axis=0", "dim=1")),
        (lambda x: x.mean(axis=(0, 1), dim=0), ("axis=(0, 1)", "dim=0")),
        (lambda x: x.max(keepdims=True, keepdim=False), ("keepdims=True", "keepdim=False")),
        (lambda x: x.var(ddof=1, correction=0), ("ddof=1", "correction=0")),
        (lambda x: x.softmax(axis=0, dim=1), ("axis=0", "dim=1")),
        (lambda x: x.argmax(axis=0, dim=1), ("axis=0", "dim=1")),
        (lambda x: x.squeeze(axis=0, dim=1), ("axis=0", "dim=1")),
        (lambda x: tinygrad_bp.cat([x, x], axis=1, dim=0), ("axis=1", "dim=0")),
    ],
)
def test_both_spellings_with_different_values_are_a_type_error_naming_both(call, keywords):
    with pytest.raises(TypeError) as error:
        call(Tensor(np.ones((1, 1, 2))))
    assert all(keyword in str(error.value) for keyword in keywords)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda x: x.sum(axis=3), ValueError, "axis 3 is out of range for a tensor of 3 dim"),
        (lambda x: x.max(dim=-4), ValueError, "axis -4 is out of range"),
        (lambda x: x.min(axis=(0, 0)), ValueError, r"repeats an axis"),
        (lambda x: x.var(axis=True), TypeError, "axis must be an int or a tuple of ints, got bool"),
        (lambda x: x.mean(axis=1.0), TypeError, "got float"),
        (lambda x: x.sum(keepdims="yes"), TypeError, "keepdims must be a bool, got str"),
        (lambda x: x.std(ddof="1"), TypeError, "ddof must be a number, got str"),
        (lambda x: x.std(ddof=True), TypeError, "ddof must be a number, got bool"),
        (lambda x: x.log_softmax(axis=5), ValueError, "axis 5 is out of range"),
        (lambda x: x.argmax(axis=(0, 1)), TypeError, "axis must be an int, got tuple"),
        (lambda x: x.argmin(axis=7), ValueError, "axis 7 is out of range"),
        (lambda x: x[:, :0].argmax(axis=1), ValueError, r"empty tensor of shape \(2, 0, 4\)"),
        (lambda x: x.squeeze(0), ValueError, r"axis 0 of shape \(2, 3, 4\) has size 2"),
        (lambda x: x.squeeze(axis=3), ValueError, "axis 3 is out of range"),
        (lambda x: x.unsqueeze(4), ValueError, "axis 4 is out of range for a tensor of 4"),
        (lambda x: x.unsqueeze(True), TypeError, "axis must be an int, got bool"),
        (lambda x: x.unsqueeze(), TypeError, "needs an axis"),
        (lambda x: x.flatten(2, 1), ValueError, "start_dim 2 comes after end_dim 1"),
        (lambda x: x.flatten(0, 3), ValueError, "axis 3 is out of range"),
        (lambda x: x.expand(2, 5, 4), ValueError, r"shape \(2, 3, 4\) to \(2, 5, 4\)"),
        (lambda x: x.expand(3, 4), ValueError, r"shape \(2, 3, 4\) to \(3, 4\)"),
        (lambda x: x.expand(1, -2, 3, 4), ValueError, r"to \(1, -2, 3, 4\)"),
        (lambda x: x.expand(2.0, 3, 4), TypeError, "the shape must be ints"),
        (lambda x: x.broadcast_to((True, 3, 4)), TypeError, "the shape must be ints"),
    ],
)
def test_bad_arguments_get_clear_errors_and_change_nothing(call, error, pattern):
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    before = x.data.copy()
    with pytest.raises(error, match=pattern):
        call(x)
    assert np.array_equal(x.data, before) and x.grad is None


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda a, b: tinygrad_bp.cat([a, b]), ValueError, r"\(2, 3\) and \(4, 5\)"),
        (lambda a, b: tinygrad_bp.cat([a, b.T], axis=1), ValueError, r"\(2, 3\) and \(5, 4\)"),
        (lambda a, b: tinygrad_bp.cat([a, a[0]]), ValueError, r"\(2, 3\) and \(3,\)"),
        (lambda a, b: tinygrad_bp.stack([a, b]), ValueError, r"\(2, 3\) and \(4, 5\)"),
        (lambda a, b: tinygrad_bp.stack((a, a), axis=3), ValueError, "axis 3 is out of range"),
        (lambda a, b: tinygrad_bp.cat([a, a], axis=2), ValueError, "axis 2 is out of range"),
        (lambda a, b: tinygrad_bp.cat([a.sum()]), ValueError, "0-d tensors"),
        (lambda a, b: tinygrad_bp.cat(a), TypeError, "list or tuple of tensors, got Tensor"),
        (lambda a, b: tinygrad_bp.stack([]), ValueError, "at least one tensor"),
        (lambda a, b: tinygrad_bp.stack([a, "x"]), TypeError, "str"),
        (
            lambda a, b: tinygrad_bp.where(np.ones(7, bool), a, b),
            ValueError,
            r"\(7,\) \(cond\), \(2, 3\) and \(4, 5\)",
        ),
        (lambda a, b: tinygrad_bp.where(a.data > 0, a, b), ValueError, r"\(2, 3\) and \(4, 5\)"),
        (lambda a, b: tinygrad_bp.where("yes", a, a), TypeError, "cond must be bools or numbers"),
        (lambda a, b: a.clip(b, 1.0), ValueError, r"\(2, 3\) and \(4, 5\)"),
    ],
)
def test_functions_of_several_tensors_name_the_shapes_they_cannot_combine(call, error, pattern):
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((4, 5)))
    with pytest.raises(error, match=pattern):
        call(a, b)
    assert a.grad is None and a.data.tolist() == [[1.0] * 3] * 2


def test_the_new_functions_are_exported_at_the_top_level():
    assert tinygrad_bp.concatenate is tinygrad_bp.cat
    assert {"cat", "concatenate", "stack", "where"} <= set(tinygrad_bp.__all__)
    assert Tensor.broadcast_to is Tensor.expand


def test_the_exponents_gradient_at_base_zero_is_pytorchs():
    a = Tensor([0.0, 0.0, 0.0, 2.0])
    b = Tensor([2.0, 0.0, -1.0, 3.0], requires_grad=True)
    (a**b).sum().backward()
    assert b.grad.tolist() == [0.0, 0.0, -math.inf, 8 * math.log(2.0)]
