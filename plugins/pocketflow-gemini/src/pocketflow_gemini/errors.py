"""google-genai exceptions (and the transport errors under them) as the core's
normalised :class:`~pocketflow.errors.LLMError` family.

* ``APIError`` -> the class :func:`~pocketflow.errors.error_for_status` picks for its
  HTTP status and the vendor's message (``{"error": {"code", "message", "status"}}``),
  with any ``retry-after`` header or ``RetryInfo.retryDelay``: 429 RateLimitError, 503
  OverloadedError, 5xx ServerError, 404 ModelNotFoundError, a 400 saying the input
  token count exceeds the maximum ContextTooLongError. The Gemini API answers a
  bad key with 400 ``API_KEY_INVALID``: that is an AuthenticationError, as 401 is, and
  says which variable the key came from.
* httpx2 timeouts -> LLMTimeoutError; other transport errors (refused, dropped) ->
  LLMConnectionError; a body that is not JSON -> MalformedResponseError.

Messages never hold the API key: a vendor message that echoes it is blanked out, in
the normalised error and in the chained SDK exception alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
from google.genai import errors as genai_errors

from pocketflow.errors import (
    AuthenticationError,
    ContextTooLongError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
    error_for_status,
    parse_retry_after,
    redact_exception,
)

REDACTED = "[redacted]"
TOO_LONG_HINTS = ("input token count", "exceeds the maximum number of tokens")
"""How the Gemini API says a prompt does not fit the model's context window (a 400)."""
BAD_KEY_REASONS = ("API_KEY_INVALID", "API_KEY_EXPIRED", "API key not valid")
_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True, slots=True)
class CallContext:
    """What an error message names: the provider, model, key variable and endpoint.

    ``secret`` is the API key in use, kept only to blank it out of vendor messages.
    """

    provider: str
    model: str
    key_variable: str | None
    endpoint: str
    timeout: float
    secret: str | None = field(default=None, repr=False)

    def scrub(self, text: str) -> str:
        """``text`` with the API key blanked out."""
        return text.replace(self.secret, REDACTED) if self.secret else text

    def credentials_hint(self) -> str:
        """Where the failing credentials came from, to fix them."""
        if self.key_variable:
            return (
                f". Check the API key in the environment variable {self.key_variable} "
                f"(or name another with api_key_env under [providers.{self.provider}])"
            )
        return (
            ". Check the application default credentials (gcloud auth application-default "
            "login, or GOOGLE_APPLICATION_CREDENTIALS) and the project's access to Vertex AI"
        )


def translate(error: BaseException, context: CallContext) -> LLMError:
    """The normalised error for an SDK or transport ``error``; chain it with ``from``.

    ``error`` loses the key too (its message, details and traceback).
    """
    redact_exception(error, context.secret)
    where: dict[str, Any] = {"provider": context.provider, "model": context.model}
    if isinstance(error, genai_errors.APIError):
        if context.secret:
            error.details = _without(error.details, context.secret)
        return from_api_error(error, context)
    if isinstance(error, httpx2.TimeoutException):
        return LLMTimeoutError(
            f"no reply from {context.endpoint} within {context.timeout:g}s "
            f"(timeout under [providers.{context.provider}] sets it)",
            **where,
        )
    if isinstance(error, httpx2.TransportError):
        message = context.scrub(f"cannot reach {context.endpoint}: {type(error).__name__}: {error}")
        return LLMConnectionError(message, **where)
    if isinstance(error, ValueError):  # a reply or stream event that is not JSON
        return MalformedResponseError(
            context.scrub(f"the reply does not match the Gemini API: {error}"), **where
        )
    return LLMError(context.scrub(f"{type(error).__name__}: {error}"), **where)


def from_api_error(error: genai_errors.APIError, context: CallContext) -> LLMError:
    """The normalised error for an HTTP error reply (or an error inside a stream)."""
    status = error.code if isinstance(error.code, int) else 500
    message = error.message if isinstance(error.message, str) and error.message else ""
    text = message or f"HTTP {status} with no error message"
    if error.status:
        text += f" ({error.status})"
    bad_key = status == 401 or (status in (400, 403) and _says_bad_key(error.details))
    cls = AuthenticationError if bad_key else error_for_status(status, message)
    if status == 400 and any(hint in message.lower() for hint in TOO_LONG_HINTS):
        cls = ContextTooLongError
    if bad_key or status == 403:
        text += context.credentials_hint()
    headers = getattr(error.response, "headers", None)
    retry_after = parse_retry_after(headers) if isinstance(headers, Mapping) else None
    if retry_after is None:
        retry_after = _retry_delay(error.details)
    return cls(
        context.scrub(text),
        provider=context.provider,
        model=context.model,
        status=status,
        request_id=_request_id(headers),
        retry_after=retry_after,
    )


def _says_bad_key(details: Any) -> bool:
    return any(reason in str(details) for reason in BAD_KEY_REASONS)


def _retry_delay(details: Any) -> float | None:
    """``RetryInfo.retryDelay`` ("30s") among the error's details, in seconds."""
    error = details.get("error", details) if isinstance(details, Mapping) else None
    items = error.get("details") if isinstance(error, Mapping) else None
    for item in items if isinstance(items, list) else ():
        delay = item.get("retryDelay") if isinstance(item, Mapping) else None
        found = _DELAY.match(delay) if isinstance(delay, str) else None
        if found:
            return float(found.group(1))
    return None


def _request_id(headers: Any) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    value = headers.get("x-request-id") or headers.get("x-goog-request-id")
    return value if isinstance(value, str) and value else None


def _without(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, Mapping):
        return {key: _without(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [_without(item, secret) for item in value]
    return value
