"""LiteLLM's exceptions as the core's normalised :class:`~pocketflow.errors.LLMError` family.

LiteLLM raises its own classes (``litellm.RateLimitError``, ``Timeout``,
``ContextWindowExceededError``, ``MidStreamFallbackError``, ...) with the vendor's HTTP
error chained under them. The vendor's own status, message, request id and
``retry-after`` are read from that chain where it holds them, and the status decides
the class as for every plugin (:func:`~pocketflow.errors.error_for_status`: a 529
LiteLLM calls an internal server error stays an overload, a 500 whose body says
"invalid_request_error" stays a server error); without one, LiteLLM's class decides:

* ``RateLimitError`` -> RateLimitError (with ``retry-after``), ``AuthenticationError``,
  ``PermissionDeniedError``, ``NotFoundError`` -> ModelNotFoundError,
  ``ContextWindowExceededError`` -> ContextTooLongError, ``BadRequestError`` and
  ``UnprocessableEntityError`` -> BadRequestError;
* ``ServiceUnavailableError`` -> OverloadedError, ``InternalServerError``,
  ``BadGateway`` and other 5xx -> ServerError; ``Timeout`` -> LLMTimeoutError;
* a dropped connection (an httpx transport error in the chain), ``APIConnectionError``
  and a stream cut short (``MidStreamFallbackError``) -> LLMConnectionError;
* a reply that is not JSON -> MalformedResponseError.

No message holds a key: every secret the call could have used (the configured key and
the vendors' key variables) is blanked out of the normalised error and of the chained
LiteLLM exceptions, whose tracebacks are cut.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketflow.errors import (
    REDACTED,
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
    ModelNotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    error_for_status,
    parse_retry_after,
    redact_exception,
)
from pocketflow.providers import first_line

ERROR_BY_CLASS: Mapping[str, type[LLMError]] = {
    "ContextWindowExceededError": ContextTooLongError,
    "RateLimitError": RateLimitError,
    "AuthenticationError": AuthenticationError,
    "PermissionDeniedError": PermissionDeniedError,
    "NotFoundError": ModelNotFoundError,
    "BadRequestError": BadRequestError,
    "UnprocessableEntityError": BadRequestError,
    "MidStreamFallbackError": LLMConnectionError,
    "ServiceUnavailableError": OverloadedError,
    "InternalServerError": ServerError,
    "BadGatewayError": ServerError,
    "Timeout": LLMTimeoutError,
    "APIConnectionError": LLMConnectionError,
}
"""LiteLLM's exception classes (by name, most specific first) and what they become."""

SECRET_VARIABLE = re.compile(r"(_API_KEY|_SECRET_ACCESS_KEY|_SESSION_TOKEN|_ACCESS_KEY_ID|_TOKEN)$")
"""Environment variables that hold vendor credentials LiteLLM may read."""

LITELLM_PREFIX = re.compile(r"^(litellm\.\w+: )+(\w+Error: )?(\w+Exception - )?")


@dataclass(frozen=True, slots=True)
class CallContext:
    """What an error names: the provider, the LiteLLM model and the timeout; ``secret``
    the configured key, if any (to blank it out)."""

    provider: str
    model: str
    timeout: float
    secret: str | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        """Every value a message must not show: the key and the vendor key variables."""
        found = [self.secret] if self.secret else []
        found += [v for k, v in os.environ.items() if SECRET_VARIABLE.search(k) and len(v) >= 8]
        return sorted(set(found), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with every secret blanked out."""
        for secret in self.secrets():
            text = text.replace(secret, REDACTED)
        return text


def normalise(error: BaseException, context: CallContext) -> LLMError:
    """The normalised error for a LiteLLM ``error``; chain it with ``from``."""
    for secret in context.secrets():
        redact_exception(error, secret)
    chain = list(_chain(error))
    upstream = next((e for e in chain if _is_http_status_error(e)), None)
    status, headers, body = _upstream(upstream)
    message = context.scrub(_vendor_message(body) or _litellm_message(error))
    where: dict[str, Any] = {"provider": context.provider, "model": context.model}
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return MalformedResponseError(f"the reply is not JSON: {first_line(message)}", **where)
    if upstream is None and any(_is_transport_error(e) for e in chain):
        if any(type(e).__name__.endswith("Timeout") for e in chain):
            return _timeout(context)
        cause = next(e for e in chain if _is_transport_error(e))
        return LLMConnectionError(f"{type(cause).__name__}: {context.scrub(str(cause))}", **where)
    kind = _kind(error, status, message)
    if kind is LLMTimeoutError:
        return _timeout(context)
    if kind is AuthenticationError:
        message += (
            ". Check the vendor's key variable LiteLLM reads for this model (or name one "
            f"with api_key_env under [providers.{context.provider}])"
        )
    return kind(
        message,
        **where,
        status=status if status is not None else _status_of(error),
        request_id=_request_id(headers),
        retry_after=_retry_after(error, headers),
    )


def _kind(error: BaseException, status: int | None, message: str) -> type[LLMError]:
    names = {cls.__name__ for cls in type(error).__mro__}
    if "ContextWindowExceededError" in names:
        return ContextTooLongError
    if status is not None and status >= 400:  # the vendor's own status says it best
        return error_for_status(status, message)
    for name, kind in ERROR_BY_CLASS.items():
        if name in names:
            return kind
    own = _status_of(error)
    return error_for_status(own, message) if own is not None else LLMError


def _timeout(context: CallContext) -> LLMTimeoutError:
    return LLMTimeoutError(
        f"no reply within {context.timeout:g}s (timeout under [providers.{context.provider}] "
        "sets it)",
        provider=context.provider,
        model=context.model,
    )


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        original = getattr(current, "original_exception", None)
        if isinstance(original, BaseException) and id(original) not in seen:
            yield from _chain(original)
        current = current.__cause__ or current.__context__


def _is_http_status_error(error: BaseException) -> bool:
    response = getattr(error, "response", None)
    return type(error).__name__ in ("HTTPStatusError", "MaskedHTTPStatusError") and isinstance(
        getattr(response, "status_code", None), int
    )


def _is_transport_error(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return "TransportError" in names and "HTTPStatusError" not in names


def _upstream(error: BaseException | None) -> tuple[int | None, Mapping[str, str], Any]:
    """The vendor's status, headers and error body, from its HTTP error."""
    if error is None:
        return None, {}, None
    response: Any = getattr(error, "response", None)
    try:
        body: Any = response.json()
    except Exception:  # not JSON, or already consumed: the text will do
        body = getattr(response, "text", None)
    return response.status_code, response.headers, body


def _vendor_message(body: Any) -> str | None:
    """The vendor's ``error.message`` (or ``message``) from an error body."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        for key in ("message", "Message", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
        if isinstance(error, str):
            return error
    if isinstance(body, str) and body.strip():
        return first_line(body)
    return None


def _litellm_message(error: BaseException) -> str:
    """LiteLLM's message without its class-name prefixes."""
    raw = getattr(error, "message", None)
    text = raw if isinstance(raw, str) else str(error)
    return first_line(LITELLM_PREFIX.sub("", text)) or type(error).__name__


def _status_of(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "request-id", "x-amzn-requestid", "apim-request-id"):
        value = headers.get(name)
        if value:
            return value
    return None


def _retry_after(error: BaseException, headers: Mapping[str, str]) -> float | None:
    seconds = parse_retry_after(headers)
    if seconds is None:
        kept = getattr(error, "litellm_response_headers", None)
        if kept is not None and hasattr(kept, "get"):
            seconds = parse_retry_after(_Caseless(kept))
    return seconds


class _Caseless(dict[str, str]):
    """Headers LiteLLM kept as a plain mapping, looked up case-insensitively."""

    def __init__(self, headers: Any) -> None:
        super().__init__({str(k).lower(): str(v) for k, v in dict(headers).items()})

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)
