"""``python -m tinygrad_bp`` and the ``tinygrad-bp`` command: the command line, run by ``run``.

Importing the command line takes as long as the rest of the package (argparse,
tqdm, the HTTP server, the pictures): ``run`` imports it itself, so that a Ctrl-C
in that time ends as any other Ctrl-C does, with status 130 and one line, not a
traceback. (A Ctrl-C while Python imports the package itself, before this module
runs, still shows Python's own traceback: no code of the package runs yet.)
"""

import sys

# The CLI's own status and line for Ctrl-C (cli.arguments), repeated here because
# importing the CLI to read them is what may be interrupted.
EXIT_INTERRUPTED = 130
INTERRUPTED = "tinygrad-bp: interrupted"


def run() -> int:
    """Import the command line and run it; the exit status (``cli.main``'s).

    Example:
        >>> run.__module__
        'tinygrad_bp.__main__'
    """
    try:
        from .cli import main
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    return main()


if __name__ == "__main__":
    sys.exit(run())
