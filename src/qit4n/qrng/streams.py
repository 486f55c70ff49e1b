"""Reading sample bytes from regular files and from streams: pipes, FIFOs, ``/dev/stdin`` and devices.

A regular file can be read whole or reopened at an offset; a stream can be read only once, in
order, from one open handle, and a character device (``/dev/urandom``, a vendor QRNG's node) may
never end, so reading one whole needs a limit. :func:`path_kind` tells them apart without opening
the path (opening a FIFO waits for its writer); :func:`iter_chunks` streams the bytes in order
and :func:`read_prefix` joins them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

from qit4n.errors import InputError

__all__ = ["PathKind", "iter_chunks", "path_kind", "read_prefix"]

#: Bytes asked of a stream per read call.
_READ_BYTES = 1 << 20


class PathKind(Enum):
    """How a readable path delivers its bytes."""

    REGULAR = "regular file"
    STREAM = "pipe or FIFO"
    DEVICE = "device"


def path_kind(path: Path, option: str, shown: str | None = None) -> PathKind:
    """The kind of ``path``, checked readable without opening it; :class:`InputError` naming
    ``option`` and ``shown`` (default: the path) for a missing, unreadable or directory path.

    >>> path_kind(Path("/dev/null"), "FILE")
    <PathKind.DEVICE: 'device'>
    """
    where = f"{option} = {shown if shown is not None else str(path)!r}"
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise InputError(f"{where}: cannot read ({error.strerror or error})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{where}: cannot read (is a directory)")
    if not os.access(path, os.R_OK):
        raise InputError(f"{where}: cannot read (permission denied)")
    if stat.S_ISREG(mode):
        return PathKind.REGULAR
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return PathKind.STREAM
    return PathKind.DEVICE


def iter_chunks(
    path: Path, option: str, max_bytes: int | None = None, chunk_bytes: int = _READ_BYTES
) -> Iterator[bytes]:
    """The bytes of ``path`` in order, in pieces of at most ``chunk_bytes``, up to its end or
    ``max_bytes``, from one handle (so a pipe or FIFO works; a FIFO's read waits for its writer).
    A device needs ``max_bytes``: it may never end. The path is checked before the first piece.

    >>> [len(piece) for piece in iter_chunks(Path("/dev/zero"), "FILE", 5, chunk_bytes=2)]
    [2, 2, 1]
    """
    kind = path_kind(path, option)
    if max_bytes is None and kind is PathKind.DEVICE:
        raise InputError(f"{option} = {str(path)!r}: a device may never end; give a sample limit (--max-samples)")
    if max_bytes is not None and max_bytes < 0:
        raise InputError(f"{option}: max_bytes = {max_bytes}: must be >= 0")
    return _chunks(path, option, max_bytes, chunk_bytes)


def _chunks(path: Path, option: str, max_bytes: int | None, chunk_bytes: int) -> Iterator[bytes]:
    remaining = max_bytes
    try:
        with path.open("rb") as handle:
            while remaining is None or remaining > 0:
                piece = handle.read(chunk_bytes if remaining is None else min(chunk_bytes, remaining))
                if not piece:
                    return
                if remaining is not None:
                    remaining -= len(piece)
                yield piece
    except OSError as error:
        raise InputError(f"{option} = {str(path)!r}: cannot read ({error.strerror or error})") from None


def read_prefix(path: Path, option: str, max_bytes: int | None = None) -> bytes:
    """The bytes of ``path`` up to its end or ``max_bytes`` (:func:`iter_chunks` joined).

    >>> len(read_prefix(Path("/dev/zero"), "FILE", 5))
    5
    """
    return b"".join(iter_chunks(path, option, max_bytes))
