"""One hidden layer of sigmoid units approximates a continuous function.

Tutorial claim: a neural network "is able to model any continuous non-linear
function". The script fits y = (1 + sin x) / 2 on [-pi, pi] with one hidden layer
of 8 sigmoid units (mean squared error, Adam), prints the largest error on a fine
grid, and plots the samples with the fitted curve.
"""

import numpy as np
from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.train import train_on_dataset

options = example_options(__doc__.splitlines()[0])
epochs = 300 if options.fast else 3000
run = train_on_dataset("sine", [8], "sigmoid", "adam", 0.05, epochs, seed=0)
grid = np.linspace(-np.pi, np.pi, 1000)[:, None]
worst = np.max(np.abs(run.predict(grid) - (1 + np.sin(grid[:, 0])) / 2))
print(f"final training MSE {run.history.losses[-1]:.2e}; largest error on [-pi, pi] {worst:.4f}")
fit_path = options.out / "sine_fit.png"
title = f"y = (1 + sin x) / 2 on [-pi, pi]: 8 sigmoid units, largest error {worst:.3f}"
paths = [
    viz.plot_fitted_curve(run.predict, run.X, run.y, fit_path, title),
    viz.plot_losses(
        {"MSE (Adam, lr 0.05)": run.history.losses},
        options.out / "sine_loss.png",
        "y = (1 + sin x) / 2 on [-pi, pi], 8 sigmoid units:\ntraining loss",
        log_y=True,
        ylabel="mean squared error",
    ),
]
for path in paths:
    print(f"wrote {path}")
