"""Toy data sets, made in code with numpy, for trying out networks.

Every function returns a pair ``(X, y)``:

- ``X`` is a float64 array of shape ``(n, d)``, one example per row;
- ``y`` is a float64 array of shape ``(n,)``, one target per example. For the
  classification sets the targets are the labels 0.0 and 1.0; for ``sine`` they are
  real numbers in [0, 1]. A network with one output unit wants ``y[:, None]``.

The random sets take ``rng``: a ``numpy.random.Generator`` or an integer seed. The
same seed gives the same data; the default seed is 0, so a call without ``rng`` is
reproducible too. Examples are ordered by class (all 0s, then all 1s), not shuffled.
"""

from collections.abc import Callable

import numpy as np

__all__ = ["DATASETS", "circles", "gates", "load", "moons", "sine", "spirals", "xor"]

_TWO_INPUTS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))

_GATE_OUTPUTS = {
    "AND": (0.0, 0.0, 0.0, 1.0),
    "OR": (0.0, 1.0, 1.0, 1.0),
    "NAND": (1.0, 1.0, 1.0, 0.0),
    "NOR": (1.0, 0.0, 0.0, 0.0),
    "XOR": (0.0, 1.0, 1.0, 0.0),
}


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return rng itself if it is a Generator, else a new one seeded with it (0 if None)."""
    return np.random.default_rng(0 if rng is None else rng)


def _check_n(n: int, smallest: int) -> None:
    """Raise ValueError unless n is at least smallest."""
    if n < smallest:
        raise ValueError(f"n must be at least {smallest}, got {n}")


def _two_classes(
    class_0: np.ndarray, class_1: np.ndarray, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stack two point clouds, add Gaussian noise of std ``noise``, label them 0 and 1."""
    if noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    X = np.vstack([class_0, class_1])
    X = X + noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(len(class_0)), np.ones(len(class_1))])
    return X, y


def _arc(angles: np.ndarray, radius: float | np.ndarray = 1.0) -> np.ndarray:
    """Return the points (r cos t, r sin t) for each angle t (and radius r), shape (len, 2)."""
    return np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])


def gates() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return the truth tables of the logic gates AND, OR, NAND, NOR, XOR and NOT.

    The two-input gates have X of shape (4, 2), rows (0, 0), (0, 1), (1, 0), (1, 1);
    NOT has X of shape (2, 1), rows (0,) and (1,). Only XOR is not linearly separable.

    Returns:
        A dict from gate name to ``(X, y)``; each call makes fresh arrays.

    Example:
        >>> X, y = gates()["NAND"]
        >>> X.shape, y.tolist()
        ((4, 2), [1.0, 1.0, 1.0, 0.0])
    """
    tables = {name: (np.array(_TWO_INPUTS), np.array(y)) for name, y in _GATE_OUTPUTS.items()}
    tables["NOT"] = (np.array([[0.0], [1.0]]), np.array([1.0, 0.0]))
    return tables


def xor() -> tuple[np.ndarray, np.ndarray]:
    """Return the XOR truth table: X of shape (4, 2) and y = x_1 XOR x_2 of shape (4,).

    Example:
        >>> X, y = xor()
        >>> X.tolist(), y.tolist()
        ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    """
    return gates()["XOR"]


def moons(
    n: int = 100, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return two interleaving half circles in the plane (as scikit-learn's make_moons).

    Class 0 lies on the upper unit half circle (cos t, sin t), class 1 on the lower
    one (1 - cos t, 1/2 - sin t), for t evenly spaced in [0, pi]; then Gaussian noise
    of standard deviation ``noise`` is added to every coordinate.

    Args:
        n: The number of points; class 0 gets ``n // 2`` of them, class 1 the rest.
        noise: The standard deviation of the noise.
        rng: A Generator or a seed.

    Returns:
        X of shape ``(n, 2)`` and labels y of shape ``(n,)``.

    Example:
        >>> X, y = moons(6, noise=0.0)
        >>> X.shape, y.tolist()
        ((6, 2), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    """
    _check_n(n, 2)
    upper = _arc(np.linspace(0.0, np.pi, n // 2))
    lower = np.array([1.0, 0.5]) - _arc(np.linspace(0.0, np.pi, n - n // 2))
    return _two_classes(upper, lower, noise, _generator(rng))


def circles(
    n: int = 100,
    noise: float = 0.05,
    factor: float = 0.5,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return a circle inside another circle (as scikit-learn's make_circles).

    Class 0 lies on the unit circle, class 1 on a circle of radius ``factor``, at
    evenly spaced angles; then Gaussian noise of standard deviation ``noise`` is added.

    Args:
        n: The number of points; class 0 gets ``n // 2`` of them, class 1 the rest.
        noise: The standard deviation of the noise.
        factor: The inner radius, strictly between 0 and 1.
        rng: A Generator or a seed.

    Returns:
        X of shape ``(n, 2)`` and labels y of shape ``(n,)``.

    Example:
        >>> X, y = circles(8, noise=0.0, factor=0.5)
        >>> np.hypot(X[:, 0], X[:, 1]).round(6).tolist()
        [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    """
    _check_n(n, 2)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be strictly between 0 and 1, got {factor}")
    outer = _arc(np.linspace(0.0, 2 * np.pi, n // 2, endpoint=False))
    inner = _arc(np.linspace(0.0, 2 * np.pi, n - n // 2, endpoint=False), radius=factor)
    return _two_classes(outer, inner, noise, _generator(rng))


def spirals(
    n: int = 100, noise: float = 0.03, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return two interleaved spirals, each turning one and a half times around the origin.

    Along an arm the angle t runs evenly over [0, 3 pi] and the radius is r = t / (3 pi),
    so both arms end on the unit circle; class 1 is class 0 turned by half a turn.
    Gaussian noise of standard deviation ``noise`` (in units of the outer radius) is
    then added; neighbouring arms are 1/3 apart, so the default 0.03 keeps the
    spirals visible (at 0.1 they blur into one cloud).

    Args:
        n: The number of points; class 0 gets ``n // 2`` of them, class 1 the rest.
        noise: The standard deviation of the noise.
        rng: A Generator or a seed.

    Returns:
        X of shape ``(n, 2)`` and labels y of shape ``(n,)``.

    Example:
        >>> X, y = spirals(10, noise=0.0)
        >>> X.shape, bool(np.allclose(X[:5], -X[5:]))
        ((10, 2), True)
    """
    _check_n(n, 2)
    arms = []
    for half_turns, count in ((0.0, n // 2), (1.0, n - n // 2)):
        angles = np.linspace(0.0, 3 * np.pi, count)
        arms.append(_arc(angles + half_turns * np.pi, radius=angles / (3 * np.pi)))
    return _two_classes(arms[0], arms[1], noise, _generator(rng))


def sine(
    n: int = 100, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return samples of a sine wave scaled into [0, 1], for function approximation.

    x is drawn uniformly from [-pi, pi] (and sorted); the target is
    y = (1 + sin x) / 2, which lies in [0, 1] so that a sigmoid output unit can fit it.

    Args:
        n: The number of samples.
        rng: A Generator or a seed.

    Returns:
        X of shape ``(n, 1)`` and targets y of shape ``(n,)``.

    Example:
        >>> X, y = sine(5, rng=1)
        >>> X.shape, bool(np.allclose(y, (1 + np.sin(X[:, 0])) / 2))
        ((5, 1), True)
    """
    _check_n(n, 1)
    x = np.sort(_generator(rng).uniform(-np.pi, np.pi, n))
    return x[:, None], (1.0 + np.sin(x)) / 2.0


_MAKERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "sine": sine,
}

# The sets a network is trained on by name (``tinygrad-bp train``); ``load`` also knows the gates.
DATASETS = ("xor", "moons", "circles", "spirals", "sine")

# A fixed truth table ignores these, so that every name can be loaded the same way.
_IGNORED_BY_TABLES = frozenset({"n", "rng"})


def load(name: str, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
    """Return the data set called ``name``, made with the keyword arguments given.

    Valid names (case-insensitive): xor, moons, circles, spirals, sine, and the gates
    and, or, nand, nor, not. The truth tables (xor and the gates) are fixed: they
    accept ``n`` and ``rng`` and ignore them, so that any name can be loaded with the
    same call, and refuse any other argument.

    Args:
        name: The data set's name.
        **kwargs: Passed on to the maker, e.g. ``n``, ``noise``, ``rng``.

    Returns:
        ``(X, y)`` as the maker returns it.

    Raises:
        ValueError: If ``name`` is not a valid name; the message lists the valid ones.
        TypeError: If a truth table is given an argument other than ``n`` or ``rng``.

    Example:
        >>> X, y = load("moons", n=20, rng=3)
        >>> X.shape, y.shape
        ((20, 2), (20,))
        >>> load("xor", n=20, rng=3)[0].shape     # a fixed table: n and rng are ignored
        (4, 2)
    """
    key = name.lower()
    if key in _MAKERS:
        return _MAKERS[key](**kwargs)
    tables = gates()
    if key.upper() in tables:
        refused = sorted(kwargs.keys() - _IGNORED_BY_TABLES)
        if refused:
            raise TypeError(
                f"the {key} truth table is fixed and takes no arguments "
                f"(n and rng are ignored), got {refused}"
            )
        return tables[key.upper()]
    valid = sorted(set(_MAKERS) | {gate.lower() for gate in tables})
    raise ValueError(f"unknown data set {name!r}; valid names are: {', '.join(valid)}")
