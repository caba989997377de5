"""The ``litellm`` provider: a request handed to ``litellm.acompletion``.

The model after the colon is LiteLLM's own model string, vendor prefix included
(``litellm:mistral/mistral-large-latest``, ``litellm:bedrock/anthropic.claude-...``),
so one provider reaches every vendor LiteLLM does. Making the provider starts the
import of ``litellm`` on a background thread (:mod:`pocketflow_litellm.loader`); a call
awaits it. LiteLLM's retries are off: the core's call policy is the only one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from types import ModuleType
from typing import Any

from pocketflow.capabilities import Capabilities
from pocketflow.errors import LLMError, MissingKeyError, UnsupportedRequestError
from pocketflow.providers import (
    EmbeddingRequest,
    EmbeddingResponse,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    ProviderSettings,
)
from pocketflow_litellm.errors import CallContext, normalise
from pocketflow_litellm.loader import LOADER
from pocketflow_litellm.models import (
    DEFAULT_MAX_EMBEDDING_INPUTS,
    PROVISIONAL,
    capabilities_of,
)
from pocketflow_litellm.replies import (
    ReplyContext,
    StreamedReply,
    parse_completion,
    parse_embeddings,
)
from pocketflow_litellm.request import Connection, completion_kwargs


class LiteLLMProvider(LLMProvider):
    """Every vendor LiteLLM reaches, through ``litellm.acompletion`` and ``aembedding``.

    What a model can do (tools, images, structured output, embeddings) comes from
    LiteLLM's model table (:mod:`pocketflow_litellm.models`).
    """

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._capabilities: dict[str, Capabilities] = {}
        self._checked_keys: set[str] = set()
        self._max_embedding_inputs = int(
            settings.extra.get("max_embedding_inputs", DEFAULT_MAX_EMBEDDING_INPUTS)
        )
        if self._max_embedding_inputs < 1:
            raise settings.config_error("max_embedding_inputs", "must be 1 or more")
        LOADER.start()

    # --- capabilities ------------------------------------------------------------------

    def capabilities_for(self, model: str) -> Capabilities:
        """What LiteLLM's model table says ``model`` can do.

        Never waits: until ``litellm`` is imported this is :data:`PROVISIONAL`, and the
        call checks the request again against the table before sending it.
        """
        known = self._capabilities.get(model)
        if known is not None:
            return known
        litellm = LOADER.loaded()
        if litellm is None:
            return PROVISIONAL
        known = self._capabilities[model] = capabilities_of(
            litellm, model, self._max_embedding_inputs
        )
        return known

    def _settled(self, request: LLMRequest) -> LLMRequest:
        """``request`` checked against the model table (``litellm`` is loaded by now).

        The first check may have been made on :data:`PROVISIONAL` capabilities: a part
        or tools the model cannot take is refused here, before anything is sent, and a
        schema the model cannot take natively goes in the system prompt (once).
        """
        from pocketflow.options import check_request
        from pocketflow.structured import prompt_instruction

        output = request.output
        in_prompt = self.capabilities_for(request.model).structured_output == "prompt"
        system = request.system or ""
        if output is not None and in_prompt and prompt_instruction(output) in system:
            return replace(check_request(self, replace(request, output=None)), output=output)
        return check_request(self, request)

    # --- connection --------------------------------------------------------------------

    def _connection(self) -> Connection:
        settings = self.settings
        api_key = settings.api_key(settings.api_key_env) if settings.api_key_env else None
        return Connection(api_key, settings.base_url, settings.timeout, settings.headers)

    def _check_key(self, litellm: ModuleType, model: str, connection: Connection) -> None:
        """Raise MissingKeyError when LiteLLM says the model's key variable is unset.

        Only ``*_API_KEY`` variables count: cloud credentials (AWS, Google) may come
        from profiles and roles LiteLLM cannot see from here.
        """
        if connection.api_key is not None or model in self._checked_keys:
            return
        try:
            found = litellm.validate_environment(model=model)
        except Exception:  # a model LiteLLM cannot place: its call says why
            found = {}
        missing = [v for v in found.get("missing_keys", []) if str(v).endswith("_API_KEY")]
        if missing:
            raise MissingKeyError(self.name, str(missing[0]))
        self._checked_keys.add(model)

    def _context(self, request_model: str, connection: Connection) -> CallContext:
        return CallContext(self.name, request_model, self.settings.timeout, connection.api_key)

    async def _prepare(self, request: LLMRequest) -> tuple[ModuleType, dict[str, Any], CallContext]:
        litellm = await LOADER.module()
        request = self._settled(request)
        connection = self._connection()
        self._check_key(litellm, request.model, connection)
        native = self.capabilities_for(request.model).structured_output == "json_schema"
        kwargs = completion_kwargs(request, connection, native_schema=native)
        return litellm, kwargs, self._context(request.model, connection)

    # --- calls -------------------------------------------------------------------------

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` through ``litellm.acompletion`` and return the whole answer."""
        litellm, kwargs, context = await self._prepare(request)
        try:
            reply = await litellm.acompletion(**kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise normalise(error, context) from error
        return parse_completion(reply, ReplyContext(self.name, request.model))

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMResponse]:
        """Yield text deltas as they arrive, then one :class:`LLMResponse` with usage."""
        litellm, kwargs, context = await self._prepare(request)
        kwargs["stream"] = True
        kwargs.setdefault("stream_options", {"include_usage": True})
        folded = StreamedReply(ReplyContext(self.name, request.model))
        try:
            chunks = await litellm.acompletion(**kwargs)
            async for chunk in chunks:
                text = folded.add(chunk)
                if text:
                    yield text
        except (asyncio.CancelledError, LLMError):  # LLMError: a malformed chunk, already ours
            raise
        except Exception as error:
            raise normalise(error, context) from error
        yield folded.response()

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """Vectors for ``request.texts`` through ``litellm.aembedding``."""
        litellm = await LOADER.module()
        if not self.capabilities_for(request.model).embeddings:
            raise UnsupportedRequestError(
                f"{self.name}:{request.model} is a chat model in LiteLLM's model table, not "
                "an embedding model; nothing was sent. Choose an embedding model, e.g. "
                "litellm:mistral/mistral-embed or litellm:cohere/embed-english-v3.0."
            )
        connection = self._connection()
        self._check_key(litellm, request.model, connection)
        kwargs: dict[str, Any] = {
            "model": request.model,
            "input": list(request.texts),
            **connection.kwargs(),
        }
        if request.dimensions is not None:
            kwargs["dimensions"] = request.dimensions
        kwargs.update({k: v for k, v in request.options.items() if k not in kwargs})
        context = self._context(request.model, connection)
        try:
            reply = await litellm.aembedding(**kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise normalise(error, context) from error
        return parse_embeddings(reply, len(request.texts), ReplyContext(self.name, request.model))
