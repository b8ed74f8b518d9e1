"""No hidden layer draws a line; hidden layers bend it into any shape.

Tutorial claim: "A single perceptron gets one linear function, 1 hidden layer is
non linear and 2 or more can find arbitrary boundaries." The script trains tanh
networks with 0, 1 and 2 hidden layers of 16 units (sigmoid output, binary
cross-entropy, Adam) on two interleaved spirals, prints each training accuracy
and plots each decision boundary.
"""

from common import example_options

from tinygrad_bp import viz
from tinygrad_bp.train import train_on_dataset

options = example_options(__doc__.splitlines()[0])
epochs = 200 if options.fast else 2000
for layers, hidden in enumerate(([], [16], [16, 16])):
    run = train_on_dataset("spirals", hidden, "tanh", "adam", 0.05, epochs, seed=0)
    print(f"{layers} hidden layer(s) {hidden}: training accuracy {run.accuracy:.1%}")
    shape = f"{layers} hidden layer(s) of 16 tanh units" if hidden else "no hidden layer"
    title = f"Two spirals, {shape}:\ntraining accuracy {run.accuracy:.0%}"
    path = options.out / f"boundary_{layers}_hidden.png"
    print(f"wrote {viz.plot_decision_boundary(run.predict, run.X, run.y, path, title)}")
