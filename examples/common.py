"""What every script in examples/ shares: its two command-line options.

``python examples/some_script.py`` puts examples/ on ``sys.path``, so each script
imports this file as ``from common import example_options``.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path


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
    options.out.mkdir(parents=True, exist_ok=True)
    return options
