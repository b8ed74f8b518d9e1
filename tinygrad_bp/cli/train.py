"""``train``: train a tensor MLP on a toy data set and plot what it learnt."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .. import data, viz
from ..nn import ACTIVATIONS, tensor_mlp
from ..train import OPTIMIZERS, train_on_dataset
from .arguments import (
    MAX_BATCH_UNITS,
    MAX_EPOCHS,
    MAX_HIDDEN_LAYERS,
    MAX_POINTS,
    MAX_TRAIN_WEIGHTS,
    MAX_TRAIN_WORK,
    PROG,
    UsageError,
    epochs,
    out_dir,
    path_text,
    point_count,
    positive_float,
    positive_int,
    report_files,
    say,
    seed,
    test_fraction,
    weight_count,
    widths,
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

# The activations a hidden layer may have: those of the one table with a module.
HIDDEN_ACTIVATIONS = tuple(name for name, row in ACTIVATIONS.items() if row.module is not None)


def add_parser(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train a tensor MLP on a toy data set",
        description="Train a tensor MLP with a sigmoid output unit (binary cross-entropy for "
        "the classification sets, mean squared error for sine) on part of the points, "
        "report how it does on the points held out, and plot the result. Limits, checked "
        f"before training: {MAX_POINTS:,} points, {MAX_HIDDEN_LAYERS} hidden layers, "
        f"{MAX_TRAIN_WEIGHTS:,} weights, {MAX_BATCH_UNITS:,} activations per batch (points "
        f"per batch x units), {MAX_TRAIN_WORK:,} multiply-adds in all (epochs x points x "
        "weights). Ctrl-C stops it with status 130, after writing the loss so far (with --out).",
    )
    train.add_argument("dataset", choices=data.DATASETS, help="the data set")
    train.add_argument(
        "--hidden",
        type=widths,
        default=[8],
        help="hidden widths, e.g. 16,16; 0 for no hidden layer (the tutorial's two-layer "
        "network: the inputs straight into the sigmoid output unit)",
    )
    train.add_argument(
        "--activation",
        choices=HIDDEN_ACTIVATIONS,
        default="tanh",
        help="the hidden units' activation",
    )
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam", help="optimiser")
    train.add_argument("--lr", type=positive_float, default=0.05, help="learning rate")
    train.add_argument("--epochs", type=epochs, default=500, help=f"epochs, at most {MAX_EPOCHS:,}")
    train.add_argument("--batch-size", type=positive_int, help="default: all training points")
    train.add_argument(
        "--n", type=point_count, default=200, help=f"number of points, at most {MAX_POINTS:,}"
    )
    train.add_argument(
        "--test-fraction",
        type=test_fraction,
        default=0.25,
        help="part of the points held out to test on (xor's 4 rows are all trained on)",
    )
    train.add_argument("--seed", type=seed, default=0, help="seed of data, split and weights")
    train.add_argument("--quiet", action="store_true", help="print only the result")
    train.add_argument(
        "--out",
        type=path_text,
        metavar="DIR",
        help="write the loss (PNG and CSV) and boundary/fit plots here",
    )
    add_model_files(train)
    train.add_argument("--no-compile", action="store_true", help="run every step eagerly")
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = out_dir(args)
    check_save_path(args.save)
    points, inputs, table = _dataset_shape(args.dataset, args.n)
    fraction = 0.0 if table else args.test_fraction
    held_out = min(round(fraction * points), points - 1)  # as train.split rounds it
    sizes = [inputs, *args.hidden, 1]
    _check_size(args, sizes, points - held_out)
    model = None
    if args.load is not None:
        model = tensor_mlp(sizes, args.activation, "sigmoid")
        load_model(model, args.load)
    if args.hidden:
        shape = f"hidden layers {','.join(map(str, args.hidden))} ({args.activation})"
    else:
        shape = "no hidden layer (the tutorial's two-layer network: inputs into one sigmoid unit)"
    if table:
        split = f"all {points} rows of the truth table (too few to hold any out)"
    else:
        split = f"{points - held_out} points, {held_out} held out for testing"
    say(args, f"Training {args.dataset} on {split}: {shape}, {weight_count(sizes):,} weights")
    log = LossLog(args, max(1, args.epochs // 10), "loss")
    kind = "binary cross-entropy" if args.dataset != "sine" else "mean squared error"
    title = f"{args.dataset}, {'-'.join(map(str, sizes))} network: {kind} per epoch"
    try:
        trained = train_on_dataset(
            args.dataset,
            hidden=args.hidden,
            activation=args.activation,
            optimizer=args.optimizer,
            lr=args.lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            n=args.n,
            progress=False if args.quiet else None,
            on_epoch=log,
            test_fraction=fraction,
            model=model,
            compile=not args.no_compile,
        )
    except KeyboardInterrupt:
        return interrupted(out, args.dataset, title, log, args.epochs)
    print(f"final loss {trained.history.losses[-1]:.6f} after {trained.history.epochs} epochs")
    if trained.classification:
        tested = f", test accuracy {trained.test_accuracy:.1%}" if held_out else ""
        print(f"training accuracy {trained.accuracy:.1%}{tested}")
    elif held_out:
        error = np.mean((trained.predict(trained.X_test) - trained.y_test) ** 2)
        print(f"test mean squared error {error:.6f}")
    save_model(trained.model, args.save)
    if out is not None:
        name = args.dataset
        paths = write_history(out, name, title, trained.history.losses, kind)
        if trained.classification:
            boundary_title = f"{name} data set: the trained network's decision boundary"
            paths.append(
                viz.plot_decision_boundary(
                    trained.predict,
                    trained.X,
                    trained.y,
                    out / f"{name}_boundary.png",
                    boundary_title,
                )
            )
        else:
            fit_title = f"{name} data set: the trained network's function"
            paths.append(
                viz.plot_fitted_curve(
                    trained.predict, trained.X, trained.y, out / f"{name}_fit.png", fit_title
                )
            )
        report_files(paths)
    return 0


def _dataset_shape(name: str, n: int) -> tuple[int, int, bool]:
    """(points, inputs, is a fixed truth table) of the data set ``train`` loads with ``n``.

    Read from a sample of 3 points: a truth table (xor) ignores n and keeps its 4 rows.
    """
    sample = data.load(name, n=3, rng=0)[0]
    table = len(sample) != 3
    return (len(sample) if table else n), sample.shape[1], table


def _check_size(args: argparse.Namespace, sizes: list[int], points: int) -> None:
    """UsageError, before any work, when training would not fit in memory or in an evening."""
    weights = weight_count(sizes)
    if weights > MAX_TRAIN_WEIGHTS:
        raise UsageError(
            f"a {'-'.join(map(str, sizes))} network has {weights:,} weights, more than the "
            f"limit of {MAX_TRAIN_WEIGHTS:,} (see {PROG} train --help)"
        )
    batch = min(args.batch_size or points, points)
    units = batch * sum(sizes[1:])
    if units > MAX_BATCH_UNITS:
        raise UsageError(
            f"a batch of {batch:,} points through {sum(sizes[1:]):,} units holds {units:,} "
            f"activations, more than the limit of {MAX_BATCH_UNITS:,}; use --batch-size"
        )
    work = args.epochs * points * weights
    if work > MAX_TRAIN_WORK:
        raise UsageError(
            f"{args.epochs:,} epochs x {points:,} points x {weights:,} weights is {work:.1e} "
            f"multiply-adds, more than the limit of {MAX_TRAIN_WORK:,}; use fewer"
        )
