"""Stepping through backward: the graph once per step of the reverse sweep.

``backward_frames`` gives one ``graphviz.Digraph`` per step (DOT text, no Graphviz
program needed); ``render_backward`` lays the graph out once and writes one HTML page
that replays the sweep on that one picture, step by step. The steps are the
engine's own: ``root.backward()`` runs with every grad set aside (and put back), and
its order is ``graph.backward_order(root)``, output layer before hidden layer before
inputs.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz  # type: ignore[import-untyped]

from ..graph import backward_order, observing, toposort
from .dot import (
    BY_HAND,
    MAX_EDGE_LENGTH,
    MAX_NODES,
    GraphTooLargeError,
    Layout,
    _Look,
    grad_text,
    is_by_hand,
    name,
    record,
    run_dot,
)
from .format import numbers
from .page import self_contained_page

MAX_FRAMES = 300  # steps of one step-through (each shown node is one step)
MAX_PAGE_BYTES = 5_000_000  # the HTML page of render_backward

NOT_COMPUTED = "grad not computed"
_ACROSS = ("LR", "RL")  # layouts whose records stack their fields, to stay narrow
# One table of the colours, read by the frames' DOT and by the page's script.
# Names and codes both Graphviz and SVG read the same.
COLOURS = {
    "current": "gold",  # the record whose gradient this step finalised
    "done": "palegreen",  # records finalised by earlier steps
    "waiting": "white",  # records not reached yet
    "sending": "red",  # the edges the current node has just sent along
    "sent": "black",  # edges that carried their gradient at an earlier step
    "idle": "#999999",  # edges that have not carried anything yet
    "idle_text": "#666666",  # the labels of those edges
}


@dataclass(frozen=True)
class Frame:
    """One picture of the step-through of backward (see ``backward_frames``).

    Attributes:
        step: how many steps of the reverse sweep are done: 0 for the start frame,
            k for the picture just after the k-th node's step.
        node: the node whose gradient step ``step`` finalised (None at the start).
        caption: one sentence saying what happened; it is also drawn above the graph.
        digraph: the picture, a ``graphviz.Digraph`` (``.source`` is the DOT text).
    """

    step: int
    node: Any
    caption: str
    digraph: graphviz.Digraph


@dataclass(frozen=True)
class _Sweep:
    """What one reverse sweep from ``layout.order[-1]`` did, by topological position.

    ``grads[p]`` is d(root)/d(order[p]) (None for a tensor that receives no gradient),
    ``sent[p]`` the gradients ``order[p]`` sent to its children, one per operand, and
    ``visits`` the positions of the shown nodes in the order the sweep finalised them.
    """

    layout: Layout
    grads: list[Any]
    sent: dict[int, tuple[Any, ...]]
    visits: list[int]

    def caption(self, step: int) -> str:
        """What step ``step`` (0: the start) did, in one sentence."""
        total = len(self.visits)
        if step == 0:
            return (
                f"Start: backward() from {name(self.layout.order[-1])} will finalise {total} "
                "gradients, each node after all its consumers. Nothing is computed yet."
            )
        position = self.visits[step - 1]
        node = self.layout.order[position]
        grad = numbers(self.grads[position])
        caption = f"Step {step} of {total}: the gradient of {name(node)} is final, {grad}"
        if step == 1:
            caption += " (the seed)"
        if is_by_hand(node):
            caption += f"; {BY_HAND} closure sends its share back to its inputs (red edges)"
        elif node.children:
            caption += "; it passes local × grad back to its inputs (red edges)"
        return caption + "."

    def edge_label(self, position: int, slot: int, sent: bool) -> str:
        """The label of the edge from operand ``slot`` into the operation of ``position``.

        "local" d(out)/d(in) for a Value (a node built by hand: unknown to us), and,
        if ``sent``, what the edge carried back ("sent" = local × grad of out; for a
        Tensor a summary of the vector-Jacobian product).
        """
        node = self.layout.order[position]
        lines = []
        if hasattr(node, "local_grads"):
            local = node.local_grads
            lines.append(
                f"local: in {BY_HAND}" if local is None else f"local {numbers(local[slot])}"
            )
        gradient = self.sent[position][slot]
        if sent and gradient is not None:
            lines.append(f"sent {numbers(gradient)}")
        return "\\n".join(lines)


def _sweep_aside(layout: Layout, max_frames: int) -> _Sweep:
    """Run the root's ``backward()`` from empty grads, record it, and put every grad back.

    The engine's own sweep runs, so the order, the seed and the chain rule are the
    ones ``backward()`` uses (``graph.backpropagate``). What each node sends to its
    children is read through a backward observer (``graph.observing``), after any
    already installed (so ``detect_anomaly`` keeps watching). A node's gradient is
    final as soon as the sweep leaves it, so the grads at the end are the grads of
    every step. Refused up front (GraphTooLargeError) beyond ``max_frames`` steps.
    """
    order, index = layout.order, layout.index
    root = order[-1]
    swept = backward_order(root)  # the order backpropagate visits the nodes in
    steps = sum(1 for node in swept if index[node] in layout.shown and _receives_grad(node))
    if steps > max_frames:
        raise GraphTooLargeError(
            f"the step-through would have {steps} steps, more than max_frames={max_frames}; "
            "hide the constants and inputs or step through a smaller graph"
        )
    saved = [node.grad for node in order]
    sent: dict[int, tuple[Any, ...]] = {}
    observed = []  # the nodes in the order the engine's sweep reported them

    def watch(node: Any, gradients: tuple[Any, ...]) -> None:
        sent[index[node]] = gradients
        observed.append(index[node])

    for node in order:
        node.grad = node._EMPTY  # the engine's empty gradient: 0.0 (Value) or None (Tensor)
    try:
        with observing(backward=watch):
            root.backward()
        grads = [node.grad for node in order]
    finally:
        for node, grad in zip(order, saved, strict=True):
            node.grad = grad
    visited = [index[node] for node in swept if grads[index[node]] is not None]
    assert [p for p in visited if order[p].children] == [p for p in observed if order[p].children]
    visits = [position for position in visited if position in layout.shown]
    return _Sweep(layout, grads, sent, visits)


def _receives_grad(node: Any) -> bool:
    """Every Value does; a Tensor only if it requires grad."""
    return getattr(node, "requires_grad", True)


class _StepLook(_Look):
    """The graph just after ``step`` steps of the reverse sweep.

    Nodes already finalised are green, the one finalised by this step gold, the rest
    show "grad not computed". The edges of the gold node, which it has just sent
    along, are red; edges that have carried nothing yet are grey.
    """

    def __init__(self, sweep: _Sweep, step: int, stacked: bool) -> None:
        self.sweep = sweep
        self.stacked = stacked
        self.done = set(sweep.visits[:step])
        self.current = sweep.visits[step - 1] if step else None
        self.caption = sweep.caption(step)

    def record(self, position: int, node: Any) -> str:
        grad = self.sweep.grads[position]
        if grad is not None and position not in self.done:
            return record(node, NOT_COMPUTED, self.stacked)
        return record(node, grad_text(grad), self.stacked)

    def node_attrs(self, position: int) -> dict[str, str]:
        if position == self.current:
            return {"style": "filled", "fillcolor": COLOURS["current"], "penwidth": "2"}
        if position in self.done:
            return {"style": "filled", "fillcolor": COLOURS["done"]}
        return {}

    def edge_attrs(self, position: int, slot: int) -> dict[str, str]:
        label = self.sweep.edge_label(position, slot, sent=position in self.done)
        attrs = {"label": label} if label else {}
        if position == self.current:
            attrs.update(color=COLOURS["sending"], fontcolor=COLOURS["sending"], penwidth="2")
        elif position not in self.done:
            attrs.update(color=COLOURS["idle"], fontcolor=COLOURS["idle_text"])
        return attrs


class _PageLook(_Look):
    """The one layout of the page: every label at its widest, every element with an id.

    The page's script then shows each step by recolouring records and edges and
    swapping the grad texts, so the picture never moves between steps.
    """

    def __init__(self, sweep: _Sweep, stacked: bool) -> None:
        self.sweep = sweep
        self.stacked = stacked
        self.stepped = set(sweep.visits)

    def record(self, position: int, node: Any) -> str:
        final = grad_text(self.sweep.grads[position])
        if position in self.stepped and len(NOT_COMPUTED) > len(final):
            return record(node, NOT_COMPUTED, self.stacked)  # the wider text sizes the field
        return record(node, final, self.stacked)

    def node_attrs(self, position: int) -> dict[str, str]:
        return {"id": f"v{position}", "style": "filled", "fillcolor": COLOURS["waiting"]}

    def edge_attrs(self, position: int, slot: int) -> dict[str, str]:
        label = self.sweep.edge_label(position, slot, sent=True)
        return {"id": f"e{position}_{slot}", **({"label": label} if label else {})}


def backward_frames(
    root: Any,
    rankdir: str = "LR",
    show_constants: bool = True,
    hidden: Iterable[Any] = (),
    max_nodes: int = MAX_NODES,
    max_edge_length: int = MAX_EDGE_LENGTH,
    max_frames: int = MAX_FRAMES,
    format: str = "svg",
) -> list[Frame]:
    """One picture of the graph of ``root`` per step of ``root.backward()``.

    backward() visits the nodes root first, each after all its consumers
    (``graph.backward_order(root)``: in a network the output layer, then the hidden
    layer, then the inputs). When it reaches a node every consumer c of the node has
    already been visited, so the node's gradient is complete,

        d(root)/d(node) = sum over consumers c of d(root)/d(c) · d(c)/d(node),

    and the node passes ``local × grad`` back to each of its inputs: the chain rule.

    Frame 0 is the start, nothing computed. Frame k shows the graph just after the
    k-th node's step: that node gold, the nodes finalised before it green, the rest
    "grad not computed". The edge from an input into an operation shows the local
    derivative d(out)/d(in) ("local", for Values; "local: in your _backward" for a
    node built by hand, whose derivative only your closure knows) and, once the
    operation's output has had its step, the gradient the edge carried back ("sent" =
    local × grad; for Tensors a summary of the vector-Jacobian product). There is one
    frame per node drawn that receives a gradient (every Value; a Tensor that does
    not require grad receives none), plus the start frame; the last frame shows the
    grads of a fresh ``backward()``.

    The sweep is the engine's own ``root.backward()``, run with every grad set aside
    and put back afterwards: the user's graph and its grads are left as they were.

    Args:
        root: a ``Value``, or a one-element ``Tensor`` (as for ``backward()``).
        rankdir: layout direction; "LR" (left to right, the default) puts the root
            on the right, so the sweep reads from right to left.
        show_constants: if False, leave out the constants (unlabelled leaves that do
            not require grad, such as the 0.5 of half_sse): no record, no step.
        hidden: more leaves to leave out, e.g. a network's inputs: no record, no step.
        max_nodes: draw at most this many values, the ones nearest the root.
        max_edge_length: as for ``draw_dot``.
        max_frames: the most steps allowed; a longer sweep is refused up front.
        format: the Graphviz output format of each ``digraph``.

    Returns:
        A list of ``Frame`` (``step``, ``node``, ``caption``, ``digraph``).

    Raises:
        GraphTooLargeError: (a ValueError) more than ``max_frames`` steps, or edges
            too long to lay out quickly.

    >>> from tinygrad_bp import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b; c.label = "c"
    >>> frames = backward_frames(c)
    >>> [frame.node.label for frame in frames[1:]]   # the root first, the leaves last
    ['c', 'a', 'b']
    >>> frames[1].caption  # doctest: +ELLIPSIS
    'Step 1 of 3: the gradient of c is final, 1 (the seed); it passes local × grad ...'
    >>> '"a | data 2 | grad not computed"' in frames[1].digraph.source  # fields stacked
    True
    >>> a.grad   # the user's grads are untouched
    0.0
    """
    layout = Layout(toposort(root), show_constants, max_nodes, hidden, max_edge_length)
    sweep = _sweep_aside(layout, max_frames)
    frames = []
    for step in range(len(sweep.visits) + 1):
        look = _StepLook(sweep, step, stacked=rankdir in _ACROSS)
        node = None if look.current is None else layout.order[look.current]
        frames.append(Frame(step, node, look.caption, layout.draw(look, format, rankdir)))
    return frames


def render_backward(
    root: Any,
    path: str | Path,
    rankdir: str = "LR",
    show_constants: bool = True,
    hidden: Iterable[Any] = (),
    max_nodes: int = MAX_NODES,
    max_edge_length: int = MAX_EDGE_LENGTH,
    max_frames: int = MAX_FRAMES,
    max_page_bytes: int = MAX_PAGE_BYTES,
) -> Path:
    """Write the step-through of ``root.backward()`` as one self-contained HTML page.

    The graph is laid out once, as one SVG inline in the page, and the page's script
    replays the sweep of ``backward_frames`` on it: the same colours, grads and edge
    labels, step by step, without the picture moving. Move with the slider, the
    Previous/Next buttons or the arrow keys (Home, End: first, last); open it at a
    given step with the address ending ``#frame=3``. The controls and the caption
    stay at the top of the window; the picture is scaled to fit below them ("Actual
    size" shows it at full size, scrolled to the highlighted node). Nothing is
    fetched from the network.

    Args:
        root: a ``Value``, or a one-element ``Tensor``.
        path: the HTML file to write, e.g. ``"out/backward.html"``.
        rankdir, show_constants, hidden, max_nodes, max_edge_length, max_frames: as
            for ``backward_frames``.
        max_page_bytes: the largest page written; a larger one is refused.

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        ValueError: the suffix of ``path`` is not .html.
        GraphTooLargeError: (a ValueError) a limit is exceeded; nothing is written.
        GraphvizNotFoundError: the ``dot`` program is missing (the DOT text of the
            layout is written next to the page, suffix ``.dot``).

    >>> import tempfile
    >>> from tinygrad_bp import Value
    >>> x = Value(3.0, label="x")
    >>> page = render_backward(x * x + x, tempfile.mkdtemp() + "/backward.html")
    >>> text = page.read_text(encoding="utf-8")
    >>> text.count("<svg"), '"steps":["v2","v1","v0"]' in text
    (1, True)
    """
    path = Path(path)
    if path.suffix.lower() != ".html":
        raise ValueError(f"cannot write the step-through to '{path}': use a .html file")
    layout = Layout(toposort(root), show_constants, max_nodes, hidden, max_edge_length)
    sweep = _sweep_aside(layout, max_frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    digraph = layout.draw(_PageLook(sweep, stacked=rankdir in _ACROSS), "svg", rankdir)
    picture = run_dot(digraph, source_path=path.with_suffix(".dot")).decode("utf-8")
    page = _page(f"Step-through of backward() from {name(root)}", sweep, picture)
    size = len(page.encode("utf-8"))
    if size > max_page_bytes:
        raise GraphTooLargeError(
            f"the step-through page would be {size} bytes, more than "
            f"max_page_bytes={max_page_bytes}; hide the constants and inputs or step "
            "through a smaller graph"
        )
    path.write_text(page, encoding="utf-8")
    return path


def _page(title: str, sweep: _Sweep, picture: str) -> str:
    """The HTML of ``render_backward``: the page's files with the picture and the sweep."""
    order = sweep.layout.order
    data: dict[str, Any] = {
        "steps": [f"v{position}" for position in sweep.visits],
        "captions": [sweep.caption(step) for step in range(len(sweep.visits) + 1)],
        "grads": {f"v{p}": grad_text(sweep.grads[p]) for p in sweep.visits},
        "notComputed": NOT_COMPUTED,
        "edges": {
            f"e{p}_{slot}": f"v{p}"
            for p in sorted(sweep.layout.shown)
            for slot, child in enumerate(order[p].children)
            if sweep.layout.index[child] in sweep.layout.shown
        },
        "colours": COLOURS,
    }
    fields = {
        "title": html.escape(title),
        "last": len(sweep.visits),
        "caption": html.escape(data["captions"][0]),
        "picture": picture[picture.index("<svg") :],  # without the XML prolog and doctype
    }
    return self_contained_page(__package__, "stepthrough.html", "sweep", data, fields)
