"""Tools: schemas from Python functions, one tool call, and the tool loop (offline)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from pocketflow import call_llm_async, complete_async, stream_llm_async
from pocketflow.errors import ToolLoopError
from pocketflow.offline import Script
from pocketflow.parts import ToolCall, ToolResult
from pocketflow.tools import tool

ScriptFactory = Callable[..., Script]


def search(query: str, limit: int = 3) -> list[str]:
    """Search the notes.

    Args:
        query: words to look for
        limit: how many results, at most
    """
    return [f"note about {query}"][:limit]


@dataclass
class Place:
    city: str
    country: str = "FR"


async def weather(place: Place, unit: Annotated[str, "C or F"] = "C") -> dict[str, Any]:
    """Today's weather at a place."""
    await asyncio.sleep(0)
    return {"city": place.city, "sky": "clear", "unit": unit}


def test_a_function_schema_comes_from_its_signature_hints_and_docstring() -> None:
    spec = tool(search).spec
    assert spec.name == "search"
    assert spec.description == "Search the notes."
    assert spec.parameters == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "words to look for"},
            "limit": {"type": "integer", "description": "how many results, at most"},
        },
        "required": ["query"],
    }
    nested = tool(weather).spec.parameters
    assert nested["properties"]["place"] == {"$ref": "#/$defs/Place"}
    assert nested["properties"]["unit"] == {"type": "string", "description": "C or F"}
    assert nested["$defs"]["Place"]["required"] == ["city"]


def test_an_explicit_schema_and_name_replace_the_made_ones() -> None:
    schema = {"type": "object", "properties": {"key": {"type": "string"}}}
    made = tool(lambda **kw: kw, name="lookup", description="Look up.", parameters=schema)
    assert (made.spec.name, made.spec.description) == ("lookup", "Look up.")
    with pytest.raises(ValueError, match="A tool's name must be 1-64 letters"):
        tool(lambda: 1)


def test_complete_returns_the_tool_calls_the_model_asked_for(llm_script: ScriptFactory) -> None:
    script = llm_script([ToolCall("c1", "search", {"query": "cats"})])
    response = asyncio.run(complete_async("Find cats", tools=[search], tool_choice="required"))
    assert response.tool_calls == [ToolCall("c1", "search", {"query": "cats"})]
    assert response.finish_reason == "tool_calls"
    assert script.requests[0].tools[0].name == "search"
    assert script.requests[0].tool_choice == "required"


def test_the_loop_runs_two_tools_concurrently_and_sends_the_results_back(
    llm_script: ScriptFactory,
) -> None:
    running: list[str] = []
    peak = 0

    async def slow(name: str) -> str:
        nonlocal peak
        running.append(name)
        peak = max(peak, len(running))
        await asyncio.sleep(0.01)
        running.remove(name)
        return f"done {name}"

    async def first(name: str) -> str:
        """First tool."""
        return await slow(name)

    async def second(name: str) -> str:
        """Second tool."""
        return await slow(name)

    calls = [ToolCall("a", "first", {"name": "x"}), ToolCall("b", "second", {"name": "y"})]
    script = llm_script([calls, "All done."])
    answer = asyncio.run(call_llm_async("Go", tools=[first, second]))
    assert answer == "All done."
    assert peak == 2
    back = script.requests[1].messages
    assert back[1].role == "assistant" and list(back[1].content) == calls
    assert back[2].content == (
        ToolResult("a", "first", "done x"),
        ToolResult("b", "second", "done y"),
    )
    assert script.requests[1].tool_choice is None


def test_a_tool_that_raises_sends_its_error_to_the_model(llm_script: ScriptFactory) -> None:
    def broken(city: str) -> str:
        """Always fails."""
        raise RuntimeError(f"no data for {city}")

    script = llm_script([ToolCall("a", "broken", {"city": "Oslo"}), "Sorry."])
    assert asyncio.run(call_llm_async("Go", tools=[broken])) == "Sorry."
    result = script.requests[1].messages[-1].content[0]
    assert result == ToolResult("a", "broken", "RuntimeError: no data for Oslo", is_error=True)


def test_tool_errors_raise_stops_the_loop(llm_script: ScriptFactory) -> None:
    def broken(city: str) -> str:
        """Always fails."""
        raise RuntimeError("down")

    llm_script([ToolCall("a", "broken", {"city": "Oslo"}), "Sorry."])
    with pytest.raises(ToolLoopError, match=r"The tool broken\(city='Oslo'\) raised RuntimeError"):
        asyncio.run(call_llm_async("Go", tools=[broken], tool_errors="raise"))


def test_bad_arguments_and_unknown_tools_go_back_as_errors(llm_script: ScriptFactory) -> None:
    calls = [ToolCall("a", "search", {"query": 5}), ToolCall("b", "nope", {})]
    script = llm_script([calls, "ok"])
    asyncio.run(call_llm_async("Go", tools=[search]))
    bad, unknown = script.requests[1].messages[-1].parts
    assert isinstance(bad, ToolResult) and isinstance(unknown, ToolResult)
    assert bad.is_error and "$.query: must be string" in bad.content
    assert unknown.is_error and "There is no tool named 'nope' (tools: search)" in unknown.content


def test_a_loop_past_max_turns_raises_naming_the_last_calls(llm_script: ScriptFactory) -> None:
    script = llm_script([ToolCall("a", "search", {"query": "again"})])
    with pytest.raises(
        ToolLoopError, match=r"max_turns=3 turns; its last tool calls: search\(query='again'\)"
    ):
        asyncio.run(call_llm_async("Go", tools=[search], max_turns=3))
    assert len(script.requests) == 3


def test_offline_runs_a_deterministic_two_tool_loop_with_structured_output(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    @dataclass
    class Report:
        summary: str

    report = asyncio.run(
        call_llm_async(
            "Weather in Paris?", model="offline:summarize", tools=[search, weather], output=Report
        )
    )
    assert isinstance(report, Report)
    assert "note about Weather in Paris?" in report.summary
    assert '"sky": "clear"' in report.summary


def test_a_tool_choice_that_names_no_tool_is_refused(llm_script: ScriptFactory) -> None:
    script = llm_script(["never"])
    with pytest.raises(ValueError, match=r"tool_choice='serach' is not 'auto', .* \(search\)"):
        asyncio.run(complete_async("Go", tools=[search], tool_choice="serach"))
    assert script.requests == []


def test_a_stream_holds_the_tool_calls_when_it_ends(pocketflow_env: pytest.MonkeyPatch) -> None:
    async def scenario() -> tuple[list[str], list[ToolCall]]:
        stream = stream_llm_async("Find cats", model="offline:echo", tools=[search])
        chunks = [chunk async for chunk in stream]
        assert stream.response is not None
        return chunks, stream.response.tool_calls

    chunks, calls = asyncio.run(scenario())
    assert chunks == []
    assert calls == [ToolCall("offline_call_0_0", "search", {"query": "Find cats"})]
