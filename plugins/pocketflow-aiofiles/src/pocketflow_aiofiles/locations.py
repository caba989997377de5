"""From a location (a plain path or a ``file://`` URL) to a local path, and root checks."""

from __future__ import annotations

import os
from urllib.parse import urlsplit
from urllib.request import url2pathname

from pocketflow.errors import FileReadError

_LOCAL_HOSTS = ("", "localhost")


def local_path(location: str) -> str:
    """The absolute local path ``location`` names.

    A ``file://`` URL is percent-decoded (``file:///tmp/a%20b.txt`` is ``/tmp/a b.txt``);
    a relative plain path is resolved against the working directory.
    """
    if location[:7].lower() == "file://":
        parts = urlsplit(location)
        if parts.netloc.lower() not in _LOCAL_HOSTS:
            raise FileReadError(
                location,
                f"the URL names the host '{parts.netloc}', but only local files can be read. "
                "Write file:///absolute/path (three slashes) or a plain path.",
            )
        path = url2pathname(parts.path)
        if not path:
            raise FileReadError(location, "the URL names no file. Write file:///absolute/path.")
        return _checked(location, os.path.abspath(path))
    if not location:
        raise FileReadError(repr(location), "the path is empty. Name a file to read.")
    return _checked(location, os.path.abspath(location))


def _checked(location: str, path: str) -> str:
    """``path``, unless it holds a NUL byte (which the OS would refuse with a ValueError)."""
    if "\0" in path:
        raise FileReadError(
            repr(location), "the path holds a NUL byte, which no file name can contain."
        )
    return path


def is_inside(path: str, root: str) -> bool:
    """True when the resolved ``path`` is ``root`` itself or lies below it."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False
