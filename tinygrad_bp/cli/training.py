"""What ``xor`` and ``train`` share: model files, the loss log, and stopping on Ctrl-C.

Ctrl-C stops training with status 130 and one line on stderr, no traceback,
after the loss history so far is written (with ``--out``) and the weights reached
so far are saved (with ``--save``), each reported with where it went.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from .. import nn, viz
from ..train import write
from ..train.progress import loss_text
from .arguments import EXIT_INTERRUPTED, PROG, UsageError, path_text, report_files

T = TypeVar("T")


def add_model_files(command: argparse.ArgumentParser) -> None:
    """--save and --load, as xor and train take them (nn.save's .npz archive)."""
    command.add_argument(
        "--load",
        type=path_text,
        metavar="FILE",
        help="start from the weights in FILE (written by --save)",
    )
    command.add_argument(
        "--save", type=path_text, metavar="FILE", help="write the trained weights to FILE (.npz)"
    )


def check_save_path(path: str | None) -> None:
    """UsageError, before any training, when --save names a place no file can be written."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--save {path}: is a directory")
    if not target.parent.is_dir():
        raise UsageError(f"--save {path}: no directory {str(target.parent)!r}")


def load_model(model: nn.Module, path: str) -> None:
    """nn.load, with what can go wrong (OSError, ValueError) as a UsageError."""
    try:
        nn.load(model, path)
    except OSError as error:
        raise UsageError(f"--load {path}: {error.strerror or error}") from None
    except ValueError as error:
        problems = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        raise UsageError(f"--load {path}: {problems}") from None


def save_model(model: nn.Module, path: str | None) -> None:
    """nn.save to --save's path (nothing without it), reporting where."""
    if path is None:
        return
    try:
        print(f"wrote {nn.save(model, path)}")
    except (OSError, ValueError) as error:
        raise UsageError(f"--save {path}: {getattr(error, 'strerror', None) or error}") from None


class Diverged(Exception):
    """The loss of an epoch was inf or nan: training stops there (see ``diverged``)."""

    def __init__(self, epoch: int, loss: float) -> None:
        super().__init__(f"the loss became {loss} at epoch {epoch}")
        self.epoch, self.loss = epoch, loss


class LossLog:
    """The on_epoch callback of xor and train: keeps every loss, prints some of them.

    An epoch whose loss is not a number stops training (``Diverged``): every later
    step would only carry the nan on.
    """

    def __init__(self, args: argparse.Namespace, every: int, name: str) -> None:
        self.args, self.every, self.name = args, every, name
        self.losses: list[float] = []

    def __call__(self, epoch: int, loss: float) -> None:
        if not math.isfinite(loss):
            raise Diverged(epoch, loss)
        self.losses.append(loss)
        if (epoch == 1 or epoch % self.every == 0) and not getattr(self.args, "quiet", False):
            # write, not print: above the bar, never on it
            write(f"  epoch {epoch:>6}   {self.name} = {loss_text(loss)}")


def write_history(
    out: Path | None, name: str, title: str, losses: list[float], loss: str = "loss"
) -> list[Path]:
    """The loss per epoch as NAME_loss.csv and NAME_loss.png in ``out`` (nothing without it).

    ``loss`` names the loss on the plot's axis ("J" for the derivation's half SSE).
    """
    if out is None or not losses:
        return []
    table = out / f"{name}_loss.csv"
    rows = "".join(f"{epoch},{loss!r}\n" for epoch, loss in enumerate(losses, start=1))
    table.write_text(f"epoch,loss\n{rows}", encoding="utf-8")
    plot = viz.plot_losses({name: losses}, out / f"{name}_loss.png", title, ylabel=loss)
    return [table, plot]


def training(run: Callable[[], T]) -> T:
    """Run the training; numpy's overflow warnings silenced, as ``Diverged`` reports it."""
    with np.errstate(over="ignore", invalid="ignore"):
        return run()


def diverged(error: Diverged, lr: float) -> int:
    """After a loss that is not a number: one line on stderr; status 1 (training failed)."""
    print(f"{PROG}: training diverged: {error}; try a smaller --lr than {lr:g}", file=sys.stderr)
    return 1


def interrupted(
    out: Path | None,
    name: str,
    title: str,
    log: LossLog,
    epochs: int,
    model: nn.Module,
    save: str | None,
    loss: str,
) -> int:
    """After Ctrl-C in training: the history so far written, the weights reached so far
    saved (with --save), each reported; status 130.

    ``loss`` names the loss on the plot's axis, as for ``write_history``.
    """
    done = len(log.losses)
    last = f", {log.name} = {loss_text(log.losses[-1])}" if done else ""
    print(f"interrupted after {done} of {epochs} epochs{last}")
    stopped = f"{title}\n(interrupted at epoch {done})"
    report_files(write_history(out, name, stopped, log.losses, loss))
    if save is not None:
        save_model(model, save)  # "wrote FILE": the weights of the last finished step
    print(f"{PROG}: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED
