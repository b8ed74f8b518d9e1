"""Saving and loading a model's state dict as .npz: atomic writes, hostile-file-safe reads.

``save`` writes ``np.savez`` with ``files.write_atomically``: a crash leaves the
old file or none, never half of one.

``load`` trusts nothing in the file. It opens only a regular file no larger than
the model's arrays could make it, reads the archive's directory and each array's
.npy header (shape and dtype, parsed as a plain literal) without reading any
data, checks names, shapes and dtypes against the model, and only then reads
each array, exactly the number of bytes its (now checked) header implies. So a
small hostile file cannot make it allocate more than the model's own size, a
FIFO or a device cannot stall it, pickle never runs, and any problem is an
OSError (the file cannot be read) or a ValueError (its contents are wrong), with
the model unchanged.
"""

from __future__ import annotations

import ast
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy

from ..files import open_regular, write_atomically
from .base import ArrayInfo, Module, Shape, shapes, state_problems

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
_HEADER_KEYS = {"descr", "fortran_order", "shape"}
_LENGTH_BYTES = {(1, 0): 2, (2, 0): 4}  # the header length's size, per .npy format version
# What an archive may hold beyond its arrays' bytes: per member, its .npy magic and header
# and zip's local and central records (a name of up to 64 KiB each); the end record.
_MEMBER_OVERHEAD = 16 + _HEADER_LIMIT + 2 * (46 + 65_535 + 20)
_LARGEST_ITEM = 32  # bytes per element of the widest numeric dtype (complex256)
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # np.savez, np.savez_compressed


# -- writing ---------------------------------------------------------------------------


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
    length_bytes = _LENGTH_BYTES.get(version)
    if length_bytes is None:
        raise ValueError(f"unsupported .npy format version {version}")
    length = int.from_bytes(bounded.read(length_bytes), "little")
    if length > _HEADER_LIMIT:
        raise ValueError(f"the array header is {length:,} bytes, more than {_HEADER_LIMIT:,}")
    text = bounded.read(length)
    if len(text) != length:
        raise ValueError("the array header is cut short")
    return _parse_header(text.decode("latin1"))


def _parse_header(text: str) -> tuple[ArrayInfo, bool]:
    """The .npy header's dict literal as (shape, dtype) and fortran order, checked.

    Read as numpy writes it (``{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1)}``)
    with ``ast.literal_eval``, which builds literals and runs nothing; numpy's own
    reader would also try to repair headers of Python 2 by tokenizing them, and a
    damaged header then raises errors of the tokenizer.
    """
    if "\\" in text:  # an escape in a string: Python's parser would warn on a bad one
        raise ValueError(
            f"the array header holds a backslash, which save never writes: {text!r:.80}"
        )
    try:
        fields = ast.literal_eval(text)
    except (MemoryError, RecursionError):  # how Python's parser reports deep nesting
        raise ValueError("the array header nests too deeply") from None
    except (SyntaxError, ValueError, TypeError):
        raise ValueError(f"the array header is not a dict literal: {text.strip()!r:.80}") from None
    if not isinstance(fields, dict) or set(fields) != _HEADER_KEYS:
        raise ValueError(f"the array header does not hold {sorted(_HEADER_KEYS)}: {text!r:.80}")
    shape, fortran_order = fields["shape"], fields["fortran_order"]
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"the array header's shape is not a tuple of sizes: {shape!r:.80}")
    if not isinstance(fortran_order, bool):
        raise ValueError(f"the array header's fortran_order is not a bool: {fortran_order!r:.80}")
    try:
        dtype = npy.descr_to_dtype(fields["descr"])
    except (
        TypeError,
        ValueError,
        SyntaxError,
        KeyError,
        IndexError,
        OverflowError,
        RecursionError,
    ):
        # numpy.dtype parses a comma string such as "f8,(2)i4" with literal_eval
        raise ValueError(f"the array header's dtype is not one: {fields['descr']!r:.80}") from None
    return ArrayInfo(shape, dtype), fortran_order


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


def _largest_archive(expected: dict[str, Shape]) -> int:
    """The most bytes an archive of arrays of these shapes (and numeric dtypes) can take."""
    elements = sum(int(np.prod(shape, dtype=np.int64)) for shape in expected.values())
    return _LARGEST_ITEM * elements + _MEMBER_OVERHEAD * (len(expected) + 1)


def load(model: Module, path: str | os.PathLike[str]) -> None:
    """Read a .npz written by ``save`` into ``model``; nothing changes on any error.

    The archive's member names and each array's .npy header (shape, dtype) are
    checked against the model before any array is read; then each array is read
    with exactly the bytes its header implies, so memory stays within the model's
    own size whatever the file claims. Pickled (object) arrays are never loaded.

    Raises:
        OSError: the file cannot be read (FileNotFoundError if it does not exist).
        ValueError: not a regular file, larger than any archive of the model's
            arrays, or anything wrong with its contents: not a .npz archive,
            damaged, or names, shapes or dtypes that do not fit the model (each listed).
    """
    _check_module("load", model)
    expected = shapes(dict(model._state_items()))
    name = repr(os.fspath(path))
    try:
        opened = open_regular(path, _largest_archive(expected))
    except ValueError as error:
        raise ValueError(
            f"load: {error} (save writes a .npz archive of the model's size)"
        ) from None
    with opened as file:
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
