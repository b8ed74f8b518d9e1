"""The base of every module: parameters, their names, gradients, state dict, printout.

A module's state is a set of named storages: a ``Tensor``, or an object array of
``Value`` s laid out in the shape of the array it saves as (a scalar ``Layer``'s
weights are an (n_in, n_out) array of Values). ``read`` and ``write`` copy between
a storage and a numpy array, so the state dict, ``load``, ``get_weights`` and
``set_weights`` treat both engines alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..engine import Value
from ..tensor import Tensor
from ..validate import holds_reals

Parameter = Value | Tensor
Shape = tuple[int, ...]


class Module:
    """Base of every module: parameters, gradients and a state dict.

    A subclass defines ``__call__``. One with parameters also defines
    ``parameters()`` (a list, in a deterministic order) and ``_state_items()``:
    pairs (name, storage) where storage is a ``Tensor`` or an object array of
    ``Value`` s. A module without parameters (an activation, or a layer of your
    own such as x -> x^2) needs only ``__call__``.

    >>> class Square(Module):
    ...     def __call__(self, x):
    ...         return x * x
    >>> Square().parameters(), Square().state_dict(), Square()
    ([], {}, Square())
    """

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} defines no __call__")

    def parameters(self) -> Sequence[Parameter]:
        """The module's parameters, a list in a fixed order (none for the base class)."""
        return []

    def _state_items(self) -> Iterator[tuple[str, Any]]:
        return iter(())

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(name, parameter) pairs in ``parameters()`` order, named as in ``state_dict``.

        A tensor parameter is named like its state-dict entry (``layers.0.weight``);
        a scalar one by its place in that entry's array (``layers.0.weight[1, 0]``:
        input 1 to unit 0, in the derivation's ``w[i, j]`` orientation).

        >>> from tinygrad_bp.nn import MLP, Linear
        >>> [name for name, _ in Linear(2, 1).named_parameters()]
        ['weight', 'bias']
        >>> [name for name, _ in MLP(2, [1]).named_parameters()]
        ['layers.0.weight[0, 0]', 'layers.0.weight[1, 0]', 'layers.0.bias[0]']
        """
        names: dict[Parameter, str] = {}  # parameters hash by identity
        for name, storage in self._state_items():
            if isinstance(storage, Tensor):
                names[storage] = name
                continue
            for index in np.ndindex(storage.shape):
                suffix = f"[{', '.join(str(i) for i in index)}]" if index else ""
                names[storage[index]] = name + suffix
        return [(names[p], p) for p in self.parameters()]

    def zero_grad(self) -> None:
        """Forget accumulated gradients (Values: 0.0; Tensors: None, as PyTorch)."""
        for p in self.parameters():
            p.grad = 0.0 if isinstance(p, Value) else None

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return name -> array copies of every parameter."""
        return {name: read(storage) for name, storage in self._state_items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters, after checking every name and shape.

        On any mismatch nothing is changed and ValueError lists each problem
        (TypeError if some array is not numeric).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict needs a dict of arrays, got {type(state).__name__}")
        storages = dict(self._state_items())
        given: dict[str, Any] = dict.fromkeys(state)  # None: not an array, or not needed
        problems = []
        for name in storages.keys() & state.keys():
            try:
                given[name] = np.asarray(state[name])
            except Exception as error:  # a ragged list, say: numpy's own message says why
                problems.append(f"{name!r} is not an array: {error}")
        problems += state_problems(shapes(storages), given)
        if problems:
            kind = TypeError if non_numeric(storages, given) else ValueError
            raise kind("load_state_dict: " + "; ".join(sorted(problems)))
        for name, storage in storages.items():
            write(storage, given[name])

    def _parameter_count(self) -> int:
        """How many numbers the module learns (a tensor parameter counts its elements)."""
        return sum(1 if isinstance(p, Value) else p.data.size for p in self.parameters())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ArrayInfo(NamedTuple):
    """What an array's header says: its shape and dtype."""

    shape: Shape
    dtype: np.dtype


def state_problems(expected: Mapping[str, Shape], given: Mapping[str, Any]) -> list[str]:
    """What is wrong with the arrays ``given`` for a module whose state has ``expected`` shapes.

    ``given`` maps each name to an array, or anything with its ``shape`` and
    ``dtype`` (a .npy header), or None where there is nothing to check. Names
    missing or unexpected, non-numeric dtypes and wrong shapes each give one
    line, sorted.

    >>> header = ArrayInfo((3,), np.dtype("<U1"))
    >>> state_problems({"weight": (2, 1), "bias": (1,)}, {"weight": header, "w": None})
    ["'weight' has non-numeric dtype <U1", "missing 'bias'", "unexpected 'w'"]
    """
    problems = [f"missing {name!r}" for name in expected.keys() - given.keys()]
    problems += [f"unexpected {name!r}" for name in given.keys() - expected.keys()]
    wrong_kind = non_numeric(expected, given)
    problems += [f"{name!r} has non-numeric dtype {given[name].dtype}" for name in wrong_kind]
    for name in expected.keys() & given.keys() - set(wrong_kind):
        info = given[name]
        if info is not None and tuple(info.shape) != expected[name]:
            problems.append(f"{name!r} has shape {info.shape}, expected {expected[name]}")
    return sorted(problems)


def non_numeric(expected: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """The names of ``expected`` whose array (or header) ``given`` holds no real numbers.

    >>> non_numeric({"weight": (2,)}, {"weight": ArrayInfo((2,), np.dtype("<U1"))})
    ['weight']
    """
    return [
        name
        for name in expected.keys() & given.keys()
        if given[name] is not None and not holds_reals(given[name].dtype)
    ]


def read(storage: Any) -> np.ndarray:
    """A copy of a storage's numbers (Values are read as float64)."""
    if isinstance(storage, Tensor):
        return storage.data.copy()
    return np.array([v.data for v in storage.flat], dtype=np.float64).reshape(storage.shape)


def write(storage: Any, array: np.ndarray) -> None:
    """Copy ``array`` (of the storage's shape, already checked) into the storage."""
    if isinstance(storage, Tensor):
        with np.errstate(over="ignore"):  # 1e300 into float32 is inf, as IEEE rounds it
            storage.data[...] = array
    else:
        for value, number in zip(storage.flat, array.flat):
            value.data = float(number)


def shapes(storages: Mapping[str, Any]) -> dict[str, Shape]:
    """name -> shape of each storage."""
    return {name: tuple(storage.shape) for name, storage in storages.items()}


def prefixed(prefix: str, items: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """The state items of a sub-module, named ``<prefix>.<name>``."""
    for name, storage in items:
        yield f"{prefix}.{name}", storage


def listing(header: str, layers: Sequence[Module]) -> str:
    """A container's printout: its header, then ``  (i): <layer>`` per line, as PyTorch.

    >>> print(listing("Box(2 parameters)", [Module(), Module()]))
    Box(2 parameters)
      (0): Module()
      (1): Module()
    """
    lines = [header]
    for index, layer in enumerate(layers):
        nested = repr(layer).replace("\n", "\n  ")  # a nested container indents its lines
        lines.append(f"  ({index}): {nested}")
    return "\n".join(lines)


def count(parameters: int) -> str:
    """``337 parameters``, ``1 parameter``, ``1,000,000 parameters``."""
    return f"{parameters:,} parameter{'' if parameters == 1 else 's'}"
