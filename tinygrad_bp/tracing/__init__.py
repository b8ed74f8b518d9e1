"""Compiled steps: record a loss function's graph once, replay it as straight-line code.

``step = trace(fn, *example_args)`` runs ``fn`` once on the example, observed
(``recording``: which leaves are parameters, inputs and constants, what ``fn``
decided on data), and writes the forward and backward pass of the graph it
recorded as one Python function, ``step.source``: for ``Value`` graphs plain
float arithmetic, for ``Tensor`` graphs each primitive's own ``forward`` and
``backward``. A ``Value`` graph of ``tape.TAPE_FROM`` nodes or more (microgpt's
step) runs on a tape instead, a loop over a list of its ops made from the same
rules: a tenth of the cost of compiled code to make, a half to a third of its
speed; at its ``tape.COMPILE_AT``-th call it is compiled after all. Its
``step.source`` is written when it is first read.

Calling ``step(*args)`` computes the loss for new arguments of the same
structure from the parameters' current data, checks that ``fn``'s decisions on
data come out as traced, adds d(loss)/d(parameter) to every parameter's
``grad`` exactly as ``fn(*args).backward()`` would, and returns the loss as a
float. Before it is handed out, the step is run once on the example and must
agree with the eager engine to the last bit (loss and every grad); else
``trace`` raises ValueError, as it does for anything it cannot replay.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..engine import Value
from ..graph import collector_paused
from ..tensor import Tensor
from . import render, scalar, tape, tensor
from .recording import Recording, TraceError, flatten, record
from .unpack import mismatch, patterns

__all__ = ["trace", "Step", "TraceError"]


class Code(NamedTuple):
    """A step written out: its source, its body's lines, and the names the source uses."""

    source: str
    body: list[str]
    namespace: dict[str, Any]


class Step:
    """A compiled training step: ``step(*args) -> loss``; ``step.source`` is its code.

    Attributes:
        source: the generated Python (forward, backward, grads), one statement per node.
        parameters: the leaves whose data is read at each call and whose grads it adds to.
        nodes: the number of nodes of the recorded graph.
    """

    def __init__(
        self,
        function: Callable[..., float],
        recording: Recording,
        code: Code,
        on_tape: bool = False,
    ) -> None:
        self._function = function
        self.parameters = [s.node for s in recording.sources.values() if s.kind == "param"]
        self.nodes = len(recording.order)
        self._key = recording.key
        self._nodes_given = sum(isinstance(x, (Value, Tensor)) for x in recording.leaves)
        # The code that runs, and the code one reads: for a step on the tape, its runs of
        # the tape written out as statements (``tape.spelled_out``), only when first read.
        self._code = code
        self._readable = None if on_tape else code
        self._writing = threading.Lock()
        # A step on the tape is compiled at its COMPILE_AT-th call (trace's check is the
        # first); ``_settled`` once it is, or once compiling it failed.
        self._calls = 0
        self._settled = not on_tape
        self._candidate: Callable[..., float] | None = None  # compiled, not yet checked

    @property
    def source(self) -> str:
        """The step as Python: the code it runs, or, on the tape, the tape written out."""
        return self._written().source

    @property
    def namespace(self) -> dict[str, Any]:
        """The names ``source`` uses: ``exec(step.source, step.namespace)`` defines ``step``."""
        return self._written().namespace

    def _written(self) -> Code:
        """The code one reads, written the first time it is asked for."""
        with self._writing:
            if self._readable is None:
                body = tape.spelled_out(self._code.body, self._code.namespace)
                self._readable = Code(_source(self._key, body), body, self._code.namespace)
            return self._readable

    def _compiled_call(self, args: tuple[Any, ...]) -> float:
        """This call on the tape, and the step compiled (``tape.compiled``) for the next ones.

        The compiled step is run on the same arguments from the same grads first: it
        replaces the tape only if it gives the tape's loss and grads (else the step stays
        on the tape, as it does if compiling fails).
        """
        with self._writing:
            if self._settled:  # another thread was first
                return self._function(*args)
            if self._candidate is None:  # kept if this call raises (a mismatch): made once
                try:
                    names = dict(self._code.namespace)
                    body = tape.compiled(self._code.body, names)
                    source = _source(self._key, body)
                    exec(compile(source, "<traced step>", "exec"), names)  # noqa: S102
                    self._candidate = names["step"]
                except (SyntaxError, RecursionError, MemoryError):  # too large for Python
                    self._settled = True
                    return self._function(*args)
            compiled, self._candidate = self._candidate, None
            takers = [p for p in self.parameters if isinstance(p, Value)]
            takers += [x for x in flatten(args)[1] if isinstance(x, Value)]
            before = [x.grad for x in takers]
            try:
                loss = self._function(*args)  # on the tape: a mismatch raises here, as ever
            except BaseException:
                self._candidate = compiled
                raise
            self._settled = True
            after = [x.grad for x in takers]
            for taker, grad in zip(takers, before):
                taker.grad = grad
            try:
                agrees = _equal(compiled(*args), loss) and all(
                    _equal(x.grad, grad) for x, grad in zip(takers, after)
                )
            except Exception:  # noqa: BLE001 (anything the compiled code raises keeps the tape)
                agrees = False
            if agrees:
                self._function = compiled
            for taker, grad in zip(takers, after):
                taker.grad = grad
            return loss

    def annotated(self, *args: Any) -> str:
        """The body of ``source`` with each line's value for ``args`` after it (``# = 0.7773``).

        Nothing changes: the lines that add to the parameters' grads are shown, not run.
        """
        if flatten(args)[0] != self._key:
            raise mismatch(self._key, args)
        code = self._written()
        names = dict(code.namespace)
        names.update({f"i{k}": leaf for k, leaf in enumerate(flatten(args)[1])})
        lines = []
        for line in code.body:
            statement = line.strip()
            if not _is_computation(statement):
                lines.append(line)
                continue
            exec(statement, names)  # noqa: S102 (our own generated line)
            target = _TARGET.match(statement)
            if target is None:  # a call such as np.add.at(...): it assigns nothing
                lines.append(line)
                continue
            value = eval(target.group(1), names)  # noqa: S307 (a name, or a slot v[k])
            shown = f"{value:.6g}" if isinstance(value, float) else f"shape {np.shape(value)}"
            lines.append(f"{line:<48}  # = {shown}")
        return "\n".join(lines) + "\n"

    def __call__(self, *args: Any) -> float:
        if len(args) != len(self._key):
            raise mismatch(self._key, args)
        if self._nodes_given > 1:
            given = [x for x in flatten(args)[1] if isinstance(x, (Value, Tensor))]
            if len({id(x) for x in given}) != len(given):
                raise TraceError("step: the same Value or Tensor at two argument positions")
        if not self._settled:
            self._calls += 1  # two threads may race on the count: it need not be exact
            if self._calls >= tape.COMPILE_AT:
                return self._compiled_call(args)
        try:
            return self._function(*args)
        except (AttributeError, TypeError):
            if flatten(args)[0] != self._key:  # e.g. a number where a Value was traced
                raise mismatch(self._key, args) from None
            raise

    def __repr__(self) -> str:
        return f"<traced step: {self.nodes} nodes, {len(self.parameters)} parameters>"

    def _repr_markdown_(self) -> str:
        """How a notebook shows the step: its size, then its code (the first lines of a
        large step's: microgpt's runs to 200,000)."""
        size = f"traced step: {self.nodes} nodes, {len(self.parameters)} parameters"
        lines = self.source.rstrip().splitlines()
        shown = "\n".join(lines[:_SHOWN_LINES])
        if len(lines) > _SHOWN_LINES:
            shown += f"\n# ... {len(lines) - _SHOWN_LINES:,} more lines: step.source has them all"
        return f"{size}\n\n```python\n{shown}\n```\n"


# The most lines of its code a notebook shows of a step.
_SHOWN_LINES = 400


def _equal(a: float, b: float) -> bool:
    """Equal numbers, nan equal to nan (and 0.0 to -0.0, as ``==`` has it)."""
    return a == b or (a != a and b != b)


def _is_computation(statement: str) -> bool:
    """Whether a line of the body computes a value (not a comment, guard, or grad update)."""
    skipped = ("#", "if ", "raise ", "with ", "return", "add_grads(")
    return not statement.startswith(skipped) and ".grad" not in statement


# What a line of the body assigns: a name, or a slot of a tape step (``v[7]``, ``g[3]``).
_TARGET = re.compile(r"(\w+(?:\[\d+\])?) \S?= ")


def trace(fn: Callable[..., Any], *example_args: Any) -> Step:
    """Record ``fn(*example_args)`` and return it as a compiled step.

    ``fn`` returns a scalar ``Value`` or a one-element ``Tensor`` computed from
    parameters (leaves that exist before the call, read afresh at each call) and
    the arguments (Values, Tensors, numbers, numpy arrays, lists of them).

    ``fn`` runs exactly once. Its number and array arguments are tracked, so
    leaves made from them are recomputed at each call, and its decisions on data
    (``if x > 100``) are checked at each call (docs/api.md has the rules).

    Raises:
        ValueError (``TraceError``): fn uses something a replay cannot recompute
            (a user-written ``_backward``, an argument also used as a parameter,
            one object at two argument positions), or the generated step
            disagrees with the eager engine on the example.

    >>> from tinygrad_bp import Value
    >>> w = Value(3.0, label="w")
    >>> step = trace(lambda x: (w * x).tanh(), 0.5)
    >>> loss = step(0.2)                     # tanh(0.6); adds 1 - tanh^2 times 0.2 to w.grad
    >>> round(loss, 6), round(w.grad, 6)
    (0.53705, 0.142316)
    >>> print(step.source.splitlines()[0])
    def step(a0):
    """
    if not callable(fn):
        raise TypeError(f"trace needs a function, got {type(fn).__name__}")
    # The graph's many live objects would set off collections that each traverse all of it.
    with collector_paused():
        recording = record(fn, example_args)
        if isinstance(recording.root, Tensor):
            engine: Any = tensor
        else:
            engine = tape if len(recording.order) >= tape.TAPE_FROM else scalar
        function, code = _code(recording, engine)
        step = Step(function, recording, code, on_tape=engine is tape)
        _agree_with_eager(step, recording, example_args)
    return step


def _code(recording: Recording, engine: Any) -> tuple[Callable[..., float], Code]:
    """The step written by ``engine`` (``scalar``, ``tape`` or ``tensor``), compiled."""
    body, closure_names, closure_objects = engine.generate(recording)
    lines = _source(recording.key, body).splitlines()
    factory = f"def make({', '.join([*closure_names, 'KEY', 'STATIC'])}):\n    "
    factory += "\n    ".join(lines) + "\n    return step\n"
    helpers = {**render.HELPERS, **engine.HELPERS, "mismatch": mismatch}
    namespace: dict[str, Any] = dict(helpers)
    exec(compile(factory, "<traced step>", "exec"), namespace)  # noqa: S102 (our own code)
    statics = patterns(recording.key)[1]
    function = namespace["make"](*closure_objects, recording.key, statics)
    uses = {**helpers, "KEY": recording.key, "STATIC": statics}
    uses.update(zip(closure_names, closure_objects))
    return function, Code("\n".join(lines) + "\n", body, uses)


def _source(key: Any, body: list[str]) -> str:
    """``def step(a0, ...):``, the arguments taken apart as traced (``unpack``), then ``body``."""
    arg_names = [f"a{i}" for i in range(len(key))]
    targets, statics = patterns(key)
    unpack = [f"{target} = {arg}" for target, arg in zip(targets, arg_names)]
    checks = [f"if not STATIC[{i}].matches(s{i}):" for i in range(len(statics))]
    packed = "(" + "".join(f"{arg}, " for arg in arg_names) + ")"
    lines = [f"def step({', '.join(arg_names)}):"]
    if unpack:
        lines += ["    try:", *("        " + line for line in unpack)]
        lines += ["    except (TypeError, ValueError):"]
        lines += [f"        raise mismatch(KEY, {packed}) from None"]
    for check in checks:
        lines += ["    " + check, f"        raise mismatch(KEY, {packed})"]
    lines += ["    " + line for line in body]
    return "\n".join(lines) + "\n"


def _agree_with_eager(step: Step, recording: Recording, args: tuple[Any, ...]) -> None:
    """Run the eager backward of the recorded graph and the step, from zero grads: same numbers.

    The eager sweep fills the grads of the arguments' stand-ins; the step, those of
    the arguments themselves.
    """
    stand_ins = {
        s.index: node
        for node in recording.order
        if (s := recording.sources.get(id(node))) and s.kind == "input"
    }
    given = [recording.leaves[k] for k in stand_ins]
    nodes = [*step.parameters, *given]
    saved = [node.grad for node in nodes]
    try:
        _zero([*step.parameters, *stand_ins.values()])
        recording.root.backward()
        eager = [_copy(node.grad) for node in [*step.parameters, *stand_ins.values()]]
        eager_loss = float(np.asarray(recording.root.data).reshape(-1)[0])
        _zero(nodes)
        loss = step(*args)
        for node, expected in zip(nodes, eager):
            if not _same(node.grad, expected):
                raise TraceError(
                    "trace: the generated step's gradients differ from the eager engine's "
                    f"(a {type(node).__name__} labelled {node.label!r})"
                )
        if not _same(loss, eager_loss):
            raise TraceError(f"trace: the generated step gives {loss!r}, eagerly {eager_loss!r}")
    finally:
        for node, grad in zip(nodes, saved):
            node.grad = grad


def _zero(nodes: list[Any]) -> None:
    for node in nodes:
        node.grad = 0.0 if isinstance(node, Value) else None


def _copy(grad: Any) -> Any:
    return grad.copy() if isinstance(grad, np.ndarray) else grad


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)) and (
        np.asarray(a).dtype == np.asarray(b).dtype or not isinstance(a, np.ndarray)
    )
