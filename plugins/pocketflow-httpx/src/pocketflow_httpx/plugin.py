"""Plugin entry point: registers the ``http`` reader for the "http" and "https" schemes.

Importing this module imports no httpx: the factory loads the reader on first use.
"""

from __future__ import annotations

from pocketflow.hookspecs import RegisterFileReader, hookimpl
from pocketflow.providers import ComponentSettings, FileReader
from pocketflow_httpx.options import SETTING_TYPES


def make_reader(settings: ComponentSettings) -> FileReader:
    """Create the reader (imports httpx only now)."""
    from pocketflow_httpx.reader import HttpReader

    return HttpReader(settings)


@hookimpl
def register_file_readers(register: RegisterFileReader) -> None:
    """Register ``http`` for http:// and https:// URLs."""
    register(
        "http",
        ("http", "https"),
        make_reader,
        settings=SETTING_TYPES,
        description="text over http and https, one pooled client per event loop (timeout, "
        "max_bytes, max_redirects, headers)",
    )
