"""The research agent example on openai:, anthropic: and gemini:, switched by configuration:
structured decisions, a search tool call, a structured answer. Vendor HTTP is mocked;
the flow's code is the example's own, never changed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import respx
from vendor_replies import (
    KEYS,
    MODELS,
    URLS,
    VENDORS,
    reply,
    sent_schema,
    sent_tool_names,
    sent_tool_results,
)

from pocketflow import track_usage
from pocketflow.parts import ToolCall

from examples_support import load_example_flow

SEARCH = {"thinking": "I need the notes.", "action": "search", "search_query": "retry policy"}
ANSWER_NOW = {"thinking": "That is enough.", "action": "answer", "search_query": ""}
FINAL = {"answer": "Backoff with jitter, honouring Retry-After.", "sources": ["retries"]}


@pytest.mark.parametrize("vendor", VENDORS)
def test_research_agent_on_a_vendor(
    vendor: str, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv(KEYS[vendor], "sk-test")
    pocketflow_env.setenv("POCKETFLOW_LLM", MODELS[vendor])
    route = vendor_http.post(URLS[vendor])
    route.side_effect = [
        reply(vendor, text=json.dumps(SEARCH)),
        reply(vendor, calls=[ToolCall("call_1", "search_notes", {"query": "retry policy"})]),
        reply(vendor, text="The notes say retries back off with jitter."),
        reply(vendor, text=json.dumps(ANSWER_NOW)),
        reply(vendor, text=json.dumps(FINAL)),
    ]
    module = load_example_flow("research_agent")
    shared: dict[str, Any] = {"question": "How are calls retried?", "max_searches": 2}
    with track_usage() as usage:
        asyncio.run(module.build_flow().run_async(shared))

    assert shared["answer"] == module.Answer(**FINAL)
    assert shared["decisions"] == [("search", "retry policy"), ("answer", "")]
    assert usage.calls == 5
    bodies = [json.loads(call.request.content) for call in route.calls]
    decision_schema = sent_schema(vendor, bodies[0])
    assert decision_schema is not None
    assert decision_schema["properties"]["action"]["enum"] == ["search", "answer"]
    assert sent_tool_names(vendor, bodies[1]) == ["search_notes"]
    ((call_id, result),) = sent_tool_results(vendor, bodies[2])
    assert call_id == "call_1" and result.startswith("[retries] Retries in PocketFlow Pluggable")
    answer_schema = sent_schema(vendor, bodies[4])
    assert answer_schema is not None and "sources" in answer_schema["properties"]
