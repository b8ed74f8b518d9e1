"""Error-surface slices: directions, projection, both engines, bounds, weights untouched."""

import numpy as np
import pytest

import tinygrad_bp
from tinygrad_bp import Tensor, Value, cat, data
from tinygrad_bp.landscape import dataset_loss, surface
from tinygrad_bp.landscape.flat import flat_weights
from tinygrad_bp.losses import half_sse
from tinygrad_bp.nn import MLP, Linear, ReLU, Sequential, get_weights, set_weights, tensor_mlp

X, Y = data.xor()
XOR_J = dataset_loss(X, Y)


def parameters_data(model):
    return [np.copy(p.data) for p in model.parameters()]


def relu_net(rng=0):
    return Sequential(
        Linear(2, 3, rng=rng), ReLU(), Linear(3, 2, rng=rng + 1), ReLU(), Linear(2, 1, rng=rng + 2)
    )


def rescaled(net, layer, c):
    """Every unit of Linear number ``layer`` scaled by c (its column of W, its bias), the
    next Linear's matching rows divided by c: the same function for a ReLU net."""
    weights = get_weights(net)
    weights[layer] = weights[layer] * c
    weights[layer + 1][1:] = weights[layer + 1][1:] / c
    out = relu_net()
    set_weights(out, weights)
    return out


def test_filter_normalised_slice_ignores_relu_rescaling_and_unnormalised_does_not():
    net = relu_net()
    other = rescaled(rescaled(net, 0, 7.5), 1, 0.2)
    points = np.random.default_rng(1).normal(size=(20, 2))
    same = dataset_loss(points, points[:, 0] * points[:, 1])
    assert np.allclose(same(net).data, same(other).data, rtol=0, atol=1e-12)
    filtered = [surface(m, same, "filter", steps=21, span=1.0, rng=3) for m in (net, other)]
    assert np.max(np.abs(filtered[0].loss - filtered[1].loss)) < 1e-12
    plain = [surface(m, same, "random", steps=21, span=1.0, rng=3) for m in (net, other)]
    assert np.max(np.abs(plain[0].loss - plain[1].loss)) > 1e-2


def test_filter_directions_have_the_weights_norm_per_unit_and_no_bias():
    net = MLP(2, [3, 1], rng=4)
    s = surface(net, XOR_J, "filter", steps=3)
    layout, theta = flat_weights(net)
    for d in s.directions:
        for dw, w in zip(layout.matrices(d), layout.matrices(theta)):
            assert np.all(dw[0] == 0)
            assert np.allclose(np.linalg.norm(dw[1:], axis=0), np.linalg.norm(w[1:], axis=0))


def test_pca_coordinates_reproduce_a_path_in_a_plane():
    net = MLP(2, [3, 1], rng=5)
    _, theta = flat_weights(net)
    rng = np.random.default_rng(6)
    u, v = rng.normal(size=(2, theta.size))
    t = np.linspace(0, 1, 30)[:, None]
    path = theta + (1 - t) * (2 * u) + np.sin(3 * t) * v  # ends at the model's weights
    s = surface(net, XOR_J, "pca", steps=11, path=path)
    rebuilt = theta + s.path[:, :1] * s.directions[0] + s.path[:, 1:] * s.directions[1]
    assert np.max(np.abs(rebuilt - path)) < 1e-12
    assert np.max(s.path_offset) < 1e-12
    assert np.isclose(s.explained_variance.sum(), 1.0)
    assert s.explained_variance[0] >= s.explained_variance[1] > 0
    assert np.allclose(s.directions @ s.directions.T, np.eye(2))
    assert s.path[0, 0] < 0  # the path starts on the left


def test_batched_and_one_point_at_a_time_agree_on_both_engines():
    scalar = MLP(2, [2, 1], rng=7)
    tensor = tensor_mlp([2, 2, 1])
    set_weights(tensor, get_weights(scalar))
    by_model = [
        surface(scalar, lambda m: half_sse([m(list(x)) for x in X], Y), steps=9, rng=1),
        surface(tensor, lambda m: half_sse(m(X), Y[:, None]), steps=9, rng=1),
    ]
    batched = [surface(m, XOR_J, steps=9, rng=1) for m in (scalar, tensor)]
    for s in by_model + batched[1:]:
        assert np.max(np.abs(s.loss - batched[0].loss)) < 1e-12


def test_the_slice_is_the_loss_at_those_weights():
    net = MLP(2, [2, 1], rng=8)
    s = surface(net, XOR_J, ("layers.0.weight[0, 1]", "layers.1.bias[0]"), steps=5, span=3.0)
    check = MLP(2, [2, 1])
    layout, _ = flat_weights(check)
    set_weights(check, layout.matrices(s.weights_at(s.a[4], s.b[1])))
    assert abs(XOR_J(check).data - s.loss[1, 4]) < 1e-14
    moved = s.weights_at(s.a[4], s.b[1]) - s.center
    assert np.count_nonzero(moved) == 2
    assert s.loss[2, 2] == pytest.approx(XOR_J(net).data, abs=1e-15)


def test_the_path_is_evaluated_and_projected():
    net = MLP(2, [2, 1], rng=9)
    path = [get_weights(net)]
    for _ in range(3):
        weights = [w + 0.1 for w in path[-1]]
        path.append(weights)
    s = surface(net, XOR_J, "random", steps=5, path=path)
    assert s.path.shape == (4, 2) and s.path_loss.shape == (4,)
    assert s.path_loss[0] == pytest.approx(XOR_J(net).data, abs=1e-15)
    assert "path: 4 points" in repr(s)


def test_weights_are_left_exactly_as_they_were_even_after_an_error():
    net = tensor_mlp([2, 2, 1], rng=10)
    arrays = [p.data for p in net.parameters()]
    before = parameters_data(net)
    calls = []

    def failing(model):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return half_sse(model(X), Y[:, None])

    with pytest.raises(RuntimeError, match="boom"):
        surface(net, failing, steps=5)
    assert all(p.data is a for p, a in zip(net.parameters(), arrays))
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))
    scalar = MLP(2, [2, 1], rng=11)
    saved = [p.data for p in scalar.parameters()]
    surface(scalar, lambda m: half_sse(m([0.0, 1.0]), 1.0), steps=3)
    assert [p.data for p in scalar.parameters()] == saved


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 1}, ValueError, "steps"),
        ({"steps": 403}, ValueError, "steps"),
        ({"span": 0.0}, ValueError, "span"),
        ({"directions": "sideways"}, ValueError, "filter, random, pca"),
        ({"directions": "pca"}, ValueError, "path"),
        ({"directions": ("layers.0.weight[9, 9]", "layers.1.bias[0]")}, ValueError, "no weight"),
        ({"directions": ("layers.1.bias[0]", "layers.1.bias[0]")}, ValueError, "same weight"),
        ({"path": np.zeros((3, 4))}, ValueError, "9 numbers"),
        ({"directions": (np.ones(9), np.ones(9))}, ValueError, "independent"),
    ],
)
def test_bad_arguments_are_refused_with_the_model_unchanged(kwargs, error, message):
    net = MLP(2, [2, 1], rng=12)
    before = parameters_data(net)
    with pytest.raises(error, match=message):
        surface(net, XOR_J, **kwargs)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))


def test_filter_directions_at_the_origin_are_refused():
    net = MLP(2, [2, 1])
    set_weights(net, [np.zeros((3, 2)), np.zeros((3, 1))])
    with pytest.raises(ValueError, match="every weight is zero"):
        surface(net, XOR_J)


def test_a_too_large_slice_is_refused_before_any_work():
    net = tensor_mlp([64, 256, 256, 10])
    with pytest.raises(ValueError, match="limit"):
        surface(net, lambda m: 0.0, steps=401)


def test_an_even_grid_misses_the_centre_but_still_reports_its_loss():
    net = MLP(2, [2, 1], rng=15)
    s = surface(net, XOR_J, steps=4, span=1.0)
    assert s.loss.shape == (4, 4) and 0.0 not in s.a
    assert s.center_loss == pytest.approx(XOR_J(net).data, abs=1e-15)
    assert s.grid is s.loss


def test_the_result_reads():
    s = surface(MLP(2, [2, 1], rng=13), XOR_J, steps=5)
    text = repr(s)
    assert "filter directions, 5x5 grid" in text and "at the centre" in text


def test_eight_symmetric_copies_of_an_xor_solution_have_the_same_loss():
    from tinygrad_bp.landscape.xor_lab import descend

    start = np.random.default_rng(0).uniform(-1, 1, (20, 9))
    theta, _ = descend(start, 2, 0.5, 5000)
    layout, _ = flat_weights(MLP(2, [2, 1]))
    losses = XOR_J.batch(layout.matrices(theta), ("sigmoid", "sigmoid"))
    hidden, output = (m.copy() for m in layout.matrices(theta[np.argmin(losses)]))
    assert np.min(losses) < 0.01

    def flip(w1, w2, unit):
        w1, w2 = w1.copy(), w2.copy()
        w2[0] += w2[unit + 1]  # v s(-z) = v - v s(z): the output bias takes v
        w1[:, unit], w2[unit + 1] = -w1[:, unit], -w2[unit + 1]
        return w1, w2

    copies = []
    for swap in (False, True):
        w1, w2 = (hidden[:, ::-1], output[[0, 2, 1]]) if swap else (hidden, output)
        for flips in ((), (0,), (1,), (0, 1)):
            a, b = w1, w2
            for unit in flips:
                a, b = flip(a, b, unit)
            copies.append([a, b])
    nets = [MLP(2, [2, 1]) for _ in copies]
    for net, weights in zip(nets, copies):
        set_weights(net, weights)
    values = [XOR_J(net).data for net in nets]
    assert len({tuple(np.round(np.concatenate([w.ravel() for w in c]), 9)) for c in copies}) == 8
    assert max(values) - min(values) <= 1e-15


def origin_loss(w):
    """J of the 2-2-1 sigmoid net on XOR as a function of its 9 weights (a Tensor)."""
    xb = Tensor(np.hstack([np.ones((4, 1)), X]))
    hidden = (xb @ w[:6].reshape(3, 2)).sigmoid()
    out = (cat([Tensor(np.ones((4, 1))), hidden], axis=1) @ w[6:].reshape(3, 1)).sigmoid()
    return half_sse(out, Y[:, None])


def autograd_gradient(theta):
    w = Tensor(theta, requires_grad=True)
    J = origin_loss(w)
    J.backward()
    return J.item(), w.grad


def central_difference_hessian(theta, eps=1e-4):
    """Columns (g(theta + eps e_i) - g(theta - eps e_i)) / 2 eps of the autograd gradient."""
    return np.array(
        [
            (autograd_gradient(theta + e * eps)[1] - autograd_gradient(theta - e * eps)[1])
            / (2 * eps)
            for e in np.eye(len(theta))
        ]
    )


def test_the_origin_of_the_2_2_1_net_is_a_stationary_point_with_loss_one_half():
    """Hessian by central differences of the autograd gradient (an independent oracle)."""
    J, g = autograd_gradient(np.zeros(9))
    assert J == 0.5 and np.all(g == 0)
    hessian = central_difference_hessian(np.zeros(9))
    assert np.allclose(hessian, hessian.T, atol=1e-9)
    eigenvalues = np.linalg.eigvalsh((hessian + hessian.T) / 2)
    assert np.allclose(eigenvalues, [0] * 8 + [3 / 8], atol=1e-8)


def test_the_origin_hessian_by_double_backprop_has_eigenvalues_0_and_three_eighths():
    hessian = tinygrad_bp.hessian(origin_loss, Tensor(np.zeros(9), requires_grad=True))
    assert np.allclose(hessian, central_difference_hessian(np.zeros(9)), atol=1e-8)
    assert np.allclose(np.linalg.eigvalsh(hessian), [0] * 8 + [3 / 8], atol=1e-12)


def test_value_losses_are_read_as_numbers():
    s = surface(MLP(2, [1], rng=14), lambda: Value(1.0), steps=3)
    assert np.all(s.loss == 1.0)
