"""The perceptron: one threshold unit and its learning rule.

A perceptron with weights w = (w_0, w_1, ..., w_d) predicts

    f(x) = 1 if w^T x > 0 else 0,    with x_0 = 1 so that w_0 acts as the bias,

and learns from one labelled example (x, y), y in {0, 1}, by

    w <- w + lr (y - f(x)) x

which changes w only when the example is misclassified. When the classes can be
split by a straight line (AND, OR, NOT) this reaches zero errors in finitely many
passes; when they cannot (XOR) it never does.
"""

from dataclasses import dataclass

import numpy as np

from . import data, validate

__all__ = ["FitResult", "Perceptron", "perceptron_on_gates"]


@dataclass(frozen=True)
class FitResult:
    """What :meth:`Perceptron.fit` did.

    Attributes:
        converged: True if an epoch ended with every example classified correctly.
        epochs: The number of epochs run (passes over the data).
        errors: The number of misclassified examples in each epoch, one per epoch.
    """

    converged: bool
    epochs: int
    errors: list[int]


class Perceptron:
    """A single step-threshold unit trained by the perceptron learning rule.

    Args:
        n_inputs: The number of inputs d (not counting the bias input x_0 = 1).
        lr: The learning rate of the update w <- w + lr (y - f(x)) x.

    Attributes:
        w: The weights, shape ``(n_inputs + 1,)``; ``w[0]`` is the bias. They start at zero.

    Example:
        >>> p = Perceptron(2)
        >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> result = p.fit(X, np.array([0.0, 0.0, 0.0, 1.0]))
        >>> result.converged, p.predict(X).tolist()
        (True, [0.0, 0.0, 0.0, 1.0])
    """

    def __init__(self, n_inputs: int, lr: float = 1.0) -> None:
        self.n_inputs = validate.integer("n_inputs", n_inputs, minimum=1)
        self.lr = validate.real("lr", lr, positive=True)
        self.w = np.zeros(n_inputs + 1)

    def predict(self, x: np.ndarray) -> float | np.ndarray:
        """Classify one example, or each row of a batch: 1.0 if w^T x > 0 else 0.0.

        Args:
            x: One example of shape ``(n_inputs,)``, or a batch of shape ``(n, n_inputs)``.

        Returns:
            A float (0.0 or 1.0) for one example; an array of shape ``(n,)`` for a batch.

        Raises:
            ValueError: If the last axis of ``x`` is not ``n_inputs`` long.

        Example:
            >>> p = Perceptron(1)
            >>> p.w = np.array([0.5, -1.0])
            >>> p.predict(np.array([0.0])), p.predict(np.array([[0.0], [1.0]])).tolist()
            (1.0, [1.0, 0.0])
        """
        x = validate.real_array("x", x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n_inputs:
            raise ValueError(
                f"expected x of shape ({self.n_inputs},) or (n, {self.n_inputs}), got {x.shape}"
            )
        out = (self.w[0] + x @ self.w[1:] > 0).astype(np.float64)
        return float(out) if x.ndim == 1 else out

    def fit(self, X: np.ndarray, y: np.ndarray, max_epochs: int = 100) -> FitResult:
        """Train online, one example at a time, until an epoch makes no mistake.

        Each example updates the weights by w <- w + lr (y - f(x)) x, with x_0 = 1.
        Training continues from the current weights (zero for a new perceptron).

        Args:
            X: Inputs, shape ``(n, n_inputs)``.
            y: Labels in {0, 1}, shape ``(n,)``.
            max_epochs: The most passes over the data to make.

        Returns:
            A :class:`FitResult`; ``converged`` is False if the last epoch still erred.

        Raises:
            ValueError: If the shapes of ``X`` and ``y`` disagree, a label is not 0 or 1,
                or ``max_epochs`` is less than 1.

        Example:
            >>> xor = Perceptron(2).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0])
            >>> xor.converged, xor.epochs, xor.errors[-1] > 0
            (False, 100, True)
        """
        X, y = self._check_data(X, y)
        max_epochs = validate.integer("max_epochs", max_epochs, minimum=1)
        errors = []
        for epoch in range(1, max_epochs + 1):
            errors.append(self._epoch(X, y))
            if errors[-1] == 0:
                return FitResult(converged=True, epochs=epoch, errors=errors)
        return FitResult(converged=False, epochs=max_epochs, errors=errors)

    def _epoch(self, X: np.ndarray, y: np.ndarray) -> int:
        """Apply the learning rule to each example in turn; return how many were wrong."""
        mistakes = 0
        for x, target in zip(X, y, strict=True):
            error = target - self.predict(x)
            if error != 0:
                mistakes += 1
                self.w += self.lr * error * np.concatenate(([1.0], x))
        return mistakes

    def _check_data(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return X and y as float64 arrays, or raise ValueError naming the problem."""
        X = validate.real_array("X", X)
        y = validate.real_array("y", y)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"expected X of shape (n, {self.n_inputs}), got {X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"expected y of shape {(X.shape[0],)} to match X, got {y.shape}")
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError(f"labels must be 0 or 1, got {sorted(set(y.tolist()))}")
        return X, y


def perceptron_on_gates(max_epochs: int = 100) -> dict[str, FitResult]:
    """Train a fresh perceptron on each of AND, OR, NOT and XOR (``data.gates``).

    Args:
        max_epochs: The most passes over each truth table.

    Returns:
        The gate's name -> what :meth:`Perceptron.fit` did, in the order AND, OR, NOT, XOR.

    Example:
        >>> {name: result.converged for name, result in perceptron_on_gates().items()}
        {'AND': True, 'OR': True, 'NOT': True, 'XOR': False}
    """
    gates = data.gates()
    results = {}
    for name in ("AND", "OR", "NOT", "XOR"):
        X, y = gates[name]
        results[name] = Perceptron(X.shape[1]).fit(X, y, max_epochs=max_epochs)
    return results
