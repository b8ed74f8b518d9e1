"""Plots with matplotlib: training curves, mistakes, decision boundaries, fitted curves,
networks, success rates and learning rates; each titled with its claim.

Each plot is one function, ``*_figure``, that draws it and returns the Figure;
its twin ``plot_*`` takes the same arguments plus ``path`` and saves it there:

>>> import tempfile
>>> path = plot_losses({"lr = 0.5": [0.9, 0.4, 0.1]}, tempfile.mkdtemp() + "/loss.png", "XOR")
>>> path.name, path.stat().st_size > 0
('loss.png', True)

matplotlib is an optional extra (``pip install matplotlib``). The plots draw on a
``matplotlib.figure.Figure`` without pyplot, so they never open a window and work on
a machine without a display.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .format import number

# How to install the plotting extra, from PyPI or in a clone of the repository.
INSTALL_MATPLOTLIB = 'pip install matplotlib (in a clone: pip install -e ".[plot]")'


def _new_figure(width: float = 6.0, height: float = 4.0) -> Any:
    """A matplotlib Figure not managed by pyplot (no window, no global state)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"plots need matplotlib: {INSTALL_MATPLOTLIB}") from error
    return Figure(figsize=(width, height), layout="constrained")


def _save(figure: Any, path: str | Path) -> Path:
    """Save the figure (format from the suffix), creating parent directories."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path


def _integer_ticks(axis: Any) -> None:
    """Ticks on whole numbers only (epochs, mistakes), never 2.5."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _curves(axes: Any, histories: dict[str, Sequence[float]], **style: Any) -> None:
    """One line per entry (label -> value per epoch, epochs counted from 1), a legend."""
    for label, values in histories.items():
        axes.plot(np.arange(1, len(values) + 1), values, label=label, **style)
    _integer_ticks(axes.xaxis)
    axes.grid(alpha=0.3)
    axes.legend()


def losses_figure(
    histories: dict[str, Sequence[float]],
    title: str = "Training loss",
    log_y: bool = False,
    ylabel: str = "loss",
) -> Any:
    """One loss curve per entry of ``histories`` (label -> loss per epoch), integer epoch ticks.

    Args:
        histories: e.g. ``{"lr = 0.1": losses_a, "lr = 1.0": losses_b}``.
        title: the title of the plot: say what it shows and on which data.
        log_y: use a logarithmic loss axis (losses must then be positive).
        ylabel: what the loss is (e.g. ``"J = 1/2 sum (y - o)^2"``).

    >>> figure = losses_figure({"J": [0.9, 0.4, 0.1]}, "XOR: J per epoch", ylabel="J")
    >>> axes, = figure.axes
    >>> axes.get_title(), axes.get_xlabel(), axes.get_ylabel()
    ('XOR: J per epoch', 'epoch', 'J')
    """
    figure = _new_figure()
    axes = figure.add_subplot()
    _curves(axes, histories)
    axes.set(title=title, xlabel="epoch", ylabel=ylabel)
    if log_y:
        axes.set_yscale("log")
    return figure


def mistakes_figure(
    errors: dict[str, Sequence[int]], title: str = "Perceptron: mistakes per epoch"
) -> Any:
    """A perceptron's misclassified examples per epoch, one line per training set.

    Args:
        errors: label -> mistakes in each epoch, e.g. ``{"AND": result.errors}`` of
            ``perceptron.fit``; a set it learns ends at 0.
        title: the title of the plot.

    >>> figure = mistakes_figure({"AND": [2, 1, 0], "XOR": [2, 3, 2]})
    >>> figure.axes[0].get_ylabel()
    'mistakes per epoch'
    """
    figure = _new_figure()
    axes = figure.add_subplot()
    # Several gates can share a count: markers of different shapes keep each visible.
    for (label, counts), marker in zip(errors.items(), "osD^vP*X" * len(errors)):
        epochs = np.arange(1, len(counts) + 1)
        axes.plot(epochs, counts, marker=marker, ms=5, alpha=0.8, label=label)
    _integer_ticks(axes.xaxis)
    _integer_ticks(axes.yaxis)
    axes.set_ylim(bottom=-0.2)
    axes.grid(alpha=0.3)
    axes.legend(title="training set")
    axes.set(title=title, xlabel="epoch", ylabel="mistakes per epoch")
    return figure


def decision_boundary_figure(
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    title: str = "Decision boundary",
    resolution: int = 200,
    class_names: Sequence[str] = ("y = 0", "y = 1"),
) -> Any:
    """A classifier's output shaded over the plane, its 0.5 contour and the data.

    Args:
        predict: maps an (n, 2) array of points to n scores in [0, 1] (for example the
            network's output probability); anything ``np.asarray`` accepts.
        X: the (n, 2) input points.
        y: their n labels (0/1): class 0 blue circles, class 1 red squares.
        title: the title of the plot: the data set, and what the boundary shows.
        resolution: grid points per axis.
        class_names: the legend's names of class 0 and class 1.

    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> y = np.array([0, 1, 1, 1])                     # OR
    >>> def predict(points):
    ...     return 1 / (1 + np.exp(-(10 * points.sum(axis=1) - 5)))
    >>> decision_boundary_figure(predict, X, y, "OR").axes[0].get_title()
    'OR'
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X.shape}")
    labels = np.asarray(y, dtype=np.float64).reshape(len(X))
    margin = 0.25 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    scores = np.asarray(predict(points), dtype=np.float64).reshape(grid_x.shape)

    figure = _new_figure(5.5, 5.0)
    axes = figure.add_subplot()
    # A pale background, so the points (same colours, full strength) stand out.
    levels = np.linspace(0, 1, 11)
    shading = axes.contourf(grid_x, grid_y, scores, levels=levels, cmap="RdBu_r", alpha=0.4)
    figure.colorbar(shading, ax=axes, label="network output")
    if scores.min() < 0.5 < scores.max():
        axes.contour(grid_x, grid_y, scores, levels=[0.5], colors="black", linewidths=2)
        axes.plot([], [], color="black", lw=2, label="output = 0.5")  # the contour's legend
    for label, (name, colour, marker) in enumerate(
        zip(class_names, ("tab:blue", "tab:red"), ("o", "s"))
    ):
        chosen = (labels > 0.5) == bool(label)
        axes.scatter(
            X[chosen, 0],
            X[chosen, 1],
            color=colour,
            marker=marker,
            s=60,
            edgecolors="black",
            label=name,
        )
    axes.legend(loc="upper left", framealpha=0.9)
    axes.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    return figure


def fitted_curve_figure(
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    title: str = "Fitted function",
) -> Any:
    """The samples (x, y) of a function of one input and the network's curve through them.

    Args:
        predict: maps an (n, 1) array of inputs to n outputs (anything ``np.asarray``
            accepts, e.g. shape (n,) or (n, 1)).
        X: the (n, 1) sample inputs. y: their n targets.
        title: the title of the plot.

    >>> X = np.linspace(0, 1, 5)[:, None]
    >>> fitted_curve_figure(np.sin, X, np.sin(X[:, 0])).axes[0].get_xlabel()
    'x'
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 1:
        raise ValueError(f"X must have shape (n, 1), got {X.shape}")
    grid = np.linspace(X.min(), X.max(), 400)[:, None]
    curve = np.asarray(predict(grid), dtype=np.float64).reshape(len(grid))
    figure = _new_figure()
    axes = figure.add_subplot()
    axes.scatter(X[:, 0], y, s=12, color="grey", label="samples")
    axes.plot(grid[:, 0], curve, color="tab:blue", lw=2, label="network")
    axes.set(title=title, xlabel="x", ylabel="y")
    axes.legend()
    return figure


# The network diagrams' edge colours, by the sign of the weight.
POSITIVE_EDGE, NEGATIVE_EDGE = "tab:blue", "tab:red"


def network_figure(
    weights: Sequence[np.ndarray],
    title: str = "Network weights",
    unit_names: Sequence[Sequence[str] | None] | None = None,
) -> Any:
    """A fully connected network with every weight on its edge.

    Weights in the derivation's convention: one (n_in + 1, n_out) matrix per layer,
    ``w[i, j]`` from unit i below to unit j above, row 0 the bias (a unit whose
    output is fixed at 1, drawn as a square). Edge thickness grows with ``|w|``;
    positive weights are blue, negative red, as the legend says.

    Args:
        weights: the per-layer matrices, e.g. ``tinygrad_bp.nn.get_weights(model)``.
        title: the title of the plot.
        unit_names: optional names of what units compute, one entry per layer (inputs
            first), each None or one name per unit of the layer (biases not counted),
            e.g. ``[None, ["OR", "NAND"], ["AND"]]`` for the hand-built XOR net.

    >>> hidden = np.array([[-10.0, 30.0], [20.0, -20.0], [20.0, -20.0]])
    >>> output = np.array([[-30.0], [20.0], [20.0]])
    >>> figure = network_figure([hidden, output], unit_names=[None, ["OR", "NAND"], ["AND"]])
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()][:2]
    ['positive weight (w > 0)', 'negative weight (w < 0)']
    """
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    widths = _layer_widths(weights)
    names = _unit_names(unit_names, widths)
    figure = _new_figure(2.5 * len(widths) + 0.5, 1.2 * max(widths) + 2.8)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title)

    # Unit positions: layer l at x = l; unit 0 (the bias) on top, above units 1..n.
    def position(layer: int, unit: int) -> tuple[float, float]:
        return float(layer), (widths[layer] + 1) / 2 - unit

    largest = max(float(np.abs(w).max()) for w in weights) or 1.0
    for layer, w in enumerate(weights):
        for i, j in np.ndindex(*w.shape):
            (x0, y0), (x1, y1) = position(layer, i), position(layer + 1, j + 1)
            colour = POSITIVE_EDGE if w[i, j] >= 0 else NEGATIVE_EDGE
            axes.plot([x0, x1], [y0, y1], color=colour, lw=0.5 + 3 * (abs(w[i, j]) / largest))
            # The label sits a third of the way along, where edges fan out the most.
            axes.text(
                x0 + (x1 - x0) / 3,
                y0 + (y1 - y0) / 3,
                number(float(w[i, j])),
                fontsize=8,
                ha="center",
                va="center",
                bbox={"fc": "white", "ec": "none", "pad": 0.5},
            )

    for layer, width in enumerate(widths):
        prefix = _unit_name(layer, len(widths))
        if layer < len(weights):  # every layer but the output feeds a bias unit upwards
            axes.text(
                *position(layer, 0),
                "1",
                ha="center",
                va="center",
                zorder=3,
                bbox={"boxstyle": "square", "fc": "lightgrey", "ec": "black"},
            )
        for unit in range(1, width + 1):
            symbol = f"${prefix}_{{{unit}}}$"
            name = names[layer][unit - 1]
            axes.text(
                *position(layer, unit),
                f"{symbol}\n{name}" if name else symbol,
                ha="center",
                va="center",
                zorder=3,
                fontweight="bold" if name else "normal",
                bbox={"boxstyle": "round" if name else "circle", "fc": "white", "ec": "black"},
            )
    from matplotlib.lines import Line2D

    legend = [
        Line2D([], [], color=POSITIVE_EDGE, lw=2.5, label="positive weight (w > 0)"),
        Line2D([], [], color=NEGATIVE_EDGE, lw=2.5, label="negative weight (w < 0)"),
        Line2D([], [], color="grey", lw=3.5, label=f"line width: |w| (widest {largest:.4g})"),
        Line2D(
            [],
            [],
            ls="none",
            marker="s",
            ms=9,
            mfc="lightgrey",
            mec="black",
            label="1: bias unit, w[0, j] is the bias",
        ),
    ]
    axes.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8)
    axes.set(xlim=(-0.5, len(widths) - 0.5), ylim=(-max(widths) / 2, max(widths) / 2 + 1))
    return figure


def _unit_names(
    unit_names: Sequence[Sequence[str] | None] | None, widths: list[int]
) -> list[list[str]]:
    """One name per unit of each layer ("" where none was given), checked against widths."""
    if unit_names is None:
        return [[""] * width for width in widths]
    if len(unit_names) != len(widths):
        raise ValueError(
            f"unit_names needs one entry per layer ({len(widths)}), got {len(unit_names)}"
        )
    names = []
    for layer, (given, width) in enumerate(zip(unit_names, widths)):
        if given is not None and len(given) != width:
            raise ValueError(
                f"unit_names[{layer}] has {len(given)} names for a layer of {width} units"
            )
        names.append([""] * width if given is None else [str(name) for name in given])
    return names


def _layer_widths(weights: list[np.ndarray]) -> list[int]:
    """Units per layer (biases not counted) of a list of (n_in + 1, n_out) matrices."""
    if not weights:
        raise ValueError("plot_network needs at least one weight matrix")
    widths = [weights[0].shape[0] - 1] if weights[0].ndim == 2 else []
    for layer, w in enumerate(weights):
        if w.ndim != 2 or w.shape[0] != widths[-1] + 1:
            expected = f"({widths[-1] + 1}, n_out)" if widths else "(n_in + 1, n_out)"
            raise ValueError(
                f"weights[{layer}] has shape {w.shape}, expected {expected}: "
                "one row per unit below plus row 0 for the bias"
            )
        widths.append(w.shape[1])
    return widths


def _unit_name(layer: int, n_layers: int) -> str:
    """x for the inputs, o for the outputs, h for a hidden layer (h^(l) if several)."""
    if layer == 0:
        return "x"
    if layer == n_layers - 1:
        return "o"
    return "h" if n_layers == 3 else f"h^{{({layer})}}"


# The success-rate plots' colours: a run that solved its task, one that got stuck.
SOLVED_COLOUR, STUCK_COLOUR = "tab:green", "tab:red"


def success_rates_figure(
    final_losses: dict[int, Sequence[float]],
    solved: dict[int, Sequence[bool]],
    title: str = "Runs solved",
    xlabel: str = "hidden units",
    epsilon: float | None = None,
    ylabel: str = "final loss",
) -> Any:
    """How often many restarts succeed per setting, and every run's final loss.

    Left, a bar per setting (e.g. a number of hidden units) with the percentage and
    count of runs solved; right, one dot per run at its final loss, green when it
    solved the task, red crosses when it got stuck (a local minimum, say), with the
    stopping threshold ``epsilon`` dashed.

    Args:
        final_losses: setting -> each run's final loss.
        solved: setting -> whether each run solved the task (same order).
        title: the title over both panels: the claim, and the data set.
        xlabel: what the settings are. epsilon: the loss training stopped below.
        ylabel: what the loss is.

    >>> figure = success_rates_figure({2: [0.5, 0.001], 4: [0.001, 0.002]},
    ...                               {2: [False, True], 4: [True, True]})
    >>> [float(bar.get_height()) for bar in figure.axes[0].containers[0]]  # the solved bars
    [50.0, 100.0]
    """
    if sorted(final_losses) != sorted(solved) or not final_losses:
        raise ValueError(
            f"final_losses and solved need the same keys, got {sorted(final_losses)} "
            f"and {sorted(solved)}"
        )
    keys = sorted(final_losses)
    for key in keys:
        if len(final_losses[key]) != len(solved[key]) or not solved[key]:
            raise ValueError(
                f"for {key}: {len(final_losses[key])} final losses but {len(solved[key])} "
                "solved flags (one of each per run, at least one run)"
            )
    figure = _new_figure(11.0, 4.5)
    rates_axes, losses_axes = figure.subplots(1, 2)
    places = np.arange(len(keys))
    rates = [100.0 * float(np.mean(solved[key])) for key in keys]
    bars = rates_axes.bar(places, rates, color=SOLVED_COLOUR, width=0.6, label="solved")
    stuck = [100.0 - rate for rate in rates]
    rates_axes.bar(places, stuck, bottom=rates, color=STUCK_COLOUR, width=0.6, label="not solved")
    for bar, key in zip(bars, keys):
        rates_axes.annotate(
            f"{bar.get_height():.0f}%\n({int(np.sum(solved[key]))}/{len(solved[key])})",
            (bar.get_x() + bar.get_width() / 2, 100.0),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
        )
    rates_axes.set_xticks(places, [str(key) for key in keys])
    rates_axes.set(ylim=(0, 135), xlabel=xlabel, ylabel="runs solved (%)", title="success rate")
    rates_axes.set_yticks(range(0, 101, 20))
    rates_axes.grid(axis="y", alpha=0.3)
    rates_axes.legend(loc="upper center", ncol=2, fontsize=8)

    # The same runs one dot each, spread sideways: the failures' final losses stand apart.
    jitter = np.random.default_rng(0)
    for place, key in zip(places, keys):
        losses = np.asarray(final_losses[key], dtype=np.float64)
        ok = np.asarray(solved[key], dtype=bool)
        spread = place + jitter.uniform(-0.25, 0.25, len(losses))
        for chosen, colour, marker in ((ok, SOLVED_COLOUR, "o"), (~ok, STUCK_COLOUR, "X")):
            losses_axes.scatter(
                spread[chosen], losses[chosen], color=colour, marker=marker, s=25, alpha=0.8
            )
    losses_axes.scatter([], [], color=SOLVED_COLOUR, marker="o", label="solved")
    losses_axes.scatter([], [], color=STUCK_COLOUR, marker="X", label="not solved (stuck)")
    if epsilon is not None:
        losses_axes.axhline(epsilon, color="black", ls="--", lw=1, label=f"epsilon = {epsilon:g}")
    losses_axes.set_yscale("log")
    losses_axes.set_xticks(places, [str(key) for key in keys])
    losses_axes.set(xlabel=xlabel, ylabel=ylabel, title="every run's final loss")
    losses_axes.grid(axis="y", alpha=0.3)
    losses_axes.legend(loc="best", fontsize=8)
    figure.suptitle(title)
    return figure


def learning_rates_figure(
    losses: dict[str, Sequence[float]],
    weights: dict[str, Sequence[float]],
    title: str = "Learning rates",
    target: float | None = None,
    epsilon: float | None = None,
    weight_name: str = "slope $w_1$",
    ylabel: str = "J",
    weight_epochs: int | None = 30,
) -> Any:
    """Per learning rate, the loss per epoch and one weight per epoch side by side.

    The loss (log scale) shows a rate crawl, converge or blow up; the weight beside it
    shows why: a rate too big jumps over the best value (dashed), back and forth.

    Args:
        losses: label (e.g. ``"too big (lr = 0.03)"``) -> loss after each epoch.
        weights: the same labels -> the weight before training, then after each epoch.
        title: the title over both panels: the claim, and the problem.
        target: the weight's best value, drawn dashed (and the axis kept around it).
        epsilon: the loss training stops below, drawn dashed.
        weight_name: what the weight is. ylabel: what the loss is.
        weight_epochs: how many first epochs the weight panel shows (None: all), where
            the zigzags are still large enough to see.

    >>> figure = learning_rates_figure({"lr = 0.1": [4.0, 1.0]}, {"lr = 0.1": [0.0, 1.5, 1.9]})
    >>> [axes.get_ylabel() for axes in figure.axes]
    ['J', 'slope $w_1$']
    """
    if sorted(losses) != sorted(weights):
        raise ValueError(
            f"losses and weights need the same labels, got {sorted(losses)} and {sorted(weights)}"
        )
    figure = _new_figure(11.0, 5.0)
    loss_axes, weight_axes = figure.subplots(1, 2)
    for label, values in losses.items():
        loss_axes.plot(np.arange(1, len(values) + 1), values, marker=".", ms=4, label=label)
        steps = np.asarray(weights[label], dtype=np.float64)[: _weights_shown(weight_epochs)]
        weight_axes.plot(np.arange(len(steps)), steps, marker=".", ms=5)  # from epoch 0
    if epsilon is not None:
        loss_axes.axhline(epsilon, color="black", ls="--", lw=1, label=f"epsilon = {epsilon:g}")
    if target is not None:
        weight_axes.axhline(target, color="black", ls=":", lw=1.5, label=f"best {weight_name}")
        # A diverging run would stretch the axis past reading: keep the target's surroundings.
        shown = [
            np.asarray(w, dtype=np.float64)[: _weights_shown(weight_epochs)]
            for w in weights.values()
        ]
        seen = np.concatenate(shown)
        spread = float(np.max(np.abs(seen[np.isfinite(seen)] - target), initial=1.0))
        half = min(spread, 3.0 * max(abs(target), 1.0)) * 1.1
        weight_axes.set_ylim(target - half, target + half)
    loss_axes.set_yscale("log")
    loss_axes.set(xlabel="epoch", ylabel=ylabel, title=f"{ylabel} per epoch (log scale)")
    first = f"the first {weight_epochs} epochs" if weight_epochs else "every epoch"
    weight_axes.set(xlabel="epoch", ylabel=weight_name, title=f"{weight_name}, {first}")
    for axes in (loss_axes, weight_axes):
        _integer_ticks(axes.xaxis)
        axes.grid(alpha=0.3)
    handles = loss_axes.get_legend_handles_labels()[0] + weight_axes.get_legend_handles_labels()[0]
    figure.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9)
    figure.suptitle(title)
    return figure


def _weights_shown(weight_epochs: int | None) -> int | None:
    """How many weights the learning-rate panel draws: epoch 0 and the first ones after."""
    return None if weight_epochs is None else weight_epochs + 1


# -- plot_*: each figure saved to a file --------------------------------------------------


def _saving(draw: Callable[..., Any], after: str) -> Callable[..., Path]:
    """``draw``'s twin that saves: the same arguments, ``path`` after the one named ``after``.

    ``plot_losses(histories, path, title)`` draws ``losses_figure(histories, title)``
    and saves it to ``path`` (png, svg, pdf, ... by its suffix), creating its
    folder; it returns ``path`` as a ``pathlib.Path``.
    """
    drawn = inspect.signature(draw)
    parameters = list(drawn.parameters.values())
    at = [parameter.name for parameter in parameters].index(after) + 1
    path = inspect.Parameter(
        "path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | Path"
    )
    signature = drawn.replace(
        parameters=[*parameters[:at], path, *parameters[at:]], return_annotation="Path"
    )

    def plot(*args: Any, **kwargs: Any) -> Path:
        arguments = signature.bind(*args, **kwargs).arguments
        where = arguments.pop("path")
        return _save(draw(**arguments), where)

    plot.__signature__ = signature  # type: ignore[attr-defined]
    plot.__name__ = plot.__qualname__ = "plot_" + draw.__name__.removesuffix("_figure")
    plot.__doc__ = (
        f"Save what ``{draw.__name__}`` draws to ``path``, given after ``{after}``; "
        f"return ``path`` as a ``pathlib.Path``. The other arguments are ``{draw.__name__}``'s."
    )
    return plot


plot_losses = _saving(losses_figure, after="histories")
plot_mistakes = _saving(mistakes_figure, after="errors")
plot_decision_boundary = _saving(decision_boundary_figure, after="y")
plot_fitted_curve = _saving(fitted_curve_figure, after="y")
plot_network = _saving(network_figure, after="weights")
plot_success_rates = _saving(success_rates_figure, after="solved")
plot_learning_rates = _saving(learning_rates_figure, after="weights")
