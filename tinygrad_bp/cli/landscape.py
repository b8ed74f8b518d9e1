"""``landscape``: train a small network on a data set and draw the error surface around it."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .. import data, landscape
from ..nn import get_activation, tensor_mlp
from ..nn.activations import ACTIVATIONS
from ..viz.landscape import plot_surface_3d, plot_surface_contour
from .arguments import (
    MAX_POINTS,
    UsageError,
    out_dir,
    path_text,
    point_count,
    positive_float,
    positive_int,
    report_files,
    seed,
    weight_count,
    widths,
)

MAX_LANDSCAPE_STEPS = 1_000_000  # --steps
MAX_LANDSCAPE_WORK = 10**10  # --steps x points x weights: the multiply-adds of the training
DIRECTIONS = ("pca", "filter", "random")


def _grid(text: str) -> int:
    value = positive_int(text)
    if value < 3 or value > landscape.MAX_STEPS or value % 2 == 0:
        raise argparse.ArgumentTypeError(
            f"must be odd, from 3 to {landscape.MAX_STEPS}, got {value}"
        )
    return value


def add_parser(commands: Any) -> None:
    command = commands.add_parser(
        "landscape",
        help="train a network on a data set and draw the error surface around it",
        description="Full-batch gradient descent on J = 1/2 sum (y - o)^2 from a seeded "
        "start, the weights recorded; then J on a grid around the final weights, along the "
        "first two principal components of the path (or random filter-normalised "
        "directions), with the path drawn on it.",
    )
    command.add_argument("dataset", choices=data.DATASETS, help="the data set")
    command.add_argument(
        "--hidden", type=widths, default=[2], help="hidden layer widths, e.g. 2 or 8,8"
    )
    command.add_argument(
        "--activation", choices=tuple(ACTIVATIONS), default="sigmoid", help="hidden units"
    )
    command.add_argument("--lr", type=positive_float, default=0.5, help="step size alpha")
    command.add_argument(
        "--steps",
        type=positive_int,
        default=5000,
        help=f"gradient-descent steps, at most {MAX_LANDSCAPE_STEPS:,}",
    )
    command.add_argument("--n", type=point_count, default=100, help="points (not xor)")
    command.add_argument("--seed", type=seed, default=0, help="seed of the weights and data")
    command.add_argument("--directions", choices=DIRECTIONS, default="pca", help="the slice")
    command.add_argument("--grid", type=_grid, default=51, help="grid points per axis (odd)")
    command.add_argument(
        "--out", type=path_text, metavar="DIR", help="write the contour and 3-D pictures here"
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    X, y = data.load(args.dataset, n=args.n, rng=args.seed)
    sizes = [X.shape[1], *args.hidden, 1]
    work = args.steps * len(X) * weight_count(sizes)
    if args.steps > MAX_LANDSCAPE_STEPS or work > MAX_LANDSCAPE_WORK:
        raise UsageError(
            f"{args.steps:,} steps on {len(X):,} points with {weight_count(sizes):,} weights "
            f"is too much work (limits: {MAX_LANDSCAPE_STEPS:,} steps, "
            f"{MAX_LANDSCAPE_WORK:.0e} multiply-adds; --n at most {MAX_POINTS:,})"
        )
    if args.grid**2 * weight_count(sizes) > landscape.MAX_WORK:
        raise UsageError(f"a {args.grid}x{args.grid} grid of this network is over the limit")
    out = out_dir(args)
    get_activation(args.activation)
    net = tensor_mlp(sizes, args.activation, "sigmoid", rng=args.seed)
    J = landscape.dataset_loss(X, y)
    shape = "-".join(map(str, sizes))
    print(
        f"{args.dataset}, {shape} network ({args.activation} hidden units, sigmoid output): "
        f"full-batch gradient descent on J = 1/2 sum (y - o)^2, alpha = {args.lr:g}, "
        f"{args.steps:,} steps, seed {args.seed}"
    )
    start = float(J(net).item())
    path = landscape.descent_path(net, J, args.lr, args.steps)
    print(f"J: {start:.6f} at the start, {float(J(net).item()):.6f} at the end")
    slice_ = landscape.surface(net, J, args.directions, steps=args.grid, path=path, rng=args.seed)
    print(slice_)
    lowest = np.unravel_index(np.argmin(slice_.loss), slice_.loss.shape)
    print(
        f"lowest J on the slice: {slice_.loss[lowest]:.6g} at "
        f"({slice_.a[lowest[1]]:.3g}, {slice_.b[lowest[0]]:.3g})"
    )
    if out is not None:
        title = f"{args.dataset}, {shape} network: J around the trained weights"
        report_files(
            [
                plot_surface_contour(slice_, out / f"landscape_{args.dataset}.png", title),
                plot_surface_3d(slice_, out / f"landscape_{args.dataset}_3d.png", title),
            ]
        )
    return 0
