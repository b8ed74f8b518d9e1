"""A 2-2-1 sigmoid network learns XOR by backpropagation.

Tutorial claim: trained with the backpropagation algorithm (online updates
w_ij <- w_ij + alpha delta_j x_i on J = 1/2 sum (y - o)^2, until J < epsilon),
the network with two hidden units learns the XOR function the perceptron could
not. The script trains the scalar network exactly that way, prints the loss as it
falls and the four outputs, and plots the loss, the decision boundary and the
learnt weights.
"""

from common import example_options

from tinygrad_bp import Value, data, no_grad, viz
from tinygrad_bp.nn import MLP, get_weights, sigmoid_network
from tinygrad_bp.train import fit

options = example_options(__doc__.splitlines()[0])
X, y = data.xor()
net = MLP(2, [2, 1], rng=1)


history = fit(net, X, y, lr=2.0, epochs=5000, epsilon=0.01, log_every=100, progress=False)
print(f"{'converged' if history.converged else 'not converged'} after {history.epochs} epochs")
correct = 0
for x, target in zip(X, y):
    unit = net(x.tolist())
    assert isinstance(unit, Value)  # an output layer of one unit gives one Value
    output = unit.data
    correct += round(output) == target
    print(f"XOR({x[0]:.0f}, {x[1]:.0f}) = {output:.3f}   (target {target:.0f})")
print(f"{correct}/4 XOR outputs correct")

weights = get_weights(net)
network = sigmoid_network(weights)  # a tensor copy of the net, to shade the plane quickly
with no_grad():
    boundary = viz.plot_decision_boundary(
        lambda points: network(points).data,
        X,
        y,
        options.out / "xor_boundary.png",
        f"XOR truth table: the learnt 2-2-1 net puts\nall {correct} points on their side of 0.5",
    )
stop = f"J < 0.01 at epoch {history.epochs}" if history.converged else "J never fell below 0.01"
paths = [
    viz.plot_losses(
        {"J (online SGD, lr 2)": history.losses},
        options.out / "xor_loss.png",
        f"XOR truth table, 2-2-1 sigmoid net: {stop}",
        ylabel=r"$J = \frac{1}{2}\sum\,(y - o)^2$ over the epoch",
    ),
    boundary,
    viz.plot_network(weights, options.out / "xor_network.png", "XOR truth table: learnt weights"),
]
for path in paths:
    print(f"wrote {path}")
