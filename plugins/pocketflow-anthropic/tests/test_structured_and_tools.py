"""How structured output, tools and message parts map onto the Messages API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import respx
from anthropic_fakes import Runner, message_json
from anthropic_wire import AnthropicWire

from pocketflow import call_llm_async, complete_async, stream_llm_async
from pocketflow.errors import ConfigError
from pocketflow.parts import ImagePart, TextPart, ToolCall, ToolResult


@dataclass
class Score:
    """A mark out of ten."""

    subject: str
    points: Annotated[int, "0 to 10"]


def sent(route: respx.Route, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body


def test_native_structured_output_sends_output_config_format(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json('{"subject": "maths", "points": 7}'))
    score = run(call_llm_async("Mark it", output=Score))
    assert score == Score("maths", 7)
    body = sent(messages_api)
    fmt = body["output_config"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["schema"]["additionalProperties"] is False
    assert fmt["schema"]["required"] == ["subject", "points"]
    assert "tools" not in body and "tool_choice" not in body


def test_output_config_options_are_merged_with_the_format(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    messages_api.respond(json=message_json('{"subject": "x", "points": 1}'))
    run(call_llm_async("Mark it", output=Score, options={"output_config": {"effort": "low"}}))
    config = sent(messages_api)["output_config"]
    assert config["effort"] == "low" and config["format"]["type"] == "json_schema"


def test_an_older_model_gets_structured_output_through_a_forced_tool(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    reply = message_json("")
    reply["content"] = [
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "respond_with_Score",
            "input": {"subject": "art", "points": 9},
        }
    ]
    messages_api.respond(json=reply)
    response = run(
        complete_async("Mark it", model="anthropic:claude-3-5-haiku-latest", output=Score)
    )
    assert response.output == Score("art", 9)
    assert response.text == '{"subject": "art", "points": 9}' and response.tool_calls == []
    body = sent(messages_api)
    assert body["tool_choice"] == {"type": "tool", "name": "respond_with_Score"}
    assert body["tools"][0]["input_schema"]["required"] == ["subject", "points"]
    assert "output_config" not in body


def test_the_structured_output_setting_chooses_the_mechanism(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text('[providers.anthropic]\nstructured_output = "tool"\n')
    stream_events = AnthropicWire().stream_tool_call_reply(
        [ToolCall("toolu_1", "respond_with_Score", {"subject": "art", "points": 9})]
    )
    messages_api.respond(content=stream_events, headers={"content-type": "text/event-stream"})

    async def scenario() -> tuple[str, Any]:
        stream = stream_llm_async("Mark it", output=Score)
        text = "".join([chunk async for chunk in stream])
        assert stream.response is not None
        return text, stream.response.output

    text, score = run(scenario())
    assert json.loads(text) == {"subject": "art", "points": 9} and score == Score("art", 9)
    assert sent(messages_api)["tool_choice"]["name"] == "respond_with_Score"


def test_a_bad_structured_output_setting_names_the_choices(
    anthropic_env: pytest.MonkeyPatch, run: Runner
) -> None:
    Path("pocketflow.toml").write_text('[providers.anthropic]\nstructured_output = "json"\n')
    with pytest.raises(ConfigError, match='\'structured_output\' must be "native" or "tool"'):
        run(call_llm_async("Hi"))


def test_tool_choice_and_parts_map_onto_content_blocks(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    def grade(subject: str) -> int:
        """Grade a subject."""
        return 5

    messages_api.respond(json=message_json("Done."))
    image = ImagePart.from_bytes(b"GIF89a", "image/gif")
    messages = [
        {
            "role": "user",
            "content": [TextPart("Look:"), image, ImagePart.from_url("https://x.test/a.png")],
        },
        {
            "role": "assistant",
            "content": [TextPart("Grading."), ToolCall("t1", "grade", {"subject": "a"})],
        },
        {
            "role": "user",
            "content": [TextPart("and?"), ToolResult("t1", "grade", "5", is_error=True)],
        },
    ]
    run(complete_async(messages, tools=[grade], tool_choice="grade"))
    body = sent(messages_api)
    assert body["tool_choice"] == {"type": "tool", "name": "grade"}
    assert body["tools"] == [
        {
            "name": "grade",
            "description": "Grade a subject.",
            "input_schema": {
                "type": "object",
                "required": ["subject"],
                "properties": {"subject": {"type": "string"}},
            },
        }
    ]
    first, second, third = body["messages"]
    assert first["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGODlh"},
    }
    assert first["content"][2] == {
        "type": "image",
        "source": {"type": "url", "url": "https://x.test/a.png"},
    }
    assert second["content"][1] == {
        "type": "tool_use",
        "id": "t1",
        "name": "grade",
        "input": {"subject": "a"},
    }
    assert third["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": "5",
        "is_error": True,
    }
    assert third["content"][1] == {"type": "text", "text": "and?"}


@pytest.mark.parametrize(
    ("choice", "sent_choice"),
    [("required", {"type": "any"}), ("none", {"type": "none"}), ("auto", {"type": "auto"})],
)
def test_tool_choice_words(
    anthropic_env: pytest.MonkeyPatch,
    messages_api: respx.Route,
    run: Runner,
    choice: str,
    sent_choice: dict[str, str],
) -> None:
    messages_api.respond(json=message_json("ok"))
    run(complete_async("Hi", tools=[len], tool_choice=choice))
    assert sent(messages_api)["tool_choice"] == sent_choice


def test_thinking_blocks_go_back_with_the_tool_calls_they_led_to(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner
) -> None:
    def grade(subject: str) -> int:
        """Grade a subject."""
        return 5

    thinking = {"type": "thinking", "thinking": "I should grade it.", "signature": "sig=="}
    first = message_json("", stop_reason="tool_use")
    first["content"] = [
        thinking,
        {"type": "tool_use", "id": "t1", "name": "grade", "input": {"subject": "art"}},
    ]
    messages_api.side_effect = [
        httpx.Response(200, json=first),
        httpx.Response(200, json=message_json("It gets a 5.")),
    ]
    thinking_on = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert run(call_llm_async("Grade art", tools=[grade], options=thinking_on)) == "It gets a 5."
    assistant = sent(messages_api)["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == thinking
    assert assistant["content"][1]["type"] == "tool_use"
