"""Computation graphs drawn with Graphviz: the DOT text, rendering, Jupyter display.

The picture is built from the shared walk ``graph.toposort``, so it works for any
node of either engine (``Value`` or ``Tensor``): it reads only ``data``, ``grad``,
``children``, ``op`` and ``label`` (and ``shape`` for tensors). Each value becomes a
record ``{ label | data | grad }`` and each operation a small ellipse, with edges in
the direction the data flows, as in micrograd::

    a ──┐
        (*) ──> a*b ──┐
    b ──┘             (+) ──> e
    c ────────────────┘

Node names come from the topological index (``v3`` is the value at position 3,
``op3`` the operation that produced it), so the DOT text is the same on every run and
tests can assert it. DOT is just text: only ``render`` and ``svg`` need the Graphviz
``dot`` program, at the very last step.

Sizes are checked before any work, so that ``dot`` finishes in about a second at
most: at most ``MAX_NODES`` value records are drawn (a larger graph keeps the ones
nearest the root), and a graph whose edges cross more than ``MAX_EDGE_LENGTH``
layers in all is refused (``GraphTooLargeError``): long edges, not many nodes, are
what makes Graphviz slow. Measured with ``dot`` 2.43 on a 2-core machine
(``python benchmarks/viz_limits.py``), the worst graphs just inside the limits take
0.2 to 0.3 s when the machine is quiet and up to 1 s while other jobs run: one leaf
read by a chain of 63 ``+`` (``a+a+...+a``, 3,968 layers), or through 61 ``tanh``
into a sum (3,842 layers); a 5,000-node chain cut to 500 nodes takes 0.07 s. Before
these limits and the bounded layout effort below, ``a+a+...+a`` with 100 terms ran
past 100 s.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz  # type: ignore[import-untyped]

from ..graph import toposort
from .format import numbers

SUPPORTED_SUFFIXES = (".svg", ".png", ".pdf")
INSTALL_GRAPHVIZ = (
    "Install Graphviz (it provides the `dot` program): `apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`."
)
MAX_NODES = 500  # value records drawn by default; the rest collapse into one placeholder
MAX_EDGE_LENGTH = 4000  # layers crossed by all the edges drawn, in all (see draw_dot)

# Graphviz's network simplex, which places the nodes, runs to convergence by default:
# minutes on a graph with long edges. One pass per node gives the same pictures on
# ordinary graphs and bounds the time on tangled ones.
_LAYOUT_ATTRS = {"nslimit": "1", "nslimit1": "1"}
# Characters with a meaning inside a Graphviz record label, each escaped by a backslash.
_RECORD_ESCAPES = str.maketrans({char: "\\" + char for char in "\\{}|<>"})
# Control characters (a NUL ends Graphviz's input) drawn as their Unicode pictures: ␀.
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(32)}
_PLACEHOLDER = -1  # the "… N more nodes" box, in the edge-length count
BY_HAND = "your _backward"  # what a node built by hand computes its gradient with


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is not installed, so a picture cannot be rendered."""


class GraphTooLargeError(ValueError):
    """A graph too large or too tangled to draw quickly; the message names the limit."""


# -- the computation graph in DOT --------------------------------------------------------


def draw_dot(
    root: Any,
    format: str = "svg",
    rankdir: str = "LR",
    show_constants: bool = True,
    max_nodes: int = MAX_NODES,
    hidden: Iterable[Any] = (),
    max_edge_length: int = MAX_EDGE_LENGTH,
) -> graphviz.Digraph:
    """Build the Graphviz picture of the computation graph that produced ``root``.

    One record node per value, ``{ label | data | grad }`` (the label field is left
    out when the label is empty); a tensor's record shows its shape and dtype, and its
    data and grad as the values themselves for up to 4 elements, otherwise as mean,
    min and max ("grad None" until a gradient is computed). Numbers have 4
    significant digits. One small ellipse per operation, with edges operand ->
    operation -> result. A ``Value`` built by hand with your own ``_backward``
    closure is drawn like any other; its operation says ``(your _backward)``,
    because its local derivatives are known only to your closure.

    Args:
        root: a ``Value`` or ``Tensor`` (any node with ``children``, ``op``, ``label``,
            ``data`` and ``grad``).
        format: the output format Graphviz uses when the returned graph is rendered.
        rankdir: layout direction, "LR" (left to right, the default) or "TB", "RL",
            "BT".
        show_constants: if False, leave out constants: leaves without a label that do
            not require grad (a ``Value`` made from a plain number, such as the 2 in
            ``x * 2``, or a ``Tensor`` with ``requires_grad=False``). Their value is
            written next to the operation instead (``* 2``).
        max_nodes: the largest number of value records to draw. A bigger graph keeps
            the ``max_nodes`` values nearest to the root (fewest operations away) and
            draws one dashed "… N more nodes" placeholder feeding every operation
            whose operands were left out.
        hidden: more leaves to leave out, such as a network's inputs; each is written
            next to the operation that reads it, as ``label=value``.
        max_edge_length: the most layers all the edges drawn may cross in all (an
            edge from a value to an operation k layers further on counts k). Long
            edges, such as one leaf read by every step of a long chain
            (``a+a+...+a``), make Graphviz's layout take minutes; such a graph is
            refused.

    Returns:
        A ``graphviz.Digraph``; ``.source`` is the DOT text, and in Jupyter it
        displays itself as the picture.

    Raises:
        GraphTooLargeError: (a ValueError) the edges are longer than ``max_edge_length``.
        ValueError: ``max_nodes`` below 1, or ``hidden`` holds a node that is not a
            leaf of the graph.

    >>> from tinygrad_bp import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b; c.label = "c"
    >>> c.backward()
    >>> print(draw_dot(c).source)  # doctest: +NORMALIZE_WHITESPACE
    digraph {
        graph [nslimit=1 nslimit1=1 rankdir=LR]
        v0 [label="{ a | data 2 | grad -3 }" shape=record]
        v1 [label="{ b | data -3 | grad 2 }" shape=record]
        v2 [label="{ c | data -6 | grad 1 }" shape=record]
        op2 [label="*" shape=ellipse]
        op2 -> v2
        v0 -> op2
        v1 -> op2
    }
    """
    order = toposort(root)
    layout = Layout(order, show_constants, max_nodes, hidden, max_edge_length)
    return layout.draw(_Look(), format, rankdir)


class _Look:
    """How ``Layout.draw`` dresses the values and edges: this plain look is ``draw_dot``'s.

    The step-through of backward overrides it to show one moment of the reverse
    sweep; both share the layout, the node names and the records.
    """

    caption = ""  # a title drawn above the graph ("" for none)

    def record(self, position: int, node: Any) -> str:
        """The record label of the value at topological ``position``."""
        return record(node)

    def node_attrs(self, position: int) -> dict[str, str]:
        """Extra Graphviz attributes of the value's record (colours)."""
        return {}

    def edge_attrs(self, position: int, slot: int) -> dict[str, str]:
        """Extra attributes of the edge from operand ``slot`` into the op of ``position``."""
        return {}


class Layout:
    """Which nodes of a graph are drawn, checked against the size limits up front.

    ``order`` is the graph's topological order (``graph.toposort``, root last);
    ``shown`` holds the positions of the value records drawn, ``hidden`` those of
    the leaves written next to their operation instead, and ``cut`` is how many
    values the ``max_nodes`` limit left out. The other arguments are ``draw_dot``'s.
    """

    def __init__(
        self,
        order: list[Any],
        show_constants: bool = True,
        max_nodes: int = MAX_NODES,
        hidden: Iterable[Any] = (),
        max_edge_length: int = MAX_EDGE_LENGTH,
    ) -> None:
        if max_nodes < 1:
            raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
        self.order = order
        self.show_constants = show_constants
        self.index = {node: position for position, node in enumerate(order)}
        kept = _nearest_to_root(order, max_nodes)
        self.cut = len(order) - len(kept)
        left_out = set(self._positions(hidden))
        self.hides_given = bool(left_out)
        if not show_constants:
            left_out.update(position for position in kept if _is_constant(order[position]))
        self.hidden = left_out & kept
        self.shown = kept - self.hidden
        self._check_edge_length(max_edge_length)

    def _positions(self, nodes: Iterable[Any]) -> list[int]:
        """The positions of ``hidden`` nodes; ValueError for one that is not a leaf here."""
        positions = []
        for node in nodes:
            position = self.index.get(node)
            if position is None or node.children:
                where = "not in the graph" if position is None else "not a leaf"
                raise ValueError(f"cannot hide {name(node)}: it is {where} (only leaves hide)")
            positions.append(position)
        return positions

    def _check_edge_length(self, limit: int) -> None:
        """GraphTooLargeError when the edges drawn cross more than ``limit`` layers in all.

        Layers as Graphviz assigns them: a leaf's record just before its first
        reader, an operation one layer after its latest operand, its result one after.
        """
        rank: dict[int, int] = {}  # position (_PLACEHOLDER: "… more") -> its layer
        reads: list[tuple[int, int]] = []  # (operand position, layer of the operation)
        for position in sorted(self.shown):  # topological: operands first
            operands = self._drawn_operands(position)
            op_layer = 1 + max((rank[child] for child in operands), default=-1)
            rank[position] = op_layer + 1 if self.order[position].children else 0
            reads.extend((child, op_layer) for child in operands)
            children = {self.index[child] for child in self.order[position].children}
            if children - self.shown - self.hidden:  # an operand cut by max_nodes
                reads.append((_PLACEHOLDER, op_layer))
        for child, op_layer in sorted(reads, key=lambda read: -read[1]):  # first reader last
            if child == _PLACEHOLDER or not self.order[child].children:
                rank[child] = op_layer - 1
        crossed: dict[int, int] = {}  # operand position -> layers its edges cross
        for child, op_layer in reads:
            crossed[child] = crossed.get(child, 0) + op_layer - rank[child]
        results = sum(1 for position in self.shown if self.order[position].children)
        total = sum(crossed.values()) + results  # each op -> result edge crosses one
        if total > limit:
            worst = max(crossed, key=crossed.__getitem__)
            source = "the … more nodes" if worst == _PLACEHOLDER else name(self.order[worst])
            raise GraphTooLargeError(
                f"the graph is too tangled to draw quickly: its edges cross {total} layers "
                f"in all, more than max_edge_length={limit} (the edges from {source} alone "
                f"cross {crossed[worst]}); draw a smaller graph"
            )

    def _drawn_operands(self, position: int) -> list[int]:
        """The positions of the drawn records that feed the operation of ``position``."""
        operands = (self.index[child] for child in self.order[position].children)
        return [child for child in operands if child in self.shown]

    def draw(self, look: _Look, format: str = "svg", rankdir: str = "LR") -> graphviz.Digraph:
        """The DOT picture of the shown nodes, dressed by ``look``."""
        order, index = self.order, self.index
        dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir, **_LAYOUT_ATTRS})
        if look.caption:
            dot.attr(label=graphviz.escape(visible(look.caption)), labelloc="t", fontsize="16")
        fed_by_placeholder = []  # operations with an operand beyond max_nodes
        for position in sorted(self.shown):
            node = order[position]
            attrs = {"shape": "record", **look.node_attrs(position)}
            dot.node(f"v{position}", look.record(position, node), **attrs)
            if not node.children:
                continue
            dot.node(f"op{position}", graphviz.escape(self._op_label(node)), shape="ellipse")
            dot.edge(f"op{position}", f"v{position}")
            for slot, child in enumerate(node.children):
                if index[child] in self.shown:
                    edge = look.edge_attrs(position, slot)
                    dot.edge(f"v{index[child]}", f"op{position}", **edge)
                elif index[child] not in self.hidden:
                    fed_by_placeholder.append(position)
        if self.cut:
            dot.node("more", f"… {self.cut} more nodes", shape="box", style="dashed")
            for position in dict.fromkeys(fed_by_placeholder):  # once per operation, in order
                dot.edge("more", f"op{position}")
        return dot

    def _op_label(self, node: Any) -> str:
        """The operation's name, then each hidden operand (``* 2``, ``w·x+b x1=1``)."""
        words = [f"{node.op} ({BY_HAND})" if is_by_hand(node) else node.op]
        for child in node.children:
            if self.index[child] in self.hidden:
                value = numbers(child.data)
                words.append(f"{child.label}={value}" if child.label else value)
        return visible(" ".join(words))


def visible(text: str) -> str:
    """``text`` with each control character replaced by its picture, ready for DOT.

    >>> visible("a\\0b\\nc")
    'a␀b␊c'
    """
    return text.translate(_CONTROL_PICTURES)


def _nearest_to_root(order: list[Any], max_nodes: int) -> set[int]:
    """The positions of the ``max_nodes`` nodes fewest operations away from the root.

    ``order`` is topological (root last), so walking it backwards visits every
    consumer of a node before the node itself: the shortest distance of a node is
    final by the time the walk reaches it. Ties go to the later topological index.
    """
    if len(order) <= max_nodes:
        return set(range(len(order)))
    distance = {order[-1]: 0}
    for node in reversed(order):
        for child in node.children:
            through_node = distance[node] + 1
            distance[child] = min(distance.get(child, through_node), through_node)
    ranked = sorted(range(len(order)), key=lambda position: (distance[order[position]], -position))
    return set(ranked[:max_nodes])


def _is_constant(node: Any) -> bool:
    """A leaf without a label whose grad nobody asked for (a plain number in an op)."""
    return not node.children and not node.label and not getattr(node, "requires_grad", False)


def is_by_hand(node: Any) -> bool:
    """A Value built by hand: only the user's ``_backward`` closure knows its derivatives."""
    return bool(node.children) and getattr(node, "local_grads", ()) is None


def name(node: Any) -> str:
    """How a message names a node: its label, else its operation, else its value."""
    if node.label:
        return node.label
    if node.op:
        return f"the {node.op} result"
    return f"the constant {numbers(node.data)}"


def record(node: Any, grad_field: str | None = None, stacked: bool = False) -> str:
    """The record label ``{ label | data ... | grad ... }`` of one value or tensor.

    ``grad_field`` replaces the grad field made from ``node.grad`` (the step-through
    shows the gradients of its own sweep, or "grad not computed"). ``stacked`` flips
    the fields: one above the other in a left-to-right layout (the step-through's,
    narrower), side by side in a top-to-bottom one.
    """
    fields = [node.label] if node.label else []
    if hasattr(node, "shape"):
        fields.append(f"shape {tuple(node.shape)} {node.dtype}")
    fields.append(f"data {numbers(node.data)}")
    fields.append(grad_field or grad_text(node.grad))
    text = " | ".join(visible(field).translate(_RECORD_ESCAPES) for field in fields)
    return text if stacked else "{ " + text + " }"


def grad_text(grad: Any) -> str:
    """``grad 0.1234`` (or an array summary), ``grad None`` before any gradient."""
    return "grad None" if grad is None else f"grad {numbers(grad)}"


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
            ``max_nodes``, ``hidden``, ``max_edge_length``).

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        ValueError: the suffix is not one of .svg, .png, .pdf.
        GraphTooLargeError: (a ValueError) the graph is too tangled to draw quickly.
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
    path.write_bytes(run_dot(dot, source_path=path.with_suffix(".dot")))
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
    return run_dot(draw_dot(root, format="svg", **draw_kwargs)).decode("utf-8")


def repr_svg(root: Any) -> str | None:
    """What a Value's or Tensor's ``_repr_svg_`` returns: the SVG, or None without ``dot``.

    None tells Jupyter to fall back to the plain ``repr``, so a notebook on a
    machine without Graphviz, or showing a graph too tangled to draw, shows the
    value instead of a traceback.
    """
    try:
        return svg(root)
    except (GraphvizNotFoundError, GraphTooLargeError):
        return None


def run_dot(dot: graphviz.Digraph, source_path: Path | None = None) -> bytes:
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
