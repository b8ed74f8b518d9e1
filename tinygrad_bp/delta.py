"""Backpropagation in closed form: the derivation's delta rules, in plain numpy.

This module is the oracle the autograd engines are checked against. It knows one
kind of network only: fully connected layers of sigmoid units, trained on the loss

    J = 1/2 sum_k (y_k - o_k)^2

Weights follow the derivation's convention. Layer ``l`` has a matrix ``w`` of shape
``(n_in + 1, n_out)``: ``w[i, j]`` connects unit ``i`` of the layer below to unit
``j`` of the layer above, and row 0 holds the biases (their input ``x_0`` is fixed
at 1). The net input and output of unit ``j`` are therefore

    z_j = w_0j + sum_i w_ij x_i        o_j = g(z_j) = 1 / (1 + e^(-z_j))

and the deltas are ``delta_j = -dJ/dz_j``, so that ``Delta w_ij = lr * delta_j * x_i``.
"""

import numpy as np

__all__ = ["deltas", "forward", "half_sse", "sgd_step", "sigmoid", "weight_updates"]


def real_array(data: object, name: str = "") -> np.ndarray:
    """Return ``data`` as a float64 array; TypeError unless it holds real numbers.

    The one input check of the numpy-only modules (this one, ``perceptron``, ``train``);
    ``name`` says what ``data`` is in the error message. Not copied if already float64.

    >>> real_array([1, 2]).dtype
    dtype('float64')
    >>> real_array([["a"]], "fit: X")
    Traceback (most recent call last):
    TypeError: fit: X must hold real numbers, got list of dtype <U1
    """
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        what = f"{name} must hold real numbers" if name else "expected real numbers"
        raise TypeError(f"{what}, got {type(data).__name__} of dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Apply the logistic function elementwise, without overflow for any z.

    g(z) = 1 / (1 + e^(-z)), evaluated as e^z / (1 + e^z) where z < 0 so that the
    exponential never exceeds 1.

    Args:
        z: Net inputs (any shape).

    Returns:
        g(z) as float64, with the shape of ``z``.

    Example:
        >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    z = real_array(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def half_sse(o: np.ndarray, y: np.ndarray) -> float:
    """Return the derivation's loss J = 1/2 sum_k (y_k - o_k)^2.

    Args:
        o: Network outputs.
        y: Targets, same shape as ``o``.

    Returns:
        J as a Python float.

    Example:
        >>> half_sse(np.array([0.5, 1.0]), np.array([1.0, 1.0]))
        0.125
    """
    o = real_array(o)
    y = real_array(y)
    if o.shape != y.shape:
        raise ValueError(f"o of shape {o.shape} and y of shape {y.shape} must match")
    return float(0.5 * np.sum((y - o) ** 2))


def _with_bias(x: np.ndarray) -> np.ndarray:
    """Prepend x_0 = 1, the input of the bias row."""
    return np.concatenate(([1.0], x))


def _check_layers(weights: list[np.ndarray], x: np.ndarray) -> None:
    """Raise ValueError unless x and the weight matrices chain together."""
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    n_below = x.shape[0]
    below = f"x of shape {x.shape}"
    for layer, w in enumerate(weights):
        if w.ndim != 2 or w.shape[0] != n_below + 1:
            raise ValueError(
                f"weights[{layer}] of shape {w.shape} does not fit {below}: "
                f"expected shape ({n_below + 1}, n_out), one row per input plus the bias row"
            )
        n_below = w.shape[1]
        below = f"weights[{layer}] of shape {w.shape}"


def _check_activations(weights: list[np.ndarray], activations: list[np.ndarray]) -> None:
    """Raise ValueError unless activations holds the input and each layer's outputs."""
    if len(activations) != len(weights) + 1:
        raise ValueError(
            f"expected {len(weights) + 1} activations (the input and one per layer) "
            f"for {len(weights)} weight matrices, got {len(activations)}"
        )
    _check_layers(weights, activations[0])
    for layer, (w, h) in enumerate(zip(weights, activations[1:], strict=True)):
        if h.shape != (w.shape[1],):
            raise ValueError(
                f"activations[{layer + 1}] of shape {h.shape} does not match "
                f"weights[{layer}] of shape {w.shape}: expected shape {(w.shape[1],)}"
            )


def _check_step(activations: list[np.ndarray], deltas: list[np.ndarray]) -> None:
    """Raise ValueError unless there is one more activation vector than delta vectors, all 1-D."""
    if len(activations) != len(deltas) + 1:
        raise ValueError(
            f"expected one more activation than deltas, got {len(activations)} "
            f"activations and {len(deltas)} delta vectors"
        )
    for layer, (x, delta) in enumerate(zip(activations, deltas)):
        if x.ndim != 1 or delta.ndim != 1:
            raise ValueError(
                f"layer {layer}: activations of shape {x.shape} and deltas of shape "
                f"{delta.shape} must both be 1-D"
            )


def _number(name: str, value: object) -> np.ndarray:
    """``value`` as a 0-d float64 array; TypeError unless real, ValueError unless one number."""
    number = real_array(value)
    if number.ndim != 0:
        raise ValueError(f"{name} must be a number, got an array of shape {number.shape}")
    return number


def _as_arrays(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Return the arrays as float64 numpy arrays (copies only where needed)."""
    if not isinstance(arrays, (list, tuple, np.ndarray)):
        raise TypeError(f"expected a list of arrays, got {type(arrays).__name__}")
    return [real_array(a) for a in arrays]


def forward(weights: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """Feed one example forward and return every layer's activations.

    For each layer, z_j = w_0j + sum_i w_ij x_i and o_j = g(z_j); the outputs of
    one layer are the inputs x_i of the next.

    Args:
        weights: One matrix per layer, of shape ``(n_in + 1, n_out)``, bias row first.
        x: One input example, shape ``(n_in,)``.

    Returns:
        ``[x, h_1, ..., o]``: the input, then each layer's outputs, as 1-D float64 arrays.

    Raises:
        ValueError: If ``x`` is not 1-D or a weight matrix does not fit the layer below.

    Example:
        >>> weights = [np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]),
        ...            np.array([[1.0], [0.3], [0.4]])]
        >>> x, h, o = forward(weights, np.array([1.0, 0.0]))
        >>> np.round(h, 4).tolist(), np.round(o, 4).tolist()
        ([0.7773, 0.7595], [0.823])
    """
    x = real_array(x)
    weights = _as_arrays(weights)
    _check_layers(weights, x)
    activations = [x]
    for w in weights:
        activations.append(sigmoid(w[0] + activations[-1] @ w[1:]))
    return activations


def deltas(
    weights: list[np.ndarray], activations: list[np.ndarray], y: np.ndarray
) -> list[np.ndarray]:
    """Propagate the error backwards and return each layer's deltas, delta_j = -dJ/dz_j.

    Output units:  delta_k = o_k (1 - o_k)(y_k - o_k)
    Hidden units:  delta_h = o_h (1 - o_h) sum_k w_hk delta_k

    where the sum runs over the units k of the layer above (the bias row of that
    layer's weights takes no part: the bias unit has no input from below).

    Args:
        weights: One matrix per layer, of shape ``(n_in + 1, n_out)``.
        activations: ``[x, h_1, ..., o]`` as returned by :func:`forward`.
        y: Targets, shape ``(n_out,)`` of the last layer.

    Returns:
        One delta vector per layer, in the order of ``weights``.

    Raises:
        ValueError: If ``activations`` does not fit ``weights`` or ``y`` does not
            have the shape of the output ``o``.

    Example:
        >>> weights = [np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]),
        ...            np.array([[1.0], [0.3], [0.4]])]
        >>> activations = forward(weights, np.array([1.0, 0.0]))
        >>> delta_hidden, delta_out = deltas(weights, activations, np.array([1.0]))
        >>> np.round(delta_out, 5).tolist(), np.round(delta_hidden, 5).tolist()
        ([0.02578], [0.00134, 0.00188])
    """
    weights = _as_arrays(weights)
    activations = _as_arrays(activations)
    _check_activations(weights, activations)
    o = activations[-1]
    y = real_array(y)
    if y.shape != o.shape:
        raise ValueError(f"y of shape {y.shape} does not match the output o of shape {o.shape}")
    delta = o * (1.0 - o) * (y - o)
    backwards = [delta]
    for w, h in zip(reversed(weights[1:]), reversed(activations[1:-1]), strict=True):
        delta = h * (1.0 - h) * (w[1:] @ delta)
        backwards.append(delta)
    return backwards[::-1]


def weight_updates(
    activations: list[np.ndarray], deltas: list[np.ndarray], lr: float
) -> list[np.ndarray]:
    """Return the weight changes of one gradient-descent step, Delta w_ij = lr delta_j x_i.

    Here x_i is the output of unit i of the layer below, with x_0 = 1 for the bias
    row, so the change is minus ``lr`` times dJ/dw_ij.

    Args:
        activations: ``[x, h_1, ..., o]`` as returned by :func:`forward`.
        deltas: One delta vector per layer, as returned by :func:`deltas`.
        lr: The learning rate.

    Returns:
        One matrix per layer, of shape ``(n_in + 1, n_out)`` like the weights.

    Raises:
        TypeError: If an array or ``lr`` does not hold real numbers.
        ValueError: If there is not exactly one more activation than there are deltas,
            or an activation or delta vector is not 1-D.

    Example:
        >>> activations = [np.array([1.0, 0.0]), np.array([0.5])]
        >>> weight_updates(activations, [np.array([0.2])], lr=0.5)[0].tolist()
        [[0.1], [0.1], [0.0]]
    """
    activations, deltas = _as_arrays(activations), _as_arrays(deltas)
    rate = _number("lr", lr)
    _check_step(activations, deltas)
    return [rate * np.outer(_with_bias(x), delta) for x, delta in zip(activations, deltas)]


def sgd_step(
    weights: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float
) -> list[np.ndarray]:
    """Take one online gradient-descent step on one example: w_ij <- w_ij + lr delta_j x_i.

    Every layer's deltas are computed from the original weights before any weight
    changes, as the derivation prescribes. The inputs are left untouched.

    Args:
        weights: One matrix per layer, of shape ``(n_in + 1, n_out)``.
        x: One input example, shape ``(n_in,)``.
        y: Its targets, shape ``(n_out,)``.
        lr: The learning rate.

    Returns:
        New weight matrices, in the order of ``weights``.

    Raises:
        ValueError: If the shapes of ``weights``, ``x`` and ``y`` do not fit together.

    Example:
        >>> weights = [np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]),
        ...            np.array([[1.0], [0.3], [0.4]])]
        >>> new = sgd_step(weights, np.array([1.0, 0.0]), np.array([1.0]), lr=0.5)
        >>> np.round(new[1].ravel(), 4).tolist()
        [1.0129, 0.31, 0.4098]
    """
    activations = forward(weights, x)
    updates = weight_updates(activations, deltas(weights, activations, y), lr)
    return [w + change for w, change in zip(_as_arrays(weights), updates, strict=True)]
