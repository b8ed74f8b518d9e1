"""Pictures: computation graphs (Graphviz), the step-through of backward, plots.

- ``dot``: the graph of a ``Value`` or ``Tensor`` as DOT text, rendered by Graphviz
  (``draw_dot``, ``render``, ``svg``, the Jupyter display ``repr_svg``).
- ``stepthrough``: the graph once per step of backward's reverse sweep
  (``backward_frames``), and one HTML page that steps through it
  (``render_backward``; its page is package data: stepthrough.html/.css/.js).
- ``plots``: matplotlib plots of training, each titled with its claim (matplotlib
  is an optional extra); each ``plot_*`` saves what its ``*_figure`` twin draws
  (made from it: the arguments are written once).
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
from .plots import (
    INSTALL_MATPLOTLIB,
    NEGATIVE_EDGE,
    POSITIVE_EDGE,
    SOLVED_COLOUR,
    STUCK_COLOUR,
    decision_boundary_figure,
    fitted_curve_figure,
    learning_rates_figure,
    losses_figure,
    mistakes_figure,
    network_figure,
    plot_decision_boundary,
    plot_fitted_curve,
    plot_learning_rates,
    plot_losses,
    plot_mistakes,
    plot_network,
    plot_success_rates,
    success_rates_figure,
)
from .stepthrough import MAX_FRAMES, MAX_PAGE_BYTES, Frame, backward_frames, render_backward

__all__ = [
    "INSTALL_MATPLOTLIB",
    "NEGATIVE_EDGE",
    "POSITIVE_EDGE",
    "SOLVED_COLOUR",
    "STUCK_COLOUR",
    "decision_boundary_figure",
    "fitted_curve_figure",
    "learning_rates_figure",
    "losses_figure",
    "mistakes_figure",
    "network_figure",
    "plot_learning_rates",
    "plot_mistakes",
    "plot_success_rates",
    "success_rates_figure",
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
