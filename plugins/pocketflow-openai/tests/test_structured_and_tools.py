"""How structured output, tools and message parts map onto Chat Completions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import respx
from openai_fakes import CHAT_URL, Runner, chat_completion

from pocketflow import call_llm_async, complete_async
from pocketflow.errors import OutputValidationError
from pocketflow.parts import ImagePart, TextPart, ToolCall, ToolResult


@dataclass
class Book:
    """A book."""

    title: str
    pages: int = 100
    subtitle: str | None = None


def sent(route: respx.Route, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body


def test_structured_output_is_a_strict_json_schema_response_format(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(CHAT_URL).respond(
        json=chat_completion('{"title": "Dune", "pages": null, "subtitle": null}')
    )
    book = run(call_llm_async("A book?", output=Book))
    assert book == Book("Dune")  # the nulls strict mode needed are dropped: defaults apply
    response_format = sent(route)["response_format"]
    assert response_format["type"] == "json_schema"
    spec = response_format["json_schema"]
    assert (spec["name"], spec["strict"], spec["description"]) == ("Book", True, "A book.")
    schema = spec["schema"]
    assert schema["required"] == ["title", "pages", "subtitle"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["pages"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def test_a_refusal_is_the_raw_reply_of_the_validation_error(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    reply = chat_completion("")
    reply["choices"][0]["message"].update(content=None, refusal="I can't help with that.")
    vendor_http.post(CHAT_URL).respond(json=reply)
    with pytest.raises(OutputValidationError) as caught:
        run(call_llm_async("A book?", output=Book, output_retries=0))
    assert caught.value.raw == "I can't help with that."


def test_tools_tool_choice_and_parts_map_onto_chat_messages(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    def shelve(title: str) -> str:
        """Put a book on the shelf."""
        return "ok"

    route = vendor_http.post(CHAT_URL).respond(json=chat_completion("Shelved."))
    messages = [
        {
            "role": "user",
            "content": [TextPart("This one:"), ImagePart.from_bytes(b"GIF89a", "image/gif")],
        },
        {"role": "assistant", "content": [ToolCall("c1", "shelve", {"title": "Dune"})]},
        {"role": "user", "content": [ToolResult("c1", "shelve", "ok"), TextPart("Thanks")]},
    ]
    run(complete_async(messages, tools=[shelve], tool_choice="shelve"))
    body = sent(route)
    assert body["tool_choice"] == {"type": "function", "function": {"name": "shelve"}}
    assert body["tools"][0]["function"]["parameters"]["required"] == ["title"]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "This one:"},
                {"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lGODlh"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "shelve", "arguments": '{"title": "Dune"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "Thanks"}]},
    ]


def test_tool_call_arguments_that_are_not_json_are_a_malformed_reply(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    reply = chat_completion("")
    reply["choices"][0]["message"]["tool_calls"] = [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
    ]
    vendor_http.post(CHAT_URL).respond(json=reply)
    from pocketflow.errors import MalformedResponseError

    with pytest.raises(MalformedResponseError, match="tool call's arguments are not JSON"):
        run(complete_async("Hi", tools=[len], max_retries=0))


def test_the_body_is_sent_as_json_with_option_values_encoded(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    import datetime

    route = vendor_http.post(CHAT_URL).respond(json=chat_completion("ok"))
    when = datetime.date(2026, 1, 2)
    run(complete_async("Hi", options={"metadata": {"day": when}, "stop_ids": ("a", "b")}))
    request = route.calls[0].request
    assert request.headers["content-type"] == "application/json"
    assert sent(route)["metadata"] == {"day": "2026-01-02"}
    assert sent(route)["stop_ids"] == ["a", "b"]
