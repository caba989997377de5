"""anthropic SDK exceptions (and the transport errors of a stream) as the core's
normalised :class:`~pocketflow.errors.LLMError` family.

* ``APIStatusError`` -> the class :func:`~pocketflow.errors.error_for_status` picks for
  its status and the vendor's message (``{"type": "error", "error": {"type": ...,
  "message": ...}}``), with the ``request-id`` and any ``retry-after``: 401 is
  AuthenticationError naming the key variable, 413 and "prompt is too long" are
  ContextTooLongError, 429 RateLimitError, 529 OverloadedError, 5xx ServerError.
* An ``error`` event in the middle of a stream arrives on an HTTP 200 response; its
  error ``type`` picks the class (``overloaded_error`` -> OverloadedError, ...).
* ``APITimeoutError`` and httpx2 timeouts -> LLMTimeoutError; ``APIConnectionError``
  and httpx2 transport errors -> LLMConnectionError.

Messages never hold the API key: if a vendor message echoes it, it is blanked out,
in the normalised error and in the chained SDK exception alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from pocketflow.errors import (
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
    error_for_status,
    parse_retry_after,
    redact_exception,
)
from pocketflow.providers import first_line

STATUS_BY_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status each Messages API error type stands for (to classify stream errors)."""

REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class CallContext:
    """What an error message names: the provider, model, key variable and endpoint.

    ``secret`` is the API key in use, kept only to blank it out of vendor messages.
    """

    provider: str
    model: str
    key_variable: str
    base_url: str
    timeout: float
    secret: str | None = field(default=None, repr=False)

    def scrub(self, text: str) -> str:
        """``text`` with the API key blanked out."""
        return text.replace(self.secret, REDACTED) if self.secret else text


def vendor_error(body: object) -> tuple[str | None, str | None]:
    """The vendor's error ``message`` and ``type`` from an error body."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message, kind = error.get("message"), error.get("type")
            return (
                message if isinstance(message, str) and message else None,
                kind if isinstance(kind, str) and kind else None,
            )
    if isinstance(body, str) and body.strip():
        return first_line(body), None
    return None, None


def from_status_error(error: anthropic.APIStatusError, context: CallContext) -> LLMError:
    """The normalised error for an HTTP error response (or a stream's error event)."""
    message, kind = vendor_error(error.body)
    mid_stream = error.status_code < 400
    status = STATUS_BY_ERROR_TYPE.get(kind or "", 500) if mid_stream else error.status_code
    text = message or f"HTTP {status} with no error message"
    if kind:
        text += f" ({kind}{', sent mid-stream' if mid_stream else ''})"
    if status == 401:
        text += (
            f". Check the API key in the environment variable {context.key_variable} "
            f"(or name another with api_key_env under [providers.{context.provider}])"
        )
    request_id = error.request_id or _body_request_id(error.body)
    return error_for_status(status, message or "")(
        context.scrub(text),
        provider=context.provider,
        model=context.model,
        status=None if mid_stream else status,
        request_id=request_id,
        retry_after=parse_retry_after(error.response.headers),
    )


def _body_request_id(body: object) -> str | None:
    value = body.get("request_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def normalise(error: BaseException, context: CallContext) -> LLMError:
    """The normalised error for an SDK or transport ``error``; chain it with ``from``.

    ``error`` loses the key too (its message, body and traceback): it is printed with
    the traceback as the cause.
    """
    redact_exception(error, context.secret)
    where: dict[str, Any] = {"provider": context.provider, "model": context.model}
    if isinstance(error, anthropic.APIStatusError):
        return from_status_error(error, context)
    if isinstance(error, (anthropic.APITimeoutError, httpx2.TimeoutException)):
        return LLMTimeoutError(
            f"no reply from {context.base_url} within {context.timeout:g}s "
            f"(timeout under [providers.{context.provider}] sets it)",
            **where,
        )
    if isinstance(error, (anthropic.APIConnectionError, httpx2.TransportError)):
        cause = error.__cause__ if isinstance(error, anthropic.APIConnectionError) else error
        reason = f": {type(cause).__name__}: {cause}" if cause is not None else ""
        message = context.scrub(f"cannot reach {context.base_url}{reason}")
        return LLMConnectionError(message, **where)
    if isinstance(error, (anthropic.APIResponseValidationError, ValueError)):
        return MalformedResponseError(
            context.scrub(f"the reply does not match the Messages API: {error}"), **where
        )
    return LLMError(context.scrub(f"{type(error).__name__}: {error}"), **where)
