"""The property at the heart of the project: autograd agrees with the derivation.

For random sigmoid networks (1-4 layers, widths 1-6), weights, inputs and
targets, the gradients that reverse-mode autograd computes for
J = 1/2 sum (y - o)^2 equal the closed-form delta rules of ``tinygrad_bp.delta``
(plain numpy, no autograd): dJ/dw = -Delta w / lr. One SGD step equals
``delta.sgd_step``. Both engines are checked; the tensor one on whole batches,
where the closed form is summed over the examples.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from strategies import sigmoid_networks
from tutorial_figures import TUTORIAL_FIGURES

from tinygrad_bp import delta
from tinygrad_bp.losses import half_sse
from tinygrad_bp.nn import MLP, Linear, Sequential, Sigmoid, get_weights, set_weights
from tinygrad_bp.optim import SGD

LR = 0.5
TOL = 1e-9


def scalar_net(sizes, weights):
    net = MLP(sizes[0], sizes[1:])
    set_weights(net, weights)
    return net


def tensor_net(sizes, weights):
    layers = []
    for nin, nout in zip(sizes, sizes[1:]):
        layers += [Linear(nin, nout), Sigmoid()]
    net = Sequential(*layers)
    set_weights(net, weights)
    return net


def scalar_gradients(net):
    """dJ/dw for every layer, in the (n_in + 1, n_out) convention (bias row first)."""
    return [
        np.array([[n.b.grad, *(w.grad for w in n.w)] for n in layer.neurons]).T
        for layer in net.layers
    ]


def tensor_gradients(net):
    linears = [layer for layer in net.layers if isinstance(layer, Linear)]
    return [np.vstack([lin.bias.grad, lin.weight.grad]) for lin in linears]


def closed_form_gradients(weights, x, y):
    """dJ/dw = -Delta w / lr from the delta rules, for one example."""
    activations = delta.forward(weights, x)
    updates = delta.weight_updates(activations, delta.deltas(weights, activations, y), LR)
    return [-update / LR for update in updates]


@given(sigmoid_networks())
def test_scalar_autograd_gradients_equal_the_delta_rules(network):
    sizes, weights, X, Y = network
    net = scalar_net(sizes, weights)
    half_sse(net(X[0].tolist()), Y[0].reshape(-1) if sizes[-1] > 1 else Y[0, 0]).backward()
    for ours, theirs in zip(scalar_gradients(net), closed_form_gradients(weights, X[0], Y[0])):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


@given(sigmoid_networks())
def test_one_scalar_sgd_step_equals_the_closed_form_step(network):
    sizes, weights, X, Y = network
    net = scalar_net(sizes, weights)
    optimizer = SGD(net.parameters(), lr=LR)
    optimizer.zero_grad()
    half_sse(net(X[0].tolist()), Y[0].reshape(-1) if sizes[-1] > 1 else Y[0, 0]).backward()
    optimizer.step()
    for ours, theirs in zip(get_weights(net), delta.sgd_step(weights, X[0], Y[0], LR)):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


@given(sigmoid_networks(max_batch=5))
def test_tensor_gradients_equal_the_delta_rules_summed_over_the_batch(network):
    sizes, weights, X, Y = network
    net = tensor_net(sizes, weights)
    half_sse(net(X), Y).backward()
    per_example = [closed_form_gradients(weights, x, y) for x, y in zip(X, Y)]
    for layer, ours in enumerate(tensor_gradients(net)):
        theirs = sum(example[layer] for example in per_example)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


@given(sigmoid_networks(max_batch=4))
def test_scalar_and_tensor_networks_agree_on_outputs_and_gradients(network):
    sizes, weights, X, Y = network
    scalar, tensor = scalar_net(sizes, weights), tensor_net(sizes, weights)
    out = tensor(X)
    half_sse(out, Y).backward()
    for x, y, row in zip(X, Y, out.data):
        o = scalar(x.tolist())
        o = [o] if sizes[-1] == 1 else o
        np.testing.assert_allclose([v.data for v in o], row, rtol=0, atol=TOL)
        half_sse(o, y).backward()  # gradients add up over the batch, as the tensor sums
    for ours, theirs in zip(scalar_gradients(scalar), tensor_gradients(tensor)):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_the_worked_example_by_autograd_matches_the_hand_derivation_and_the_tutorial():
    """The tutorial's one-step example (input x1 = 1, x2 = 0, target 1, lr 0.5)."""
    weights = [np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]), np.array([[1.0], [0.3], [0.4]])]
    net = scalar_net([2, 2, 1], weights)
    hidden = net.layers[0]([1.0, 0.0])
    o = net.layers[1](hidden)
    J = half_sse(o, 1.0)
    J.backward()
    SGD(net.parameters(), lr=LR).step()
    new_hidden, new_output = get_weights(net)
    ours = {
        "h1": hidden[0].data,
        "h2": hidden[1].data,
        "o": o.data,
        "J": J.data,
        "delta_out": -o.children[0].grad,  # delta = -dJ/dz, read off the net-input node
        "delta_h1": -hidden[0].children[0].grad,
        "delta_h2": -hidden[1].children[0].grad,
        "w0_out": new_output[0, 0],
        "w1_out": new_output[1, 0],
        "w2_out": new_output[2, 0],
        "w0_h1": new_hidden[0, 0],
        "w0_h2": new_hidden[0, 1],
        "w11": new_hidden[1, 0],
        "w12": new_hidden[1, 1],
        "w21": new_hidden[2, 0],
        "w22": new_hidden[2, 1],
    }
    # The derivation by hand, with math.exp: an oracle independent of the library.
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h1, h2 = sig(1.0 + 0.25), sig(1.0 + 0.15)
    out = sig(1.0 + 0.3 * h1 + 0.4 * h2)
    d_out = out * (1 - out) * (1 - out)
    d_h1, d_h2 = h1 * (1 - h1) * 0.3 * d_out, h2 * (1 - h2) * 0.4 * d_out
    exact = {
        "h1": h1,
        "h2": h2,
        "o": out,
        "J": 0.5 * (1 - out) ** 2,
        "delta_out": d_out,
        "delta_h1": d_h1,
        "delta_h2": d_h2,
        "w0_out": 1 + LR * d_out,
        "w1_out": 0.3 + LR * d_out * h1,
        "w2_out": 0.4 + LR * d_out * h2,
        "w0_h1": 1 + LR * d_h1,
        "w0_h2": 1 + LR * d_h2,
        "w11": 0.25 + LR * d_h1,
        "w12": 0.15 + LR * d_h2,
        "w21": 0.2,
        "w22": 0.1,
    }
    for name, value in exact.items():
        assert ours[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
    # The tutorial's printed figures, each within the rounding it carried forward.
    for name, (figure, rounding) in TUTORIAL_FIGURES.items():
        assert abs(ours[name] - figure) <= rounding, name
