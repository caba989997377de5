"""SummarizeThenVerify on real vendor plugins, switched by configuration alone.

Vendor HTTP is mocked (respx through ``vendor_http``); the flow's code is the
example's own, loaded from examples/summarize_then_verify/flow.py and never changed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pocketflow import track_usage

from examples_support import load_example_flow, run_example

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
GEMINI_URL = (
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
)
DOCUMENT = "Otters hold hands while sleeping. They use rocks as tools."


def openai_reply(text: str) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"x-request-id": "req-openai"},
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26},
        },
    )


def anthropic_reply(text: str) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"request-id": "req-anthropic"},
        json={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 21, "output_tokens": 7},
        },
    )


def gemini_reply(text: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 19,
                "candidatesTokenCount": 5,
                "totalTokenCount": 24,
            },
            "modelVersion": "gemini-2.5-flash",
            "responseId": "resp-1",
        },
    )


@pytest.fixture
def document(pocketflow_env: pytest.MonkeyPatch) -> Path:
    path = Path("otters.txt")
    path.write_text(DOCUMENT, encoding="utf-8")
    pocketflow_env.setenv("OPENAI_API_KEY", "sk-test-openai")
    pocketflow_env.setenv("ANTHROPIC_API_KEY", "sk-test-anthropic")
    pocketflow_env.setenv("GEMINI_API_KEY", "AIza-test-gemini")
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "auto:deny,approve")
    return path


def run_flow(document: Path) -> tuple[dict[str, Any], Any]:
    flow = load_example_flow("summarize_then_verify").build_flow()
    shared: dict[str, Any] = {"doc_path": str(document), "max_attempts": 3}
    with track_usage() as usage:
        asyncio.run(flow.run_async(shared))
    return shared, usage


def sent(route: respx.Route, index: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body


def test_on_openai_deny_once_then_approve(
    document: Path, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "openai:gpt-4o-mini")
    route = vendor_http.post(OPENAI_URL).mock(
        side_effect=[openai_reply("Otters nap."), openai_reply("Otters hold hands asleep.")]
    )
    shared, usage = run_flow(document)
    assert shared["outcome"] == "approved"
    assert shared["summary"] == "Otters hold hands asleep."
    assert shared["attempts"] == 2
    assert route.call_count == 2
    body = sent(route, 0)
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [{"role": "user", "content": f"Summarize: {DOCUMENT}"}]
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-test-openai"
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 40, 12)
    # gpt-4o-mini from the price table: $0.15 per million input tokens, $0.60 output.
    assert usage.cost == pytest.approx((40 * 0.15 + 12 * 0.60) / 1_000_000)


def test_on_anthropic_deny_once_then_approve(
    document: Path, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "anthropic:claude-haiku-4-5")
    route = vendor_http.post(ANTHROPIC_URL).mock(
        side_effect=[anthropic_reply("Otters nap."), anthropic_reply("Otters hold hands.")]
    )
    shared, usage = run_flow(document)
    assert (shared["outcome"], shared["summary"]) == ("approved", "Otters hold hands.")
    assert route.call_count == 2
    body = sent(route, 1)
    assert body["model"] == "claude-haiku-4-5"
    assert body["messages"] == [{"role": "user", "content": f"Summarize: {DOCUMENT}"}]
    assert body["max_tokens"] > 0
    assert "anthropic-version" in route.calls[1].request.headers
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 42, 14)
    # claude-haiku-4-5 from the price table: $1 per million input tokens, $5 output.
    assert usage.cost == pytest.approx((42 * 1 + 14 * 5) / 1_000_000)


def test_on_gemini_by_pocketflow_toml_deny_once_then_approve(
    document: Path, vendor_http: respx.MockRouter
) -> None:
    Path("pocketflow.toml").write_text('llm = "gemini:gemini-2.5-flash"\n')
    route = vendor_http.post(GEMINI_URL).mock(
        side_effect=[gemini_reply("Otters nap."), gemini_reply("Otters hold hands asleep.")]
    )
    shared, usage = run_flow(document)
    assert (shared["outcome"], shared["summary"]) == ("approved", "Otters hold hands asleep.")
    assert shared["attempts"] == 2
    assert route.call_count == 2
    body = sent(route, 1)
    assert body == {"contents": [{"role": "user", "parts": [{"text": f"Summarize: {DOCUMENT}"}]}]}
    assert route.calls[1].request.headers["x-goog-api-key"] == "AIza-test-gemini"
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 38, 10)
    # gemini-2.5-flash from the price table: $0.30 per million input tokens, $2.50 output.
    assert usage.cost == pytest.approx((38 * 0.30 + 10 * 2.50) / 1_000_000)


def test_vendor_switched_by_pocketflow_toml_alone(
    document: Path, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    pocketflow_env.delenv("POCKETFLOW_FEEDBACK")
    openai_route = vendor_http.post(OPENAI_URL).mock(return_value=openai_reply("From OpenAI."))
    anthropic_route = vendor_http.post(ANTHROPIC_URL).mock(
        return_value=anthropic_reply("From Anthropic.")
    )
    config = Path("pocketflow.toml")

    config.write_text('llm = "openai:gpt-4o-mini"\nfeedback = "auto"\n')
    first, _ = run_flow(document)
    config.write_text(
        'llm = "smart"\nfeedback = "auto"\n[aliases]\nsmart = "anthropic:claude-haiku-4-5"\n'
    )
    from pocketflow.runtime import reset_runtime

    reset_runtime()  # a config file is read once per process; a new run reads it again
    second, _ = run_flow(document)

    assert (first["summary"], second["summary"]) == ("From OpenAI.", "From Anthropic.")
    assert (openai_route.call_count, anthropic_route.call_count) == (1, 1)


def test_vendor_switched_by_pocketflow_llm_alone(
    document: Path, pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    vendor_http.post(OPENAI_URL).mock(return_value=openai_reply("From OpenAI."))
    vendor_http.post(ANTHROPIC_URL).mock(return_value=anthropic_reply("From Anthropic."))
    vendor_http.post(GEMINI_URL).mock(return_value=gemini_reply("From Gemini."))
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "auto")
    summaries = []
    for model in ("openai:gpt-4o-mini", "anthropic:claude-haiku-4-5", "gemini:gemini-2.5-flash"):
        pocketflow_env.setenv("POCKETFLOW_LLM", model)
        shared, _ = run_flow(document)
        summaries.append(shared["summary"])
    assert summaries == ["From OpenAI.", "From Anthropic.", "From Gemini."]


def test_console_feedback_through_standard_input(tmp_path: Path) -> None:
    result = run_example(
        "summarize_then_verify", "--feedback", "console", cwd=tmp_path, stdin="deny\napprove\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Summary (approved after 2 attempts):" in result.stdout


def test_console_feedback_at_end_of_input_says_what_to_do(tmp_path: Path) -> None:
    result = run_example("summarize_then_verify", "--feedback", "console", cwd=tmp_path)
    assert result.returncode == 1
    assert "POCKETFLOW_FEEDBACK=auto" in result.stderr
