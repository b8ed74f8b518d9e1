"""XOR from three hand-wired sigmoid units: OR and NAND feed an AND.

Tutorial claim: the perceptron cannot compute XOR, but a network can, by combining
elementary functions: first OR, then NAND, then AND of the two. Each unit here is a
sigmoid with weights large enough to act like a step; the script prints the truth
table of each unit on its own, then of the whole network, and draws the network.
"""

import numpy as np
from common import example_options

from tinygrad_bp import data, delta, viz
from tinygrad_bp.explain import HAND_BUILT_XOR

options = example_options(__doc__.splitlines()[0])
hidden_weights, output_weights = HAND_BUILT_XOR
gates = {
    "OR": [hidden_weights[:, [0]]],  # the first hidden unit alone
    "NAND": [hidden_weights[:, [1]]],  # the second hidden unit alone
    "AND": [output_weights],  # the output unit fed the inputs directly
    "XOR": list(HAND_BUILT_XOR),  # the whole network
}
truth = data.gates()
all_correct = True
for name, weights in gates.items():
    X, targets = truth[name]
    print(f"{name}:   x1 x2 -> output (target)")
    for x, target in zip(X, targets):
        output = delta.forward(weights, x)[-1][0]
        all_correct &= bool(np.round(output) == target)
        print(f"        {x[0]:.0f}  {x[1]:.0f} -> {output:.4f} ({target:.0f})")
print("hand-built XOR correct" if all_correct else "hand-built XOR WRONG")
path = viz.plot_network(
    HAND_BUILT_XOR,
    options.out / "xor_by_hand.png",
    "XOR truth table by hand: XOR(x1, x2) = AND(OR, NAND)",
    unit_names=[None, ["OR", "NAND"], ["AND"]],
)
print(f"wrote {path}")
