"""The seed program, unchanged, on ``openai:gpt-4o-mini`` (vendor HTTP mocked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
from openai_fakes import CHAT_URL, Runner, chat_completion

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    call_llm_async,
    gather_user_feedback,
    read_file_async,
)

DOCUMENT = "PocketFlow is a tiny engine. It runs nodes in flows. Plugins add vendors."


class SummarizeThenVerify(AsyncNode):
    """The design's example node, as written there."""

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


def test_the_seed_program_summarizes_and_keeps_the_approved_summary(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    tmp_path: Path,
) -> None:
    openai_env.setenv("POCKETFLOW_FEEDBACK", "auto")
    document = tmp_path / "doc.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion("A tiny flow engine."))
    shared = {"doc_path": str(document)}

    run(AsyncFlow(start=SummarizeThenVerify()).run_async(shared))

    assert shared["summary"] == "A tiny flow engine."
    sent = json.loads(route.calls.last.request.content)
    assert sent["messages"] == [{"role": "user", "content": f"Summarize: {DOCUMENT}"}]
