"""The first lines of a generated step: take the call's arguments apart, as at trace time.

The structure of the example arguments (``record.flatten``) becomes one
unpacking assignment per argument, ``(i0, i1), i2 = a0``, so a call with another
nesting or length fails right there; the generated step turns that failure into
a ValueError that names the difference.
"""

from __future__ import annotations

from typing import Any

from .recording import TraceError, flatten


def patterns(key: tuple[Any, ...]) -> tuple[list[str], list[Any]]:
    """One unpacking target per argument (``i<k>`` for argument leaf k), and the static parts.

    >>> patterns(("number", ("list", ("number", "number"))))
    (['i0', '[i1, i2]'], [])
    """
    counter = iter(range(1 << 62))
    statics: list[Any] = []

    def walk(part: Any) -> str:
        if isinstance(part, tuple) and part and part[0] in ("list", "tuple"):
            return "[" + ", ".join(walk(item) for item in part[1]) + "]"
        if isinstance(part, tuple) and part and part[0] == "static":
            statics.append(part[1])
            return f"s{len(statics) - 1}"
        return f"i{next(counter)}"

    return [walk(part) for part in key], statics


def mismatch(key: tuple[Any, ...], args: tuple[Any, ...]) -> TraceError:
    """The error for a call whose arguments are not shaped like the example's."""
    new_key, _ = flatten(args)
    if len(new_key) != len(key):
        return TraceError(f"step takes {len(key)} arguments as traced, given {len(new_key)}")
    for position, (old, new) in enumerate(zip(key, new_key)):
        if old != new:
            return TraceError(
                f"step: argument {position} is {_describe(new)}, traced with {_describe(old)}; "
                "trace again for another shape"
            )
    return TraceError("step: the arguments differ from the example's")


def _describe(part: Any) -> str:
    if isinstance(part, tuple) and part and part[0] in ("list", "tuple"):
        return f"a {part[0]} of {len(part[1])}"
    if isinstance(part, tuple) and part and part[0] in ("Tensor", "array"):
        return (
            f"a {'Tensor' if part[0] == 'Tensor' else 'numpy array'} of shape {part[1]} ({part[2]})"
        )
    if isinstance(part, tuple) and part and part[0] == "static":
        return repr(part[1])[:40]
    return f"a {part}"
