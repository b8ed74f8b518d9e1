"""Robustness: malformed input, failed calls that change nothing, numerics at the extremes.

The Hypothesis suite feeds every public function random malformed arguments
(None, strings, complex numbers, objects, object/complex/str/bool arrays, NaN,
inf, empty and ragged arrays, integers too large for a float) and accepts only
two outcomes: a correct result, or one of the documented exceptions, TypeError
and ValueError (plus IndexError for an out-of-range Tensor index, as numpy,
which Python's iteration protocol relies on, and RuntimeError where ``backward``
documents it). Any other exception fails the test by propagating.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_bp import Tensor, Value, detect_anomaly, gradcheck, no_grad
from tinygrad_bp.delta import deltas, forward, sgd_step, weight_updates
from tinygrad_bp.losses import binary_cross_entropy, cross_entropy, half_sse, mse
from tinygrad_bp.nn import MLP, Linear, Sequential, Sigmoid, get_weights, load, save, set_weights
from tinygrad_bp.optim import SGD, Adam
from tinygrad_bp.perceptron import Perceptron
from tinygrad_bp.train import fit

DOCUMENTED = (TypeError, ValueError)

# -- malformed input ------------------------------------------------------------------

special_floats = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e300, -1e300])
scalars = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.complex_numbers(allow_nan=False, max_magnitude=10),
    st.builds(object),
    st.booleans(),
    st.integers(-5, 5),
    st.integers(min_value=10**309, max_value=10**320),  # too large for a float
    st.floats(-5, 5),
    special_floats,
)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
arrays = st.one_of(
    hnp.arrays(np.float64, small_shapes, elements=st.floats(allow_nan=True)),
    hnp.arrays(np.float32, small_shapes, elements=st.floats(-10, 10, width=32)),
    hnp.arrays(np.bool_, small_shapes),
    hnp.arrays(np.complex128, small_shapes, elements=st.complex_numbers(max_magnitude=5)),
    hnp.arrays(np.dtype("U2"), small_shapes),
    hnp.arrays(object, small_shapes, elements=st.one_of(st.none(), st.floats(-5, 5))),
)
nested = st.recursive(
    st.one_of(st.floats(-5, 5), st.none(), st.text(max_size=1)),
    lambda children: st.lists(children, max_size=3),
    max_leaves=8,
)  # nested lists, ragged or not
junk = st.one_of(scalars, arrays, nested)


def attempt(call, allowed=DOCUMENTED):
    """The result of ``call()``, or None if it raised one of the ``allowed`` exceptions."""
    try:
        return call()
    except allowed:
        return None


def assert_finite(*numbers):
    for number in numbers:
        assert np.all(np.isfinite(number)), number


# -- the engines --------------------------------------------------------------------------

BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / b,
    lambda a, b: a**b,
]


@given(junk, st.sampled_from(BINARY))
def test_value_takes_real_numbers_and_refuses_everything_else(data, op):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IEEE edge cases of numpy scalars may warn
        value = attempt(lambda: Value(data))
        left = attempt(lambda: op(Value(1.5), data))
        right = attempt(lambda: op(data, Value(1.5)))
    if value is not None:
        assert isinstance(value.data, float)
    for result in (left, right):
        if result is not None:
            assert isinstance(result, Value) and isinstance(result.data, float)


@given(junk)
def test_tensor_constructor_gives_a_float_copy_or_a_documented_error(data):
    tensor = attempt(lambda: Tensor(data))
    if tensor is not None:
        assert tensor.dtype.kind == "f"
        assert tensor.shape == np.shape(np.asarray(data))
        assert tensor.data is not data


@given(junk, small_shapes, st.sampled_from(BINARY))
@settings(max_examples=100)
def test_tensor_operators_broadcast_or_name_both_shapes(data, shape, op):
    x = Tensor(np.full(shape, 2.0), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow of 1e300 * 1e300 is numpy's RuntimeWarning
        try:
            out = op(x, data)
        except ValueError as error:
            if "incompatible shapes" in str(error):
                assert str(x.shape) in str(error)
            return
        except TypeError:
            return
    assert out.shape == np.broadcast_shapes(shape, np.shape(np.asarray(data)))


@given(junk)
@settings(max_examples=100)
def test_tensor_methods_with_malformed_arguments(argument):
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    calls = [
        lambda: x.sum(axis=argument),
        lambda: x.max(axis=argument),
        lambda: x.mean(axis=argument),
        lambda: x.reshape(argument),
        lambda: x.transpose(argument),
        lambda: x.log_softmax(axis=argument),
        lambda: x.softmax(axis=argument),
        lambda: x @ argument,
    ]
    for call in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            attempt(call)
    attempt(lambda: x[argument], (*DOCUMENTED, IndexError))
    attempt(lambda: (x * 2).backward(argument), (*DOCUMENTED, RuntimeError))
    assert x.grad is None or x.grad.shape == x.shape


def test_backward_errors_say_why():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()
    with no_grad():
        made_inside = (x * 2).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        made_inside.backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))
    assert x.grad is None


def test_backward_inside_no_grad_runs_on_a_graph_recorded_outside_it():
    a, x = Value(3.0), Tensor([3.0], requires_grad=True)
    y, z = a * a, (x * x).sum()
    with no_grad():
        y.backward()
        z.backward()
        inside = a * a  # but records nothing
    assert a.grad == 6.0 and x.grad.tolist() == [6.0]
    assert inside.children == ()


def test_numbers_too_large_for_a_float_raise_value_error():
    for make in (lambda: Value(10**400), lambda: Tensor(10**400), lambda: Tensor([1.0]) + 10**400):
        with pytest.raises(ValueError, match="too large for a float"):
            make()


def test_mean_of_nothing_is_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(Tensor([]).mean().item())
        assert np.isnan(Tensor(np.ones((0, 3))).mean(axis=0).data).all()


# -- losses ------------------------------------------------------------------------------

LOSSES = [half_sse, mse, binary_cross_entropy, cross_entropy]


@given(st.sampled_from(LOSSES), junk, junk)
@settings(max_examples=150)
def test_losses_refuse_malformed_predictions_and_targets(loss, prediction, target):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attempt(lambda: loss(prediction, target))
        attempt(lambda: loss(Tensor(np.full((2, 3), 0.5)), target))
        attempt(lambda: loss([Value(0.5), Value(0.25)], target))


@pytest.mark.parametrize("loss", [half_sse, mse, binary_cross_entropy])
def test_loss_shape_mismatch_names_both_shapes_on_both_engines(loss):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        loss(Tensor(np.full((2, 3), 0.5)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        loss([Value(0.5), Value(0.5)], [1.0, 0.0, 1.0])


@pytest.mark.parametrize("targets", [[np.inf, 0], [np.nan, 0], ["a", "b"], [None, 1], [1j, 0]])
def test_cross_entropy_targets_that_are_not_classes_raise_type_error(targets):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="integer class indices"):
            cross_entropy(Tensor(np.ones((2, 3))), targets)


def test_cross_entropy_of_one_example_needs_one_target():
    for logits in (Tensor([1.0, 2.0]), [Value(1.0), Value(2.0)]):
        with pytest.raises(ValueError, match=r"one target, given shape \(2,\)"):
            cross_entropy(logits, [0, 1])


# -- optimisers: checked before anything moves ------------------------------------------


@given(junk, junk)
@settings(max_examples=100)
def test_optimisers_refuse_malformed_parameters_and_hyperparameters(params, number):
    for make in (
        lambda: SGD(params, lr=0.1),
        lambda: SGD([Value(1.0)], lr=number),
        lambda: SGD([Value(1.0)], lr=0.1, momentum=number),
        lambda: Adam([Value(1.0)], lr=number),
        lambda: Adam([Value(1.0)], eps=number),
        lambda: Adam([Value(1.0)], betas=(number, 0.9)),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            attempt(make)


@given(junk, st.sampled_from([SGD, Adam]))
@settings(max_examples=100)
def test_a_malformed_grad_moves_no_parameter(grad, optimiser):
    good, bad = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    value = Value(1.0)
    good.grad, value.grad = np.ones(3), 1.0
    bad.grad = grad
    step = optimiser([good, value, bad], lr=0.1)
    try:
        step.step()
    except DOCUMENTED:
        assert good.data.tolist() == [1.0] * 3 and value.data == 1.0 and bad.data.tolist() == [1, 1]
        assert good.grad.tolist() == [1.0] * 3 and value.grad == 1.0
        return
    assert bad.grad is None or np.shape(bad.grad) == (2,)  # it moved only with a fitting grad


def test_optimiser_step_with_one_mismatched_grad_changes_nothing():
    a, b, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True), Value(4.0)
    a.grad, b.grad, c.grad = np.ones(2), np.ones(5), 1.0
    with pytest.raises(ValueError, match=r"\(1,\).*\(5,\)"):
        SGD([a, b, c], lr=0.1).step()
    assert a.data.tolist() == [1.0, 2.0] and b.data.tolist() == [3.0] and c.data == 4.0
    c.grad = None
    with pytest.raises(TypeError, match="NoneType"):
        Adam([a, c], lr=0.1).step()
    assert a.data.tolist() == [1.0, 2.0] and c.data == 4.0


# -- modules, weights and files -----------------------------------------------------------


def snapshot(model):
    """Copies of every parameter's data and grad (a Tensor's grad may be None)."""
    return [
        (np.array(p.data), None if p.grad is None else np.array(p.grad)) for p in model.parameters()
    ]


def assert_unchanged(model, before):
    for (data, grad), p in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(np.asarray(p.data), data)
        assert (p.grad is None) == (grad is None)
        if grad is not None:
            np.testing.assert_array_equal(np.asarray(p.grad), grad)


@given(junk)
@settings(max_examples=100)
def test_modules_called_with_malformed_input_change_nothing(x):
    scalar, tensor = MLP(2, [2, 1], rng=0), Sequential(Linear(2, 2, rng=0), Sigmoid())
    before = snapshot(scalar), snapshot(tensor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attempt(lambda: scalar(x))
        attempt(lambda: tensor(x))
        loaded = [  # True where the call accepted x and so may have changed the weights
            attempt(lambda: set_weights(scalar, x) or True),
            attempt(lambda: set_weights(tensor, [np.zeros((3, 2)), x]) or True),
            attempt(lambda: tensor.load_state_dict(x) or True),
            attempt(lambda: scalar.load_state_dict({"layers.0.weight": x}) or True),
        ]
    if not any(loaded):
        assert_unchanged(scalar, before[0])
        assert_unchanged(tensor, before[1])


def test_a_module_call_failing_midway_records_nothing_and_changes_nothing():
    net = MLP(2, [2, 1], rng=0)
    before = snapshot(net)
    with pytest.raises(TypeError, match="str"):
        net([1.0, "a"])
    with pytest.raises(ValueError, match="expects 2 inputs, given 3"):
        net([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="dict"):
        net({0: 1.0, 1: 2.0})
    assert_unchanged(net, before)


def test_set_weights_with_one_bad_matrix_among_good_ones_changes_nothing():
    net = MLP(2, [2, 1], rng=0)
    before = get_weights(net)
    for bad in (np.ones((3, 1)) * 1j, np.array([["a"], ["b"], ["c"]]), [[1.0], [2.0]]):
        with pytest.raises(DOCUMENTED):
            set_weights(net, [np.zeros((3, 2)), bad])
        for ours, theirs in zip(get_weights(net), before, strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_load_state_dict_of_non_numeric_arrays_raises_type_error_and_changes_nothing():
    net = Sequential(Linear(2, 2, rng=0))
    before = net.state_dict()
    state = dict(before, **{"layers.0.bias": np.array(["a", "b"])})
    with pytest.raises(TypeError, match="'layers.0.bias' has non-numeric dtype"):
        net.load_state_dict(state)
    with pytest.raises(TypeError, match="NoneType"):
        net.load_state_dict(None)
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


@pytest.mark.parametrize(
    "contents", [b"", b"not a zip file", b"PK\x03\x04 truncated", b"\x93NUMPY not npz"]
)
def test_loading_a_file_that_is_not_an_npz_archive_raises_value_error(tmp_path, contents):
    net = MLP(2, [1], rng=0)
    before = snapshot(net)
    path = tmp_path / "weights.npz"
    path.write_bytes(contents)
    with pytest.raises(ValueError, match="weights.npz"):
        load(net, path)
    assert_unchanged(net, before)


def test_loading_a_file_of_object_arrays_raises_value_error(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, **{"layers.0.weight": np.array([None, 1], dtype=object)})
    with pytest.raises(ValueError, match="pickled.npz"):
        load(MLP(2, [1], rng=0), path)
    save(MLP(2, [1], rng=0), path)  # a proper file then loads
    load(MLP(2, [1], rng=1), path)


# -- the closed form, the perceptron, the training loop, gradcheck -----------------------

WEIGHTS = [np.full((3, 2), 0.1), np.full((3, 1), 0.2)]


@given(junk)
@settings(max_examples=100)
def test_delta_functions_refuse_malformed_input(x):
    activations = forward(WEIGHTS, [1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call in (
            lambda: forward(WEIGHTS, x),
            lambda: forward(x, [1.0, 0.0]),
            lambda: forward([WEIGHTS[0], x], [1.0, 0.0]),
            lambda: deltas(WEIGHTS, activations, x),
            lambda: deltas(WEIGHTS, x, [1.0]),
            lambda: weight_updates(activations, x, 0.1),
            lambda: weight_updates(activations, [np.ones(2), np.ones(1)], x),
            lambda: sgd_step(WEIGHTS, [1.0, 0.0], x, 0.5),
        ):
            result = attempt(call)
            assert result is None or all(isinstance(a, np.ndarray) for a in result)


@given(junk, junk)
@settings(max_examples=60)
def test_perceptron_refuses_malformed_data_and_settings(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attempt(lambda: Perceptron(2).fit(X, y, max_epochs=3))
        attempt(lambda: Perceptron(2).predict(X))
        attempt(lambda: Perceptron(X))
        attempt(lambda: Perceptron(2, lr=X))
        attempt(lambda: Perceptron(2).fit([[0, 1]], [1], max_epochs=X))


@given(junk, junk)
@settings(max_examples=60)
def test_fit_refuses_malformed_data_before_touching_the_model(X, y):
    net = MLP(2, [1], rng=0)
    before = snapshot(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = attempt(lambda: fit(net, X, y, epochs=1))
    if history is None:
        assert_unchanged(net, before)
    else:
        assert len(history.losses) == 1


@pytest.mark.parametrize(
    "X, y, error, pattern",
    [
        ([[1.0, 2.0]], [[1.0, 2.0]], ValueError, "1 outputs per example"),
        ([[1.0, 2.0, 3.0]], [1.0], ValueError, r"expects .*2.*given .*3"),
        (np.ones((0, 2)), np.ones(0), ValueError, "n >= 1"),
        ([["a", "b"]], [1.0], TypeError, "X must hold real numbers"),
    ],
)
def test_fit_names_the_problem_and_leaves_weights_and_grads_alone(X, y, error, pattern):
    for net in (MLP(2, [1], rng=0), Sequential(Linear(2, 1, rng=0))):
        for p in net.parameters():
            p.grad = 0.5 if isinstance(p, Value) else np.full(p.shape, 0.5)
        before = snapshot(net)
        with pytest.raises(error, match=pattern):
            fit(net, X, y, epochs=1)
        assert_unchanged(net, before)


@given(junk)
@settings(max_examples=60)
def test_gradcheck_refuses_malformed_inputs_and_settings(x):
    attempt(lambda: gradcheck(lambda a: a * a, x))
    for setting in ("eps", "atol", "rtol"):
        attempt(lambda setting=setting: gradcheck(lambda a: a * a, Value(1.0), **{setting: x}))


def test_gradcheck_of_a_function_that_ignores_its_tensor_input_passes_and_detach_fails():
    assert gradcheck(lambda x: Tensor(2.0), Tensor([1.0]))
    assert not gradcheck(lambda x: (x.detach() * x.detach()).sum(), Tensor([1.0]))
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda x: x * x, Value(1.0), eps=0.0)


def test_the_anomaly_error_names_the_op_inside_a_failed_backward():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'\*\*'.*backward"):
        (x**0.5).sum().backward()
    assert x.grad is None  # the failing node's operand received nothing


# -- numerics: finite and silent at any magnitude ------------------------------------------

MAGNITUDES = [1e3, 1e10, 1e100, 1e300]


def reference_sigmoid(z: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * z))  # an identity, independent of the engines


def softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))  # log(1 + e^z), for the oracle


# (name, op on a Value, its value at z, its derivative at z), oracles on plain floats
SCALAR_EXTREMES = [
    (
        "sigmoid",
        Value.sigmoid,
        reference_sigmoid,
        lambda z: reference_sigmoid(z) * reference_sigmoid(-z),
    ),
    ("tanh", Value.tanh, math.tanh, lambda z: 1.0 - math.tanh(z) ** 2),
    (
        "bce from logits, y = 1",  # L = softplus(-z), dL/dz = sigmoid(z) - 1
        lambda v: binary_cross_entropy(v, 1.0, from_logits=True),
        lambda z: softplus(-z),
        lambda z: reference_sigmoid(z) - 1.0,
    ),
    (
        "cross entropy of [z, 0], class 1",  # L = softplus(z), dL/dz = sigmoid(z)
        lambda v: cross_entropy([v, Value(0.0)], 1),
        softplus,
        reference_sigmoid,
    ),
]


@pytest.mark.parametrize("z", [s * m for m in MAGNITUDES for s in (1, -1)])
@pytest.mark.parametrize(
    "name, op, value, derivative", SCALAR_EXTREMES, ids=[e[0] for e in SCALAR_EXTREMES]
)
def test_saturating_functions_and_losses_on_values_are_exact_and_silent(
    name, op, value, derivative, z
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Value(z)
        out = op(x)
        out.backward()
    assert_finite(out.data, x.grad)
    assert out.data == pytest.approx(value(z), rel=1e-12)
    assert x.grad == pytest.approx(derivative(z), abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("magnitude", MAGNITUDES)
def test_saturating_functions_and_losses_on_tensors_are_finite_and_silent(dtype, magnitude):
    magnitude = min(magnitude, float(np.finfo(dtype).max) / 4)
    z_data = np.array([[magnitude, 0.0, -magnitude]])
    targets = np.array([[1.0, 0.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, op in (
            ("sigmoid", lambda z: z.sigmoid().sum()),
            ("tanh", lambda z: z.tanh().sum()),
            ("softmax", lambda z: (z.softmax() * Tensor([[1.0, 2.0, 3.0]], dtype=dtype)).sum()),
            ("log_softmax", lambda z: z.log_softmax()[0, 0]),
            ("bce logits", lambda z: binary_cross_entropy(z, targets, from_logits=True)),
            ("bce", lambda z: binary_cross_entropy(z.sigmoid(), targets)),
            ("cross_entropy", lambda z: cross_entropy(z, [2])),
        ):
            z = Tensor(z_data, requires_grad=True, dtype=dtype)
            out = op(z)
            out.backward()
            assert out.dtype == dtype and z.grad.dtype == dtype, name
            assert_finite(out.data, z.grad)
            if name == "cross_entropy":  # dL/dz = softmax(z) - onehot(2) = [1, 0, -1]
                np.testing.assert_allclose(z.grad, [[1.0, 0.0, -1.0]], atol=1e-6)
                assert out.item() == pytest.approx(2 * magnitude, rel=1e-6)
            if name == "bce logits":  # dL/dz = (sigmoid(z) - y) / n = [0, 0.5 - 0, 0 - 0.5] / 3
                np.testing.assert_allclose(z.grad, [[0.0, 0.5 / 3, -0.5 / 3]], atol=1e-6)


# -- float32 stays float32 ------------------------------------------------------------------

FLOAT32_STEPS = [
    ("add", lambda x: x + 2),
    ("sub", lambda x: 2 - x),
    ("mul", lambda x: x * np.float64(2)),
    ("div", lambda x: 1 / (x + 3)),
    ("pow", lambda x: (x + 3) ** 1.5),
    ("rpow", lambda x: 2.0**x),
    ("exp log", lambda x: (x + 3).log().exp()),
    ("relu", lambda x: x.relu()),
    ("matmul", lambda x: x @ np.ones((3, 2), np.float32)),
    ("max mean", lambda x: x.max(axis=0) + x.mean()),
    ("index", lambda x: x[[0, 0], 1:]),
    ("T reshape", lambda x: x.T.reshape(-1)),
    ("half_sse", lambda x: half_sse(x, np.ones((2, 3)))),
    ("mse", lambda x: mse(x, np.ones((2, 3)))),
    ("linear", lambda x: Linear(3, 2, rng=0, dtype=np.float32)(x)),
]


@pytest.mark.parametrize("name, step", FLOAT32_STEPS, ids=[s[0] for s in FLOAT32_STEPS])
def test_float32_stays_float32_through_ops_losses_and_grads(name, step):
    x = Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True, dtype=np.float32)
    out = step(x).sum()
    out.backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("optimiser", [SGD, Adam])
def test_float32_parameters_stay_float32_through_optimiser_steps(optimiser):
    w = Tensor(np.ones(3), requires_grad=True, dtype=np.float32)
    kwargs = {"momentum": 0.9} if optimiser is SGD else {}
    step = optimiser([w], lr=0.1, **kwargs)
    for _ in range(3):
        step.zero_grad()
        (w * w).sum().backward()
        step.step()
    assert w.dtype == np.float32 and w.grad.dtype == np.float32
    assert np.all(w.data < 1.0)
