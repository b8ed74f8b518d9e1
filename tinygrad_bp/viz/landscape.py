"""Pictures of the error surface: a slice as contours with the training path, as a 3-D
surface, and the XOR lab's outcomes per network width (matplotlib, an optional extra)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..landscape import Surface
from ..landscape.xor_lab import CATEGORIES, LabResult
from .plots import _new_figure, _saving

# One colour per outcome of the XOR lab.
OUTCOME_COLOURS = {
    "solved": "tab:green",
    "valley 1/4": "tab:orange",
    "valley 1/3": "tab:red",
    "local minimum": "tab:purple",
    "other": "tab:grey",
}


def _quantiles(values: np.ndarray, count: int) -> np.ndarray:
    """``count`` levels at evenly spaced quantiles of ``values``: each band covers as much
    of the slice as the next, so a flat valley floor shows its slope as well as a wall does."""
    levels = np.unique(np.quantile(values[np.isfinite(values)], np.linspace(0, 1, count)))
    return (
        levels if len(levels) > 2 else np.linspace(np.nanmin(values), np.nanmax(values) + 1e-12, 3)
    )


def _bands(values: np.ndarray, relative: bool, count: int = 24) -> tuple[np.ndarray, str]:
    """Contour levels and colour map: quantile bands of J, or for ``relative`` of J - J(centre)
    with the bands below 0 blue and above red, 0 at the white middle."""
    if not relative:
        return _quantiles(values, count), "viridis"
    below, above = values[values < 0], values[values > 0]
    half = count // 2
    lower = _quantiles(below, half)[:-1] if below.size > 1 else np.array([])
    upper = _quantiles(above, half)[1:] if above.size > 1 else np.array([])
    if len(lower) < len(upper):  # the same number of bands each side keeps 0 at the middle
        lower = np.linspace(min(float(values.min()), -1e-12), 0, len(upper) + 1)[:-1]
    elif len(upper) < len(lower):
        upper = np.linspace(0, max(float(values.max()), 1e-12), len(lower) + 1)[1:]
    return np.concatenate([lower, [0.0], upper]), "RdBu_r"


def surface_contour_figure(
    slice_: Surface,
    title: str = "Error surface",
    relative: bool = False,
    labels: tuple[str, str] | None = None,
) -> Any:
    """Contours of J over the slice, the projected path, its start and end marked.

    The bands are quantiles of J over the slice (equal areas), so slopes show both on
    flat floors and on steep walls; the colour bar gives the values. With ``relative``
    the colour is J - J(model): blue below the model's own loss, red above, so a saddle
    shows as blue and red sectors meeting at the centre.

    >>> from tinygrad_bp import data
    >>> from tinygrad_bp.landscape import dataset_loss, surface
    >>> from tinygrad_bp.nn import MLP
    >>> s = surface(MLP(2, [2, 1], rng=0), dataset_loss(*data.xor()), steps=11)
    >>> figure = surface_contour_figure(s, "XOR")
    >>> figure.axes[0].get_xlabel()
    'filter direction 1'
    """
    from matplotlib.colors import BoundaryNorm

    figure = _new_figure(6.4, 5.4)
    axes = figure.add_subplot()
    values = slice_.loss - slice_.center_loss if relative else slice_.loss
    levels, cmap = _bands(values, relative)
    norm = BoundaryNorm(levels, 256)
    filled = axes.contourf(slice_.a, slice_.b, values, levels=levels, cmap=cmap, norm=norm)
    axes.contour(
        slice_.a, slice_.b, values, levels=levels, colors="black", linewidths=0.3, alpha=0.35
    )
    name = "J - J(model)" if relative else "J"
    bar = figure.colorbar(
        filled, ax=axes, label=f"{name} (bands: equal areas of the slice)", spacing="uniform"
    )
    ticks = levels[:: max(1, len(levels) // 6)]
    bar.set_ticks(ticks, labels=[f"{tick:.4g}" for tick in ticks])
    if slice_.path is not None and slice_.path_loss is not None:
        a, b = slice_.path[:, 0], slice_.path[:, 1]
        axes.plot(a, b, color="white", lw=3.0)
        axes.plot(a, b, color="tab:red", lw=1.5, label="training path (projected)")
        axes.plot(
            a[0],
            b[0],
            "o",
            ms=9,
            mfc="white",
            mec="black",
            label=f"start, J = {slice_.path_loss[0]:.3g}",
        )
        axes.plot(
            a[-1],
            b[-1],
            "*",
            ms=16,
            mfc="gold",
            mec="black",
            label=f"end, J = {slice_.path_loss[-1]:.3g}",
        )
    else:
        axes.plot(
            0,
            0,
            "*",
            ms=16,
            mfc="gold",
            mec="black",
            label=f"the model, J = {slice_.center_loss:.3g}",
        )
    axes.legend(loc="upper right", fontsize=8, framealpha=0.9)
    xlabel, ylabel = labels or slice_.labels
    axes.set(xlabel=xlabel, ylabel=ylabel)
    axes.set_title(title, fontsize=10)
    return figure


def surface_3d_figure(slice_: Surface, title: str = "Error surface") -> Any:
    """J over the slice as a 3-D surface, the path drawn on it.

    >>> from tinygrad_bp import data
    >>> from tinygrad_bp.landscape import dataset_loss, surface
    >>> from tinygrad_bp.nn import MLP
    >>> s = surface(MLP(2, [2, 1], rng=0), dataset_loss(*data.xor()), steps=11)
    >>> surface_3d_figure(s).axes[0].get_zlabel()
    'J'
    """
    figure = _new_figure(6.5, 5.4)
    # computed_zorder off: the path is drawn after the surface, so it stays in sight.
    axes = figure.add_subplot(projection="3d", computed_zorder=False)
    a_grid, b_grid = np.meshgrid(slice_.a, slice_.b)
    axes.plot_surface(
        a_grid, b_grid, slice_.loss, cmap="viridis", linewidth=0, alpha=0.8, rcount=60, ccount=60
    )
    if slice_.path is not None and slice_.path_loss is not None:
        a, b, J = slice_.path[:, 0], slice_.path[:, 1], slice_.path_loss
        axes.plot(a, b, J, color="white", lw=4)
        axes.plot(a, b, J, color="tab:red", lw=2, label="training path: J at its own weights")
        axes.scatter(a[0], b[0], J[0], color="white", edgecolors="black", s=60, label="start")
        axes.scatter(
            a[-1], b[-1], J[-1], color="gold", edgecolors="black", marker="*", s=200, label="end"
        )
        axes.legend(loc="upper left", fontsize=8)
    for name, label in zip(("xlabel", "ylabel"), slice_.labels):
        getattr(axes, f"set_{name}")(label, fontsize=8)
    axes.set_zlabel("J")
    axes.tick_params(labelsize=7)
    axes.set_title(title, fontsize=10)
    axes.view_init(elev=40, azim=-120)
    return figure


def valley_growth_figure(
    steps: np.ndarray,
    losses: np.ndarray,
    grad_norms: np.ndarray,
    weight_norms: np.ndarray,
    title: str = "A valley at infinity",
    level: float = 0.25,
) -> Any:
    """One run followed over many steps: J - level, |grad J| and |theta| against t (log t).

    >>> t = np.array([10, 100, 1000])
    >>> figure = valley_growth_figure(t, 0.25 + 1 / t, 1 / t, np.log(t))
    >>> [axes.get_ylabel() for axes in figure.axes]
    ['J - 1/4', '|grad J|', '|theta|']
    """
    figure = _new_figure(11.0, 3.8)
    gap, slope, norm = figure.subplots(1, 3)
    gap.loglog(steps, losses - level, "o-", ms=3)
    gap.set(xlabel="step t", ylabel=f"J - {_fraction(level)}", title="J closes in on its level")
    slope.loglog(steps, grad_norms, "o-", ms=3, label="|grad J|")
    reference = grad_norms[-1] * steps[-1] / steps
    slope.loglog(steps, reference, "--", color="grey", label="c / t")
    slope.set(xlabel="step t", ylabel="|grad J|", title="the gradient fades like 1/t")
    slope.legend(fontsize=8)
    norm.semilogx(steps, weight_norms, "o-", ms=3)
    norm.set(xlabel="step t", ylabel="|theta|", title="the weights grow like log t")
    for axes in (gap, slope, norm):
        axes.grid(alpha=0.3, which="both")
    figure.suptitle(title)
    return figure


def _fraction(level: float) -> str:
    """1/4 and 1/3 by name, anything else as a number."""
    names = {0.25: "1/4", round(1 / 3, 12): "1/3"}
    return names.get(round(level, 12), f"{level:g}")


def xor_lab_figure(lab: LabResult, title: str | None = None) -> Any:
    """Left: how many runs of each width ended where. Right: final J against weight norm.

    >>> from tinygrad_bp.landscape.xor_lab import xor_lab
    >>> figure = xor_lab_figure(xor_lab(hidden=(2,), seeds=10, steps=200))
    >>> figure.axes[0].get_ylabel()
    'runs'
    """
    figure = _new_figure(11.0, 4.6)
    bars, scatter = figure.subplots(1, 2)
    widths = list(lab.runs)
    bottom = np.zeros(len(widths))
    for name in CATEGORIES:
        counts = np.array([lab.runs[h].count(name) for h in widths])
        if counts.any():
            bars.bar(
                [f"2-{h}-1" for h in widths],
                counts,
                bottom=bottom,
                label=name,
                color=OUTCOME_COLOURS[name],
            )
            for x, (count, base) in enumerate(zip(counts, bottom)):
                if count:
                    bars.text(x, base + count / 2, str(count), ha="center", va="center", fontsize=9)
            bottom += counts
    bars.set(ylabel="runs", xlabel="network", title="where each run ended")
    bars.set_ylim(0, 1.2 * bottom.max())
    bars.legend(fontsize=8, loc="upper center", ncol=3, framealpha=0.9)
    markers = dict(zip(widths, "o^sDvP" * len(widths)))
    for h in widths:
        runs = lab.runs[h]
        for name in CATEGORIES:
            chosen = runs.category == name
            if chosen.any():
                scatter.scatter(
                    runs.norm_end[chosen],
                    runs.loss[chosen],
                    s=10,
                    alpha=0.6,
                    color=OUTCOME_COLOURS[name],
                    marker=markers[h],
                )
    for level, text, place in ((0.25, "J = 1/4", "top"), (1 / 3, "J = 1/3", "bottom")):
        scatter.axhline(level, color="black", lw=0.6, ls="--")
        scatter.annotate(
            text,
            (1.0, level),
            xycoords=("axes fraction", "data"),
            ha="right",
            va=place,
            fontsize=8,
        )
    scatter.set_yscale("log")
    shapes = ", ".join(f"{markers[h]} 2-{h}-1" for h in widths)
    scatter.set(
        xlabel=r"weight norm $\|\theta\|$ at the end",
        ylabel="final J",
        title=f"final J against weight norm ({shapes})",
    )
    recipe = lab.recipe
    figure.suptitle(
        title
        or f"XOR, {recipe.seeds} runs per width, U(-{recipe.init:g}, {recipe.init:g}) init, "
        f"alpha = {recipe.lr:g}, {recipe.steps:,} steps of full-batch gradient descent"
    )
    return figure


# -- plot_*: each figure saved to a file (as in viz.plots) ---------------------------------

plot_surface_contour = _saving(surface_contour_figure, after="slice_")
plot_surface_3d = _saving(surface_3d_figure, after="slice_")
plot_valley_growth = _saving(valley_growth_figure, after="weight_norms")
plot_xor_lab = _saving(xor_lab_figure, after="lab")
