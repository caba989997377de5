"""Programs written for PocketFlow 0.0.3, run unchanged on this engine."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
    BatchFlow,
    BatchNode,
    Flow,
    Node,
)

# --- Retry with fallback --------------------------------------------------------------


class CallFlakyService(Node):
    def prep(self, shared):  # type: ignore[no-untyped-def]  # PocketFlow style, untyped
        return shared["question"]

    def exec(self, question):  # type: ignore[no-untyped-def]
        self.attempts = getattr(self, "attempts", 0) + 1
        raise ConnectionError(f"service down (attempt {self.attempts})")

    def exec_fallback(self, prep_res, exc):  # type: ignore[no-untyped-def]
        return f"cached answer to {prep_res!r} after: {exc}"

    def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared["answer"] = exec_res
        return "answered"


def test_retry_with_fallback() -> None:
    shared = {"question": "why?"}
    action = CallFlakyService(max_retries=3, wait=0).run(shared)
    assert action == "answered"
    assert shared["answer"] == "cached answer to 'why?' after: service down (attempt 3)"


# --- Batch flow over files ------------------------------------------------------------


class LoadFile(Node):
    def prep(self, shared):  # type: ignore[no-untyped-def]
        return Path(shared["folder"]) / self.params["filename"]

    def exec(self, path):  # type: ignore[no-untyped-def]
        return path.read_text()

    def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared.setdefault("texts", {})[self.params["filename"]] = exec_res


class CountWords(Node):
    def prep(self, shared):  # type: ignore[no-untyped-def]
        return shared["texts"][self.params["filename"]]

    def exec(self, text):  # type: ignore[no-untyped-def]
        return len(text.split())

    def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared.setdefault("counts", {})[self.params["filename"]] = exec_res


class EachFile(BatchFlow):
    def prep(self, shared):  # type: ignore[no-untyped-def]
        return [{"filename": path.name} for path in sorted(Path(shared["folder"]).iterdir())]


def test_batch_flow_over_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one two three")
    (tmp_path / "b.txt").write_text("four five")
    load = LoadFile()
    load >> CountWords()
    shared: dict[str, Any] = {"folder": str(tmp_path)}
    EachFile(start=Flow(start=load)).run(shared)
    assert shared["counts"] == {"a.txt": 3, "b.txt": 2}


class SplitText(BatchNode):
    def prep(self, shared):  # type: ignore[no-untyped-def]
        text = shared["text"]
        return [text[i : i + 5] for i in range(0, len(text), 5)]

    def exec(self, chunk):  # type: ignore[no-untyped-def]
        return chunk.upper()

    def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared["result"] = "".join(exec_res)


def test_batch_node_map_reduce() -> None:
    shared = {"text": "hello pocketflow"}
    Flow(start=SplitText()).run(shared)
    assert shared["result"] == "HELLO POCKETFLOW"


# --- Agent loop with branching --------------------------------------------------------


class Decide(Node):
    def prep(self, shared):  # type: ignore[no-untyped-def]
        return shared["notes"]

    def exec(self, notes):  # type: ignore[no-untyped-def]
        return "search" if len(notes) < 2 else "answer"

    def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared["decisions"].append(exec_res)
        return exec_res


class Search(Node):
    def exec(self, prep_res):  # type: ignore[no-untyped-def]
        return "a fact"

    def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared["notes"].append(exec_res)
        return "decide"


class Answer(Node):
    def prep(self, shared):  # type: ignore[no-untyped-def]
        return shared["notes"]

    def exec(self, notes):  # type: ignore[no-untyped-def]
        return f"answer from {len(notes)} notes"

    def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared["answer"] = exec_res


def build_agent() -> Flow:
    decide, search, answer = Decide(), Search(), Answer()
    decide - "search" >> search
    decide - "answer" >> answer
    search - "decide" >> decide
    return Flow(start=decide)


def test_agent_loop_with_branching() -> None:
    shared: dict[str, Any] = {"notes": [], "decisions": []}
    build_agent().run(shared)
    assert shared["decisions"] == ["search", "search", "answer"]
    assert shared["answer"] == "answer from 2 notes"


class AsyncDecide(AsyncNode):
    async def prep_async(self, shared):  # type: ignore[no-untyped-def]
        return shared["notes"]

    async def exec_async(self, notes):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        return "search" if len(notes) < 3 else "answer"

    async def post_async(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        return exec_res


class AsyncSearch(AsyncNode):
    async def exec_async(self, prep_res):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        return "an async fact"

    async def post_async(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared["notes"].append(exec_res)
        return "decide"


def test_async_agent_loop_mixing_async_and_sync_nodes() -> None:
    decide, search, answer = AsyncDecide(), AsyncSearch(), Answer()
    decide - "search" >> search
    decide - "answer" >> answer
    search - "decide" >> decide
    shared: dict[str, Any] = {"notes": []}
    asyncio.run(AsyncFlow(start=decide).run_async(shared))
    assert shared["answer"] == "answer from 3 notes"


# --- Parallel async batches -----------------------------------------------------------


class TranslateAll(AsyncParallelBatchNode):
    async def prep_async(self, shared):  # type: ignore[no-untyped-def]
        return shared["languages"]

    async def exec_async(self, language):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        return f"hello in {language}"

    async def post_async(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared["translations"] = exec_res


def test_parallel_batch_translation() -> None:
    shared = {"languages": ["fr", "de", "ja"]}
    asyncio.run(AsyncFlow(start=TranslateAll()).run_async(shared))
    assert shared["translations"] == ["hello in fr", "hello in de", "hello in ja"]


class Greet(AsyncNode):
    async def prep_async(self, shared):  # type: ignore[no-untyped-def]
        return self.params["name"]

    async def exec_async(self, name):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        return f"{self.params['greeting']}, {name}"

    async def post_async(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
        shared.setdefault("greetings", []).append(exec_res)


class GreetEveryone(AsyncParallelBatchFlow):
    async def prep_async(self, shared):  # type: ignore[no-untyped-def]
        return [{"name": name} for name in shared["names"]]


def test_parallel_batch_flow_with_flow_params() -> None:
    flow = GreetEveryone(start=Greet())
    flow.set_params({"greeting": "hi"})
    shared = {"names": ["ann", "bob"]}
    asyncio.run(flow.run_async(shared))
    assert sorted(shared["greetings"]) == ["hi, ann", "hi, bob"]


# --- Nested flows and the warnings PocketFlow programs see ----------------------------


def test_nested_flows_route_on_the_inner_flows_last_action() -> None:
    class Step(Node):
        def __init__(self, name: str, action: str | None = None) -> None:
            super().__init__()
            self.name, self.action = name, action

        def post(self, shared, prep_res, exec_res):  # type: ignore[no-untyped-def]
            shared.setdefault("trace", []).append(self.name)
            return self.action

    validate = Step("validate", "invalid")
    inner = Flow(start=validate)
    inner - "invalid" >> Step("report")
    inner - "valid" >> Step("publish")
    shared: dict[str, Any] = {}
    Flow(start=inner).run(shared)
    assert shared["trace"] == ["validate", "report"]


def test_dead_end_warning_text_is_pocketflows() -> None:
    node = CallFlakyService()
    node - "retry" >> CallFlakyService()
    with pytest.warns(UserWarning, match=r"^Flow ends: 'answered' not found in \['retry'\]$"):
        Flow(start=node).run({"question": "q"})
