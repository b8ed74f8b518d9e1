"""The learning rate makes or breaks gradient descent: too small, too big, just right.

Tutorial claim: "If the step size is too small, it will take forever for your
program to converge. If it is too big, it might overshoot ... and never
converge." On the tutorial's bowl-shaped error surface (a network without a hidden
layer), the script fits one linear neuron o = w_0 + w_1 x to 21 points of the line
y = 2x - 1 on [-3, 3] by full-batch gradient descent on J = 1/2 sum (y - o)^2,
from the same initial weights, with four learning rates. J is a quadratic bowl
whose steepest curvature is lambda = sum x^2, so the descent is stable only for
lr < 2 / lambda: far below that it crawls, at 1 / lambda it lands on the slope in
one step, a little below 2 / lambda it overshoots the bottom and zigzags, above
it every step overshoots further and J grows without bound. The script plots J
and the slope w_1 per epoch, and prints how each rate fares over several seeds.
"""

import numpy as np
from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.losses import half_sse
from tinygrad_bp.nn import Linear, Sequential, get_weights
from tinygrad_bp.train import fit

options = example_options(__doc__.splitlines()[0])
X = np.linspace(-3.0, 3.0, 21)[:, None]
y = 2.0 * X[:, 0] - 1.0
SLOPE = 2.0
curvature = float(np.sum(X**2))  # the largest eigenvalue of J's Hessian (sum x^2 > n)
RATES = {
    "too small": 0.05 / curvature,
    "just right": 1.0 / curvature,
    "too big": 1.9 / curvature,
    "far too big": 2.1 / curvature,
}
EPSILON = 1e-6
epochs = 100 if options.fast else 150
seeds = range(3 if options.fast else 20)


def train(lr: float, seed: int) -> tuple[list[float], list[float]]:
    """J after each epoch of full-batch descent at rate ``lr``; the slope w_1 before
    training, then after each epoch."""
    net = Sequential(Linear(1, 1, rng=seed))
    slopes = [float(get_weights(net)[0][1, 0])]

    def record(epoch: int, loss: float) -> None:
        slopes.append(float(get_weights(net)[0][1, 0]))

    history = fit(
        net,
        X,
        y,
        loss=half_sse,
        lr=lr,
        epochs=epochs,
        epsilon=EPSILON,
        batch_size=None,
        on_epoch=record,
        progress=False,
    )
    return history.losses, slopes


print(f"y = 2x - 1 at 21 points on [-3, 3]; curvature lambda = sum x^2 = {curvature:.1f}")
print(f"gradient descent is stable for lr < 2 / lambda = {2 / curvature:.4f}")
runs = {f"{name} (lr = {lr:.4f})": train(lr, seed=0) for name, lr in RATES.items()}
path = viz.plot_learning_rates(
    {label: losses for label, (losses, _) in runs.items()},
    {label: slopes for label, (_, slopes) in runs.items()},
    options.out / "learning_rates.png",
    "One linear neuron fitting y = 2x - 1 (21 points), full-batch gradient descent:\n"
    "too small crawls, too big overshoots and zigzags or diverges",
    target=SLOPE,
    epsilon=EPSILON,
)
print(f"wrote {path}")

print(f"\n{len(seeds)} seeds, at most {epochs} epochs, stop at J < {EPSILON:g}")
print(
    f"{'rate':<27}{'converged':>10}{'median epochs':>15}{'final J':>10}{'J rises':>9}"
    f"{'overshoots':>12}"
)
for name, lr in RATES.items():
    results = [train(lr, seed) for seed in seeds]
    converged = [len(losses) for losses, _ in results if losses[-1] < EPSILON]
    median = f"{np.median(converged):.0f}" if converged else "-"
    final = np.median([losses[-1] for losses, _ in results])
    rises = np.mean([np.mean(np.diff(losses) > 0) for losses, _ in results])
    # An overshoot: the slope jumps from one side of the true slope to the other.
    errors = [np.asarray(slopes) - SLOPE for _, slopes in results]
    # (Errors below 1e-9 are rounding, whichever their sign.)
    crossings = np.mean([np.mean((e[1:] * e[:-1] < 0) & (abs(e[1:]) > 1e-9)) for e in errors])
    label = f"{name} (lr = {lr:.4f})"
    print(
        f"{label:<27}{len(converged):>6}/{len(results):<3}{median:>15}{final:>10.2g}"
        f"{rises:>9.0%}{crossings:>12.0%}"
    )
