"""The derivation's worked example, every number of it, by autograd and by the delta rules.

Tutorial claim: one online step of the 2-2-1 sigmoid network (x = (1, 0), y = 1,
alpha = 0.5) gives h1 = .777, h2 = .759, output .824, J = .0155, delta_output =
.0255, and new weights such as w_0,output = 1.01275. The script prints the whole
table (the closed form and reverse-mode autograd agree to rounding), the
tutorial's figures next to the exact ones, and draws the network before and
after the step.
"""

from common import example_options

from tinygrad_bp import delta, explain, viz

options = example_options(__doc__.splitlines()[0])
table = explain.worked_example()
print(table)
print("autograd and delta rules agree on every row" if table.ok else "DISAGREEMENT")

tutorial_figures = {
    "o[1][1]": 0.777,
    "o[1][2]": 0.759,
    "o[2][1]": 0.824,
    "J": 0.0155,
    "delta[2][1]": 0.0255,
    "new w[2][0,1]": 1.01275,
}
print("\nquantity        tutorial   exact")
for name, figure in tutorial_figures.items():
    print(f"{name:<15} {figure:<10} {table[name].closed_form:.5f}")

new_weights = delta.sgd_step(
    list(explain.WORKED_WEIGHTS), explain.WORKED_INPUT, explain.WORKED_TARGET, explain.WORKED_LR
)
for name, weights in (("before", explain.WORKED_WEIGHTS), ("after", new_weights)):
    title = f"The worked example (x = (1, 0), y = 1, lr 0.5): weights {name} one online step"
    path = viz.plot_network(weights, options.out / f"worked_example_{name}.png", title)
    print(f"wrote {path}")
