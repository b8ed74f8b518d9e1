"""Error surfaces: slices of the loss around a model's weights, and the XOR lab.

- ``surface.py``: ``surface(model, loss_fn, directions, steps, span, path)``, the slice
  J(theta + a d1 + b d2) on a grid, returned as a ``Surface``; ``dataset_loss`` for
  losses it can evaluate in batches.
- ``directions.py``: filter-normalised, random, principal-component and named directions.
- ``flat.py``: a model's weights as one named vector theta.
- ``path.py``: ``descent_path``, a training path recorded for a slice to show.
- ``xor_lab.py``: ``xor_lab``, many 2-h-1 networks trained on XOR at once, and where
  each ended (solved, a valley at infinity, a shown local minimum, other).
"""

from .path import descent_path
from .surface import MAX_PATH, MAX_STEPS, MAX_WORK, DataLoss, Surface, dataset_loss, surface
from .xor_lab import LabResult, Recipe, xor_lab

__all__ = [
    "MAX_PATH",
    "MAX_STEPS",
    "MAX_WORK",
    "DataLoss",
    "LabResult",
    "Recipe",
    "Surface",
    "dataset_loss",
    "descent_path",
    "surface",
    "xor_lab",
]
