"""Curvature: second derivatives behind Newton's step, the XOR saddle and the 2/lambda rule.

Three claims, each computed with ``tinygrad_bp.grad`` of a gradient (``hessian``):

1. Newton's method x <- x - f'(x) / f''(x) on f(x) = x^4 - 2x^2 from x = 2 reaches
   the minimum at 1 in seven steps, the number of correct digits doubling.
2. The tutorial's XOR network (2-2-1, sigmoid, J = 1/2 sum (y - o)^2 over the four
   patterns) started at all-zero weights sits where the gradient is exactly 0 and
   J = 1/2. The Hessian there has eigenvalues 3/8 and eight zeros: second order
   cannot tell a minimum from a saddle. Minimising J over small spheres around the
   start finds J below 1/2, by an amount that shrinks like r^4: a saddle, left
   downhill only at fourth order, which is why training from zeros stalls.
3. Gradient descent on the tutorial's bowl (one linear neuron fitting y = 2x - 1
   at 21 points) multiplies the error along the Hessian's top eigenvector by
   (1 - alpha lambda_max) each step: it diverges exactly when alpha > 2 / lambda_max.

The script prints every number it claims and plots all three in out/curvature.png.
"""

import numpy as np
from common import example_options

import tinygrad_bp as tbp
from tinygrad_bp import Tensor, losses, nn
from tinygrad_bp.viz.plots import INSTALL_MATPLOTLIB

options = example_options(__doc__.splitlines()[0])


# -- 1. Newton's method ----------------------------------------------------------------------


def quartic(x):
    return x**4 - 2 * x**2


x = Tensor(2.0, requires_grad=True)
newton = [x.item()]
print("1. Newton's method on f(x) = x^4 - 2x^2 from x = 2  (f' = 4x^3 - 4x, f'' = 12x^2 - 4)")
print("step".rjust(4), " ", "x".ljust(20), "f(x)".rjust(11), "f'(x)".rjust(15), "f''(x)".rjust(13))
for step in range(7):
    (slope,) = tbp.grad(quartic(x), x, create_graph=True)  # f'(x), a node of x
    (curvature,) = tbp.grad(slope, x)  # f''(x): the slope of the slope
    print(
        f"{step:>4}  {x.item()!r:<20}{quartic(x).item():>12.3e}{slope.item():>16.6e}"
        f"{curvature.item():>14.6f}"
    )
    x = Tensor(x.data - slope.data / curvature.data, requires_grad=True)
    newton.append(x.item())
print(f"{7:>4}  {x.item()!r:<20}   the minimum: f'(1) = 0, f''(1) = 8 > 0")
errors = [abs(value - 1.0) for value in newton]
print("errors |x - 1|:", ", ".join(f"{e:.1e}" for e in errors))


# -- 2. The XOR saddle ------------------------------------------------------------------------

X = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([[0.0], [1.0], [1.0], [0.0]])
net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
params = net.parameters()  # hidden W (2, 2), hidden b (2,), output W (2, 1), output b (1,)
n_weights = sum(p.size for p in params)


def J(*_):
    return losses.half_sse(net(X), y)


def set_weights(flat):
    start = 0
    for p in params:
        p.data[...] = flat[start : start + p.size].reshape(p.shape)
        start += p.size


def J_and_gradient(flat):
    set_weights(flat)
    loss = J()
    gradient = np.concatenate([g.data.ravel() for g in tbp.grad(loss, params)])
    return loss.item(), gradient


set_weights(np.zeros(n_weights))
loss = J()
gradient = np.concatenate([g.data.ravel() for g in tbp.grad(loss, params)])
H = tbp.hessian(J, params)
eigenvalues = np.linalg.eigvalsh(H)
print(f"\n2. XOR 2-2-1 sigmoid network at all-zero weights ({n_weights} weights)")
print(f"J = {loss.item()!r}; largest |dJ/dw| = {float(np.abs(gradient).max())!r}")
print("Hessian eigenvalues:", ", ".join(f"{e:.3g}" for e in eigenvalues))
zeros = int(np.sum(np.abs(eigenvalues) < 1e-12))
print(
    f"{zeros} zero eigenvalues and {float(eigenvalues[-1])!r} = 3/8: only the output unit's "
    "weights curve J; second order cannot decide"
)


def lowest_on_sphere(direction, radius, iterations):
    """min J - 1/2 over |w| = radius, by gradient steps along the sphere, from ``direction``."""
    w = direction * radius / np.linalg.norm(direction)
    value, g = J_and_gradient(w)
    step = 0.1 * radius
    for _ in range(iterations):
        along = g - (g @ w) / radius**2 * w  # the gradient's part tangent to the sphere
        norm = np.linalg.norm(along)
        if norm == 0 or step < 1e-13 * radius:
            break
        trial = w - step * along / norm
        trial *= radius / np.linalg.norm(trial)
        trial_value, trial_g = J_and_gradient(trial)
        if trial_value < value:
            w, value, g, step = trial, trial_value, trial_g, step * 1.2
        else:
            step *= 0.5
    return w, value - 0.5


rng = np.random.default_rng(0)
starts = 3 if options.fast else 10
iterations = 300 if options.fast else 3000
radii = [0.8, 0.4, 0.2] if options.fast else [0.8, 0.4, 0.2, 0.1, 0.05]
best, best_drop = None, np.inf
for _ in range(starts):
    w, drop = lowest_on_sphere(rng.standard_normal(n_weights), radii[0], iterations)
    if drop < best_drop:
        best, best_drop = w, drop
drops = []
print("lowest J - 1/2 on the sphere |w| = r (each radius starts from the last one's best)")
print(f"{'r':>6}{'J - 1/2':>14}{'(J - 1/2) / r^4':>18}")
for radius in radii:
    best, drop = lowest_on_sphere(best, radius, iterations)
    drops.append(drop)
    print(f"{radius:>6}{drop:>14.4e}{drop / radius**4:>18.4e}")
print("J falls below 1/2 arbitrarily close to the start, like -c r^4: a saddle, not a minimum")
set_weights(np.zeros(n_weights))


# -- 3. The learning rate and lambda_max ------------------------------------------------------

xs = np.linspace(-3.0, 3.0, 21)
targets = 2.0 * xs - 1.0


def bowl(w):
    """J(w) = 1/2 sum (y - w_0 - w_1 x)^2, the tutorial's one-neuron bowl."""
    return losses.half_sse(w[0] + w[1] * Tensor(xs), targets)


H_bowl = tbp.hessian(bowl, Tensor([0.0, 0.0], requires_grad=True))
lambda_max = float(np.linalg.eigvalsh(H_bowl)[-1])
limit = 2.0 / lambda_max
print("\n3. Gradient descent on the bowl J = 1/2 sum (y - w0 - w1 x)^2, y = 2x - 1, 21 points")
print(f"Hessian = {(np.round(H_bowl, 12) + 0.0).tolist()}; lambda_max = {lambda_max!r} (= sum x^2)")
print(f"2 / lambda_max = {limit:.6f}")
epochs = 150 if options.fast else 400
runs = {}
for factor in (0.98, 1.02):
    alpha = factor * limit
    w = Tensor([0.0, 0.0], requires_grad=True)
    slopes = [0.0]
    for _ in range(epochs):
        (g,) = tbp.grad(bowl(w), w)
        w = Tensor(w.data - alpha * g.data, requires_grad=True)
        slopes.append(w.data[1])
    runs[factor] = np.abs(np.array(slopes) - 2.0)
    ratio = runs[factor][-1] / runs[factor][-2]
    verdict = "converges" if ratio < 1 else "diverges"
    print(
        f"alpha = {factor} x 2/lambda_max = {alpha:.6f}: |w1 - 2| after {epochs} steps "
        f"{runs[factor][-1]:.3e}, times {ratio:.6f} per step "
        f"(1 - alpha lambda_max = {1 - alpha * lambda_max:.6f}): {verdict}"
    )


# -- the picture ---------------------------------------------------------------------------------

try:
    from matplotlib.figure import Figure
except ImportError:
    raise SystemExit(f"the picture needs matplotlib: {INSTALL_MATPLOTLIB}") from None

figure = Figure(figsize=(15.0, 4.8), layout="constrained")
newton_axes, saddle_axes, rate_axes = figure.subplots(1, 3)
grid = np.linspace(-1.6, 2.1, 300)
newton_axes.plot(grid, grid**4 - 2 * grid**2, color="black", lw=1)
iterates = np.array(newton)
newton_axes.plot(iterates, iterates**4 - 2 * iterates**2, "o-", color="tab:red", ms=5)
for step, value in enumerate(newton[:3]):
    newton_axes.annotate(
        f"x{step} = {value:.4f}",
        (value, value**4 - 2 * value**2),
        textcoords="offset points",
        xytext=(8, -4),
        fontsize=8,
    )
newton_axes.annotate(
    "x3 ... x7 -> 1",
    (1.0, -1.0),
    textcoords="offset points",
    xytext=(-75, 8),
    fontsize=8,
)
newton_axes.set(
    xlabel="x",
    ylabel="f(x) = x^4 - 2x^2",
    ylim=(-1.5, 9),
    title="Newton: x <- x - f'(x) / f''(x), from x = 2",
)

r = np.array(radii)
saddle_axes.loglog(r, -np.array(drops), "o", color="tab:red", label="lowest 1/2 - J on |w| = r")
scale = -drops[-1] / radii[-1] ** 4
saddle_axes.loglog(r, scale * r**4, "--", color="black", lw=1, label="c r^4")
saddle_axes.loglog(r, scale * radii[-1] * r**3, ":", color="gray", lw=1, label="c' r^3 (for scale)")
saddle_axes.set(
    xlabel="radius r of the sphere around w = 0",
    ylabel="1/2 - min J",
    title="XOR from zero weights: a saddle\n(gradient 0, Hessian eigenvalues 3/8 and 8 x 0)",
)
saddle_axes.set_xticks(radii, [f"{radius:g}" for radius in radii])
saddle_axes.minorticks_off()
saddle_axes.legend(fontsize=8)

for factor, errors_w1 in runs.items():
    rate_axes.semilogy(errors_w1, label=f"alpha = {factor} x 2/lambda_max")
rate_axes.set(
    xlabel="step",
    ylabel="|w1 - 2|",
    title=f"Gradient descent on the bowl (lambda_max = {lambda_max:g}):\n"
    f"stable only for alpha < 2/lambda_max = {limit:.4f}",
)
rate_axes.legend(fontsize=8)
for axes in (newton_axes, saddle_axes, rate_axes):
    axes.grid(alpha=0.3)
figure.suptitle("Curvature: second derivatives by grad of grad (tinygrad_bp.hessian)")
path = options.out / "curvature.png"
figure.savefig(path, dpi=110)
print(f"\nwrote {path}")
