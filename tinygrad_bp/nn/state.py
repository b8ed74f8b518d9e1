"""Saving and loading a model's state dict as .npz: atomic writes, hostile-file-safe reads.

``save`` writes ``np.savez`` to a temporary file beside the target and renames it
over the target, so a crash leaves the old file or none, never half of one. A
save that fails removes its temporary file; one that was killed cannot, so every
save first removes the stale temporary files of its target (``STALE_AFTER``).

``load`` trusts nothing in the file. It reads the archive's directory and each
array's .npy header (shape and dtype) without reading any data, checks names,
shapes and dtypes against the model, and only then reads each array, exactly the
number of bytes its (now checked) header implies. So a small hostile file cannot
make it allocate more than the model's own size, pickle never runs, and any
problem is an OSError (the file cannot be read) or a ValueError (its contents
are wrong), with the model unchanged.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy

from .base import ArrayInfo, Module, Shape, shapes, state_problems

# A temporary file of ``save`` is ``.<target name>.tmp-<pid>-<random>``, beside the target;
# it is stale once its pid has gone, or after STALE_AFTER seconds without a write.
STALE_AFTER = 3600.0

# What a damaged or hostile archive makes zipfile, zlib and numpy's header reader raise.
_CORRUPT = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    ValueError,  # UnicodeDecodeError included
    struct.error,
    OverflowError,
)
_HEADER_LIMIT = 10_000  # bytes of .npy header, numpy's own limit (save writes 128)
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # np.savez, np.savez_compressed


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
    """Remove the temporary files that killed saves of ``path`` left beside it.

    A temporary file is stale when the process named in it no longer runs, or when
    nothing has been written to it for ``STALE_AFTER`` seconds (a pid reused by an
    unrelated process). Files of saves still running are kept; files that vanish
    meanwhile or cannot be removed are skipped.

    Returns:
        The files removed.
    """
    path = Path(path)
    pattern = re.compile(re.escape(_temporary_stem(path)) + r"(\d+)-[a-z0-9_]+")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []  # the save itself will say what is wrong with the directory
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


def save(model: Module, path: str | os.PathLike[str]) -> Path:
    """Write the state dict as .npz (no pickle), atomically: a crash leaves the old file.

    >>> import pathlib, tempfile
    >>> from tinygrad_bp.nn import MLP, load
    >>> trained, fresh = MLP(2, [2, 1], rng=0), MLP(2, [2, 1], rng=1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     load(fresh, save(trained, pathlib.Path(folder) / "net.npz"))
    >>> [p.data for p in fresh.parameters()] == [p.data for p in trained.parameters()]
    True
    """
    _check_module("save", model)
    state: dict[str, Any] = dict(model.state_dict())  # (Any: savez's own keywords are bool)
    return write_atomically(path, lambda file: np.savez(file, **state))


# -- reading ---------------------------------------------------------------------------


class _Bounded:
    """A read-only view of a stream that hands out at most ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size)
        self.left -= len(data)
        return data


def _header(stream: IO[bytes]) -> tuple[ArrayInfo, bool]:
    """A .npy member's (shape, dtype) and fortran order, reading only its header."""
    bounded = _Bounded(stream, npy.MAGIC_LEN + 4 + _HEADER_LIMIT)
    version = npy.read_magic(bounded)
    read_header = {
        (1, 0): npy.read_array_header_1_0,
        (2, 0): npy.read_array_header_2_0,
    }.get(version)
    if read_header is None:
        raise ValueError(f"unsupported .npy format version {version}")
    try:
        shape, fortran_order, dtype = read_header(bounded, max_header_size=_HEADER_LIMIT)
    except (MemoryError, RecursionError) as error:  # how Python's parser reports deep nesting
        raise ValueError("the array header nests too deeply") from error
    return ArrayInfo(tuple(int(n) for n in shape), dtype), fortran_order  # (True,) is (1,)


def _members(archive: zipfile.ZipFile, size: int) -> tuple[dict[str, zipfile.ZipInfo], list[str]]:
    """The arrays of an archive of ``size`` bytes by name ("x.npy" holds "x"), and its problems."""
    members: dict[str, zipfile.ZipInfo] = {}
    problems = []
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if not info.filename.endswith(".npy"):
            problems.append(f"member {info.filename!r:.80} is not a .npy array")
        elif name in members:
            problems.append(f"{name!r:.80} appears twice")
        elif info.flag_bits & 0x1:
            problems.append(f"{name!r:.80} is encrypted")
        elif info.compress_type not in _COMPRESSIONS:
            problems.append(f"{name!r:.80} uses compression method {info.compress_type}")
        elif not 0 <= info.header_offset < size:
            problems.append(f"{name!r:.80} starts outside the file")
        members[name] = info
    return members, problems


def _read_state(archive: zipfile.ZipFile, size: int, expected: dict[str, Shape]) -> dict:
    """The arrays of an archive of ``size`` bytes, once names, shapes and dtypes all fit."""
    members, problems = _members(archive, size)
    if problems:
        raise ValueError("; ".join(problems))
    headers, given = {}, dict.fromkeys(members)  # None: a header that cannot be read
    for name, info in members.items():
        try:
            with archive.open(info) as stream:
                headers[name] = _header(stream)
        except _CORRUPT as error:
            problems.append(f"{name!r:.80}: {error}")
            continue
        given[name] = headers[name][0]
    problems += state_problems(expected, given)
    problems += [  # save writes floats: integers or booleans are another program's numbers
        f"{name!r} has dtype {info.dtype}, not a floating type (nn.save writes floats)"
        for name, info in given.items()
        if name in expected and info is not None and info.dtype.kind in "biu"
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return {name: _read_array(archive, members[name], name, headers[name]) for name in members}


def _read_array(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, checked: tuple[ArrayInfo, bool]
) -> np.ndarray:
    """A member whose header was ``checked``: exactly the bytes it implies, CRC-32 checked."""
    with archive.open(info) as stream:
        if _header(stream) != checked:
            raise ValueError(f"{name!r} changed while it was being read")
        header, fortran_order = checked
        nbytes = int(np.prod(header.shape, dtype=np.int64)) * header.dtype.itemsize
        data = stream.read(nbytes)
        if len(data) != nbytes or stream.read(1):  # reading to the end checks the CRC-32
            raise ValueError(f"{name!r} does not hold exactly the {nbytes} bytes its header says")
    array = np.frombuffer(data, dtype=header.dtype)
    return array.reshape(header.shape, order="F" if fortran_order else "C")


def _check_module(caller: str, model: Any) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{caller} needs a tinygrad_bp.nn module, got {type(model).__name__}")


def load(model: Module, path: str | os.PathLike[str]) -> None:
    """Read a .npz written by ``save`` into ``model``; nothing changes on any error.

    The archive's member names and each array's .npy header (shape, dtype) are
    checked against the model before any array is read; then each array is read
    with exactly the bytes its header implies, so memory stays within the model's
    own size whatever the file claims. Pickled (object) arrays are never loaded.

    Raises:
        OSError: the file cannot be read (FileNotFoundError if it does not exist).
        ValueError: anything wrong with its contents: not a .npz archive, damaged,
            or names, shapes or dtypes that do not fit the model (each listed).
    """
    _check_module("load", model)
    expected = shapes(dict(model._state_items()))
    name = repr(os.fspath(path))
    with open(path, "rb") as file:
        try:
            archive = zipfile.ZipFile(file)
        except _CORRUPT as error:
            raise ValueError(
                f"load: {name} is not a .npz archive (save writes one): {error}"
            ) from None
        try:
            with archive:
                state = _read_state(archive, os.fstat(file.fileno()).st_size, expected)
        except _CORRUPT as error:
            raise ValueError(f"load: {name}: {error}") from None
    model.load_state_dict(state)
