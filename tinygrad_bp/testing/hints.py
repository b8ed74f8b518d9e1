"""Hints: what a pattern of failures says about the student's code.

A failing check names a symptom (``d/da of a * a + (a + a) is 1.0, expected
2.0``); a pattern of results names the cause a student can act on. Each hint
below is keyed to a signature over the results, e.g. "accumulation fails
while add and mul pass": the single-use ops are right, so the mistake is in how
gradients of a node used twice combine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .reports import CheckResult

__all__ = ["HINTS", "hints_for"]

Results = dict[str, CheckResult]


def _status(results: Results, name: str) -> str:
    result = results.get(name)
    return "" if result is None else result.status


def _failed_with(results: Results, name: str, text: str) -> bool:
    result = results.get(name)
    return result is not None and result.status == "fail" and text in result.detail


def _lacks(results: Results, name: str) -> bool:
    result = results.get(name)
    return result is not None and "has no" in result.detail and result.status != "pass"


def _overwrites(results: Results) -> bool:
    singles = _status(results, "add") == _status(results, "mul") == "pass"
    return singles and _status(results, "accumulation") == "fail"


def _recursive_sort(results: Results) -> bool:
    return _failed_with(results, "deep_chain", "RecursionError")


def _unhashable(results: Results) -> bool:
    return any("unhashable type" in r.detail for r in results.values() if r.status == "fail")


def _order(results: Results) -> bool:
    reuse = _status(results, "branch_reuse") == "fail"
    return reuse and _status(results, "accumulation") == "pass"


def _tanh(results: Results) -> bool:
    return _failed_with(results, "tanh", "d/da of a.tanh()")


def _pow(results: Results) -> bool:
    return _failed_with(results, "pow", "d/da of a ** p")


def _second_order_failure(results: Results) -> dict[str, object]:
    """The shrunk failure of the second-order check ({} unless it failed with one)."""
    result = results.get("second_order")
    if result is None or result.status != "fail" or not result.failure:
        return {}
    return result.failure


def _flat_curvature(results: Results) -> bool:
    failure = _second_order_failure(results)
    return str(failure.get("what", "")).startswith("(H v)") and failure.get("got") == 0.0


def _tanh_curvature(results: Results) -> bool:
    inputs = str(_second_order_failure(results).get("inputs", ""))
    tanh = "tanh(" in inputs and _status(results, "tanh") == "pass"
    return tanh and not _flat_curvature(results)  # all second derivatives 0: not tanh's fault


def _never_seeded(results: Results) -> bool:
    failed = [r for r in results.values() if r.status == "fail" and r.failure]
    return len(failed) >= 3 and all(r.failure.get("got") == 0.0 for r in failed if r.failure)


HINTS: tuple[tuple[Callable[[Results], bool], str], ...] = (
    (
        _overwrites,
        "a node used twice must add up its gradients: `+=`, not `=` in each _backward",
    ),
    (
        _order,
        "a node's gradient is complete only once every node that uses it has passed its "
        "share back: call the _backward functions in reverse topological order",
    ),
    (
        _recursive_sort,
        "a recursive topological sort runs out of stack on a deep graph; write it with "
        "an explicit stack (a list you push and pop)",
    ),
    (
        lambda r: _lacks(r, "radd"),
        "`sum(values)` computes `0 + values[0]` first: define `__radd__` (return self + other)",
    ),
    (
        lambda r: _lacks(r, "rmul"),
        "`2 * x` asks int first, then `x.__rmul__(2)`: define `__rmul__` (return self * other)",
    ),
    (
        lambda r: _lacks(r, "rsub") or _lacks(r, "rdiv"),
        "`1 - x` and `1 / x` need `__rsub__` and `__rtruediv__` (other - self, other * self**-1)",
    ),
    (
        _unhashable,
        "defining `__eq__` makes Values unhashable, so a set of visited nodes fails: "
        "keep `__hash__ = object.__hash__` or track visited nodes by `id(node)`",
    ),
    (_tanh, "d tanh(a)/da = 1 - t**2 with t = tanh(a), the op's output"),
    (_pow, "d(a**p)/da = p * a**(p - 1), with p a plain number"),
    (
        _flat_curvature,
        "second derivatives come out 0: with create_graph=True, grad must build each local "
        "derivative from the nodes with the engine's own ops (d(a * b)/da is the node b, not "
        "a new Value(b.data)), so that it can be differentiated again",
    ),
    (
        _tanh_curvature,
        "for grad(create_graph=True), tanh's local derivative must be the node 1 - t * t, "
        "with t the op's output node: differentiated again it gives -2t (1 - t**2) "
        "(1 - t, or 1 - t * t.data, have another derivative)",
    ),
    (
        _never_seeded,
        "every gradient stays 0: backward() must set the output's grad to 1 before "
        "walking the graph",
    ),
)


def hints_for(results: Sequence[CheckResult]) -> tuple[str, ...]:
    """The hints whose signatures match these results, in the order of ``HINTS``.

    >>> from tinygrad_bp.testing.reports import CheckResult as R
    >>> hints_for([R("add", "pass", "a + b"), R("mul", "pass", "a * b"),
    ...            R("accumulation", "fail", "a=0.0: d/da is 1.0, expected 2.0")])[0][:38]
    'a node used twice must add up its grad'
    """
    by_name = {result.name: result for result in results}
    return tuple(hint for matches, hint in HINTS if matches(by_name))
