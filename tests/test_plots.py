"""The matplotlib plots say what they show: titles, axis labels, whole-number ticks, legends.

Each ``plot_*`` function saves the Figure its ``*_figure`` twin builds; the tests
inspect those Figure objects (after a layout pass, so the tick positions are the ones
drawn) and check that the ``plot_*`` functions write the files.
"""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from tinygrad_bp import viz  # noqa: E402
from tinygrad_bp.explain import HAND_BUILT_XOR  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
XOR_NAMES = [None, ["OR", "NAND"], ["AND"]]


def drawn(figure):
    """The figure after a layout pass: tick locators have placed their ticks."""
    figure.draw_without_rendering()
    return figure


def legend_texts(legend):
    assert legend is not None, "no legend"
    return [text.get_text() for text in legend.get_texts()]


def all_whole(values):
    return len(values) > 0 and all(float(v).is_integer() for v in values)


def heights(axes, colour):
    """The y values of the scatter points drawn in ``colour``."""
    from matplotlib.colors import to_rgba

    return [
        float(y)
        for points in axes.collections
        if len(points.get_offsets()) and tuple(points.get_facecolor()[0][:3]) == to_rgba(colour)[:3]
        for y in points.get_offsets()[:, 1]
    ]


def texts(axes):
    return [text.get_text() for text in axes.texts]


def test_loss_curves_have_title_labels_legend_and_whole_epoch_ticks():
    figure = drawn(
        viz.losses_figure(
            {"lr 0.1": [0.9, 0.5, 0.4], "lr 1": [0.9, 0.1, 0.05]}, "XOR: J", ylabel="J"
        )
    )
    (axes,) = figure.axes
    assert (axes.get_title(), axes.get_xlabel(), axes.get_ylabel()) == ("XOR: J", "epoch", "J")
    assert legend_texts(axes.get_legend()) == ["lr 0.1", "lr 1"]
    # Three epochs: without integer ticks matplotlib would mark 1.25, 1.5, ...
    assert all_whole(axes.get_xticks())
    assert [list(line.get_xdata()) for line in axes.lines] == [[1, 2, 3], [1, 2, 3]]


def test_plot_losses_keeps_its_signature_and_writes_the_file(tmp_path):
    path = viz.plot_losses({"J": [1.0, 0.5]}, tmp_path / "a" / "loss.png", "XOR", True)
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert viz.losses_figure({"J": [1.0]}).axes[0].get_ylabel() == "loss"  # the old default


def test_mistakes_are_counted_in_whole_numbers_per_epoch(tmp_path):
    errors = {"AND": [2, 1, 0], "XOR": [2, 3, 2, 2]}
    figure = drawn(viz.mistakes_figure(errors, "Perceptron on AND and XOR"))
    (axes,) = figure.axes
    assert axes.get_ylabel() == "mistakes per epoch" and axes.get_xlabel() == "epoch"
    assert axes.get_title() == "Perceptron on AND and XOR"
    assert all_whole(axes.get_xticks()) and all_whole(axes.get_yticks())
    assert legend_texts(axes.get_legend()) == ["AND", "XOR"]
    assert [list(line.get_ydata()) for line in axes.lines] == [[2, 1, 0], [2, 3, 2, 2]]
    path = viz.plot_mistakes(errors, tmp_path / "mistakes.png")
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_decision_boundary_has_a_legend_for_the_classes_and_the_boundary():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])

    def predict(points):
        return 1 / (1 + np.exp(-10 * (points[:, 0] - 0.5)))

    figure = viz.decision_boundary_figure(predict, X, y, "XOR truth table")
    axes, colorbar = figure.axes
    assert axes.get_title() == "XOR truth table"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("$x_1$", "$x_2$")
    assert colorbar.get_ylabel() == "network output"
    assert legend_texts(axes.get_legend()) == ["output = 0.5", "y = 0", "y = 1"]
    class_0, class_1 = axes.collections[-2:]  # the two scatters, in the legend's order
    assert class_0.get_offsets().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert class_1.get_offsets().tolist() == [[0.0, 1.0], [1.0, 0.0]]
    named = viz.decision_boundary_figure(predict, X, y, class_names=("false", "true"))
    assert legend_texts(named.axes[0].get_legend())[1:] == ["false", "true"]


def test_decision_boundary_without_a_boundary_says_so_by_leaving_it_out():
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1, 1])
    figure = viz.decision_boundary_figure(lambda points: np.ones(len(points)), X, y)
    assert legend_texts(figure.axes[0].get_legend()) == ["y = 0", "y = 1"]


def test_fitted_curve_has_labels_and_legend():
    X = np.linspace(-1, 1, 5)[:, None]
    figure = viz.fitted_curve_figure(np.tanh, X, np.tanh(X[:, 0]), "tanh on [-1, 1]")
    (axes,) = figure.axes
    assert (axes.get_title(), axes.get_xlabel(), axes.get_ylabel()) == ("tanh on [-1, 1]", "x", "y")
    assert legend_texts(axes.get_legend()) == ["samples", "network"]


def test_network_edges_colour_the_sign_width_the_size_with_a_legend():
    figure = viz.network_figure(HAND_BUILT_XOR, "XOR by hand", unit_names=XOR_NAMES)
    (axes,) = figure.axes
    assert axes.get_title() == "XOR by hand"
    legend = legend_texts(axes.get_legend())
    assert legend[:2] == ["positive weight (w > 0)", "negative weight (w < 0)"]
    assert any("|w|" in text for text in legend)
    weights = np.concatenate([w.ravel() for w in HAND_BUILT_XOR])
    edges = axes.lines
    assert len(edges) == len(weights)
    order = [
        (layer, i, j) for layer, w in enumerate(HAND_BUILT_XOR) for i, j in np.ndindex(w.shape)
    ]
    for (layer, i, j), edge in zip(order, edges):
        w = HAND_BUILT_XOR[layer][i, j]
        assert edge.get_color() == (viz.POSITIVE_EDGE if w > 0 else viz.NEGATIVE_EDGE)
        assert edge.get_linewidth() == pytest.approx(0.5 + 3 * abs(w) / 30)


def test_the_hand_built_xor_net_names_its_units_or_nand_and():
    figure = viz.network_figure(HAND_BUILT_XOR, unit_names=XOR_NAMES)
    labels = texts(figure.axes[0])
    assert "$h_{1}$\nOR" in labels and "$h_{2}$\nNAND" in labels and "$o_{1}$\nAND" in labels
    assert "$x_{1}$" in labels  # the inputs keep their symbols
    unnamed = texts(viz.network_figure(HAND_BUILT_XOR).axes[0])
    assert "$h_{1}$" in unnamed and not any("OR" in text for text in unnamed)


def test_network_weight_labels_are_compact_and_never_minus_zero():
    weights = [np.array([[1e308, -0.0], [1.01275, -1e-9]])]
    labels = texts(viz.network_figure(weights).axes[0])
    assert {"1e+308", "0", "1.013", "-1e-09"} <= set(labels)
    assert not any(label.startswith("-0") and label != "-0.5" for label in labels)


def test_unit_names_must_match_the_layers(tmp_path):
    with pytest.raises(ValueError, match=r"one entry per layer \(3\), got 2"):
        viz.plot_network(HAND_BUILT_XOR, tmp_path / "a.png", unit_names=[None, ["OR", "NAND"]])
    with pytest.raises(ValueError, match=r"unit_names\[1\] has 1 names for a layer of 2 units"):
        viz.plot_network(HAND_BUILT_XOR, tmp_path / "b.png", unit_names=[None, ["OR"], None])
    assert not list(tmp_path.iterdir())
    path = viz.plot_network(HAND_BUILT_XOR, tmp_path / "c.png", "XOR", XOR_NAMES)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_success_rates_plot_the_rates_the_counts_and_each_failure():
    final = {2: [0.25, 0.009, 0.009, 0.26], 4: [0.009, 0.008, 0.009, 0.009]}
    solved = {2: [False, True, True, False], 4: [True, True, True, True]}
    figure = drawn(viz.success_rates_figure(final, solved, "XOR: restarts", epsilon=0.01))
    rates, losses = figure.axes[:2]
    assert figure.get_suptitle() == "XOR: restarts"
    assert rates.get_xlabel() == "hidden units" and rates.get_ylabel() == "runs solved (%)"
    assert [tick.get_text() for tick in rates.get_xticklabels()] == ["2", "4"]
    solved_bars, stuck_bars = rates.containers
    assert [float(bar.get_height()) for bar in solved_bars] == [50.0, 100.0]
    assert [float(bar.get_height()) for bar in stuck_bars] == [50.0, 0.0]
    assert texts(rates) == ["50%\n(2/4)", "100%\n(4/4)"]
    assert legend_texts(rates.get_legend()) == ["solved", "not solved"]
    # One dot per run: the stuck runs are the red crosses, at their final losses.
    assert sorted(heights(losses, viz.STUCK_COLOUR)) == [0.25, 0.26]
    assert sorted(heights(losses, viz.SOLVED_COLOUR)) == [0.008] + [0.009] * 5
    assert losses.get_yscale() == "log"
    assert legend_texts(losses.get_legend()) == ["solved", "not solved (stuck)", "epsilon = 0.01"]


def test_success_rates_reject_mismatched_runs(tmp_path):
    with pytest.raises(ValueError, match=r"same keys, got \[2\] and \[3\]"):
        viz.plot_success_rates({2: [0.1]}, {3: [True]}, tmp_path / "a.png")
    with pytest.raises(ValueError, match="for 2: 2 final losses but 1 solved flags"):
        viz.plot_success_rates({2: [0.1, 0.2]}, {2: [True]}, tmp_path / "b.png")
    assert not list(tmp_path.iterdir())


def test_learning_rates_show_the_loss_and_the_weight_around_its_best_value(tmp_path):
    losses = {"too big": [1.0, 2.0, 4.0, 8.0], "right": [1.0, 0.1, 0.01, 0.001]}
    slopes = {"too big": [0.0, 4.0, -1e6, 1e12, -1e18], "right": [0.0, 2.0, 2.0, 2.0, 2.0]}
    figure = drawn(viz.learning_rates_figure(losses, slopes, "A line", target=2.0, epsilon=0.01))
    loss_axes, weight_axes = figure.axes
    assert figure.get_suptitle() == "A line"
    assert loss_axes.get_yscale() == "log" and loss_axes.get_xlabel() == "epoch"
    assert weight_axes.get_ylabel() == "slope $w_1$"
    assert all_whole(loss_axes.get_xticks()) and all_whole(weight_axes.get_xticks())
    low, high = weight_axes.get_ylim()
    assert low < 0.0 < 2.0 < 4.0 < high < 100  # the best value in view despite the divergence
    assert list(weight_axes.lines[0].get_xdata()) == [0, 1, 2, 3, 4]  # epoch 0: the start
    assert legend_texts(figure.legends[0]) == [
        "too big",
        "right",
        "epsilon = 0.01",
        "best slope $w_1$",
    ]
    path = viz.plot_learning_rates(losses, slopes, tmp_path / "lr.png", target=2.0)
    assert path.read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="same labels"):
        viz.learning_rates_figure(losses, {"right": slopes["right"]})
