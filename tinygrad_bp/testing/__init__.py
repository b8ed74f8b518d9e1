"""Grade any micrograd-style autograd engine: Hypothesis strategies and ``check_engine``.

- ``catalogue``: the op catalogue (each op, its reference and its domain), shared
  by the grader and by the tests of our own engines.
- ``strategies``: public Hypothesis strategies (``programs``,
  ``sigmoid_networks``, ``broadcastable_shapes``) for tests of any engine.
- ``checks``: the grader, ``check_engine(Value)``, its reports, and ``load_class``.
- ``isolation``: how each check runs in a child process with a time limit.

Hypothesis is a test dependency of tinygrad_bp, not a core one: importing this
package without it raises ImportError saying how to install it.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as error:  # Hypothesis is a test dependency, not a core one
    raise ImportError("tinygrad_bp.testing needs Hypothesis: pip install hypothesis") from error

from .catalogue import CATALOGUE, OPS, Arg, OpCheck, op_named
from .checks import (
    CHAIN_DEPTH,
    EPS,
    SIGMOIDS,
    TIMEOUT,
    CheckResult,
    EngineReport,
    Status,
    check_engine,
    load_class,
)
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
    "EPS",
    "FLOAT_METHODS",
    "SIGMOIDS",
    "TIMEOUT",
    "Status",
    "OPS",
    "PROGRAM_OPS",
    "Arg",
    "CheckResult",
    "EngineReport",
    "OpCheck",
    "Program",
    "ProgramOp",
    "broadcastable_shapes",
    "check_engine",
    "load_class",
    "op_named",
    "programs",
    "sigmoid_networks",
]
