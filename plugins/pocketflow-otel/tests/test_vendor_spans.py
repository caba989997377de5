"""LLM and embedding call spans on a real vendor plugin (openai, HTTP mocked): GenAI
attributes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx
from opentelemetry.sdk.metrics.export import HistogramDataPoint
from opentelemetry.trace import SpanKind, StatusCode
from otel_support import Telemetry

import pocketflow
from pocketflow import AsyncFlow, AsyncNode, call_llm_async
from pocketflow.testing import FakeClock, run_and_close

CHAT_URL = "https://api.openai.com/v1/chat/completions"
TEST_KEY = "sk-test-otel-0123456789"

REPLY = {
    "id": "chatcmpl-otel-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "A short summary.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 42,
        "completion_tokens": 7,
        "total_tokens": 49,
        "prompt_tokens_details": {"cached_tokens": 32, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}


class Summarize(AsyncNode):
    async def exec_async(self, prep_res: Any) -> str:
        return await call_llm_async("Summarize: the sky is blue.", temperature=0.2, max_tokens=64)


def test_an_openai_call_span_has_the_genai_attributes_and_token_counts(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv("OPENAI_API_KEY", TEST_KEY)
    pocketflow_env.setenv("POCKETFLOW_LLM", "openai:gpt-4o-mini")
    vendor_http.post(CHAT_URL).respond(json=REPLY, headers={"x-request-id": "req_otel"})

    async def scenario() -> None:
        try:
            await AsyncFlow(start=Summarize()).run_async({})
        finally:
            await pocketflow.aclose()

    asyncio.run(scenario())
    spans = {span.name: span for span in telemetry.spans.get_finished_spans()}
    assert set(spans) == {"invoke_workflow AsyncFlow", "node Summarize", "chat gpt-4o-mini"}
    call = spans["chat gpt-4o-mini"]
    node_context = spans["node Summarize"].context
    assert call.parent is not None and node_context is not None
    assert call.parent.span_id == node_context.span_id
    attributes = dict(call.attributes or {})
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": "chatcmpl-otel-1",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 32,
        "pocketflow.llm.model": "openai:gpt-4o-mini",
        "pocketflow.llm.stream": False,
        "pocketflow.llm.request_id": "req_otel",
        "pocketflow.llm.attempts": 1,
    }
    assert TEST_KEY not in str(attributes)


def test_a_retried_call_is_one_span_with_a_retry_event(
    telemetry: Telemetry,
    pocketflow_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    fake_clock: FakeClock,
) -> None:
    pocketflow_env.setenv("OPENAI_API_KEY", TEST_KEY)
    pocketflow_env.setenv("POCKETFLOW_LLM", "openai:gpt-4o-mini")
    busy = {"error": {"message": "Rate limit reached.", "type": "requests", "code": None}}
    vendor_http.post(CHAT_URL).mock(
        side_effect=[
            httpx.Response(429, json=busy, headers={"retry-after": "1"}),
            httpx.Response(200, json=REPLY),
        ]
    )

    async def scenario() -> None:
        try:
            await AsyncFlow(start=Summarize()).run_async({})
        finally:
            await pocketflow.aclose()

    asyncio.run(scenario())
    (call,) = [s for s in telemetry.spans.get_finished_spans() if s.name == "chat gpt-4o-mini"]
    assert (call.attributes or {})["pocketflow.llm.attempts"] == 2
    assert [event.name for event in call.events] == ["gen_ai.retry"]


def test_an_anthropic_call_span_has_the_genai_attributes_and_cache_tokens(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv("ANTHROPIC_API_KEY", "sk-ant-test-otel")
    pocketflow_env.setenv("POCKETFLOW_LLM", "anthropic:claude-haiku-4-5")
    reply = {
        "id": "msg_otel_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "A short summary."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 21,
            "output_tokens": 7,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 50,
        },
    }
    vendor_http.post("https://api.anthropic.com/v1/messages").respond(
        json=reply, headers={"request-id": "req_ant"}
    )

    async def scenario() -> None:
        try:
            await AsyncFlow(start=Summarize()).run_async({})
        finally:
            await pocketflow.aclose()

    asyncio.run(scenario())
    (call,) = [s for s in telemetry.spans.get_finished_spans() if s.name.startswith("chat ")]
    assert call.name == "chat claude-haiku-4-5"
    attributes = dict(call.attributes or {})
    assert {key: attributes.get(key) for key in attributes if key.startswith("gen_ai.")} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-haiku-4-5",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.model": "claude-haiku-4-5",
        "gen_ai.response.id": "msg_otel_1",
        "gen_ai.response.finish_reasons": ("end_turn",),
        "gen_ai.usage.input_tokens": 21 + 100 + 50,  # cached tokens included, as conventions say
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.cache_creation.input_tokens": 50,
    }


EMBEDDINGS_URL = "https://api.openai.com/v1/embeddings"
EMBEDDING_REPLY = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": index, "embedding": [0.1 * index, 0.2, 0.3, 0.4]}
        for index in range(3)
    ],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 11, "total_tokens": 11},
}


class Index(AsyncNode):
    async def exec_async(self, prep_res: Any) -> int:
        embeddings = await pocketflow.embed_async(
            ["owls", "bats", "moths"], model="openai:text-embedding-3-small", dimensions=4
        )
        return len(embeddings.vectors)


def run_index() -> None:
    run_and_close(AsyncFlow(start=Index()).run_async({}))


def test_an_embedding_call_is_one_span_of_its_step_with_tokens_and_dimensions(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv("OPENAI_API_KEY", TEST_KEY)
    vendor_http.post(EMBEDDINGS_URL).respond(json=EMBEDDING_REPLY)

    run_index()

    spans = {span.name: span for span in telemetry.spans.get_finished_spans()}
    assert set(spans) == {
        "invoke_workflow AsyncFlow",
        "node Index",
        "embeddings text-embedding-3-small",
    }
    call = spans["embeddings text-embedding-3-small"]
    node_context = spans["node Index"].context
    assert call.parent is not None and node_context is not None
    assert call.parent.span_id == node_context.span_id
    assert call.kind == SpanKind.CLIENT
    assert dict(call.attributes or {}) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.response.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.embeddings.dimension.count": 4,
        "pocketflow.llm.model": "openai:text-embedding-3-small",
        "pocketflow.embeddings.inputs": 3,
        "pocketflow.embeddings.batches": 1,
        "pocketflow.llm.attempts": 1,
    }
    operations = {
        (point.attributes or {}).get("gen_ai.operation.name"): point.count
        for metric in metric_list(telemetry, "gen_ai.client.operation.duration")
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    }
    assert operations == {"embeddings": 1}
    (tokens,) = [
        point
        for metric in metric_list(telemetry, "gen_ai.client.token.usage")
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    ]
    assert (tokens.sum, (tokens.attributes or {})["gen_ai.token.type"]) == (11, "input")


def test_an_embedding_reply_without_a_token_count_records_no_tokens(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv("OPENAI_API_KEY", TEST_KEY)
    uncounted = {key: value for key, value in EMBEDDING_REPLY.items() if key != "usage"}
    vendor_http.post(EMBEDDINGS_URL).respond(json=uncounted)

    run_index()

    (call,) = [
        span
        for span in telemetry.spans.get_finished_spans()
        if span.name == "embeddings text-embedding-3-small"
    ]
    assert "gen_ai.usage.input_tokens" not in (call.attributes or {})
    assert (call.attributes or {})["gen_ai.embeddings.dimension.count"] == 4
    assert metric_list(telemetry, "gen_ai.client.token.usage") == []
    (duration,) = metric_list(telemetry, "gen_ai.client.operation.duration")
    assert sum(point.count for point in duration.data.data_points) == 1


def test_a_failed_embedding_call_marks_its_span_with_the_error(
    telemetry: Telemetry, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv("OPENAI_API_KEY", TEST_KEY)
    vendor_http.post(EMBEDDINGS_URL).respond(
        400, json={"error": {"message": "dimensions is too large", "type": "invalid_request"}}
    )

    with pytest.raises(Exception, match="dimensions is too large"):
        run_index()

    (call,) = [
        span
        for span in telemetry.spans.get_finished_spans()
        if span.name == "embeddings text-embedding-3-small"
    ]
    assert call.status.status_code == StatusCode.ERROR
    assert (call.attributes or {})["error.type"] == "BadRequestError"
    assert TEST_KEY not in str(call.attributes) + str(call.status.description)


def metric_list(telemetry: Telemetry, name: str) -> list[Any]:
    data = telemetry.metrics.get_metrics_data()
    assert data is not None
    return [
        metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
    ]
