"""Slices of the error surface: J(theta + a d1 + b d2) on a grid around a model's weights.

``surface(model, loss_fn, ...)`` evaluates the loss at ``steps`` x ``steps`` points
(a, b) in [-span, span]^2 around the model's current weights theta, along two
directions (see ``directions``), and projects a recorded training path onto the
slice: the path point theta_t lands at the (a_t, b_t) minimising
||theta + a d1 + b d2 - theta_t|| (least squares), with that distance reported.

``loss_fn`` is called as ``loss_fn(model)`` and returns the loss (a Value, a
one-element Tensor or a number). A ``DataLoss`` (``dataset_loss(X, y)``) is such a
function that also knows its data, so a model that is a plain stack of dense layers
is evaluated at a whole batch of grid points at once: the forward pass runs on
arrays of shape (points, examples, units) and each point's loss is the library's
own loss function of its outputs. Any other ``loss_fn`` is evaluated one grid point
at a time, through the model. Either way the model's weights are put back exactly
as they were, also when an error stops the evaluation.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import Value
from ..graph import no_grad
from ..losses import half_sse
from ..nn import Module
from ..nn.activations import ACTIVATIONS
from ..tensor import Tensor
from ..validate import integer, real, real_array
from . import directions as dirs
from .flat import FlatWeights, flat_weights, load, restore, snapshot

# Bounds, checked before any work starts.
MAX_STEPS = 401  # grid points per axis
MAX_WORK = 200_000_000  # grid points x weights, for one slice
MAX_PATH = 100_000  # points of a path
# Batched evaluation: at most this many floats per layer's activations at once.
_CHUNK_FLOATS = 1 << 21


class DataLoss:
    """J(theta) = loss(model(X), y) on fixed data: a ``loss_fn`` that knows its data.

    Called with a model it returns the library's loss on that model's engine (a
    Value for a scalar MLP, a Tensor for a tensor network), so it can be trained on
    too; ``batch`` evaluates it for many weight vectors at once.

    >>> from tinygrad_bp import data
    >>> from tinygrad_bp.nn import MLP
    >>> J = dataset_loss(*data.xor())
    >>> J
    DataLoss(half_sse on 4 examples)
    >>> 0.0 < J(MLP(2, [2, 1], rng=0)).data < 2.0
    True
    """

    def __init__(self, X: Any, y: Any, loss: Callable[[Any, Any], Any] = half_sse) -> None:
        self.X = real_array("X", X)
        self.y = real_array("y", y)
        if self.X.ndim != 2 or len(self.X) == 0:
            raise ValueError(f"X must have shape (n, d) with n >= 1, got {self.X.shape}")
        if len(self.y) != len(self.X):
            raise ValueError(f"X and y differ in length: {self.X.shape} and {self.y.shape}")
        if not callable(loss):
            raise TypeError(f"loss must be a function (pred, target), got {type(loss).__name__}")
        self.loss = loss

    def _target(self, shape: tuple[int, ...]) -> np.ndarray:
        """y in the predictions' shape (n,) -> (n, 1) for one output unit."""
        return self.y.reshape(shape) if self.y.size == int(np.prod(shape)) else self.y

    def __call__(self, model: Module) -> Any:
        if isinstance(model.parameters()[0], Value):
            pred = [model(list(x)) for x in self.X]
            return self.loss(pred, self.y)
        out = model(Tensor(self.X))
        return self.loss(out, self._target(out.shape))

    def batch(self, weights: Sequence[np.ndarray], activations: Sequence[str]) -> np.ndarray:
        """J at G weight vectors at once: ``weights`` holds one (G, n_in + 1, n_out) per layer.

        o_l = g_l(o_{l-1} W_l[1:] + W_l[0]), computed for all G networks as one
        (G, n, n_out) array per layer; then each network's loss by ``self.loss``.
        """
        out = self.X[None]
        with no_grad():
            for matrix, name in zip(weights, activations):
                z = np.matmul(out, matrix[:, 1:]) + matrix[:, :1]
                out = ACTIVATIONS[name].apply(Tensor(z)).data
            target = self._target(out.shape[1:])
            return np.array([_number(self.loss(Tensor(o), target)) for o in out])

    def __repr__(self) -> str:
        name = getattr(self.loss, "__name__", type(self.loss).__name__)
        return f"DataLoss({name} on {len(self.X)} examples)"


def dataset_loss(X: Any, y: Any, loss: Callable[[Any, Any], Any] = half_sse) -> DataLoss:
    """The loss of a model on data (X, y), as a ``loss_fn`` that ``surface`` can batch.

    Args:
        X: inputs (n, d). y: targets, (n,) or (n, n_out).
        loss: a function (pred, target) of ``tinygrad_bp.losses``; default ``half_sse``,
            the derivation's J = 1/2 sum (y - o)^2.

    >>> from tinygrad_bp import data
    >>> dataset_loss(*data.xor()).y.tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    return DataLoss(X, y, loss)


@dataclass(frozen=True, repr=False)
class Surface:
    """A slice J(theta + a d1 + b d2) of the error surface, and a path projected onto it.

    Attributes:
        a, b: the grid's coordinates along d1 and d2, each (steps,).
        loss: J at (a[j], b[i]) in ``loss[i, j]`` (rows b, columns a, as matplotlib's
            ``contour(a, b, loss)`` reads it).
        center: theta, the model's weights (P,), at a = b = 0.
        center_loss: J at theta.
        directions: d1 and d2 as rows of a (2, P) array.
        kind: "filter", "random", "pca", "named" or "given".
        labels: what each axis is (a weight's name, "PC1 (83.0%)", "filter direction 1").
        weight_names: the name of each of the P entries of theta.
        path: the path's coordinates (T, 2), or None without a path.
        path_loss: J at the path's own points (T,), or None.
        path_offset: each path point's distance from the slice's plane (T,), or None.
        explained_variance: for "pca", the share of the path's variance along d1 and d2.
    """

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    center: np.ndarray
    directions: np.ndarray
    kind: str
    labels: tuple[str, str]
    weight_names: tuple[str, ...]
    path: np.ndarray | None = None
    path_loss: np.ndarray | None = None
    path_offset: np.ndarray | None = None
    explained_variance: np.ndarray | None = None
    center_loss: float = float("nan")

    @property
    def grid(self) -> np.ndarray:
        """The loss on the grid (the same array as ``loss``)."""
        return self.loss

    @property
    def projection(self) -> np.ndarray | None:
        """The path's coordinates on the slice (the same array as ``path``)."""
        return self.path

    def weights_at(self, a: float, b: float) -> np.ndarray:
        """theta + a d1 + b d2 (P,): the weights at one point of the slice."""
        return self.center + a * self.directions[0] + b * self.directions[1]

    def __repr__(self) -> str:
        steps = f"{len(self.b)}x{len(self.a)}"
        lines = [
            f"Surface({self.kind} directions, {steps} grid, "
            f"a in [{self.a[0]:.3g}, {self.a[-1]:.3g}], b in [{self.b[0]:.3g}, {self.b[-1]:.3g}])",
            f"  axes: {self.labels[0]} | {self.labels[1]}",
            f"  J on the grid: {np.nanmin(self.loss):.4g} to {np.nanmax(self.loss):.4g}; "
            f"at the centre {self.center_loss:.4g}",
        ]
        if self.explained_variance is not None:
            share = ", ".join(f"{v:.1%}" for v in self.explained_variance)
            lines.append(f"  explained variance of the path: {share}")
        if self.path is not None and self.path_offset is not None:
            lines.append(
                f"  path: {len(self.path)} points, at most {np.max(self.path_offset):.3g} "
                "off the plane"
            )
        return "\n".join(lines)


def surface(
    model: Module,
    loss_fn: Callable[..., Any],
    directions: str | Sequence[Any] = "filter",
    steps: int = 51,
    span: float | tuple[float, float] | None = None,
    path: Any = None,
    rng: np.random.Generator | int | None = None,
) -> Surface:
    """Evaluate J(theta + a d1 + b d2) on a steps x steps grid, a, b in [-span, span].

    theta is the model's current weights (``nn.get_weights``, flattened); the model
    is left exactly as it was.

    Args:
        model: an MLP, Layer, Neuron, Linear or Sequential (either engine).
        loss_fn: called as ``loss_fn(model)`` (or ``loss_fn()``), returns the loss;
            a ``dataset_loss(X, y)`` is evaluated in batches.
        directions: "filter" (random, filter-normalised, biases left out), "random"
            (unnormalised), "pca" (the first two principal components of ``path``), two
            weight names (``("layers.0.weight[0, 0]", "layers.1.bias[0]")``) or two
            vectors (flat, or lists of weight matrices).
        steps: grid points per axis (2..401); odd puts theta itself on the grid.
        span: half-width of the grid, or a pair (along d1, along d2); default 1 (one
            filter norm), or for a path, 1.2 times its largest coordinate.
        path: weights recorded during training: a list whose items are lists of weight
            matrices, or an array (T, P). Projected onto the slice.
        rng: a Generator or seed for the random directions (default 0).

    Returns:
        A ``Surface``.

    >>> from tinygrad_bp import data
    >>> from tinygrad_bp.nn import MLP
    >>> net = MLP(2, [2, 1], rng=0)
    >>> before = [p.data for p in net.parameters()]
    >>> s = surface(net, dataset_loss(*data.xor()), steps=11, span=2.0)
    >>> s.loss.shape, s.kind, [p.data for p in net.parameters()] == before
    ((11, 11), 'filter', True)
    """
    steps = integer("steps", steps, minimum=2, maximum=MAX_STEPS)
    layout, theta = flat_weights(model)
    if steps * steps * layout.size > MAX_WORK:
        raise ValueError(
            f"a {steps}x{steps} slice of {layout.size} weights is {steps * steps * layout.size:,} "
            f"numbers, more than the limit of {MAX_WORK:,}: use fewer steps"
        )
    track = _path_array(path, layout)
    basis, kind, labels, share = _directions(directions, layout, theta, track, rng)
    coords = offsets = None
    if track is not None:
        coords, offsets = _project(track, theta, basis)
    half_a, half_b = _span(span, coords)
    a, b = np.linspace(-half_a, half_a, steps), np.linspace(-half_b, half_b, steps)
    a_grid, b_grid = np.meshgrid(a, b)
    points = theta + a_grid.reshape(-1, 1) * basis[0] + b_grid.reshape(-1, 1) * basis[1]
    evaluate = _evaluator(model, loss_fn, layout)
    values = evaluate(np.vstack([points, theta]))  # the grid, then theta itself
    loss, center_loss = values[:-1].reshape(steps, steps), float(values[-1])
    path_loss = None if track is None else evaluate(track)
    return Surface(
        a,
        b,
        loss,
        theta,
        basis,
        kind,
        labels,
        layout.names,
        coords,
        path_loss,
        offsets,
        share,
        center_loss,
    )


def _path_array(path: Any, layout: FlatWeights) -> np.ndarray | None:
    """The path as a (T, P) array of finite numbers, or None."""
    if path is None:
        return None
    if isinstance(path, np.ndarray) and path.ndim == 2:
        rows: Sequence[Any] = list(path)
    elif isinstance(path, (list, tuple)):
        rows = path
    else:
        raise TypeError(
            f"path must be a list of weight snapshots or a (T, P) array, got {type(path).__name__}"
        )
    if not 1 <= len(rows) <= MAX_PATH:
        raise ValueError(f"a path needs 1 to {MAX_PATH:,} points, got {len(rows):,}")
    return np.array([dirs.as_flat(row, layout, f"path point {t}") for t, row in enumerate(rows)])


def _directions(
    choice: Any, layout: FlatWeights, theta: np.ndarray, track: np.ndarray | None, rng: Any
) -> tuple[np.ndarray, str, tuple[str, str], np.ndarray | None]:
    """(d1, d2) as a (2, P) array, the kind, the axis labels and the PCA shares."""
    if isinstance(choice, str):
        if choice not in dirs.KINDS:
            raise ValueError(
                f"unknown directions {choice!r:.40}; choose one of {', '.join(dirs.KINDS)}, "
                "or give two weight names"
            )
        if choice == "pca":
            if track is None or len(track) < 3:
                raise ValueError("directions='pca' needs a path of at least 3 points")
            components, share = dirs.principal_components(track)
            labels = tuple(f"PC{k + 1} ({share[k]:.1%} of path variance)" for k in range(2))
            return components, "pca", (labels[0], labels[1]), share
        generator = np.random.default_rng(0 if rng is None else rng)
        basis = np.array([dirs.gaussian(layout, generator) for _ in range(2)])
        if choice == "filter":
            basis = np.array([dirs.filter_normalised(d, layout, theta) for d in basis])
            if not np.any(basis):
                raise ValueError(
                    "filter-normalised directions are zero because every weight is zero; "
                    "use directions='random' or two weight names"
                )
        return basis, choice, (f"{choice} direction 1", f"{choice} direction 2"), None
    if not isinstance(choice, (list, tuple)) or len(choice) != 2:
        raise ValueError(
            "directions must be 'filter', 'random', 'pca', two weight names or two vectors, "
            f"got {choice!r:.80}"
        )
    if all(isinstance(name, str) for name in choice):
        return dirs.named(choice, layout), "named", (choice[0], choice[1]), None
    basis = dirs.given(choice, layout)
    if np.linalg.matrix_rank(basis) < 2:
        raise ValueError("the two directions must be independent (neither zero nor parallel)")
    return basis, "given", ("direction 1", "direction 2"), None


def _project(
    track: np.ndarray, theta: np.ndarray, basis: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coordinates (a_t, b_t) of each path point, and its distance from the plane."""
    steps_away = track - theta
    coords, *_ = np.linalg.lstsq(basis.T, steps_away.T, rcond=None)
    residual = steps_away - coords.T @ basis
    return coords.T, np.linalg.norm(residual, axis=1)


def _span(span: Any, coords: np.ndarray | None) -> tuple[float, float]:
    """The grid's half-widths: as given, else 1.2 x the path's largest coordinate, else 1."""
    if isinstance(span, (tuple, list)):
        if len(span) != 2:
            raise ValueError(f"span must be a number or a pair of numbers, got {span!r:.60}")
        return real("span", span[0], positive=True), real("span", span[1], positive=True)
    if span is not None:
        half = real("span", span, positive=True)
        return half, half
    if coords is None or not np.any(coords):
        return 1.0, 1.0
    half = 1.2 * float(np.max(np.abs(coords)))
    return half, half


def _evaluator(
    model: Module, loss_fn: Callable[..., Any], layout: FlatWeights
) -> Callable[[np.ndarray], np.ndarray]:
    """A function from weight vectors (G, P) to their losses (G,)."""
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(model), got {type(loss_fn).__name__}")
    if isinstance(loss_fn, DataLoss) and layout.activations is not None:
        activations = layout.activations

        def batched(points: np.ndarray) -> np.ndarray:
            widest = max(cols for _, cols in layout.shapes)
            chunk = max(1, _CHUNK_FLOATS // (len(loss_fn.X) * widest + layout.size))
            parts = [
                loss_fn.batch(layout.matrices(points[start : start + chunk]), activations)
                for start in range(0, len(points), chunk)
            ]
            return np.concatenate(parts)

        return batched
    call = _caller(loss_fn, model)

    def one_at_a_time(points: np.ndarray) -> np.ndarray:
        saved = snapshot(model)
        try:
            with no_grad():
                out = np.empty(len(points))
                for index, point in enumerate(points):
                    load(model, layout, point)
                    out[index] = _number(call())
                return out
        finally:
            restore(model, saved)

    return one_at_a_time


def _caller(loss_fn: Callable[..., Any], model: Module) -> Callable[[], Any]:
    """loss_fn as a function of nothing: loss_fn(model), or loss_fn() if it takes no argument."""
    try:
        takes_nothing = not inspect.signature(loss_fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        takes_nothing = False
    if takes_nothing:
        return loss_fn
    return lambda: loss_fn(model)


def _number(loss: Any) -> float:
    """A loss as a float: a Value's data, a one-element Tensor's item, or a number."""
    if isinstance(loss, Value):
        return float(loss.data)
    if isinstance(loss, Tensor):
        if loss.data.size != 1:
            raise ValueError(
                f"loss_fn must return a scalar loss, got a Tensor of shape {loss.shape}"
            )
        return float(loss.data.reshape(()))
    try:
        return float(loss)
    except (TypeError, ValueError):
        raise TypeError(
            f"loss_fn must return a Value, a one-element Tensor or a number, "
            f"got {type(loss).__name__}"
        ) from None
