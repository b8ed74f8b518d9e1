"""The rules of ``tinygrad_bp.trace``: what is a parameter, an input, a constant; what a
call checks; threads. The oracle is always the eager engine run on a fresh graph
(``fn(*args).backward()``), compared bitwise, or a hand-computed number.
"""

import copy
import math
import threading

import numpy as np
import pytest

import tinygrad_bp
from tinygrad_bp import Tensor, Value, engine, functions, graph, losses, tensor, trace
from tinygrad_bp.nn import MLP, tensor_mlp
from tinygrad_bp.optim import Adam
from tinygrad_bp.testing.catalogue import CATALOGUE
from tinygrad_bp.train import fit


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


# -- one run ----------------------------------------------------------------------------------


def test_fn_runs_exactly_once_when_traced():
    w = Value(0.5)
    calls = []

    def fn(x):
        calls.append(x)
        return (w * x).tanh()

    step = trace(fn, 2.0)
    assert len(calls) == 1
    step(3.0)
    assert len(calls) == 1  # the step does not call fn


def test_tracing_moves_no_parameter_another_thread_reads():
    net = MLP(3, [8, 8, 1], rng=0)
    params = net.parameters()
    before = [p.data for p in params]
    stop, seen = threading.Event(), []

    def watch():
        while not stop.is_set():
            seen.append([p.data for p in params])

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(5):
            trace(lambda x, y: losses.half_sse(net(x), y), [0.1, 0.2, 0.3], 1.0)
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert seen and all(values == before for values in seen)
    assert all(type(value) is float for values in seen for value in values)


# -- the table of "never silently wrong" ----------------------------------------------------


def test_a_branch_on_a_number_input_is_checked_before_any_grad():
    w = Value(0.5)
    step = trace(lambda x: w * w if x > 100 else w * x, 1.0)
    assert step(2.0) == 1.0
    grad = w.grad
    with pytest.raises(ValueError, match="branches on data"):
        step(500.0)  # eager: w * w = 0.25; the traced path would say 250
    assert w.grad == grad


def test_a_tensor_branch_on_a_numpy_input_is_checked():
    w = Tensor([[1.0], [2.0]], requires_grad=True)

    def fn(x):
        out = x @ w
        return (out * out).sum() if np.all(x < 100) else out.sum()

    step = trace(fn, np.ones((3, 2)))
    with pytest.raises(ValueError, match="branches on data"):
        step(np.full((3, 2), 600.0))
    assert w.grad is None


def test_an_integer_input_is_part_of_the_call():
    w = Value(0.5)
    step = trace(lambda x, n: w * (n // 1000) + w * x, 1.0, 5)
    assert step(2.0, 5) == 1.0
    with pytest.raises(ValueError, match=r"args\[1\]: 5 when traced, 5000 now"):
        step(2.0, 5000)  # eager: 0.5 * 5 + 1.0


def test_a_bool_input_is_part_of_the_call():
    w = Value(0.5)
    step = trace(lambda x, b: w * b + w * x, 1.0, True)
    with pytest.raises(ValueError, match=r"args\[1\]: True when traced, False now"):
        step(1.0, False)


def test_a_parameter_passed_as_an_argument_is_refused():
    w = Value(2.0)
    with pytest.raises(ValueError, match="also used directly"):
        trace(lambda x: w * x + w, w)


def test_one_object_at_two_argument_positions_is_refused():
    w = Value(0.5)
    a = Value(2.5)
    with pytest.raises(ValueError, match="two argument positions"):
        trace(lambda x, y: w * x + y, a, a)
    step = trace(lambda x, y: w * x + y, Value(1.0), Value(2.0))
    with pytest.raises(ValueError, match="two argument positions"):
        step(a, a)


def test_a_dict_argument_changed_in_place_is_noticed():
    w = Value(0.5)
    config = {"scale": 2.0}
    step = trace(lambda x, c: w * x * c["scale"], 1.0, config)
    assert step(1.0, config) == 1.0
    config["scale"] = 5.0
    with pytest.raises(ValueError, match=r"args\[1\]\['scale'\]: 2.0 when traced, 5.0 now"):
        step(1.0, config)


# Nested arguments: (fn, the example, a call shaped otherwise, the message's first difference).
W = Value(0.5, label="w")
T = Tensor(np.ones(3), requires_grad=True)
NESTED = {
    "list of lists of numbers": (
        lambda x, rows: W * (rows[1][2] + rows[0][0]) + x,
        (1.0, [[1.0, 2.0], [3.0, 4.0, 5.0]]),
        (1.0, [[1.0, 2.0], [3.0, 4.0, 5.0, 6.0]]),
        r"args\[1\]\[1\]: a list of 3 items when traced, 4 now",
    ),
    "a number for a Value, three deep": (
        lambda p: W * p[1][0][0],
        ([1.0, [[Value(2.0)]]],),
        ([1.0, [[2.0]]],),
        r"args\[0\]\[1\]\[0\]\[0\]: a Value when traced, a number now",
    ),
    "an integer in a tuple of tuples": (
        lambda p: W * p[1][0],
        ((1.0, (2.0, 3)),),
        ((1.0, (2.0, 4)),),
        r"args\[0\]\[1\]\[1\]: 3 when traced, 4 now",
    ),
    "an array in a list, scalar engine": (
        lambda p: W * p[1][0].sum() + p[0].sum(),
        ([np.zeros(2), [np.ones(3)]],),
        ([np.zeros(2), [np.ones(4)]],),
        r"args\[0\]\[1\]\[0\]: a numpy array of shape \(3,\) \(float64\) when traced, "
        r"a numpy array of shape \(4,\) \(float64\) now",
    ),
    "an array in a tuple, tensor engine": (
        lambda p: (T * Tensor(p[1][0])).sum(),
        ((np.zeros(2), (np.ones(3),)),),
        ((np.zeros(2), (np.ones(4),)),),
        r"args\[0\]\[1\]\[0\]: a numpy array of shape \(3,\) \(float64\) when traced, "
        r"a numpy array of shape \(4,\) \(float64\) now",
    ),
    "a list in a dict in a dict": (
        lambda d: W * d["a"]["b"][1],
        ({"a": {"b": [1.0, 2.0]}},),
        ({"a": {"b": [1.0, 2.0, 3.0]}},),
        r"args\[0\]\['a'\]\['b'\]: a list of 2 items when traced, 3 now",
    ),
    "a number in a dict in a list": (
        lambda x, p: W * x * p[1]["scale"],
        (1.0, [0, {"scale": 2.0}]),
        (1.0, [0, {"scale": 2.5}]),
        r"args\[1\]\[1\]\['scale'\]: 2.0 when traced, 2.5 now",
    ),
    "an array in a dict": (
        lambda x, d: W * x * float(d["x"].sum()),
        (1.0, {"x": np.zeros(2)}),
        (1.0, {"x": np.ones(2)}),
        r"args\[1\]\['x'\]: a numpy array of shape \(2,\) \(float64\) with other values",
    ),
    "another Value in a dict": (
        lambda d: W * d["v"],
        ({"v": Value(2.0)},),
        ({"v": Value(2.0)},),
        r"args\[0\]\['v'\]: another Value than when traced",
    ),
    "another key in a dict": (
        lambda x, d: W * x * d["a"],
        (1.0, {"a": 1.0}),
        (1.0, {"a": 1.0, "b": 2.0}),
        r"args\[1\]: a dict with keys \['a'\] when traced, \['a', 'b'\] now",
    ),
}


@pytest.mark.parametrize("case", list(NESTED))
def test_a_nested_difference_is_named_by_its_path_before_any_grad_changes(case):
    fn, example, call, message = NESTED[case]
    step = trace(fn, *example)
    nodes = [W, T, *(x for x in tinygrad_bp.tracing.flatten(call)[1] if isinstance(x, Value))]
    sentinels = [7.0, np.full(3, 7.0), *[7.0] * (len(nodes) - 2)]
    for node, sentinel in zip(nodes, sentinels):
        node.grad = copy.copy(sentinel)
    with pytest.raises(ValueError, match=message):
        step(*call)
    assert all(same(node.grad, sentinel) for node, sentinel in zip(nodes, sentinels))


def test_a_value_inside_a_dict_is_a_parameter_compared_by_identity():
    v = Value(2.0, label="v")
    step = trace(lambda x, d: (d["v"] * x).tanh(), 0.3, {"v": v})
    loss = step(0.7, {"v": v})
    eager_v = Value(2.0)
    eager = (eager_v * 0.7).tanh()
    eager.backward()
    assert (loss, v.grad) == (eager.data, eager_v.grad)


def test_a_parameter_frozen_after_tracing_gets_no_grad():
    W = Tensor([[1.0], [2.0]], requires_grad=True)
    b = Tensor([0.5], requires_grad=True)
    step = trace(lambda x: (x @ W + b).sum(), np.ones((3, 2)))
    W.requires_grad = False
    step(np.ones((3, 2)))
    assert W.grad is None and same(b.grad, [3.0])


def test_a_parameter_unfrozen_after_tracing_is_refused():
    W = Tensor([[1.0], [2.0]])
    b = Tensor([0.5], requires_grad=True)
    step = trace(lambda x: (x @ W + b).sum(), np.ones((3, 2)))
    W.requires_grad = True
    with pytest.raises(ValueError, match="requires grad now"):
        step(np.ones((3, 2)))
    assert b.grad is None


SCALE = 2.0


def test_module_globals_are_constants_of_the_step():
    """As in JAX: a global is read when traced; the step keeps that value."""
    global SCALE
    w = Value(0.5)
    step = trace(lambda x: w * x * SCALE, 1.0)
    try:
        SCALE = 3.0
        assert step(1.0) == 1.0  # 0.5 * 1 * 2, not 0.5 * 1 * 3
    finally:
        SCALE = 2.0


def test_a_replaced_parameter_object_is_not_seen():
    """The step holds the parameter objects it traced: assign to .data, not a new object."""

    class Model:
        def __init__(self):
            self.w = Value(0.5)

    m = Model()
    old = m.w
    step = trace(lambda x: m.w * x, 2.0)
    m.w = Value(9.0)
    assert step(2.0) == 1.0 and old.grad == 2.0 and m.w.grad == 0.0


# -- no global state --------------------------------------------------------------------------


def _library_attributes():
    modules = [tinygrad_bp, engine, tensor, functions, graph]
    classes = [Value, Tensor, *vars(functions).values()]
    seen = {}
    for owner in [*modules, *(c for c in classes if isinstance(c, type))]:
        for name, value in vars(owner).items():
            if name != "__slotnames__":  # copyreg's cache, set by the first copy of an instance
                seen[(id(owner), name)] = value
    return seen


def test_concurrent_traces_leave_every_library_attribute_as_it_was():
    before = _library_attributes()
    errors = []

    def work(seed):
        try:
            net = MLP(2, [3, 1], rng=seed)
            tnet = tensor_mlp([2, 4, 1], rng=seed)
            for _ in range(3):
                trace(lambda x, y: losses.mse(net(x), y), [0.5, -0.5], 1.0)
                trace(lambda X, y: losses.mse(tnet(X), y), np.ones((4, 2)), np.zeros((4, 1)))
        except Exception as error:  # collected: the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    after = _library_attributes()
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before)
    assert graph.mode.plain  # no block of any thread left open


def _tensor_fit(seed, batch):
    return fit(
        tensor_mlp([4, 16, 16, 1], rng=seed),
        np.linspace(-1, 1, 64 * 4).reshape(64, 4),
        np.linspace(0, 1, 64).reshape(64, 1),
        loss=losses.mse,
        epochs=2,
        batch_size=batch,
        progress=False,
        rng=0,
    ).losses


def _scalar_fit(seed):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    return fit(MLP(2, [3, 1], rng=seed), X, y, epochs=3, progress=False, rng=0).losses


def test_fit_in_four_threads_gives_each_threads_own_history():
    """The issue's reproduction (fit traces by default): no error, and the histories of a
    sequential run."""
    jobs = [(s, k) for s in range(4) for k in range(3)]
    expected = {job: (_tensor_fit(job[0], 8 + job[1]), _scalar_fit(job[0])) for job in jobs}
    results, errors = {}, []

    def work(seed):
        try:
            for k in range(3):
                results[(seed, k)] = (_tensor_fit(seed, 8 + k), _scalar_fit(seed))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    assert results == expected


def test_traces_in_one_thread_leave_another_threads_eager_steps_exact():
    w = Value(0.3)
    expected = []
    for i in range(200):
        x = Value(i / 100.0)
        expected.append(((w * x).tanh() * x).data)
    stop, errors = threading.Event(), []

    def tracing_loop():
        v = Value(0.7)
        while not stop.is_set():
            step = trace(lambda x: (v * x).sigmoid() * max(v.data, 0.1), 0.5)
            step(1.0)

    worker = threading.Thread(target=tracing_loop)
    worker.start()
    try:
        for _ in range(5):
            for i in range(200):
                x = Value(i / 100.0)
                out = (w * x).tanh() * x
                if out.data != expected[i] or type(out.data) is not float:
                    errors.append(i)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not errors


# -- what training loops pass -------------------------------------------------------------------

LOSSES = [losses.half_sse, losses.mse, losses.binary_cross_entropy]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("form", ["Tensor", "ndarray", "list", "number"])
def test_a_tensor_loss_traces_with_targets_in_any_form(loss, form):
    nets = [tensor_mlp([2, 3, 1], "tanh", "sigmoid", rng=0) for _ in range(2)]
    rows = 1 if form == "number" else 4

    def target(values):
        y = np.asarray(values, dtype=np.float64).reshape(rows, 1)
        return {
            "Tensor": Tensor(y),
            "ndarray": y,
            "list": y.tolist(),
            "number": float(y.reshape(-1)[0]),
        }[form]

    step = trace(lambda X, y: loss(nets[0](X), y), np.ones((rows, 2)), target([0.25] * rows))
    X = np.linspace(-1.0, 1.0, rows * 2).reshape(rows, 2)
    new = target(np.linspace(0.1, 0.9, rows))
    traced = step(X, new)
    eager = loss(nets[1](X), target(np.linspace(0.1, 0.9, rows)))
    eager.backward()
    assert same(traced, eager.item())
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert same(a.grad, b.grad)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("form", ["Tensor", "ndarray", "list", "number"])
def test_a_scalar_loss_traces_with_targets_in_any_form(loss, form):
    nets = [MLP(2, [3, 1], rng=0) for _ in range(2)]

    def target(value):
        y = np.array([value])
        return {"Tensor": Tensor(y), "ndarray": y, "list": [value], "number": value}[form]

    step = trace(lambda x, y: loss(nets[0](x), y), [0.5, 0.5], target(0.25))
    traced = step([-1.0, 2.0], target(0.75))
    eager = loss(nets[1]([-1.0, 2.0]), target(0.75))
    eager.backward()
    assert traced == eager.data
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert a.grad == b.grad


@pytest.mark.parametrize("form", ["Tensor", "ndarray", "list"])
def test_cross_entropy_traces_with_class_targets_in_any_form(form):
    nets = [tensor_mlp([2, 3], "relu", None, rng=0) for _ in range(2)]
    make = {"Tensor": lambda c: Tensor(np.array(c, float)), "ndarray": np.array, "list": list}
    make_targets = make[form]
    X = np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])
    step = trace(lambda X, y: losses.cross_entropy(nets[0](X), y), X, make_targets([0, 1, 2]))
    new = [2, 2, 0]
    try:
        traced = step(X * 2, make_targets(new))
    except ValueError as error:  # a list of ints is part of the call's structure
        assert form == "list" and "args[1][0]: 0 when traced, 2 now" in str(error)
        return
    eager = losses.cross_entropy(nets[1](X * 2), make_targets(new))
    eager.backward()
    assert same(traced, eager.item())
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert same(a.grad, b.grad)


def _softmax(logits):
    top = max(v.data for v in logits)  # microgpt's way: a max over the data
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def test_a_microgpt_style_softmax_replays_across_parameter_updates():
    """The max over .data is recomputed: when the largest logit changes, no guard trips."""
    rng = np.random.default_rng(0)
    params = [[Value(float(x)) for x in rng.normal(0, 1, 3)] for _ in range(4)]
    flat = [p for row in params for p in row]

    def doc_loss(xs, target):
        logits = [sum((w * x for w, x in zip(row, xs)), Value(0.0)) for row in params]
        return -_softmax(logits)[target].log()

    step = trace(doc_loss, [1.0, -0.5, 0.25], 2)
    eager_params = copy.deepcopy(params)
    eager_flat = [p for row in eager_params for p in row]
    optimizers = [Adam(flat, lr=0.5), Adam(eager_flat, lr=0.5)]
    argmaxes = set()
    for i in range(30):
        xs = [math.sin(i + k) for k in range(3)]
        optimizers[0].zero_grad()
        traced = step(xs, 2)
        optimizers[0].step()
        optimizers[1].zero_grad()
        logits = [sum((w * x for w, x in zip(row, xs)), Value(0.0)) for row in eager_params]
        argmaxes.add(int(np.argmax([v.data for v in logits])))
        eager = -_softmax(logits)[2].log()
        eager.backward()
        optimizers[1].step()
        assert traced == eager.data
        assert [p.data for p in flat] == [p.data for p in eager_flat]
    assert len(argmaxes) > 1  # the largest logit did change


# -- every tensor op of the catalogue replays ------------------------------------------------------


def _point(arg):
    x = arg.low + 0.37 * (arg.high - arg.low)
    while not arg.is_clear(x):
        x += 0.01 * (arg.high - arg.low)
    return x


@pytest.mark.parametrize("op", [op for op in CATALOGUE if op.tensor], ids=lambda op: op.name)
def test_every_tensor_op_of_the_catalogue_replays_as_eager(op):
    shape = (2, 3)[: max(op.min_dims, 2)]
    numbers = [_point(arg) for arg in op.numbers]

    def make():
        return [
            Tensor(np.full(shape, _point(arg)) + np.arange(6).reshape(shape) * 1e-3, True)
            for arg in op.values
        ]

    params, eager_params = make(), make()
    f = op.with_numbers(op.ours, numbers)

    def fn(scale):
        out = f(*(p * scale for p in params))
        return (out * out).sum()

    step = trace(fn, np.ones(shape))
    scale = np.full(shape, 0.9)
    traced = step(scale)
    out = f(*(p * scale for p in eager_params))
    eager = (out * out).sum()
    eager.backward()
    assert same(traced, eager.item())
    for a, b in zip(params, eager_params, strict=True):
        assert same(a.grad, b.grad)
    # each primitive's rule is written out as numpy lines, except where it decides on numbers
    # that can change between calls: Pow with a tensor exponent (is it 0 anywhere?)
    assert (".backward(" in step.source) == (op.name in CALLED_THROUGH), step.source


CALLED_THROUGH = {"pow_values"}


def test_a_microgpt_training_step_replays_equal_to_eager_across_adam_updates():
    """microgpt's GPT (benchmarks/microgpt.py): one traced step per name, Adam between calls."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import microgpt as mg

    params, eager_params = mg.make_params(Value, seed=0), mg.make_params(Value, seed=0)
    docs = [mg.tokens_of("mia"), mg.tokens_of("ava")]
    steps = [trace(lambda t: mg.document_loss(Value, params, t), doc) for doc in docs]
    optimizers = [Adam(mg.parameters(params), lr=0.05), Adam(mg.parameters(eager_params), lr=0.05)]
    for _ in range(2):
        for step, doc in zip(steps, docs):
            optimizers[0].zero_grad()
            traced = step(doc)
            optimizers[0].step()
            optimizers[1].zero_grad()
            eager = mg.document_loss(Value, eager_params, doc)
            eager.backward()
            optimizers[1].step()
            assert traced == eager.data
    assert [p.data for p in mg.parameters(params)] == [p.data for p in mg.parameters(eager_params)]


def test_a_node_whose_derivatives_are_graph_nodes_is_refused():
    """What grad(..., create_graph=True) makes: refused with the reason, never replayed."""
    w = Value(2.0)

    def fn(x):
        out = w * x
        out.local_grads = (Value(x), Value(2.0))  # derivatives that are nodes themselves
        return out

    with pytest.raises(ValueError, match="create_graph"):
        trace(fn, 3.0)


# -- arguments no walk could finish ---------------------------------------------------------


def _self_holding_list():
    loop = [1.0]
    loop.append(loop)
    return loop


def _shared_forty_times():
    shared = [1.0]
    for _ in range(40):
        shared = [shared, shared]  # 2**40 paths to the one number
    return shared


def _nested(levels):
    part = 1.0
    for _ in range(levels):
        part = [part]
    return part


@pytest.mark.parametrize(
    "argument, message",
    [
        (_self_holding_list(), r"args\[1\]\[1\] holds itself"),
        ({"a": _self_holding_list()}, r"args\[1\]\['a'\]\[1\] holds itself"),
        (_shared_forty_times(), "more than 1,000,000 parts"),
        (_nested(150), r"args\[1\] nests .* more than 100 levels"),
    ],
)
def test_arguments_that_no_walk_could_finish_are_refused_by_place(argument, message):
    w = Value(0.5)
    with pytest.raises(ValueError, match=message):
        trace(lambda x, extra: w * x, Value(2.0), argument)
    assert w.grad == 0.0


@pytest.mark.parametrize("argument", [_self_holding_list(), _shared_forty_times()])
def test_a_call_with_such_an_argument_is_refused_before_any_grad(argument):
    w = Value(0.5)
    step = trace(lambda x, extra: w * x * extra[0], Value(2.0), [1.0])
    with pytest.raises(ValueError, match="holds itself|parts"):
        step(Value(2.0), argument)
    assert w.grad == 0.0
