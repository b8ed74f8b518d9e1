"""A tensor MLP reads handwritten digits (scikit-learn's bundled 8x8 images).

Beyond the tutorial's toy problems: the same backpropagation, on the tensor
engine, trains a 64-64-10 ReLU network with cross-entropy and Adam on 1,437
images and is tested on the 360 it never saw. Needs scikit-learn (the data ships
with it; nothing is downloaded). Prints the test accuracy and plots the loss.
"""

import sys

import numpy as np
from common import example_options

from tinygrad_bp import no_grad, viz
from tinygrad_bp.losses import cross_entropy
from tinygrad_bp.nn import tensor_mlp
from tinygrad_bp.optim import Adam
from tinygrad_bp.train import fit

options = example_options(__doc__.splitlines()[0])
try:
    from sklearn.datasets import load_digits  # type: ignore[import-untyped]
except ImportError:
    sys.exit("digits.py needs scikit-learn for its bundled digits: pip install scikit-learn")

digits = load_digits()
X, labels = digits.data / 16.0, digits.target  # labels: the digit 0..9 of each image
order = np.random.default_rng(0).permutation(len(X))
train, test = order[:1437], order[1437:]

net = tensor_mlp([64, 64, 10], "relu", output_activation="linear", rng=0)  # 10 logits
epochs = 3 if options.fast else 20
history = fit(
    net,
    X[train],
    labels[train],
    loss=cross_entropy,
    optimizer=Adam(net.parameters(), 0.01),
    epochs=epochs,
    batch_size=32,
    shuffle=True,
    rng=0,
    progress=False,
)
with no_grad():
    predicted = net(X[test]).data.argmax(axis=1)
print(f"{epochs} epochs; last epoch's loss, the mean over its examples: {history.losses[-1]:.3f}")
print(f"test accuracy {np.mean(predicted == labels[test]):.1%} on {len(test)} unseen digits")
path = viz.plot_losses(
    {"training loss": history.losses},
    options.out / "digits_loss.png",
    f"Digits (scikit-learn, 8x8), 64-64-10 ReLU net, Adam:\n"
    f"training loss; test accuracy {np.mean(predicted == labels[test]):.1%}",
    ylabel="cross-entropy, mean over the epoch's examples",
)
print(f"wrote {path}")
