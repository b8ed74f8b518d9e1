"""Run one property with Hypothesis: count the cases that pass, then shrink a failure.

``run_property(strategy, body, cases, seed)`` draws ``cases`` examples and calls
``body`` on each (the body raises when the property fails there). It returns a
``Tally``: how many cases ran and passed (the partial credit), and, when one
failed, the smallest failing example Hypothesis could shrink it to, with its
error. Counting and shrinking are two Hypothesis runs over the same seed: the
first records every case without stopping at a failure, the second stops at the
first failure and shrinks it.

``seed`` None draws the same examples on every run (``derandomize``); an int
draws the examples that seed gives (``--student``). Nothing is stored: no example
database; and ``private_storage`` points the folder where Hypothesis caches
what it learns (the constants of local modules, by default ``.hypothesis`` in the
current directory, which is the student's) at a temporary one for the run.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

__all__ = ["Tally", "private_storage", "run_property"]


@contextlib.contextmanager
def private_storage() -> Iterator[None]:
    """Hypothesis writes into a temporary folder (removed after) instead of ``.hypothesis``."""
    before = storage_directory(intent_to_write=False).home_directory
    with tempfile.TemporaryDirectory(prefix="grader-hypothesis-") as home:
        set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            set_hypothesis_home_dir(before)


@dataclass
class Tally:
    """What one property run found.

    Attributes:
        cases: how many cases ran.
        passed: how many of them passed.
        example: the smallest failing example found (None if every case passed).
        error: the exception the body raised on it.
        counted: whether every case ran (shrinking may still have been cut short).
    """

    cases: int = 0
    passed: int = 0
    example: Any = None
    error: BaseException | None = None
    counted: bool = False


def _settings(cases: int, seed: int | None, phases: tuple[Phase, ...]) -> settings:
    return settings(
        max_examples=cases,
        database=None,
        derandomize=seed is None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )


def _prepared(
    test: Callable[[], None], seed: int | None, explicit: tuple[Any, ...]
) -> Callable[[], None]:
    """``test`` with the explicit examples first, and the seed if there is one."""
    for case in reversed(explicit):
        test = example(case)(test)
    return test if seed is None else hypothesis_seed(seed)(test)


def run_property(
    strategy: st.SearchStrategy[Any],
    body: Callable[[Any], None],
    cases: int,
    seed: int | None = None,
    tally: Tally | None = None,
    explicit: tuple[Any, ...] = (),
) -> Tally:
    """Run ``body`` on ``cases`` examples of ``strategy``: the tally, failure shrunk.

    ``explicit`` examples run first, before the drawn ones. ``tally`` (filled in
    as cases run) may be passed so that a caller that is
    interrupted (a BaseException from ``body``, which propagates) keeps the
    counts so far.

    >>> def body(x):
    ...     assert x < 10, f"{x} is too large"
    >>> tally = run_property(st.integers(0, 100), body, cases=50)
    >>> tally.passed < tally.cases == 50, tally.example, str(tally.error)
    (True, 10, '10 is too large')
    """
    tally = Tally() if tally is None else tally

    @_settings(cases, seed, (Phase.explicit, Phase.generate))
    @given(strategy)
    def count(case: Any) -> None:
        tally.cases += 1
        try:
            body(case)
        except Exception as error:
            if tally.error is None:  # the first failure, until a shrunk one replaces it
                tally.example, tally.error = case, error
            return
        tally.passed += 1

    _prepared(count, seed, explicit)()
    tally.counted = True
    if tally.error is None:
        return tally
    failures: list[tuple[Any, Exception]] = []

    @_settings(cases, seed, (Phase.explicit, Phase.generate, Phase.shrink))
    @given(strategy)
    def shrink(case: Any) -> None:
        try:
            body(case)
        except Exception as error:
            failures.append((case, error))
            raise

    try:
        _prepared(shrink, seed, ())()
    except Exception:  # the shrunk failure, replayed last
        if failures:
            tally.example, tally.error = failures[-1]
    return tally
