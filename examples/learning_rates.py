"""The learning rate makes or breaks gradient descent: too small, too big, just right.

Tutorial claim: "If the step size is too small, it will take forever for your
program to converge. If it is too big, it might overshoot ... and never
converge." The script trains the 2-2-1 sigmoid network on XOR by full-batch
gradient descent on J = 1/2 sum (y - o)^2 with three learning rates, from the same
initial weights, plots the three loss curves, and then counts over several seeds
how often each rate reaches J < 0.01, how many epochs that takes, and how often
the loss went up from one epoch to the next (an overshoot).
"""

import numpy as np
from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.losses import half_sse
from tinygrad_bp.train import train_on_dataset

options = example_options(__doc__.splitlines()[0])
RATES = {"too small": 0.05, "just right": 5.0, "too big": 50.0}
epochs = 300 if options.fast else 3000
seeds = range(3 if options.fast else 20)


def train(lr: float, seed: int) -> list[float]:
    run = train_on_dataset(
        "xor", [2], "sigmoid", "sgd", lr, epochs, loss=half_sse, epsilon=0.01, seed=seed
    )
    return run.history.losses


curves = {f"{name} (lr = {lr})": train(lr, seed=2) for name, lr in RATES.items()}
path = viz.plot_losses(curves, options.out / "learning_rates.png", "XOR, 2-2-1", log_y=True)
print(f"wrote {path}")

print(f"{len(seeds)} seeds, at most {epochs} epochs, stop at J < 0.01")
print(f"{'rate':<24}{'converged':>10}{'median epochs':>15}{'final J':>9}{'loss rises':>12}")
for name, lr in RATES.items():
    runs = [train(lr, seed) for seed in seeds]
    converged = [len(losses) for losses in runs if losses[-1] < 0.01]
    median = f"{np.median(converged):.0f}" if converged else "-"
    final = np.median([losses[-1] for losses in runs])
    rises = np.mean([np.mean(np.diff(losses) > 0) for losses in runs])
    label = f"{name} (lr = {lr})"
    print(f"{label:<24}{len(converged):>6}/{len(runs):<3}{median:>15}{final:>9.3f}{rises:>12.1%}")
