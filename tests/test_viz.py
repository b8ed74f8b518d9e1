"""Tests for tinygrad_bp.viz: the DOT text, rendering with Graphviz, and the plots."""

import math
import re
import sys

import numpy as np
import pytest
from user_ops import micrograd_relu

from conftest import needs_dot
from tinygrad_bp import Value
from tinygrad_bp.viz import (
    MAX_EDGE_LENGTH,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    plot_decision_boundary,
    plot_fitted_curve,
    plot_losses,
    plot_network,
    render,
    svg,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def neuron() -> Value:
    """e = tanh(a*b + c) after backward: de/da = (1 - e^2) b, de/db = (1 - e^2) a."""
    a, b, c = Value(0.5, label="a"), Value(-1.5, label="b"), Value(1.0, label="c")
    e = (a * b + c).tanh()
    e.label = "e"
    e.backward()
    return e


def records(source: str) -> dict[str, str]:
    """Node name -> label of every record node in a DOT source."""
    return dict(re.findall(r'^\s*(\w+) \[label="(.*)" shape=record\]$', source, re.MULTILINE))


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)$", source, re.MULTILINE)


# -- the DOT text --------------------------------------------------------------------------


def test_records_show_label_data_and_grad_with_four_significant_digits():
    # tanh(0.25) = 0.244919; 1 - 0.244919^2 = 0.940015; de/da = 0.94 * -1.5; de/db = 0.94 * 0.5
    assert records(draw_dot(neuron()).source) == {
        "v0": "{ a | data 0.5 | grad -1.41 }",
        "v1": "{ b | data -1.5 | grad 0.47 }",
        "v2": "{ data -0.75 | grad 0.94 }",
        "v3": "{ c | data 1 | grad 0.94 }",
        "v4": "{ data 0.25 | grad 0.94 }",
        "v5": "{ e | data 0.2449 | grad 1 }",
    }


def test_one_op_node_per_non_leaf():
    source = draw_dot(neuron()).source
    ops = dict(re.findall(r"^\s*(op\d+) \[label=(\S+) shape=ellipse\]$", source, re.MULTILINE))
    assert ops == {"op2": '"*"', "op4": '"+"', "op5": "tanh"}


def test_edges_follow_the_data_flow():
    assert sorted(edges(draw_dot(neuron()).source)) == sorted(
        [
            ("v0", "op2"), ("v1", "op2"), ("op2", "v2"),  # a, b -> * -> a*b
            ("v2", "op4"), ("v3", "op4"), ("op4", "v4"),  # a*b, c -> + -> a*b + c
            ("v4", "op5"), ("op5", "v5"),                 # a*b + c -> tanh -> e
        ]
    )  # fmt: skip


def test_a_repeated_operand_has_one_edge_per_use():
    x = Value(3.0, label="x")
    assert edges(draw_dot(x * x).source).count(("v0", "op1")) == 2


def test_source_is_deterministic_and_independent_of_object_ids():
    first = draw_dot(neuron()).source
    assert draw_dot(neuron()).source == first  # new objects, new ids, same text
    assert "id(" not in first and not re.search(r"\d{9,}", first)


def test_rankdir_and_format_are_passed_to_graphviz():
    dot = draw_dot(neuron(), format="png", rankdir="TB")
    assert "rankdir=TB" in dot.source
    assert dot.format == "png"
    assert "rankdir=LR" in draw_dot(neuron()).source


def test_show_constants_false_hides_unlabeled_constants_and_names_them_on_the_op():
    x = Value(3.0, label="x")
    y = x * 2
    assert len(records(draw_dot(y).source)) == 3
    hidden = draw_dot(y, show_constants=False).source
    assert list(records(hidden).values()) == ["{ x | data 3 | grad 0 }", "{ data 6 | grad 0 }"]
    assert 'label="* 2"' in hidden
    assert ("v0", "op2") in edges(hidden) and len(edges(hidden)) == 2


def test_show_constants_false_keeps_labeled_leaves():
    x, w = Value(3.0, label="x"), Value(2.0, label="w")
    assert len(records(draw_dot(x * w, show_constants=False).source)) == 3


def test_record_special_characters_are_escaped():
    x = Value(1.0, label="c{x}|<y>\\n")
    assert "{ c\\{x\\}\\|\\<y\\>\\\\n | data 1 |" in draw_dot(x).source


def test_long_chain_collapses_to_max_nodes_without_recursion():
    x = Value(0.1, label="x")
    for _ in range(5000):
        x = x.tanh()
    x.label = "root"
    x.backward()
    source = draw_dot(x, max_nodes=100).source
    kept = records(source)
    assert len(kept) == 100
    assert kept["v5000"].startswith("{ root |")
    assert "{ x |" not in source  # the leaf is the farthest node from the root
    assert "… 4901 more nodes" in source
    assert edges(source).count(("more", "op4901")) == 1  # the deepest drawn op
    assert [edge for edge in edges(source) if edge[0] == "more"] == [("more", "op4901")]
    assert len(records(draw_dot(x).source)) == 500  # the default max_nodes


def test_collapse_keeps_the_nodes_nearest_the_root():
    deep = Value(1.0, label="deep")
    for _ in range(50):
        deep = deep.tanh()
    near = Value(2.0, label="near")
    root = near * deep
    labels = " ".join(records(draw_dot(root, max_nodes=3).source).values())
    assert "near" in labels and "deep" not in labels
    assert "… 50 more nodes" in draw_dot(root, max_nodes=3).source  # 53 nodes in all


def test_max_nodes_must_be_positive():
    with pytest.raises(ValueError, match="max_nodes"):
        draw_dot(neuron(), max_nodes=0)


# -- the number format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (0.77701, "0.777"),
        (-0.025812, "-0.02581"),
        (2.0, "2"),
        (-0.0, "0"),  # never "-0"
        (-1e-20, "-1e-20"),  # a tiny value keeps its sign and size, not "-0.0000"
        (1e308, "1e+308"),  # not 309 digits
        (5e-324, "4.941e-324"),  # the smallest subnormal
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (123456.0, "1.235e+05"),
    ],
)
def test_labels_write_numbers_compactly(number, shown):
    source = draw_dot(Value(number, label="x")).source
    assert f'"{{ x | data {shown} | grad 0 }}"' in source


def test_array_labels_use_the_same_format():
    tensor = pytest.importorskip("tinygrad_bp.tensor")
    small = tensor.Tensor([-0.0, 1e308, 5e-324], label="t")
    assert "data [0, 1e+308, 4.941e-324]" in draw_dot(small).source
    big = tensor.Tensor([-1e-20, 0.0, 1.0, 2.0, 1e308], label="big")
    assert "data mean 2e+307 min -1e-20 max 1e+308" in draw_dot(big).source


# -- nodes built by hand (micrograd's way of writing an op) ------------------------------------


def test_a_node_built_by_hand_is_drawn_and_says_its_derivative_is_yours():
    x = Value(2.0, label="x")
    y = micrograd_relu(x * 3.0)
    y.label = "y"
    y.backward()
    source = draw_dot(y).source
    assert records(source)["v3"] == "{ y | data 6 | grad 1 }"
    assert 'op3 [label="ReLU (your _backward)" shape=ellipse]' in source
    assert records(source)["v0"] == "{ x | data 2 | grad 3 }"  # d relu(3x)/dx = 3 at x = 2
    assert ("v2", "op3") in edges(source)
    assert "local" not in source  # no number is invented for the closure's derivative


# -- size limits, checked before Graphviz runs ---------------------------------------------------


def repeated_sum(terms: int) -> Value:
    """a + a + ... + a: one leaf read by every step of a chain (long edges)."""
    a = Value(1.0, label="a")
    total = a
    for _ in range(terms - 1):
        total = total + a
    total.backward()
    return total


def test_a_graph_with_too_long_edges_is_refused_before_dot_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # had dot run, GraphvizNotFoundError
    with pytest.raises(GraphTooLargeError, match=f"max_edge_length={MAX_EDGE_LENGTH}") as error:
        render(repeated_sum(100), tmp_path / "sum.svg")
    assert isinstance(error.value, ValueError)
    assert "the edges from a alone cross" in str(error.value)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the .dot file
    assert Value(1.0)._repr_svg_() is None  # and Jupyter falls back to repr


def test_the_edge_length_counts_every_layer_an_edge_crosses():
    # (a+a)+a: a sits at layer 0 and feeds the + at layer 1 twice (1 + 1) and the + at
    # layer 3 (3); a+a at layer 2 feeds that + (1); two op -> result edges (1 + 1).
    draw_dot(repeated_sum(3), max_edge_length=8)
    with pytest.raises(GraphTooLargeError, match=r"cross 8 layers in all.*from a alone cross 5"):
        draw_dot(repeated_sum(3), max_edge_length=7)


def test_the_edge_length_counts_the_placeholders_edges():
    x = Value(0.1, label="x")
    for _ in range(4999):
        x = x.tanh()
    # 100 records, 100 tanh ops: 99 record -> op edges, the placeholder's edge into the
    # deepest op, and 100 op -> result edges, each crossing one layer.
    draw_dot(x, max_nodes=100, max_edge_length=200)
    with pytest.raises(GraphTooLargeError, match="cross 200 layers"):
        draw_dot(x, max_nodes=100, max_edge_length=199)


def test_a_long_plain_chain_is_cut_not_refused():
    x = Value(0.1, label="x")
    for _ in range(4999):
        x = x.tanh()
    assert "… 4500 more nodes" in draw_dot(x).source  # 5,000 nodes; max_nodes = 500


def test_dots_layout_effort_is_bounded():
    assert "nslimit=1 nslimit1=1" in draw_dot(neuron()).source


@needs_dot
def test_the_worst_graphs_inside_the_limits_render(tmp_path):
    # The cases benchmarks/viz_limits.py times: no timing here, only that they draw.
    largest = repeated_sum(63)  # 3,968 layers, just inside MAX_EDGE_LENGTH = 4,000
    text = render(largest, tmp_path / "sum.svg").read_text()
    assert text.count('class="node"') == 63 + 62  # the records and the + operations


def test_the_cli_refuses_a_graph_too_large_in_one_line(capsys, tmp_path):
    from tinygrad_bp.cli import main

    expression = "+".join(["a"] * 100)
    code = main(["graph", expression, "--value", "a=1", "--out", str(tmp_path / "g.svg")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"max_edge_length={MAX_EDGE_LENGTH}" in err
    assert list(tmp_path.iterdir()) == []
    code = main(["graph", "--network", "100000,100000,1", "--out", str(tmp_path / "n.svg")])
    err = capsys.readouterr().err
    assert code == 2 and "10,000,200,001 weights" in err and "at most 500" in err


# -- leaving leaves out ------------------------------------------------------------------------


def test_hidden_leaves_are_written_on_their_operation():
    x, w = Value(3.0, label="x"), Value(0.5, label="w")
    y = w * x
    hidden = draw_dot(y, hidden=[x]).source
    assert list(records(hidden).values()) == ["{ w | data 0.5 | grad 0 }", "{ data 1.5 | grad 0 }"]
    assert 'label="* x=3"' in hidden and len(edges(hidden)) == 2


def test_only_leaves_of_the_graph_can_be_hidden():
    x = Value(3.0, label="x")
    y = x * 2
    with pytest.raises(ValueError, match="cannot hide the \\* result: it is not a leaf"):
        draw_dot(y * 1, hidden=[y])
    with pytest.raises(ValueError, match="cannot hide z: it is not in the graph"):
        draw_dot(y, hidden=[Value(1.0, label="z")])


# -- tensor graphs --------------------------------------------------------------------------


def tensor_network():
    """out = sum(sigmoid(x @ w)) with x (2, 2) and w (2, 1), after backward."""
    tensor = pytest.importorskip("tinygrad_bp.tensor")
    x = tensor.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    w = tensor.Tensor(np.array([[0.5], [-0.5]]), requires_grad=True)
    x.label, w.label = "x", "w"
    out = (x @ w).sigmoid().sum()
    out.label = "out"
    out.backward()
    return x, w, out


def test_tensor_records_show_shape_dtype_data_and_grad():
    x, w, out = tensor_network()
    o = 1 / (1 + np.exp(0.5))  # both rows of x @ w are -0.5
    dx = o * (1 - o) * np.tile(w.data[:, 0], 2)  # d out / d x_nj = o_n (1 - o_n) w_j
    dw = o * (1 - o) * x.data.sum(axis=0)  # d out / d w_j = sum_n o_n (1 - o_n) x_nj
    labels = list(records(draw_dot(out).source).values())
    assert labels[0] == (
        "{ x | shape (2, 2) float64 | data [1, 2, 3, 4] | "
        f"grad [{dx[0]:.4g}, {dx[1]:.4g}, {dx[2]:.4g}, {dx[3]:.4g}] }}"
    )
    assert labels[1] == (
        f"{{ w | shape (2, 1) float64 | data [0.5, -0.5] | grad [{dw[0]:.4g}, {dw[1]:.4g}] }}"
    )
    assert labels[-1] == f"{{ out | shape () float64 | data {2 * o:.4g} | grad 1 }}"
    source = draw_dot(out).source
    assert 'label="@"' in source and "label=sigmoid" in source and "label=sum" in source


def test_tensor_summary_for_many_elements_and_missing_grad():
    tensor = pytest.importorskip("tinygrad_bp.tensor")
    big = tensor.Tensor(np.arange(6.0).reshape(2, 3))
    big.label = "big"
    assert records(draw_dot(big).source) == {
        "v0": "{ big | shape (2, 3) float64 | data mean 2.5 min 0 max 5 | grad None }"
    }


def test_tensor_show_constants_false_hides_tensors_without_grad():
    tensor = pytest.importorskip("tinygrad_bp.tensor")
    x = tensor.Tensor(np.ones(3), requires_grad=True)
    weightless = tensor.Tensor(np.ones(3), requires_grad=True)  # unlabeled, but wants a grad
    y = x * tensor.Tensor(np.array([1.0, 2.0, 3.0])) + weightless
    assert len(records(draw_dot(y).source)) == 5
    hidden = draw_dot(y, show_constants=False).source
    assert len(records(hidden)) == 4
    assert '"* [1, 2, 3]"' in hidden


@needs_dot
def test_render_tensor_graph(tmp_path):
    *_, out = tensor_network()
    text = render(out, tmp_path / "tensor.svg").read_text()
    assert "shape (2, 2) float64" in text and ">@<" in text


# -- rendering -------------------------------------------------------------------------------


@needs_dot
def test_render_svg_writes_the_picture_and_creates_directories(tmp_path):
    path = render(neuron(), tmp_path / "pictures" / "nested" / "neuron.svg")
    assert path == tmp_path / "pictures" / "nested" / "neuron.svg"
    text = path.read_text()
    assert "<svg" in text
    assert ">data 0.2449<" in text and ">e<" in text and ">tanh<" in text


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [(".png", PNG_MAGIC), (".pdf", b"%PDF")])
def test_render_png_and_pdf_by_suffix(tmp_path, suffix, magic):
    path = render(neuron(), tmp_path / f"neuron{suffix}")
    assert path.read_bytes().startswith(magic)


@needs_dot
def test_render_passes_draw_options(tmp_path):
    x = Value(3.0, label="x")
    text = render(x * 2, tmp_path / "g.svg", show_constants=False).read_text()
    assert ">* 2<" in text and "data 2<" not in text


@needs_dot
def test_render_escaped_labels_show_literally(tmp_path):
    text = render(Value(1.0, label="c{x}|<y>"), tmp_path / "g.svg").read_text()
    assert ">c{x}|&lt;y&gt;<" in text


@needs_dot
def test_render_large_graph_is_quick_and_bounded(tmp_path):
    x = Value(0.1, label="x")
    for _ in range(5000):
        x = x * 1.0001
    text = render(x, tmp_path / "chain.svg", max_nodes=200).read_text()
    # 200 records (100 products, each with its constant 1.0001), 100 ops, the placeholder
    assert text.count('class="node"') == 200 + 100 + 1
    assert "more nodes" in text


def test_render_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"'\.txt'.*\.svg, \.png or \.pdf"):
        render(neuron(), tmp_path / "graph.txt")
    assert list(tmp_path.iterdir()) == []


def test_render_without_dot_writes_source_and_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(GraphvizNotFoundError) as error:
        render(neuron(), tmp_path / "out" / "neuron.png")
    dot_file = tmp_path / "out" / "neuron.dot"
    assert dot_file.read_text() == draw_dot(neuron(), format="png").source
    message = str(error.value)
    assert str(dot_file) in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "conda install graphviz" in message
    assert isinstance(error.value, RuntimeError)
    assert not (tmp_path / "out" / "neuron.png").exists()


@needs_dot
def test_svg_returns_the_svg_text():
    text = svg(neuron())
    assert text.lstrip().startswith("<?xml") and "<svg" in text and ">a<" in text


def test_svg_without_dot_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        svg(neuron())


# -- plots -----------------------------------------------------------------------------------


def test_plot_losses_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    histories = {"lr = 0.1": [1.0, 0.5, 0.3], "lr = 1.0": [1.0, 0.1, 0.01]}
    path = plot_losses(histories, tmp_path / "plots" / "loss.png", log_y=True)
    assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size > 1000


def test_plot_decision_boundary_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 0, 0, 1])  # AND

    def predict(points):
        return 1 / (1 + np.exp(-(10 * points.sum(axis=1) - 15)))

    path = plot_decision_boundary(predict, X, y, tmp_path / "and.png", title="AND")
    assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size > 1000


def test_plot_decision_boundary_without_a_boundary_and_bad_shape(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1, 1])
    path = plot_decision_boundary(lambda points: np.ones(len(points)), X, y, tmp_path / "a.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match=r"\(n, 2\).*\(2, 3\)"):
        plot_decision_boundary(lambda points: points[:, 0], np.ones((2, 3)), y, tmp_path / "b.png")


def test_plot_fitted_curve_draws_the_prediction_over_the_samples_range(tmp_path):
    pytest.importorskip("matplotlib")
    X = np.array([[-2.0], [0.5], [3.0]])
    seen = []

    def predict(points):
        seen.append(points)
        return np.tanh(points)  # shape (n, 1) is accepted as well as (n,)

    path = plot_fitted_curve(predict, X, np.tanh(X[:, 0]), tmp_path / "fit" / "curve.png")
    assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size > 1000
    (grid,) = seen
    assert grid.shape == (400, 1) and grid.min() == -2.0 and grid.max() == 3.0
    with pytest.raises(ValueError, match=r"\(n, 1\).*\(3, 2\)"):
        plot_fitted_curve(predict, np.ones((3, 2)), np.ones(3), tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_plot_network_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    hidden = np.array([[-10.0, 30.0], [20.0, -20.0], [20.0, -20.0]])
    output = np.array([[-30.0], [20.0], [20.0]])
    path = plot_network([hidden, output], tmp_path / "xor.png")
    assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size > 1000
    deeper = plot_network([np.ones((4, 3)), -np.ones((4, 3)), np.zeros((4, 2))], tmp_path / "d.png")
    assert deeper.read_bytes().startswith(PNG_MAGIC)


def test_plot_network_rejects_mismatched_shapes(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(2, 1\), expected \(3, n_out\)"):
        plot_network([np.ones((3, 2)), np.ones((2, 1))], tmp_path / "bad.png")
    with pytest.raises(ValueError, match="at least one"):
        plot_network([], tmp_path / "empty.png")
    assert not list(tmp_path.iterdir())


def test_plots_without_matplotlib_say_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match=re.escape('pip install -e ".[plot]"')):
        plot_losses({"loss": [1.0]}, tmp_path / "loss.png")


@needs_dot
def test_values_and_tensors_display_as_their_graph_in_jupyter_and_keep_plain_repr():
    from tinygrad_bp import Tensor

    x = Value(2.0, label="x")
    y = x * x
    assert "<svg" in y._repr_svg_() and ">x<" in y._repr_svg_()
    assert repr(y).startswith("Value(")
    t = Tensor([1.0, 2.0], requires_grad=True, label="t")
    assert "<svg" in (t * 2)._repr_svg_()
    assert repr(t).startswith("Tensor(")


def test_jupyter_display_falls_back_to_repr_without_dot(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert Value(1.0)._repr_svg_() is None


@needs_dot
def test_a_nul_or_other_control_character_in_a_label_is_drawn_not_fed_to_graphviz(tmp_path):
    a = Value(2.0, label="a\0b")
    y = a * Value(3.0, label="c\x07")
    y.label = "y\0"
    text = render(y, tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "a␀b" in text and "c␇" in text and "y␀" in text and "\0" not in text


def test_a_scalar_mlps_graph_names_its_weights_as_the_cli_does():
    from tinygrad_bp.nn import MLP

    net = MLP(2, [2, 1], rng=0)
    source = draw_dot(net([1.0, 0.0])).source
    names = {
        f"w[{layer}][{i},{j}]"
        for layer, n_in, n_out in ((1, 2, 2), (2, 2, 1))
        for i in range(n_in + 1)
        for j in range(1, n_out + 1)
    }
    assert all(f"{{ {name} |" in source for name in names)
    assert "{ w1 |" not in source and "{ b |" not in source
