"""Grade any micrograd-style autograd engine: Hypothesis strategies and ``check_engine``.

- ``catalogue``: the op catalogue (each op, its reference and its domain), shared
  by the grader and by the tests of our own engines.
- ``strategies``: public Hypothesis strategies (``programs``,
  ``sigmoid_networks``, ``broadcastable_shapes``) for tests of any engine.
- ``checks``: the grader, ``check_engine(Value)``: each property, judged here
  against oracles; ``curvature``, the oracles of second derivatives; ``runner``
  runs one with Hypothesis (cases passed, a shrunk failure); ``hints`` maps
  failure patterns to causes.
- ``isolation`` and ``probes``: the sandboxed child that holds the student's class
  and answers with numbers; ``loader``: ``load_class``, run in that child.
- ``reports`` and ``formats``: ``EngineReport`` and its text, JSON, Gradescope,
  PrairieLearn and JUnit forms; ``seeding``: per-student cases.
- ``command`` and ``bundle``: ``tinygrad-bp check-engine`` and the autograder
  bundles it makes for course platforms.

Hypothesis is a test dependency of tinygrad_bp, not a core one: importing this
package without it raises ImportError saying how to install it.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as error:  # Hypothesis is a test dependency, not a core one
    raise ImportError("tinygrad_bp.testing needs Hypothesis: pip install hypothesis") from error

from .catalogue import CATALOGUE, OPS, Arg, OpCheck, op_named
from .checks import CHAIN_DEPTH, CHECKS, EPS, PROFILES, TIMEOUT, GradingInterrupted, check_engine
from .loader import load_class
from .probes import SIGMOIDS
from .reports import CheckResult, EngineReport, Status
from .seeding import student_seed
from .strategies import (
    FLOAT_METHODS,
    PROGRAM_OPS,
    Program,
    ProgramOp,
    broadcastable_shapes,
    programs,
    sigmoid_networks,
)

__all__ = [
    "CATALOGUE",
    "CHAIN_DEPTH",
    "CHECKS",
    "EPS",
    "PROFILES",
    "FLOAT_METHODS",
    "SIGMOIDS",
    "TIMEOUT",
    "Status",
    "OPS",
    "PROGRAM_OPS",
    "Arg",
    "CheckResult",
    "EngineReport",
    "GradingInterrupted",
    "OpCheck",
    "Program",
    "ProgramOp",
    "broadcastable_shapes",
    "check_engine",
    "load_class",
    "op_named",
    "programs",
    "sigmoid_networks",
    "student_seed",
]
