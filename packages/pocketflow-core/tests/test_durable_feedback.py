"""Durable human-in-the-loop: inbox questions, answers, resumes, deadlines, the hook.

The seed's SummarizeThenVerify node, unchanged, runs durably with ``inbox`` feedback:
the run stops on its question, an answer is given through the public API or the CLI,
and the run resumes with the draft the person saw (its LLM call replayed, not sent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    call_llm_async,
    gather_user_feedback,
    hookimpl,
    read_file_async,
    request_feedback,
)
from pocketflow.calls import LLMCallRecord
from pocketflow.cli import main
from pocketflow.errors import FeedbackError, FlowSuspended, QuestionNotWaiting, RunNotFoundError
from pocketflow.offline import Script
from pocketflow.plugins import get_plugin_manager
from pocketflow.runs import InvalidAnswer, answer, answer_sync, open_store
from pocketflow.runs.answers import apply_expired_defaults
from pocketflow.runs.settings import run_settings
from pocketflow.runs.worker import RunWorker

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")


class SummarizeThenVerify(AsyncNode):
    """The seed program's node, as DESIGN.md has it."""

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


FLOW_FILE = """
from pocketflow import AsyncFlow
from test_module import SummarizeThenVerify

def build():
    node = SummarizeThenVerify()
    node - "deny" >> node
    return AsyncFlow(start=node)
"""


def build() -> AsyncFlow:
    node = SummarizeThenVerify()
    node - "deny" >> node
    return AsyncFlow(start=node)


@pytest.fixture
def inbox(
    pocketflow_env: pytest.MonkeyPatch, llm_script: Callable[..., Script], tmp_path: Path
) -> dict[str, Any]:
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "inbox")
    llm_script(["first draft", "second draft"])
    document = tmp_path / "doc.txt"
    document.write_text("Owls fly at night.")
    return {"doc_path": str(document)}


def run(shared: dict[str, Any], run_id: str = "doc-1") -> Any:
    return asyncio.run(build().run_async(shared, run_id=run_id))


def test_a_denied_then_approved_review_resumes_twice_and_pays_for_two_calls(
    inbox: dict[str, Any], llm_calls: list[LLMCallRecord]
) -> None:
    with pytest.raises(FlowSuspended) as waiting:
        run(dict(inbox))
    message = str(waiting.value)
    assert "Run 'doc-1' is waiting for a person's verdict at step 0 (0:SummarizeThenVerify)" in (
        message
    )
    assert "'first draft'" in message
    assert "pocketflow runs answer doc-1 approve" in message
    assert waiting.value.question.content == "first draft"
    asyncio.run(answer("doc-1", "deny", comment="too short"))
    with pytest.raises(FlowSuspended) as again:
        run({})
    assert again.value.question.content == "second draft"
    answer_sync("doc-1", "approve")
    shared: dict[str, Any] = {}
    assert run(shared) == "approve"
    assert shared["summary"] == "second draft"
    assert len(llm_calls) == 2  # each draft was paid for once, across three resumes


def test_running_a_waiting_run_again_only_says_it_still_waits(
    inbox: dict[str, Any], llm_calls: list[LLMCallRecord]
) -> None:
    with pytest.raises(FlowSuspended):
        run(dict(inbox))
    shared: dict[str, Any] = {}
    with pytest.raises(FlowSuspended, match="first draft"):
        run(shared)
    assert shared["doc_path"] == inbox["doc_path"]
    assert len(llm_calls) == 1


class Stubborn(AsyncNode):
    """Catches every Exception and retries: a question must still stop the run."""

    def __init__(self) -> None:
        super().__init__(max_retries=3)

    async def exec_async(self, prep_res: Any) -> str:
        try:
            return await gather_user_feedback("Ship it?")
        except Exception:
            return "swallowed"

    async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> str:
        return "fell back"

    async def post_async(self, shared: dict[str, Any], prep_res: Any, verdict: str) -> None:
        shared["verdict"] = verdict


def test_the_stop_signal_passes_retries_fallbacks_and_except_exception(
    inbox: dict[str, Any],
) -> None:
    flow = AsyncFlow(start=Stubborn())
    with pytest.raises(FlowSuspended):
        asyncio.run(flow.run_async({}, run_id="stubborn"))
    answer_sync("stubborn", "approve")
    shared: dict[str, Any] = {}
    asyncio.run(flow.run_async(shared, run_id="stubborn"))
    assert shared["verdict"] == "approve"


def test_inbox_outside_a_durable_run_says_to_pass_a_run_id(inbox: dict[str, Any]) -> None:
    with pytest.raises(FeedbackError, match=r"run it with a run id .*run_id=\"doc-42\""):
        asyncio.run(build().run_async(dict(inbox)))


def test_bad_answers_say_what_is_valid_and_change_nothing(inbox: dict[str, Any]) -> None:
    with pytest.raises(FlowSuspended):
        run(dict(inbox))
    store = open_store("sqlite:///.pocketflow/runs.db")
    before = asyncio.run(store.questions(None))
    with pytest.raises(InvalidAnswer, match="'maybe' is not a verdict: answer approve or deny"):
        answer_sync("doc-1", "maybe")
    with pytest.raises(RunNotFoundError, match="No run 'nope'"):
        answer_sync("nope", "approve")
    answer_sync("doc-1", "approve")
    with pytest.raises(QuestionNotWaiting, match="the last one was answered \\('approve'\\)"):
        answer_sync("doc-1", "deny")
    run({})
    with pytest.raises(QuestionNotWaiting, match="Nothing was changed"):
        answer_sync("doc-1", "deny")
    after = asyncio.run(store.questions(None))
    assert [(q.status, q.decision) for q in after] == [("answered", "approve")]
    assert [q.status for q in before] == ["waiting"]


def test_runs_answer_and_runs_list_on_the_command_line(
    inbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FlowSuspended):
        run(dict(inbox), run_id="cli-1")
    assert main(["runs", "list", "--status", "waiting"]) == 0
    listed = capsys.readouterr().out
    assert "Waiting for an answer (pocketflow runs answer ID approve|deny):" in listed
    assert "cli-1" in listed and "ago: first draft" in listed
    assert main(["runs", "answer", "cli-1", "maybe"]) == 2
    assert "is not a verdict" in capsys.readouterr().err
    assert main(["runs", "answer", "cli-1", "deny", "--comment", "vague"]) == 0
    assert "cli-1: deny recorded. Resume it: pocketflow runs resume cli-1" in (
        capsys.readouterr().out
    )


class Deadline(AsyncNode):
    async def exec_async(self, prep_res: Any) -> str:
        verdict = await request_feedback("Publish?", expires_in=0.01, default="deny")
        return f"{verdict.decision}: {verdict.comment}"

    async def post_async(self, shared: dict[str, Any], prep_res: Any, outcome: str) -> None:
        shared["outcome"] = outcome


def test_an_expired_question_gets_its_default_recorded_as_such(inbox: dict[str, Any]) -> None:
    flow = AsyncFlow(start=Deadline())
    with pytest.raises(FlowSuspended, match=r"If nobody answers by .*'deny' applies"):
        asyncio.run(flow.run_async({}, run_id="late"))
    store = run_settings().store
    time.sleep(0.02)
    applied = asyncio.run(apply_expired_defaults(store))
    assert [(q.run_id, q.status, q.decision) for q in applied] == [("late", "expired", "deny")]
    shared: dict[str, Any] = {}
    asyncio.run(flow.run_async(shared, run_id="late"))
    assert shared["outcome"] == "deny: no answer before the deadline: the default applied"


def test_expires_in_without_a_default_is_refused(inbox: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="expires_in needs a positive duration and a default="):
        asyncio.run(request_feedback("x", expires_in=5))


def test_the_feedback_requested_hook_hears_of_each_question_once(inbox: dict[str, Any]) -> None:
    heard: list[Any] = []

    class Notifier:
        @hookimpl
        def feedback_requested(self, question: Any) -> None:
            heard.append(question)

    plugins = get_plugin_manager()
    plugins.add_plugin(Notifier(), "notifier", "test")
    try:
        with pytest.raises(FlowSuspended):
            run(dict(inbox), run_id="hooked")
        with pytest.raises(FlowSuspended):
            run({}, run_id="hooked")  # still waiting: not asked again
    finally:
        plugins.hooks.unregister(name="notifier")
    assert [(q.run_id, q.content) for q in heard] == [("hooked", "first draft")]


def test_a_worker_resumes_answered_runs_and_leaves_waiting_ones(
    inbox: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "test_module.py").write_text(
        "from test_durable_feedback import SummarizeThenVerify\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    (tmp_path / "review_flow.py").write_text(FLOW_FILE)
    target = f"{tmp_path / 'review_flow.py'}:build"
    for run_id in ("w-1", "w-2"):
        with pytest.raises(FlowSuspended):
            asyncio.run(build().run_async(dict(inbox), run_id=run_id, target=target))
    answer_sync("w-1", "approve")
    lines: list[str] = []
    worker = RunWorker(run_settings(), concurrency=2, poll=0.01, report=lines.append)
    assert asyncio.run(worker.run(asyncio.Event(), once=True)) == 1
    assert lines == [f"w-1: resuming {target}", "w-1: done"]
    done: dict[str, Any] = {}
    run(done, run_id="w-1")
    assert done["summary"] == "first draft"
