"""Tests for the step-through of backward: viz.backward_frames and viz.render_backward.

The oracles are independent of the code under test: a graph walk written here
(not ``graph.toposort``), a fresh copy of the same expression run through
``backward()``, and the derivation's delta rules (``tinygrad_bp.delta``).
"""

import html
import json
import re
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import finite
from user_ops import micrograd_relu

from conftest import needs_chromium, needs_dot
from tinygrad_bp import Tensor, Value, delta, detect_anomaly, losses, nn
from tinygrad_bp.check import AnomalyError
from tinygrad_bp.graph import mode, observing
from tinygrad_bp.viz import (
    MAX_FRAMES,
    GraphTooLargeError,
    backward_frames,
    draw_dot,
    render_backward,
)

# The derivation's worked example: 2-2-1 sigmoid network, (n_in + 1, n_out) weights.
WORKED_WEIGHTS = [
    np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]),
    np.array([[1.0], [0.3], [0.4]]),
]
WORKED_INPUT, WORKED_TARGET = [1.0, 0.0], 1.0


# -- helpers -------------------------------------------------------------------------------


def reachable(root):
    """Every node reachable from root (by id), and the consumers of each: our own walk."""
    nodes, consumers = {id(root): root}, {id(root): []}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            if id(child) not in nodes:
                nodes[id(child)] = child
                consumers[id(child)] = []
                stack.append(child)
            if node not in consumers[id(child)]:
                consumers[id(child)].append(node)
    return nodes, consumers


def records(source: str) -> dict[str, tuple[str, str]]:
    """DOT node name -> (record label, the rest of its attributes) of every record."""
    found = re.findall(r'^\s*(v\d+) \[label="(.*)" (.*)\]$', source, re.MULTILINE)
    return {name: (label, attrs) for name, label, attrs in found if "shape=record" in attrs}


def fields(label: str) -> list[str]:
    """The fields of a record label, drawn stacked (``a | b``) or side by side (``{ a | b }``)."""
    return label.strip("{} ").split(" | ")


def shown_grads(source: str) -> dict[str, str]:
    """Node label -> the grad field its record shows ("grad not computed", "grad 0.5")."""
    return {fields(label)[0]: fields(label)[-1] for label, _ in records(source).values()}


def highlighted(source: str) -> list[str]:
    """The labels of the records filled gold."""
    return [
        fields(label)[0] for label, attrs in records(source).values() if "fillcolor=gold" in attrs
    ]


UNARY = {"tanh": Value.tanh, "sigmoid": Value.sigmoid, "relu": Value.relu, "square": None}
BINARY = {"+": Value.__add__, "*": Value.__mul__}


@st.composite
def recipes(draw):
    """A random expression DAG as a recipe: leaf values, then (op, operand indices) steps.

    Operands are drawn from every earlier node, so subexpressions are shared and an
    operand may be used twice (``x * x``). Only primitive ops: one node per step.
    """
    leaves = draw(st.lists(finite, min_size=1, max_size=4))
    steps = []
    for size in range(len(leaves), len(leaves) + draw(st.integers(1, 12))):
        op = draw(st.sampled_from(sorted(UNARY) + sorted(BINARY)))
        arity = 1 if op in UNARY else 2
        steps.append((op, [draw(st.integers(0, size - 1)) for _ in range(arity)]))
    return leaves, steps


def build(recipe) -> Value:
    """The root (last node) of a recipe's expression; node i is labelled n<i>."""
    leaves, steps = recipe
    nodes = [Value(x) for x in leaves]
    for op, operands in steps:
        args = [nodes[i] for i in operands]
        if op == "square":
            nodes.append(args[0] ** 2)
        else:
            nodes.append({**UNARY, **BINARY}[op](*args))
    for i, node in enumerate(nodes):
        node.label = f"n{i}"
    return nodes[-1]


def worked_example():
    """J of the worked example, with its units, net inputs and weights labelled.

    Returns (J, net, net inputs by name, activations by name).
    """
    net = nn.MLP(2, [2, 1])
    nn.set_weights(net, WORKED_WEIGHTS)
    for layer_number, layer in enumerate(net.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            for i, w in enumerate([neuron.b, *neuron.w]):
                w.label = f"w[{layer_number}][{i},{j}]"
    x = [Value(xi, label=f"x{i}") for i, xi in enumerate(WORKED_INPUT, start=1)]
    hidden = net.layers[0](x)
    output = net.layers[1](hidden)
    units = {"h1": hidden[0], "h2": hidden[1], "o": output}
    for name, unit in units.items():
        unit.label = name
        unit.children[0].label = f"z_{name}"  # sigmoid(z): its only child is the net input
    J = losses.half_sse(output, WORKED_TARGET)
    J.label = "J"
    return J, net, units


def expression():
    """f = tanh(a*b + c) * a, with a used twice; every node labelled."""
    a, b, c = Value(0.5, label="a"), Value(-1.5, label="b"), Value(1.0, label="c")
    ab = a * b
    ab.label = "ab"
    s = ab + c
    s.label = "s"
    t = s.tanh()
    t.label = "t"
    f = t * a
    f.label = "f"
    return f


# -- the frames ------------------------------------------------------------------------------


def test_one_frame_per_node_receiving_a_gradient_plus_the_start():
    f = expression()
    nodes, _ = reachable(f)
    frames = backward_frames(f)
    assert len(frames) == len(nodes) + 1 == 8
    assert [frame.step for frame in frames] == list(range(len(frames)))
    assert frames[0].node is None
    assert {id(frame.node) for frame in frames[1:]} == set(nodes)


def test_start_frame_shows_nothing_computed():
    frames = backward_frames(expression())
    assert set(shown_grads(frames[0].digraph.source).values()) == {"grad not computed"}
    assert highlighted(frames[0].digraph.source) == []
    assert frames[0].caption.startswith("Start:")


def test_a_tensor_that_needs_no_grad_gets_no_frame():
    x = Tensor([1.0, 2.0], requires_grad=True, label="x")
    scale = Tensor([3.0, 4.0], label="scale")  # requires_grad=False: receives no gradient
    out = (x * scale).sum()
    out.label = "out"
    nodes, _ = reachable(out)
    receiving = [node for node in nodes.values() if node.requires_grad]
    frames = backward_frames(out)
    assert len(nodes) == 4 and len(frames) == len(receiving) + 1 == 4
    assert all(frame.node is not scale for frame in frames)
    assert shown_grads(frames[0].digraph.source)["scale"] == "grad None"


def test_last_frame_shows_the_grads_of_a_fresh_backward():
    fresh = expression()
    fresh.backward()
    expected = draw_dot(fresh).source
    last = backward_frames(expression())[-1].digraph.source
    assert shown_grads(last) == shown_grads(expected)
    assert {name: fields(label) for name, (label, _) in records(last).items()} == {
        name: fields(label) for name, (label, _) in records(expected).items()
    }


def test_last_frame_of_a_tensor_graph_shows_the_grads_of_a_fresh_backward():
    def network():
        x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, label="x")
        w = Tensor([[0.5], [-0.5]], requires_grad=True, label="w")
        out = (x @ w).sigmoid().sum()
        out.label = "out"
        return out

    fresh = network()
    fresh.backward()
    assert shown_grads(backward_frames(network())[-1].digraph.source) == shown_grads(
        draw_dot(fresh).source
    )


def test_edges_show_the_local_derivative_and_what_they_carried():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    before, after = (frame.digraph.source for frame in backward_frames(c)[:2])
    # dc/da = b = -3, dc/db = a = 2; with dJ/dc = 1 the edges carry -3 and 2
    assert 'v0 -> op2 [label="local -3" color="#999999"' in before
    assert 'v0 -> op2 [label="local -3\\nsent -3" color=red' in after
    assert 'v1 -> op2 [label="local 2\\nsent 2" color=red' in after


def test_tensor_edges_show_a_summary_of_what_they_carried():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label="x")
    out = (x * 2.0).sum()
    frames = backward_frames(out)
    sum_step = next(frame for frame in frames if frame.node is out).digraph.source
    assert re.search(r'-> op\d+ \[label="sent mean 1 min 1 max 1"', sum_step)


@given(recipes())
def test_every_consumer_is_final_when_a_node_is_highlighted(recipe):
    root = build(recipe)
    nodes, consumers = reachable(root)
    frames = backward_frames(root)
    assert len(frames) == len(nodes) + 1
    step_of = {id(frame.node): frame.step for frame in frames[1:]}
    for frame in frames[1:]:
        source = frame.digraph.source
        grads = shown_grads(source)
        assert highlighted(source) == [frame.node.label]
        assert grads[frame.node.label] != "grad not computed"
        for consumer in consumers[id(frame.node)]:
            assert step_of[id(consumer)] < frame.step
            assert grads[consumer.label] != "grad not computed"
        reached = {node.label for node in nodes.values() if step_of[id(node)] <= frame.step}
        assert {label for label, grad in grads.items() if grad != "grad not computed"} == reached
    fresh = build(recipe)
    fresh.backward()
    assert shown_grads(frames[-1].digraph.source) == shown_grads(draw_dot(fresh).source)


def test_the_users_graph_and_grads_are_left_as_they_were(tmp_path):
    f = expression()
    f.backward()
    nodes, _ = reachable(f)
    before = {key: node.grad for key, node in nodes.items()}
    frames = backward_frames(f)
    assert {key: node.grad for key, node in nodes.items()} == before
    assert mode.forward_hook is None and mode.backward_hook is None
    visited = [frame.node.label for frame in frames[1:]]
    assert visited.index("a") > max(visited.index("f"), visited.index("ab"))  # after both users
    f.backward()  # nothing left pending: a second backward exactly doubles every grad
    assert {key: node.grad for key, node in nodes.items()} == {
        key: 2 * grad for key, grad in before.items()
    }


def test_tensor_grads_are_left_as_they_were():
    x = Tensor([1.0, 2.0], requires_grad=True, label="x")
    w = Tensor([0.5, -1.0], requires_grad=True, label="w")
    out = (x * w).sum()
    x.backward(np.array([7.0, 8.0]))  # only x holds a grad; w's is None
    x_grad = x.grad
    backward_frames(out)
    assert x.grad is x_grad and x_grad.tolist() == [7.0, 8.0]
    assert w.grad is None and out.grad is None


def test_an_anomaly_during_the_sweep_raises_and_still_restores_everything():
    x = Value(0.0, label="x")
    y = x**0.5 * 0.0  # d/dx sqrt(x) = inf at 0: the sweep sends nan
    with detect_anomaly():
        hooks = mode.forward_hook, mode.backward_hook
        with pytest.raises(AnomalyError):
            backward_frames(y)
        assert (mode.forward_hook, mode.backward_hook) == hooks
    assert x.grad == 0.0 and y.grad == 0.0
    assert mode.forward_hook is None and mode.backward_hook is None


def test_the_worked_example_visits_the_output_first_and_the_weights_last():
    J, net, units = worked_example()
    nodes, _ = reachable(J)
    frames = backward_frames(J)
    assert len(frames) == len(nodes) + 1
    sequence = [frame.node for frame in frames[1:]]
    step = {id(node): position for position, node in enumerate(sequence)}
    weights = net.parameters()
    assert sequence[0] is J
    assert step[id(units["o"])] < min(step[id(units["h1"])], step[id(units["h2"])])
    assert all(step[id(units["o"])] < step[id(w)] for w in weights)
    assert sequence[-1] in weights or sequence[-1] in units.values()  # a leaf comes last
    for neuron, unit in zip(net.layers[0].neurons, ["h1", "h2"], strict=True):
        assert all(step[id(units[unit])] < step[id(w)] for w in [neuron.b, *neuron.w])
    assert [frame.caption.split(":")[0] for frame in frames[:2]] == ["Start", "Step 1 of 22"]
    assert "the gradient of J is final, 1 (the seed)" in frames[1].caption


def test_the_worked_example_shows_the_deltas_of_the_derivation():
    J, _, units = worked_example()
    activations = delta.forward(WORKED_WEIGHTS, np.array(WORKED_INPUT))
    hidden_delta, output_delta = delta.deltas(WORKED_WEIGHTS, activations, np.array([1.0]))
    frames = backward_frames(J)
    expected = {"z_o": -output_delta[0], "z_h1": -hidden_delta[0], "z_h2": -hidden_delta[1]}
    for name, grad in expected.items():  # dJ/dz = -delta
        frame = next(frame for frame in frames if frame.node is units[name[2:]].children[0])
        assert shown_grads(frame.digraph.source)[name] == f"grad {grad:.4g}"
        assert frame.caption.startswith(f"Step {frame.step} of 22: the gradient of {name}")
    assert all(w.grad == 0.0 for w in J.children[0].children)  # still untouched


# -- the order: exactly backward()'s ---------------------------------------------------------


def engine_sweep_order(root) -> list:
    """The nodes in the order a real ``root.backward()`` completes their gradients.

    Each node with children when the sweep reports it to a backward observer, each
    leaf right after the last of its consumers (its gradient is complete then).
    """
    reported = []
    with observing(backward=lambda node, sent: reported.append(node)):
        root.backward()
    last_consumer = {}
    for node in reported:
        for child in node.children:
            if not child.children:
                last_consumer[child] = node
    order = []
    for node in reported:
        order.append(node)
        for child in node.children:
            if last_consumer.get(child) is node:
                order.append(child)
                del last_consumer[child]
    return order


def test_the_frames_follow_backwards_own_sweep_layer_by_layer():
    J, net, units = worked_example()
    frames = backward_frames(J)
    fresh_J, *_ = worked_example()
    swept = engine_sweep_order(fresh_J)

    def signature(node):
        return node.label, node.op, node.data

    assert [signature(frame.node) for frame in frames[1:]] == [signature(n) for n in swept]
    # Layer by layer: every output-layer weight before the hidden units' net inputs,
    # every hidden-layer weight after every output-layer weight.
    step = {id(frame.node): frame.step for frame in frames[1:]}
    output_weights = [net.layers[1].neurons[0].b, *net.layers[1].neurons[0].w]
    hidden_weights = [w for neuron in net.layers[0].neurons for w in [neuron.b, *neuron.w]]
    z_hidden = [units[name].children[0] for name in ("h1", "h2")]
    assert max(step[id(w)] for w in output_weights) < min(step[id(z)] for z in z_hidden)
    assert max(step[id(w)] for w in output_weights) < min(step[id(w)] for w in hidden_weights)


def test_the_page_steps_in_backwards_own_order(tmp_path, dot_program):
    J, *_ = worked_example()
    page = render_backward(J, tmp_path / "backward.html", show_constants=False)
    data = sweep_data(page)
    fresh_J, *_ = worked_example()
    swept = [node for node in engine_sweep_order(fresh_J) if node.children or node.label]
    titles = set(re.findall(r'<g id="(v\d+)" class="node">', page_text(page)))
    assert len(data["steps"]) == len(swept) == 20  # 22 nodes, 2 of them constants
    labels = [record_label(page_text(page), record) for record in data["steps"]]
    assert labels == [node.label or f"data {node.data:.4g}" for node in swept]
    assert set(data["steps"]) <= titles


# -- leaving constants and inputs out -----------------------------------------------------------


def test_hidden_constants_and_inputs_take_no_step():
    J, net, units = worked_example()
    nodes, _ = reachable(J)
    constants = [node for node in nodes.values() if not node.children and not node.label]
    inputs = [node for node in nodes.values() if node.label in ("x1", "x2")]
    assert len(constants) == 2 and len(nodes) == 22
    frames = backward_frames(J, show_constants=False, hidden=inputs)
    assert len(frames) == 22 - 2 - 2 + 1
    stepped = {id(frame.node) for frame in frames[1:]}
    assert not stepped & {id(node) for node in constants + inputs}
    assert frames[1].caption.startswith("Step 1 of 18: the gradient of J is final, 1")
    source = frames[-1].digraph.source
    assert "w·x+b x1=1 x2=0" in source  # the hidden inputs are named on their operation
    assert "* 0.5" in source  # and the constant of half_sse on its
    # The gradients shown are still the full sweep's: dJ/dz = -delta, by the delta rules.
    activations = delta.forward(WORKED_WEIGHTS, np.array(WORKED_INPUT))
    output_delta = delta.deltas(WORKED_WEIGHTS, activations, np.array([1.0]))[1]
    assert shown_grads(source)["z_o"] == f"grad {-output_delta[0]:.4g}"


# -- nodes built by hand ------------------------------------------------------------------------


def test_a_node_built_by_hand_gets_its_step_and_no_invented_derivative():
    x = Value(2.0, label="x")
    scaled = x * 3.0
    scaled.label = "s"
    y = micrograd_relu(scaled)
    y.label = "y"
    frames = backward_frames(y)
    assert [frame.node.label for frame in frames[1:]] == ["y", "s", "x", ""]
    assert "your _backward closure sends its share back" in frames[1].caption
    source = frames[1].digraph.source
    assert "ReLU (your _backward)" in source
    # relu'(6) = 1: the closure sent 1 x grad y = 1 along the edge, and we say so.
    assert re.search(r'v\d+ -> op\d+ \[label="local: in your _backward\\nsent 1" color=red', source)
    assert shown_grads(frames[-1].digraph.source)["x"] == "grad 3"  # d relu(3x)/dx = 3


# -- size caps -----------------------------------------------------------------------------------


def test_too_many_steps_are_refused_before_any_work(tmp_path):
    J, *_ = worked_example()
    with pytest.raises(GraphTooLargeError, match=r"22 steps, more than max_frames=21"):
        backward_frames(J, max_frames=21)
    assert len(backward_frames(J, max_frames=22)) == 23
    with pytest.raises(GraphTooLargeError, match="max_frames=10"):
        render_backward(J, tmp_path / "b.html", max_frames=10)
    assert list(tmp_path.iterdir()) == []
    assert MAX_FRAMES >= 200  # room for the 4-8-8-1 network's 164 steps


def test_a_page_over_the_size_cap_is_not_written(tmp_path, dot_program):
    J, *_ = worked_example()
    with pytest.raises(GraphTooLargeError, match=r"page would be \d+ bytes.*max_page_bytes=1000"):
        render_backward(J, tmp_path / "b.html", max_page_bytes=1000)
    assert not (tmp_path / "b.html").exists()


def test_the_cli_refuses_too_many_steps_in_one_line(tmp_path, capsys, dot_program):
    from tinygrad_bp.cli import main

    code = main(["graph", "--network", "20,20,1", "--steps", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"max_frames={MAX_FRAMES}" in err
    assert not (tmp_path / "backward.html").exists()


# -- the HTML page ---------------------------------------------------------------------------


def page_text(page) -> str:
    return page.read_text(encoding="utf-8")


def sweep_data(page) -> dict:
    """The sweep the page's script replays (its JSON data element)."""
    found = re.search(r'<script type="application/json" id="sweep">(.*?)</script>', page_text(page))
    return json.loads(found.group(1))


def record_label(svg: str, record: str) -> str:
    """The first text (the label) of the record with DOT name ``record`` in the SVG."""
    group = re.search(rf'<g id="{record}" class="node">(.*?)</g>', svg, re.DOTALL).group(1)
    return html.unescape(re.findall(r"<text[^>]*>(.*?)</text>", group)[0])


@needs_dot
def test_render_backward_writes_one_self_contained_page_with_each_frame_stored_once(tmp_path):
    J, *_ = worked_example()
    page = render_backward(J, tmp_path / "out" / "backward.html")
    assert page == tmp_path / "out" / "backward.html"
    assert sorted(path.name for path in page.parent.iterdir()) == ["backward.html"]
    text = page_text(page)
    assert text.count("<svg") == 1  # one layout; each frame is a step of the script
    nodes = reachable(J)[0].values()
    n_ops = sum(1 for node in nodes if node.children)
    assert text.count('class="node"') == len(nodes) + n_ops == 22 + 9  # each record once
    data = sweep_data(page)
    frames = backward_frames(J)
    assert data["captions"] == [frame.caption for frame in frames]
    assert len(data["steps"]) == len(nodes)
    last = records(frames[-1].digraph.source)  # the same DOT names as the page's records
    assert data["grads"] == {record: fields(last[record][0])[-1] for record in data["steps"]}
    assert len(text) < 100_000  # 2-2-1 (it was 710 KB, plus 740 KB of frame files)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
    assert "<link" not in text and "<script src" not in text and "@import" not in text


def test_render_backward_wants_an_html_file(tmp_path):
    with pytest.raises(ValueError, match=r"\.html"):
        render_backward(expression(), tmp_path / "backward.svg")
    assert list(tmp_path.iterdir()) == []


# -- the page in a browser ----------------------------------------------------------------------

# Runs after the page's own script: moves as a user would, recording what is shown.
USER_MOVES = """<script>
  const seen = [document.body.dataset.frame];
  function key(name) {
    document.dispatchEvent(new KeyboardEvent("keydown", {key: name, bubbles: true}));
    seen.push(document.body.dataset.frame);
  }
  key("ArrowRight"); key("ArrowRight"); key("ArrowLeft"); key("End"); key("ArrowRight");
  document.getElementById("previous").click();
  seen.push(document.body.dataset.frame);
  const slider = document.getElementById("slider");
  slider.value = "2";
  slider.dispatchEvent(new Event("input", {bubbles: true}));
  seen.push(document.body.dataset.frame);
  document.body.setAttribute("data-seen", seen.join(","));
</script>
</body>"""


def dump_dom(chromium, page, tmp_path, fragment: str = "", size: str = "1280,800") -> str:
    """The DOM of ``page`` in headless Chromium after its scripts have run."""
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={size}",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--dump-dom",
        page.resolve().as_uri() + fragment,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def record_fills(dom: str) -> dict[str, str]:
    """Record DOT name -> the fill of its outline, as the page's script painted it."""
    groups = re.findall(r'<g id="(v\d+)" class="node">(.*?)</g>', dom, re.DOTALL)
    return {name: re.search(r'<polygon fill="([^"]+)"', group).group(1) for name, group in groups}


def grad_texts(dom: str) -> dict[str, str]:
    """Record DOT name -> the last text of the record (its grad field) in the DOM."""
    groups = re.findall(r'<g id="(v\d+)" class="node">(.*?)</g>', dom, re.DOTALL)
    texts = {name: re.findall(r"<text[^>]*>(.*?)</text>", group)[-1] for name, group in groups}
    return {name: html.unescape(text) for name, text in texts.items()}


def body(dom: str) -> str:
    return re.search(r"<body[^>]*>", dom).group(0)


@needs_dot
@needs_chromium
def test_the_page_paints_each_step_in_chromium(tmp_path, chromium_program):
    f = expression()
    page = render_backward(f, tmp_path / "backward.html")  # 7 steps
    steps = sweep_data(page)["steps"]
    frames = backward_frames(f)
    start = dump_dom(chromium_program, page, tmp_path)
    third = dump_dom(chromium_program, page, tmp_path, "#frame=3")
    for dom in (start, third):
        assert "data-error" not in body(dom)
    assert 'data-frame="0"' in body(start) and 'data-frame="3"' in body(third)
    caption = re.compile(r'<p id="caption">(.*?)</p>')
    assert html.unescape(caption.search(third).group(1)) == frames[3].caption
    assert caption.search(start).group(1).startswith("Start")
    assert set(record_fills(start).values()) == {"white"}
    assert set(grad_texts(start).values()) == {"grad not computed"}
    fills = record_fills(third)
    assert [fills[record] for record in steps] == ["palegreen"] * 2 + ["gold"] + ["white"] * 4
    expected = shown_grads(frames[3].digraph.source)  # the DOT frame of the same step
    assert {record_label(third, r): text for r, text in grad_texts(third).items()} == expected

    moved = tmp_path / "moved.html"
    moved.write_text(page_text(page).replace("</body>", USER_MOVES))
    dom = dump_dom(chromium_program, moved, tmp_path, "#frame=1")
    assert "data-error" not in body(dom)
    # 1, right 2, right 3, left 2, End 7, right (stays) 7, Previous 6, slider 2
    assert 'data-seen="1,2,3,2,7,7,6,2"' in body(dom)


@needs_dot
@needs_chromium
@pytest.mark.parametrize("size", ["1366,768", "1280,800"])
def test_the_controls_and_the_picture_fit_a_laptop_screen(tmp_path, chromium_program, size):
    J, *_ = worked_example()
    page = render_backward(J, tmp_path / "backward.html", show_constants=False)
    probe = """<script>
      const box = (selector) => document.querySelector(selector).getBoundingClientRect();
      const main = document.querySelector("main");
      document.body.setAttribute("data-layout", JSON.stringify({
        header: box("header").bottom, caption: box("#caption").bottom,
        main: [box("main").top, box("main").bottom], window: window.innerHeight,
        scrolls: document.scrollingElement.scrollHeight > window.innerHeight,
        picture: box("main svg").height, room: main.clientHeight,
      }));
    </script></body>"""
    probed = tmp_path / "probed.html"
    probed.write_text(page_text(page).replace("</body>", probe))
    dom = dump_dom(chromium_program, probed, tmp_path, "#frame=9", size)
    layout = json.loads(re.search(r"data-layout=\"([^\"]*)\"", dom).group(1).replace("&quot;", '"'))
    width, height = (int(n) for n in size.split(","))
    assert layout["window"] <= height and not layout["scrolls"]  # the page itself never scrolls
    assert layout["caption"] <= layout["header"] <= layout["main"][0] < 200  # controls on top
    assert layout["main"][1] <= layout["window"]  # the picture's area ends inside the window
    assert layout["picture"] <= layout["room"]  # fit height: the picture is never cut


@needs_dot
@needs_chromium
def test_the_page_records_script_errors(tmp_path, chromium_program):
    page = render_backward(expression(), tmp_path / "backward.html")
    broken = tmp_path / "broken.html"
    broken.write_text(page_text(page).replace("</body>", "<script>undefinedThing();</script>"))
    assert "undefinedThing" in body(dump_dom(chromium_program, broken, tmp_path))


@needs_dot
@needs_chromium
def test_a_label_that_opens_a_comment_and_a_script_leaves_the_page_working(
    tmp_path, chromium_program
):
    hostile = "a<!--<script>document.title='x'</script>\0"
    a, b = Value(2.0, label=hostile), Value(-3.0, label="b")
    f = a * b
    f.label = "f"
    page = render_backward(f, tmp_path / "backward.html")  # a NUL reaches Graphviz drawn as ␀
    data = re.search(r'<script type="application/json" id="sweep">(.*?)</script>', page_text(page))
    assert "<" not in data.group(1)  # every < of the data written \u003c
    assert "a<!--<script>" in json.dumps(sweep_data(page), ensure_ascii=False)  # reads the same
    dom = dump_dom(chromium_program, page, tmp_path, "#frame=2")
    assert "data-error" not in body(dom) and 'data-frame="2"' in body(dom)  # the script ran
    assert "<title>x</title>" not in dom
