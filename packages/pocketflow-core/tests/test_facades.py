"""The facades through the built-in providers: offline LLM, auto and llm-judge feedback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pocketflow import (
    AsyncFlow,
    Flow,
    Message,
    Node,
    call_llm,
    call_llm_async,
    complete_async,
    gather_user_feedback,
    read_file_async,
    request_feedback,
    stream_llm_async,
    track_usage,
)
from pocketflow.errors import ConfigError, ProviderNotFoundError
from pocketflow.offline import Script

ScriptFactory = Callable[..., Script]


def test_offline_summary_is_labelled_and_short(pocketflow_env: pytest.MonkeyPatch) -> None:
    text = "First point here. " + "Filler sentence that goes on. " * 40
    summary = asyncio.run(call_llm_async(f"Summarize: {text}", model="offline:summarize"))
    assert summary.startswith("[offline summary] First point here.")
    assert len(summary.split()) < 70


def test_offline_usage_counts_words(pocketflow_env: pytest.MonkeyPatch) -> None:
    response = asyncio.run(complete_async("three small words", model="offline:echo"))
    assert (response.usage.input_tokens, response.usage.output_tokens) == (3, 5)
    assert (response.provider, response.model, response.finish_reason) == (
        "offline",
        "echo",
        "stop",
    )


def test_scripted_replies_come_in_turn_and_the_last_repeats(llm_script: ScriptFactory) -> None:
    llm_script(["one", "two"])

    async def three() -> list[str]:
        return [await call_llm_async("q") for _ in range(3)]

    assert asyncio.run(three()) == ["one", "two", "two"]


def test_scripted_rules_match_the_prompt(llm_script: ScriptFactory) -> None:
    llm_script(["fallback"], rules={r"capital of France": "Paris"})
    assert asyncio.run(call_llm_async("What is the capital of France?")) == "Paris"
    assert asyncio.run(call_llm_async("Something else")) == "fallback"


def test_script_from_the_config_file(pocketflow_env: pytest.MonkeyPatch) -> None:
    Path("pocketflow.toml").write_text(
        'llm = "offline:scripted"\n[providers.offline]\nreplies = ["from the file"]\n'
    )
    assert asyncio.run(call_llm_async("q")) == "from the file"


def test_unscripted_model_says_how_to_script_it(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"offline:scripted has no script: set reply, replies"):
        asyncio.run(call_llm_async("q", model="offline:scripted"))


def test_unknown_provider_lists_the_installed_ones(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProviderNotFoundError, match=r"No LLM provider 'nope' .*offline"):
        asyncio.run(call_llm_async("q", model="nope:model"))


def test_model_without_a_colon_is_explained(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        ConfigError, match=r"'gpt-4o' is not a model string: write it as provider:model"
    ):
        asyncio.run(call_llm_async("q", model="gpt-4o"))


def test_messages_and_system_reach_the_provider(llm_script: ScriptFactory) -> None:
    script = llm_script(["ok"])
    asyncio.run(
        call_llm_async(
            [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                Message("assistant", "Hello"),
                {"role": "user", "content": "Summarize"},
            ],
            system="You are a summarizer.",
            temperature=0.2,
            max_tokens=50,
            stop="END",
            seed=7,
            top_p=0.9,
        )
    )
    (request,) = script.requests
    assert request.system == "You are a summarizer.\n\nBe brief."
    assert [m.role for m in request.messages] == ["user", "assistant", "user"]
    assert (request.temperature, request.max_tokens, request.stop, request.seed) == (
        0.2, 50, ("END",), 7,
    )  # fmt: skip
    assert request.options == {"top_p": 0.9}


def test_a_message_without_content_is_rejected(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="with 'role' and 'content'"):
        asyncio.run(call_llm_async([{"role": "user"}], model="offline:echo"))


def test_stream_yields_chunks_then_keeps_usage(pocketflow_env: pytest.MonkeyPatch) -> None:
    async def collect() -> tuple[list[str], object]:
        stream = stream_llm_async("a b", model="offline:echo")
        chunks = [chunk async for chunk in stream]
        return chunks, stream.response

    chunks, response = asyncio.run(collect())
    assert "".join(chunks) == "[offline echo] a b"
    assert response is not None and response.usage.output_tokens == 4  # type: ignore[attr-defined]


def test_sync_twin_works_without_a_loop(pocketflow_env: pytest.MonkeyPatch) -> None:
    assert call_llm("hello", model="offline:echo") == "[offline echo] hello"


def test_sync_twin_works_in_a_sync_node_of_an_async_flow(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    class Ask(Node):
        def exec(self, prep_res: object) -> str:
            return call_llm("from a sync node", model="offline:echo")

        def post(self, shared: dict[str, Any], prep_res: object, exec_res: str) -> None:
            shared["answer"] = exec_res

    shared: dict[str, Any] = {}
    asyncio.run(AsyncFlow(start=Ask()).run_async(shared))
    assert shared["answer"] == "[offline echo] from a sync node"


def test_sync_twin_counts_in_the_callers_usage(pocketflow_env: pytest.MonkeyPatch) -> None:
    class Ask(Node):
        def exec(self, prep_res: object) -> str:
            return call_llm("two words", model="offline:echo")

    with track_usage() as usage:
        Flow(start=Ask()).run({})
    assert usage.calls == 1
    assert usage.input_tokens == 2


def test_auto_feedback_approves_by_default(pocketflow_env: pytest.MonkeyPatch) -> None:
    assert asyncio.run(gather_user_feedback("text", provider="auto")) == "approve"


def test_auto_feedback_follows_its_sequence(pocketflow_env: pytest.MonkeyPatch) -> None:
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "auto:deny,approve")

    async def three() -> list[str]:
        return [await gather_user_feedback("text") for _ in range(3)]

    assert asyncio.run(three()) == ["deny", "approve", "approve"]


def test_auto_feedback_rejects_an_unknown_verdict(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="'maybe' is not a verdict; use approve or deny"):
        asyncio.run(gather_user_feedback("text", provider="auto:maybe"))


def test_unknown_feedback_provider_lists_the_installed(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProviderNotFoundError, match=r"No feedback provider 'nobody'.*auto"):
        asyncio.run(gather_user_feedback("text", provider="nobody"))


def test_llm_judge_approves_with_its_reason(llm_script: ScriptFactory) -> None:
    script = llm_script(["APPROVE\nIt is faithful and short."])
    feedback = asyncio.run(request_feedback("A summary.", provider="llm-judge"))
    assert (feedback.decision, feedback.comment) == ("approve", "It is faithful and short.")
    assert "Rubric:" in script.requests[0].prompt
    assert "A summary." in script.requests[0].prompt


def test_llm_judge_denies_with_its_reason(llm_script: ScriptFactory) -> None:
    llm_script(["**DENY** - it invents a date."])
    feedback = asyncio.run(request_feedback("A summary.", provider="llm-judge"))
    assert feedback.decision == "deny"
    assert "invents a date" in (feedback.comment or "")


def test_llm_judge_uses_the_configured_model_and_rubric(
    llm_script: ScriptFactory, pocketflow_env: pytest.MonkeyPatch
) -> None:
    Path("pocketflow.toml").write_text(
        "[feedback_providers.llm-judge]\n"
        'model = "offline:scripted"\nrubric = "Must mention cats."\n'
    )
    script = llm_script(["DENY\nNo cats."])
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")  # the judge must use its own model
    feedback = asyncio.run(request_feedback("Dogs.", provider="llm-judge"))
    assert feedback.decision == "deny"
    assert "Must mention cats." in script.requests[0].prompt


def test_llm_judge_counts_an_unclear_answer_as_denial(llm_script: ScriptFactory) -> None:
    llm_script(["I think it is fine?"])
    feedback = asyncio.run(request_feedback("A summary.", provider="llm-judge"))
    assert feedback.decision == "deny"
    assert (feedback.comment or "").startswith("unclear verdict")


def test_unknown_scheme_names_the_installed_readers(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProviderNotFoundError, match="No file reader handles 's3' locations"):
        asyncio.run(read_file_async("s3://bucket/key"))


def test_import_pocketflow_imports_no_vendor_sdk() -> None:
    probe = (
        "import sys, pocketflow\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('openai', 'anthropic', 'httpx', 'httpx2', 'aiofiles', 'respx', 'pytest')]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
