"""What ``fit`` returns: the loss of every epoch, and how training ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..losses import half_sse
from .progress import loss_text


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
    """What ``fit`` did: the loss of every epoch, and how training ended.

    Attributes:
        losses: the training loss of every epoch.
        converged: whether an epoch's loss fell below ``epsilon`` (the one asked, or None).
        loss_name: what the display and the log call the loss (J for the half SSE).
        val_losses, val_accuracies: the loss and (for class labels) the accuracy on
            ``validation_data`` after every epoch; empty without it.
        best_epoch: with ``patience``, the epoch of lowest validation loss, whose
            weights the model ends with; ``stopped_early`` whether patience ran out.
        eager: why the steps ran eagerly although ``compile`` asked for traced
            steps (``trace`` refused the model or loss), else "".

    The repr is one short line, however long the training; it names
    ``converged`` only when an epsilon was asked, since without one there was
    nothing to converge to.

    >>> History([0.69314, 0.3, 0.0099], converged=True, loss_name="J", epsilon=0.01)
    History(epochs=3, converged=True, J: 0.6931 -> 0.0099)
    >>> History([0.7, 0.5], val_losses=[0.8, 0.6], val_accuracies=[0.5, 0.75])
    History(epochs=2, loss: 0.7 -> 0.5, val loss: 0.8 -> 0.6, val accuracy 0.75)
    """

    losses: list[float] = field(default_factory=list)
    converged: bool = False
    loss_name: str = "loss"
    epsilon: float | None = None
    val_losses: list[float] = field(default_factory=list)
    val_accuracies: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    eager: str = ""

    @property
    def epochs(self) -> int:
        return len(self.losses)

    def record_validation(self, loss: float, accuracy: float | None) -> None:
        """Add one epoch's validation loss and accuracy (None: the targets are not labels)."""
        self.val_losses.append(loss)
        if accuracy is not None:
            self.val_accuracies.append(accuracy)

    def validation_text(self) -> str:
        """The latest validation numbers for a log line ("" without validation data)."""
        if not self.val_losses:
            return ""
        text = f"   val {self.loss_name} = {loss_text(self.val_losses[-1])}"
        if self.val_accuracies:
            text += f"   val accuracy = {self.val_accuracies[-1]:.4f}"
        return text

    def __repr__(self) -> str:
        parts = [f"epochs={self.epochs}"]
        if self.epsilon is not None or self.converged:
            parts.append(f"converged={self.converged}")
        if self.losses:
            parts.append(f"{self.loss_name}: {self.losses[0]:.4g} -> {self.losses[-1]:.4g}")
        if self.val_losses:
            parts.append(
                f"val {self.loss_name}: {self.val_losses[0]:.4g} -> {self.val_losses[-1]:.4g}"
            )
        if self.val_accuracies:
            parts.append(f"val accuracy {self.val_accuracies[-1]:.4g}")
        if self.best_epoch is not None:
            early = "stopped early, " if self.stopped_early else ""
            parts.append(f"{early}weights of epoch {self.best_epoch}")
        if self.eager:
            parts.append(f"ran eagerly: {_first_line(self.eager, 80)}")
        return f"History({', '.join(parts)})"


def _first_line(text: str, width: int) -> str:
    """The first line of ``text``, cut to ``width`` characters with an ellipsis."""
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 3] + "..."
