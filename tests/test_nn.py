"""Modules on both engines: calling conventions, parameters, weights, state dicts, save/load."""

import ast
import dataclasses
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from tinygrad_bp import Tensor, Value, delta, nn, no_grad
from tinygrad_bp.nn import (
    MLP,
    Layer,
    Linear,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    get_weights,
    load,
    save,
    set_weights,
    sigmoid_network,
    tensor_mlp,
)

WORKED = [np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]), np.array([[1.0], [0.3], [0.4]])]


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


@pytest.mark.parametrize(
    "activation, g",
    [
        ("sigmoid", sigmoid),
        ("tanh", math.tanh),
        ("relu", lambda z: max(z, 0.0)),
        ("linear", lambda z: z),
    ],
)
def test_neuron_computes_its_activation_of_the_weighted_sum(activation, g):
    neuron = Neuron(3, activation, rng=0)
    x = [0.5, -1.0, 2.0]
    z = sum(w.data * xi for w, xi in zip(neuron.w, x)) + neuron.b.data
    out = neuron(x)
    assert isinstance(out, Value)
    assert out.data == pytest.approx(g(z), abs=1e-15)


def test_the_net_input_is_one_node_with_the_derivations_local_derivatives():
    neuron = Neuron(2, rng=0)
    x = [Value(0.5), Value(-2.0)]
    z = neuron(x).children[0]
    assert len(z.children) == 5  # w1, w2, x1, x2, b
    assert z.children == (*neuron.w, *x, neuron.b)
    assert z.local_grads == (0.5, -2.0, neuron.w[0].data, neuron.w[1].data, 1.0)


def test_layer_and_mlp_return_a_value_for_width_one_and_a_list_otherwise():
    assert isinstance(Layer(2, 1, rng=0)([1.0, 2.0]), Value)
    out = Layer(2, 3, rng=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3
    assert isinstance(MLP(2, [3, 1], rng=0)([1.0, 2.0]), Value)
    assert len(MLP(2, [3, 2], rng=0)([1.0, 2.0])) == 2


def test_output_activation_applies_to_the_last_layer_only():
    net = MLP(2, [3, 1], activation="tanh", output_activation="linear", rng=0)
    assert net.layers[0].neurons[0].activation == "tanh"
    assert net.layers[1].neurons[0].activation == "linear"
    assert net([5.0, 5.0]).op == "w·x+b"  # no activation node on top


@pytest.mark.parametrize(
    "module, x",
    [(Neuron(2, rng=0), [1.0]), (Layer(2, 2, rng=0), [1, 2, 3]), (MLP(3, [1], rng=0), [])],
)
def test_wrong_number_of_inputs_names_expected_and_given(module, x):
    with pytest.raises(ValueError, match=r"expects \d+ inputs, given \d+"):
        module(x)


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match="sigmoid"):
        MLP(2, [2], activation="swish")


def test_parameters_are_in_a_deterministic_documented_order():
    net = MLP(2, [2, 1], rng=0)
    params = net.parameters()
    assert len(params) == 9
    first = net.layers[0].neurons[0]
    assert params[:3] == [*first.w, first.b]
    again = MLP(2, [2, 1], rng=0)
    assert [p.data for p in again.parameters()] == [p.data for p in params]


def test_zero_grad_resets_value_and_tensor_grads():
    net = MLP(2, [2, 1], rng=0)
    net([1.0, 1.0]).backward()
    assert any(p.grad != 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())
    lin = Linear(2, 1, rng=0)
    lin(np.ones((3, 2))).sum().backward()
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_linear_computes_x_w_plus_b_in_the_derivations_orientation():
    lin = Linear(3, 2, rng=0)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data + lin.bias.data)
    assert Linear(3, 2, bias=False, rng=0)(x).shape == (2, 2)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\).*\(2, 4\)"):
        lin(np.ones((2, 4)))


def test_linear_records_one_node_per_layer():
    lin = Linear(3, 2, rng=0)
    x = Tensor(np.ones((4, 3)))
    out = lin(x)
    assert out.op == "x@W+b" and out.children == (x, lin.weight, lin.bias)
    out.sum().backward()
    assert lin.bias.grad.tolist() == [4.0, 4.0]
    assert lin.weight.grad.tolist() == [[4.0, 4.0]] * 3


def test_linear_initialisation_is_bounded_by_one_over_sqrt_fan_in():
    lin = Linear(100, 50, rng=0)
    bound = 1 / math.sqrt(100)
    assert np.abs(lin.weight.data).max() <= bound
    assert np.abs(lin.weight.data).max() > 0.9 * bound  # the full range is used
    assert lin.weight.requires_grad and lin.weight.dtype == np.float64
    assert Linear(2, 2, rng=0, dtype=np.float32)(np.ones((1, 2))).dtype == np.float32


@pytest.mark.parametrize(
    "module, f",
    [
        (Sigmoid(), lambda z: 1 / (1 + np.exp(-z))),
        (Tanh(), np.tanh),
        (ReLU(), lambda z: np.maximum(z, 0)),
    ],
)
def test_activation_modules(module, f):
    z = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(module(Tensor(z)).data, f(z), atol=1e-15)
    assert module.parameters() == [] and module.state_dict() == {}


def test_get_and_set_weights_round_trip_and_match_the_worked_example():
    net = MLP(2, [2, 1], rng=0)
    set_weights(net, WORKED)
    hidden = net.layers[0].neurons
    assert (hidden[0].b.data, hidden[0].w[0].data, hidden[0].w[1].data) == (1.0, 0.25, 0.2)
    assert (hidden[1].b.data, hidden[1].w[0].data, hidden[1].w[1].data) == (1.0, 0.15, 0.1)
    for ours, theirs in zip(get_weights(net), WORKED):
        np.testing.assert_array_equal(ours, theirs)
    seq = Sequential(Linear(2, 2), Sigmoid(), Linear(2, 1), Sigmoid())
    set_weights(seq, WORKED)
    np.testing.assert_array_equal(seq.layers[0].weight.data, WORKED[0][1:])
    np.testing.assert_array_equal(seq.layers[0].bias.data, WORKED[0][0])
    x = [1.0, 0.0]
    assert seq(np.array([x])).item() == pytest.approx(net(x).data, abs=1e-15)


def test_set_weights_checks_every_shape_first_and_changes_nothing_on_a_mismatch():
    net = MLP(2, [2, 1], rng=0)
    before = get_weights(net)
    with pytest.raises(ValueError, match=r"expected shape \(3, 1\), given \(2, 1\)"):
        set_weights(net, [WORKED[0], np.ones((2, 1))])
    with pytest.raises(ValueError, match="2 layers, given 1"):
        set_weights(net, [WORKED[0]])
    for ours, theirs in zip(get_weights(net), before):
        np.testing.assert_array_equal(ours, theirs)


def test_state_dict_names_and_shapes_are_the_same_for_both_engines():
    scalar = MLP(2, [3, 1], rng=0).state_dict()
    assert {k: v.shape for k, v in scalar.items()} == {
        "layers.0.weight": (2, 3),
        "layers.0.bias": (3,),
        "layers.1.weight": (3, 1),
        "layers.1.bias": (1,),
    }
    tensor = Sequential(Linear(2, 3), Sigmoid(), Linear(3, 1)).state_dict()
    assert {k: v.shape for k, v in tensor.items()} == {
        "layers.0.weight": (2, 3),
        "layers.0.bias": (3,),
        "layers.2.weight": (3, 1),
        "layers.2.bias": (1,),
    }


def test_state_dict_is_a_copy_and_load_state_dict_round_trips():
    a, b = MLP(2, [2, 1], rng=0), MLP(2, [2, 1], rng=1)
    state = a.state_dict()
    state["layers.0.weight"][0, 0] = 99.0
    assert a.layers[0].neurons[0].w[0].data != 99.0
    b.load_state_dict(a.state_dict())
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = Sequential(Linear(2, 2, rng=0))
    before = net.state_dict()
    bad = {"layers.0.weight": np.ones((3, 2)), "extra": np.ones(1)}
    with pytest.raises(ValueError) as error:
        net.load_state_dict(bad)
    message = str(error.value)
    assert "missing 'layers.0.bias'" in message and "unexpected 'extra'" in message
    assert "(3, 2)" in message and "(2, 2)" in message
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_save_and_load_round_trip_through_npz_without_pickle(tmp_path):
    source, target = MLP(2, [3, 1], rng=0), MLP(2, [3, 1], rng=1)
    path = save(source, tmp_path / "net.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(source.state_dict())
    load(target, path)
    assert [p.data for p in target.parameters()] == [p.data for p in source.parameters()]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_load_of_a_mismatched_file_changes_nothing(tmp_path):
    small, big = Sequential(Linear(2, 2, rng=0)), Sequential(Linear(3, 2, rng=0))
    path = save(small, tmp_path / "small.npz")
    before = big.state_dict()
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        load(big, path)
    np.testing.assert_array_equal(big.state_dict()["layers.0.weight"], before["layers.0.weight"])


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    net = MLP(2, [1], rng=0)
    path = save(net, tmp_path / "net.npz")
    original = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save(MLP(2, [1], rng=5), path)
    assert path.read_bytes() == original
    assert list(tmp_path.iterdir()) == [path]


# -- tensor_mlp and sigmoid_network ---------------------------------------------------


def test_tensor_mlp_follows_the_derivations_weight_shapes_and_activations():
    net = tensor_mlp([3, 4, 2], "tanh", rng=0)
    assert [w.shape for w in get_weights(net)] == [(4, 4), (5, 2)]
    assert [type(layer) for layer in net.layers] == [Linear, Tanh, Linear, Sigmoid]
    assert [type(layer) for layer in tensor_mlp([2, 3, 3, 1], "relu").layers] == [
        Linear,
        ReLU,
        Linear,
        ReLU,
        Linear,
        Sigmoid,
    ]


@pytest.mark.parametrize("raw", ["linear", None])
def test_tensor_mlp_with_a_linear_output_gives_the_raw_net_input(raw):
    net = tensor_mlp([2, 3, 4], "linear", output_activation=raw, rng=1)
    assert [type(layer) for layer in net.layers] == [Linear, Linear]
    x = np.array([[0.5, -2.0]])
    (w1, w2) = get_weights(net)
    expected = np.hstack([1.0, np.hstack([1.0, x[0]]) @ w1]) @ w2
    np.testing.assert_allclose(net(x).data[0], expected, rtol=1e-14)


def test_tensor_mlp_is_seeded_like_the_other_modules():
    a, b = tensor_mlp([2, 5, 1], rng=7), tensor_mlp([2, 5, 1], rng=np.random.default_rng(7))
    for wa, wb in zip(get_weights(a), get_weights(b)):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(get_weights(a)[0], get_weights(tensor_mlp([2, 5, 1], rng=8))[0])


def test_tensor_mlp_rejects_unknown_activations_and_too_few_sizes():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        tensor_mlp([2, 1], "swish")
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        tensor_mlp([2, 1], output_activation="softmax")
    with pytest.raises(TypeError, match="activation must be a name"):
        tensor_mlp([2, 1], Sigmoid)
    with pytest.raises(ValueError, match="at least an input and an output width"):
        tensor_mlp([2])
    with pytest.raises(TypeError, match="list of layer widths"):
        tensor_mlp(3)


def test_sigmoid_network_computes_what_the_closed_form_computes():
    hidden = np.array([[0.1, -0.4, 0.3], [2.0, 0.5, -1.0]])  # 1 input, 3 hidden units
    weights = [hidden, np.array([[0.2], [1.0], [-0.5], [0.7]])]
    net = sigmoid_network(weights)
    assert [type(layer) for layer in net.layers] == [Linear, Sigmoid, Linear, Sigmoid]
    points = np.array([[0.0], [1.5], [-3.0]])
    with no_grad():
        out = net(points)
    for point, row in zip(points, out.data):
        np.testing.assert_allclose(row, delta.forward(weights, point)[-1], rtol=1e-14)
    for ours, given in zip(get_weights(net), weights):
        np.testing.assert_array_equal(ours, given)


def test_sigmoid_network_names_weights_that_do_not_chain():
    with pytest.raises(ValueError, match=r"layer 1: expected shape \(4, 1\), given \(3, 1\)"):
        sigmoid_network([np.ones((3, 3)), np.ones((3, 1))])
    with pytest.raises(ValueError, match="n_in >= 1"):
        sigmoid_network([np.ones(3)])
    with pytest.raises(TypeError, match="list of matrices"):
        sigmoid_network([])


# -- review fixes: a Neuron's weights, file permissions, public imports only -------------


def test_get_and_set_weights_treat_a_neuron_as_one_layer_and_agree_with_delta():
    neuron = Neuron(2, rng=0)
    output_weights = WORKED[1]  # (n_in + 1, 1): bias 1.0, weights 0.3 and 0.4
    set_weights(neuron, [output_weights])
    assert (neuron.b.data, neuron.w[0].data, neuron.w[1].data) == (1.0, 0.3, 0.4)
    (matrix,) = get_weights(neuron)
    assert matrix.shape == (3, 1)
    np.testing.assert_array_equal(matrix, output_weights)
    x = np.array([0.777, 0.759])  # the worked example's hidden outputs
    assert neuron(x.tolist()).data == pytest.approx(
        delta.forward([output_weights], x)[-1][0], abs=1e-15
    )
    with pytest.raises(ValueError, match=r"expected shape \(3, 1\), given \(3, 2\)"):
        set_weights(neuron, [WORKED[0]])
    np.testing.assert_array_equal(get_weights(neuron)[0], output_weights)  # unchanged


def test_saved_files_get_the_permissions_a_plain_open_gives(tmp_path):
    old_mask = os.umask(0o022)
    try:
        plain = tmp_path / "plain.txt"
        with open(plain, "w"):
            pass
        path = save(MLP(2, [1], rng=0), tmp_path / "net.npz")
        assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
        path.chmod(0o640)  # an existing file keeps its mode, as with open(path, "w")
        save(MLP(2, [1], rng=1), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old_mask)


def test_nn_imports_only_public_names():
    files = sorted(Path(nn.__file__).parent.glob("*.py"))
    assert {f.name for f in files} >= {"modules.py", "weights.py", "state.py", "activations.py"}
    for file in files:
        tree = ast.parse(file.read_text())
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        private = [
            f"{node.module}.{alias.name}"
            for node in imports
            if node.level > 0
            for alias in node.names
            if alias.name.startswith("_")
        ]
        modules = {node.module for node in imports}
        assert private == [], file.name
        assert "functions" not in modules, file.name  # Tensor.affine, not F.Affine


# -- the package keeps every name, one table of activations --------------------------------


def test_every_public_name_is_importable_from_tinygrad_bp_nn():
    for name in nn.__all__:
        assert getattr(nn, name) is not None, name
    import tinygrad_bp

    assert tinygrad_bp.nn.write_atomically is tinygrad_bp.files.write_atomically


@pytest.mark.parametrize(
    "name, reference",
    [
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
        ("tanh", np.tanh),
        ("relu", lambda z: np.maximum(z, 0.0)),
        ("linear", lambda z: z),
    ],
)
def test_each_activation_row_computes_its_function_on_both_engines(name, reference):
    row = nn.ACTIVATIONS[name]
    z = np.linspace(-4.0, 4.0, 9)
    np.testing.assert_allclose(row.apply(Tensor(z)).data, reference(z), rtol=1e-15, atol=1e-15)
    values = [row.apply(Value(float(zi))).data for zi in z]
    np.testing.assert_allclose(values, reference(z), rtol=1e-15, atol=1e-15)
    neuron = Neuron(1, name, rng=0)
    neuron.w[0].data, neuron.b.data = 1.0, 0.0
    assert neuron([0.5]).data == pytest.approx(float(reference(0.5)), abs=1e-15)
    if row.module is None:
        assert row.method is None and name == "linear"
    else:
        np.testing.assert_allclose(row.module()(Tensor(z)).data, reference(z), atol=1e-15)
        assert row.module().name == name and row.method == name


def test_the_modules_read_the_activation_table(monkeypatch):
    swapped = dataclasses.replace(nn.ACTIVATIONS["tanh"], method="sigmoid")
    monkeypatch.setitem(nn.ACTIVATIONS, "tanh", swapped)
    assert Tanh()(Tensor([0.0])).data[0] == 0.5  # sigmoid(0): the row decides
    assert Neuron(1, "tanh", rng=0)([0.0]).op == "sigmoid"
    assert [type(m) for m in tensor_mlp([2, 1], output_activation="tanh").layers] == [
        Linear,
        Tanh,
    ]


def test_get_activation_names_the_known_activations():
    assert nn.get_activation("relu") is nn.ACTIVATIONS["relu"]
    with pytest.raises(ValueError, match="'sigmoid', 'tanh', 'relu', 'linear'"):
        nn.get_activation("swish")
    with pytest.raises(TypeError, match="activation must be a name"):
        Neuron(2, activation=None)


def test_width_checks_name_the_argument():
    with pytest.raises(ValueError, match="nin must be at least 1, got 0"):
        Neuron(0)
    with pytest.raises(TypeError, match="nout must be an integer, got float: 2.0"):
        Linear(2, 2.0)
    with pytest.raises(TypeError, match="nin must be an integer, got bool"):
        Layer(True, 2)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP(2, [3, 1], output_activation="swish")


# -- named_parameters and the printout ----------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        Neuron(3, rng=0),
        Layer(2, 3, rng=0),
        MLP(2, [3, 2, 1], rng=0),
        Linear(3, 2, rng=0),
        Linear(3, 2, bias=False, rng=0),
        tensor_mlp([2, 4, 1], rng=0),
    ],
    ids=repr,
)
def test_named_parameters_follow_parameters_and_the_state_dict_names(model):
    named = model.named_parameters()
    assert [p for _, p in named] == model.parameters()  # same objects, same order
    assert len({name for name, _ in named}) == len(named)
    state = model.state_dict()
    for name, p in named:
        key, _, index = name.partition("[")
        array = state[key]
        if index:
            position = tuple(int(i) for i in index.rstrip("]").split(", "))
            assert array[position] == p.data, name
        elif isinstance(p, Tensor):
            np.testing.assert_array_equal(array, p.data)
        else:
            assert array.shape == () and array == p.data, name


def test_scalar_names_use_the_derivations_w_ij_orientation():
    net = MLP(2, [3, 1], rng=0)
    names = dict((p, name) for name, p in net.named_parameters())
    unit = net.layers[0].neurons[2]
    assert names[unit.w[1]] == "layers.0.weight[1, 2]"  # input 1 to unit 2
    assert names[unit.b] == "layers.0.bias[2]"
    assert names[net.layers[1].neurons[0].b] == "layers.1.bias[0]"


def test_an_mlp_prints_its_widths_activations_and_parameter_count():
    net = MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid")
    expected = (2 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1)
    assert expected == len(net.parameters()) == 337
    assert repr(net).splitlines() == [
        "MLP(2 -> 16 -> 16 -> 1, 337 parameters)",
        "  (0): Layer(2, 16, activation='tanh')",
        "  (1): Layer(16, 16, activation='tanh')",
        "  (2): Layer(16, 1, activation='sigmoid')",
    ]
    assert str(net) == repr(net)


def test_a_sequential_prints_one_line_per_layer_nested_ones_indented():
    net = tensor_mlp([3, 5, 2], "relu", output_activation="linear", rng=0)
    assert net._parameter_count() == sum(p.data.size for p in net.parameters()) == 32
    assert repr(net).splitlines() == [
        "Sequential(3 -> 5 -> 2, 32 parameters)",
        "  (0): Linear(3, 5, bias=True)",
        "  (1): ReLU()",
        "  (2): Linear(5, 2, bias=True)",
    ]
    outer = Sequential(Linear(2, 1, bias=False), Sequential(Sigmoid()))
    assert repr(outer).splitlines() == [
        "Sequential(2 parameters)",  # a nested container may change widths: none shown
        "  (0): Linear(2, 1, bias=False)",
        "  (1): Sequential(0 parameters)",
        "    (0): Sigmoid()",
    ]
    assert repr(Sequential(Linear(2, 3), Linear(2, 1))).splitlines()[0] == (
        "Sequential(12 parameters)"  # widths that do not chain are not shown
    )
    assert repr(Sequential(Linear(1, 1, bias=False))).splitlines()[0] == (
        "Sequential(1 -> 1, 1 parameter)"
    )


def test_a_module_of_ones_own_without_parameters_needs_only_call():
    class Square(nn.Module):
        def __call__(self, x):
            return x * x

    net = Sequential(Linear(2, 2, rng=0), Square())
    assert net.parameters() == net.layers[0].parameters()
    assert list(net.state_dict()) == ["layers.0.weight", "layers.0.bias"]
    assert repr(net).splitlines() == [
        "Sequential(6 parameters)",
        "  (0): Linear(2, 2, bias=True)",
        "  (1): Square()",
    ]
    with pytest.raises(NotImplementedError, match="Module defines no __call__"):
        nn.Module()(1.0)
