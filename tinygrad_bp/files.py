"""Files the library writes and reads: atomic writes, bounded reads of regular files.

``write_atomically`` writes to a temporary file beside the target and renames
it over the target, so a crash leaves the old file or none, never half of one.
A write that fails removes its temporary file; one that was killed cannot, so
every write first removes the stale temporary files of its target
(``STALE_AFTER``). ``nn.save``, the ONNX export and the recorded watch page all
write this way.

``open_regular`` opens a file for reading only if it is a regular file no
larger than a limit, checked before a byte is read: a FIFO would block the
reader forever, and ``/dev/zero`` would feed it until memory runs out.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "STALE_AFTER",
    "open_regular",
    "read_regular",
    "remove_stale_temporaries",
    "write_atomically",
]

# A temporary file of ``write_atomically`` is ``.<target name>.tmp-<pid>-<random>``, beside
# the target; it is stale once its pid has gone, or after STALE_AFTER seconds without a write.
STALE_AFTER = 3600.0


# -- reading ---------------------------------------------------------------------------


def open_regular(path: str | os.PathLike[str], limit: int) -> BinaryIO:
    """Open ``path`` for reading in binary, if it is a regular file of at most ``limit`` bytes.

    The file is opened without blocking (a FIFO would otherwise wait for a
    writer), then its kind and size are read from the open file itself, so the
    path cannot change between the check and the read.

    Raises:
        OSError: the file cannot be opened (FileNotFoundError, PermissionError,
            IsADirectoryError, ...).
        ValueError: it is not a regular file, or it is longer than ``limit`` bytes.

    Example:
        >>> with open_regular("/dev/zero", 10) as file:
        ...     pass
        Traceback (most recent call last):
        ...
        ValueError: '/dev/zero' is not a regular file
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    handle = os.open(path, flags)
    try:
        status = os.fstat(handle)
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"{os.fspath(path)!r} is not a regular file")
        if status.st_size > limit:
            size = f"{status.st_size:,} bytes"
            raise ValueError(
                f"{os.fspath(path)!r} is {size}, more than the limit of {limit:,} bytes"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(handle, True)
        return os.fdopen(handle, "rb")
    except BaseException:
        os.close(handle)
        raise


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (``open_regular``'s checks).

    At most ``limit`` bytes are read even if the file grows meanwhile; a file that
    grew past the limit is refused as if it had been that long to begin with.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as file:
        ...     _ = file.write(b"[1, 2]"); file.flush()
        ...     read_regular(file.name, 100)
        b'[1, 2]'
    """
    with open_regular(path, limit) as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{os.fspath(path)!r} is more than the limit of {limit:,} bytes")
    return data


# -- writing ---------------------------------------------------------------------------


def _plain_file_mode(path: Path) -> int:
    """The permissions ``open(path, "w")`` would leave: the existing file's, else 0o666 & ~umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mask = os.umask(0)  # the only way to read the umask is to set it
        os.umask(mask)
        return 0o666 & ~mask


def _temporary_stem(path: Path) -> str:
    """``.<name>.tmp-``: the start of the name of every temporary file for ``path``."""
    return f".{path.name}.tmp-"


def _process_running(pid: int) -> bool:
    """Whether process ``pid`` exists (True where that cannot be asked safely)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate it on Windows: rely on age alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, and belongs to another user
    except (OverflowError, ValueError):
        return False  # no process can have that number
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that killed writes of ``path`` left beside it.

    A temporary file is stale when the process named in it no longer runs, or when
    nothing has been written to it for ``STALE_AFTER`` seconds (a pid reused by an
    unrelated process). Files of writes still running are kept; files that vanish
    meanwhile or cannot be removed are skipped.

    Returns:
        The files removed.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     remove_stale_temporaries(Path(folder) / "net.npz")
        []
    """
    path = Path(path)
    pattern = re.compile(re.escape(_temporary_stem(path)) + r"(\d+)-[a-z0-9_]+")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []  # the write itself will say what is wrong with the directory
    removed, now = [], time.time()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        try:
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            idle = now - entry.stat(follow_symlinks=False).st_mtime
            if idle > STALE_AFTER or not _process_running(int(match[1])):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _naming(error: OSError, path: Path) -> OSError:
    """The same error, naming the user's ``path`` instead of the temporary file."""
    if error.errno is None:
        return OSError(f"cannot write {os.fspath(path)!r}: {error}")
    return OSError(error.errno, error.strerror, os.fspath(path))  # the errno's own subclass


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    A rename within one file system is atomic, so a crash mid-write leaves the
    old file (or none) and never a truncated one. The file gets the permissions
    ``open(path, "w")`` would give it (mkstemp's own are 0600). On any failure
    the temporary file is removed and an OSError names ``path``; temporary files
    of earlier, killed calls are removed first (``remove_stale_temporaries``).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_atomically(Path(folder) / "note.txt", lambda f: f.write(b"hi"))
        ...     path.read_bytes()
        b'hi'
    """
    path = Path(path)
    remove_stale_temporaries(path)
    prefix = f"{_temporary_stem(path)}{os.getpid()}-"  # mkstemp adds the random part
    try:
        mode = _plain_file_mode(path)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    except OSError as error:
        raise _naming(error, path) from error
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # mkstemp makes it 0600
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # already gone, or the directory refuses: the first error matters
        if isinstance(error, OSError):
            raise _naming(error, path) from error
        raise
    return path
