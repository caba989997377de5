"""Embeddings through ``litellm.aembedding``: vectors in order, usage, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from pocketflow.errors import RateLimitError, UnsupportedRequestError
from pocketflow.providers import EmbeddingRequest, EmbeddingResponse
from pocketflow.runtime import current_runtime

Run = Callable[..., Any]
EMBEDDINGS_URL = "https://api.mistral.ai/v1/embeddings"


@pytest.fixture(autouse=True)
def key(litellm_env: pytest.MonkeyPatch) -> None:
    litellm_env.setenv("MISTRAL_API_KEY", "sk-test-embeddings")


async def embed(model: str, *texts: str) -> EmbeddingResponse:
    provider = current_runtime().provider("litellm").provider
    return await provider.embed(EmbeddingRequest(model=model, texts=texts))


def embeddings_reply(*vectors: list[float], tokens: int = 9) -> httpx.Response:
    data = [{"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(vectors)]
    return httpx.Response(
        200,
        json={"object": "list", "data": list(reversed(data)), "model": "mistral-embed",
              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}},
    )  # fmt: skip


def test_vectors_come_back_in_the_order_of_the_texts(
    vendor_http: respx.MockRouter, run: Run
) -> None:
    route = vendor_http.post(EMBEDDINGS_URL).mock(
        return_value=embeddings_reply([0.1, 0.2], [0.3, 0.4], tokens=7)
    )
    response = run(embed("mistral/mistral-embed", "otters", "rocks"))
    assert response.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert (response.provider, response.usage.input_tokens) == ("litellm", 7)
    body = json.loads(route.calls[0].request.content)
    assert (body["model"], body["input"]) == ("mistral-embed", ["otters", "rocks"])
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-test-embeddings"


def test_a_chat_model_is_no_embedding_model(vendor_http: respx.MockRouter, run: Run) -> None:
    route = vendor_http.post(EMBEDDINGS_URL)
    with pytest.raises(UnsupportedRequestError, match="not an embedding model; nothing was sent"):
        run(embed("mistral/mistral-large-latest", "otters"))
    assert route.call_count == 0


def test_embedding_errors_are_normalised(vendor_http: respx.MockRouter, run: Run) -> None:
    limited = httpx.Response(429, json={"message": "slow down"}, headers={"retry-after": "2"})
    vendor_http.post(EMBEDDINGS_URL).mock(return_value=limited)
    with pytest.raises(RateLimitError) as caught:
        run(embed("mistral/mistral-embed", "otters"))
    assert caught.value.retry_after == 2.0


def test_a_reply_missing_vectors_is_malformed(vendor_http: respx.MockRouter, run: Run) -> None:
    from pocketflow.errors import MalformedResponseError

    vendor_http.post(EMBEDDINGS_URL).mock(return_value=embeddings_reply([0.1]))
    with pytest.raises(MalformedResponseError, match="1 embeddings for 2 texts"):
        run(embed("mistral/mistral-embed", "otters", "rocks"))
