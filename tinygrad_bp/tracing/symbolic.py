"""A primitive's own rule run once on stand-ins, to read it back as numpy text.

``functions`` writes each primitive's ``forward`` and ``backward`` once, over
operators, the methods arrays share and an ``ops`` namespace. Run on numpy arrays
they compute; run on Tensors they record (second order); run here on ``Sym``
stand-ins they *write*: each stand-in holds the numpy expression that computes it
(``(d_h * (h > 0))``) and, for the shapes and dtypes a rule may ask about, its
value at trace time. The traced step then holds the rule's own arithmetic as
straight lines, with no call into the primitive and no second copy of any rule.

A rule that decides on the numbers themselves (``if zero.any()``, as ``Pow`` does)
can be written so only when those numbers are the same at every call: a stand-in
made from constants alone (``known``, the 2 of ``x ** 2``) answers; any other
refuses to be a bool, and the step calls that primitive's ``forward`` and
``backward`` instead (``Unexpressible``).

>>> text = Text(repr, lambda stem: stem)
>>> h = Sym.named("h", np.array([1.0, -2.0]))
>>> g = Sym.named("d_h", np.ones(2))
>>> vjp = g * (h > 0)
>>> text(vjp), vjp.value.tolist()
('(d_h * (h > 0))', [1.0, 0.0])
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

# Python operators and the infix text each is written as, in generated code.
INFIX = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.floordiv: "//",
    operator.mod: "%",
    operator.pow: "**",
    operator.matmul: "@",
    operator.lt: "<",
    operator.le: "<=",
    operator.gt: ">",
    operator.ge: ">=",
    operator.eq: "==",
    operator.ne: "!=",
    operator.and_: "&",
    operator.or_: "|",
    operator.xor: "^",
}


class Unexpressible(Exception):
    """The rule needs what a stand-in cannot give once for every call (a data-dependent bool)."""


def _value(x: Any) -> Any:
    if isinstance(x, Sym):
        return x.value
    if isinstance(x, (tuple, list)):
        return type(x)(_value(part) for part in x)
    if isinstance(x, dict):
        return {key: _value(part) for key, part in x.items()}
    return x


def _syms(x: Any) -> list[Sym]:
    if isinstance(x, Sym):
        return [x]
    if isinstance(x, (tuple, list)):
        return [s for part in x for s in _syms(part)]
    if isinstance(x, dict):
        return [s for part in x.values() for s in _syms(part)]
    return []


class Sym:
    """An array of a rule run at trace time: its numpy text (a name, or how it is made
    from other stand-ins) and its value then. Operators, numpy's functions and the
    array methods give new stand-ins; asking for the numbers raises ``Unexpressible``."""

    __array_priority__ = 1000

    def __init__(self, value: Any, how: tuple[Any, ...], name: str = "", known: bool = False):
        self.value = value
        self.how = how  # (kind, what, args, kwargs); kind "name" when ``name`` is set
        self.name = name
        self.uses = 0
        parts = _syms((how[2], how[3]))
        for part in parts:
            part.uses += 1
        self.known: bool = known or bool(parts) and all(part.known for part in parts)

    @classmethod
    def named(cls, name: str, value: Any, known: bool = False) -> Sym:
        """A stand-in that the step already holds under ``name`` (``known``: a constant)."""
        return cls(value, ("name", None, (), {}), name, known)

    def _numbers(self, what: str) -> Any:
        if not self.known:
            raise Unexpressible(f"the rule decides on the numbers ({what})")
        return self.value

    @classmethod
    def made(cls, kind: str, what: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Sym:
        """The stand-in of ``what`` applied to ``args``, its value computed as numpy would."""
        values, kw = _value(args), _value(kwargs)
        if kind == "infix":
            value = what(*values)
        elif kind == "method":
            value = getattr(values[0], what)(*values[1:], **kw)
        elif kind == "attribute":
            value = getattr(values[0], what)
        else:  # "call": a function of numpy's
            value = what(*values, **kw)
        return cls(value, (kind, what, args, kwargs))

    # what a rule may ask of an array without depending on its numbers
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: np.ndim(self.value))
    dtype = property(lambda self: self.value.dtype)
    size = property(lambda self: np.size(self.value))
    T = property(lambda self: Sym.made("attribute", "T", (self,), {}))

    def __len__(self) -> int:
        return len(self.value)

    def __bool__(self) -> bool:
        return bool(self._numbers("bool"))

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return np.asarray(self._numbers("array"), *args, **kwargs)

    def __iter__(self) -> Any:
        return iter(self._numbers("iter"))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in ("any", "all", "item", "tolist"):
            return getattr(self._numbers(name), name)
        if name in ("fill", "base", "flat", "data"):
            raise Unexpressible(f"the rule reads .{name}")
        if not callable(getattr(np.ndarray, name, None)):
            raise Unexpressible(f"the rule reads .{name}")
        return lambda *args, **kwargs: Sym.made("method", name, (self, *args), kwargs)

    def __getitem__(self, index: Any) -> Sym:
        return Sym.made("infix", operator.getitem, (self, index), {})

    def __neg__(self) -> Sym:
        return Sym.made("infix", operator.neg, (self,), {})

    def __invert__(self) -> Sym:
        return Sym.made("infix", operator.invert, (self,), {})

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Sym:
        if getattr(np, ufunc.__name__, None) is not ufunc or "out" in kwargs:
            raise Unexpressible(f"the rule calls {ufunc!r} as {method}")
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        return Sym.made("call", function, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Sym:
        if getattr(np, func.__name__, None) is not func:
            raise Unexpressible(f"the rule calls {func.__name__}")
        return Sym.made("call", func, tuple(args), kwargs)


def _binary(op: Any, reflected: bool = False) -> Callable[[Sym, Any], Sym]:
    if reflected:
        return lambda self, other: Sym.made("infix", op, (other, self), {})
    return lambda self, other: Sym.made("infix", op, (self, other), {})


for _op, _dunder in [
    (operator.add, "add"),
    (operator.sub, "sub"),
    (operator.mul, "mul"),
    (operator.truediv, "truediv"),
    (operator.floordiv, "floordiv"),
    (operator.mod, "mod"),
    (operator.pow, "pow"),
    (operator.matmul, "matmul"),
    (operator.and_, "and"),
    (operator.or_, "or"),
    (operator.xor, "xor"),
]:
    setattr(Sym, f"__{_dunder}__", _binary(_op))
    setattr(Sym, f"__r{_dunder}__", _binary(_op, reflected=True))
for _op, _dunder in [
    (operator.lt, "lt"),
    (operator.le, "le"),
    (operator.gt, "gt"),
    (operator.ge, "ge"),
    (operator.eq, "eq"),
    (operator.ne, "ne"),
]:
    setattr(Sym, f"__{_dunder}__", _binary(_op))
Sym.__hash__ = None  # type: ignore[assignment]


class SymbolicOps:
    """``ops`` for a rule run on stand-ins: each of ``ArrayOps``'s functions run on them.

    A function whose body is operators and numpy (``mask``: ``g * keep``) is run on the
    stand-ins and so inlined; one that needs real arrays (``scatter`` writes into
    zeros, and numpy refuses to store a stand-in) is written as a call of it, held
    by the step as ``ops``.
    """

    def __init__(self, ops: Any) -> None:
        self.ops = ops

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = getattr(self.ops, name)

        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception:  # noqa: BLE001 (numpy refuses a stand-in in many ways)
                return Sym.made("call", _OpsFunction(name, function), args, kwargs)

        return run


class _OpsFunction:
    """One of ``ArrayOps``'s functions, written as ``ops.<name>`` in the step."""

    def __init__(self, name: str, function: Callable[..., Any]) -> None:
        self.__name__, self.function = name, function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


class Text:
    """Writes stand-ins as numpy expressions; one used more than once gets a line of its own.

    ``constant`` writes anything else (a shape, an axis, a dtype; or a name the step
    holds it under), ``fresh`` hands out names for the lines (see ``lines``).
    """

    def __init__(self, constant: Callable[[Any], str], fresh: Callable[[str], str]) -> None:
        self.constant = constant
        self.fresh = fresh
        self.pending: list[str] = []

    def lines(self) -> list[str]:
        """The lines that name shared parts written since the last time (to run first)."""
        lines, self.pending = self.pending, []
        return lines

    def bind(self, sym: Sym, stem: str) -> str:
        """Give ``sym`` a line of its own under a fresh name from ``stem``; the name."""
        if not sym.name:
            text = self.expression(sym)
            sym.name = self.fresh(stem)
            self.pending.append(f"{sym.name} = {bare(text)}")
        return sym.name

    def __call__(self, x: Any) -> str:
        if isinstance(x, Sym):
            if x.known and not x.name:  # made from constants alone: its value, once
                return self.constant(x.value)
            if not x.name and x.uses > 1:
                return self.bind(x, _stem(x))
            return x.name or self.expression(x)
        if isinstance(x, tuple):
            return "(" + "".join(f"{self(part)}, " for part in x) + ")"
        if isinstance(x, list):
            return "[" + ", ".join(self(part) for part in x) + "]"
        if isinstance(x, slice):
            return f"slice({self(x.start)}, {self(x.stop)}, {self(x.step)})"
        return self.constant(x)

    def expression(self, sym: Sym) -> str:
        kind, what, args, kwargs = sym.how
        parts = [self(a) for a in args]
        named = [f"{key}={self(value)}" for key, value in kwargs.items()]
        if kind == "infix":
            if what is operator.getitem:
                index = args[1]
                inner = ", ".join(self(i) for i in index) if isinstance(index, tuple) else parts[1]
                return f"{parts[0]}[{inner or '()'}]"
            if what is operator.neg:
                return f"(-{parts[0]})"
            if what is operator.invert:
                return f"(~{parts[0]})"
            return f"({parts[0]} {INFIX[what]} {parts[1]})"
        if kind == "attribute":
            return f"{parts[0]}.{what}"
        if kind == "method":
            return f"{parts[0]}.{what}({', '.join([*parts[1:], *named])})"
        return f"{_function(what)}({', '.join([*parts, *named])})"


def _function(f: Any) -> str:
    if isinstance(f, _OpsFunction):
        return f"ops.{f.__name__}"
    owner = getattr(f, "__self__", None)
    if isinstance(owner, np.ufunc):  # np.maximum.reduce
        return f"np.{owner.__name__}.{f.__name__}"
    return f"np.{f.__name__}"


def _stem(sym: Sym) -> str:
    """A name for a shared part, from what makes it: ``exp``, ``top`` for a maximum."""
    kind, what, _, _ = sym.how
    name = getattr(what, "__name__", what if isinstance(what, str) else "")
    if kind == "call" and getattr(what, "__self__", None) is not None:
        name = what.__self__.__name__  # np.maximum.reduce
    return {"maximum": "top", "minimum": "bottom"}.get(
        name, name if name.isidentifier() else "part"
    )


def bare(text: str) -> str:
    """An expression without its outer parentheses, for the right of an assignment.

    >>> bare("(a + b)"), bare("(a) + (b)")
    ('a + b', '(a) + (b)')
    """
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for k, char in enumerate(text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and k < len(text) - 1:
                return text
        return text[1:-1]
    return text
