"""Hypothesis strategies shared by the test modules."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def sigmoid_networks(draw, max_layers: int = 4, max_width: int = 6, max_batch: int = 1):
    """A fully connected sigmoid network and data for it.

    Returns (sizes, weights, X, Y): layer sizes [n_in, n_1, ..., n_out], one
    (n_in + 1, n_out) weight matrix per layer (bias row first), inputs X of
    shape (batch, n_in) and targets Y in [0, 1] of shape (batch, n_out).
    """
    n_layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=n_layers + 1, max_size=n_layers + 1))
    weights = [
        draw(hnp.arrays(np.float64, (sizes[i] + 1, sizes[i + 1]), elements=finite))
        for i in range(n_layers)
    ]
    batch = draw(st.integers(1, max_batch))
    X = draw(hnp.arrays(np.float64, (batch, sizes[0]), elements=finite))
    Y = draw(hnp.arrays(np.float64, (batch, sizes[-1]), elements=st.floats(0.0, 1.0)))
    return sizes, weights, X, Y
