"""The ``gemini`` and ``vertex`` LLM providers: Gemini models on the google-genai SDK.

Calls go through the SDK's request machinery (URL building, the ``x-goog-api-key``
header or Vertex AI's OAuth token, status errors) by its low-level
``async_request("post", "models/<model>:generateContent", body)``: the body is sent
as :mod:`pocketflow_gemini.body` builds it, and the reply's JSON is read directly, so
none of the SDK's per-call pydantic models and converters run (they cost more CPU
than the HTTP call itself). A stream (``streamGenerateContent?alt=sse``) is decoded
by the SDK's SSE reader. One SDK client (and connection pool) per provider and event
loop, made on first use, closed by :meth:`aclose`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx2
from google.genai import errors as genai_errors

from pocketflow.capabilities import ALL_PARTS, Capabilities
from pocketflow.providers import (
    EmbeddingRequest,
    EmbeddingResponse,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    PerLoop,
    ProviderSettings,
    Usage,
)
from pocketflow_gemini.body import BATCH_EMBED_INPUTS, embed_body, generate_body
from pocketflow_gemini.client import Session, make_session
from pocketflow_gemini.connection import Connection, gemini_connection, vertex_connection
from pocketflow_gemini.errors import CallContext, translate
from pocketflow_gemini.replies import (
    Folded,
    ReplyContext,
    load_json,
    parse_embeddings,
    parse_reply,
)
from pocketflow_gemini.vertex_embeddings import (
    PREDICT_INPUTS,
    batch_embed_body,
    parse_predictions,
    predict_body,
    speaks_batch_embed,
)

SDK_ERRORS = (genai_errors.APIError, httpx2.HTTPError, ValueError)
"""What a call may raise below the provider: vendor errors, transport errors, bad JSON."""


class GeminiProvider(LLMProvider):
    """Gemini models through the Gemini API, with an API key (``kind = "gemini"``).

    Structured output is the API's ``responseJsonSchema``; tools are function
    declarations; messages take text, images, tool calls and tool results; embedding
    models (``gemini-embedding-001``, ...) make vectors, 100 texts per request.
    """

    capabilities = Capabilities(
        structured_output="json_schema",
        tools=True,
        parts=ALL_PARTS,
        embeddings=True,
        max_embedding_inputs=BATCH_EMBED_INPUTS,
    )

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._sessions: PerLoop[Session] = PerLoop(self._connect)

    def _resolve(self) -> Connection:
        """Key, endpoint and API version from the settings and the environment."""
        return gemini_connection(self.settings)

    def _connect(self) -> Session:
        return make_session(self._resolve(), self.settings)

    def model_path(self, model: str) -> str:
        """The resource path of ``model`` ("models/gemini-2.5-flash"); a name holding a
        "/" (``tunedModels/x``) is taken as a path already."""
        return model if "/" in model else f"models/{model}"

    async def _post(self, session: Session, path: str, body: dict[str, Any]) -> str:
        with session.clients.lease() as sdk:
            reply = await sdk.client._api_client.async_request("post", path, body)
        return reply.body or ""

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` to ``generateContent`` and return the whole answer."""
        session = self._sessions.get()
        path = f"{self.model_path(request.model)}:generateContent"
        try:
            text = await self._post(session, path, generate_body(request))
        except SDK_ERRORS as error:
            raise translate(error, self._context(session, request.model)) from error
        return parse_reply(text, ReplyContext(self.name, request.model))

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMResponse]:
        """Yield text as it arrives, then one :class:`LLMResponse` with usage."""
        session = self._sessions.get()
        path = f"{self.model_path(request.model)}:streamGenerateContent?alt=sse"
        context = ReplyContext(self.name, request.model)
        folded = Folded(context)
        # The lease lasts as long as the stream holds its connection.
        try:
            with session.clients.lease() as sdk:
                chunks = await sdk.client._api_client.async_request_streamed(
                    "post", path, generate_body(request)
                )
                try:
                    async for chunk in chunks:
                        text = folded.add(load_json(chunk.body or "", context))
                        if text:
                            yield text
                finally:
                    await chunks.aclose()
        except SDK_ERRORS as error:
            raise translate(error, self._context(session, request.model)) from error
        if folded.finish_reason is None:
            raise context.malformed(
                "the stream ended before a chunk gave its finishReason: the connection "
                "was cut short, so the answer may be incomplete"
            )
        yield folded.response()

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """Vectors for one request's texts (at most ``max_embedding_inputs`` of them)."""
        session = self._sessions.get()
        verb, body = self._embedding_request(request)
        try:
            text = await self._post(session, f"{self.model_path(request.model)}:{verb}", body)
        except SDK_ERRORS as error:
            raise translate(error, self._context(session, request.model)) from error
        context = ReplyContext(self.name, request.model)
        vectors, tokens = self._embedding_reply(request.model, text, len(request.texts), context)
        return EmbeddingResponse(
            vectors=vectors, model=request.model, provider=self.name,
            usage=Usage(input_tokens=tokens),
        )  # fmt: skip

    def _embedding_request(self, request: EmbeddingRequest) -> tuple[str, dict[str, Any]]:
        """The method an embedding request goes to, and its body: ``batchEmbedContents``."""
        return "batchEmbedContents", embed_body(request)

    def _embedding_reply(
        self, model: str, text: str, count: int, context: ReplyContext
    ) -> tuple[list[list[float]], int]:
        """The vectors of a reply, and the tokens it counted (the Gemini API counts none)."""
        return parse_embeddings(text, count, context), 0

    def _context(self, session: Session, model: str) -> CallContext:
        connection = session.connection
        return CallContext(
            provider=self.name,
            model=model,
            key_variable=connection.key_variable,
            endpoint=connection.endpoint,
            timeout=self.settings.timeout,
            secret=connection.api_key,
        )

    async def aclose(self) -> None:
        """Close the SDK clients and their connection pools."""
        await self._sessions.aclose(lambda session: session.clients.aclose())


class VertexProvider(GeminiProvider):
    """Gemini models on Vertex AI (``kind = "vertex"``): a project, a location and
    application default credentials instead of an API key. Embedding models speak
    ``batchEmbedContents`` (Gemini ones, 100 texts per request) or ``predict`` (the
    others, 250 texts per request, with token counts)."""

    capabilities = Capabilities(structured_output="json_schema", tools=True, parts=ALL_PARTS)
    _batch_embedding = replace(
        capabilities, embeddings=True, max_embedding_inputs=BATCH_EMBED_INPUTS
    )
    _predict_embedding = replace(capabilities, embeddings=True, max_embedding_inputs=PREDICT_INPUTS)

    def capabilities_for(self, model: str) -> Capabilities:
        """Every model may embed; how many texts per request depends on its wire."""
        return self._batch_embedding if speaks_batch_embed(model) else self._predict_embedding

    def _resolve(self) -> Connection:
        """Project, location and credentials."""
        return vertex_connection(self.settings)

    def model_path(self, model: str) -> str:
        """``publishers/google/models/<model>`` (the SDK puts the project and location
        before it); a name holding a "/" is taken as a path already."""
        return model if "/" in model else f"publishers/google/models/{model}"

    def _embedding_request(self, request: EmbeddingRequest) -> tuple[str, dict[str, Any]]:
        """``batchEmbedContents`` for a Gemini embedding model, else ``predict``."""
        if speaks_batch_embed(request.model):
            return "batchEmbedContents", batch_embed_body(request)
        return "predict", predict_body(request)

    def _embedding_reply(
        self, model: str, text: str, count: int, context: ReplyContext
    ) -> tuple[list[list[float]], int]:
        """A ``predict`` reply counts each text's tokens; ``batchEmbedContents`` none."""
        if speaks_batch_embed(model):
            return parse_embeddings(text, count, context), 0
        return parse_predictions(text, count, context)
