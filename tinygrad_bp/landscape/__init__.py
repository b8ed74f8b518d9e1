"""Error surfaces: slices of the loss around a model's weights, and the XOR lab.

- ``surface.py``: ``surface(model, loss_fn, directions, steps, span, path)``, the slice
  J(theta + a d1 + b d2) on a grid, returned as a ``Surface``; ``dataset_loss`` for
  losses it can evaluate in batches.
- ``directions.py``: filter-normalised, random, principal-component and named directions.
- ``flat.py``: a model's weights as one named vector theta.
"""

from .surface import MAX_PATH, MAX_STEPS, MAX_WORK, DataLoss, Surface, dataset_loss, surface

__all__ = ["MAX_PATH", "MAX_STEPS", "MAX_WORK", "DataLoss", "Surface", "dataset_loss", "surface"]
