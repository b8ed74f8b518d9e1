"""Readable, unique Python names for the nodes of a recorded graph."""

from __future__ import annotations

import keyword
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
            label = getattr(node, "label", "")
            usable = label.isidentifier() and not keyword.iskeyword(label) and label.isascii()
            stem = label if usable else _STEMS.get(node.op, default)
            if usable and label not in self.taken:
                self.taken.add(label)
                self.of[id(node)] = label
            else:
                self.of[id(node)] = self.fresh(stem)
        return self.of[id(node)]
