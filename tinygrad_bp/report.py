"""The shape every verdict of tinygrad_bp shares: truthy when its claim holds, printable.

``gradcheck``, ``check_vjp`` and the engine grader each return a report: a frozen
dataclass whose ``ok`` (a field, or a property computed from the fields) says
whether the claim holds, so that ``if report:`` and ``assert report`` read as
English, and whose ``str()`` is what a person reads. This module imports nothing
from the package, so that any layer can build on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING


class Report:
    """Base of the report classes: ``bool(report)`` is ``report.ok``.

    A subclass defines ``ok`` (a field or a property) and ``__str__``.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Parity(Report):
    ...     number: int
    ...     @property
    ...     def ok(self) -> bool:
    ...         return self.number % 2 == 0
    >>> bool(Parity(4)), bool(Parity(3)), Parity(3).verdict
    (True, False, 'FAILED')
    """

    __slots__ = ()

    if TYPE_CHECKING:  # declared for type checkers only: a field in some reports

        @property
        def ok(self) -> bool:
            """Whether the claim the report is about holds."""

    def __bool__(self) -> bool:
        return bool(self.ok)

    @property
    def verdict(self) -> str:
        """``"passed"`` or ``"FAILED"``: the word a printed report starts with."""
        return "passed" if self.ok else "FAILED"
