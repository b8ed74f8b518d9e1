"""Early stopping: watch the validation loss, keep the best epoch's weights, restore them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor


class EarlyStopping:
    """Stop once the validation loss has not improved for ``patience`` epochs.

    It copies the parameters each time the validation loss reaches a new low, and
    ``restore`` writes that copy back (in place, so traced steps and optimisers
    keep pointing at the same arrays).

    >>> from tinygrad_bp import Value
    >>> w = Value(1.0)
    >>> stopping = EarlyStopping([w], patience=2)
    >>> [stopping.update(epoch, loss) for epoch, loss in [(1, 0.5), (2, 0.4), (3, 0.6), (4, 0.7)]]
    [False, False, False, True]
    >>> stopping.best_epoch, stopping.best_loss
    (2, 0.4)
    """

    def __init__(self, params: Sequence[Any], patience: int):
        self.params, self.patience = list(params), patience
        self.best_epoch = 0
        self.best_loss = math.inf
        self._saved: list[Any] = []

    def update(self, epoch: int, loss: float) -> bool:
        """Record the validation loss of ``epoch``; True when it is time to stop."""
        if loss < self.best_loss:
            self.best_epoch, self.best_loss = epoch, loss
            self._saved = [p.data.copy() if isinstance(p, Tensor) else p.data for p in self.params]
            return False
        return epoch - self.best_epoch >= self.patience

    def restore(self) -> None:
        """Put back the parameters of the best epoch (nothing if none was recorded)."""
        for param, saved in zip(self.params, self._saved):
            if isinstance(param, Tensor):
                np.copyto(param.data, saved)
            else:
                param.data = saved
