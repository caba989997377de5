"""Batch nodes and batch flows: one exec (or one flow run) per item, in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pocketflow import (
    AsyncBatchFlow,
    AsyncBatchNode,
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    BatchFlow,
    BatchNode,
    Flow,
    FlowError,
    Node,
)


class Squares(BatchNode):
    def prep(self, shared: Any) -> Any:
        return shared["numbers"]

    def exec(self, prep_res: Any) -> Any:
        return prep_res * prep_res

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared["squares"] = exec_res


def test_batch_node_runs_exec_per_item_and_posts_the_list_in_order() -> None:
    shared: dict[str, Any] = {"numbers": [3, 1, 2]}
    Squares().run(shared)
    assert shared["squares"] == [9, 1, 4]


def test_batch_node_accepts_any_iterable() -> None:
    shared: dict[str, Any] = {"numbers": (n for n in range(3))}
    Squares().run(shared)
    assert shared["squares"] == [0, 1, 4]


def test_batch_node_prep_none_means_no_items() -> None:
    shared: dict[str, Any] = {"numbers": None}
    Squares().run(shared)
    assert shared["squares"] == []


def test_batch_node_prep_returning_a_non_iterable_raises_saying_what_prep_must_return() -> None:
    with pytest.raises(TypeError, match=r"Squares: prep must return an iterable of items.*got 7"):
        Squares().run({"numbers": 7})


def test_batch_node_non_iterable_error_is_a_flow_error() -> None:
    with pytest.raises(FlowError):
        Squares().run({"numbers": 7})


def test_batch_node_retries_each_item_on_its_own() -> None:
    class FlakyOncePerItem(BatchNode):
        def __init__(self) -> None:
            super().__init__(max_retries=2)
            self.failed: set[int] = set()

        def prep(self, shared: Any) -> Any:
            return [1, 2]

        def exec(self, prep_res: Any) -> Any:
            if prep_res not in self.failed:
                self.failed.add(prep_res)
                raise ValueError(prep_res)
            return prep_res

        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            shared["results"] = exec_res

    shared: dict[str, Any] = {}
    FlakyOncePerItem().run(shared)
    assert shared["results"] == [1, 2]


class AsyncSquares(AsyncBatchNode):
    async def prep_async(self, shared: Any) -> Any:
        return shared["numbers"]

    async def exec_async(self, prep_res: Any) -> Any:
        shared_state = self.params.setdefault("in_flight", [0, 0])
        shared_state[0] += 1
        shared_state[1] = max(shared_state[1], shared_state[0])
        await asyncio.sleep(0)
        shared_state[0] -= 1
        return prep_res * prep_res

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared["squares"] = exec_res


def test_async_batch_node_runs_items_one_at_a_time_in_order() -> None:
    node = AsyncSquares()
    shared: dict[str, Any] = {"numbers": [3, 1, 2]}
    asyncio.run(node.run_async(shared))
    assert shared["squares"] == [9, 1, 4]
    assert node.params["in_flight"][1] == 1


def test_async_batch_node_prep_none_means_no_items() -> None:
    shared: dict[str, Any] = {"numbers": None}
    asyncio.run(AsyncSquares().run_async(shared))
    assert shared["squares"] == []


def test_async_batch_node_prep_returning_a_non_iterable_raises() -> None:
    with pytest.raises(FlowError, match="prep must return an iterable of items"):
        asyncio.run(AsyncSquares().run_async({"numbers": 5}))


# --- Batch flows ----------------------------------------------------------------------


class RecordParams(Node):
    """Appends a copy of its params to shared["runs"]."""

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared.setdefault("runs", []).append(dict(self.params))


class AsyncRecordParams(AsyncNode):
    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        await asyncio.sleep(0)
        shared.setdefault("runs", []).append(dict(self.params))


class Files(BatchFlow):
    def prep(self, shared: Any) -> Any:
        return [{"file": name} for name in shared["files"]]


def test_batch_flow_runs_the_flow_once_per_param_dict_merged_over_its_params() -> None:
    flow = Files(start=RecordParams())
    flow.set_params({"user": "ada", "file": "overridden"})
    shared: dict[str, Any] = {"files": ["a.txt", "b.txt"]}
    flow.run(shared)
    assert shared["runs"] == [
        {"user": "ada", "file": "a.txt"},
        {"user": "ada", "file": "b.txt"},
    ]


def test_batch_flow_post_gets_the_batch_and_the_flow_returns_what_post_returns() -> None:
    class Summing(Files):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return (len(prep_res), exec_res)

    assert Summing(start=RecordParams()).run({"files": ["a", "b", "c"]}) == (3, None)


def test_batch_flow_prep_none_runs_nothing_and_posts_an_empty_list() -> None:
    class Empty(BatchFlow):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            shared["posted"] = prep_res

    shared: dict[str, Any] = {}
    Empty(start=RecordParams()).run(shared)
    assert shared == {"posted": []}


def test_batch_flow_item_that_is_not_a_dict_raises_saying_what_prep_must_return() -> None:
    class Bad(BatchFlow):
        def prep(self, shared: Any) -> Any:
            return ["not-a-dict"]

    with pytest.raises(FlowError, match=r"Bad: prep must return an iterable of param dicts"):
        Bad(start=RecordParams()).run({})


def test_batch_flow_prep_returning_a_non_iterable_raises() -> None:
    class Bad(BatchFlow):
        def prep(self, shared: Any) -> Any:
            return 3

    with pytest.raises(TypeError, match="prep must return an iterable"):
        Bad(start=RecordParams()).run({})


def test_batch_flow_inside_batch_flow_merges_outer_then_inner_params() -> None:
    class Outer(BatchFlow):
        def prep(self, shared: Any) -> Any:
            return [{"dir": "x"}, {"dir": "y"}]

    class Inner(BatchFlow):
        def prep(self, shared: Any) -> Any:
            return [{"file": 1}, {"file": 2}]

    outer = Outer(start=Inner(start=RecordParams()))
    outer.set_params({"user": "ada"})
    shared: dict[str, Any] = {}
    outer.run(shared)
    assert shared["runs"] == [
        {"user": "ada", "dir": dir_name, "file": file} for dir_name in ("x", "y") for file in (1, 2)
    ]


def test_batch_flow_runs_each_pass_from_fresh_node_copies() -> None:
    class CountsOnSelf(Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            self.params.setdefault("visits", 0)
            self.params["visits"] += 1
            shared.setdefault("visits", []).append(self.params["visits"])

    class Twice(BatchFlow):
        def prep(self, shared: Any) -> Any:
            return [{}, {}]

    shared: dict[str, Any] = {}
    Twice(start=CountsOnSelf()).run(shared)
    assert shared["visits"] == [1, 1]


class AsyncFiles(AsyncBatchFlow):
    async def prep_async(self, shared: Any) -> Any:
        return [{"file": name} for name in shared["files"]]


def test_async_batch_flow_runs_param_sets_in_order_with_merged_params() -> None:
    flow = AsyncFiles(start=AsyncRecordParams())
    flow.set_params({"user": "ada"})
    shared: dict[str, Any] = {"files": ["a", "b", "c"]}
    asyncio.run(flow.run_async(shared))
    assert shared["runs"] == [{"user": "ada", "file": name} for name in "abc"]


def test_async_batch_flow_inside_async_batch_flow_merges_params() -> None:
    class Outer(AsyncBatchFlow):
        async def prep_async(self, shared: Any) -> Any:
            return [{"dir": "x"}, {"dir": "y"}]

    inner = AsyncFiles(start=AsyncRecordParams())
    shared: dict[str, Any] = {"files": ["a"]}
    asyncio.run(Outer(start=inner).run_async(shared))
    assert shared["runs"] == [{"dir": "x", "file": "a"}, {"dir": "y", "file": "a"}]


def test_sync_batch_flow_nested_in_async_flow_runs() -> None:
    inner = Files(start=RecordParams())
    shared: dict[str, Any] = {"files": ["a", "b"]}
    asyncio.run(AsyncFlow(start=inner).run_async(shared))
    assert shared["runs"] == [{"file": "a"}, {"file": "b"}]


def test_async_batch_flow_returns_post_async_result() -> None:
    class Reporting(AsyncFiles):
        async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return f"ran {len(prep_res)}"

    result = asyncio.run(Reporting(start=AsyncRecordParams()).run_async({"files": ["a", "b"]}))
    assert result == "ran 2"


def test_parallel_batch_flow_merges_params_for_every_run() -> None:
    class ParallelFiles(AsyncParallelBatchFlow):
        async def prep_async(self, shared: Any) -> Any:
            return [{"file": name} for name in shared["files"]]

    flow = ParallelFiles(start=AsyncRecordParams())
    flow.set_params({"user": "ada"})
    shared: dict[str, Any] = {"files": ["a", "b", "c"]}
    asyncio.run(flow.run_async(shared))
    runs = sorted(shared["runs"], key=lambda run: run["file"])
    assert runs == [{"user": "ada", "file": name} for name in "abc"]


def test_sync_batch_flow_with_an_inner_sync_flow_runs_the_inner_flow_per_item() -> None:
    inner = Flow(start=RecordParams())
    shared: dict[str, Any] = {"files": ["a", "b"]}
    Files(start=inner).run(shared)
    assert shared["runs"] == [{"file": "a"}, {"file": "b"}]
