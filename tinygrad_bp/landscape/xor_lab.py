"""The XOR lab: many 2-h-1 sigmoid networks trained on XOR at once, and where each ends.

Every network is trained by full-batch gradient descent on the derivation's
J = 1/2 sum_p (y_p - o_p)^2 over the four XOR patterns. All N networks of a width
are trained together: their weights are stacked, W1 of shape (N, 3, h) and W2 of
shape (N, h + 1, 1) in the derivation's layout (row 0 the bias), so one numpy step
moves them all. The gradient is the derivation's backpropagation, batched:

    delta_o = (o - y) o (1 - o)                       (N, 4, 1)
    delta_h = h (1 - h) (delta_o W2[1:]^T)            (N, 4, h)
    dJ/dW2  = [1, h]^T delta_o,  dJ/dW1 = [1, x]^T delta_h

Each run is then classified:

- **solved**: J < threshold;
- **valley at infinity**: J within 1e-3 of 1/4 (two patterns of different targets
  both output 1/2) or of 1/3 (three patterns lumped at their mean), while the
  weight norm still grows from step T/2 to step T: gradient descent is sliding
  down a valley whose floor is reached only as the weights go to infinity;
- **local minimum**: a stationary point with finite weights and positive loss,
  shown: the gradient norm is below 1e-6, the weight norm has stopped growing, the
  Hessian (central differences of the gradient) has no eigenvalue below -1e-6, and
  a search of the spheres of radius 0.1 and 0.01 around it finds no lower J (a
  positive semi-definite Hessian alone does not make a minimum: the origin of the
  2-2-1 net has one and is a saddle);
- **other**: anything else (still descending, or on a plateau).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data import xor
from ..validate import integer, real

# The two positive values of J that the valleys at infinity approach.
VALLEYS = {"1/4": 0.25, "1/3": 1.0 / 3.0}
VALLEY_TOLERANCE = 1e-3
# A stationary point: |grad J| below this, and no Hessian eigenvalue below -this.
STATIONARY = 1e-6
# The weight norm grows if it rose by more than this from step T/2 to step T.
GROWING = 1e-4
CATEGORIES = ("solved", "valley 1/4", "valley 1/3", "local minimum", "other")
MAX_NETWORKS = 100_000
MAX_STEPS = 10_000_000
MAX_HIDDEN = 64


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    """The XOR patterns with a leading 1 for the bias, (4, 3), and the targets (4, 1)."""
    X, y = xor()
    return np.hstack([np.ones((4, 1)), X]), y[:, None]


def unpack(theta: np.ndarray, hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """theta (N, 4h + 1) as W1 (N, 3, h) and W2 (N, h + 1, 1) (views), as ``get_weights`` lays
    out a 2-h-1 ``MLP``."""
    n = theta.shape[0]
    return theta[:, : 3 * hidden].reshape(n, 3, hidden), theta[:, 3 * hidden :].reshape(
        n, hidden + 1, 1
    )


def loss_and_grad(theta: np.ndarray, hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """J and dJ/dtheta of N 2-h-1 sigmoid networks on XOR: shapes (N,) and (N, 4h + 1).

    >>> theta = np.zeros((1, 9))                 # the 2-2-1 network at the origin
    >>> J, g = loss_and_grad(theta, 2)
    >>> float(J[0]), float(np.abs(g).max())
    (0.5, 0.0)
    """
    xb, y = _inputs()
    w1, w2 = unpack(theta, hidden)
    h = _sigmoid(np.matmul(xb, w1))  # (N, 4, h)
    hb = np.concatenate([np.ones(h.shape[:-1] + (1,)), h], axis=-1)
    o = _sigmoid(np.matmul(hb, w2))  # (N, 4, 1)
    error = o - y
    delta_o = error * o * (1 - o)
    delta_h = h * (1 - h) * np.matmul(delta_o, np.swapaxes(w2[:, 1:], 1, 2))
    grad_w2 = np.matmul(np.swapaxes(hb, 1, 2), delta_o)
    grad_w1 = np.matmul(xb.T, delta_h)
    grad = np.concatenate([grad_w1.reshape(len(theta), -1), grad_w2.reshape(len(theta), -1)], 1)
    return 0.5 * np.sum(error**2, axis=(1, 2)), grad


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z), without overflow for any z."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def hessian(theta: np.ndarray, hidden: int, eps: float = 1e-5) -> np.ndarray:
    """The Hessian of J at one weight vector (P,), by central differences of the gradient.

    H[:, i] = (g(theta + eps e_i) - g(theta - eps e_i)) / (2 eps), then symmetrised.
    """
    size = len(theta)
    shifts = np.eye(size) * eps
    _, plus = loss_and_grad(theta + shifts, hidden)
    _, minus = loss_and_grad(theta - shifts, hidden)
    columns = (plus - minus) / (2 * eps)
    return (columns + columns.T) / 2


@dataclass(frozen=True)
class Recipe:
    """How the lab trains: widths, networks per width, init range, step size, steps, threshold."""

    hidden: tuple[int, ...] = (2, 3, 4)
    seeds: int = 1000
    init: float = 1.0
    lr: float = 0.5
    steps: int = 50_000
    threshold: float = 0.01
    seed: int = 0

    def __str__(self) -> str:
        widths = ", ".join(f"2-{h}-1" for h in self.hidden)
        return (
            f"XOR lab: {self.seeds} networks each of {widths} (sigmoid units), weights and "
            f"biases drawn from U(-{self.init:g}, {self.init:g}) (seed {self.seed}); full-batch "
            f"gradient descent on J = 1/2 sum (y - o)^2 with alpha = {self.lr:g} for "
            f"{self.steps:,} steps; solved: J < {self.threshold:g}; valley at infinity: "
            f"|J - 1/4| or |J - 1/3| < {VALLEY_TOLERANCE:g} with the weight norm still growing "
            f"from step {self.steps // 2:,} to {self.steps:,}"
        )


@dataclass(frozen=True)
class Runs:
    """Where the N runs of one width ended (arrays of N, one entry per run)."""

    hidden: int
    theta: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    grad_norm: np.ndarray = field(repr=False)
    norm_half: np.ndarray = field(repr=False)
    norm_end: np.ndarray = field(repr=False)
    category: np.ndarray = field(repr=False)
    min_eigenvalue: np.ndarray = field(repr=False)

    def count(self, category: str) -> int:
        return int(np.sum(self.category == category))


@dataclass(frozen=True)
class LabResult:
    """The recipe and, per width, the ``Runs``; ``table()`` is the summary as text."""

    recipe: Recipe
    runs: dict[int, Runs]

    def table(self) -> str:
        header = f"{'network':>8} " + " ".join(f"{name:>14}" for name in CATEGORIES)
        lines = [header]
        for hidden, runs in self.runs.items():
            counts = " ".join(f"{runs.count(name):>14}" for name in CATEGORIES)
            lines.append(f"{'2-' + str(hidden) + '-1':>8} {counts}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{self.recipe}\n{self.table()}"


def descend(theta: np.ndarray, hidden: int, lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent theta <- theta - lr dJ/dtheta for ``steps`` steps.

    Returns the final weights (N, P) and their norms at step ``steps // 2`` (N,).
    """
    theta = theta.copy()
    norm_half = np.linalg.norm(theta, axis=1)
    for step in range(steps):
        if step == steps // 2:
            norm_half = np.linalg.norm(theta, axis=1)
        _, grad = loss_and_grad(theta, hidden)
        theta -= lr * grad
    return theta, norm_half


def classify(runs_theta: np.ndarray, hidden: int, norm_half: np.ndarray, threshold: float) -> Runs:
    """Sort each run into solved, a valley at infinity, a (shown) local minimum, or other."""
    loss, grad = loss_and_grad(runs_theta, hidden)
    grad_norm = np.linalg.norm(grad, axis=1)
    norm_end = np.linalg.norm(runs_theta, axis=1)
    growing = norm_end - norm_half > GROWING
    category = np.full(len(loss), "other", dtype=object)
    min_eigenvalue = np.full(len(loss), np.nan)
    for name, level in VALLEYS.items():
        category[(np.abs(loss - level) < VALLEY_TOLERANCE) & growing] = f"valley {name}"
    category[loss < threshold] = "solved"
    for index in np.flatnonzero((category == "other") & ~growing & (grad_norm < STATIONARY)):
        eigenvalues = np.linalg.eigvalsh(hessian(runs_theta[index], hidden))
        min_eigenvalue[index] = eigenvalues[0]
        if eigenvalues[0] > -STATIONARY and _drop_nearby(runs_theta[index], hidden) <= 0:
            category[index] = "local minimum"
    return Runs(hidden, runs_theta, loss, grad_norm, norm_half, norm_end, category, min_eigenvalue)


def _drop_nearby(theta: np.ndarray, hidden: int) -> float:
    """How much lower than J(theta) J gets on the spheres of radius 0.1 and 0.01 around
    theta (0 or less: no lower point found)."""
    here, _ = loss_and_grad(theta[None], hidden)
    lowest = min(
        lowest_nearby(theta, hidden, radius, starts=50, iterations=500)[0] for radius in (0.1, 0.01)
    )
    return float(here[0] - lowest)


def xor_lab(
    hidden: Sequence[int] = (2, 3, 4),
    seeds: int = 1000,
    lr: float = 0.5,
    steps: int = 50_000,
    init: float = 1.0,
    threshold: float = 0.01,
    seed: int = 0,
) -> LabResult:
    """Train ``seeds`` 2-h-1 sigmoid networks on XOR for each h and classify where they end.

    >>> lab = xor_lab(hidden=(2,), seeds=20, steps=2000, lr=2.0)
    >>> sum(lab.runs[2].count(name) for name in CATEGORIES)
    20
    """
    widths = tuple(integer("hidden", h, minimum=1, maximum=MAX_HIDDEN) for h in hidden)
    if not widths:
        raise ValueError("hidden needs at least one width")
    recipe = Recipe(
        widths,
        integer("seeds", seeds, minimum=1, maximum=MAX_NETWORKS),
        real("init", init, positive=True),
        real("lr", lr, positive=True),
        integer("steps", steps, minimum=2, maximum=MAX_STEPS),
        real("threshold", threshold, positive=True),
        integer("seed", seed, minimum=0),
    )
    rng = np.random.default_rng(recipe.seed)
    runs = {}
    for width in widths:
        start = rng.uniform(-recipe.init, recipe.init, (recipe.seeds, 4 * width + 1))
        theta, norm_half = descend(start, width, recipe.lr, recipe.steps)
        runs[width] = classify(theta, width, norm_half, recipe.threshold)
    return LabResult(recipe, runs)


def lowest_nearby(
    theta: np.ndarray,
    hidden: int,
    radius: float,
    starts: int = 200,
    iterations: int = 2000,
    rng: np.random.Generator | int | None = 0,
) -> tuple[float, np.ndarray]:
    """The lowest J found on the sphere ||theta' - theta|| = radius, and where.

    Projected gradient descent from ``starts`` random points of the sphere, all at
    once: step against the gradient, then back onto the sphere. A value below
    J(theta) shows that theta is not a local minimum at that scale, whatever its
    Hessian says; none below is evidence (not proof) that it is.

    >>> lowest, _ = lowest_nearby(np.zeros(9), 2, 0.5, starts=50, iterations=500)
    >>> lowest < 0.5                       # the origin of the 2-2-1 net is a saddle
    True
    """
    generator = np.random.default_rng(rng)
    offsets = generator.standard_normal((starts, len(theta)))
    offsets *= radius / np.linalg.norm(offsets, axis=1, keepdims=True)
    step = radius / 10
    for _ in range(iterations):
        _, grad = loss_and_grad(theta + offsets, hidden)
        scale = np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-300)
        offsets -= step * grad / scale
        offsets *= radius / np.linalg.norm(offsets, axis=1, keepdims=True)
        step *= 0.997
    loss, _ = loss_and_grad(theta + offsets, hidden)
    best = int(np.argmin(loss))
    return float(loss[best]), theta + offsets[best]


def stationary_point(
    theta: np.ndarray, hidden: int, iterations: int = 400
) -> tuple[np.ndarray, float]:
    """Search for a point where dJ/dtheta = 0 near ``theta``: Levenberg-Marquardt on the gradient.

    Each step solves (H^2 + mu I) s = -H g, with H the Hessian and g the gradient, and
    keeps the step if it shrinks |g| (then mu shrinks; else mu grows). It finds
    stationary points of every kind (minima, saddles, plateaus), not only minima.
    Returns the point and its gradient norm.

    >>> point, norm = stationary_point(np.full(9, 0.01), 2)
    >>> norm < 1e-9
    True
    """
    theta = np.array(theta, dtype=np.float64)
    norm = float(np.linalg.norm(loss_and_grad(theta[None], hidden)[1]))
    damping = 1e-3
    for _ in range(iterations):
        if norm < 1e-14:
            break
        curvature = hessian(theta, hidden)
        grad = loss_and_grad(theta[None], hidden)[1][0]
        step = np.linalg.solve(
            curvature @ curvature + damping * np.eye(len(theta)), -curvature @ grad
        )
        trial = float(np.linalg.norm(loss_and_grad((theta + step)[None], hidden)[1]))
        if trial < norm:
            theta, norm, damping = theta + step, trial, max(damping / 3, 1e-15)
        else:
            damping *= 4
    return theta, norm


# Below this, a drop of J is within the rounding of double precision at J ~ 1.
ROUNDING = 1e-12


def verdict(theta: np.ndarray, hidden: int) -> str:
    """What a stationary point is, from its Hessian and a search of the spheres of radius
    0.1 and 0.01 around it: "saddle" (an eigenvalue below -1e-6), "not a minimum" (a point
    lower by more than 1e-12 found), "flat to rounding" (lower points found, but by less
    than 1e-12: double precision cannot tell) or "local minimum" (no lower point found).

    >>> verdict(np.zeros(9), 2)                  # the origin of the 2-2-1 net
    'not a minimum'
    """
    if np.linalg.eigvalsh(hessian(theta, hidden))[0] < -STATIONARY:
        return "saddle"
    drop = _drop_nearby(theta, hidden)
    if drop > ROUNDING:
        return "not a minimum"
    return "flat to rounding" if drop > 0 else "local minimum"


@dataclass(frozen=True)
class StationaryPoint:
    """A stationary point found by ``stationary_survey``: J, |theta|, |grad J|, and what it is."""

    loss: float
    weight_norm: float
    grad_norm: float
    verdict: str


def stationary_survey(
    hidden: int, starts: int = 100, init: float = 4.0, seed: int = 0
) -> list[StationaryPoint]:
    """Stationary points of the 2-h-1 XOR surface with J > 0.01, found from random starts.

    From each of ``starts`` points drawn from U(-init, init), ``stationary_point``
    searches for a zero of the gradient; each point reached with |grad J| < 1e-9 and
    J > 0.01 is kept with its ``verdict``.

    >>> points = stationary_survey(2, starts=2, seed=3)
    >>> all(point.grad_norm < 1e-9 and point.loss > 0.01 for point in points)
    True
    """
    hidden = integer("hidden", hidden, minimum=1, maximum=MAX_HIDDEN)
    starts = integer("starts", starts, minimum=1, maximum=MAX_NETWORKS)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    found = []
    for start in rng.uniform(-init, init, (starts, 4 * hidden + 1)):
        point, grad_norm = stationary_point(start, hidden)
        loss = float(loss_and_grad(point[None], hidden)[0][0])
        if grad_norm < 1e-9 and loss > 0.01:
            kind = verdict(point, hidden)
            found.append(StationaryPoint(loss, float(np.linalg.norm(point)), grad_norm, kind))
    return found
