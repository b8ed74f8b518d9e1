"""Pictures: computation graphs drawn with Graphviz, training curves with matplotlib.

The graph picture is built from the shared walk ``graph.toposort``, so it works for
any node of either engine (``Value`` or ``Tensor``): it reads only ``data``,
``grad``, ``children``, ``op`` and ``label`` (and ``shape`` for tensors). Each value
becomes a record ``{ label | data | grad }`` and each operation a small ellipse, with
edges in the direction the data flows, as in micrograd::

    a ──┐
        (*) ──> a*b ──┐
    b ──┘             (+) ──> e
    c ────────────────┘

Node names come from the topological index (``v3`` is the value at position 3,
``op3`` the operation that produced it), so the DOT text is the same on every run and
tests can assert it. DOT is just text: only ``render`` and ``svg`` need the Graphviz
``dot`` program, at the very last step.

The plots (``plot_losses``, ``plot_decision_boundary``, ``plot_network``) need
matplotlib, an optional extra: ``pip install tinygrad_bp[plot]``. They draw on a
``matplotlib.figure.Figure`` without pyplot, so they never open a window and work on
a machine without a display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .graph import toposort

SUPPORTED_SUFFIXES = (".svg", ".png", ".pdf")
INSTALL_GRAPHVIZ = (
    "Install Graphviz (it provides the `dot` program): `apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`."
)

# Characters with a meaning inside a Graphviz record label, each escaped by a backslash.
_RECORD_ESCAPES = str.maketrans({char: "\\" + char for char in "\\{}|<>"})


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is not installed, so a picture cannot be rendered."""


# -- the computation graph in DOT --------------------------------------------------------


def draw_dot(
    root: Any,
    format: str = "svg",
    rankdir: str = "LR",
    show_constants: bool = True,
    max_nodes: int = 500,
) -> graphviz.Digraph:
    """Build the Graphviz picture of the computation graph that produced ``root``.

    One record node per value, ``{ label | data | grad }`` (the label field is left
    out when the label is empty); a tensor's record shows its shape and dtype, and its
    data and grad as the values themselves for up to 4 elements, otherwise as mean,
    min and max ("grad None" until a gradient is computed). One small ellipse per
    operation, with edges operand -> operation -> result.

    Args:
        root: a ``Value`` or ``Tensor`` (any node with ``children``, ``op``, ``label``,
            ``data`` and ``grad``).
        format: the output format Graphviz uses when the returned graph is rendered.
        rankdir: layout direction, "LR" (left to right, the default) or "TB", "RL",
            "BT".
        show_constants: if False, leave out constants: leaves without a label that do
            not require grad (a ``Value`` made from a plain number, such as the 2 in
            ``x * 2``, or a ``Tensor`` with ``requires_grad=False``). Their value is
            written next to the operation instead (``* 2.0000``).
        max_nodes: the largest number of value records to draw. A bigger graph keeps
            the ``max_nodes`` values nearest to the root (fewest operations away) and
            draws one dashed "… N more nodes" placeholder feeding every operation
            whose operands were left out, so a graph of thousands of nodes stays quick
            to draw and readable.

    Returns:
        A ``graphviz.Digraph``; ``.source`` is the DOT text, and in Jupyter it
        displays itself as the picture.

    >>> from tinygrad_bp import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b; c.label = "c"
    >>> c.backward()
    >>> print(draw_dot(c).source)  # doctest: +NORMALIZE_WHITESPACE
    digraph {
        graph [rankdir=LR]
        v0 [label="{ a | data 2.0000 | grad -3.0000 }" shape=record]
        v1 [label="{ b | data -3.0000 | grad 2.0000 }" shape=record]
        v2 [label="{ c | data -6.0000 | grad 1.0000 }" shape=record]
        op2 [label="*" shape=ellipse]
        op2 -> v2
        v0 -> op2
        v1 -> op2
    }
    """
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    order = toposort(root)
    index = {id(node): position for position, node in enumerate(order)}
    kept = _nearest_to_root(order, max_nodes)
    hidden = set()  # the ids of the constants that show_constants=False leaves out
    if not show_constants:
        hidden = {id(node) for node in order if id(node) in kept and _is_constant(node)}

    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    fed_by_placeholder = []  # operations with an operand beyond max_nodes
    for position, node in enumerate(order):
        if id(node) not in kept or id(node) in hidden:
            continue
        dot.node(f"v{position}", _record(node), shape="record")
        if not node.children:
            continue
        constants = [_format_numbers(child.data) for child in node.children if id(child) in hidden]
        dot.node(f"op{position}", graphviz.escape(" ".join([node.op, *constants])), shape="ellipse")
        dot.edge(f"op{position}", f"v{position}")
        for child in node.children:
            if id(child) not in kept:
                fed_by_placeholder.append(position)
            elif id(child) not in hidden:
                dot.edge(f"v{index[id(child)]}", f"op{position}")

    if len(kept) < len(order):
        omitted = len(order) - len(kept)
        dot.node("more", f"… {omitted} more nodes", shape="box", style="dashed")
        for position in dict.fromkeys(fed_by_placeholder):  # once per operation, in order
            dot.edge("more", f"op{position}")
    return dot


def _nearest_to_root(order: list[Any], max_nodes: int) -> set[int]:
    """The ids of the ``max_nodes`` nodes fewest operations away from the root.

    ``order`` is topological (root last), so walking it backwards visits every
    consumer of a node before the node itself: the shortest distance of a node is
    final by the time the walk reaches it. Ties go to the later topological index.
    """
    if len(order) <= max_nodes:
        return {id(node) for node in order}
    distance = {id(order[-1]): 0}
    for node in reversed(order):
        for child in node.children:
            through_node = distance[id(node)] + 1
            distance[id(child)] = min(distance.get(id(child), through_node), through_node)
    ranked = sorted(
        range(len(order)), key=lambda position: (distance[id(order[position])], -position)
    )
    return {id(order[position]) for position in ranked[:max_nodes]}


def _is_constant(node: Any) -> bool:
    """A leaf without a label whose grad nobody asked for (a plain number in an op)."""
    return not node.children and not node.label and not getattr(node, "requires_grad", False)


def _record(node: Any) -> str:
    """The record label ``{ label | data ... | grad ... }`` of one value or tensor."""
    fields = [node.label] if node.label else []
    if hasattr(node, "shape"):
        fields.append(f"shape {tuple(node.shape)} {node.dtype}")
    fields.append(f"data {_format_numbers(node.data)}")
    fields.append("grad None" if node.grad is None else f"grad {_format_numbers(node.grad)}")
    return "{ " + " | ".join(field.translate(_RECORD_ESCAPES) for field in fields) + " }"


def _format_numbers(numbers: Any) -> str:
    """A number as ``0.7770``; an array as its values (up to 4) or its mean, min and max.

    >>> _format_numbers(0.77701), _format_numbers(np.array([1.0, -2.0]))
    ('0.7770', '[1.0000, -2.0000]')
    >>> _format_numbers(np.arange(6.0).reshape(2, 3))
    'mean 2.5000 min 0.0000 max 5.0000'
    """
    array = np.asarray(numbers, dtype=np.float64)
    if array.ndim == 0:
        return f"{float(array):.4f}"
    if array.size <= 4:
        return "[" + ", ".join(f"{value:.4f}" for value in array.ravel()) + "]"
    return f"mean {array.mean():.4f} min {array.min():.4f} max {array.max():.4f}"


# -- rendering with the Graphviz `dot` program -------------------------------------------


def render(root: Any, path: str | Path, **draw_kwargs: Any) -> Path:
    """Draw the graph of ``root`` into an image file: svg, png or pdf by the suffix.

    Parent directories are created. Without the Graphviz ``dot`` program the DOT text
    is written next to ``path`` (same name, suffix ``.dot``; render it later with
    ``dot -Tsvg graph.dot -o graph.svg``) and ``GraphvizNotFoundError`` says how to
    install Graphviz.

    Args:
        root: the ``Value`` or ``Tensor`` whose graph to draw.
        path: where to write, e.g. ``"out/graph.svg"``.
        **draw_kwargs: passed to ``draw_dot`` (``rankdir``, ``show_constants``,
            ``max_nodes``).

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        ValueError: the suffix is not one of .svg, .png, .pdf.
        GraphvizNotFoundError: the ``dot`` program is missing (the .dot file is written).

    >>> from tinygrad_bp import Value
    >>> render(Value(1.0), "graph.txt")
    Traceback (most recent call last):
    ValueError: cannot render to 'graph.txt': unsupported suffix '.txt'; use .svg, .png or .pdf
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(
            f"cannot render to '{path}': unsupported suffix '{suffix}'; use .svg, .png or .pdf"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    dot = draw_dot(root, format=suffix[1:], **draw_kwargs)
    path.write_bytes(_run_dot(dot, source_path=path.with_suffix(".dot")))
    return path


def svg(root: Any, **draw_kwargs: Any) -> str:
    """The SVG text of the graph of ``root`` (what Jupyter displays for a node).

    Needs the Graphviz ``dot`` program; without it ``GraphvizNotFoundError`` says how
    to install it (``draw_dot(root).source`` still gives the DOT text).

    >>> from tinygrad_bp import Value
    >>> x = Value(3.0, label="x")
    >>> picture = svg(x * x)
    >>> picture.startswith("<?xml"), "<svg" in picture, ">x<" in picture
    (True, True, True)
    """
    return _run_dot(draw_dot(root, format="svg", **draw_kwargs)).decode("utf-8")


def repr_svg(root: Any) -> str | None:
    """What a Value's or Tensor's ``_repr_svg_`` returns: the SVG, or None without ``dot``.

    None tells Jupyter to fall back to the plain ``repr``, so a notebook on a
    machine without Graphviz shows the value instead of a traceback.
    """
    try:
        return svg(root)
    except GraphvizNotFoundError:
        return None


def _run_dot(dot: graphviz.Digraph, source_path: Path | None = None) -> bytes:
    """Run ``dot`` on the graph; if it is missing, save the source and explain."""
    try:
        return dot.pipe()
    except graphviz.ExecutableNotFound:
        if source_path is None:
            message = "cannot draw the graph: the Graphviz `dot` program was not found."
        else:
            source_path.write_text(dot.source, encoding="utf-8")
            message = (
                "cannot render the graph: the Graphviz `dot` program was not found. "
                f"The DOT source was written to {source_path}."
            )
        raise GraphvizNotFoundError(f"{message} {INSTALL_GRAPHVIZ}") from None


# -- plots with matplotlib ---------------------------------------------------------------


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
