"""Readable, unique Python names for the nodes of a recorded graph."""

from __future__ import annotations

import keyword
import re
from typing import Any

# The stem of a node's name by the operation that made it, as the derivation names
# them: z a net input, o a sigmoid unit's output, h another unit's output.
_STEMS = {
    "w·x+b": "z",
    "x@W+b": "z",
    "sigmoid": "o",
    "relu": "h",
    "tanh": "h",
    "exp": "e",
    "log": "ln",
    "log_softmax": "logp",
}


def reserved(n_args: int, n_leaves: int, helpers: set[str]) -> set[str]:
    """The names the generated step uses for itself: its arguments (``a0``...), their
    leaves (``i0``...), the static parts (``s0``...), its helpers and builtins."""
    own = {"step", "make", "mismatch", "KEY", "STATIC", "sum", "abs", "float", "type", "max", "min"}
    own |= {
        "np",
        "real",
        "array_arg",
        "unchanged",
        "branched",
        "bool",
        "int",
        "round",
        "slice",
        "leaf",
    }
    numbered = {f"{stem}{k}" for stem in "ais" for k in range(max(n_args, n_leaves))}
    return own | numbered | helpers


class Names:
    """Hands out names: a node's label when it is a usable identifier, else a stem and a number."""

    def __init__(self, reserved: set[str]) -> None:
        self.taken = set(reserved)
        self.counts: dict[str, int] = {}
        self.of: dict[int, str] = {}

    def fresh(self, stem: str, exact: bool = False) -> str:
        """``stem`` itself when free and ``exact`` (or it ends in a digit), else stem + number."""
        if stem not in self.taken and (exact or stem[-1].isdigit() or stem == "loss"):
            self.taken.add(stem)
            return stem
        count = self.counts.get(stem, 0)
        while True:
            count += 1
            separator = "_" if stem[-1].isdigit() else ""
            name = f"{stem}{separator}{count}"
            if name not in self.taken:
                self.counts[stem] = count
                self.taken.add(name)
                return name

    def name(self, node: Any, default: str) -> str:
        """The name of ``node`` (given once, then remembered)."""
        if id(node) not in self.of:
            label = _identifier(getattr(node, "label", ""))
            usable = bool(label) and not keyword.iskeyword(label)
            stem = label if usable else _STEMS.get(node.op, default)
            if usable and label not in self.taken:
                self.taken.add(label)
                self.of[id(node)] = label
            else:
                self.of[id(node)] = self.fresh(stem)
        return self.of[id(node)]


def _identifier(label: str) -> str:
    """A label as a Python name (``w[1][0,2]`` becomes ``w_1_0_2``), or "" if it makes none.

    >>> _identifier("w[1][0,2]"), _identifier("o[2][1]"), _identifier("J"), _identifier("2x")
    ('w_1_0_2', 'o_2_1', 'J', '')
    """
    if not label:  # most nodes: said first, it is a third of naming a large graph
        return ""
    name = re.sub(r"\W+", "_", label.strip()).strip("_")
    return name if name.isidentifier() and name.isascii() else ""
