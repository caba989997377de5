"""The flow, batch item and LLM call start hooks, seen by an installed plugin."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
    BatchNode,
    Flow,
    Node,
    call_llm_async,
)
from pocketflow.plugins import get_plugin_manager, reset_plugins
from pocketflow.runtime import reset_runtime

RECORDER = """
    import contextvars

    from pocketflow import hookimpl

    events = []
    current_item = contextvars.ContextVar("current_item", default=None)
    seen_items = []
    calls = []
    totals = []

    def name(node):
        return getattr(node, "name", type(node).__name__)

    @hookimpl
    def flow_started(flow, shared, run_id):
        events.append(("flow", name(flow), run_id))

    @hookimpl
    def flow_finished(flow, shared, action, error, run_id):
        failed = type(error).__name__ if error else None
        events.append(("/flow", name(flow), action, failed, run_id))

    @hookimpl
    def node_started(node, shared):
        events.append(("node", name(node)))

    @hookimpl
    def node_finished(node, shared, action, error):
        events.append(("/node", name(node)))

    @hookimpl
    def batch_item_started(node, index, item, total):
        totals.append(total)
        current_item.set((name(node), index))
        events.append(("item", name(node), index, item))

    @hookimpl
    def batch_item_finished(node, index, item, result, error):
        seen_items.append((current_item.get(), (name(node), index)))
        events.append(("/item", name(node), index, result, type(error).__name__ if error else None))

    @hookimpl
    def file_read_started(read):
        calls.append(("read", read.reader, read))

    @hookimpl
    def file_read_finished(read, text, error):
        calls.append(("/read", text, read))

    @hookimpl
    def feedback_started(request, provider):
        calls.append(("ask", provider, request))

    @hookimpl
    def feedback_finished(request, provider, feedback, error):
        calls.append(("/ask", feedback.decision, request))

    @hookimpl
    def llm_call_started(call):
        calls.append(("start", call.model, call.provider, call.request.model, call))

    @hookimpl
    def llm_call_finished(record):
        calls.append(("finish", record.model, record.call))
"""


@pytest.fixture
def recorder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pocketflow_env: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The recording plugin, installed as a distribution with a ``pocketflow`` entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "recorder.py").write_text(textwrap.dedent(RECORDER), encoding="utf-8")
    info = site / "recorder-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: recorder\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pocketflow]\nrecorder = recorder\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(__import__("sys").modules, "recorder", raising=False)
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    reset_plugins()
    reset_runtime()
    import recorder  # type: ignore[import-not-found]

    yield recorder
    reset_plugins()
    reset_runtime()


class Double(AsyncParallelBatchNode):
    name = "double"

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return [1, 2]

    async def exec_async(self, item: int) -> int:
        await asyncio.sleep(0)  # let the other item's task run in between
        return item * 2


class Ask(AsyncNode):
    name = "ask"

    async def exec_async(self, prep_res: Any) -> str:
        return await call_llm_async("hi")

    async def post_async(self, shared: Any, prep_res: Any, exec_res: str) -> str:
        return "done"


def nested_flow() -> AsyncFlow:
    inner = AsyncFlow(start=Double())
    inner.name = "inner"  # type: ignore[attr-defined]
    inner >> Ask()
    outer = AsyncFlow(start=inner)
    outer.name = "outer"  # type: ignore[attr-defined]
    return outer


def test_a_flow_run_reports_its_steps_and_parallel_items_in_order(recorder: Any) -> None:
    asyncio.run(nested_flow().run_async({}))
    events = recorder.events
    assert events[:3] == [("flow", "outer", None), ("node", "inner"), ("node", "double")]
    items = events[3:7]
    assert sorted(e for e in items if e[0] == "item") == [
        ("item", "double", 0, 1),
        ("item", "double", 1, 2),
    ]
    assert sorted(e for e in items if e[0] == "/item") == [
        ("/item", "double", 0, 2, None),
        ("/item", "double", 1, 4, None),
    ]
    assert events[7:] == [
        ("/node", "double"),
        ("/node", "inner"),
        ("node", "ask"),
        ("/node", "ask"),
        ("/flow", "outer", "done", None, None),
    ]


def test_each_parallel_item_is_reported_inside_its_own_task(recorder: Any) -> None:
    asyncio.run(nested_flow().run_async({}))
    # What item_started put in a context variable is what item_finished sees: each
    # item ran in its own context, so interleaved items did not overwrite each other.
    assert sorted(recorder.seen_items) == [
        (("double", 0), ("double", 0)),
        (("double", 1), ("double", 1)),
    ]
    assert recorder.totals == [2, 2]  # each item knows how many the batch has


def test_parallel_batch_flow_items_are_reported_with_their_params(recorder: Any) -> None:
    class Params(AsyncParallelBatchFlow):
        name = "params"

        async def prep_async(self, shared: Any) -> list[dict[str, int]]:
            return [{"k": 0}, {"k": 1}]

    class Show(AsyncNode):
        name = "show"

        async def prep_async(self, shared: Any) -> Any:
            shared.setdefault("k", []).append(self.params["k"])

    asyncio.run(Params(start=Show()).run_async({}))
    started = sorted(e for e in recorder.events if e[0] == "item")
    assert started == [("item", "params", 0, {"k": 0}), ("item", "params", 1, {"k": 1})]
    assert sorted(recorder.seen_items) == [
        (("params", 0), ("params", 0)),
        (("params", 1), ("params", 1)),
    ]


def test_sync_batch_items_and_failures_are_reported(recorder: Any) -> None:
    class Halve(BatchNode):
        name = "halve"

        def prep(self, shared: Any) -> list[int]:
            return [4, 0]

        def exec(self, item: int) -> float:
            return 8 / item

    with pytest.raises(ZeroDivisionError):
        Flow(start=Halve()).run({})
    assert recorder.events == [
        ("flow", "Flow", None),
        ("node", "halve"),
        ("item", "halve", 0, 4),
        ("/item", "halve", 0, 2.0, None),
        ("item", "halve", 1, 0),
        ("/item", "halve", 1, None, "ZeroDivisionError"),
        ("/node", "halve"),
        ("/flow", "Flow", None, "ZeroDivisionError", None),
    ]


def test_llm_call_start_is_paired_with_its_finish_record(recorder: Any) -> None:
    asyncio.run(nested_flow().run_async({}))
    (start, finish) = recorder.calls
    assert start[:4] == ("start", "offline:echo", "offline", "echo")
    assert start[4].request.messages[0].content == "hi"
    assert finish[:2] == ("finish", "offline:echo")
    assert finish[2] is start[4]


def test_a_durable_run_reports_its_run_id(recorder: Any) -> None:
    class Step(Node):
        name = "step"

        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> str:
            return "ok"

    flow = Flow(start=Step())
    flow.name = "durable"  # type: ignore[attr-defined]
    flow.run({}, run_id="run-17")
    assert recorder.events == [
        ("flow", "durable", "run-17"),
        ("node", "step"),
        ("/node", "step"),
        ("/flow", "durable", "ok", None, "run-17"),
    ]


def test_a_durable_parallel_batch_reports_each_item(recorder: Any) -> None:
    asyncio.run(nested_flow().run_async({}, run_id="run-items"))
    started = sorted(e for e in recorder.events if e[0] == "item")
    assert started == [("item", "double", 0, 1), ("item", "double", 1, 2)]
    assert recorder.totals == [2, 2]
    assert sorted(recorder.seen_items) == [
        (("double", 0), ("double", 0)),
        (("double", 1), ("double", 1)),
    ]
    assert recorder.events[0] == ("flow", "outer", "run-items")
    assert recorder.events[-1] == ("/flow", "outer", "done", None, "run-items")


def test_file_reads_and_feedback_are_reported_in_pairs(recorder: Any, tmp_path: Path) -> None:
    from pocketflow import gather_user_feedback, read_file_async

    document = tmp_path / "doc.txt"
    document.write_text("hello", encoding="utf-8")

    async def scenario() -> str:
        text = await read_file_async(document)
        return await gather_user_feedback(text, provider="auto:deny")

    assert asyncio.run(scenario()) == "deny"
    read, read_end, ask, ask_end = recorder.calls
    reader = get_plugin_manager().reader_for_scheme["file"]
    assert (read[:2], read_end[:2]) == (("read", reader), ("/read", "hello"))
    assert read_end[2] is read[2] and read[2].location == str(document)
    assert (ask[:2], ask_end[:2]) == (("ask", "auto"), ("/ask", "deny"))
    assert ask_end[2] is ask[2] and ask[2].content == "hello"
