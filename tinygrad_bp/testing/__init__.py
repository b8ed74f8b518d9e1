"""Grade any micrograd-style autograd engine: Hypothesis strategies and ``check_engine``."""

from .checks import *  # noqa: F403
from .checks import CHAIN_DEPTH, EPS, __all__, _require_value_class  # noqa: F401
