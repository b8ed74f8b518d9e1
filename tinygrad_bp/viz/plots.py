"""Plots with matplotlib: training curves, decision boundaries, fitted curves, networks.

matplotlib is an optional extra (``pip install matplotlib``). The plots draw on a
``matplotlib.figure.Figure`` without pyplot, so they never open a window and work on
a machine without a display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _new_figure(width: float = 6.0, height: float = 4.0) -> Any:
    """A matplotlib Figure not managed by pyplot (no window, no global state)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "plots need matplotlib: pip install tinygrad_bp[plot]  (or pip install matplotlib)"
        ) from error
    return Figure(figsize=(width, height), layout="constrained")


def _save(figure: Any, path: str | Path) -> Path:
    """Save the figure (format from the suffix), creating parent directories."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path


def plot_losses(
    histories: dict[str, Sequence[float]],
    path: str | Path,
    title: str = "Training loss",
    log_y: bool = False,
) -> Path:
    """Plot one loss curve per entry of ``histories`` (label -> loss per epoch).

    Args:
        histories: e.g. ``{"lr = 0.1": losses_a, "lr = 1.0": losses_b}``.
        path: the image file to write (png, svg, pdf, ... by the suffix).
        title: the title of the plot.
        log_y: use a logarithmic loss axis (losses must then be positive).

    Returns:
        ``path`` as a ``pathlib.Path``.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = plot_losses({"lr = 0.5": [0.9, 0.4, 0.1]}, folder + "/loss.png")
    >>> path.stat().st_size > 0
    True
    """
    figure = _new_figure()
    axes = figure.add_subplot()
    for label, losses in histories.items():
        axes.plot(np.arange(1, len(losses) + 1), losses, label=label)
    axes.set(title=title, xlabel="epoch", ylabel="loss")
    if log_y:
        axes.set_yscale("log")
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    path: str | Path,
    title: str = "Decision boundary",
    resolution: int = 200,
) -> Path:
    """Shade a classifier's output over the plane and draw its 0.5 contour and the data.

    Args:
        predict: maps an (n, 2) array of points to n scores in [0, 1] (for example the
            network's output probability); anything ``np.asarray`` accepts.
        X: the (n, 2) input points.
        y: their n labels (0/1), used as the colours of the points.
        path: the image file to write.
        title: the title of the plot.
        resolution: grid points per axis.

    Returns:
        ``path`` as a ``pathlib.Path``.

    >>> import tempfile
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> y = np.array([0, 1, 1, 1])                     # OR
    >>> def predict(points):
    ...     return 1 / (1 + np.exp(-(10 * points.sum(axis=1) - 5)))
    >>> path = plot_decision_boundary(predict, X, y, tempfile.mkdtemp() + "/or.png")
    >>> path.stat().st_size > 0
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X.shape}")
    margin = 0.25 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    scores = np.asarray(predict(points), dtype=np.float64).reshape(grid_x.shape)

    figure = _new_figure(5.0, 5.0)
    axes = figure.add_subplot()
    # A pale background, so the points (same colours, full strength) stand out.
    levels = np.linspace(0, 1, 11)
    shading = axes.contourf(grid_x, grid_y, scores, levels=levels, cmap="RdBu_r", alpha=0.4)
    figure.colorbar(shading, ax=axes, label="output")
    if scores.min() < 0.5 < scores.max():
        axes.contour(grid_x, grid_y, scores, levels=[0.5], colors="black", linewidths=2)
    axes.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", vmin=0, vmax=1, s=60, edgecolors="black")
    axes.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    return _save(figure, path)


def plot_fitted_curve(
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    path: str | Path,
    title: str = "Fitted function",
) -> Path:
    """Plot the samples (x, y) of a function of one input and the network's curve through them.

    Args:
        predict: maps an (n, 1) array of inputs to n outputs (anything ``np.asarray``
            accepts, e.g. shape (n,) or (n, 1)).
        X: the (n, 1) sample inputs. y: their n targets.
        path: the image file to write.
        title: the title of the plot.

    Returns:
        ``path`` as a ``pathlib.Path``.

    >>> import tempfile
    >>> X = np.linspace(0, 1, 5)[:, None]
    >>> path = plot_fitted_curve(np.sin, X, np.sin(X[:, 0]), tempfile.mkdtemp() + "/f.png")
    >>> path.stat().st_size > 0
    True
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
    return _save(figure, path)


def plot_network(
    weights: Sequence[np.ndarray], path: str | Path, title: str = "Network weights"
) -> Path:
    """Draw a fully connected network with every weight on its edge.

    Weights in the derivation's convention: one (n_in + 1, n_out) matrix per layer,
    ``w[i, j]`` from unit i below to unit j above, row 0 the bias (a unit whose
    output is fixed at 1, drawn as a square). Edge thickness grows with ``|w|``;
    positive weights are blue, negative red.

    Args:
        weights: the per-layer matrices, e.g. ``tinygrad_bp.nn.get_weights(model)``.
        path: the image file to write.
        title: the title of the plot.

    Returns:
        ``path`` as a ``pathlib.Path``.

    >>> import tempfile
    >>> hidden = np.array([[-10.0, 30.0], [20.0, -20.0], [20.0, -20.0]])  # OR, NAND
    >>> output = np.array([[-30.0], [20.0], [20.0]])                      # AND
    >>> path = plot_network([hidden, output], tempfile.mkdtemp() + "/xor.png")
    >>> path.stat().st_size > 0
    True
    """
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    widths = _layer_widths(weights)
    figure = _new_figure(2.5 * len(widths), 1.2 * max(widths) + 2.0)
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
            colour = "tab:blue" if w[i, j] >= 0 else "tab:red"
            axes.plot([x0, x1], [y0, y1], color=colour, lw=0.5 + 3 * abs(w[i, j]) / largest)
            # The label sits a third of the way along, where edges fan out the most.
            axes.text(
                x0 + (x1 - x0) / 3,
                y0 + (y1 - y0) / 3,
                f"{w[i, j]:.2f}",
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
            axes.text(
                *position(layer, unit),
                f"${prefix}_{{{unit}}}$",
                ha="center",
                va="center",
                zorder=3,
                bbox={"boxstyle": "circle", "fc": "white", "ec": "black"},
            )
    axes.set(xlim=(-0.5, len(widths) - 0.5), ylim=(-max(widths) / 2, max(widths) / 2 + 1))
    return _save(figure, path)


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
