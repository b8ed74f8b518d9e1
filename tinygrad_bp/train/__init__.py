"""Training: one loop for both engines (``fit``), its progress line, and recipes.

- ``loop``: ``fit``, online or mini-batch gradient descent, with validation and
  early stopping; ``history``: the ``History`` it returns.
- ``steps``: one step of the loop, traced where the model and loss can be.
- ``progress``: the progress bar or final line, and ``write`` for log lines.
- ``recipes``: ``train_on_dataset``, a tensor MLP trained on a toy data set by name.
"""

from .history import History, loss_name
from .loop import fit
from .progress import ProgressBar, write
from .recipes import OPTIMIZERS, TrainingRun, split, train_on_dataset

__all__ = [
    "OPTIMIZERS",
    "History",
    "ProgressBar",
    "TrainingRun",
    "fit",
    "loss_name",
    "split",
    "train_on_dataset",
    "write",
]
