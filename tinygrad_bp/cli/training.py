"""What ``xor`` and ``train`` share: model files, the loss log, and stopping on Ctrl-C.

Ctrl-C stops training with status 130 and one line on stderr, no traceback,
after the loss history so far is written (with ``--out``) and reported; a
half-trained model is not saved.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import nn, viz
from ..train import write
from .arguments import EXIT_INTERRUPTED, PROG, UsageError, path_text, report_files


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


class LossLog:
    """The on_epoch callback of xor and train: keeps every loss, prints some of them."""

    def __init__(self, args: argparse.Namespace, every: int, name: str) -> None:
        self.args, self.every, self.name = args, every, name
        self.losses: list[float] = []

    def __call__(self, epoch: int, loss: float) -> None:
        self.losses.append(loss)
        if (epoch == 1 or epoch % self.every == 0) and not getattr(self.args, "quiet", False):
            write(f"  epoch {epoch:>6}   {self.name} = {loss:.6f}")  # above the bar, never on it


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


def interrupted(out: Path | None, name: str, title: str, log: LossLog, epochs: int) -> int:
    """After Ctrl-C in training: the history so far written and reported; status 130."""
    done = len(log.losses)
    last = f", {log.name} = {log.losses[-1]:.6f}" if done else ""
    print(f"interrupted after {done} of {epochs} epochs{last}")
    stopped = f"{title} (interrupted at epoch {done})"
    report_files(write_history(out, name, stopped, log.losses, log.name))
    print(f"{PROG}: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED
