"""The ``aiofiles`` reader: local files read on a thread pool, so the event loop runs on.

Each step that touches the disk (resolving symlinks, then opening, checking and
reading, see :mod:`pocketflow_aiofiles.opening`) runs in aiofiles' executor; many
files can be read at once. Every failure is a
:class:`~pocketflow.errors.FileReadError` naming the location, the reason and a fix.
"""

from __future__ import annotations

import os
from typing import NoReturn

import aiofiles  # type: ignore[import-untyped]  # aiofiles ships no type hints
import aiofiles.os  # type: ignore[import-untyped]

from pocketflow.errors import FileReadError
from pocketflow.providers import ComponentSettings, FileReader
from pocketflow_aiofiles.decoding import codec_name, decode
from pocketflow_aiofiles.locations import is_inside, local_path
from pocketflow_aiofiles.opening import NotRegularFile, SymlinkSwapped, TooLarge, read_file_bytes
from pocketflow_aiofiles.options import TABLE, ReaderOptions

_realpath = aiofiles.os.wrap(os.path.realpath)
_read_file_bytes = aiofiles.os.wrap(read_file_bytes)
_isdir = aiofiles.os.wrap(os.path.isdir)
_decode_in_thread = aiofiles.os.wrap(decode)
_DECODE_IN_THREAD = 1024 * 1024  # bytes: decode larger files off the event loop


class AiofilesReader(FileReader):
    """Reads local paths and ``file://`` URLs as text (see :mod:`pocketflow_aiofiles`)."""

    def __init__(self, settings: ComponentSettings) -> None:
        super().__init__(settings)
        self.options = ReaderOptions.from_settings(settings)

    async def read(self, location: str, *, encoding: str | None = None) -> str:
        """The text of the file at ``location``, decoded with ``encoding`` or the configured one."""
        chosen = encoding if encoding is not None else self.options.encoding
        try:
            codec = codec_name(chosen)
        except LookupError:
            raise FileReadError(
                location,
                f"{chosen!r} is not an encoding Python knows. Pass a known one, e.g. "
                f'read_file_async(path, encoding="latin-1") or "cp1252" or "utf-16".',
            ) from None
        path = await self._confine(location, local_path(location))
        data = await self._read_bytes(location, path)
        try:
            if len(data) > _DECODE_IN_THREAD:
                return str(await _decode_in_thread(data, codec))
            return decode(data, codec)
        except UnicodeDecodeError as error:
            shown = "utf-8" if codec == "utf-8-sig" else codec
            bad = data[error.start : max(error.end, error.start + 1)].hex(" ")
            raise FileReadError(
                location,
                f"it is not valid {shown}: byte offset {error.start} holds {bad} "
                f"({error.reason}). "
                f"If the file uses another encoding, name it: "
                f'read_file_async(path, encoding="latin-1"), or set encoding under {TABLE} '
                f"in pocketflow.toml.",
            ) from error

    async def _confine(self, location: str, path: str) -> str:
        """``path`` with its symlinks resolved, refused if it leaves the root folder."""
        root = self.options.root
        if root is None:
            return path
        if not await _isdir(root):
            raise FileReadError(
                location,
                f"the root folder {root} (root under {TABLE}) does not exist. Create it, "
                f"or point root at an existing folder.",
            )
        try:
            real = await _realpath(path)
        except OSError as error:  # e.g. a symlink loop, or a part swapped while resolving
            raise FileReadError(location, _os_reason(error, path)) from error
        if not is_inside(real, root):
            raise FileReadError(
                location,
                f"it resolves to {real}, outside the root folder {root} (root under {TABLE}); "
                "'..' and symlinks may not leave it. Read a file inside the root folder, "
                "or change root.",
            )
        return str(real)

    async def _read_bytes(self, location: str, path: str) -> bytes:
        """The file's bytes, refusing directories, special files and files over the limit."""
        limit = self.options.max_bytes
        try:
            return bytes(await _read_file_bytes(path, self.options.root, limit))
        except SymlinkSwapped:
            raise FileReadError(
                location,
                f"a part of the path became a symlink after it was checked, so it could lead "
                f"out of the root folder {self.options.root} (root under {TABLE}); it was not "
                "followed. Read it again once the files stop changing.",
            ) from None
        except NotRegularFile:
            raise FileReadError(
                location, "it is not a regular file (a device, socket or pipe). Name a file."
            ) from None
        except TooLarge as error:
            if error.size is None:
                _too_big(location, "the file grew while being read, past", limit)
            _too_big(location, f"the file is {error.size} bytes, over", limit)
        except OSError as error:
            raise FileReadError(location, _os_reason(error, path)) from error


def _too_big(location: str, what: str, limit: int) -> NoReturn:
    raise FileReadError(
        location,
        f"{what} the size limit of {limit} bytes. Raise the limit with max_bytes under "
        f"{TABLE} in pocketflow.toml (e.g. max_bytes = {max(limit * 2, 1024)}).",
    )


def _os_reason(error: OSError, path: str) -> str:
    """What went wrong, in words, and what to do about it."""
    if isinstance(error, FileNotFoundError):
        return (
            f"no such file ({path}). Check the name; relative paths are resolved against "
            f"the working directory ({os.getcwd()})."
        )
    if isinstance(error, IsADirectoryError):
        return "it is a directory, not a file. Name a file inside it."
    if isinstance(error, PermissionError):
        return (
            "permission denied: this process may not read it. Check the file's permissions "
            "(ls -l) or run as a user who may read it."
        )
    if isinstance(error, NotADirectoryError):
        return f"a part of the path {path} is a file, not a folder. Check the path."
    return f"{error.strerror or error} ({path})."
