"""The XOR error surface, sliced: a solved run, a run in a valley at infinity, a saddle.

Tutorial claims checked here: a hidden layer brings "local minima" where gradient
descent gets stuck, and a network without one has a bowl-shaped surface. The
script trains 2-2-1 sigmoid networks on XOR by full-batch gradient descent (the
lab's recipe: weights U(-1, 1), alpha = 0.5), with the library's own tensor network
and SGD, recording the weights, and draws slices of J = 1/2 sum (y - o)^2 around
where they end, along the first two principal components of the path:

- a run that solves XOR: the path runs down into a basin (contours and 3-D);
- a run that does not: J creeps towards 1/4 while the weights grow without bound;
  its gradient falls like 1/t and its weight norm grows like log t, so it is in a
  valley that descends towards infinity, not in a local minimum;
- the origin, where every weight is 0: gradient 0, J = 1/2, Hessian positive
  semi-definite, and yet a saddle: points nearby have lower J;
- one sigmoid unit (no hidden layer) on AND: not a bowl; J has no floor at finite weights.
"""

import numpy as np
from common import example_options

from tinygrad_bp import data
from tinygrad_bp.landscape import dataset_loss, descent_path, surface
from tinygrad_bp.landscape.flat import flat_weights
from tinygrad_bp.landscape.xor_lab import classify, descend, hessian, loss_and_grad, lowest_nearby
from tinygrad_bp.nn import MLP, set_weights, tensor_mlp
from tinygrad_bp.viz.landscape import plot_surface_3d, plot_surface_contour, plot_valley_growth

options = example_options(__doc__.splitlines()[0])
STEPS = 5_000 if options.fast else 50_000
GRID = 25 if options.fast else 51
LR = 0.5
X, Y = data.xor()
J = dataset_loss(X, Y)
LAYOUT, _ = flat_weights(MLP(2, [2, 1]))


def train(theta, steps):
    """Full-batch gradient descent with the library's tensor network and SGD; the path."""
    net = tensor_mlp([2, 2, 1], rng=0)
    set_weights(net, LAYOUT.matrices(theta))
    return net, descent_path(net, J, LR, steps)


# 1. Many runs by the lab's batched closed form; one that solves and one that does not.
starts = np.random.default_rng(0).uniform(-1.0, 1.0, (40, 9))
ends, halfway = descend(starts, 2, LR, STEPS)
runs = classify(ends, 2, halfway, threshold=0.01)
solved = int(np.flatnonzero(runs.loss < 0.01)[0])
stuck = int(np.argmin(np.abs(runs.loss - 0.25)))
print(f"XOR, 2-2-1 sigmoid net, U(-1, 1) init, full-batch GD, alpha = {LR}, {STEPS:,} steps")
for name, index in (("solved", solved), ("stuck", stuck)):
    net, path = train(starts[index], STEPS)
    _, theta = flat_weights(net)
    print(
        f"{name} run (start {index}): J = {J(net).item():.6f}, |theta| = "
        f"{np.linalg.norm(theta):.3f}; library SGD and the lab's closed form end "
        f"{np.max(np.abs(theta - ends[index])):.1e} apart"
    )
    outputs = net(X).data[:, 0]
    print(f"  outputs on (0,0), (0,1), (1,0), (1,1): {np.array2string(outputs, precision=4)}")
    slice_ = surface(net, J, "pca", steps=GRID, path=path)
    print(slice_)
    title = (
        "XOR 2-2-1, a run that solves it: down into a basin\n"
        "J = 1/2 sum (y - o)^2 on the plane of its path (PCA)"
        if name == "solved"
        else "XOR 2-2-1, a run that does not: along a valley, J -> 1/4\n"
        "J = 1/2 sum (y - o)^2 on the plane of its path (PCA)"
    )
    plot_surface_contour(slice_, options.out / f"error_surface_{name}.png", title)
    if name == "solved":
        plot_surface_3d(
            slice_,
            options.out / "error_surface_solved_3d.png",
            "XOR 2-2-1: the basin a solved run descends into",
        )

# 2. The stuck run, followed far: J -> 1/4, |grad| ~ 1/t, |theta| ~ log t.
checkpoints = np.unique(np.geomspace(100, 20 * STEPS, 25).astype(int))
theta, done, history = starts[stuck : stuck + 1], 0, []
for t in checkpoints:
    theta, _ = descend(theta, 2, LR, int(t - done))
    done = int(t)
    loss, grad = loss_and_grad(theta, 2)
    history.append((done, loss[0], np.linalg.norm(grad), np.linalg.norm(theta)))
steps_seen, losses, grads, norms = map(np.array, zip(*history))
late = slice(len(steps_seen) // 2, None)
grad_slope = np.polyfit(np.log(steps_seen[late]), np.log(grads[late]), 1)[0]
norm_slope = np.polyfit(np.log(steps_seen[late]), norms[late], 1)[0]
print(
    f"stuck run to step {done:,}: J - 1/4 = {losses[-1] - 0.25:.2e}, |grad J| ~ t^"
    f"{grad_slope:.2f}, |theta| grows by {norm_slope:.2f} per e-fold of t "
    f"(from {norms[0]:.2f} to {norms[-1]:.2f})"
)
plot_valley_growth(
    steps_seen,
    losses,
    grads,
    norms,
    options.out / "error_surface_valley_growth.png",
    "XOR 2-2-1, the stuck run followed: a valley at infinity, not a local minimum",
)

# 3. The origin: a stationary point with a positive semi-definite Hessian that is a saddle.
origin = np.zeros(9)
loss, grad = loss_and_grad(origin[None], 2)
eigenvalues = np.linalg.eigvalsh(hessian(origin, 2))
print(
    f"origin: J = {loss[0]}, |grad J| = {np.linalg.norm(grad)}, Hessian eigenvalues "
    f"{np.array2string(eigenvalues, precision=4, suppress_small=True)}"
)
for radius in (1.0, 0.5, 0.25, 0.1):
    lowest, where = lowest_nearby(origin, 2, radius, iterations=500 if options.fast else 2000)
    print(f"  lowest J found at distance {radius}: 1/2 - {0.5 - lowest:.3e}")
_, top = np.linalg.eigh(hessian(origin, 2))
net = MLP(2, [2, 1])
set_weights(net, LAYOUT.matrices(origin))
down = where / np.linalg.norm(where)
up = top[:, -1] - (top[:, -1] @ down) * down
saddle = surface(net, J, (down, up / np.linalg.norm(up)), steps=GRID, span=(1.0, 0.03))
plot_surface_contour(
    saddle,
    options.out / "error_surface_saddle.png",
    "XOR 2-2-1 at the origin: gradient 0, Hessian >= 0, still a saddle\n"
    "blue: lower J than at the origin, red: higher",
    relative=True,
    labels=("towards the lowest point found at distance 0.1", "Hessian eigenvector of 3/8"),
)

# 4. One sigmoid unit on AND, no hidden layer, trained the same way: no bowl to sit in.
X_and, y_and = data.load("and")
unit = tensor_mlp([2, 1], rng=0)
set_weights(unit, [np.array([[0.5], [-0.5], [0.5]])])
J_and = dataset_loss(X_and, y_and)
path = descent_path(unit, J_and, LR, STEPS, snapshots=100)
bowl = surface(unit, J_and, "pca", steps=GRID, path=path)
print(
    f"one sigmoid unit on AND after {STEPS:,} steps: J = {bowl.center_loss:.2e}, "
    f"lowest on the slice {bowl.loss.min():.2e} (at its edge: J keeps falling as |w| grows)"
)
plot_surface_contour(
    bowl,
    options.out / "error_surface_no_hidden.png",
    "One sigmoid unit on AND, no hidden layer: not a bowl,\n"
    "J falls towards 0 only as the weights grow",
)
