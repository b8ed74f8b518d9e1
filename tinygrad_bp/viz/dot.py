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

The step-through of backward (``backward_frames``, ``render_backward``) draws the same
graph once per step of the reverse sweep, as a slideshow in one HTML page.

The plots (``plot_losses``, ``plot_decision_boundary``, ``plot_fitted_curve``,
``plot_network``) need matplotlib, an optional extra: ``pip install tinygrad_bp[plot]``.
They draw on a ``matplotlib.figure.Figure`` without pyplot, so they never open a window
and work on a machine without a display.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import graphviz
import numpy as np

from .graph import backward_order, observing, toposort

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
    return _draw_graph(toposort(root), _Look(), format, rankdir, show_constants, max_nodes)


class _Look:
    """How ``_draw_graph`` dresses the values and edges: this plain look is ``draw_dot``'s.

    The step-through of backward (``_StepLook``) overrides it to show one moment of
    the reverse sweep; both share the layout, the node names and the records.
    """

    caption = ""  # a title drawn above the graph ("" for none)

    def record(self, position: int, node: Any) -> str:
        """The record label of the value at topological ``position``."""
        return _record(node)

    def node_attrs(self, position: int) -> dict[str, str]:
        """Extra Graphviz attributes of the value's record (colours)."""
        return {}

    def edge_attrs(self, position: int, slot: int) -> dict[str, str]:
        """Extra attributes of the edge from operand ``slot`` into the op of ``position``."""
        return {}


def _draw_graph(
    order: list[Any],
    look: _Look,
    format: str = "svg",
    rankdir: str = "LR",
    show_constants: bool = True,
    max_nodes: int = 500,
) -> graphviz.Digraph:
    """``draw_dot`` of the graph whose topological order is ``order``, dressed by ``look``."""
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    index = {id(node): position for position, node in enumerate(order)}
    kept = _nearest_to_root(order, max_nodes)
    hidden = set()  # the ids of the constants that show_constants=False leaves out
    if not show_constants:
        hidden = {id(node) for node in order if id(node) in kept and _is_constant(node)}

    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    if look.caption:
        dot.attr(label=graphviz.escape(look.caption), labelloc="t", fontsize="16")
    fed_by_placeholder = []  # operations with an operand beyond max_nodes
    for position, node in enumerate(order):
        if id(node) not in kept or id(node) in hidden:
            continue
        dot.node(
            f"v{position}", look.record(position, node), shape="record", **look.node_attrs(position)
        )
        if not node.children:
            continue
        constants = [_format_numbers(child.data) for child in node.children if id(child) in hidden]
        dot.node(f"op{position}", graphviz.escape(" ".join([node.op, *constants])), shape="ellipse")
        dot.edge(f"op{position}", f"v{position}")
        for slot, child in enumerate(node.children):
            if id(child) not in kept:
                fed_by_placeholder.append(position)
            elif id(child) not in hidden:
                dot.edge(f"v{index[id(child)]}", f"op{position}", **look.edge_attrs(position, slot))

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


def _record(node: Any, grad_field: str | None = None) -> str:
    """The record label ``{ label | data ... | grad ... }`` of one value or tensor.

    ``grad_field`` replaces the grad field made from ``node.grad`` (the step-through
    shows the gradients of its own sweep, or "grad not computed").
    """
    fields = [node.label] if node.label else []
    if hasattr(node, "shape"):
        fields.append(f"shape {tuple(node.shape)} {node.dtype}")
    fields.append(f"data {_format_numbers(node.data)}")
    fields.append(grad_field or _grad_field(node.grad))
    return "{ " + " | ".join(field.translate(_RECORD_ESCAPES) for field in fields) + " }"


def _grad_field(grad: Any) -> str:
    """``grad 0.1234`` (or an array summary), ``grad None`` before any gradient."""
    return "grad None" if grad is None else f"grad {_format_numbers(grad)}"


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


# -- stepping through backward -----------------------------------------------------------


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
    """What one reverse sweep from ``order[-1]`` did, by topological position.

    ``grads[p]`` is d(root)/d(order[p]) (None for a tensor that receives no gradient),
    ``sent[p]`` the gradients ``order[p]`` sent to its children, one per operand, and
    ``visits`` the positions in the order the sweep finalised them.
    """

    order: list[Any]
    grads: list[Any]
    sent: dict[int, tuple[Any, ...]]
    visits: list[int]


def _sweep_aside(root: Any) -> _Sweep:
    """Run ``root.backward()`` from empty grads, record it, and put every grad back.

    The engine's own sweep runs, so the order, the seed and the chain rule are the
    ones ``backward()`` uses: ``graph.backward_order(root)``, as in
    ``graph.backpropagate``. What each node sends to its children is read through
    a backward observer (``graph.observing``), after any already installed (so
    ``detect_anomaly`` keeps watching). A node's gradient is final as soon as the
    sweep leaves it, so the grads at the end are the grads of every step.
    """
    order = toposort(root)
    index = {node: position for position, node in enumerate(order)}
    saved = [node.grad for node in order]
    sent: dict[int, tuple[Any, ...]] = {}

    def record(node: Any, gradients: tuple[Any, ...]) -> None:
        sent[index[node]] = gradients

    for node in order:
        node.grad = node._EMPTY  # the engine's empty gradient: 0.0 (Value) or None (Tensor)
    try:
        with observing(backward=record):
            root.backward()
        grads = [node.grad for node in order]
    finally:
        for node, grad in zip(order, saved, strict=True):
            node.grad = grad
    visits = [index[node] for node in backward_order(root) if grads[index[node]] is not None]
    return _Sweep(order, grads, sent, visits)


def _name(node: Any) -> str:
    """How a caption names a node: its label, else its operation, else its value."""
    if node.label:
        return node.label
    if node.op:
        return f"the {node.op} result"
    return f"the constant {_format_numbers(node.data)}"


class _StepLook(_Look):
    """The graph just after ``step`` steps of the reverse sweep.

    Nodes already finalised are green, the one finalised by this step gold, the rest
    show "grad not computed". The edge from operand i into an operation is labelled
    "local" d(out)/d(in_i) (a Value's ``local_grads[i]``) and, once the operation's
    output has had its step, "sent" = the gradient the edge carried back: for a Value
    local × out.grad, for a Tensor the vector-Jacobian product (summarised). The
    edges of the gold node, which it has just sent along, are red.
    """

    def __init__(self, sweep: _Sweep, step: int) -> None:
        self.sweep = sweep
        self.done = set(sweep.visits[:step])
        self.current = sweep.visits[step - 1] if step else None
        self.caption = self._describe(step)

    def _describe(self, step: int) -> str:
        total = len(self.sweep.visits)
        if self.current is None:
            root = _name(self.sweep.order[-1])
            return (
                f"Start: backward() from {root} will finalise {total} gradients, "
                "each node after all its consumers. Nothing is computed yet."
            )
        node = self.sweep.order[self.current]
        grad = _format_numbers(self.sweep.grads[self.current])
        caption = f"Step {step} of {total}: the gradient of {_name(node)} is final, {grad}"
        if step == 1:
            caption += " (the seed)"
        if node.children:
            caption += "; it passes local × grad back to its inputs (red edges)"
        return caption + "."

    def record(self, position: int, node: Any) -> str:
        grad = self.sweep.grads[position]
        if grad is not None and position not in self.done:
            return _record(node, "grad not computed")
        return _record(node, _grad_field(grad))

    def node_attrs(self, position: int) -> dict[str, str]:
        if position == self.current:
            return {"style": "filled", "fillcolor": "gold", "penwidth": "2"}
        if position in self.done:
            return {"style": "filled", "fillcolor": "palegreen"}
        return {}

    def edge_attrs(self, position: int, slot: int) -> dict[str, str]:
        node = self.sweep.order[position]
        lines = []
        if hasattr(node, "local_grads"):
            local = node.local_grads
            lines.append(
                "local: in your _backward"
                if local is None
                else f"local {_format_numbers(local[slot])}"
            )
        if position in self.done and self.sweep.sent[position][slot] is not None:
            lines.append(f"sent {_format_numbers(self.sweep.sent[position][slot])}")
        attrs = {"label": "\\n".join(lines)} if lines else {}
        if position == self.current:
            attrs.update(color="red", fontcolor="red", penwidth="2")
        elif position not in self.done:
            attrs.update(color="grey60", fontcolor="grey40")
        return attrs


def backward_frames(root: Any, rankdir: str = "BT", **draw_kwargs: Any) -> list[Frame]:
    """One picture of the graph of ``root`` per step of ``root.backward()``.

    backward() visits the nodes root first, each after all its consumers
    (``graph.backward_order(root)``). When it reaches a node every consumer c of the node
    has already been visited, so the node's gradient is complete,

        d(root)/d(node) = sum over consumers c of d(root)/d(c) · d(c)/d(node),

    and the node passes ``local × grad`` back to each of its inputs: the chain rule.

    Frame 0 is the start, nothing computed. Frame k shows the graph just after the
    k-th node's step: that node gold, the nodes finalised before it green, the rest
    "grad not computed". The edge from an input into an operation shows the local
    derivative d(out)/d(in) ("local", for Values) and, once the operation's output
    has had its step, the gradient the edge carried back ("sent" = local × grad;
    for Tensors a summary of the vector-Jacobian product). There is one frame per
    node that receives a gradient (every Value; a Tensor that does not require grad
    receives none), plus the start frame; the last frame shows the grads of a fresh
    ``backward()``.

    The sweep is the engine's own ``root.backward()``, run with every grad set aside
    and put back afterwards: the user's graph and its grads are left as they were.

    Args:
        root: a ``Value``, or a one-element ``Tensor`` (as for ``backward()``).
        rankdir: layout direction; "BT" (bottom to top) puts the root on top, so the
            sweep reads downwards like a page.
        **draw_kwargs: as for ``draw_dot`` (``show_constants``, ``max_nodes``,
            ``format``).

    Returns:
        A list of ``Frame`` (``step``, ``node``, ``caption``, ``digraph``).

    >>> from tinygrad_bp import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b; c.label = "c"
    >>> frames = backward_frames(c)
    >>> [frame.node.label for frame in frames[1:]]   # the root first, the leaves last
    ['c', 'a', 'b']
    >>> frames[1].caption  # doctest: +ELLIPSIS
    'Step 1 of 3: the gradient of c is final, 1.0000 (the seed); it passes local × grad ...'
    >>> '"{ a | data 2.0000 | grad not computed }"' in frames[1].digraph.source
    True
    >>> a.grad   # the user's grads are untouched
    0.0
    """
    sweep = _sweep_aside(root)
    frames = []
    for step in range(len(sweep.visits) + 1):
        look = _StepLook(sweep, step)
        node = None if look.current is None else sweep.order[look.current]
        digraph = _draw_graph(sweep.order, look, rankdir=rankdir, **draw_kwargs)
        frames.append(Frame(step, node, look.caption, digraph))
    return frames


def render_backward(root: Any, path: str | Path, rankdir: str = "BT", **draw_kwargs: Any) -> Path:
    """Write the step-through of ``root.backward()`` as one HTML page and numbered SVGs.

    The page is self-contained (every frame's SVG inline, a short script, nothing
    fetched from the network): move through the frames with the slider, the
    Previous/Next buttons or the arrow keys (Home, End: first, last); open it at a
    given frame with the address ending ``#frame=3``. The caption of the frame shown
    stays at the top of the window, and the page scrolls to the highlighted node.

    The frames of ``backward_frames`` are also written one per file to the directory
    ``<stem>_frames/`` next to the page: ``out/backward.html`` gets
    ``out/backward_frames/frame_000.svg``, ... (older frame files there are removed
    first).

    Args:
        root: a ``Value``, or a one-element ``Tensor``.
        path: the HTML file to write, e.g. ``"out/backward.html"``.
        rankdir: layout direction, the root on top by default (see ``backward_frames``).
        **draw_kwargs: as for ``draw_dot`` (``show_constants``, ``max_nodes``).

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        ValueError: the suffix of ``path`` is not .html.
        GraphvizNotFoundError: the ``dot`` program is missing (the first frame's DOT
            text is written to the frames directory).

    >>> import tempfile
    >>> from tinygrad_bp import Value
    >>> x = Value(3.0, label="x")
    >>> page = render_backward(x * x + x, tempfile.mkdtemp() + "/backward.html")
    >>> sorted(file.name for file in (page.parent / "backward_frames").iterdir())
    ['frame_000.svg', 'frame_001.svg', 'frame_002.svg', 'frame_003.svg']
    >>> page.read_text(encoding="utf-8").count("<svg")
    4
    """
    path = Path(path)
    if path.suffix.lower() != ".html":
        raise ValueError(f"cannot write the step-through to '{path}': use a .html file")
    frames = backward_frames(root, rankdir, format="svg", **draw_kwargs)
    frames_dir = path.with_name(f"{path.stem}_frames")
    frames_dir.mkdir(parents=True, exist_ok=True)
    for stale in frames_dir.glob("frame_*.svg"):
        stale.unlink()
    digits = max(3, len(str(len(frames) - 1)))
    pictures = []
    for frame in frames:
        svg_path = frames_dir / f"frame_{frame.step:0{digits}d}.svg"
        picture = _run_dot(frame.digraph, source_path=svg_path.with_suffix(".dot"))
        svg_path.write_bytes(picture)
        pictures.append(picture.decode("utf-8"))
    title = f"Step-through of backward() from {_name(root)}"
    path.write_text(_stepper_page(title, frames, pictures), encoding="utf-8")
    return path


def _stepper_page(title: str, frames: list[Frame], pictures: list[str]) -> str:
    """The HTML of ``render_backward``: each SVG inline in a <figure>, frame 0 shown."""
    figures = []
    for frame, picture in zip(frames, pictures, strict=True):
        hidden = " hidden" if frame.step else ""
        inline = picture[picture.index("<svg") :]  # without the XML prolog and doctype
        caption = html.escape(frame.caption)
        figures.append(
            f'<figure class="frame" id="frame-{frame.step}" data-caption="{caption}"{hidden}>'
            f"\n{inline}</figure>"
        )
    return _STEPPER_PAGE.substitute(
        title=html.escape(title),
        last=len(frames) - 1,
        caption=html.escape(frames[0].caption),
        figures="\n".join(figures),
    )


_STEPPER_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0 2em 1em; }
  header { position: sticky; top: 0; background: white; padding: 0.5em 0;
           border-bottom: 1px solid #ccc; }
  h1 { font-size: 1.4em; margin: 0.2em 0; }
  #caption { font-size: 1.1em; margin: 0.3em 0 0; min-height: 2.6em; }
  nav { display: flex; gap: 0.8em; align-items: center; }
  nav input { flex: 1; max-width: 40em; }
  .legend { color: #444; max-width: 60em; }
  .swatch { display: inline-block; width: 1em; height: 1em; border: 1px solid #555; }
  figure { margin: 0; }
  figure svg { max-width: 100%; height: auto; }
  figure g.graph > text { display: none; }  /* the caption drawn in the SVG: shown above */
  figure polygon { scroll-margin: 12em 1em 2em; }  /* scrolled to: clear of the header */
</style>
</head>
<body data-frame="0">
<script>
  window.addEventListener("error", function (event) {
    document.body.setAttribute("data-error", String(event.message));
  });
</script>
<header>
<h1>$title</h1>
<nav>
  <button id="previous" type="button">&larr; Previous</button>
  <input id="slider" type="range" min="0" max="$last" value="0" aria-label="frame">
  <button id="next" type="button">Next &rarr;</button>
  <span id="position">frame 0 of $last</span>
</nav>
<p id="caption">$caption</p>
</header>
<p class="legend">
  <span class="swatch" style="background: gold"></span> the node whose gradient has just
  been finalised &nbsp;
  <span class="swatch" style="background: palegreen"></span> gradient final &nbsp;
  <span class="swatch"></span> not reached yet (grad not computed).
  On the edge from an input into an operation: <b>local</b> = d(out)/d(in), known since
  the forward pass; <b>sent</b> = local &times; grad of out, the share of the gradient
  the edge carried back (the chain rule). Red edges: what the gold node has just sent.
  Keys: &larr; &rarr; (Home, End).
</p>
$figures
<script>
  (function () {  // a function scope: the page defines no global names
    "use strict";
    const frames = Array.from(document.querySelectorAll("figure.frame"));
    const slider = document.getElementById("slider");
    const position = document.getElementById("position");
    const caption = document.getElementById("caption");

    function shown() {
      return Number(document.body.dataset.frame);
    }

    function show(step) {
      const current = Math.max(0, Math.min(frames.length - 1, step));
      frames.forEach(function (frame, index) {
        frame.hidden = index !== current;
      });
      slider.value = String(current);
      position.textContent = "frame " + current + " of " + (frames.length - 1);
      caption.textContent = frames[current].dataset.caption;
      document.body.dataset.frame = String(current);
      const highlighted = frames[current].querySelector('polygon[fill="gold"]');
      if (highlighted) {
        highlighted.scrollIntoView({block: "nearest", inline: "nearest"});
      }
      if (location.hash !== "#frame=" + current) {
        location.replace("#frame=" + current);
      }
    }

    function showFromAddress() {
      const match = /^#frame=(\\d+)$$/.exec(location.hash);
      show(match ? Number(match[1]) : 0);
    }

    document.getElementById("previous").addEventListener("click", function () {
      show(shown() - 1);
    });
    document.getElementById("next").addEventListener("click", function () {
      show(shown() + 1);
    });
    slider.addEventListener("input", function () {
      show(Number(slider.value));
    });
    document.addEventListener("keydown", function (event) {
      if (event.target === slider) {
        return;  // the slider moves itself with the arrow keys
      }
      const last = frames.length - 1;
      const moves = {ArrowLeft: shown() - 1, ArrowRight: shown() + 1, Home: 0, End: last};
      if (event.key in moves) {
        event.preventDefault();
        show(moves[event.key]);
      }
    });
    window.addEventListener("hashchange", showFromAddress);
    showFromAddress();
  })();
</script>
</body>
</html>
""")


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
