"""A micrograd closure run on private stand-ins: what a hand-built node sends its operands.

A node built micrograd's way, ``out = Value(x, (a, b), "op")`` with a closure the
user wrote assigned to ``out._backward``, knows its local derivatives only by
running: the closure reads g = ``out.grad`` and adds d(out)/d(child) * g to each
``child.grad``. ``grad`` needs those numbers without touching any ``.grad`` (another
thread may be sweeping the same graph at that moment), so the closure runs on
stand-ins: a new node with the node's data, op and label, over new leaves with
the operands' data and labels, whose grads belong to this call alone.

The user's closure is not changed. A new function is made from its code
(``types.FunctionType``), holding the stand-ins wherever the closure holds the
node or an operand: in its cells (micrograd's ``self``, ``other`` and ``out``), its
default arguments, the module globals its code names, and inside the lists, tuples,
sets, dicts, functions, ``functools.partial`` objects and bound methods found
there. A closure that holds one of them any other way (an attribute of an object
of its own class), or holds a Value that is not an operand (whose grad it might
write), is refused with a ValueError: it could only run on the graph's own grads.
Modules are not searched: a closure that reaches the nodes through a module's
attributes is beyond what can be seen from the closure.
"""

from __future__ import annotations

import dis
import functools
import types
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import numpy as np

from .engine import Value, to_float
from .graph import enable_grad

DEPTH_LIMIT = 100  # levels of nesting searched in what a closure holds

# Held by a closure, these hold no node: they are used as they are.
_ATOMS = (
    int,
    float,
    complex,
    str,
    bytes,
    type(None),
    range,
    np.generic,
    np.dtype,
    np.ufunc,
    type,
    types.ModuleType,
    types.BuiltinFunctionType,
    types.CodeType,
)


def sent_by_closure(node: Value, g: float) -> list[tuple[Value, float]]:
    """What ``node``'s micrograd closure adds to each operand's grad when node.grad = g.

    That is d(node)/d(child) * g for each operand, each once, in operand order (an
    operand used twice receives both terms). The closure runs on stand-ins: no
    ``.grad`` of the graph is read or written.

    Raises:
        ValueError: the closure holds the node, an operand or another Value in a way
            that cannot be pointed at a stand-in (see the module's docstring).

    >>> x = Value(3.0)
    >>> square = Value(x.data**2, (x,), "square")
    >>> def _backward():                   # d(x^2)/dx = 2x
    ...     x.grad += 2 * x.data * square.grad
    >>> square._backward = _backward
    >>> [(child is x, sent) for child, sent in sent_by_closure(square, 0.5)], x.grad
    ([(True, 3.0)], 0.0)
    """
    operands = list(dict.fromkeys(node.children))
    closure = node._user_backward
    if closure is None:  # micrograd's default _backward sends nothing
        return [(child, 0.0) for child in operands]
    stand_ins = {id(child): Value(child.data, label=child.label) for child in operands}
    with enable_grad():  # the stand-in node has the stand-in operands as children
        children = tuple(stand_ins[id(child)] for child in node.children)
        twin = Value(node.data, children, node.op, label=node.label)
    stand_ins[id(node)] = twin
    run = _Redirect(node, stand_ins).closure(closure)
    twin.grad = g
    for child in operands:
        stand_ins[id(child)].grad = 0.0
    run()
    return [(child, to_float(stand_ins[id(child)].grad)) for child in operands]


class _Refused(Exception):
    """Something held by the closure that cannot be pointed at a stand-in: ``what``."""


class _Redirect:
    """Copies of what a closure holds, with each of ``stand_ins`` (by ``id``) put in place.

    Only what holds a node is copied; the rest is used as it is.
    """

    def __init__(self, node: Value, stand_ins: dict[int, Value]) -> None:
        self.node = node
        self.stand_ins = stand_ins
        # id -> (the object, its copy or itself when it holds no node): the object is kept,
        # so that its id names no other object while this runs
        self.done: dict[int, tuple[Any, Any]] = {}
        self.open: set[int] = set()  # being copied now: met again, it contains itself
        self.cyclic: set[int] = set()

    def closure(self, closure: Callable[[], Any]) -> Callable[[], Any]:
        """The closure, or a new function like it running on the stand-ins."""
        kinds = (types.FunctionType, types.MethodType, functools.partial)
        try:
            if not isinstance(closure, kinds):
                raise _Refused(
                    f"is a {type(closure).__name__} object, not a function (a def or a "
                    "lambda), so what it reads cannot be pointed at stand-ins"
                )
            return self.swapped(closure, 0)
        except _Refused as refused:
            label = f" labelled {self.node.label!r}" if self.node.label else ""
            raise ValueError(
                f"grad: the _backward closure of the {self.node.op!r} node{label} {refused}; "
                "grad runs such a closure on private copies of the node and its operands, "
                "never on the graph's own grads (another thread may be using them). Capture "
                "the node and its operands directly, as micrograd's ops do, or use backward()"
            ) from None

    def swapped(self, x: Any, depth: int) -> Any:
        """``x`` with the stand-ins in place (``x`` itself when it holds no node)."""
        if id(x) in self.stand_ins:
            return self.stand_ins[id(x)]
        if isinstance(x, _ATOMS) or (isinstance(x, np.ndarray) and x.dtype != object):
            return x
        if isinstance(x, Value):
            label = f"labelled {x.label!r}, " if x.label else ""
            raise _Refused(
                f"holds a Value ({label}data {x.data:.6g}) that is not one of its operands, "
                "whose grad it might write"
            )
        if id(x) in self.done:
            return self.done[id(x)][1]
        if id(x) in self.open:
            self.cyclic.add(id(x))
            return x
        if depth > DEPTH_LIMIT:
            raise _Refused(f"holds objects nested more than {DEPTH_LIMIT} levels deep")
        self.open.add(id(x))
        try:
            result = self._copied(x, depth + 1)
        finally:
            self.open.discard(id(x))
        if result is not x and id(x) in self.cyclic:
            raise _Refused(f"holds a {type(x).__name__} that contains itself and a node")
        self.done[id(x)] = (x, result)
        return result

    def _copied(self, x: Any, depth: int) -> Any:
        kind = type(x)
        if kind in (list, tuple, set, frozenset):
            items = [self.swapped(item, depth) for item in x]
            same = all(new is old for new, old in zip(items, x))
            return x if same else kind(items)
        if kind is dict:
            pairs = [(self.swapped(k, depth), self.swapped(v, depth)) for k, v in x.items()]
            same = all(k is old_k and v is x[old_k] for (k, v), old_k in zip(pairs, x))
            return x if same else dict(pairs)
        if kind is types.FunctionType:
            return self._function(x, depth)
        if kind is types.MethodType:
            function, owner = self.swapped(x.__func__, depth), self.swapped(x.__self__, depth)
            same = function is x.__func__ and owner is x.__self__
            return x if same else types.MethodType(function, owner)
        if kind is functools.partial:
            parts = (x.func, x.args, x.keywords)
            func, args, keywords = new = self.swapped(parts, depth)
            return x if new is parts else functools.partial(func, *args, **keywords)
        # Anything else is searched, not copied: a node found in it is refused.
        where = f"an object of class {kind.__name__}"
        if isinstance(x, np.ndarray):  # of objects
            self._search((("an item", item) for item in x.flat), where, depth)
        elif isinstance(x, Mapping):
            self._search((("a key", key) for key in x), where, depth)
            self._search(((f"the item {key!r}", x[key]) for key in x), where, depth)
        elif isinstance(x, Collection):  # a subclass of list or tuple, a deque
            self._search((("an item", item) for item in x), where, depth)
        attributes = getattr(x, "__dict__", None)
        if isinstance(attributes, dict):
            named = ((f"the attribute {name!r}", value) for name, value in attributes.items())
            self._search(named, where, depth)
        return x

    def _search(self, parts: Iterable[tuple[str, Any]], where: str, depth: int) -> None:
        """``_Refused`` if a part of ``where`` holds a node: ``where`` cannot be copied."""
        for part, value in parts:
            if self.swapped(value, depth) is not value:
                raise _Refused(f"reaches a node through {part} of {where}, which grad cannot copy")

    def _function(self, function: types.FunctionType, depth: int) -> types.FunctionType:
        """A new function of the same code, with the stand-ins in its cells, defaults, globals."""
        cells = function.__closure__ or ()
        new_cells = tuple(self._cell(cell, depth) for cell in cells)
        defaults = self.swapped(function.__defaults__, depth)
        keyword_defaults = self.swapped(function.__kwdefaults__, depth)
        names = function.__globals__
        changed = {
            name: new
            for name in global_names(function.__code__)
            if name in names and (new := self.swapped(names[name], depth)) is not names[name]
        }
        same = (
            all(new is old for new, old in zip(new_cells, cells))
            and defaults is function.__defaults__
            and keyword_defaults is function.__kwdefaults__
            and not changed
        )
        if same:
            return function
        new_globals = {**names, **changed} if changed else names
        new = types.FunctionType(
            function.__code__, new_globals, function.__name__, defaults, new_cells or None
        )
        new.__kwdefaults__ = keyword_defaults
        return new

    def _cell(self, cell: types.CellType, depth: int) -> types.CellType:
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell: a name not yet assigned
            return cell
        new = self.swapped(contents, depth)
        return cell if new is contents else types.CellType(new)


@functools.lru_cache(maxsize=256)
def global_names(code: types.CodeType) -> frozenset[str]:
    """The global names ``code`` reads or writes, with those of the code nested in it.

    >>> global_names((lambda: math.cos(x.data)).__code__) == {"math", "x"}
    True
    """
    names = {
        instruction.argval
        for instruction in dis.get_instructions(code)
        if instruction.opname in ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL")
    }
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= global_names(constant)
    return frozenset(names)
