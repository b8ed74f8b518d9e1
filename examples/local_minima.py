"""More hidden units, fewer runs stuck in a local minimum.

Tutorial claim: with a hidden layer the error surface can hold local minima where
gradient descent gets stuck, and "the more hidden units you have in a network, the
less likely you are to encounter a local minimum". The script trains a 2-h-1
sigmoid network on XOR from many random initial weights (full-batch gradient
descent on J = 1/2 sum (y - o)^2, lr 2, until J < 0.01 or the epoch budget runs
out), for h = 2, 3, 4 and 8, and prints how often all four outputs end on the
right side of 0.5. It plots the loss curves of the 2-2-1 runs.
"""

from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.losses import half_sse
from tinygrad_bp.train import train_on_dataset

options = example_options(__doc__.splitlines()[0])
seeds = range(10 if options.fast else 100)
epochs = 1000 if options.fast else 5000

print(f"XOR, {len(seeds)} seeds, at most {epochs} epochs each")
print("hidden units   solved   success rate")
curves = {}
for hidden in (2, 3, 4, 8):
    solved = 0
    for seed in seeds:
        run = train_on_dataset(
            "xor", [hidden], "sigmoid", "sgd", 2.0, epochs, loss=half_sse, epsilon=0.01, seed=seed
        )
        solved += run.accuracy == 1.0
        if hidden == 2 and seed < 10:
            curves[f"seed {seed}"] = run.history.losses
    print(f"{hidden:>12}   {solved:>3}/{len(seeds):<3}  {solved / len(seeds):>8.0%}")
path = viz.plot_losses(curves, options.out / "local_minima.png", "XOR, 2-2-1: J per epoch", True)
print(f"wrote {path}")
