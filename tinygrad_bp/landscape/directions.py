"""The two directions d1, d2 of a slice J(theta + a d1 + b d2).

- ``filter``: random Gaussian, then filter-normalised after Li et al. (2018): the
  incoming weights of each unit j (column j of a layer's matrix, rows 1..n_in) are
  scaled to the norm of the model's own incoming weights of that unit,
  d[1:, j] <- d[1:, j] ||w[1:, j]|| / ||d[1:, j]||, and the biases (row 0) are left
  out (d[0, :] = 0). A unit whose weights are all large gets a large step, so
  slices of differently scaled networks can be compared.
- ``random``: random Gaussian entries, biases included, not normalised.
- ``pca``: the first two principal components of a recorded path theta_0..theta_T
  (the SVD of the centred path), with the fraction of the path's variance each explains.
- two names: the unit vectors of two weights of the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .flat import FlatWeights

KINDS = ("filter", "random", "pca")


def gaussian(layout: FlatWeights, rng: np.random.Generator) -> np.ndarray:
    """Independent N(0, 1) entries where theta is free, 0 elsewhere."""
    return rng.standard_normal(layout.size) * layout.free


def filter_normalised(direction: np.ndarray, layout: FlatWeights, theta: np.ndarray) -> np.ndarray:
    """d[1:, j] scaled to ||w[1:, j]|| per unit j of each layer, d[0, :] = 0 (Li et al.).

    >>> from tinygrad_bp.landscape.flat import flat_weights
    >>> from tinygrad_bp.nn import MLP
    >>> layout, theta = flat_weights(MLP(2, [2, 1], rng=0))
    >>> d = filter_normalised(np.ones(9), layout, theta)
    >>> w, dw = layout.matrices(theta)[0], layout.matrices(d)[0]
    >>> bool(np.allclose(np.linalg.norm(dw[1:], axis=0), np.linalg.norm(w[1:], axis=0)))
    True
    >>> dw[0].tolist()                                   # the biases are left out
    [0.0, 0.0]
    """
    out = np.zeros(layout.size)
    for d, w, o in zip(layout.matrices(direction), layout.matrices(theta), layout.matrices(out)):
        length = np.linalg.norm(d[1:], axis=0)
        scale = np.divide(
            np.linalg.norm(w[1:], axis=0), length, out=np.zeros_like(length), where=length > 0
        )
        o[1:] = d[1:] * scale
    return out


def principal_components(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first two principal components of the points of ``path`` (T, P), and their share.

    The components are the top right-singular vectors of the centred path; the share
    of component k is s_k^2 / sum_i s_i^2. Each is signed so that the path starts at
    a negative coordinate (it runs left to right, bottom to top).

    >>> path = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.1], [4.0, 0.0, 0.0]])
    >>> components, share = principal_components(path)
    >>> np.round(components[0], 6).tolist() == [1.0, 0.0, 0.0], np.round(share, 4).tolist()
    (True, [0.9992, 0.0008])
    """
    centred = path - path.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    total = float(np.sum(singular**2))
    if len(singular) < 2 or singular[1] <= 1e-12 * max(singular[0], 1e-300):
        raise ValueError(
            "directions='pca' needs a path that moves in at least two independent "
            f"directions; this one spans {int(np.sum(singular > 1e-12 * singular[0]))}"
        )
    components = vt[:2].copy()
    for k in range(2):
        if centred[0] @ components[k] > 0:
            components[k] = -components[k]
    return components, singular[:2] ** 2 / total


def named(names: Sequence[str], layout: FlatWeights) -> np.ndarray:
    """The unit vectors of the two weights called ``names``."""
    out = np.zeros((2, layout.size))
    indices = [layout.index(name) for name in names]
    if indices[0] == indices[1]:
        raise ValueError(f"the two directions name the same weight {names[0]!r}")
    for row, index in enumerate(indices):
        if not layout.free[index]:
            raise ValueError(f"{names[row]!r} is a bias the layer does not have")
        out[row, index] = 1.0
    return out


def given(vectors: Sequence[Any], layout: FlatWeights) -> np.ndarray:
    """Two direction vectors given by the user: flat (P,) arrays or lists of weight matrices."""
    out = np.zeros((2, layout.size))
    for row, vector in enumerate(vectors):
        flat = as_flat(vector, layout, f"direction {row + 1}")
        if np.any(flat[~layout.free] != 0):
            raise ValueError(f"direction {row + 1} moves a bias the model does not have")
        out[row] = flat
    return out


def as_flat(vector: Any, layout: FlatWeights, what: str) -> np.ndarray:
    """A flat (P,) float array from a flat vector or a list of (n_in + 1, n_out) matrices."""
    if isinstance(vector, (list, tuple)) and vector and np.ndim(vector[0]) == 2:
        shapes = tuple(np.shape(m) for m in vector)
        if shapes != layout.shapes:
            raise ValueError(f"{what}: expected matrices of shapes {layout.shapes}, got {shapes}")
        flat = np.concatenate([np.asarray(m, dtype=np.float64).ravel() for m in vector])
    else:
        flat = np.asarray(vector, dtype=np.float64)
        if flat.shape != (layout.size,):
            raise ValueError(
                f"{what}: expected {layout.size} numbers (the model's weights), "
                f"got shape {flat.shape}"
            )
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{what} holds nan or inf")
    return flat
