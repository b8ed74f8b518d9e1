"""``xor``: train the 2-2-1 sigmoid network on XOR (the flow is ``tinygrad_bp.xor``)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .. import xor
from ..nn import MLP, get_weights
from .arguments import (
    MAX_EPOCHS,
    epochs,
    out_dir,
    path_text,
    positive_float,
    positive_int,
    report_files,
    seed,
)
from .training import (
    LossLog,
    add_model_files,
    check_save_path,
    interrupted,
    load_model,
    save_model,
    write_history,
)

TITLE = "XOR truth table, 2-2-1 sigmoid network, online SGD: J per epoch"


def add_parser(commands: Any) -> None:
    command = commands.add_parser(
        "xor",
        help="train the 2-2-1 sigmoid network on XOR",
        description="Online gradient descent on J = 1/2 sum (y - o)^2 until J < epsilon. "
        "Ctrl-C stops it with status 130, after writing the loss so far (with --out).",
    )
    command.add_argument("--lr", type=positive_float, default=2.0, help="learning rate")
    command.add_argument(
        "--epochs", type=epochs, default=5000, help=f"most epochs, at most {MAX_EPOCHS:,}"
    )
    command.add_argument(
        "--epsilon", type=positive_float, default=0.01, help="stop when J < epsilon"
    )
    command.add_argument("--seed", type=seed, default=1, help="seed of the initial weights")
    command.add_argument(
        "--print-every", type=positive_int, default=50, help="epochs between lines"
    )
    command.add_argument("--quiet", action="store_true", help="print only the result")
    command.add_argument(
        "--out",
        type=path_text,
        metavar="DIR",
        help="write the loss (PNG and CSV), boundary and network here",
    )
    add_model_files(command)
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = out_dir(args)
    check_save_path(args.save)
    net = MLP(2, [2, 1], rng=args.seed)
    start = f"seed {args.seed}"
    if args.load is not None:
        load_model(net, args.load)
        start = f"from {args.load}"
    print(f"Training the 2-2-1 sigmoid network on XOR: online SGD, lr {args.lr}, {start}")
    log = LossLog(args, args.print_every, "J")
    try:
        trained = xor.train_xor(
            net,
            lr=args.lr,
            epochs=args.epochs,
            epsilon=args.epsilon,
            progress=False if args.quiet else None,
            on_epoch=log,
        )
    except KeyboardInterrupt:
        return interrupted(out, "xor", TITLE, log, args.epochs)
    history = trained.history
    status = "converged" if history.converged else "did not reach epsilon"
    print(f"{status} after {history.epochs} epochs, J = {history.losses[-1]:.6f}")
    print("\n x1  x2 | target  output")
    for x_row, target, output in zip(trained.X, trained.y, trained.outputs):
        print(f" {x_row[0]:.0f}   {x_row[1]:.0f}  |   {target:.0f}     {output:.4f}")
    print(f"\n{trained.correct}/4 outputs on the right side of 0.5")
    print("learnt weights (bias row first):")
    for w in get_weights(net):
        print(np.array2string(w, precision=4))
    save_model(net, args.save)
    if out is not None:
        boundary, network = xor.xor_pictures(
            trained,
            out,
            "XOR truth table: the learnt 2-2-1 network's output",
            "XOR truth table: the learnt weights",
        )
        history_files = write_history(out, "xor", TITLE, history.losses, "J = ½ Σ (y − o)²")
        report_files([*history_files, boundary, network])
    return 0 if trained.correct == 4 else 1
