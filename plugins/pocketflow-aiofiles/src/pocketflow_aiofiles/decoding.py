"""Turning a file's bytes into text: a known encoding, a stripped BOM, plain newlines."""

from __future__ import annotations

import codecs


def codec_name(encoding: str) -> str:
    """Python's canonical name for ``encoding``; raises LookupError if it is unknown."""
    return codecs.lookup(encoding).name


def decode(data: bytes, encoding: str) -> str:
    """Decode ``data``; a UTF-8 byte order mark is dropped, newlines become ``\\n``.

    Raises UnicodeDecodeError whose ``start`` is the offset in ``data`` itself (the
    BOM included), so a message can point at the bad byte in the file.
    """
    name = codec_name(encoding)
    skip = 0
    if name in ("utf-8", "utf-8-sig"):
        name = "utf-8"
        if data.startswith(codecs.BOM_UTF8):
            skip = len(codecs.BOM_UTF8)
    try:
        text = data[skip:].decode(name) if skip else data.decode(name)
    except UnicodeDecodeError as error:
        raise UnicodeDecodeError(
            error.encoding, data, error.start + skip, error.end + skip, error.reason
        ) from None
    if "\r" in text:  # universal newlines, as Path.read_text gives
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
