"""The parts a message may hold beside plain text: images, tool calls, tool results.

A :class:`~pocketflow.providers.Message`'s content is a string or a sequence of parts.
The user sends text and images; the assistant's turn holds its text and the
:class:`ToolCall` s it asked for; the results go back in a user turn as
:class:`ToolResult` s. Each vendor plugin maps every part onto its API; a provider
that cannot take one says so before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""The image media types both vendors take."""


@dataclass(frozen=True, slots=True)
class TextPart:
    """Text inside a message made of parts."""

    text: str
    kind = "text"


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image: its bytes (``data`` with ``media_type``) or a ``url``.

    Make one with :meth:`from_path`, :meth:`from_url` or :meth:`from_bytes`.
    """

    data: bytes | None = None
    media_type: str | None = None
    url: str | None = None
    kind = "image"

    @classmethod
    def from_path(cls, path: str | Path, media_type: str | None = None) -> ImagePart:
        """The image in the file at ``path`` (read now); its type from the file name."""
        import mimetypes

        location = Path(path)
        kind = media_type or mimetypes.guess_type(location.name)[0]
        if kind not in IMAGE_TYPES:
            raise ValueError(
                f"{location}: an image must be PNG, JPEG, GIF or WebP (got "
                f"{kind or 'an unknown type'}); pass media_type= if the file name does not say."
            )
        try:
            data = location.read_bytes()
        except OSError as error:
            raise ValueError(
                f"{location}: cannot read the image ({error.strerror or error})."
            ) from None
        return cls(data=data, media_type=kind)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str) -> ImagePart:
        """An image from its ``data`` and ``media_type`` ("image/png", ...)."""
        if media_type not in IMAGE_TYPES:
            raise ValueError(
                f"An image's media_type must be one of {sorted(IMAGE_TYPES)}, not {media_type!r}."
            )
        return cls(data=bytes(data), media_type=media_type)

    @classmethod
    def from_url(cls, url: str) -> ImagePart:
        """An image the vendor fetches from ``url`` (http or https)."""
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"An image URL must start with https:// or http://, not {url[:40]!r}.")
        return cls(url=url)

    @property
    def base64(self) -> str:
        """The bytes, base64-encoded (empty for a URL image)."""
        import base64

        return base64.b64encode(self.data).decode("ascii") if self.data is not None else ""

    @property
    def data_url(self) -> str:
        """The image as a URL: its own, or a ``data:`` URL of its bytes."""
        return self.url or f"data:{self.media_type};base64,{self.base64}"

    def __repr__(self) -> str:  # the bytes would flood tracebacks
        if self.url:
            return f"ImagePart(url={self.url!r})"
        return f"ImagePart({self.media_type}, {len(self.data or b'')} bytes)"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for: its ``id``, the tool's ``name``, the ``arguments``."""

    id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    kind = "tool_call"

    def describe(self) -> str:
        """``name(key=value, ...)``, short: for error messages."""
        shown = ", ".join(f"{key}={value!r}" for key, value in self.arguments.items())
        return f"{self.name}({shown if len(shown) <= 80 else shown[:79] + '…'})"


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What running a tool gave: ``content`` for the call ``call_id``; ``is_error`` if it
    raised."""

    call_id: str
    name: str
    content: str
    is_error: bool = False
    kind = "tool_result"


@dataclass(frozen=True, slots=True)
class VendorPart:
    """A block only one vendor understands, kept as it came (``data``) so that a tool loop
    sends the assistant's turn back whole: Anthropic's thinking blocks, which must go back
    with the tool calls they led to. Other providers leave it out."""

    provider: str
    data: Mapping[str, Any]
    kind = "vendor"

    def __repr__(self) -> str:
        return f"VendorPart({self.provider!r}, {self.data.get('type')!r})"


Part = TextPart | ImagePart | ToolCall | ToolResult | VendorPart
"""Anything a message's content may hold beside a plain string."""
