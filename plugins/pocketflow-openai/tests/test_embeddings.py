"""embed_async on OpenAI: POST /embeddings through the SDK's client, against mocked HTTP.

Bodies are asserted as sent; vendor failures reach the user as the core's errors with
the messages they read.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import httpx
import pytest
import respx
from openai_fakes import SECRET, Runner, error_body

from pocketflow import embed_async
from pocketflow.cli import main
from pocketflow.errors import (
    AuthenticationError,
    EmbeddingDimensionError,
    MalformedResponseError,
    ModelNotFoundError,
    ServerError,
    UnsupportedRequestError,
)
from pocketflow.testing import FakeClock

EMBEDDINGS_URL = "https://api.openai.com/v1/embeddings"
MODEL = "openai:text-embedding-3-small"


def embedding_reply(
    vectors: list[list[float]], *, prompt_tokens: int = 7, order: list[int] | None = None
) -> dict[str, Any]:
    """An Embeddings reply as the API sends it (``order``: the indexes, as listed)."""
    indexes = order if order is not None else list(range(len(vectors)))
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": vectors[i]} for i in indexes],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def sent(route: respx.Route, call: int = 0) -> Any:
    return json.loads(route.calls[call].request.content)


def by_input(request: httpx.Request) -> httpx.Response:
    """Answers each text with [its length, its position in this request]."""
    texts = json.loads(request.content)["input"]
    vectors = [[float(len(text)), float(i)] for i, text in enumerate(texts)]
    return httpx.Response(200, json=embedding_reply(vectors, prompt_tokens=len(texts)))


def test_the_texts_are_sent_as_one_request_and_the_vectors_come_back_in_order(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    reply = embedding_reply([[0.1, 0.2], [0.3, 0.4]], prompt_tokens=5, order=[1, 0])
    route = vendor_http.post(EMBEDDINGS_URL).respond(200, json=reply)

    result = run(embed_async(["first text", "second"], model=MODEL, dimensions=2))

    assert sent(route) == {
        "model": "text-embedding-3-small",
        "input": ["first text", "second"],
        "encoding_format": "float",
        "dimensions": 2,
    }
    assert route.calls[0].request.headers["authorization"] == f"Bearer {SECRET}"
    assert result.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert (result.provider, result.model, result.usage.input_tokens) == (
        "openai",
        "text-embedding-3-small",
        5,
    )
    # text-embedding-3-small from the price table: $0.02 per million tokens
    assert result.cost == pytest.approx(5 * 0.02 / 1_000_000)


def test_more_than_2048_texts_are_split_into_requests_of_2048(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(EMBEDDINGS_URL).mock(side_effect=by_input)
    texts = ["x" * (n % 50) for n in range(2050)]

    result = run(embed_async(texts, model=MODEL))

    assert sorted(len(sent(route, n)["input"]) for n in range(2)) == [2, 2048]
    assert result.batches == 2
    assert result.usage.input_tokens == 2050
    assert [vector[0] for vector in result.vectors] == [float(len(text)) for text in texts]


def test_options_are_passed_through_and_a_base64_reply_is_decoded(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    packed = base64.b64encode(struct.pack("<3f", 0.5, -1.0, 0.25)).decode()
    reply = embedding_reply([[0.0]])
    reply["data"][0]["embedding"] = packed
    route = vendor_http.post(EMBEDDINGS_URL).respond(200, json=reply)

    result = run(embed_async("hi", model=MODEL, options={"encoding_format": "base64"}))

    assert sent(route)["encoding_format"] == "base64"
    assert result.vector == [0.5, -1.0, 0.25]


def test_a_chat_model_is_refused_before_a_request_is_sent(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(EMBEDDINGS_URL).respond(200, json=embedding_reply([[1.0]]))
    with pytest.raises(UnsupportedRequestError, match="'openai:gpt-4o-mini' is not an embedding"):
        run(embed_async("hi", model="openai:gpt-4o-mini"))
    assert not route.called


def test_a_fallback_of_other_dimensions_is_refused_from_the_known_sizes(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(EMBEDDINGS_URL).respond(500, json=error_body("down"))
    with pytest.raises(EmbeddingDimensionError) as caught:
        run(
            embed_async(
                "hi", model=MODEL, max_retries=0, fallbacks=["openai:text-embedding-3-large"]
            )
        )
    assert "openai:text-embedding-3-large makes 3072-dimensional vectors" in str(caught.value)
    assert "openai:text-embedding-3-small makes 1536-dimensional ones" in str(caught.value)
    assert route.call_count == 1


def test_a_rejected_key_names_its_variable_and_never_the_key(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    body = error_body(f"Incorrect API key provided: {SECRET}.", code="invalid_api_key")
    route = vendor_http.post(EMBEDDINGS_URL).respond(401, json=body)

    with pytest.raises(AuthenticationError) as caught:
        run(embed_async("hi", model=MODEL))

    message = str(caught.value)
    assert message.startswith("Authentication failed on openai:text-embedding-3-small (HTTP 401")
    assert "Check OPENAI_API_KEY" in message
    assert SECRET not in message
    assert route.call_count == 1  # never retried


def test_an_unknown_model_is_the_vendors_404(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    body = error_body("The model `text-embedding-9` does not exist.", code="model_not_found")
    vendor_http.post(EMBEDDINGS_URL).respond(404, json=body)
    with pytest.raises(ModelNotFoundError, match="text-embedding-9` does not exist"):
        run(embed_async("hi", model="openai:text-embedding-9"))


def test_a_server_error_is_retried_then_reported(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    fake_clock: FakeClock,
) -> None:
    route = vendor_http.post(EMBEDDINGS_URL).mock(
        side_effect=[
            httpx.Response(503, json=error_body("The server is overloaded.")),
            httpx.Response(200, json=embedding_reply([[1.0, 0.0]])),
        ]
    )
    result = run(embed_async("hi", model=MODEL))
    assert (result.attempts, route.call_count, result.vector) == (2, 2, [1.0, 0.0])

    route.side_effect = None
    route.respond(500, json=error_body("Internal error."))
    with pytest.raises(ServerError, match=r"openai:text-embedding-3-small \(HTTP 500.*Internal"):
        run(embed_async("hi", model=MODEL, max_retries=1))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>Bad gateway</html>", "the reply is not JSON"),
        (b'{"object": "list"}', "the reply has no 'data' list of embeddings"),
        (b'{"data": [{"index": 0, "embedding": "not base64!"}]}', "embedding 0 is not valid"),
        (b'{"data": [{"index": 0, "embedding": ["a"]}]}', "embedding 0 holds 'a', not a number"),
        (b'{"data": [{"index": 5, "embedding": [1.0]}]}', "embedding 0 of the reply has a bad"),
        (b'{"data": []}', "the reply holds 0 vectors for 1 texts"),
    ],
)
def test_a_malformed_reply_is_retried_then_reported(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    fake_clock: FakeClock,
    content: bytes,
    message: str,
) -> None:
    route = vendor_http.post(EMBEDDINGS_URL).respond(200, content=content)
    with pytest.raises(MalformedResponseError, match=message) as caught:
        run(embed_async("hi", model=MODEL, max_retries=1))
    assert "openai:text-embedding-3-small" in str(caught.value)
    assert route.call_count == 2


def test_pocketflow_models_says_openai_can_embed(
    openai_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.count("can: chat, stream, structured, tools, embed") >= 2  # openai, azure
