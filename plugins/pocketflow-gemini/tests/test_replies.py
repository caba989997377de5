"""What a request holds and what a reply gives: generation settings, options, thought
signatures sent back in a tool loop, usage with thinking tokens, and embeddings."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from gemini_fakes import API, Runner, reply_json, text_json

from pocketflow import call_llm_async, complete_async
from pocketflow.errors import MalformedResponseError
from pocketflow.providers import EmbeddingRequest
from pocketflow.runtime import current_runtime
from pocketflow_gemini.provider import GeminiProvider


def test_settings_and_options_land_in_generation_config(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(json=text_json())
    run(
        complete_async(
            "Hi", temperature=0.2, max_tokens=50, stop=["END"], seed=7,
            options={"topK": 5, "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT",
                                     "threshold": "BLOCK_NONE"}]},
        )
    )  # fmt: skip
    body = json.loads(gemini_api.calls.last.request.content)
    assert body["generationConfig"] == {
        "temperature": 0.2, "maxOutputTokens": 50, "stopSequences": ["END"], "seed": 7, "topK": 5,
    }  # fmt: skip
    assert body["safetySettings"][0]["threshold"] == "BLOCK_NONE"
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]


def test_thinking_tokens_count_as_output_and_thoughts_are_not_the_answer(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    reply = reply_json({"text": "Let me think...", "thought": True}, {"text": "42."})
    reply["usageMetadata"] = {
        "promptTokenCount": 10, "candidatesTokenCount": 2, "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 4,
    }  # fmt: skip
    gemini_api.respond(json=reply)
    response = run(complete_async("Answer?"))
    assert response.text == "42."
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 32)
    assert response.usage.cache_read_tokens == 4
    assert response.model == "gemini-2.5-flash-001" and response.finish_reason == "STOP"


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_thought_signatures_go_back_with_their_calls(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    call = {"functionCall": {"name": "add", "args": {"a": 1, "b": 2}}, "thoughtSignature": "c2ln"}
    gemini_api.side_effect = [
        httpx.Response(200, json=reply_json(call)),
        httpx.Response(200, json=text_json("3")),
    ]
    assert run(call_llm_async("1+2?", tools=[add])) == "3"
    second = json.loads(gemini_api.calls[1].request.content)
    model_turn, results = second["contents"][1], second["contents"][2]
    assert model_turn == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1"},
             "thoughtSignature": "c2ln"}
        ],
    }  # fmt: skip
    assert results["role"] == "user"
    assert results["parts"][0]["functionResponse"]["response"] == {"result": "3"}
    assert results["parts"][0]["functionResponse"]["name"] == "add"


def _embed(texts: list[str], dimensions: int | None = None) -> Any:
    async def scenario() -> Any:
        provider = current_runtime().provider("gemini").provider
        assert provider.capabilities_for("gemini-embedding-001").max_embedding_inputs == 100
        request = EmbeddingRequest("gemini-embedding-001", tuple(texts), dimensions)
        return await provider.embed(request)

    return scenario()


def test_embeddings_come_from_batch_embed_contents(
    gemini_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(f"{API}/models/gemini-embedding-001:batchEmbedContents")
    route.respond(json={"embeddings": [{"values": [0.5, 1]}, {"values": [0, -1.5]}]})
    response = run(_embed(["a", "b"], dimensions=2))
    assert response.vectors == [[0.5, 1.0], [0.0, -1.5]]
    assert (response.provider, response.model) == ("gemini", "gemini-embedding-001")
    body = json.loads(route.calls.last.request.content)
    assert body["requests"][1] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "b"}]},
        "outputDimensionality": 2,
    }


def test_an_embedding_reply_with_too_few_vectors_is_malformed(
    gemini_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(f"{API}/models/gemini-embedding-001:batchEmbedContents")
    route.respond(json={"embeddings": [{"values": [0.5]}]})
    with pytest.raises(MalformedResponseError, match="1 embeddings for 2 texts"):
        run(_embed(["a", "b"]))


def test_one_client_per_event_loop_closed_by_aclose(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(json=text_json())

    async def two_calls() -> Any:
        await call_llm_async("a")
        await call_llm_async("b")
        provider = current_runtime().provider("gemini").provider
        assert isinstance(provider, GeminiProvider)
        return provider._sessions.get().clients.clients

    (sdk,) = run(two_calls())  # both calls on the one client, closed with its loop
    assert sdk.http.is_closed and sdk.sync_http.is_closed
    assert gemini_api.call_count == 2


def broken(city: str) -> str:
    """A tool that fails."""
    raise RuntimeError(f"no data for {city}")


def test_a_failing_tool_goes_back_as_an_error_response(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    call = {"functionCall": {"id": "c9", "name": "broken", "args": {"city": "Oslo"}}}
    gemini_api.side_effect = [
        httpx.Response(200, json=reply_json(call)),
        httpx.Response(200, json=text_json("Sorry.")),
    ]
    assert run(call_llm_async("Oslo?", tools=[broken])) == "Sorry."
    results = json.loads(gemini_api.calls[1].request.content)["contents"][-1]["parts"]
    response = results[0]["functionResponse"]
    assert (response["id"], response["name"]) == ("c9", "broken")
    assert "no data for Oslo" in response["response"]["error"]


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("required", {"mode": "ANY"}),
        ("none", {"mode": "NONE"}),
        ("add", {"mode": "ANY", "allowedFunctionNames": ["add"]}),
    ],
)
def test_tool_choice_is_the_function_calling_mode(
    gemini_env: pytest.MonkeyPatch,
    gemini_api: respx.Route,
    run: Runner,
    choice: str,
    config: dict[str, Any],
) -> None:
    gemini_api.respond(json=text_json("ok"))
    run(complete_async("1+2?", tools=[add], tool_choice=choice))
    body = json.loads(gemini_api.calls.last.request.content)
    assert body["toolConfig"] == {"functionCallingConfig": config}
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "add"
