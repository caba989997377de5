"""Plugin entry point: registers the ``aiofiles`` reader for the "file" scheme.

Importing this module imports no aiofiles: the factory loads the reader on first use.
"""

from __future__ import annotations

from pocketflow.hookspecs import RegisterFileReader, hookimpl
from pocketflow.providers import ComponentSettings, FileReader
from pocketflow_aiofiles.options import SETTING_TYPES


def make_reader(settings: ComponentSettings) -> FileReader:
    """Create the reader (imports aiofiles only now)."""
    from pocketflow_aiofiles.reader import AiofilesReader

    return AiofilesReader(settings)


@hookimpl
def register_file_readers(register: RegisterFileReader) -> None:
    """Register ``aiofiles`` for plain paths and ``file://`` URLs."""
    register(
        "aiofiles",
        ("file",),
        make_reader,
        settings=SETTING_TYPES,
        description="local paths and file:// URLs, read on a thread pool (encoding, "
        "max_bytes, root)",
    )
