"""The SummarizeThenVerify flow, as its user writes it: no vendor named anywhere.

Which LLM summarises and who verifies is configuration (POCKETFLOW_LLM,
POCKETFLOW_FEEDBACK, pocketflow.toml), never code.
"""

from __future__ import annotations

from typing import Any

from pocketflow import AsyncFlow, AsyncNode, call_llm_async, gather_user_feedback, read_file_async


class SummarizeThenVerify(AsyncNode):
    """Read the document, summarise it, and ask for approval; "deny" comes back here."""

    async def prep_async(self, shared: dict[str, Any]) -> str:
        return await read_file_async(shared["doc_path"])

    async def exec_async(self, text: str) -> str:
        return await call_llm_async(f"Summarize: {text}")

    async def post_async(self, shared: dict[str, Any], prep_res: str, exec_res: str) -> str:
        shared["attempts"] = shared.get("attempts", 0) + 1
        decision = await gather_user_feedback(exec_res)
        if decision == "approve":
            shared["summary"] = exec_res
            return "approve"
        shared["last_draft"] = exec_res
        if shared["attempts"] >= shared.get("max_attempts", 3):
            return "give_up"
        return "deny"


class Finalize(AsyncNode):
    """The summary was approved."""

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["outcome"] = "approved"


class GiveUp(AsyncNode):
    """Every draft was denied: keep the last one, marked as not approved."""

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["outcome"] = "not approved"


def build_flow() -> AsyncFlow:
    """SummarizeThenVerify, looping on "deny" until approved or out of attempts."""
    summarize = SummarizeThenVerify()
    summarize - "approve" >> Finalize()
    summarize - "deny" >> summarize
    summarize - "give_up" >> GiveUp()
    return AsyncFlow(start=summarize)
