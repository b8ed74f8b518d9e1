"""The progress of training on one line: a live bar on a terminal, one final line elsewhere.

``ProgressBar`` is what ``fit(progress=True)`` shows; ``write`` prints a log line
without breaking it; ``loss_text`` is how both write a loss.
"""

from __future__ import annotations

import sys
import warnings
from typing import TextIO

from tqdm import tqdm


def write(line: str, file: TextIO | None = None) -> None:
    """Print ``line`` (default to stdout) without breaking a progress bar on the screen.

    Any bar drawn on the same terminal is cleared first and redrawn below the line
    (``tqdm.write``), so a log line never lands on the bar's row. Use it, not
    ``print``, in an ``on_epoch`` callback of ``fit(progress=True)``.

    >>> write("epoch 1")
    epoch 1
    """
    tqdm.write(line, file=file if file is not None else sys.stdout)


def loss_text(loss: float) -> str:
    """A loss as the bar and every log line write it: 4 significant digits.

    >>> loss_text(0.6052891), loss_text(1.4e-06), loss_text(12.0)
    ('0.6053', '1.4e-06', '12')
    """
    return f"{loss:.4g}"


def _notebook_bar() -> type[tqdm] | None:
    """tqdm's Jupyter widget when running in a notebook kernel with ipywidgets, else None."""
    if "ipykernel.zmqshell" not in sys.modules:
        return None
    with warnings.catch_warnings():  # tqdm warns when ipywidgets is missing: fall back quietly
        warnings.simplefilter("ignore")
        from tqdm import autonotebook  # its tqdm: the widget, or the plain class as a fallback
    return None if autonotebook.tqdm is tqdm else autonotebook.tqdm


class ProgressBar:
    """The progress of training: epoch, percentage and the latest loss, on one line.

    On a terminal it is a live bar (tqdm; redrawn at most 10 times a second), in a
    Jupyter notebook tqdm's widget (one output, not one per epoch); on any other
    stream (a file, a pipe) it stays silent until ``close``, which writes one clean
    final line. It is shown when ``enabled`` (None: only when the stream is a
    terminal). It ends either at 100% or with the reason it stopped
    (``stop("converged at epoch 312: J < 0.01")``, on the line below a live bar);
    any ``note`` added on the way (``note("ran eagerly: ...")``) follows on a line
    of its own. Log lines go
    through ``write``, which clears the bar first, so they never share its row.

    Args:
        total: the number of epochs planned.
        enabled: show the progress (None: only on a terminal).
        stream: where the bar goes (default: sys.stderr).
        name: what the loss is called (J for the derivation's half SSE).

    >>> import io
    >>> stream = io.StringIO()
    >>> bar = ProgressBar(10, enabled=True, stream=stream, name="J")
    >>> bar.update(3, 0.25); bar.stop("converged at epoch 3: J < 0.3")
    >>> bar.note("ran eagerly: why"); bar.close()
    >>> print(stream.getvalue(), end="")
    epoch 3/10  J 0.25; converged at epoch 3: J < 0.3
      ran eagerly: why
    """

    def __init__(
        self,
        total: int,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        name: str = "loss",
    ):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.name = name
        self.epoch = 0
        self.loss: float | None = None
        self.reason = ""
        self.notes: list[str] = []
        self._bar: tqdm | None = None
        if not self.enabled:
            return
        notebook = _notebook_bar() if self.stream is sys.stderr else None
        if notebook is not None:
            self._bar = notebook(total=total, desc=name, unit="epoch")
        elif _isatty(self.stream):
            self._bar = tqdm(
                total=total,
                file=self.stream,
                unit="epoch",
                mininterval=0.1,
                dynamic_ncols=True,
                bar_format=(
                    "{percentage:3.0f}%|{bar}| epoch {n_fmt}/{total_fmt} "
                    "[{elapsed}<{remaining}]{postfix}"
                ),
            )

    def update(self, epoch: int, loss: float) -> None:
        """Record that ``epoch`` (counted from 1) ended with ``loss``; redraw if it is time."""
        self.epoch, self.loss = epoch, loss
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self.name} {loss_text(loss)}", refresh=False)
            self._bar.update(epoch - self._bar.n)

    def stop(self, reason: str) -> None:
        """Say why training ended before ``total`` epochs (shown when the bar closes)."""
        self.reason = reason

    def note(self, text: str) -> None:
        """Add a remark, shown on a line of its own below the final line (e.g. why the steps
        ran eagerly)."""
        self.notes.append(text)

    def write(self, line: str, file: TextIO | None = None) -> None:
        """Print a log line (default to stdout) above the bar, never on its row."""
        write(line, file)

    def discard(self) -> None:
        """Close without a final line: for when nobody reads the output any more (a
        broken pipe), so that nothing is left on the terminal. ``close`` then does nothing.
        """
        if self._bar is not None:
            self._bar.leave = False
            self._bar.close()
        self.enabled = False

    def close(self) -> None:
        """Leave the final state on screen: 100%, or the epoch reached and why it stopped.

        On a live bar the reason goes on a line of its own below it, as the notes
        do, so that a long reason never squeezes the bar to nothing on a narrow
        terminal; the one final line off a terminal keeps it after the loss.
        """
        if not self.enabled:
            return
        loss = [f"{self.name} {loss_text(self.loss)}"] if self.loss is not None else []
        below = [*([self.reason] if self.reason else []), *self.notes]
        if self._bar is not None:
            self._bar.set_postfix_str("; ".join(loss), refresh=False)
            self._bar.close()
        else:
            summary = "; ".join(loss + ([self.reason] if self.reason else []))
            self.stream.write(f"epoch {self.epoch}/{self.total}  {summary}\n")
            below = self.notes
        for line in below:
            self.stream.write(f"  {line}\n")
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False
