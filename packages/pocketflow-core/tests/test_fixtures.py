"""The pytest fixtures users get from pocketflow-core, used as a user's test would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pocketflow import AsyncFlow, AsyncNode, call_llm_async, gather_user_feedback
from pocketflow.calls import LLMCallRecord
from pocketflow.offline import Script


class Draft(AsyncNode):
    """Drafts with the LLM until the feedback approves."""

    async def exec_async(self, prep_res: Any) -> str:
        return await call_llm_async("Summarize: cats purr.")

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: str) -> str:
        shared.setdefault("drafts", []).append(exec_res)
        if await gather_user_feedback(exec_res) == "approve":
            return "done"
        return "again"


def run_drafts() -> dict[str, Any]:
    draft = Draft()
    draft - "again" >> draft
    draft - "done" >> AsyncNode()
    shared: dict[str, Any] = {}
    asyncio.run(AsyncFlow(start=draft).run_async(shared))
    return shared


def test_scripted_replies_and_verdicts_drive_a_flow(
    llm_script: Callable[..., Script], feedback_script: Callable[..., None]
) -> None:
    script = llm_script(["first draft", "second draft"])
    feedback_script("deny", "approve")
    assert run_drafts()["drafts"] == ["first draft", "second draft"]
    assert [request.prompt for request in script.requests] == ["Summarize: cats purr."] * 2


def test_llm_calls_records_every_call(
    llm_script: Callable[..., Script],
    feedback_script: Callable[..., None],
    llm_calls: list[LLMCallRecord],
) -> None:
    llm_script(["one two", "three"])
    feedback_script("deny", "approve")
    run_drafts()
    assert [record.response.text for record in llm_calls if record.response] == [
        "one two",
        "three",
    ]
    assert [record.model for record in llm_calls] == ["offline:scripted"] * 2
