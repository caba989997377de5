"""openai SDK exceptions turned into the core's normalised errors.

The caller chains the original (``raise translate(...) from error``). The vendor's
own message is taken from the error JSON; the API key is scrubbed from it, and from
the original (its message, body and traceback), so no printed traceback shows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import openai

from pocketflow.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
    error_for_status,
    parse_retry_after,
    redact_exception,
)
from pocketflow.providers import first_line

CONTEXT_TOO_LONG_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class CallContext:
    """What an error message needs: who was called, with which key variable, where.

    ``secret`` is the key itself, kept only to scrub it from vendor messages;
    ``timeout`` is the seconds one attempt may take.
    """

    provider: str
    model: str
    key_variable: str | None
    endpoint: str
    timeout: float
    secret: str | None = field(default=None, repr=False)

    def scrub(self, text: str) -> str:
        """``text`` without the API key."""
        return text.replace(self.secret, REDACTED) if self.secret else text


def translate(error: Exception, context: CallContext) -> LLMError:
    """The normalised error for an SDK (or JSON) ``error``, which loses the key too."""
    redact_exception(error, context.secret)
    located: dict[str, Any] = {"provider": context.provider, "model": context.model}
    if isinstance(error, openai.APITimeoutError):
        return LLMTimeoutError(
            f"no reply from {context.endpoint} within {context.timeout:g}s "
            f"(timeout under [providers.{context.provider}] sets it)",
            **located,
        )
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__
        reason = f"{type(cause).__name__}: {cause}" if cause else str(error)
        return LLMConnectionError(
            f"could not reach {context.endpoint} ({context.scrub(reason)})", **located
        )
    if isinstance(error, openai.APIResponseValidationError):
        return MalformedResponseError(
            context.scrub(str(error)), status=error.status_code, **located
        )
    if isinstance(error, openai.APIStatusError):
        return _status_error(error, context, located)
    if isinstance(error, openai.APIError):  # an error event inside a stream
        return _stream_error(error, context, located)
    if isinstance(error, json.JSONDecodeError):
        return MalformedResponseError(f"a reply is not valid JSON ({error})", **located)
    return LLMError(context.scrub(f"{type(error).__name__}: {error}"), **located)


def _status_error(
    error: openai.APIStatusError, context: CallContext, located: dict[str, Any]
) -> LLMError:
    status = error.status_code
    message = context.scrub(vendor_message(error.body) or f"HTTP {status} with no message")
    kind = error_for_status(status, message)
    if status == 400 and error.code in CONTEXT_TOO_LONG_CODES:
        kind = ContextTooLongError
    if kind is AuthenticationError:
        message += " " + _key_hint(context)
    return kind(
        message,
        status=status,
        request_id=error.request_id,
        retry_after=parse_retry_after(error.response.headers),
        **located,
    )


def _key_hint(context: CallContext) -> str:
    if context.key_variable is None:  # a keyless endpoint (require_key = false) wants one
        return (
            f"{context.endpoint} wants an API key: name the variable holding it with "
            f"api_key_env under [providers.{context.provider}]."
        )
    return f"Check {context.key_variable}: it must hold a valid key for {context.endpoint}."


def _stream_error(
    error: openai.APIError, context: CallContext, located: dict[str, Any]
) -> LLMError:
    message = context.scrub(vendor_message(error.body) or error.message)
    kind = (error.type or error.code or "").lower()
    if "rate_limit" in kind:
        return RateLimitError(message, **located)
    if "invalid_request" in kind:
        return BadRequestError(message, **located)
    return ServerError(message, **located)


def vendor_message(body: object) -> str | None:
    """The vendor's message in an error body: ``message``, ``detail``, or the text itself.

    The SDK hands over the ``error`` object already unwrapped when there is one;
    OpenAI-compatible servers vary (``{"detail": ...}``, ``{"error": "text"}``, HTML).
    """
    if isinstance(body, str):
        return first_line(body, 500) or None
    if isinstance(body, Mapping):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping):
                nested = vendor_message(value)
                if nested:
                    return nested
        return first_line(json.dumps(body), 500) if body else None
    return None
