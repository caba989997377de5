"""The ``anthropic`` LLM provider: Claude models through the Messages API.

Calls go through the SDK's request machinery (auth and ``anthropic-version``
headers, status errors) by its low-level ``client.post("/v1/messages", ...)``: the
body is sent as :mod:`pocketflow_anthropic.params` builds it, skipping what
``messages.create`` adds per call (its wrapper, its OpenTelemetry span attributes);
a reply is read as the raw ``httpx2.Response`` and its JSON parsed directly, and a
stream is decoded by the SDK's SSE reader into plain dicts, so no pydantic models are
built. Every SDK error is raised as the core's normalised error, with the original
chained. Calls are spread over a :class:`~pocketflow.client_set.ClientSet` per event
loop (SDK clients with small connection pools, made as concurrency needs them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import httpx2

from pocketflow.capabilities import ALL_PARTS, Capabilities
from pocketflow.client_set import ClientSet
from pocketflow.providers import LLMProvider, LLMRequest, LLMResponse, PerLoop, ProviderSettings
from pocketflow_anthropic import DEFAULT_KEY_ENV
from pocketflow_anthropic.client import SDK_DEFAULT_BASE_URL, base_url, make_client, tls_context
from pocketflow_anthropic.errors import CallContext, normalise
from pocketflow_anthropic.model_warnings import warn_about_model
from pocketflow_anthropic.params import DEFAULT_MAX_TOKENS, OutputMechanism, build_call
from pocketflow_anthropic.replies import StreamedReply, parse_message

REQUEST_ID_HEADER = "request-id"
MESSAGES_PATH = "/v1/messages"

NATIVE = Capabilities(structured_output="json_schema", tools=True, parts=ALL_PARTS)
FORCED_TOOL = Capabilities(structured_output="tool", tools=True, parts=ALL_PARTS)

MODELS_BEFORE_STRUCTURED_OUTPUT = (
    "claude-3",
    "claude-2",
    "claude-instant",
    "claude-sonnet-4-0",
    "claude-sonnet-4-2025",
    "claude-opus-4-0",
    "claude-opus-4-2025",
)
"""Model name prefixes without native structured output: they get a forced tool."""

EventStream = anthropic.AsyncStream[object]
"""The SDK's SSE stream, yielding each event's JSON as a plain dict (``error`` events
raise, ``ping`` events are skipped)."""


class AnthropicProvider(LLMProvider):
    """Claude models on ``anthropic.AsyncAnthropic``; see the package README.

    Structured output uses the Messages API's ``output_config.format`` on models that
    have it, else a forced tool (``structured_output = "native"`` or ``"tool"`` under
    ``[providers.anthropic]`` decides for every model).
    """

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.default_max_tokens = _default_max_tokens(settings)
        self.structured_output = _structured_output(settings)
        self.key_variable = settings.api_key_env or DEFAULT_KEY_ENV
        self._api_key: str | None = None
        self._clients: PerLoop[ClientSet[anthropic.AsyncAnthropic]] = PerLoop(self._new_clients)

    def _new_clients(self) -> ClientSet[anthropic.AsyncAnthropic]:
        api_key = self._api_key = self.settings.api_key(DEFAULT_KEY_ENV)
        tls = tls_context()
        return ClientSet(
            lambda size: make_client(self.settings, api_key, size, tls),
            _close,
            max_connections=self.settings.max_concurrency,
        )

    def mechanism(self, model: str) -> OutputMechanism:
        """How structured output is asked of ``model``: natively, or by a forced tool."""
        if self.structured_output is not None:
            return self.structured_output
        return "tool" if model.startswith(MODELS_BEFORE_STRUCTURED_OUTPUT) else "native"

    def capabilities_for(self, model: str) -> Capabilities:
        """Tools and every message part; structured output natively or by a forced tool."""
        return NATIVE if self.mechanism(model) == "native" else FORCED_TOOL

    def _context(self, request: LLMRequest) -> CallContext:
        return CallContext(
            provider=self.name,
            model=request.model,
            key_variable=self.key_variable,
            base_url=base_url(self.settings) or SDK_DEFAULT_BASE_URL,
            timeout=self.settings.timeout,
            secret=self._api_key,
        )

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` to the Messages API and return the whole answer."""
        clients = self._clients.get()
        call = build_call(
            request, self.default_max_tokens, stream=False, mechanism=self.mechanism(request.model)
        )
        warn_about_model(call.body)
        with clients.lease() as client:
            try:
                reply = await client.post(
                    MESSAGES_PATH, body=call.body, cast_to=httpx2.Response, options=call.options
                )
            except (anthropic.AnthropicError, httpx2.HTTPError) as error:
                raise normalise(error, self._context(request)) from error
        return parse_message(
            reply.content,
            provider=self.name,
            model=request.model,
            request_id=reply.headers.get(REQUEST_ID_HEADER),
            output_tool=call.output_tool,
        )

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMResponse]:
        """Yield the answer's text as it arrives, then one final :class:`LLMResponse`."""
        clients = self._clients.get()
        call = build_call(
            request, self.default_max_tokens, stream=True, mechanism=self.mechanism(request.model)
        )
        warn_about_model(call.body)
        # The lease lasts as long as the stream holds its connection.
        with clients.lease() as client:
            try:
                events = await client.post(
                    MESSAGES_PATH,
                    body=call.body,
                    cast_to=object,
                    options=call.options,
                    stream=True,
                    stream_cls=EventStream,
                )
            except anthropic.AnthropicError as error:
                raise normalise(error, self._context(request)) from error
            reply = StreamedReply(
                provider=self.name,
                model=request.model,
                request_id=events.response.headers.get(REQUEST_ID_HEADER),
                output_tool=call.output_tool,
            )
            try:
                async for event in events:
                    text = reply.feed(event)
                    if text:
                        yield text
            except (anthropic.AnthropicError, httpx2.HTTPError, ValueError) as error:
                raise normalise(error, self._context(request)) from error
            finally:
                await events.close()
        yield reply.response()

    async def aclose(self) -> None:
        """Close this event loop's SDK clients and their connection pools."""
        await self._clients.aclose(ClientSet.aclose)


async def _close(client: anthropic.AsyncAnthropic) -> None:
    await client.close()


def _structured_output(settings: ProviderSettings) -> OutputMechanism | None:
    value = settings.extra.get("structured_output")
    if value is None:
        return None
    if value not in ("native", "tool"):
        raise settings.config_error(
            "structured_output", f'must be "native" or "tool", not {value!r}.'
        )
    return "native" if value == "native" else "tool"


def _default_max_tokens(settings: ProviderSettings) -> int:
    value = settings.extra.get("max_tokens", DEFAULT_MAX_TOKENS)
    if value <= 0:
        raise settings.config_error("max_tokens", f"must be greater than 0, not {value!r}.")
    return int(value)
