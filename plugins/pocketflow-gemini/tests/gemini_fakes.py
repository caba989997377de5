"""What the mocked Gemini API sends back, and the names the tests share.

Importable from the tests because ``conftest.py`` puts this folder on ``sys.path``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import google.auth.credentials

API_KEY = "AIza-test-0123456789abcdef"
MODEL = "gemini-2.5-flash"
API = "https://generativelanguage.googleapis.com/v1beta"
GENERATE_URL = f"{API}/models/{MODEL}:generateContent"
STREAM_URL = f"{API}/models/{MODEL}:streamGenerateContent"
URL_PATTERN = r"https://generativelanguage\.googleapis\.com/v1beta/models/gemini-2\.5-flash:"
"""Both the generate and the stream endpoints (``respx`` ``url__regex``)."""

Runner = Callable[[Coroutine[Any, Any, Any]], Any]
"""The ``run`` fixture: runs a coroutine on a new loop, then closes the clients."""

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def reply_json(
    *parts: dict[str, Any],
    finish_reason: str | None = "STOP",
    input_tokens: int = 9,
    output_tokens: int = 3,
    usage: bool = True,
) -> dict[str, Any]:
    """A ``generateContent`` reply (or one stream chunk) holding ``parts``."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    reply: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": "gemini-2.5-flash-001",
        "responseId": "resp_1",
    }
    if usage:
        reply["usageMetadata"] = {
            "promptTokenCount": input_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": input_tokens + output_tokens,
        }
    return reply


def text_json(text: str = "Hello from Gemini.", **kwargs: Any) -> dict[str, Any]:
    """A reply answering ``text``."""
    return reply_json({"text": text}, **kwargs)


def error_json(status: int, message: str) -> dict[str, Any]:
    """An error body as the Gemini API sends it."""
    return {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status)}}


def sse(*chunks: dict[str, Any]) -> bytes:
    """``chunks`` as a ``streamGenerateContent?alt=sse`` body."""
    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


class FakeCredentials(google.auth.credentials.Credentials):
    """Credentials that hold a token already (no refresh over the network)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "ya29.test-token"

    def refresh(self, request: Any) -> None:
        self.token = "ya29.test-token"

    @property
    def expired(self) -> bool:
        return False

    @property
    def valid(self) -> bool:
        return True
