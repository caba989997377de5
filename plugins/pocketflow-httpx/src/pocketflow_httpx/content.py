"""Which responses hold text, and how their bytes become text."""

from __future__ import annotations

import codecs

TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/xhtml+xml",
        "application/javascript",
        "application/x-ndjson",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
    }
)
ALLOWED = (
    "text/*, JSON and XML (application/json, application/xml, application/xhtml+xml, "
    "*+json, *+xml), YAML, TOML, NDJSON and JavaScript"
)


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a Content-Type header, without its parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_text(content_type: str | None) -> bool:
    """True for text types; a missing Content-Type counts as text."""
    kind = media_type(content_type)
    return (
        not kind
        or kind.startswith("text/")
        or kind in TEXT_TYPES
        or kind.endswith(("+json", "+xml"))
    )


def known_codec(name: str | None) -> str | None:
    """Python's name for the charset ``name``, or None if it is missing or unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_body(body: bytes, charset: str | None, fallback: str | None) -> str:
    """The text of a body the server sent without a charset the caller chose.

    The charset the server declared wins; without one, UTF-8 (a byte order mark
    dropped); bytes that are not UTF-8 are read with ``fallback`` (the encoding httpx
    settles on for the response). Bytes that still do not decode become U+FFFD.
    """
    declared = known_codec(charset)
    if declared is not None:
        return body.decode(declared, errors="replace")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode(known_codec(fallback) or "utf-8", errors="replace")


def decode_strict(body: bytes, encoding: str) -> str:
    """Decode ``body`` with the encoding a caller chose; a UTF-8 byte order mark is dropped.

    Raises UnicodeDecodeError whose ``start`` is the offset in ``body`` itself.
    """
    name = codecs.lookup(encoding).name
    if name in ("utf-8", "utf-8-sig") and body.startswith(codecs.BOM_UTF8):
        skip = len(codecs.BOM_UTF8)
        try:
            return body[skip:].decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnicodeDecodeError(
                error.encoding, body, error.start + skip, error.end + skip, error.reason
            ) from None
    return body.decode(name)
