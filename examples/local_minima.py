"""More hidden units, fewer runs stuck in a local minimum.

Tutorial claim: with a hidden layer the error surface can hold local minima where
gradient descent gets stuck, and "the more hidden units you have in a network, the
less likely you are to encounter a local minimum". The script trains a 2-h-1
sigmoid network on XOR from many random initial weights (full-batch gradient
descent on J = 1/2 sum (y - o)^2, lr 2, until J < 0.01 or the epoch budget runs
out), for h = 2, 3, 4 and 8, and prints how often all four outputs end on the
right side of 0.5. It plots those success rates, and every run's final J beside
them, so the stuck 2-2-1 runs show as the red crosses far above epsilon.
"""

from collections.abc import Sequence

from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.losses import half_sse
from tinygrad_bp.train import train_on_dataset

options = example_options(__doc__.splitlines()[0])
seeds = range(30 if options.fast else 100)
epochs = 1500 if options.fast else 5000
EPSILON = 0.01

print(f"XOR, {len(seeds)} seeds, at most {epochs} epochs each")
print("hidden units   solved   success rate")
final_losses: dict[int, Sequence[float]] = {}
solved: dict[int, Sequence[bool]] = {}
for hidden in (2, 3, 4, 8):
    runs = [
        train_on_dataset(
            "xor",
            [hidden],
            "sigmoid",
            "sgd",
            2.0,
            epochs,
            loss=half_sse,
            epsilon=EPSILON,
            seed=seed,
        )
        for seed in seeds
    ]
    final_losses[hidden] = [run.history.losses[-1] for run in runs]
    solved[hidden] = [run.accuracy == 1.0 for run in runs]
    count = sum(solved[hidden])
    print(f"{hidden:>12}   {count:>3}/{len(seeds):<3}  {count / len(seeds):>8.0%}")
path = viz.plot_success_rates(
    final_losses,
    solved,
    options.out / "local_minima.png",
    f"XOR truth table, 2-h-1 sigmoid nets from {len(seeds)} random starts each "
    f"(full-batch GD, lr 2, at most {epochs} epochs):\n"
    "more hidden units, fewer runs stuck in a local minimum",
    xlabel="hidden units h",
    epsilon=EPSILON,
    ylabel=r"final $J = \frac{1}{2}\sum\,(y - o)^2$",
)
print(f"wrote {path}")
