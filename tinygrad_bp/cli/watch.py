"""``watch``: a live page on which a network trains, or ``--record`` a run as one page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .arguments import (
    EXIT_INTERRUPTED,
    PROG,
    UsageError,
    port,
    positive_float,
    positive_int,
    seed,
    widths,
)


def add_parser(commands: Any) -> None:
    from ..watch import record, session

    command = commands.add_parser(
        "watch",
        help="a live page on which a network trains (or --record a run as one page)",
        description="Serve, on 127.0.0.1 only, a page on which a scalar MLP (sigmoid output "
        "unit, loss J = 1/2 sum (y - o)^2, plain gradient descent) trains live: the network "
        "with its weights, the decision boundary, the loss curve, and each neuron's delta "
        "rule with the numbers plugged in. The page starts paused; Ctrl-C stops the server. "
        f"Limits: at most {session.MAX_LAYERS} hidden layers of {session.MAX_WIDTH} units, "
        f"lr at most {session.MAX_LR:g}.",
        epilog=f"--record PAGE writes a finished run of --epochs epochs (at most "
        f"{record.MAX_EPOCHS}) as one self-contained page with a slider, keeping at most "
        f"{record.MAX_FRAMES} frames (epochs sampled evenly). Example: {PROG} watch --dataset "
        "moons --hidden 8 --record moons.html --epochs 500",
    )
    hidden = ", ".join(
        f"{name} {','.join(map(str, sizes))}" for name, sizes in session.DEFAULT_HIDDEN.items()
    )
    rates = ", ".join(f"{name} {lr:g}" for name, lr in session.DEFAULT_LR.items())
    command.add_argument("--dataset", choices=session.DATASETS, default="xor")
    command.add_argument(
        "--hidden", type=widths, help=f"hidden widths, e.g. 8,8; 0 for none ({hidden})"
    )
    command.add_argument("--activation", choices=session.ACTIVATIONS, default="sigmoid")
    command.add_argument("--lr", type=positive_float, help=f"learning rate ({rates})")
    command.add_argument("--batch", action="store_true", help="one update per epoch, not online")
    command.add_argument("--seed", type=seed, default=0, help="seed of data and weights (0)")
    command.add_argument("--port", type=port, default=8765, help="0 picks a free one")
    command.add_argument("--no-browser", action="store_true", help="only print the page's URL")
    command.add_argument("--record", metavar="PAGE", help="write a finished run to PAGE instead")
    command.add_argument("--epochs", type=positive_int, help="epochs to --record (default 1000)")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..train import ProgressBar
    from ..watch import record, server, session

    try:
        config = session.make_config(
            dataset=args.dataset,
            hidden=args.hidden,
            activation=args.activation,
            lr=args.lr,
            seed=args.seed,
            online=not args.batch,
        )
    except ValueError as error:
        raise UsageError(f"{error} (see {PROG} watch --help)") from None
    if args.record is None:
        if args.epochs is not None:
            raise UsageError("--epochs goes with --record PAGE")
        try:
            httpd = server.WatchServer(session.Session(config), args.port)
        except OSError as error:
            message = f"cannot listen on 127.0.0.1:{args.port}: {error.strerror}"
            raise UsageError(f"{message} (--port 0 picks a free port)") from None
        return server.serve(httpd, open_browser=not args.no_browser)
    epochs = 1000 if args.epochs is None else args.epochs
    if epochs > record.MAX_EPOCHS:
        raise UsageError(f"--epochs: at most {record.MAX_EPOCHS}, got {epochs}")
    if not Path(args.record).parent.is_dir():
        raise UsageError(f"{args.record}: no such directory {Path(args.record).parent}")
    bar = ProgressBar(epochs)
    try:
        done = record.record(config, epochs, args.record, on_epoch=bar.update)
    except KeyboardInterrupt:  # while the page was being written: the old file stays
        print(f"interrupted; {args.record} not written")
        return EXIT_INTERRUPTED
    finally:
        bar.close()
    if done.interrupted:
        print(f"interrupted at epoch {done.epochs}; wrote {done.path} ({done.frames} frames)")
        return EXIT_INTERRUPTED
    print(f"wrote {done.path}: {done.epochs} epochs, {done.frames} frames")
    return 0
