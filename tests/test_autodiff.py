"""Higher-order gradients: ``grad``, ``hvp``, ``hessian`` and ``gradcheck(order=2)``.

Oracles: second differences of the function itself (gradcheck order 2), closed
forms worked out by hand (DeZero's double backprop, Newton's method on
x^4 - 2x^2, the derivatives of tanh as polynomials in tanh), and PyTorch's double
backward where torch is installed. Nothing is checked against the code under test.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from user_ops import user_sin

import tinygrad_bp as tbp
from tinygrad_bp import Tensor, Value, gradcheck, losses, nn
from tinygrad_bp import functions as F
from tinygrad_bp.autodiff import HESSIAN_LIMIT
from tinygrad_bp.tensor import _apply
from tinygrad_bp.testing import CATALOGUE, broadcastable_shapes, programs

TENSOR_OPS = [op for op in CATALOGUE if op.tensor]
SCALAR_OPS = [op for op in CATALOGUE if op.scalar]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the double-backward oracle here")


# -- grad: first order, as backward() computes it, without touching .grad -------------------


def test_grad_equals_backward_and_leaves_every_grad_alone():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 4)), requires_grad=True)
    loss = ((x @ w).tanh() * (x @ w).sigmoid()).sum()
    gx, gw = tbp.grad(loss, [x, w])
    assert x.grad is None and w.grad is None
    loss.backward()
    np.testing.assert_array_equal(gx.data, x.grad)
    np.testing.assert_array_equal(gw.data, w.grad)
    assert not gx.requires_grad and not gw.requires_grad  # constants without create_graph


def test_grad_output_seeds_a_non_scalar_output():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = tbp.grad(x * x, x, grad_output=np.array([1.0, 10.0]))
    assert g.tolist() == [2.0, 40.0]  # u * 2x


def test_an_input_the_output_does_not_depend_on_gets_zeros_of_its_shape():
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([[3.0]], requires_grad=True)
    gx, gy = tbp.grad((x * 2).sum(), [x, y])
    assert gx.tolist() == [2.0, 2.0] and gy.tolist() == [[0.0]]
    (g,) = tbp.grad(Tensor(1.0) * 3, Tensor([5.0]))  # nothing requires grad at all
    assert g.tolist() == [0.0]


def test_grad_keeps_float32():
    x = Tensor(np.array([0.5, -1.0], np.float32), requires_grad=True)
    (g,) = tbp.grad((x.tanh() * 2.0).sum(), x, create_graph=True)
    (h,) = tbp.grad(g.sum(), x)
    assert g.dtype == np.float32 and h.dtype == np.float32
    t = np.tanh(np.array([0.5, -1.0]))
    np.testing.assert_allclose(h.data, 2 * -2 * t * (1 - t * t), rtol=1e-5)


def test_grad_errors_name_the_problem():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="input 1 must be a Value or a Tensor.*float"):
        tbp.grad((x * x).sum(), [x, 3.0])
    with pytest.raises(TypeError, match="output must be a Value or a Tensor"):
        tbp.grad(3.0, x)
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        tbp.grad(x * x, x)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):  # the same error is a ValueError too
        tbp.grad(x * x, x)
    with pytest.raises(ValueError, match=r"grad_output of shape \(3,\) for an output of shape"):
        tbp.grad(x * x, x, grad_output=np.ones(3))
    with pytest.raises(TypeError, match="one graph holds one engine"):
        tbp.grad((x * x).sum(), Value(1.0))


# -- second order on Tensors: every catalogue op, composites, the mutant ---------------------


def _squared_sum(op, numbers):
    """J = sum(y + y * y / 2) with y = op(...): its Hessian sees both the op's own second
    derivative and its first (through y * y), so the rule's dependence on g counts."""
    ours = op.with_numbers(op.ours, numbers)

    def f(*tensors):
        y = ours(*tensors)
        return (y + y * y * 0.5).sum()

    return f


@pytest.mark.parametrize("op", TENSOR_OPS, ids=[op.name for op in TENSOR_OPS])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_tensor_op_of_the_catalogue_is_right_to_second_order(op, data):
    shapes = data.draw(broadcastable_shapes(len(op.values), min_dims=op.min_dims, max_side=3))
    tensors = [
        Tensor(np.reshape([data.draw(arg.strategy()) for _ in range(math.prod(shape))], shape))
        for shape, arg in zip(shapes.input_shapes, op.values, strict=True)
    ]
    numbers = [data.draw(arg.strategy()) for arg in op.numbers]
    report = gradcheck(_squared_sum(op, numbers), tensors, order=2)
    assert report, str(report)


COMPOSITES = {
    "softmax(axis=0)": lambda x: (x.softmax(axis=0) * Tensor([[1.0, -2.0, 0.5]])).sum(),
    "log_softmax": lambda x: (x.log_softmax() ** 2).sum(),
    "cross_entropy": lambda x: losses.cross_entropy(x, [2, 0]),
    "binary_cross_entropy": lambda x: losses.binary_cross_entropy(x.sigmoid(), np.eye(2, 3)),
    "bce_from_logits": lambda x: losses.binary_cross_entropy(x, np.eye(2, 3), from_logits=True),
    "half_sse": lambda x: losses.half_sse(x.tanh(), np.ones((2, 3))),
    "mse": lambda x: losses.mse(x.exp(), np.ones((2, 3))),
    "affine": lambda x: (
        x.T.affine(Tensor([[1.0, 2.0], [0.5, -1.0]]), Tensor([0.1, 0.2])).sigmoid().sum()
    ),
    "matmul_vectors": lambda x: (x[0] @ x[1]) ** 2 + ((x @ x[0]) ** 2).sum(),
    "max_min": lambda x: x.max(axis=1).exp().sum() + (x.min() ** 3),
    "std": lambda x: x.std(axis=0).sum() ** 2,
    "indexing": lambda x: (x[[0, 0, 1], [2, 2, 1]] ** 3).sum() + (x[:, 1:] ** 2).sum(),
    "cat_stack": lambda x: (
        (tbp.cat([x, x * x], axis=1) ** 2).sum() + (tbp.stack([x, x.exp()], axis=2) ** 2).sum()
    ),
    "where_clip_abs": lambda x: (
        (tbp.where(x.data > 0, x**2, x.exp()).clip(-3.0, 2.0) ** 2).sum() + (x.abs() ** 3).sum()
    ),
    "sqrt_relu": lambda x: ((x * x + 1).sqrt() * (x + 0.05).relu() ** 2).sum(),
    "expand_mean_var": lambda x: (x.expand(2, 2, 3) ** 2).mean() * x.var(axis=1).sum(),
}


@pytest.mark.parametrize("name", list(COMPOSITES))
def test_composites_are_right_to_second_order(name):
    x = Tensor([[0.3, -1.2, 0.8], [1.1, 0.45, -0.7]])
    report = gradcheck(COMPOSITES[name], x, order=2)
    assert report, str(report)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_a_tensor_mlp_loss_is_right_to_second_order(activation):
    model = nn.Sequential(
        nn.Linear(2, 3, rng=0), nn.get_activation(activation).module(), nn.Linear(3, 1, rng=1)
    )
    X, y = Tensor([[0.2, -0.4], [1.0, 0.3], [-0.6, 0.9]]), np.array([[0.5], [1.0], [0.0]])
    for p in model.parameters():
        p.data += 0.05  # keep relu's units off their kink at these inputs
    report = gradcheck(lambda *params: losses.half_sse(model(X), y), model.parameters(), order=2)
    assert report, str(report)


class WrongTanh(F.Tanh):
    """tanh with its derivative written 1 - y instead of 1 - y^2: right at 0, to first order."""

    def backward(ctx, g, ops=F.ArrayOps):
        return (g * (1 - ctx.y),)


def test_gradcheck_order_2_catches_a_rule_whose_second_derivative_alone_is_wrong():
    x = Tensor([0.0, 0.0, 0.0])
    f = lambda x: _apply(WrongTanh, x).sum()  # noqa: E731
    assert gradcheck(f, x)  # the first derivative is right at 0...
    report = gradcheck(f, x, order=2)  # ...the second is -1 where it should be 0
    assert not report
    assert abs(report.numeric) < 1e-6 and abs(report.analytic) > 0.1
    assert gradcheck(lambda x: x.tanh().sum(), x, order=2)  # the real rule passes


def test_gradcheck_order_must_be_1_or_2():
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        gradcheck(lambda x: x * x, Value(1.0), order=3)


# -- closed forms ----------------------------------------------------------------------------


def test_double_backprop_of_dezero_gives_100():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    (dy,) = tbp.grad(y, x, create_graph=True)  # dy/dx = 2x
    z = dy**3 + y  # z = 8 x^3 + x^2
    (dz,) = tbp.grad(z, x)
    assert dz.item() == 100.0  # 24 x^2 + 2x at x = 2


NEWTON = [2.0, 1.4545454545454546, 1.1510467893775467, 1.0253259289766978,
          1.0009084519430513, 1.0000012353089454, 1.000000000002289, 1.0]  # fmt: skip


def test_newtons_method_on_a_quartic_visits_the_closed_form_iterates():
    closed_form = [2.0]  # x - f'/f'' with f' = 4x^3 - 4x, f'' = 12x^2 - 4, in plain floats
    for _ in range(7):
        x = closed_form[-1]
        closed_form.append(x - (4 * x**3 - 4 * x) / (12 * x**2 - 4))
    np.testing.assert_allclose(closed_form, NEWTON, rtol=0, atol=1e-15)
    x, visited = Tensor(2.0, requires_grad=True), [2.0]
    for _ in range(7):
        (slope,) = tbp.grad(x**4 - 2 * x**2, x, create_graph=True)
        (curvature,) = tbp.grad(slope, x)
        x = Tensor(x.data - slope.data / curvature.data, requires_grad=True)
        visited.append(x.item())
    np.testing.assert_allclose(visited, closed_form, rtol=0, atol=1e-15)


def tanh_derivative_polynomials(n):
    """p_k with d^k/dx^k tanh x = p_k(tanh x): p_0 = t, p_{k+1} = (1 - t^2) p_k'."""
    polys = [np.polynomial.Polynomial([0.0, 1.0])]
    one_minus_t2 = np.polynomial.Polynomial([1.0, 0.0, -1.0])
    for _ in range(n):
        polys.append(one_minus_t2 * polys[-1].deriv())
    return polys[1:]


def test_the_first_six_derivatives_of_tanh_are_its_polynomials_in_tanh():
    polys = tanh_derivative_polynomials(6)
    assert polys[1].coef.tolist() == [0.0, -2.0, 0.0, 2.0]  # tanh'' = -2t + 2t^3
    points = np.array([-1.3, -0.2, 0.0, 0.4, 0.9])
    x = Tensor(points, requires_grad=True)
    derivative = x.tanh()
    t = np.tanh(points)
    for k, poly in enumerate(polys, start=1):
        (derivative,) = tbp.grad(derivative.sum(), x, create_graph=True)  # elementwise: exact
        np.testing.assert_allclose(derivative.data, poly(t), rtol=1e-12, atol=1e-12, err_msg=k)


def test_backward_through_a_gradient_gives_the_gradient_penalty_its_gradient():
    """d/dw |dJ/dw|^2 = 2 H g: backward() and .grad keep their meaning on a grad graph."""
    w = Tensor([0.4, -0.7, 1.1], requires_grad=True)
    f = lambda w: (w.tanh() * w.exp()).sum() + (w[0] * w[2]) ** 2  # noqa: E731
    (g,) = tbp.grad(f(w), w, create_graph=True)
    (g * g).sum().backward()
    expected = 2 * tbp.hessian(f, w) @ g.data
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)


def test_grad_of_an_interior_node_and_a_seed_that_requires_grad():
    x = Tensor([0.5, -1.5], requires_grad=True)
    h = x.exp()
    out = h * h  # d out / d h = 2h, elementwise
    u = Tensor([1.0, 3.0], requires_grad=True)
    gh, gx = tbp.grad(out, [h, x], grad_output=u, create_graph=True)
    np.testing.assert_allclose(gh.data, 2 * h.data * u.data)
    # the vector-Jacobian product is linear in u: its gradient in u along v is J v
    v = np.array([0.25, -2.0])
    (jv,) = tbp.grad((gx * Tensor(v)).sum(), u)
    np.testing.assert_allclose(jv.data, 2 * np.exp(2 * x.data) * v, rtol=1e-14)


def test_hessian_and_hvp_of_values():
    a, b = Value(0.5), Value(2.0)
    f = lambda a, b: a**3 * b + (a * b).exp()  # noqa: E731
    e = math.exp(1.0)  # at ab = 1
    expected = np.array([[6 * 0.5 * 2.0 + 4.0 * e, 3 * 0.25 + (1 + 1.0) * e], [0.0, 0.25 * e]])
    expected[1, 0] = expected[0, 1]
    np.testing.assert_allclose(tbp.hessian(f, [a, b]), expected, rtol=1e-14)
    products = tbp.hvp(f, [a, b], [1.0, -1.0])
    np.testing.assert_allclose([p.data for p in products], expected @ [1.0, -1.0], rtol=1e-14)
    assert (a.grad, b.grad) == (0.0, 0.0)


# -- hvp and hessian ------------------------------------------------------------------------


def test_hessian_of_a_quadratic_form_is_the_symmetrised_matrix():
    A = np.array([[2.0, 1.0, 0.0], [3.0, -1.0, 0.5], [0.0, 4.0, 1.0]])
    H = tbp.hessian(lambda x: x @ Tensor(A) @ x, Tensor([0.3, -0.2, 1.0], requires_grad=True))
    np.testing.assert_allclose(H, A + A.T, atol=1e-14)


def test_hvp_equals_the_hessian_times_the_vector_for_several_parameters():
    rng = np.random.default_rng(3)
    a = Tensor(rng.normal(size=3), requires_grad=True)
    b = Tensor(rng.normal(size=(2,)), requires_grad=True)
    f = lambda a, b: ((a.sigmoid().sum() * b.tanh()) ** 2).sum() + (a * a * a).sum()  # noqa: E731
    v = [rng.normal(size=3), rng.normal(size=2)]
    H = tbp.hessian(f, [a, b])  # checked itself against second differences by gradcheck below
    assert gradcheck(f, [a, b], order=2)
    products = tbp.hvp(f, [a, b], v)
    np.testing.assert_allclose(np.concatenate([p.data for p in products]), H @ np.concatenate(v))
    assert a.grad is None and b.grad is None


def test_hessian_refuses_inputs_too_large_and_inputs_without_a_graph():
    big = Tensor(np.zeros(HESSIAN_LIMIT + 1), requires_grad=True)
    with pytest.raises(ValueError, match=f"{HESSIAN_LIMIT + 1} elements.*use hvp"):
        tbp.hessian(lambda x: (x * x).sum(), big)
    with pytest.raises(ValueError, match="input 0 does not require grad"):
        tbp.hessian(lambda x: (x * x).sum(), Tensor([1.0]))
    with pytest.raises(ValueError, match=r"f must return a scalar.*\(2,\)"):
        tbp.hessian(lambda x: x * x, Tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(ValueError, match="one entry per parameter"):
        tbp.hvp(lambda a, b: a * b, [Value(1.0), Value(2.0)], 1.0)
    with pytest.raises(ValueError, match="vector of shape"):
        tbp.hvp(lambda x: (x * x).sum(), Tensor([1.0, 2.0], requires_grad=True), np.ones(3))


# -- PyTorch's double backward as the oracle ---------------------------------------------------


def _torch_hessian(torch, f, points):
    xs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in points]
    gradients = torch.autograd.grad(f(*xs), xs, create_graph=True, materialize_grads=True)
    flat = torch.cat([g.reshape(-1) for g in gradients])
    rows = []
    for entry in flat:
        if entry.requires_grad:
            row = torch.autograd.grad(entry, xs, retain_graph=True, allow_unused=True)
            rows.append(
                np.concatenate(
                    [
                        np.zeros(np.size(p)) if r is None else r.detach().numpy().ravel()
                        for r, p in zip(row, points, strict=True)
                    ]
                )
            )
        else:
            rows.append(np.zeros(flat.numel()))
    return np.array(rows)


@settings(max_examples=40, deadline=None)
@given(program=programs(n_inputs=3, max_steps=10))
def test_random_expressions_have_pytorchs_hessian(torch, program):
    points = [np.array(x) for x in program.inputs]
    ours = tbp.hessian(program.output, [Tensor(p, requires_grad=True) for p in points])
    theirs = _torch_hessian(torch, program.output, points)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


def _mlp_loss(activation, X, y):
    """J = 1/2 sum (y - o)^2 of a 2-layer MLP, written once for both frameworks."""

    def loss(W1, b1, W2, b2):
        hidden = getattr(X @ W1 + b1, activation)()
        out = (hidden @ W2 + b2).sigmoid()
        return ((out - y) ** 2).sum() * 0.5

    return loss


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), hidden=st.integers(1, 4))
def test_small_mlps_have_pytorchs_hessian_vector_products(torch, activation, seed, hidden):
    rng = np.random.default_rng(seed)
    shapes = [(2, hidden), (hidden,), (hidden, 1), (1,)]
    points = [rng.normal(size=s) for s in shapes]
    vector = [rng.normal(size=s) for s in shapes]
    X, y = rng.normal(size=(4, 2)), rng.uniform(size=(4, 1))
    params = [Tensor(p, requires_grad=True) for p in points]
    ours = tbp.hvp(_mlp_loss(activation, Tensor(X), Tensor(y)), params, vector)
    xs = [torch.tensor(p, requires_grad=True) for p in points]
    f = _mlp_loss(activation, torch.tensor(X), torch.tensor(y))
    gradients = torch.autograd.grad(f(*xs), xs, create_graph=True)
    dot = sum((g * torch.tensor(v)).sum() for g, v in zip(gradients, vector, strict=True))
    theirs = torch.autograd.grad(dot, xs)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.data, reference.numpy(), rtol=1e-9, atol=1e-12)


def test_third_derivatives_agree_with_pytorch(torch):
    points = np.array([0.3, -0.8])
    f = lambda x: (x.sigmoid() * x.exp() + x.log_softmax(dim=-1) * x).sum()  # noqa: E731
    x = Tensor(points, requires_grad=True)
    (g,) = tbp.grad(f(x), x, create_graph=True)
    (h,) = tbp.grad(g[0], x, create_graph=True)
    (third,) = tbp.grad(h[1], x)
    t = torch.tensor(points, requires_grad=True)
    (tg,) = torch.autograd.grad(f(t), t, create_graph=True)
    (th,) = torch.autograd.grad(tg[0], t, create_graph=True)
    (tthird,) = torch.autograd.grad(th[1], t)
    np.testing.assert_allclose(third.data, tthird.numpy(), rtol=1e-10, atol=1e-12)


# -- the scalar engine -----------------------------------------------------------------------


def _scalar_squared(op, numbers):
    """J = y + y * y / 2 with y = op(...), on Values (as _squared_sum on Tensors)."""
    ours = op.with_numbers(op.ours, numbers)

    def f(*values):
        y = ours(*values)
        return y + y * y * 0.5

    return f


@pytest.mark.parametrize("op", SCALAR_OPS, ids=[op.name for op in SCALAR_OPS])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_scalar_op_of_the_catalogue_is_right_to_second_order(op, data):
    values = [Value(data.draw(arg.strategy())) for arg in op.values]
    numbers = [data.draw(arg.strategy()) for arg in op.numbers]
    report = gradcheck(_scalar_squared(op, numbers), values, order=2)
    assert report, str(report)
    assert all(v.grad == 0.0 for v in values)


def test_value_grad_leaves_grads_alone_and_equals_backward():
    a, b = Value(0.7), Value(-1.3)
    out = (a * b).tanh() * a.exp() + (b**2).sigmoid() / a
    ga, gb = tbp.grad(out, [a, b])
    assert (a.grad, b.grad) == (0.0, 0.0)
    out.backward()
    assert (ga.data, gb.data) == (a.grad, b.grad)
    assert ga.children == () and gb.children == ()  # constants without create_graph


def test_scalar_newton_and_the_derivatives_of_tanh():
    x, visited = Value(2.0), [2.0]
    for _ in range(7):
        (slope,) = tbp.grad(x**4 - 2 * x**2, x, create_graph=True)
        (curvature,) = tbp.grad(slope, x)
        x = Value(x.data - slope.data / curvature.data)
        visited.append(x.data)
    np.testing.assert_allclose(visited, NEWTON, rtol=0, atol=1e-15)
    for point in (-1.3, 0.0, 0.4):
        x = Value(point)
        derivative = x.tanh()
        for k, poly in enumerate(tanh_derivative_polynomials(6), start=1):
            (derivative,) = tbp.grad(derivative, x, create_graph=True)
            expected = poly(math.tanh(point))
            assert derivative.data == pytest.approx(expected, rel=1e-12, abs=1e-12), k


SCALAR_LOSSES = {
    "half_sse": lambda out: losses.half_sse(out, [0.3, -0.2]),
    "mse": lambda out: losses.mse(out, [0.3, -0.2]),
    "binary_cross_entropy": lambda out: losses.binary_cross_entropy(
        [o.sigmoid() for o in out], [1.0, 0.0]
    ),
    "bce_from_logits": lambda out: losses.binary_cross_entropy(out, [1.0, 0.0], from_logits=True),
    "cross_entropy": lambda out: losses.cross_entropy([out], [1]),
}


@pytest.mark.parametrize("loss", list(SCALAR_LOSSES))
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_a_scalar_mlp_and_its_losses_are_right_to_second_order(activation, loss):
    net = nn.MLP(2, [3, 2], activation=activation, output_activation="linear", rng=0)
    x = [0.4, -0.9]
    report = gradcheck(lambda *params: SCALAR_LOSSES[loss](net(x)), net.parameters(), order=2)
    assert report, str(report)


def test_a_closure_node_works_to_first_order_and_is_refused_to_second():
    x = Value(0.6)
    out = user_sin(x * x) * 3
    (g,) = tbp.grad(out, x)
    assert g.data == pytest.approx(3 * math.cos(0.36) * 1.2, rel=1e-15)
    assert x.grad == 0.0
    with pytest.raises(ValueError, match="closure.*cannot be differentiated twice"):
        tbp.grad(out, x, create_graph=True)


@settings(max_examples=40, deadline=None)
@given(program=programs(n_inputs=3, max_steps=10))
def test_random_scalar_expressions_have_pytorchs_hessian(torch, program):
    ours = tbp.hessian(program.output, [Value(x) for x in program.inputs])
    theirs = _torch_hessian(torch, program.output, [np.array(x) for x in program.inputs])
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


# -- trace --------------------------------------------------------------------------------------


def test_trace_of_a_step_that_calls_grad_with_create_graph_compiles_or_refuses_saying_why():
    """A gradient penalty J + |dJ/dw|^2: the step is either exact or refused up front."""
    w = Tensor([[0.5, -0.3], [0.2, 0.8]], requires_grad=True)

    def penalised(x):
        loss = ((x @ w).tanh() ** 2).sum()
        (slope,) = tbp.grad(loss, w, create_graph=True)
        return loss + (slope * slope).sum()

    try:
        step = tbp.trace(penalised, Tensor([[1.0, 2.0]]))
    except ValueError as error:
        assert str(error).startswith("trace:"), str(error)  # refused, naming why
        assert w.grad is None
        return
    x = Tensor([[0.3, -1.0]])
    traced_loss = step(x)
    traced_grad, w.grad = w.grad.copy(), None
    eager = penalised(x)
    eager.backward()
    assert traced_loss == pytest.approx(eager.item(), rel=1e-12)
    np.testing.assert_allclose(traced_grad, w.grad, rtol=1e-12)


def test_second_order_inside_no_grad_records_what_it_differentiates():
    # As torch: the gradient's own graph is recorded even inside no_grad().
    # Oracles: f = sum x^3 has H = diag(6x); f = v^3 has f'' = 6v.
    x = Tensor([1.0, 2.0], requires_grad=True)
    v = Value(3.0)
    cube = v * v * v  # recorded outside; its gradient is taken inside
    with tbp.no_grad():
        (product,) = tbp.hvp(lambda x: (x**3).sum(), x, [1.0, 1.0])
        matrix = tbp.hessian(lambda v: v**3, Value(2.0))
        (slope,) = tbp.grad(cube, [v], create_graph=True)  # 3 v^2, itself a node
        assert tbp.gradcheck(lambda t: (t**3).sum(), (Tensor([0.5, 1.5]),), order=2)
    assert product.tolist() == [6.0, 12.0] and matrix.tolist() == [[12.0]]
    assert slope.data == 27.0 and tbp.grad(slope, [v])[0].data == 18.0
