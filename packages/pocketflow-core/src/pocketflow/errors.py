"""Every error this library raises, in one hierarchy rooted at :class:`PocketFlowError`.

Each message names what was wrong and how to fix it. Vendor SDK exceptions are
wrapped in the normalised :class:`LLMError` family, with the original chained.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

# --- Engine errors (nodes and flows) -------------------------------------------------
# Some also derive from the built-in error that PocketFlow 0.0.3 raised at the same
# point (RuntimeError, TypeError), so code that caught those keeps working.


class PocketFlowError(Exception):
    """Base of every error this library raises."""


class FlowError(PocketFlowError):
    """A node or flow was built or run in a way the engine cannot follow."""


class AsyncRunRequired(FlowError, RuntimeError):
    """An async node (or async flow) was run with the sync ``run``."""

    def __init__(self, node: Any) -> None:
        self.node_name = type(node).__name__
        super().__init__(
            f"{self.node_name} is async. Use run_async: `await node.run_async(shared)`, "
            "and put async nodes in an AsyncFlow (not a Flow)."
        )


class MissingStartNode(FlowError):
    """A flow was run before it was given a start node."""

    def __init__(self, flow: Any) -> None:
        self.flow_name = type(flow).__name__
        super().__init__(
            f"{self.flow_name} has no start node: pass `start=` "
            f"({self.flow_name}(start=first_node)) or call `flow.start(first_node)`."
        )


class NotANode(FlowError, TypeError):
    """A flow reached something that is not a node (as its start or a successor)."""

    def __init__(self, value: Any, reached_from: str) -> None:
        self.value = value
        super().__init__(
            f"{reached_from} is {value!r} (a {type(value).__name__}), which is not a node. "
            "Flows connect nodes only: a Node, a Flow, or one of their async or batch forms."
        )


class InvalidAction(FlowError, TypeError):
    """A transition was labelled with something other than a string."""

    def __init__(self, action: Any) -> None:
        self.action = action
        super().__init__(
            f'An action must be a string, as in `node - "retry" >> other`; '
            f"got {action!r} (a {type(action).__name__})."
        )


class InvalidBatch(FlowError, TypeError):
    """A batch node's or batch flow's ``prep`` returned something that is not a batch."""

    def __init__(self, node: Any, detail: str) -> None:
        self.node_name = type(node).__name__
        super().__init__(f"{self.node_name}: {detail}")


class MaxStepsExceeded(FlowError):
    """A flow ran more node steps than its ``max_steps`` allows."""

    def __init__(self, flow: Any, node: Any, max_steps: int) -> None:
        self.flow_name = type(flow).__name__
        self.node_name = type(node).__name__
        self.max_steps = max_steps
        super().__init__(
            f"{self.flow_name} stopped before {self.node_name}: it already ran "
            f"max_steps={max_steps} steps. A loop whose exit action is never returned is "
            "the usual cause; check the actions that lead back, or raise max_steps."
        )


class InvalidActionResult(FlowError, TypeError):
    """A node with successors returned something other than a string as its action."""

    def __init__(self, node: Any, action: Any) -> None:
        self.node_name = type(node).__name__
        self.action = action
        choices = ", ".join(repr(name) for name in node.successors)
        super().__init__(
            f"{self.node_name}.post returned {action!r} (a {type(action).__name__}) as its "
            f"action. An action must be a string naming a successor ({choices}), or None "
            f'for "default"; keep results in the shared store.'
        )


# --- End of engine errors -------------------------------------------------------------


class SyncTwinError(PocketFlowError, RuntimeError):
    """A sync twin (``call_llm``, ``read_file``, ...) was called where it cannot wait."""


# --- plugins and configuration ----------------------------------------------------------


class PluginError(PocketFlowError):
    """A plugin failed to load or to register (raised in strict mode only)."""


class ConfigError(PocketFlowError):
    """The configuration is wrong: a file, a key, an environment variable or an argument."""


class ProviderNotFoundError(ConfigError):
    """A model string, reader or feedback provider names something no plugin registered."""


class EmbeddingDimensionError(ConfigError):
    """An embedding fallback makes vectors of another length than the model it stands in
    for: its vectors could not be compared with the others, so it is refused."""

    def __init__(self, model: str, dimensions: int, fallback: str, fallback_dimensions: int):
        self.model = model
        self.dimensions = dimensions
        self.fallback = fallback
        self.fallback_dimensions = fallback_dimensions
        super().__init__(
            f"The embedding fallback {fallback} makes {fallback_dimensions}-dimensional "
            f"vectors, but {model} makes {dimensions}-dimensional ones: vectors of the two "
            f"cannot be compared. Choose a fallback of {dimensions} dimensions in "
            f"embedding_fallbacks, or pass dimensions= where both models allow it."
        )


class MissingKeyError(ConfigError):
    """The environment variable that should hold a provider's API key is unset or empty."""

    def __init__(self, provider: str, variable: str) -> None:
        self.provider = provider
        self.variable = variable
        super().__init__(
            f"Provider '{provider}' needs an API key, but the environment variable "
            f"{variable} is not set. Set it (export {variable}=...), or name another "
            f"variable with api_key_env under [providers.{provider}] in pocketflow.toml."
        )


# --- LLM calls ---------------------------------------------------------------------------


class LLMError(PocketFlowError):
    """A call to an LLM provider failed.

    Carries what a user needs to act on it: the provider, the model, the HTTP status,
    the vendor's own message and its request id. ``retryable`` tells the call policy
    whether trying again can help. Vendor SDK exceptions are chained as the cause;
    no error ever holds an API key.
    """

    retryable: bool = False
    kind: str = "LLM call failed"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.model = model
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(self.describe())

    def describe(self) -> str:
        """The message shown to users: kind, where, status, request id, vendor message."""
        where = f"{self.provider}:{self.model}" if self.provider else "LLM"
        details = [f"HTTP {self.status}"] if self.status is not None else []
        if self.request_id:
            details.append(f"request id {self.request_id}")
        if self.retry_after is not None:
            details.append(f"retry after {self.retry_after:g}s")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{self.kind} on {where}{suffix}: {self.message}"

    def locate(self, provider: str, model: str) -> None:
        """Fill in the provider and model if the raiser did not know them."""
        if self.provider is None:
            self.provider, self.model = provider, model
            self.args = (self.describe(),)


class RateLimitError(LLMError):
    """HTTP 429: the vendor asks to slow down, often saying how long to wait."""

    retryable = True
    kind = "Rate limited"


class AuthenticationError(LLMError):
    """HTTP 401: the API key is missing, wrong or revoked."""

    kind = "Authentication failed"


class PermissionDeniedError(LLMError):
    """HTTP 403: the key is valid but may not use this model or endpoint."""

    kind = "Permission denied"


class ModelNotFoundError(LLMError):
    """HTTP 404: the model (or the endpoint) does not exist for this account."""

    kind = "Model not found"


class BadRequestError(LLMError):
    """HTTP 400 or 422: the vendor rejected the request as written."""

    kind = "Bad request"


class ContextTooLongError(BadRequestError):
    """The prompt (plus the requested output) does not fit the model's context window."""

    kind = "Context too long"


class ServerError(LLMError):
    """HTTP 5xx: the vendor failed; trying again later may succeed."""

    retryable = True
    kind = "Server error"


class OverloadedError(ServerError):
    """HTTP 529 or 503: the vendor is overloaded."""

    kind = "Vendor overloaded"


class LLMTimeoutError(LLMError):
    """One attempt took longer than the vendor client's timeout; it may be retried."""

    retryable = True
    kind = "Timed out"


class DeadlineExceededError(LLMTimeoutError):
    """The whole call, retries and waits included, ran past its ``timeout``; final."""

    retryable = False
    kind = "Deadline exceeded"


class LLMConnectionError(LLMError):
    """The connection failed or dropped before a complete reply arrived."""

    retryable = True
    kind = "Connection failed"


class MalformedResponseError(LLMError):
    """The vendor answered, but not in the form its API promises (bad JSON, no choices)."""

    retryable = True
    kind = "Malformed reply"


_ERROR_BY_STATUS: Mapping[int, type[LLMError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: ModelNotFoundError,
    408: LLMTimeoutError,
    413: ContextTooLongError,
    422: BadRequestError,
    429: RateLimitError,
    503: OverloadedError,
    529: OverloadedError,
}

_CONTEXT_TOO_LONG_HINTS = (
    "context_length_exceeded",
    "context length",
    "context window",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "input is too long",
)


def error_for_status(status: int, message: str) -> type[LLMError]:
    """The normalised error class for an HTTP ``status`` and the vendor's ``message``.

    Plugins use this so that every vendor maps statuses the same way; a 400 whose
    message says the context is too long becomes :class:`ContextTooLongError`.
    """
    if status in (400, 413) and any(h in message.lower() for h in _CONTEXT_TOO_LONG_HINTS):
        return ContextTooLongError
    if status in _ERROR_BY_STATUS:
        return _ERROR_BY_STATUS[status]
    if status >= 500:
        return ServerError
    return BadRequestError if 400 <= status < 500 else LLMError


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date).

    ``headers`` must look names up case-insensitively (httpx headers do).
    """
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import UTC, datetime  # a rare form: keep `import pocketflow` light
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, by RFC 5322, though the sender's zone is unknown
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


REDACTED = "[redacted]"
"""What stands in a message for a secret that was taken out of it."""


def redact_exception(error: BaseException, secret: str | None) -> None:
    """Take ``secret`` out of ``error`` and every exception chained to it, in place.

    For the vendor SDK exception a plugin chains to its normalised error: its message
    (``args``, ``message``) and error ``body`` lose the key, and its traceback is cut,
    since the SDK's frames hold the request headers among their locals (which a
    traceback printed with ``capture_locals``, or a debugger, shows).
    """
    if not secret:
        return
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(_without(arg, secret) for arg in current.args)
        for name in ("message", "body"):
            value = getattr(current, name, None)
            if isinstance(value, (str, Mapping, list)):
                with contextlib.suppress(AttributeError):  # a read-only property
                    setattr(current, name, _without(value, secret))
        current.__traceback__ = None
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]


def _without(value: Any, secret: str) -> Any:
    """``value`` with ``secret`` replaced in every string it holds (dicts and lists copied)."""
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, Mapping):
        return {key: _without(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [_without(item, secret) for item in value]
    return value


# --- structured output, tools, options -----------------------------------------------------


class OutputValidationError(PocketFlowError):
    """The model's reply did not fit the output type asked for, even after asking again.

    ``raw`` is the last reply's text, ``errors`` what was wrong with it (each
    "path: problem"), ``model`` who answered ("provider:model").
    """

    def __init__(self, raw: str, errors: list[str], model: str, attempts: int) -> None:
        self.raw = raw
        self.errors = errors
        self.model = model
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        snippet = raw if len(raw) <= 200 else raw[:199] + "…"
        super().__init__(
            f"{model}'s reply does not fit the output type after {attempts} attempt(s): "
            f"{shown}. The reply was: {snippet!r}. Pass output_retries= to ask again more "
            "often, or loosen the type."
        )


class ToolLoopError(PocketFlowError):
    """A tool loop did not end in an answer within ``max_turns`` (or a tool failed and
    ``tool_errors="raise"`` was asked for)."""

    def __init__(self, message: str, last_calls: tuple[Any, ...] = ()) -> None:
        self.last_calls = last_calls
        super().__init__(message)


class UnsupportedRequestError(PocketFlowError, ValueError):
    """The request holds something the chosen provider cannot take (an image, tools):
    raised before anything is sent."""


class UnknownOptionError(PocketFlowError, TypeError):
    """A keyword argument of an LLM facade looks like a misspelled parameter."""


# --- files and feedback ------------------------------------------------------------------


class FileReadError(PocketFlowError):
    """A file or URL could not be read: the message names the location and the reason."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"Cannot read {location}: {reason}")


class FeedbackError(PocketFlowError):
    """A feedback provider could not get an answer (no terminal, end of input, ...)."""


# --- Durable runs --------------------------------------------------------------------


class DurableRunError(PocketFlowError):
    """A durable run cannot be started, stored or resumed."""


class StateNotSerializable(DurableRunError, TypeError):
    """A value in the shared store (or an exec result) cannot be stored."""


class RunNotFoundError(DurableRunError, LookupError):
    """No run with this id is in the store."""


class RunLeasedError(DurableRunError):
    """Another process (or task) is running this run right now."""


class RunCancelledError(DurableRunError):
    """The run was cancelled (``pocketflow runs cancel``): it does not run again."""


class StoreUnavailableError(DurableRunError):
    """The run store could not be reached, or a write could not be completed, in time.

    Nothing is half stored: the run resumes from its last commit. A worker's run goes
    back in the queue (when the store takes the write; else its lease runs out and the
    next worker queues it again); a run started from code is left failed, and running
    it again with its run_id resumes it. Store plugins raise a subclass of this.
    """


class FlowChangedError(DurableRunError):
    """The flow changed shape since the run started, and ``on_change`` is "refuse"."""


class FlowSuspended(DurableRunError):
    """A durable run stopped on a question for a person (``inbox`` feedback).

    ``run_id`` and ``question`` say what waits; the message gives the command that
    answers it. The run resumes when it is run again after the answer.
    """

    def __init__(self, run_id: str, question: Any, message: str) -> None:
        self.run_id = run_id
        self.question = question
        super().__init__(message)


class QuestionNotWaiting(DurableRunError):
    """An answer came for a run that has no waiting question; nothing was changed."""


# --- Executors (batch items on a cluster) ----------------------------------------------


class ExecutorError(PocketFlowError):
    """A batch could not run on its executor (Ray, Dask, ...). Plugins raise subclasses."""


class ExecutorNotFoundError(ExecutorError, ConfigError):
    """A batch node asked for an executor that no installed plugin registers."""

    def __init__(self, name: str, installed: list[str]) -> None:
        self.name = name
        self.installed = installed
        hint = {"ray": "pocketflow-ray", "dask": "pocketflow-dask"}.get(name)
        install = f" Install the {hint} plugin for it." if hint else ""
        super().__init__(
            f"No executor named {name!r} is installed. Installed executors: "
            f"{', '.join(installed) or 'none'}.{install}"
        )


class NotShippableError(ExecutorError, TypeError):
    """A batch node or item cannot be serialized for the cluster; nothing was sent."""

    def __init__(self, node_name: str, what: str, reason: str) -> None:
        self.node_name = node_name
        self.what = what
        super().__init__(
            f"{node_name} cannot run on a cluster: {what} cannot be serialized ({reason}). "
            f"Nothing was sent. Create such objects inside exec (or exec_async), or keep the "
            f'node on executor="local".'
        )


class ClusterUnreachableError(ExecutorError, ConnectionError):
    """The executor's cluster did not answer at the configured address."""

    def __init__(self, executor: str, address: str, reason: str) -> None:
        self.executor = executor
        self.address = address
        super().__init__(
            f"The {executor} cluster at {address} cannot be reached ({reason}). Check that it "
            f"runs and that [executors.{executor}] address in pocketflow.toml is right, or remove "
            f"the address to start a local cluster."
        )
