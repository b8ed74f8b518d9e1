"""Traced steps (``tinygrad_bp.trace``) against the eager engine and the closed-form delta rules.

The oracle of every property is independent of the generated code: the eager
engine's ``backward()`` on a fresh graph (same parameters, same inputs), or the
derivation's delta rules in ``tinygrad_bp.delta``. Agreement is asserted to 1e-12
relative (the generated code performs the eager operations in the same order,
so in practice the numbers are identical).
"""

import gc
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import finite, sigmoid_networks

from tinygrad_bp import Tensor, Value, delta, losses, trace
from tinygrad_bp.graph import toposort
from tinygrad_bp.nn import MLP, set_weights, tensor_mlp
from tinygrad_bp.optim import SGD, Adam
from tinygrad_bp.testing import programs
from tinygrad_bp.tracing.tape import COMPILE_AT, TAPE_FROM
from tinygrad_bp.train import fit

RTOL = 1e-12


def assert_same(traced, eager):
    """Equal to 1e-12 relative (nan where eager is nan, the same infinities)."""
    traced, eager = np.asarray(traced), np.asarray(eager)
    assert traced.shape == eager.shape
    np.testing.assert_allclose(traced, eager, rtol=RTOL, atol=0.0, equal_nan=True)


def grads(params):
    return [np.array(p.grad, dtype=np.float64, copy=True) for p in params]


# -- scalar engine: random expressions ------------------------------------------------------


@given(programs(), st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_a_traced_expression_equals_the_eager_one(program, new_inputs):
    xs = [Value(x) for x in program.inputs]
    step = trace(program.output, *xs)
    for point in (program.inputs, new_inputs):
        traced_inputs = [Value(x) for x in point]
        loss = step(*traced_inputs)
        eager_inputs = [Value(x) for x in point]
        eager = program.output(*eager_inputs)
        eager.backward()
        assert_same(loss, eager.data)
        assert_same([x.grad for x in traced_inputs], [x.grad for x in eager_inputs])


@given(programs(n_inputs=3), st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=1))
def test_parameters_and_plain_number_inputs_are_told_apart(program, new_input):
    """Two inputs become parameters (captured Values), the third a plain-number argument."""
    p = [Value(program.inputs[0]), Value(program.inputs[1])]
    step = trace(lambda x: program.output(p[0], p[1], Value(x)), program.inputs[2])
    loss = step(new_input[0])
    traced_grads = [q.grad for q in p]
    q = [Value(program.inputs[0]), Value(program.inputs[1])]
    eager = program.output(q[0], q[1], Value(new_input[0]))
    eager.backward()
    assert_same(loss, eager.data)
    assert_same(traced_grads, [v.grad for v in q])


# -- scalar engine: random MLPs and the delta rules -------------------------------------------

ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear"]


@st.composite
def scalar_mlps(draw):
    nin = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    activation = draw(st.sampled_from(ACTIVATIONS))
    seed = draw(st.integers(0, 2**16))
    rows = draw(st.lists(st.lists(finite, min_size=nin, max_size=nin), min_size=2, max_size=3))
    targets = draw(
        st.lists(
            st.lists(st.floats(0.0, 1.0), min_size=widths[-1], max_size=widths[-1]),
            min_size=len(rows),
            max_size=len(rows),
        )
    )
    loss = draw(st.sampled_from([losses.half_sse, losses.mse]))
    return nin, widths, activation, seed, rows, targets, loss


@given(scalar_mlps())
def test_a_traced_scalar_mlp_step_equals_the_eager_step(case):
    nin, widths, activation, seed, rows, targets, loss = case
    traced_net = MLP(nin, widths, activation=activation, rng=seed)
    eager_net = MLP(nin, widths, activation=activation, rng=seed)
    step = trace(lambda x, y: loss(traced_net(x), y), rows[0], targets[0])
    for x, y in zip(rows, targets):  # gradients accumulate over the examples, unzeroed
        traced_loss = step(x, y)
        eager = loss(eager_net(x), y)
        eager.backward()
        assert_same(traced_loss, eager.data)
        assert_same(grads(traced_net.parameters()), grads(eager_net.parameters()))


@given(sigmoid_networks(max_layers=3, max_width=4))
def test_traced_grads_are_the_delta_rules(network):
    """dJ/dw_ij = -delta_j x_i (x_0 = 1 for the bias), J = 1/2 sum (y - o)^2."""
    sizes, weights, X, Y = network
    net = MLP(sizes[0], sizes[1:], rng=0)
    set_weights(net, weights)
    step = trace(lambda x, y: losses.half_sse(net(x), y), X[0].tolist(), Y[0])
    net.zero_grad()
    loss = step(X[0].tolist(), Y[0])
    activations = delta.forward(weights, X[0])
    assert loss == pytest.approx(delta.half_sse(activations[-1], Y[0]), rel=1e-12, abs=1e-15)
    closed = delta.deltas(weights, activations, Y[0])
    for layer, (x, d) in zip(net.layers, zip(activations, closed, strict=True)):
        expected = -np.outer(np.concatenate([[1.0], x]), d)  # rows: bias, then inputs
        for j, neuron in enumerate(layer.neurons):
            got = [neuron.b.grad, *(w.grad for w in neuron.w)]
            np.testing.assert_allclose(got, expected[:, j], rtol=1e-9, atol=1e-12)


# -- tensor engine ------------------------------------------------------------------------------


@st.composite
def tensor_mlps(draw):
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    activation = draw(st.sampled_from(["sigmoid", "tanh", "relu"]))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    batch = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    kind = draw(st.sampled_from(["half_sse", "mse", "cross_entropy"]))
    batches = []
    for _ in range(2):
        X = draw(hnp.arrays(np.float64, (batch, sizes[0]), elements=finite))
        if kind == "cross_entropy":  # some class other than 0, so that the probe can move it
            sizes[-1] = max(sizes[-1], 2)
            y = draw(hnp.arrays(np.int64, (batch,), elements=st.integers(0, sizes[-1] - 1)))
            y[draw(st.integers(0, batch - 1))] = draw(st.integers(1, sizes[-1] - 1))
        else:
            y = draw(hnp.arrays(np.float64, (batch, sizes[-1]), elements=st.floats(0.0, 1.0)))
        batches.append((X, y))
    return sizes, activation, dtype, seed, kind, batches


def _mlp(sizes, activation, output, dtype, seed):
    net = tensor_mlp(sizes, activation, output, rng=seed)
    for p in net.parameters():
        p.data = p.data.astype(dtype)
    return net


def _tensor_loss(kind):
    return {
        "half_sse": losses.half_sse,
        "mse": losses.mse,
        "cross_entropy": losses.cross_entropy,
    }[kind]


@settings(max_examples=40)
@given(tensor_mlps())
def test_a_traced_tensor_mlp_step_equals_the_eager_step(case):
    sizes, activation, dtype, seed, kind, batches = case
    output = None if kind == "cross_entropy" else "sigmoid"
    nets = [_mlp(sizes, activation, output, dtype, seed) for _ in range(2)]
    loss = _tensor_loss(kind)
    step = trace(lambda X, y: loss(nets[0](X), y), *batches[0])
    for X, y in batches:
        traced_loss = step(X, y)
        eager = loss(nets[1](X), y)
        eager.backward()
        assert_same(traced_loss, eager.item())
        for traced_p, eager_p in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
            assert traced_p.grad.dtype == dtype  # float32 stays float32
            assert_same(traced_p.grad, eager_p.grad)


def test_tensor_arguments_receive_their_gradients():
    w = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    step = trace(lambda x: (x @ w).tanh().sum(), x)
    x2 = Tensor([[-0.5, 3.0]], requires_grad=True)
    step(x2)
    w_eager = Tensor(w.data, requires_grad=True)
    x_eager = Tensor(x2.data, requires_grad=True)
    (x_eager @ w_eager).tanh().sum().backward()
    assert_same(x2.grad, x_eager.grad)
    assert_same(w.grad, w_eager.grad)


# -- training runs -------------------------------------------------------------------------------


def test_a_traced_scalar_training_run_ends_at_the_eager_weights():
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y = [0.0, 1.0, 1.0, 0.0]
    traced_net, eager_net = MLP(2, [3, 1], rng=4), MLP(2, [3, 1], rng=4)
    step = trace(lambda x, t: losses.half_sse(traced_net(x), t), X[0], y[0])
    traced_opt = SGD(traced_net.parameters(), lr=0.5, momentum=0.5)
    eager_opt = SGD(eager_net.parameters(), lr=0.5, momentum=0.5)
    for i in range(100):
        traced_opt.zero_grad()
        step(X[i % 4], y[i % 4])
        traced_opt.step()
        eager_opt.zero_grad()
        losses.half_sse(eager_net(X[i % 4]), y[i % 4]).backward()
        eager_opt.step()
    assert_same([p.data for p in traced_net.parameters()], [p.data for p in eager_net.parameters()])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_traced_tensor_training_run_ends_at_the_eager_weights(dtype):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((100, 3)), rng.integers(0, 4, 100)
    nets = [_mlp([3, 8, 4], "relu", None, dtype, 1) for _ in range(2)]
    step = trace(lambda X, y: losses.cross_entropy(nets[0](X), y), X[:10], y[:10])
    optimizers = [Adam(net.parameters(), lr=0.01) for net in nets]
    for i in range(100):
        batch = slice(10 * (i % 10), 10 * (i % 10) + 10)
        optimizers[0].zero_grad()
        step(X[batch], y[batch])
        optimizers[0].step()
        optimizers[1].zero_grad()
        losses.cross_entropy(nets[1](X[batch]), y[batch]).backward()
        optimizers[1].step()
    for traced_p, eager_p in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert traced_p.data.dtype == dtype
        assert_same(traced_p.data, eager_p.data)


@pytest.mark.parametrize("scalar", [True, False])
def test_fit_gives_the_same_history_compiled_or_not(scalar):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    histories, weights = [], []
    for compile in (True, False):
        net = MLP(2, [2, 1], rng=0) if scalar else tensor_mlp([2, 4, 1], "tanh", "sigmoid", rng=0)
        histories.append(fit(net, X, y, lr=0.5, epochs=30, batch_size=3, compile=compile).losses)
        weights.append([np.asarray(p.data, dtype=np.float64) for p in net.parameters()])
    assert histories[0] == histories[1]
    for compiled, eager in zip(*weights, strict=True):
        np.testing.assert_array_equal(compiled, eager)


def test_fit_falls_back_to_eager_where_tracing_is_refused():
    """Scalar cross-entropy subtracts max(z.data): not traceable, so fit runs it eagerly."""
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1])
    nets = [MLP(2, [3, 2], rng=0) for _ in range(2)]
    runs = [
        fit(net, X, y, loss=losses.cross_entropy, lr=0.1, epochs=5, compile=compile).losses
        for net, compile in zip(nets, (True, False))
    ]
    assert runs[0] == runs[1]


# -- another path raises ValueError ---------------------------------------------------------------


def test_another_input_shape_raises():
    net = tensor_mlp([2, 3, 1], "tanh", "sigmoid", rng=0)
    step = trace(lambda X, y: losses.half_sse(net(X), y), np.zeros((4, 2)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        step(np.zeros((5, 2)), np.zeros((4, 1)))
    scalar_net = MLP(2, [1], rng=0)
    scalar_step = trace(lambda x: scalar_net(x), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"args\[0\]: a list of 2 items when traced, 3 now"):
        scalar_step([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="takes 1 arguments"):
        scalar_step([1.0, 2.0], 3.0)


def test_a_parameter_that_changed_shape_raises():
    net = tensor_mlp([2, 3, 1], "tanh", "sigmoid", rng=0)
    step = trace(lambda X: net(X).sum(), np.zeros((4, 2)))
    net.layers[0].weight.data = np.zeros((2, 5))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(2, 5\)"):
        step(np.zeros((4, 2)))


def test_a_max_over_data_is_replayed_as_a_max():
    """max(z.data, 1.0) is recomputed at each call: the leaf follows whichever is larger."""
    w = Value(0.5)

    def shifted(x):
        z = w * x
        return z * 3.0 - max(z.data, 1.0)

    step = trace(shifted, 3.0)  # z = 1.5: the max is z's data
    for x in (3.0, 1.0, -4.0):  # 1.5, then 0.5 and -2: the max is the constant 1.0
        assert step(x) == 1.5 * x - max(0.5 * x, 1.0)


def test_a_branch_on_data_right_at_the_example_is_checked_not_refused():
    w = Value(1.0)

    def branchy(x):
        z = w * x
        return z * z if z.data > 0 else z.exp()

    step = trace(branchy, 0.0)  # z = 0: the else branch, guarded
    assert step(-1.0) == math.exp(-1.0)
    with pytest.raises(ValueError, match="branches on data"):
        step(1e-300)


def test_a_branch_on_data_is_checked_at_every_call():
    w = Value(1.0)

    def branchy(x):
        z = w * x
        return z * 2.0 if z.data > 0 else z * 3.0

    step = trace(branchy, Value(1.5))
    assert step(Value(4.0)) == 8.0  # the same branch
    with pytest.raises(ValueError, match=r"branches on data.*> 0"):
        step(Value(-1.0))
    assert w.grad == 8.0  # d(2 w x)/dw = 2 x from the first call; the refused one added nothing


def test_a_sign_mask_from_data_is_recomputed_at_each_call():
    """BCE from logits masks z >= 0 with np.where on z.data: replayed, so a flip is followed."""
    nets = [tensor_mlp([2, 3, 1], "tanh", None, rng=0) for _ in range(2)]
    loss = lambda net, X, y: losses.binary_cross_entropy(net(X), y, from_logits=True)  # noqa: E731
    step = trace(lambda X, y: loss(nets[0], X, y), np.ones((4, 2)), np.ones((4, 1)))
    X = np.array([[1.0, 1.0], [-3.0, 2.0], [3.0, -2.0], [-1.0, -1.0]])
    z = nets[1](X).data
    assert (z >= 0).any() and (z < 0).any()  # the mask differs from the example's
    traced = step(X, np.ones((4, 1)))
    eager = loss(nets[1], X, np.ones((4, 1)))
    eager.backward()
    assert_same(traced, eager.item())
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert_same(a.grad, b.grad)


def test_a_user_written_backward_is_refused():
    w = Value(2.0)

    def custom(x):
        out = w * x
        out._user_backward = lambda: None  # what a micrograd-style op sets
        return out

    if not hasattr(Value, "_user_backward"):  # a slot or a class default: settable
        with pytest.raises(AttributeError):
            custom(1.0)
        return
    with pytest.raises(ValueError, match="cannot trace"):
        trace(custom, 1.0)


def test_bad_results_are_refused():
    with pytest.raises(TypeError, match="needs a function"):
        trace(3.0)
    with pytest.raises(ValueError, match="must return a Value or a Tensor"):
        trace(lambda x: x * 2, 1.0)
    with pytest.raises(ValueError, match="one number"):
        trace(lambda: Tensor([1.0, 2.0], requires_grad=True) * 2)


def test_class_targets_all_zero_in_the_example_are_still_inputs():
    nets = [tensor_mlp([2, 3], "relu", None, rng=0) for _ in range(2)]
    X = np.array([[0.5, -1.0], [2.0, 0.0]])
    step = trace(lambda X, y: losses.cross_entropy(nets[0](X), y), X, np.array([0, 0]))
    loss = step(X, np.array([2, 1]))
    eager = losses.cross_entropy(nets[1](X), np.array([2, 1]))
    eager.backward()
    assert_same(loss, eager.item())
    for traced_p, eager_p in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert_same(traced_p.grad, eager_p.grad)


def test_out_of_range_class_targets_raise_like_eager():
    net = tensor_mlp([2, 3], "relu", None, rng=0)
    step = trace(lambda X, y: losses.cross_entropy(net(X), y), np.zeros((2, 2)), np.array([0, 2]))
    for bad in (np.array([0, 3]), np.array([-1, 0])):  # the loss's range check is a guard
        with pytest.raises(ValueError, match="branches on data"):
            step(np.zeros((2, 2)), bad)
    assert all(p.grad is None for p in net.parameters())


# -- the source ------------------------------------------------------------------------------


def test_the_source_is_the_derivation_one_line_per_node():
    net = MLP(2, [2, 1], rng=0)
    step = trace(lambda x, y: losses.half_sse(net(x), y), [1.0, 0.0], 1.0)
    lines = step.source.splitlines()
    heading = "    # forward pass: one line per node (and the checks of fn's decisions on data)"
    forward = lines[lines.index(heading) + 1 :]
    forward = forward[: next(i for i, line in enumerate(forward) if line.startswith("    #"))]
    leaves_made = 3  # x1 and x2 from the inputs, -y
    interior = step.nodes - sum(1 for _ in step.parameters) - leaves_made
    assert len(forward) == interior - 1 + leaves_made  # the constant 0.5 is written in place
    assert sum(line.startswith("    x") for line in forward) == leaves_made
    assert sum("= sigmoid(" in line for line in forward) == 3
    assert any("o3 * (1.0 - o3) * d_o3" in line for line in lines)
    namespace = {}
    exec(compile(step.source, "<source>", "exec"), namespace)  # it is valid Python
    assert callable(namespace["step"])


def test_the_step_rereads_parameters_each_call():
    w = Value(2.0)
    step = trace(lambda x: w * x, 3.0)
    w.data = 5.0
    assert step(3.0) == 15.0
    assert w.grad == 3.0
    step(4.0)
    assert w.grad == 7.0  # added, as backward() adds
    assert math.isfinite(step(1e300))


def _annotated_values(code):
    values = {}
    for line in code.splitlines():
        if "# = " in line and " = " in line.split("#")[0]:
            name = line.split(" ", 1)[0]
            values[name] = float(line.rsplit("# = ", 1)[1])
    return values


def test_explain_shows_the_worked_example_as_code_with_the_tutorials_numbers():
    from tinygrad_bp import explain

    code = explain.traced_code(explain.WORKED_WEIGHTS, explain.WORKED_INPUT, explain.WORKED_TARGET)
    values = _annotated_values(code)
    weights, x, y = explain.WORKED_WEIGHTS, explain.WORKED_INPUT, explain.WORKED_TARGET
    activations = delta.forward(list(weights), x)
    deltas = delta.deltas(list(weights), activations, y)
    assert values["o_1_1"] == pytest.approx(activations[1][0], rel=1e-5)  # 0.7773
    assert values["o_2_1"] == pytest.approx(activations[2][0], rel=1e-5)  # 0.823
    assert values["J"] == pytest.approx(delta.half_sse(activations[2], y), rel=1e-5)
    assert values["d_z_2_1"] == pytest.approx(-deltas[1][0], rel=1e-5)  # delta = -dJ/dz
    assert values["d_z_1_2"] == pytest.approx(-deltas[0][1], rel=1e-5)
    assert "d_z_2_1 = o_2_1 * (1.0 - o_2_1) * d_o_2_1" in code


def test_the_cli_prints_the_code_with_explain(capsys):
    from tinygrad_bp.cli import main

    args = [
        "explain",
        "--weights",
        "[[1,1],[0.25,0.15],[0.2,0.1]]",
        "--weights",
        "[[1],[0.3],[0.4]]",
    ]
    assert main([*args, "--x", "1,0", "--y", "1", "--code"]) == 0
    out = capsys.readouterr().out
    assert "o_1_1 = sigmoid(z_1_1)" in out and "# = 0.7773" in out


def test_a_number_where_a_value_was_traced_raises_value_error():
    w = Value(2.0)
    step = trace(lambda x: w * x, Value(3.0))
    with pytest.raises(ValueError, match=r"args\[0\]: a Value when traced, a number now"):
        step(3.0)


def test_annotated_shows_every_value_and_changes_no_grad():
    net = tensor_mlp([2, 3, 1], "tanh", "sigmoid", rng=0)
    X, y = np.ones((4, 2)), np.zeros((4, 1))
    step = trace(lambda X, y: losses.half_sse(net(X), y), X, y)
    text = step.annotated(X, y)
    assert "# = shape (4, 3)" in text
    assert all(p.grad is None for p in net.parameters())


def test_labels_that_clash_with_the_steps_own_names_are_renamed():
    w = Value(2.0, label="i0")
    b = Value(1.0, label="sum")
    step = trace(lambda x: (w * x + b).tanh(), 0.5)
    eager_w, eager_b = Value(2.0), Value(1.0)
    eager = (eager_w * 0.25 + eager_b).tanh()
    eager.backward()
    assert_same(step(0.25), eager.data)
    assert_same([w.grad, b.grad], [eager_w.grad, eager_b.grad])


def test_fit_runs_a_call_eagerly_when_its_branch_differs():
    """Scalar BCE takes log p only while p > e^-100: a guarded branch; fit follows either way."""
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([1.0, 0.0, 1.0])
    runs = []
    for compile in (True, False):
        net = MLP(2, [2, 1], rng=0)
        loss = losses.binary_cross_entropy
        runs.append(fit(net, X, y, loss=loss, lr=50.0, epochs=40, compile=compile).losses)
    assert runs[0] == runs[1]


def test_an_array_of_the_same_size_but_another_shape_raises():
    net = tensor_mlp([2, 3, 1], "tanh", "sigmoid", rng=0)
    step = trace(lambda X, y: losses.half_sse(net(X), y), np.zeros((4, 2)), np.zeros((4, 1)))
    assert math.isfinite(step(np.ones((4, 2)), np.ones((4, 1))))
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        step(np.zeros((2, 4)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        step(np.zeros((4, 2)), np.zeros((2, 2)))


def test_the_cli_trains_the_same_with_or_without_compile(capsys):
    from tinygrad_bp.cli import main

    outputs = []
    for flags in ([], ["--no-compile"]):
        assert main(["train", "sine", "--epochs", "20", "--quiet", *flags]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and "final loss" in outputs[0]


def test_the_source_run_in_its_namespace_is_the_step():
    net = tensor_mlp([3, 4, 2], "relu", None, rng=0)
    X, y = np.linspace(-1.0, 1.0, 15).reshape(5, 3), np.array([0, 1, 1, 0, 1])
    step = trace(lambda X, y: losses.cross_entropy(net(X), y), X, y)
    names = dict(step.namespace)
    exec(step.source, names)
    by_source = names["step"](X, y)
    grads_by_source = grads(net.parameters())
    net.zero_grad()
    assert by_source == step(X, y)
    for again, first in zip(grads(net.parameters()), grads_by_source, strict=True):
        np.testing.assert_array_equal(again, first)


def test_another_threads_comparisons_while_tracing_are_not_logged():
    import threading

    from tinygrad_bp import Value, trace

    other = Value(1.0)
    stop = threading.Event()
    seen = []

    def busy():
        while not stop.is_set():
            seen.append(type(other.data))

    worker = threading.Thread(target=busy)
    worker.start()
    try:
        w = Value(0.5, label="w")
        step = trace(lambda x: (w * x).tanh() * 2.0, Value(1.5))
    finally:
        stop.set()
        worker.join(timeout=10)
    assert all(kind is float for kind in seen)  # plain floats, never the tracer's
    x = Value(-0.25)
    eager = (w * x).tanh() * 2.0
    eager.backward()
    eager_grad, w.grad = w.grad, 0.0
    assert step(Value(-0.25)) == eager.data and w.grad == eager_grad


def test_a_notebook_shows_a_traced_steps_source():
    a = Value(2.0, label="a")
    step = trace(lambda x: (a * x).tanh(), 3.0)
    shown = step._repr_markdown_()
    assert shown.startswith(f"traced step: {step.nodes} nodes, 1 parameters\n\n```python\n")
    assert step.source.rstrip() in shown and shown.endswith("```\n")


def test_a_step_of_many_primitives_is_written_out_and_replays_as_eager():
    """Max, Var, Abs, LogSoftmax, Clip and an indexing whose backward (a scatter into
    zeros) numpy cannot write with stand-ins: each node's rule is written out as numpy
    lines or calls its primitive, and the step gives the eager loss and grad to the bit."""

    def make():
        return Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, label="W")

    def f(W, x):
        z = (Tensor(x) * W).clip(-0.5, 0.5)
        return (z.max(axis=1) + z.var(axis=0).sum() + z.abs().log_softmax(axis=1)[0, 1]).sum()

    W, eager_W = make(), make()
    step = trace(lambda x: f(W, x), np.ones((2, 3)))
    assert ".backward(" not in step.source
    assert "ops.scatter(" in step.source
    x = np.full((2, 3), 0.7)
    loss = step(x)
    eager = f(eager_W, x)
    eager.backward()
    assert loss == eager.item()
    assert np.array_equal(W.grad, eager_W.grad)


# -- large steps run on the tape ------------------------------------------------------------------

# Weights of a long sum that makes a step large enough to run on the tape.
_PAD = [Value(1.0 / (k + 2)) for k in range(TAPE_FROM // 2)]


def _padded(loss, x):
    """``loss`` plus 0 times a long sum of products of x: the same numbers, a large step."""
    return loss + sum(w * x for w in _PAD) * 0.0


def _eager_and_traced(fn, params, points):
    """The traced step and the eager engine on each point: losses and grads, side by side."""
    step = trace(fn, points[0])
    for point in points:
        for p in params:
            p.grad = 0.0
        loss = step(point)
        traced = [p.grad for p in params]
        for p in params:
            p.grad = 0.0
        eager = fn(point)
        eager.backward()
        assert loss == eager.data
        assert traced == [p.grad for p in params]
    return step


@given(st.lists(finite, min_size=12, max_size=12), st.lists(finite, min_size=4, max_size=4))
@settings(max_examples=10, deadline=None)
def test_dot_products_in_a_large_step_equal_eager_and_its_source_has_a_line_per_node(ws, x):
    """Dot products (microgpt's ``linear``) in a large step: every number is the eager
    engine's, to the last bit; the source written out from the tape has a statement per
    node forward and one per edge backward."""
    weights = [Value(w) for w in ws]
    rows = [weights[4 * r : 4 * r + 4] for r in range(3)] * (TAPE_FROM // 24 + 1)

    def fn(inputs):
        xs = [Value(v) for v in inputs]
        outs = [sum(w * v for w, v in zip(row, xs)) for row in rows]
        return sum(o * o for o in outs)

    step = _eager_and_traced(fn, weights, [x, [v * -0.5 + 1.0 for v in x], [0.0, -0.0, 1.0, 2.0]])
    assert step.nodes >= TAPE_FROM
    ops = [node for node in toposort(fn(x)) if node.children]  # every + and *: two operands
    lines = [line.strip() for line in step.source.splitlines()]
    made = [line for line in lines if line.startswith("v[") and " = real(" not in line]
    assert len(made) == len(ops)
    edges = [line for line in lines if line.startswith("g[") and " += " in line]
    assert len(edges) == 2 * len(ops)


def test_a_small_step_keeps_a_line_and_a_name_per_node():
    """The derivation's own reading (the course's notebooks): each product its line."""
    w = [Value(0.5), Value(-1.0)]
    step = trace(lambda x: w[0] * x + w[1] * x, 2.0)
    lines = [line.strip() for line in step.source.splitlines()]
    assert ["v1 = w2 * x1", "v2 = w1 * x2", "loss = v1 + v2"] == [
        line for line in lines if line.startswith(("v", "loss ="))
    ]
    assert "d_v1 = d_loss" in lines  # the gradient a sum passes on, on a line of its own


def test_a_long_sum_in_a_large_step_equals_eager():
    def fn(x):
        return sum(w * x for w in _PAD)

    step = _eager_and_traced(lambda x: fn(Value(x)), _PAD[:3], [0.3, -1.7])
    assert step.nodes >= TAPE_FROM


def test_a_sum_on_the_right_of_a_sum_keeps_its_grouping():
    """p + (q + r) is not (p + q) + r in floating point: at 1e16 they give 0 and 1."""
    p, q, r = Value(1e16), Value(-1e16), Value(0.0)

    def fn(x):
        return _padded(p + (q + Value(x) * r + Value(x)), Value(x))

    step = _eager_and_traced(fn, [p, q, r], [1.0, 3.0])
    assert step(1.0) == 0.0


def test_a_partial_sum_read_again_keeps_its_value():
    """In a large step, a partial sum that a product reads again (its local derivative
    needs it) and that a branch on data reads: the step stays equal to eager."""
    a, b, c = Value(0.3), Value(-1.2), Value(2.5)

    def fn(x):
        s = a * x + b  # read again below, by a product and by a comparison
        t = s + c
        u = t * s if s.data < 10.0 else t
        return _padded(u + s * a, Value(x))

    _eager_and_traced(fn, [a, b, c], [0.7, -3.0, 1e-3])


def test_a_gradient_passed_through_and_then_added_to_is_the_eager_sum():
    """In a large step, an unnamed node reached first by a sum (its gradient passed on
    as it is) and then by a product: the second arrival is added as ``backward()``
    adds it."""
    p, q, r = Value(1.5), Value(-0.25), Value(3.0)

    def fn(x):
        s = p * x  # unnamed, two consumers
        u = s * r  # made before t, so the sweep reaches t first
        t = s + q
        return _padded(u + t * t, Value(x))

    _eager_and_traced(fn, [p, q, r], [0.5, -2.0, 7.0])


def test_a_large_step_runs_on_the_tape_and_its_source_read_later_is_the_same_step():
    """A step of TAPE_FROM nodes or more is replayed from its list of ops; the source,
    written when first read, defines a step with the same loss and grads, to the bit."""
    w, b = Value(0.7), Value(-0.2)

    def fn(x):
        return _padded((w * Value(x) + b).tanh() * (w * w).exp(), Value(x))

    step = _eager_and_traced(fn, [w, b], [0.5, -1.25, 3.0])
    assert step.nodes >= TAPE_FROM
    for p in (w, b):
        p.grad = 0.0
    loss = step(0.9)
    by_tape = [w.grad, b.grad]
    names = dict(step.namespace)
    exec(step.source, names)
    for p in (w, b):
        p.grad = 0.0
    assert names["step"](0.9) == loss
    assert [w.grad, b.grad] == by_tape


def test_a_large_step_compiled_after_many_calls_still_equals_eager():
    """From its COMPILE_AT-th call a tape step runs compiled code: the eager numbers still,
    through a relu's kink, a guard and an update of the weights between calls."""
    w, b = Value(0.7), Value(-0.2)

    def fn(x):
        z = w * Value(x) + b
        h = z.relu() if x < 50 else z.sigmoid()
        return _padded(h * h + (w * b).tanh(), Value(x))

    step = trace(fn, 0.5)
    assert step.nodes >= TAPE_FROM
    points = [0.5, -1.0, 2.5, 0.0]
    for call in range(COMPILE_AT + 8):
        x = points[call % len(points)]
        for p in (w, b):
            p.grad = 0.0
        loss = step(x)
        traced = [w.grad, b.grad]
        for p in (w, b):
            p.grad = 0.0
        eager = fn(x)
        eager.backward()
        assert loss == eager.data, call
        assert traced == [w.grad, b.grad], call
        w.data -= 0.01 * traced[0]
    with pytest.raises(ValueError, match="branches on data"):
        step(500.0)  # checked by the compiled code too


def test_a_large_step_with_an_empty_weighted_sum_is_written_and_compiled():
    from tinygrad_bp.engine import weighted_sum

    b = Value(0.5)
    step = trace(lambda x: _padded(weighted_sum([], [], b) * x, Value(x)), 0.3)
    assert step.nodes >= TAPE_FROM
    compile(step.source, "<source>", "exec")  # valid Python: `()`, not `(,)`
    for call in range(COMPILE_AT + 2):
        b.grad = 0.0
        assert step(0.4) == 0.2, call
        assert b.grad == 0.4, call


def test_a_large_step_compiled_keeps_a_negative_zero_grad_positive_as_eager_does():
    """A grad of -0.0 plus contributions of -0.0 is 0.0 in the eager engine."""
    import math

    w = Value(1.0)
    fn = lambda x: _padded(w * Value(x), Value(x))  # noqa: E731
    step = trace(fn, 1.0)
    for call in range(COMPILE_AT + 2):
        w.grad = -0.0
        step(-0.0)
        assert math.copysign(1.0, w.grad) == 1.0, call


def test_compiled_code_that_disagrees_with_the_tape_never_replaces_it(monkeypatch):
    from tinygrad_bp.tracing import tape

    def wrong(body, names):  # the compiled step, returning another loss
        lines = tape.compiled(body, names)
        return [*lines[:-1], "return -1.0"]

    monkeypatch.setattr("tinygrad_bp.tracing.tape.compiled", wrong, raising=True)
    w = Value(0.5)
    step = trace(lambda x: _padded(w * x, Value(x)), 2.0)
    assert [step(2.0) for _ in range(COMPILE_AT + 3)][-4:] == [1.0] * 4


def test_a_large_step_in_a_notebook_shows_its_first_lines_not_all():
    w = Value(0.5)
    step = trace(lambda x: _padded(w * x, Value(x)), 2.0)
    shown = step._repr_markdown_()
    assert shown.count("\n") < 500 < step.source.count("\n")
    assert "more lines: step.source has them all" in shown


def test_tracing_powers_of_many_exponents_keeps_no_entry_per_exponent():
    from tinygrad_bp.engine import RULES
    from tinygrad_bp.tracing import tape

    w = Value(1.5)
    for k in range(30):
        trace(lambda x, c=1.0 + k / 64: _padded(w**c * x, Value(x)), 2.0)
    assert len(tape._RULE_OF_OP) <= len(RULES)


def test_a_large_step_checks_fns_decisions_before_any_grad_changes():
    w = Value(0.5)

    def fn(x):
        return _padded(w * w if x > 100 else w * x, Value(x))

    step = trace(fn, 1.0)
    assert step.nodes >= TAPE_FROM
    w.grad = 0.25
    with pytest.raises(ValueError, match="branches on data"):
        step(500.0)
    assert w.grad == 0.25
    assert step(2.0) == fn(2.0).data


def test_a_large_step_gives_value_arguments_their_grads():
    w = Value(1.5)
    x, eager_x = Value(-0.75), Value(-0.75)
    step = trace(lambda v: _padded(w * v * v, v), Value(0.0))
    loss = step(x)
    eager = _padded(w * eager_x * eager_x, eager_x)
    eager.backward()
    assert loss == eager.data
    assert x.grad == eager_x.grad != 0.0


def test_large_steps_traced_and_run_in_threads_at_once_equal_eager():
    import threading

    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            ws = [Value(float(v)) for v in rng.normal(size=3)]
            pad = [Value(1.0 / (k + 2)) for k in range(TAPE_FROM // 2)]  # no node shared

            def fn(x):
                loss = (ws[0] * Value(x) + ws[1]).sigmoid() * ws[2]
                return loss + sum(p * Value(x) for p in pad) * 0.0

            step = _eager_and_traced(fn, ws, [float(v) for v in rng.normal(size=4)])
            assert step.nodes >= TAPE_FROM
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_the_traced_graph_is_freed_when_trace_returns_not_left_to_the_collector():
    """The recorder's tracked numbers point back to it; it lets go of the graph, so the
    graph's nodes are freed at once rather than left in a cycle for the collector."""
    ws = [Value(0.01 * k) for k in range(500)]
    gc.collect()
    gc.disable()
    try:
        trace(lambda x: sum(w * Value(x) for w in ws), 0.5)
        left = gc.collect()
    finally:
        gc.enable()
    assert left < 100  # about 2,000 nodes when the cycle kept them
