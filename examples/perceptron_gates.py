"""The perceptron learns AND, OR and NOT, and never learns XOR.

Tutorial claim: the perceptron "can represent Boolean functions such as AND, OR,
NOT, but not the XOR function"; on data that is not linearly separable "it will
unfortunately not converge". This script trains a fresh perceptron (step
activation, perceptron learning rule, zero initial weights) on each gate, prints
whether it reached an epoch without mistakes, and plots the mistakes per epoch.
"""

from collections.abc import Sequence

from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.perceptron import perceptron_on_gates

options = example_options(__doc__.splitlines()[0])
max_epochs = 20 if options.fast else 100
results = perceptron_on_gates(max_epochs)
for name, result in results.items():
    if result.converged:
        print(f"{name:<4} converged after {result.epochs} epochs")
    else:
        print(
            f"{name:<4} not converged: still {result.errors[-1]} mistakes after {max_epochs} epochs"
        )
errors: dict[str, Sequence[int]] = {name: result.errors for name, result in results.items()}
path = viz.plot_mistakes(
    errors,
    options.out / "perceptron_gates.png",
    "Perceptron on the AND, OR, NOT and XOR truth tables:\n"
    "AND, OR and NOT reach 0 mistakes, XOR never does",
)
print(f"wrote {path}")
