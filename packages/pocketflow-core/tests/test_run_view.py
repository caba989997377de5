"""What ``pocketflow run`` shows while the flow runs: plain lines, a live panel, or nothing."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from pocketflow.cli import main
from pocketflow.runs.live import run_view

FLOW_MODULE = """
from pocketflow import AsyncFlow, AsyncNode, AsyncParallelBatchNode, call_llm_async

class Chapters(AsyncParallelBatchNode):
    async def prep_async(self, shared):
        return shared["chapters"]
    async def exec_async(self, chapter):
        return await call_llm_async(f"Summarize {chapter}")
    async def post_async(self, shared, prep_res, summaries):
        shared["summaries"] = summaries
        return "join"

class Join(AsyncNode):
    async def post_async(self, shared, prep_res, exec_res):
        shared["joined"] = " / ".join(shared["summaries"])

def build():
    chapters = Chapters()
    chapters - "join" >> Join()
    return AsyncFlow(start=chapters)
"""

SHARED = '{"chapters": ["one", "two", "three"]}'


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a person's shell is."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def project(pocketflow_env: pytest.MonkeyPatch) -> Path:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    Path("book.py").write_text(FLOW_MODULE)
    return Path.cwd()


def test_off_a_terminal_each_step_and_batch_progress_is_a_plain_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "book:build", "--shared", SHARED, "--run-id", "v1"]) == 0
    captured = capsys.readouterr()
    progress = captured.err.splitlines()
    assert progress == [
        "  Chapters: 1/3 items",
        "  Chapters: 2/3 items",
        "  Chapters: 3/3 items",
        "step 1: Chapters -> join | 3 LLM call(s), tokens 6 in / " + progress[3].split(" in / ")[1],
        "step 2: Join -> default | " + progress[4].split(" | ")[1],
    ]
    assert progress[3].endswith(", cost unknown")
    assert "outcome: None" in captured.out  # the result stays on stdout


def test_quiet_shows_no_progress(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "book:build", "--shared", SHARED, "--run-id", "v2", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_on_a_terminal_a_live_panel_shows_steps_calls_tokens_cost_and_batches(
    project: Path,
) -> None:
    from book import build  # type: ignore[import-not-found]

    terminal = Terminal()
    seen: list[str] = []

    async def run() -> None:
        with run_view("auto", terminal) as view:
            assert view is not None
            original = view.changed

            def snapshot(line: str | None) -> None:
                original(line)
                if view.batches:  # a batch in flight: what the panel shows then
                    seen.append(view.totals())

            view.changed = snapshot  # type: ignore[method-assign]
            await build().run_async({"chapters": ["one", "two", "three"]})

    asyncio.run(run())
    panel = terminal.getvalue()
    assert "\x1b[" in panel  # drawn with terminal control codes, in place
    for words in ("running", "steps done", "calls in flight", "so far", "2", "cost unknown"):
        assert words in panel
    assert "3 LLM call(s), tokens 6 in" in panel
    assert seen  # the batch was on the panel while it ran


def test_the_view_stops_observing_when_the_run_ends(project: Path) -> None:
    from pocketflow import observers
    from pocketflow.plugins import get_plugin_manager

    with run_view("plain", io.StringIO()):
        assert observers.active
    assert not get_plugin_manager().observes_nodes()
    assert not observers.active
