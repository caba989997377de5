"""The file facade: ``read_file_async(path_or_url)`` and its sync twin.

The location's scheme picks the reader a plugin registered for it: ``file`` for
plain paths and ``file://`` URLs, ``http``/``https`` for URLs, or any scheme a
plugin adds.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

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
    runtime = current_runtime()
    scheme = scheme_of(location)
    reader = runtime.reader(scheme)
    if not runtime.observes_calls:
        return await reader.read(location, encoding=encoding)
    read = FileRead(location, runtime.plugins.reader_for_scheme.get(scheme, scheme))
    hook = runtime.plugins.hooks.hook
    hook.file_read_started(read=read)
    try:
        text = await reader.read(location, encoding=encoding)
    except BaseException as error:
        hook.file_read_finished(read=read, text=None, error=error)
        raise
    hook.file_read_finished(read=read, text=text, error=None)
    return text


@dataclass(frozen=True, slots=True, eq=False)
class FileRead:
    """One read, as the ``file_read_started``/``file_read_finished`` observers see it."""

    location: str
    reader: str


def read_file(path_or_url: str | os.PathLike[str], *, encoding: str | None = None) -> str:
    """Sync twin of :func:`read_file_async`."""
    return run_sync(read_file_async(path_or_url, encoding=encoding))
