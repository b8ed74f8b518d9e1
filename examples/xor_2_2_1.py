"""A 2-2-1 sigmoid network learns XOR by backpropagation.

Tutorial claim: trained with the backpropagation algorithm (online updates
w_ij <- w_ij + alpha delta_j x_i on J = 1/2 sum (y - o)^2, until J < epsilon),
the network with two hidden units learns the XOR function the perceptron could
not. The script trains the scalar network exactly that way (``tinygrad_bp.xor``,
the flow the ``xor`` subcommand runs too), prints the loss as it falls and the
four outputs, and plots the loss, the decision boundary and the learnt weights.
"""

from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.nn import MLP
from tinygrad_bp.xor import train_xor, xor_pictures

options = example_options(__doc__.splitlines()[0])
run = train_xor(
    MLP(2, [2, 1], rng=1), lr=2.0, epochs=5000, epsilon=0.01, log_every=100, progress=False
)
history = run.history
print(f"{'converged' if history.converged else 'not converged'} after {history.epochs} epochs")
for x, target, output in zip(run.X, run.y, run.outputs):
    print(f"XOR({x[0]:.0f}, {x[1]:.0f}) = {output:.3f}   (target {target:.0f})")
print(f"{run.correct}/4 XOR outputs correct")

boundary, network = xor_pictures(
    run,
    options.out,
    f"XOR truth table: the learnt 2-2-1 net puts\nall {run.correct} points on their side of 0.5",
    "XOR truth table: learnt weights",
)
stop = f"J < 0.01 at epoch {history.epochs}" if history.converged else "J never fell below 0.01"
loss = viz.plot_losses(
    {"J (online SGD, lr 2)": history.losses},
    options.out / "xor_loss.png",
    f"XOR truth table, 2-2-1 sigmoid net: {stop}",
    ylabel=r"$J = \frac{1}{2}\sum\,(y - o)^2$ over the epoch",
)
for path in (loss, boundary, network):
    print(f"wrote {path}")
