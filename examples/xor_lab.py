"""The XOR lab: where 2-h-1 networks trained on XOR end, for h = 2, 3 and 4.

Tutorial claim checked: a hidden layer brings local minima where gradient descent
gets stuck, and more hidden units make them less likely. The lab trains many
networks per width at once by full-batch gradient descent (the recipe is printed)
and classifies each run: solved, in a valley at infinity (J within 1e-3 of 1/4 or
1/3 while the weights still grow), at a local minimum (only if one is shown: a
stationary point with bounded weights, a positive semi-definite Hessian and no
lower point found nearby), or other. Then it searches the 2-3-1 network for the
local minimum reported in the literature: gradient descent from larger starting
weights, and a direct search for zeros of the gradient.
"""

from collections import Counter

from common import example_options

from tinygrad_bp.landscape.xor_lab import stationary_survey, xor_lab
from tinygrad_bp.viz.landscape import plot_xor_lab

options = example_options(__doc__.splitlines()[0])
seeds, steps = (50, 5_000) if options.fast else (1000, 50_000)

lab = xor_lab(hidden=(2, 3, 4), seeds=seeds, steps=steps, lr=0.5, init=1.0)
print(lab.recipe)
print(lab.table())
path = plot_xor_lab(lab, options.out / "xor_lab.png")
print(f"wrote {path}")

# The 2-3-1 network from starts 10 times larger: saturated units, plateaus, more valleys.
wide = xor_lab(hidden=(3,), seeds=seeds, steps=steps // 2, lr=0.5, init=10.0, seed=1)
print(wide.recipe)
print(wide.table())
runs = wide.runs[3]
found = runs.count("local minimum")
print(
    f"2-3-1 from U(-10, 10): {found} run(s) at a shown local minimum; "
    f"{int((runs.grad_norm < 1e-6).sum())} run(s) with |grad J| < 1e-6"
)
path = plot_xor_lab(wide, options.out / "xor_lab_wide.png")
print(f"wrote {path}")

# Stationary points of the 2-3-1 surface: a zero of the gradient searched from random starts.
starts = 5 if options.fast else 100
points = stationary_survey(3, starts=starts, init=4.0, seed=7)
print(f"2-3-1: from {starts} starts U(-4, 4), {len(points)} stationary points with J > 0.01:")
kinds = Counter((round(point.loss, 3), point.verdict) for point in points)
for (loss, kind), count in sorted(kinds.items()):
    norms = [p.weight_norm for p in points if round(p.loss, 3) == loss and p.verdict == kind]
    print(
        f"  J = {loss:<6} {kind:17} {count:3}   |theta| from {min(norms):.1f} to {max(norms):.1f}"
    )
minima = sum(point.verdict == "local minimum" for point in points)
print(f"shown local minima of the 2-3-1 net: {minima}")
