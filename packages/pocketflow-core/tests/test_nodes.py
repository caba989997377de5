"""A node on its own: prep/exec/post, successors, params, and how it is run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pocketflow import AsyncNode, BaseNode, FlowError, Node


class Recorder(Node):
    """Logs each hook with what it received, and passes values along."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, Any]] = []

    def prep(self, shared: Any) -> Any:
        self.log.append(("prep", shared["input"]))
        return shared["input"] + 1

    def exec(self, prep_res: Any) -> Any:
        self.log.append(("exec", prep_res))
        return prep_res * 10

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        self.log.append(("post", (prep_res, exec_res)))
        shared["output"] = exec_res
        return "done"


def test_run_passes_prep_result_to_exec_and_both_results_to_post() -> None:
    node = Recorder()
    node.run({"input": 1})
    assert node.log == [("prep", 1), ("exec", 2), ("post", (2, 20))]


def test_run_returns_the_action_from_post() -> None:
    shared = {"input": 1}
    assert Recorder().run(shared) == "done"
    assert shared["output"] == 20


def test_default_hooks_do_nothing_and_return_none() -> None:
    assert BaseNode().run({}) is None
    assert Node().run({}) is None


def test_node_defaults_match_pocketflow() -> None:
    node = Node()
    assert (node.max_retries, node.wait, node.params, node.successors) == (1, 0, {}, {})


def test_each_node_has_its_own_params_and_successors() -> None:
    first, second = Node(), Node()
    first.params["key"] = 1
    first >> Node()
    assert second.params == {} and second.successors == {}


def test_set_params_keeps_the_same_dict_object() -> None:
    node, params = Node(), {"key": "value"}
    node.set_params(params)
    assert node.params is params


def test_rshift_connects_default_action_and_returns_the_target() -> None:
    first, second = Node(), Node()
    assert (first >> second) is second
    assert first.successors == {"default": second}


def test_rshift_chains() -> None:
    first, second, third = Node(), Node(), Node()
    first >> second >> third
    assert first.successors["default"] is second and second.successors["default"] is third


def test_minus_action_rshift_connects_that_action() -> None:
    first, second = Node(), Node()
    assert (first - "retry" >> second) is second
    assert first.successors == {"retry": second}


def test_next_connects_an_action_and_returns_the_node() -> None:
    first, second = Node(), Node()
    assert first.next(second, "skip") is second
    assert first.successors == {"skip": second}


def test_overwriting_a_successor_warns() -> None:
    first = Node()
    first >> Node()
    replacement = Node()
    with pytest.warns(UserWarning, match="Overwriting successor for action 'default'"):
        first >> replacement
    assert first.successors["default"] is replacement


def test_non_string_action_raises_type_error_naming_the_value() -> None:
    with pytest.raises(TypeError, match=r"action must be a string.*got 3 \(a int\)"):
        Node() - 3  # type: ignore[operator]  # the mistake under test


def test_non_string_action_error_is_a_flow_error() -> None:
    with pytest.raises(FlowError):
        Node() - None  # type: ignore[operator]  # the mistake under test


def test_run_on_a_node_with_successors_warns() -> None:
    node = Node()
    node >> Node()
    with pytest.warns(UserWarning, match="Node won't run successors. Use Flow."):
        node.run({})


class AsyncRecorder(AsyncNode):
    async def prep_async(self, shared: Any) -> Any:
        await asyncio.sleep(0)
        return shared["input"] + 1

    async def exec_async(self, prep_res: Any) -> Any:
        return prep_res * 10

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared["output"] = (prep_res, exec_res)
        return "done"


def test_async_node_runs_its_async_hooks() -> None:
    shared: dict[str, Any] = {"input": 1}
    action = asyncio.run(AsyncRecorder().run_async(shared))
    assert (action, shared["output"]) == ("done", (2, 20))


def test_async_node_run_raises_runtime_error_saying_use_run_async() -> None:
    with pytest.raises(RuntimeError, match=r"AsyncRecorder is async\. Use run_async"):
        AsyncRecorder().run({"input": 1})


def test_async_node_run_error_is_a_flow_error() -> None:
    with pytest.raises(FlowError):
        AsyncNode().run({})


def test_run_async_on_a_node_with_successors_warns() -> None:
    node = AsyncNode()
    node >> AsyncNode()
    with pytest.warns(UserWarning, match="Node won't run successors. Use AsyncFlow."):
        asyncio.run(node.run_async({}))
