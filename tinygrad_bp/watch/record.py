"""A finished run as one self-contained page: every frame inside, a slider, no server.

``record(config, epochs, path)`` trains a ``Session`` for ``epochs`` epochs and keeps
a frame of every epoch, 0 to the last, or of ``MAX_FRAMES`` epochs evenly spaced
between them when there are more. The page is the live page's own files, with the style
sheet and the script put inline and the frames as JSON in a script element, so it
opens from the disk with no network. Its size is bounded by the frame limit and the
network limits of ``session`` (a few MB at the largest network).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..files import write_atomically
from ..validate import is_integer
from ..viz.page import self_contained_page
from .session import Config, Session

MAX_FRAMES = 100
MAX_EPOCHS = 100_000

# What every frame shares, stored once in the recording rather than in each frame.
_SHARED = ("points", "curve", "extent", "config")


@dataclass(frozen=True)
class Recording:
    """What ``record`` wrote.

    Attributes:
        path: The page.
        epochs: The epochs trained (fewer than asked when interrupted).
        frames: The frames in the page.
        interrupted: True when Ctrl-C stopped the run; the page holds it up to then.
    """

    path: Path
    epochs: int
    frames: int
    interrupted: bool


def record(
    config: Config,
    epochs: int,
    path: str | os.PathLike[str],
    on_epoch: Callable[[int, float], None] | None = None,
) -> Recording:
    """Train a session for ``epochs`` epochs and write the recorded page to ``path``.

    Ctrl-C (KeyboardInterrupt) stops the training; the page is then written with the
    frames up to that epoch and ``interrupted`` is True.

    Raises:
        ValueError: If epochs is not an integer in [1, MAX_EPOCHS].
        OSError: If the page cannot be written (nothing is left behind).

    Example:
        >>> import tempfile
        >>> from tinygrad_bp.watch.session import make_config
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     done = record(make_config(seed=1), 30, Path(folder) / "run.html")
        >>> done.epochs, done.frames, done.interrupted
        (30, 31, False)
    """
    if not is_integer(epochs) or not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(f"epochs must be an integer in [1, {MAX_EPOCHS}], got {epochs!r}")
    session = Session(config)
    kept = _sampled(epochs)
    frames = [session.frame()]
    interrupted = False
    try:
        while session.epoch < epochs:
            session.step_epoch()
            if on_epoch is not None:
                on_epoch(session.epoch, session.loss or 0.0)
            if session.epoch in kept:
                frames.append(session.frame())
    except KeyboardInterrupt:
        interrupted = True
        if frames[-1]["epoch"] != session.epoch:
            frames.append(session.frame())
    final = session.frame()
    title = (
        f"{config.dataset}, hidden {list(config.hidden) or 'none'}, {config.activation}, "
        f"lr {config.lr}, {'online' if config.online else 'batch'}, seed {config.seed}: "
        f"{session.epoch} epochs"
    )
    page = recorded_page(frames, final, title)
    written = write_atomically(path, _writer(page))
    return Recording(written, session.epoch, len(frames), interrupted)


def recorded_page(frames: list[dict[str, Any]], final: dict[str, Any], title: str) -> str:
    """The page with its style, script and ``frames`` inline (shared parts once, from
    ``final``: the data, the loss curve of the whole run, the plane, the settings).

    >>> from .session import make_config
    >>> frame = Session(make_config()).frame()
    >>> page = recorded_page([frame], frame, "XOR at epoch 0")
    >>> '<script src=' in page, 'id="recording"' in page
    (False, True)
    """
    recording = {
        "title": title,
        "frames": [{k: v for k, v in frame.items() if k not in _SHARED} for frame in frames],
        **{key: final[key] for key in _SHARED},
    }
    return self_contained_page(__package__, "page.html", "recording", recording)


def _sampled(epochs: int) -> set[int]:
    """The epochs whose frames are kept: all of 0..epochs, or MAX_FRAMES evenly spaced.

    >>> sorted(_sampled(3)), len(_sampled(10_000)), max(_sampled(10_000))
    ([0, 1, 2, 3], 100, 10000)
    """
    if epochs < MAX_FRAMES:
        return set(range(epochs + 1))
    return {round(k * epochs / (MAX_FRAMES - 1)) for k in range(MAX_FRAMES)}


def _writer(page: str) -> Callable[[BinaryIO], None]:
    def write(stream: BinaryIO) -> None:
        stream.write(page.encode("utf-8"))

    return write
