"""What every script in examples/ shares: its two command-line options, and matplotlib.

``python examples/some_script.py`` puts examples/ on ``sys.path``, so each script
imports this file as ``from common import example_options``. Every script plots,
so ``example_options`` also checks, before any training, that matplotlib can be
imported: without it the script ends at once with one line saying how to install
it (exit status 2), not with a traceback after the work is done.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tinygrad_bp.viz import INSTALL_MATPLOTLIB


def example_options(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the two options every script takes, and create the output folder.

    ``--out DIR`` (default ``out``): where the plots go. ``--fast``: shrink epochs and
    seeds so that the script runs in a few seconds (as the tests run it).

    Example:
        >>> import tempfile
        >>> options = example_options("demo", ["--fast", "--out", tempfile.mkdtemp() + "/new"])
        >>> options.fast, options.out.is_dir()
        (True, True)
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--fast", action="store_true", help="a quick run with fewer epochs")
    options = parser.parse_args(argv)
    require_matplotlib()
    options.out.mkdir(parents=True, exist_ok=True)
    return options


def require_matplotlib() -> None:
    """Exit with status 2 and one line on stderr unless matplotlib can be imported."""
    try:
        import matplotlib.figure  # noqa: F401  (what viz's plots draw on)
    except ImportError:
        script = Path(sys.argv[0]).name or "this example"
        print(f"{script} needs matplotlib for its plots: {INSTALL_MATPLOTLIB}", file=sys.stderr)
        raise SystemExit(2) from None
