"""The seed program, unchanged, on Claude; and switched between vendors by
configuration alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
from anthropic_fakes import Runner, message_json

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    call_llm_async,
    gather_user_feedback,
    read_file_async,
)

DOCUMENT = "PocketFlow is a small engine. It runs nodes in flows. Plugins add vendors."
OPENAI_URL = "https://api.openai.com/v1/chat/completions"


class SummarizeThenVerify(AsyncNode):
    async def prep_async(self, shared: dict[str, Any]) -> str:
        return await read_file_async(shared["doc_path"])

    async def exec_async(self, text: str) -> str:
        return await call_llm_async(f"Summarize: {text}")

    async def post_async(self, shared: dict[str, Any], prep_res: str, exec_res: str) -> str:
        decision = await gather_user_feedback(exec_res)
        if decision == "approve":
            shared["summary"] = exec_res
            return "approve"
        return "deny"


def run_seed(run: Any, doc_path: Path) -> tuple[Any, dict[str, Any]]:
    shared: dict[str, Any] = {"doc_path": str(doc_path)}
    action = run(AsyncFlow(start=SummarizeThenVerify()).run_async(shared))
    return action, shared


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "doc.txt"
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


def test_the_seed_program_runs_on_claude(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, document: Path, run: Runner
) -> None:
    anthropic_env.setenv("POCKETFLOW_FEEDBACK", "auto")
    messages_api.respond(json=message_json("A small engine that runs nodes in flows."))

    action, shared = run_seed(run, document)

    assert action == "approve"
    assert shared["summary"] == "A small engine that runs nodes in flows."
    body = json.loads(messages_api.calls.last.request.content)
    assert body["messages"] == [{"role": "user", "content": f"Summarize: {DOCUMENT}"}]
    assert body["model"] == "claude-haiku-4-5"


def test_the_seed_program_on_claude_keeps_no_denied_summary(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, document: Path, run: Runner
) -> None:
    anthropic_env.setenv("POCKETFLOW_FEEDBACK", "auto:deny")
    messages_api.respond(json=message_json("A summary nobody wants."))

    action, shared = run_seed(run, document)

    assert action == "deny"
    assert "summary" not in shared


def chat_completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26},
    }


def test_the_same_flow_switches_vendor_by_configuration_alone(
    pocketflow_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    document: Path,
    tmp_path: Path,
    run: Runner,
) -> None:
    pytest.importorskip(
        "pocketflow_openai.provider",
        reason="the openai: provider (pocketflow-openai) is not written yet",
    )
    pocketflow_env.setenv("OPENAI_API_KEY", "sk-openai-test")
    pocketflow_env.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "auto")
    openai_route = vendor_http.post(OPENAI_URL).respond(json=chat_completion("Summary by GPT."))
    claude_route = vendor_http.post("https://api.anthropic.com/v1/messages").respond(
        json=message_json("Summary by Claude.")
    )
    summaries = []
    for model in ("openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"):
        project = tmp_path / model.partition(":")[0]
        project.mkdir()
        (project / "pocketflow.toml").write_text(f'llm = "{model}"\n')
        pocketflow_env.chdir(project)

        _, shared = run_seed(run, document)
        summaries.append(shared["summary"])

    assert summaries == ["Summary by GPT.", "Summary by Claude."]
    assert (openai_route.call_count, claude_route.call_count) == (1, 1)
