"""What ``fit`` returns: the loss of every epoch, and how training ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..losses import half_sse


def loss_name(loss: Callable[..., Any]) -> str:
    """What the display calls a loss: J for the derivation's half SSE, else its name.

    >>> from tinygrad_bp.losses import half_sse, mse
    >>> loss_name(half_sse), loss_name(mse), loss_name(lambda o, y: o)
    ('J', 'mse', 'loss')
    """
    if loss is half_sse:
        return "J"
    name = getattr(loss, "__name__", "")
    return name if name.isidentifier() else "loss"


@dataclass(repr=False)
class History:
    """What ``fit`` did: the loss of every epoch, and whether it reached epsilon.

    ``loss_name`` is what the progress display and the log call the loss (J for the
    derivation's half SSE); the repr is one short line, however long the training.

    >>> History([0.69314, 0.3, 0.0099], converged=True, loss_name="J")
    History(epochs=3, converged=True, J: 0.6931 -> 0.0099)
    """

    losses: list[float] = field(default_factory=list)
    converged: bool = False
    loss_name: str = "loss"

    @property
    def epochs(self) -> int:
        return len(self.losses)

    def __repr__(self) -> str:
        text = f"History(epochs={self.epochs}, converged={self.converged}"
        if self.losses:
            text += f", {self.loss_name}: {self.losses[0]:.4g} -> {self.losses[-1]:.4g}"
        return text + ")"
