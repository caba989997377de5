"""Opening a file so that what is read is what was checked, then reading it in chunks.

A path checked with ``realpath`` can change before it is opened: a folder or the file
swapped for a symlink that leads out of the root, or the file for a named pipe whose
``open`` blocks forever. So, under a root, the path is walked from a descriptor of
the root one component at a time with ``O_NOFOLLOW`` (the checked path has no
symlinks left, so a symlink met now is a swap, and is refused); every open is
non-blocking; and the opened descriptor itself is checked with ``fstat``.
These functions block: the reader runs them on aiofiles' thread pool.
"""

from __future__ import annotations

import errno
import os
import stat

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_COMMON = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_FILE_FLAGS = _COMMON | getattr(os, "O_NOCTTY", 0)
_FOLDER_FLAGS = _COMMON | getattr(os, "O_DIRECTORY", 0)
_SYMLINK_ERRORS = (errno.ELOOP, errno.EMLINK)  # EMLINK: what FreeBSD says for O_NOFOLLOW
_CHUNK = 1024 * 1024  # bytes read at a time when the size is unknown


class SymlinkSwapped(Exception):
    """A part of a checked path became a symlink before it was opened."""


class NotRegularFile(Exception):
    """What was opened is a device, socket or pipe."""


class TooLarge(Exception):
    """The file is over the limit: ``size`` bytes known from ``fstat``, or None if it grew."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


def read_file_bytes(path: str, root: str | None, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file at ``path`` (under ``root`` if given).

    ``path`` must be absolute and, with a root, free of symlinks and inside the root.
    Raises OSError, :class:`SymlinkSwapped`, :class:`NotRegularFile` or :class:`TooLarge`.
    """
    fd = os.open(path, _FILE_FLAGS) if root is None else _open_beneath(root, path)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(path)
        if info.st_size > limit:
            raise TooLarge(info.st_size)
        return _read_at_most(fd, limit, info.st_size)
    finally:
        os.close(fd)


def _open_beneath(root: str, path: str) -> int:
    """Open ``path`` by walking from ``root`` without following any symlink."""
    parts = [part for part in os.path.relpath(path, root).split(os.sep) if part != "."]
    if not parts:
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if ".." in parts:  # the caller checked containment; this guards the walk itself
        raise SymlinkSwapped(path)
    fd = os.open(root, _FOLDER_FLAGS)
    try:
        for part in parts[:-1]:
            inner = os.open(part, _FOLDER_FLAGS | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        return os.open(parts[-1], _FILE_FLAGS | _NOFOLLOW, dir_fd=fd)
    except OSError as error:
        if error.errno in _SYMLINK_ERRORS:
            raise SymlinkSwapped(path) from error
        raise
    finally:
        os.close(fd)


def _read_at_most(fd: int, limit: int, size: int) -> bytes:
    """Read until end of file, in chunks never larger than needed; TooLarge past ``limit``."""
    chunks: list[bytes] = []
    total = 0
    while True:
        want = min(limit + 1 - total, max(size + 1 - total, _CHUNK))
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise TooLarge(None)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
