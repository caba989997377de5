"""What the review page's tests share: the token, two small flows that ask a person, and
readers of the answer form. Importable because ``conftest.py`` puts this folder on
``sys.path``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pocketflow import AsyncFlow, AsyncNode, call_llm_async, request_feedback

TOKEN = "review-token-for-tests-0123456789"


class Draft(AsyncNode):
    """Writes the draft with the LLM: a committed step that spends tokens."""

    async def exec_async(self, prep_res: Any) -> str:
        return await call_llm_async("Write the draft")

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: str) -> str:
        shared["draft"] = exec_res
        return "default"


class Ask(AsyncNode):
    """Asks a person about the draft (``inbox``: the run stops until they answer).

    "deny" asks again about the same draft: the run waits on a new question."""

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        feedback = await request_feedback(shared["draft"], audience=shared.get("audience"))
        shared["verdict"] = feedback.decision
        shared["comment"] = feedback.comment
        return feedback.decision


def drafting_flow() -> AsyncFlow:
    """``AsyncFlow(start=Draft)``: draft with the LLM, then ask."""
    draft, ask = Draft(), Ask()
    draft >> ask
    ask - "deny" >> ask
    return AsyncFlow(start=draft)


def asking_flow() -> AsyncFlow:
    """``AsyncFlow(start=Ask)``: ask about the draft in ``shared``."""
    ask = Ask()
    ask - "deny" >> ask
    return AsyncFlow(start=ask)


Runner = Callable[..., dict[str, Any]]
"""``run_flow(run_id, flow=drafting_flow, **shared)``."""


def csrf_of(page: str) -> str:
    """The CSRF value of the answer form on ``page``."""
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def key_of(page: str) -> str:
    """The question key the answer form on ``page`` carries."""
    marker = 'name="key" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
