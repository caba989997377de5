"""Durable runs through the public API: run_id=, resume, the journal, and the stores.

A "crash" here is an exception raised once from inside a node (the process goes on,
the run is left unfinished in the store); tests/test_durable_kill.py kills real
processes. Each test runs in the empty working directory of ``pocketflow_env``, so the
default store (``sqlite:///.pocketflow/runs.db``) is a fresh file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pocketflow import (
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
    Flow,
    Node,
    call_llm,
    call_llm_async,
    gather_user_feedback,
    read_file_async,
    stream_llm_async,
)
from pocketflow.calls import LLMCallRecord
from pocketflow.errors import (
    FlowChangedError,
    RunCancelledError,
    RunLeasedError,
    StateNotSerializable,
)

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")


class Crash(Exception):
    """Stands for the process dying at that point."""


class CrashOnce:
    """Raises Crash the first time ``at`` is reached, then never again."""

    def __init__(self, at: str | None = None) -> None:
        self.at = at

    def check(self, point: str) -> None:
        if point == self.at:
            self.at = None
            raise Crash(point)


@pytest.fixture
def offline(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    return pocketflow_env


class Count(AsyncNode):
    """Asks the LLM about step n, appends the answer, loops until n reaches ``until``."""

    def __init__(self, crash: CrashOnce, execs: list[int], until: int = 5) -> None:
        super().__init__()
        self.crash, self.execs, self.until = crash, execs, until

    async def prep_async(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    async def exec_async(self, n: int) -> str:
        self.execs.append(n)
        answer = await call_llm_async(f"step {n}")
        self.crash.check(f"exec {n}")
        return answer

    async def post_async(self, shared: dict[str, Any], n: int, answer: str) -> str:
        self.crash.check(f"post {n}")
        shared["n"] = n + 1
        shared.setdefault("answers", []).append(answer)
        return "again" if n + 1 < self.until else "done"


def counting_flow(crash: CrashOnce, execs: list[int], until: int = 5) -> AsyncFlow:
    node = Count(crash, execs, until)
    node - "again" >> node
    return AsyncFlow(start=node)


def run(flow: AsyncFlow, shared: dict[str, Any], run_id: str = "r", **options: Any) -> Any:
    return asyncio.run(flow.run_async(shared, run_id=run_id, **options))


EXPECTED = [f"[offline echo] step {n}" for n in range(5)]


def test_a_crashed_run_resumes_after_its_last_committed_step(
    offline: Any, llm_calls: list[LLMCallRecord]
) -> None:
    crash, execs = CrashOnce("exec 3"), list[int]()
    flow = counting_flow(crash, execs)
    first: dict[str, Any] = {"n": 0}
    with pytest.raises(Crash):
        run(flow, first)
    resumed: dict[str, Any] = {}
    assert run(flow, resumed) == "done"
    assert resumed == {"n": 5, "answers": EXPECTED}
    assert execs == [0, 1, 2, 3, 3, 4]  # committed steps never ran again
    # Step 3's call was answered and journaled before the crash: it is not sent again.
    assert [record.response.text for record in llm_calls if record.response] == EXPECTED


def test_the_exec_result_is_journaled_before_post(offline: Any) -> None:
    execs: list[int] = []
    flow = counting_flow(CrashOnce("post 2"), execs)
    with pytest.raises(Crash):
        run(flow, {"n": 0})
    shared: dict[str, Any] = {}
    run(flow, shared)
    assert execs == [0, 1, 2, 3, 4]
    assert shared["answers"] == EXPECTED


def test_a_finished_run_returns_its_outcome_and_state_without_running(offline: Any) -> None:
    execs: list[int] = []
    flow = counting_flow(CrashOnce(), execs)
    assert run(flow, {"n": 0}) == "done"
    again: dict[str, Any] = {"n": 99}
    assert run(flow, again) == "done"
    assert again == {"n": 5, "answers": EXPECTED}
    assert execs == [0, 1, 2, 3, 4]


def test_without_run_id_nothing_is_stored(offline: Any) -> None:
    shared: dict[str, Any] = {"n": 0}
    asyncio.run(counting_flow(CrashOnce(), []).run_async(shared))
    assert shared["n"] == 5
    assert not Path(".pocketflow").exists()


class SyncCount(Node):
    def __init__(self, crash: CrashOnce, execs: list[int]) -> None:
        super().__init__()
        self.crash, self.execs = crash, execs

    def prep(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    def exec(self, n: int) -> str:
        self.execs.append(n)
        answer = call_llm(f"step {n}")
        self.crash.check(f"exec {n}")
        return answer

    def post(self, shared: dict[str, Any], n: int, answer: str) -> str | None:
        shared["n"] = n + 1
        shared.setdefault("answers", []).append(answer)
        return "again" if n + 1 < 5 else None


def test_a_sync_flow_is_durable_and_its_sync_calls_are_journaled(
    offline: Any, llm_calls: list[LLMCallRecord]
) -> None:
    execs: list[int] = []
    node = SyncCount(CrashOnce("exec 1"), execs)
    node - "again" >> node
    flow = Flow(start=node)
    with pytest.raises(Crash):
        flow.run({"n": 0}, run_id="sync")
    shared: dict[str, Any] = {}
    flow.run(shared, run_id="sync")
    assert shared["answers"] == EXPECTED
    assert execs == [0, 1, 1, 2, 3, 4]
    assert len(llm_calls) == 5


class Inner(AsyncNode):
    def __init__(self, name: str, crash: CrashOnce, log: list[str]) -> None:
        super().__init__()
        self.name, self.crash, self.log = name, crash, log

    async def exec_async(self, prep_res: Any) -> str:
        self.log.append(self.name)
        return self.name

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: str) -> None:
        self.crash.check(self.name)
        shared.setdefault("done", []).append(exec_res)


def test_a_nested_flow_resumes_inside_at_its_own_next_step(offline: Any) -> None:
    crash, log = CrashOnce("b2"), list[str]()
    a1, a2, b1, b2, b3 = (Inner(n, crash, log) for n in ("a1", "a2", "b1", "b2", "b3"))
    a1 >> a2
    b1 >> b2 >> b3
    outer = AsyncFlow(start=AsyncFlow(start=a1))
    outer.start_node >> AsyncFlow(start=b1)  # type: ignore[operator]
    with pytest.raises(Crash):
        run(outer, {})
    shared: dict[str, Any] = {}
    run(outer, shared)
    assert shared["done"] == ["a1", "a2", "b1", "b2", "b3"]
    assert log == ["a1", "a2", "b1", "b2", "b3"]  # b2's exec was journaled before its post


class Square(AsyncParallelBatchNode):
    def __init__(self, failing: set[int], ran: list[int]) -> None:
        super().__init__(max_concurrency=3)
        self.failing, self.ran = failing, ran

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return list(range(10))

    async def exec_async(self, item: int) -> int:
        self.ran.append(item)
        await asyncio.sleep(0.001 * item)
        if item in self.failing:
            self.failing.discard(item)
            raise Crash(f"item {item}")
        return item * item

    async def post_async(self, shared: dict[str, Any], prep_res: Any, squares: list[int]) -> None:
        shared["squares"] = squares


def test_a_resumed_parallel_batch_runs_only_the_items_that_had_not_finished(
    offline: Any,
) -> None:
    ran: list[int] = []
    flow = AsyncFlow(start=Square({4}, ran))
    with pytest.raises(Crash):
        run(flow, {})
    ran.clear()
    shared: dict[str, Any] = {}
    run(flow, shared)
    assert shared["squares"] == [n * n for n in range(10)]
    assert 4 in ran
    assert set(ran).isdisjoint({0, 1, 2, 3})  # finished and journaled before the crash


class PerDoc(AsyncNode):
    def __init__(self, crash: CrashOnce, ran: list[str]) -> None:
        super().__init__()
        self.crash, self.ran = crash, ran

    async def exec_async(self, prep_res: Any) -> str:
        doc = str(self.params["doc"])
        self.ran.append(doc)
        return await call_llm_async(f"summarize {doc}")

    async def post_async(self, shared: dict[str, Any], prep_res: Any, summary: str) -> None:
        self.crash.check(self.params["doc"])
        shared.setdefault("summaries", {})[self.params["doc"]] = summary


class Docs(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        return [{"doc": f"d{n}"} for n in range(6)]


def test_a_parallel_batch_flow_commits_each_item_and_resumes_the_rest(
    offline: Any, llm_calls: list[LLMCallRecord]
) -> None:
    ran: list[str] = []
    flow = Docs(start=PerDoc(CrashOnce("d3"), ran), max_concurrency=2)
    with pytest.raises(Crash):
        run(flow, {})
    shared: dict[str, Any] = {}
    run(flow, shared)
    assert shared["summaries"] == {f"d{n}": f"[offline echo] summarize d{n}" for n in range(6)}
    # d3 crashed in post: its exec result was journaled, so no exec runs twice.
    assert sorted(ran) == [f"d{n}" for n in range(6)]
    assert len(llm_calls) == 6  # every answered call was sent once


class Review(AsyncNode):
    def __init__(self, crash: CrashOnce) -> None:
        super().__init__()
        self.crash = crash

    async def prep_async(self, shared: dict[str, Any]) -> str:
        return await read_file_async(shared["path"])

    async def exec_async(self, text: str) -> str:
        stream = stream_llm_async(f"Summarize: {text}")
        return "".join([chunk async for chunk in stream])

    async def post_async(self, shared: dict[str, Any], text: str, summary: str) -> str:
        verdict = await gather_user_feedback(summary)
        self.crash.check("after feedback")
        shared["verdict"], shared["summary"] = verdict, summary
        return verdict


def test_reads_streams_and_verdicts_are_journaled_too(
    offline: pytest.MonkeyPatch, tmp_path: Path, llm_calls: list[LLMCallRecord]
) -> None:
    offline.setenv("POCKETFLOW_FEEDBACK", "auto:deny,approve")
    document = tmp_path / "doc.txt"
    document.write_text("Cats purr.")
    flow = AsyncFlow(start=Review(CrashOnce("after feedback")))
    with pytest.raises(Crash):
        run(flow, {"path": str(document)})
    document.write_text("Changed since.")  # the journaled read replays the old text
    shared: dict[str, Any] = {}
    run(flow, shared)
    assert shared["verdict"] == "deny"  # the first verdict, replayed; not the second
    assert shared["summary"].endswith("Cats purr.")
    assert len(llm_calls) == 1


@dataclasses.dataclass
class Point:
    x: int
    label: str


def test_state_round_trips_dates_bytes_sets_tuples_dataclasses_and_odd_keys(
    offline: Any,
) -> None:
    state = {
        "when": datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 1, 2),
        "raw": b"\x00\xff",
        "tags": {"a", "b"},
        "pair": (1, "x"),
        "by_number": {1: "one", 2: "two"},
        "point": Point(3, "p"),
        "nested": [{"__pf__": "not a tag"}],
    }
    flow = counting_flow(CrashOnce(), [], until=1)
    shared: dict[str, Any] = {"n": 0, **state}
    run(flow, shared)
    again: dict[str, Any] = {}
    run(flow, again)
    assert again == {**state, "n": 1, "answers": EXPECTED[:1]}


def test_a_value_that_cannot_be_stored_fails_the_commit_naming_its_path(offline: Any) -> None:
    flow = counting_flow(CrashOnce(), [], until=1)
    shared: dict[str, Any] = {"n": 0, "docs": [{}, {"client": sqlite3.connect(":memory:")}]}
    with pytest.raises(StateNotSerializable) as caught:
        run(flow, shared)
    assert str(caught.value).startswith(
        'shared["docs"][1]["client"]: a sqlite3.Connection cannot be stored.'
    )
    assert 'serializer = "pickle"' in str(caught.value)


def test_pickle_is_opt_in_and_stores_any_picklable_value(offline: pytest.MonkeyPatch) -> None:
    Path("pocketflow.toml").write_text('[runs]\nserializer = "pickle"\n')
    flow = counting_flow(CrashOnce(), [], until=1)
    run(flow, {"n": 0, "big": 10**40, "frozen": frozenset({1})})
    again: dict[str, Any] = {}
    run(flow, again)
    assert again["frozen"] == frozenset({1})


def test_a_flow_that_changed_shape_refuses_to_resume_unless_asked(offline: Any) -> None:
    flow = counting_flow(CrashOnce("exec 1"), [])
    with pytest.raises(Crash):
        run(flow, {"n": 0})
    changed = counting_flow(CrashOnce(), [])
    changed.start_node - "done" >> Node()  # type: ignore[operator]
    with pytest.raises(FlowChangedError) as caught:
        run(changed, {})
    assert "+ 0:Count -done-> 1:Node" in str(caught.value)
    assert 'on_change="continue"' in str(caught.value)
    shared: dict[str, Any] = {}
    run(changed, shared, on_change="continue")
    assert shared["n"] == 5


def test_only_one_owner_runs_a_run_at_a_time(offline: Any) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    class Wait(AsyncNode):
        async def exec_async(self, prep_res: Any) -> None:
            started.set()
            await release.wait()

    async def both() -> None:
        flow = AsyncFlow(start=Wait())
        first = asyncio.create_task(flow.run_async({}, run_id="busy"))
        await started.wait()
        with pytest.raises(RunLeasedError) as caught:
            await flow.run_async({}, run_id="busy")
        assert "pocketflow runs cancel busy" in str(caught.value)
        release.set()
        await first

    asyncio.run(both())


def test_a_cancelled_run_stops_at_its_next_commit_and_never_runs_again(offline: Any) -> None:
    from pocketflow.runs import open_store

    class CancelMidway(AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            await open_store("sqlite:///.pocketflow/runs.db").cancel("c", 0.0)

    flow = AsyncFlow(start=CancelMidway())
    with pytest.raises(RunCancelledError):
        run(flow, {}, run_id="c")
    with pytest.raises(RunCancelledError, match="Start a new run id"):
        run(flow, {}, run_id="c")


def test_storage_keeps_the_latest_state_and_a_small_row_per_step(offline: Any) -> None:
    flow = counting_flow(CrashOnce(), [], until=200)
    run(flow, {"n": 0})
    with sqlite3.connect(".pocketflow/runs.db") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM run_journal").fetchone() == (0,)
        steps = db.execute("SELECT COUNT(*), MAX(LENGTH(state)) FROM run_steps").fetchone()
        assert steps == (200, None)


def test_history_keeps_a_snapshot_per_step_when_asked(offline: Any) -> None:
    Path("pocketflow.toml").write_text("[runs]\nhistory = true\n")
    run(counting_flow(CrashOnce(), [], until=3), {"n": 0})
    with sqlite3.connect(".pocketflow/runs.db") as db:
        states = [row[0] for row in db.execute("SELECT state FROM run_steps ORDER BY seq")]
    assert [b'"n":1' in state for state in states] == [True, False, False]
    assert b'"n":3' in states[-1]


def test_the_store_comes_from_the_config_file_the_environment_or_the_call(
    offline: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    Path("sub").mkdir()
    Path("pocketflow.toml").write_text('[runs]\nstore = "sqlite:///sub/from_file.db"\n')
    flow = counting_flow(CrashOnce(), [], until=1)
    run(flow, {"n": 0}, run_id="a")
    assert Path("sub/from_file.db").is_file()
    offline.setenv("POCKETFLOW_RUNS", f"sqlite:///{tmp_path}/from_env.db")
    run(flow, {"n": 0}, run_id="b")
    assert (tmp_path / "from_env.db").is_file()
    run(flow, {"n": 0}, run_id="c", store="memory://call")
    assert not Path(".pocketflow").exists()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[runs]\nstore = "redis://x"\n', "No run store handles redis:// URLs"),
        ('[runs]\nstore = "runs.db"\n', "is not a URL"),
        ("[runs]\nstroe = 1\n", "[runs] has unknown key 'stroe'"),
        # a key a store declares through register(settings=...) is checked by its type
        ("[runs]\nsynchronous = 1\n", "'synchronous' must be a str (for the sqlite store)"),
        ('[runs]\nserializer = "yaml"\n', 'serializer must be "json" or "pickle"'),
    ],
)
def test_a_bad_runs_table_is_a_clear_error(offline: Any, toml: str, message: str) -> None:
    from pocketflow.errors import ConfigError

    Path("pocketflow.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        run(counting_flow(CrashOnce(), [], until=1), {"n": 0})
    assert message in str(caught.value)
    assert "pocketflow.toml" in str(caught.value) or "redis" in message or "URL" in message


def test_a_tool_loop_replays_its_model_turns_and_tool_runs_after_a_crash(
    offline: pytest.MonkeyPatch, llm_calls: list[LLMCallRecord]
) -> None:
    searches: list[str] = []
    crash = CrashOnce("after the loop")

    def search(query: str) -> str:
        """Search the notes.

        Args:
            query: words to look for
        """
        searches.append(query)
        return f"notes about {query}"

    class Research(AsyncNode):
        async def exec_async(self, prep_res: Any) -> str:
            answer = await call_llm_async("What do owls eat?", tools=[search])
            crash.check("after the loop")
            return str(answer)

        async def post_async(self, shared: dict[str, Any], prep_res: Any, answer: str) -> None:
            shared["answer"] = answer

    flow = AsyncFlow(start=Research())
    with pytest.raises(Crash):
        run(flow, {}, run_id="tools")
    calls_before, searches_before = len(llm_calls), list(searches)
    shared: dict[str, Any] = {}
    run(flow, shared, run_id="tools")
    assert searches == searches_before and len(searches) == 1  # the tool ran once
    assert len(llm_calls) == calls_before == 2  # both model turns replayed, not sent
    assert "notes about" in shared["answer"]
