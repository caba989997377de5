"""One program, unchanged, on offline:, openai:, anthropic: and gemini:, switched by configuration:
the same validated pydantic object out of the same two-tool loop. Vendor HTTP is
mocked and the request bodies are checked."""

from __future__ import annotations

import asyncio
import json

import pydantic
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

from pocketflow import call_llm_async
from pocketflow.offline import Script
from pocketflow.parts import ToolCall, ToolResult
from pocketflow.testing import script_llm


class CityReport(pydantic.BaseModel):
    city: str
    population: int
    local_time: str


def population(city: str) -> int:
    """How many people live in a city."""
    return {"Paris": 2_100_000}.get(city, 0)


async def local_time(city: str) -> str:
    """The local time in a city."""
    return f"14:05 in {city}"


async def program() -> CityReport:
    """The user's program: nothing in it names a vendor."""
    return await call_llm_async(
        "Report on Paris.", tools=[population, local_time], output=CityReport
    )


CALLS = [
    ToolCall("call_1", "population", {"city": "Paris"}),
    ToolCall("call_2", "local_time", {"city": "Paris"}),
]
FINAL = {"city": "Paris", "population": 2100000, "local_time": "14:05 in Paris"}
EXPECTED = CityReport.model_validate(FINAL)


def test_offline(pocketflow_env: pytest.MonkeyPatch) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:scripted")
    with script_llm([CALLS, json.dumps(FINAL)]) as script:
        assert asyncio.run(program()) == EXPECTED
    check_offline_requests(script)


def check_offline_requests(script: Script) -> None:
    first, second = script.requests
    assert [t.name for t in first.tools] == ["population", "local_time"]
    assert first.output is not None and first.output.schema["required"] == [
        "city",
        "population",
        "local_time",
    ]
    results = [p for p in second.messages[-1].parts if isinstance(p, ToolResult)]
    assert [(r.call_id, r.content) for r in results] == [
        ("call_1", "2100000"),
        ("call_2", "14:05 in Paris"),
    ]


@pytest.mark.parametrize("vendor", VENDORS)
def test_vendor(
    vendor: str, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv(KEYS[vendor], "sk-test")
    pocketflow_env.setenv("POCKETFLOW_LLM", MODELS[vendor])
    route = vendor_http.post(URLS[vendor])
    route.side_effect = [reply(vendor, calls=CALLS), reply(vendor, text=json.dumps(FINAL))]
    assert asyncio.run(program()) == EXPECTED
    first, second = (json.loads(call.request.content) for call in route.calls)
    assert sent_tool_names(vendor, first) == ["population", "local_time"]
    schema = sent_schema(vendor, first)
    assert schema is not None and set(schema["properties"]) == {"city", "population", "local_time"}
    assert sent_tool_results(vendor, second) == [
        ("call_1", "2100000"),
        ("call_2", "14:05 in Paris"),
    ]
