"""The XOR lab: its batched gradient against autograd, its classes, its bounds."""

import numpy as np
import pytest

from tinygrad_bp import data
from tinygrad_bp.landscape.flat import flat_weights
from tinygrad_bp.landscape.xor_lab import (
    CATEGORIES,
    hessian,
    loss_and_grad,
    lowest_nearby,
    xor_lab,
)
from tinygrad_bp.losses import half_sse
from tinygrad_bp.nn import MLP, set_weights

X, Y = data.xor()


@pytest.mark.parametrize("hidden", [1, 2, 3, 4])
def test_the_batched_gradient_is_the_autograd_gradient(hidden):
    thetas = np.random.default_rng(hidden).uniform(-3, 3, (5, 4 * hidden + 1))
    losses, grads = loss_and_grad(thetas, hidden)
    for theta, loss, gradient in zip(thetas, losses, grads):
        net = MLP(2, [hidden, 1])
        layout, _ = flat_weights(net)
        set_weights(net, layout.matrices(theta))
        J = half_sse([net(list(x)) for x in X], Y)
        J.backward()
        by_name = dict(net.named_parameters())
        autograd = np.array([by_name[name].grad for name in layout.names])
        assert abs(J.data - loss) < 1e-14
        assert np.max(np.abs(autograd - gradient)) < 1e-14


def test_the_origin_hessian_by_the_lab_has_eigenvalues_0_and_three_eighths():
    eigenvalues = np.linalg.eigvalsh(hessian(np.zeros(9), 2))
    assert np.allclose(eigenvalues, [0] * 8 + [3 / 8], atol=1e-9)


def test_the_origin_is_a_saddle_though_its_hessian_is_positive_semidefinite():
    for radius in (0.5, 0.25):
        lowest, where = lowest_nearby(np.zeros(9), 2, radius, starts=50, iterations=500)
        assert lowest < 0.5
        assert np.isclose(np.linalg.norm(where), radius)
        assert loss_and_grad(where[None], 2)[0][0] == pytest.approx(lowest, abs=1e-15)


def test_runs_are_classified_by_the_stated_rules():
    lab = xor_lab(hidden=(2, 3), seeds=40, steps=10_000, lr=0.5)
    for runs in lab.runs.values():
        assert sum(runs.count(name) for name in CATEGORIES) == 40
        solved = runs.category == "solved"
        assert np.all(runs.loss[solved] < 0.01)
        for name, level in (("valley 1/4", 0.25), ("valley 1/3", 1 / 3)):
            chosen = runs.category == name
            assert np.all(np.abs(runs.loss[chosen] - level) < 1e-3)
            assert np.all(runs.norm_end[chosen] > runs.norm_half[chosen])
    assert lab.runs[2].count("valley 1/4") > 0  # 2-2-1 gets stuck from these starts
    assert lab.runs[2].count("solved") > lab.runs[2].count("valley 1/4")
    text = repr(lab)
    for fact in ("U(-1, 1)", "alpha = 0.5", "10,000 steps", "J < 0.01", "2-3-1"):
        assert fact in text


def test_the_lab_is_reproducible():
    one, two = (xor_lab(hidden=(2,), seeds=5, steps=100) for _ in range(2))
    assert np.array_equal(one.runs[2].theta, two.runs[2].theta)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seeds": 0}, "seeds"),
        ({"hidden": ()}, "hidden"),
        ({"hidden": (0,)}, "hidden"),
        ({"lr": -1.0}, "lr"),
        ({"steps": 10**9}, "steps"),
        ({"init": 0.0}, "init"),
    ],
)
def test_bad_recipes_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        xor_lab(**kwargs)
