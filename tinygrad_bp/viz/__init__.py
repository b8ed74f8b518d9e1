"""Pictures: computation graphs (Graphviz), the step-through of backward, plots.

- ``dot``: the graph of a ``Value`` or ``Tensor`` as DOT text, rendered by Graphviz
  (``draw_dot``, ``render``, ``svg``, the Jupyter display ``repr_svg``).
- ``stepthrough``: the graph once per step of backward's reverse sweep
  (``backward_frames``), and one HTML page that steps through it
  (``render_backward``; its page is package data: stepthrough.html/.css/.js).
- ``plots``: matplotlib plots of training (an optional extra).
- ``format``: the one number format of every label.
"""

from .dot import (
    INSTALL_GRAPHVIZ,
    MAX_EDGE_LENGTH,
    MAX_NODES,
    SUPPORTED_SUFFIXES,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    render,
    repr_svg,
    svg,
)
from .plots import plot_decision_boundary, plot_fitted_curve, plot_losses, plot_network
from .stepthrough import MAX_FRAMES, MAX_PAGE_BYTES, Frame, backward_frames, render_backward

__all__ = [
    "INSTALL_GRAPHVIZ",
    "MAX_EDGE_LENGTH",
    "MAX_FRAMES",
    "MAX_NODES",
    "MAX_PAGE_BYTES",
    "SUPPORTED_SUFFIXES",
    "Frame",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "backward_frames",
    "draw_dot",
    "plot_decision_boundary",
    "plot_fitted_curve",
    "plot_losses",
    "plot_network",
    "render",
    "render_backward",
    "repr_svg",
    "svg",
]
