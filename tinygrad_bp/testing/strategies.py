"""Hypothesis strategies for tests of any autograd engine, and of the grader's checks.

- ``programs``: random straight-line expression programs over + - * / ** relu
  tanh exp sigmoid log, well conditioned for central differences; a
  ``Program`` runs on Python floats and on any engine's values alike.
- ``sigmoid_networks``: a sigmoid network and data for it, in the derivation's
  convention (weight matrices of shape (n_in + 1, n_out), bias row first).
- ``broadcastable_shapes``: shapes that broadcast together, for tensor engines.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .catalogue import op_named

__all__ = [
    "FLOAT_METHODS",
    "PROGRAM_OPS",
    "Program",
    "ProgramOp",
    "broadcastable_shapes",
    "programs",
    "sigmoid_networks",
]

# The float reference of each method an engine value may have, from the op catalogue.
FLOAT_METHODS: dict[str, Callable[[float], float]] = {
    name: op_named(name).reference for name in ("relu", "tanh", "exp", "sigmoid", "log", "abs")
}


def _unary(name: str, x: Any) -> Any:
    """``x.name()`` for an engine value; the float reference for a Python float."""
    if isinstance(x, float):
        return FLOAT_METHODS[name](x)
    return getattr(x, name)()


# -- expression programs ----------------------------------------------------------------


def _safe_divide(a: Any, b: Any) -> Any:
    """a / (1 + b * b): a division that never divides by zero."""
    return a / (1 + b * b)


def _slow_exp(a: Any) -> Any:
    """exp(0.1 * a): an exponential that grows slowly."""
    return _unary("exp", 0.1 * a)


def _safe_log(a: Any) -> Any:
    """log(1 + a * a): a logarithm of a positive number."""
    return _unary("log", 1 + a * a)


@dataclass(frozen=True)
class ProgramOp:
    """One instruction of an expression program.

    Attributes:
        template: how a step prints, e.g. ``"{0} / (1 + {1} * {1})"``.
        arity: how many operands it takes.
        function: computes it on floats and on engine values alike.
        needs: the op checks it relies on (the program uses it only when they pass).
        kink: whether it is not differentiable where its operand is 0.
    """

    template: str
    arity: int
    function: Callable[..., Any]
    needs: tuple[str, ...]
    kink: bool = False


PROGRAM_OPS: dict[str, ProgramOp] = {
    "add": ProgramOp("{0} + {1}", 2, operator.add, ("add",)),
    "sub": ProgramOp("{0} - {1}", 2, operator.sub, ("sub",)),
    "mul": ProgramOp("{0} * {1}", 2, operator.mul, ("mul",)),
    "div": ProgramOp("{0} / (1 + {1} * {1})", 2, _safe_divide, ("div", "mul", "radd")),
    "pow": ProgramOp("{0} ** 2", 1, op_named("square").ours, ("pow",)),
    "relu": ProgramOp("relu({0})", 1, partial(_unary, "relu"), ("relu",), kink=True),
    "tanh": ProgramOp("tanh({0})", 1, partial(_unary, "tanh"), ("tanh",)),
    "exp": ProgramOp("exp(0.1 * {0})", 1, _slow_exp, ("exp", "rmul")),
    "sigmoid": ProgramOp("sigmoid({0})", 1, partial(_unary, "sigmoid"), ("sigmoid",)),
    "log": ProgramOp("log(1 + {0} * {0})", 1, _safe_log, ("log", "mul", "radd")),
}


@dataclass(frozen=True)
class Program:
    """A straight-line program: inputs x0, x1, ..., then one step per line.

    Step k computes slot ``len(inputs) + k`` from earlier slots; the program's
    output is the last slot.

    Attributes:
        inputs: the input numbers.
        steps: (op name in ``PROGRAM_OPS``, operand slots) for each step.
    """

    inputs: tuple[float, ...]
    steps: tuple[tuple[str, tuple[int, ...]], ...]

    def run(self, inputs: Sequence[Any]) -> list[Any]:
        """Every slot's value: the inputs, then each step's result (floats or engine values).

        >>> program = Program((2.0, 3.0), (("mul", (0, 1)), ("add", (2, 0))))
        >>> program.run([2.0, 3.0])
        [2.0, 3.0, 6.0, 8.0]
        """
        slots = list(inputs)
        for name, operands in self.steps:
            slots.append(PROGRAM_OPS[name].function(*(slots[i] for i in operands)))
        return slots

    def output(self, *inputs: Any) -> Any:
        """The last slot's value for these inputs.

        >>> Program((2.0,), (("pow", (0,)),)).output(5.0)
        25.0
        """
        return self.run(inputs)[-1]

    def is_well_conditioned(self, bound: float = 1e3, margin: float = 1e-2) -> bool:
        """Whether central differences are accurate here, on the program's own inputs.

        True when every slot is finite with |value| <= bound and every kinked op
        (relu) sees an operand at least ``margin`` away from 0.

        >>> Program((0.0,), (("relu", (0,)),)).is_well_conditioned()
        False
        """
        slots = self.run(self.inputs)
        if not all(math.isfinite(value) and abs(value) <= bound for value in slots):
            return False
        kinked = [operands[0] for name, operands in self.steps if PROGRAM_OPS[name].kink]
        return all(abs(slots[slot]) >= margin for slot in kinked)

    def pruned(self) -> Program:
        """The same output from only the inputs and steps it uses, slots renumbered.

        >>> steps = (("mul", (2, 2)), ("add", (0, 1)), ("tanh", (3,)))
        >>> print(Program((1.0, 2.0, 3.0), steps).pruned())
        x0 = 3.0; x1 = x0 * x0; x2 = tanh(x1)
        """
        first_step = len(self.inputs)
        used = {first_step + len(self.steps) - 1}
        for index in reversed(range(len(self.steps))):
            if first_step + index in used:
                used.update(self.steps[index][1])
        renumbered = {old: new for new, old in enumerate(sorted(used))}
        inputs = tuple(x for slot, x in enumerate(self.inputs) if slot in used)
        steps = tuple(
            (name, tuple(renumbered[slot] for slot in operands))
            for index, (name, operands) in enumerate(self.steps)
            if first_step + index in used
        )
        return Program(inputs, steps)

    def __str__(self) -> str:
        """One line: the inputs, then each step, e.g. ``x0 = 1.0; x1 = tanh(x0)``."""
        lines = [f"x{index} = {x!r}" for index, x in enumerate(self.inputs)]
        for index, (name, operands) in enumerate(self.steps, start=len(self.inputs)):
            names = [f"x{slot}" for slot in operands]
            lines.append(f"x{index} = " + PROGRAM_OPS[name].template.format(*names))
        return "; ".join(lines)


@st.composite
def _raw_programs(draw: st.DrawFn, ops: Sequence[str], n_inputs: int, max_steps: int) -> Program:
    """Programs over ``ops``, well conditioned or not."""
    inputs = tuple(draw(st.lists(st.floats(-2.0, 2.0), min_size=n_inputs, max_size=n_inputs)))
    steps = []
    for index in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(ops))
        slot = st.integers(0, n_inputs + index - 1)
        operands = tuple(draw(slot) for _ in range(PROGRAM_OPS[name].arity))
        steps.append((name, operands))
    return Program(inputs, tuple(steps))


def programs(
    ops: Iterable[str] = tuple(PROGRAM_OPS), n_inputs: int = 3, max_steps: int = 12
) -> st.SearchStrategy[Program]:
    """Random expression programs, well conditioned for central differences.

    Each step applies one op of ``PROGRAM_OPS`` (+ - * / ** relu tanh exp
    sigmoid log, in forms defined everywhere: ``a / (1 + b * b)``, ``a ** 2``,
    ``exp(0.1 * a)``, ``log(1 + a * a)``) to earlier slots, so nodes are reused
    freely; inputs are in [-2, 2]; ``Program.is_well_conditioned`` holds.

    Args:
        ops: the names of the ops to use (keys of ``PROGRAM_OPS``).
        n_inputs: how many inputs.
        max_steps: the most steps (at least one).

    Returns:
        A strategy of ``Program``.

    Raises:
        ValueError: an op name is unknown, or ``ops`` is empty.

    >>> from hypothesis import find
    >>> print(find(programs(["add"]), lambda p: len(p.steps) == 2))
    x0 = 0.0; x1 = 0.0; x2 = 0.0; x3 = x0 + x0; x4 = x0 + x0
    """
    names = sorted(set(ops))
    unknown = [name for name in names if name not in PROGRAM_OPS]
    if unknown or not names:
        raise ValueError(f"ops must be a non-empty subset of {sorted(PROGRAM_OPS)}, got {ops!r}")
    return _raw_programs(names, n_inputs, max_steps).filter(Program.is_well_conditioned)


# -- sigmoid networks and broadcastable shapes ----------------------------------------

_WEIGHTS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def _sigmoid_networks(
    draw: st.DrawFn, max_layers: int, max_width: int, max_batch: int
) -> tuple[list[int], list[np.ndarray], np.ndarray, np.ndarray]:
    """See ``sigmoid_networks``."""
    n_layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=n_layers + 1, max_size=n_layers + 1))
    weights = [
        draw(hnp.arrays(np.float64, (sizes[i] + 1, sizes[i + 1]), elements=_WEIGHTS))
        for i in range(n_layers)
    ]
    batch = draw(st.integers(1, max_batch))
    X = draw(hnp.arrays(np.float64, (batch, sizes[0]), elements=_WEIGHTS))
    Y = draw(hnp.arrays(np.float64, (batch, sizes[-1]), elements=st.floats(0.0, 1.0)))
    return sizes, weights, X, Y


def sigmoid_networks(
    max_layers: int = 4, max_width: int = 6, max_batch: int = 1
) -> st.SearchStrategy[tuple[list[int], list[np.ndarray], np.ndarray, np.ndarray]]:
    """A fully connected sigmoid network and data for it, in the derivation's convention.

    Args:
        max_layers: the most weight layers (at least one).
        max_width: the widest layer, input and output included.
        max_batch: the most examples.

    Returns:
        A strategy of ``(sizes, weights, X, Y)``: layer sizes ``[n_in, n_1, ..., n_out]``;
        one ``(n_in + 1, n_out)`` weight matrix per layer, bias row first, entries in
        [-3, 3]; inputs ``X`` of shape ``(batch, n_in)`` in [-3, 3]; targets ``Y`` in
        [0, 1] of shape ``(batch, n_out)``.

    >>> from hypothesis import find
    >>> sizes, weights, X, Y = find(sigmoid_networks(), lambda net: len(net[0]) == 3)
    >>> sizes, [w.shape for w in weights], X.shape, Y.shape
    ([1, 1, 1], [(2, 1), (2, 1)], (1, 1), (1, 1))
    """
    return _sigmoid_networks(max_layers, max_width, max_batch)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[hnp.BroadcastableShapes]:
    """Shapes that broadcast together under numpy's rules, and the shape they make.

    A thin wrapper of ``hypothesis.extra.numpy.mutually_broadcastable_shapes``
    with defaults sized for tests of elementwise tensor ops and their gradients.

    Args:
        num_shapes: how many shapes (2 for a binary op).
        min_dims: the fewest dimensions of each shape.
        max_dims: the most dimensions of each shape.
        max_side: the longest side.

    Returns:
        A strategy of ``BroadcastableShapes(input_shapes, result_shape)``.

    >>> from hypothesis import find
    >>> shapes = find(broadcastable_shapes(), lambda s: s.input_shapes[0] != s.result_shape)
    >>> np.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape
    True
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    )
