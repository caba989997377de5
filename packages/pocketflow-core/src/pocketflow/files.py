"""The file facade: ``read_file_async(path_or_url)`` and its sync twin.

The location's scheme picks the reader a plugin registered for it: ``file`` for
plain paths and ``file://`` URLs, ``http``/``https`` for URLs, or any scheme a
plugin adds.
"""

from __future__ import annotations

import os
import re

from pocketflow.durability import journaled
from pocketflow.runtime import current_runtime
from pocketflow.sync import run_sync

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+)://")


def scheme_of(location: str) -> str:
    """The URL scheme of ``location``, lower-cased; "file" for a plain path."""
    match = _SCHEME.match(location)
    return match.group(1).lower() if match else "file"


@journaled("file")
async def read_file_async(
    path_or_url: str | os.PathLike[str], *, encoding: str | None = None
) -> str:
    """Read the text at a path or URL without blocking the event loop.

    ``encoding`` overrides the reader's (UTF-8 unless configured otherwise).
    Raises :class:`~pocketflow.errors.FileReadError` naming the location and the reason.
    """
    location = os.fspath(path_or_url)
    reader = current_runtime().reader(scheme_of(location))
    return await reader.read(location, encoding=encoding)


def read_file(path_or_url: str | os.PathLike[str], *, encoding: str | None = None) -> str:
    """Sync twin of :func:`read_file_async`."""
    return run_sync(read_file_async(path_or_url, encoding=encoding))
