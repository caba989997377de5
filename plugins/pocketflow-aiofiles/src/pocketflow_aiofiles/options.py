"""The reader's settings, ``[readers.aiofiles]`` in pocketflow.toml, checked once.

``root`` may be relative: it is resolved against the folder of the config file in
effect (so it means the same folder wherever the program is started from), or
against the working directory when no config file was found.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass

from pocketflow.providers import ComponentSettings

SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "encoding": str,
    "max_bytes": int,
    "root": str,
}
DEFAULT_ENCODING = "utf-8"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
TABLE = "[readers.aiofiles]"


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """Checked settings: the default encoding, the size limit, the optional root folder.

    ``root`` is absolute and has its symlinks resolved, ready for containment checks.
    """

    encoding: str = DEFAULT_ENCODING
    max_bytes: int = DEFAULT_MAX_BYTES
    root: str | None = None

    @classmethod
    def from_settings(cls, settings: ComponentSettings) -> ReaderOptions:
        """Check ``settings.options``; raise ConfigError naming the key and the fix."""
        options = settings.options
        encoding = options.get("encoding", DEFAULT_ENCODING)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise settings.config_error(
                "encoding",
                f"= {encoding!r} is not an encoding Python knows. "
                'Use a name such as "utf-8", "latin-1", "cp1252" or "utf-16".',
            ) from None
        max_bytes = options.get("max_bytes", DEFAULT_MAX_BYTES)
        if max_bytes <= 0:
            raise settings.config_error(
                "max_bytes", f"must be a number of bytes greater than 0, not {max_bytes}."
            )
        root = options.get("root")
        if root is not None:
            if not root:
                raise settings.config_error("root", 'must name a folder, e.g. root = "docs".')
            folder = settings.config_path.resolve().parent if settings.config_path else os.getcwd()
            root = os.path.realpath(os.path.join(folder, os.path.expanduser(root)))
        return cls(encoding=encoding, max_bytes=max_bytes, root=root)
