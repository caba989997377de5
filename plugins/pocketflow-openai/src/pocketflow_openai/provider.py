"""The ``openai`` and ``azure`` LLM providers: Chat Completions (and Embeddings) through
the openai SDK.

Calls go through the SDK's request machinery (auth, headers, Azure routing, status
errors) by its low-level ``client.post``, asking for the raw ``httpx2.Response``: the
body is sent as built (the typed ``create()`` transform costs about 40% of a call's
CPU) and the reply JSON is read directly, so no pydantic models are built per call;
a stream is decoded by the SDK's SSE reader into plain dicts. One client set per
provider and event loop (:class:`~pocketflow.client_set.ClientSet`: SDK clients with
small connection pools, made as concurrency needs them, so a pool's bookkeeping stays
cheap at a thousand calls in flight), made on first use, closed by :meth:`aclose`.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import openai

from pocketflow.capabilities import ALL_PARTS, Capabilities
from pocketflow.client_set import ClientSet
from pocketflow.providers import (
    EmbeddingRequest,
    EmbeddingResponse,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    PerLoop,
    ProviderSettings,
)
from pocketflow_openai.body import chat_body, encode_body, stream_body
from pocketflow_openai.chunks import ChunkStream
from pocketflow_openai.client import azure_client, openai_client
from pocketflow_openai.connection import Connection, azure_connection, openai_connection
from pocketflow_openai.embeddings import (
    EMBEDDINGS,
    embedding_body,
    embedding_capabilities,
    is_embedding_model,
    parse_embeddings,
)
from pocketflow_openai.errors import CallContext, translate
from pocketflow_openai.replies import (
    REQUEST_ID_HEADER,
    ReplyContext,
    StreamedReply,
    parse_completion,
)

CHAT_COMPLETIONS = "/chat/completions"
REQUEST_OPTIONS: openai.RequestOptions = {"security": {"bearer_auth": True}}
"""As the SDK's own ``chat.completions.create`` sends: bearer (or Azure api-key) auth."""


@dataclass(frozen=True, slots=True)
class Session:
    """One event loop's SDK clients and the connection they were made from."""

    clients: ClientSet[openai.AsyncOpenAI]
    connection: Connection


class OpenAIProvider(LLMProvider):
    """OpenAI Chat Completions, and every OpenAI-compatible endpoint (``kind = "openai"``).

    Structured output is a strict ``json_schema`` response format; tools are function
    tools; messages take text, images, tool calls and tool results. Models whose name
    contains "embed" make embeddings (``POST /embeddings``) instead.
    """

    capabilities = Capabilities(structured_output="json_schema", tools=True, parts=ALL_PARTS)

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._sessions: PerLoop[Session] = PerLoop(self._connect)

    def capabilities_for(self, model: str) -> Capabilities:
        """Chat capabilities, or an embedding model's (its name contains "embed")."""
        if is_embedding_model(model):
            return embedding_capabilities(model)
        return self.capabilities

    def _resolve(self) -> Connection:
        """Key, endpoint and pool size from the settings and the environment."""
        return openai_connection(self.settings)

    def _build(
        self, connection: Connection, pool_size: int, tls: ssl.SSLContext
    ) -> openai.AsyncOpenAI:
        """An SDK client for ``connection`` on a pool of ``pool_size`` connections."""
        return openai_client(connection, self.settings, pool_size, tls)

    def _connect(self) -> Session:
        connection = self._resolve()
        tls = httpx2.create_ssl_context()  # one for the set, as each client would make
        clients = ClientSet(
            lambda size: self._build(connection, size, tls),
            _close,
            max_connections=connection.max_connections,
        )
        return Session(clients, connection)

    def _payload(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body as JSON bytes (``content``): the SDK sends them as they are, where it
        would copy a dict deeply first (which a structured output schema makes costly)."""
        return {"content": encode_body(body)}

    def _reply_context(
        self, request: LLMRequest | EmbeddingRequest, reply: httpx2.Response
    ) -> ReplyContext:
        request_id = reply.headers.get(REQUEST_ID_HEADER)
        return ReplyContext(self.name, request.model, reply.status_code, request_id)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` to ``/chat/completions`` and return the whole answer."""
        session = self._sessions.get()
        body = chat_body(request, session.connection.max_tokens_param)
        with session.clients.lease() as client:
            try:
                reply = await client.post(
                    CHAT_COMPLETIONS,
                    **self._payload(body),
                    cast_to=httpx2.Response,
                    options=REQUEST_OPTIONS,
                )
            except openai.OpenAIError as error:
                raise translate(error, self._context(session, client, request)) from error
        return parse_completion(reply.content, self._reply_context(request, reply))

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMResponse]:
        """Yield text deltas as they arrive, then one :class:`LLMResponse` with usage."""
        session = self._sessions.get()
        body = stream_body(request, session.connection.max_tokens_param)
        # The lease lasts as long as the stream holds its connection.
        with session.clients.lease() as client:
            try:
                chunks = await client.post(
                    CHAT_COMPLETIONS,
                    **self._payload(body),
                    cast_to=object,
                    options=REQUEST_OPTIONS,
                    stream=True,
                    stream_cls=ChunkStream,
                )
                folded = StreamedReply(self._reply_context(request, chunks.response))
                try:
                    async for chunk in chunks:
                        text = folded.add(chunk)
                        if text:
                            yield text
                finally:
                    await chunks.close()
            except (openai.OpenAIError, json.JSONDecodeError) as error:
                raise translate(error, self._context(session, client, request)) from error
        if not chunks.finished:
            raise folded.context.malformed(
                "the stream ended before its closing 'data: [DONE]' event: the connection "
                "was cut short, so the answer may be incomplete"
            )
        yield folded.response()

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """Send ``request`` to ``/embeddings``: one vector per text, in order."""
        session = self._sessions.get()
        with session.clients.lease() as client:
            try:
                reply = await client.post(
                    EMBEDDINGS,
                    **self._payload(embedding_body(request)),
                    cast_to=httpx2.Response,
                    options=REQUEST_OPTIONS,
                )
            except openai.OpenAIError as error:
                raise translate(error, self._context(session, client, request)) from error
        return parse_embeddings(reply.content, self._reply_context(request, reply))

    def _context(
        self,
        session: Session,
        client: openai.AsyncOpenAI,
        request: LLMRequest | EmbeddingRequest,
    ) -> CallContext:
        connection = session.connection
        return CallContext(
            provider=self.name,
            model=request.model,
            key_variable=connection.key_variable,
            endpoint=str(client.base_url).rstrip("/"),
            timeout=self.settings.timeout,
            secret=connection.secret,
        )

    async def aclose(self) -> None:
        """Close this event loop's SDK clients and their connection pools."""
        await self._sessions.aclose(_close_session)


class AzureOpenAIProvider(OpenAIProvider):
    """Azure OpenAI: the model after the colon is the deployment, unless ``deployment`` is set."""

    def _resolve(self) -> Connection:
        """Key, resource endpoint, API version and deployment."""
        return azure_connection(self.settings)

    def _build(
        self, connection: Connection, pool_size: int, tls: ssl.SSLContext
    ) -> openai.AsyncOpenAI:
        """An Azure SDK client for ``connection`` on a pool of ``pool_size`` connections."""
        return azure_client(connection, self.settings, pool_size, tls)

    def _payload(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body as a dict: the Azure client reads its ``model`` to route the call."""
        return {"body": body}


async def _close(client: openai.AsyncOpenAI) -> None:
    await client.close()


async def _close_session(session: Session) -> None:
    await session.clients.aclose()
