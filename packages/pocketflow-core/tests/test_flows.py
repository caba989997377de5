"""Flows: walking successors, branches, loops, nesting, copies, limits and errors."""

from __future__ import annotations

import asyncio
import copy
import itertools
from typing import Any

import pytest

from pocketflow import AsyncFlow, AsyncNode, BaseNode, Flow, FlowError, MaxStepsExceeded, Node


class Log(Node):
    """Appends its name to shared["log"] and returns a fixed action."""

    def __init__(self, name: str, action: str | None = None) -> None:
        super().__init__()
        self.name, self.action = name, action

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared.setdefault("log", []).append(self.name)
        return self.action


class AsyncLog(AsyncNode):
    def __init__(self, name: str, action: str | None = None) -> None:
        super().__init__()
        self.name, self.action = name, action

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        await asyncio.sleep(0)
        shared.setdefault("log", []).append(self.name)
        return self.action


class Counter(Node):
    """Counts visits in shared; returns "again" until the limit, then "stop"."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        shared["count"] = shared.get("count", 0) + 1
        return "again" if shared["count"] < self.limit else "stop"


def test_sequence_runs_nodes_in_order() -> None:
    first = Log("a")
    first >> Log("b") >> Log("c")
    shared: dict[str, Any] = {}
    Flow(start=first).run(shared)
    assert shared["log"] == ["a", "b", "c"]


def test_branch_follows_the_returned_action() -> None:
    decide = Log("decide", "right")
    decide - "left" >> Log("left")
    decide - "right" >> Log("right")
    shared: dict[str, Any] = {}
    Flow(start=decide).run(shared)
    assert shared["log"] == ["decide", "right"]


def test_none_action_follows_default() -> None:
    first = Log("a", None)
    first >> Log("b")
    shared: dict[str, Any] = {}
    Flow(start=first).run(shared)
    assert shared["log"] == ["a", "b"]


def test_loop_runs_until_the_exit_action() -> None:
    counter, done = Counter(limit=4), Log("done")
    counter - "again" >> counter
    counter - "stop" >> done
    shared: dict[str, Any] = {}
    Flow(start=counter).run(shared)
    assert (shared["count"], shared["log"]) == (4, ["done"])


def test_flow_returns_the_last_action() -> None:
    first = Log("a")
    first >> Log("b", "finished")
    assert Flow(start=first).run({}) == "finished"


def test_flow_post_can_replace_the_returned_action() -> None:
    class Renaming(Flow):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return f"renamed-{exec_res}"

    assert Renaming(start=Log("a", "x")).run({}) == "renamed-x"


def test_flow_ending_on_an_unconnected_action_warns() -> None:
    first = Log("a", "missing")
    first >> Log("b")
    with pytest.warns(UserWarning, match=r"Flow ends: 'missing' not found in \['default'\]"):
        Flow(start=first).run({})


def test_flow_ending_on_a_node_without_successors_does_not_warn(
    recwarn: pytest.WarningsRecorder,
) -> None:
    Flow(start=Log("a", "anything")).run({})
    assert len(recwarn) == 0


def test_nested_flow_runs_as_a_node_and_its_last_action_routes_the_outer_flow() -> None:
    inner_start = Log("inner-1")
    inner_start >> Log("inner-2", "inner-done")
    inner = Flow(start=inner_start)
    inner - "inner-done" >> Log("after")
    shared: dict[str, Any] = {}
    Flow(start=inner).run(shared)
    assert shared["log"] == ["inner-1", "inner-2", "after"]


def test_flow_params_reach_every_node() -> None:
    class ReadParam(Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("seen", []).append(self.params["user"])

    first = ReadParam()
    first >> ReadParam()
    flow = Flow(start=first)
    flow.set_params({"user": "ada"})
    shared: dict[str, Any] = {}
    flow.run(shared)
    assert shared["seen"] == ["ada", "ada"]


def test_nodes_of_one_run_share_one_params_dict() -> None:
    class Writer(Node):
        def prep(self, shared: Any) -> Any:
            self.params["written"] = True

    class Reader(Node):
        def prep(self, shared: Any) -> Any:
            shared["seen"] = self.params.get("written")

    writer = Writer()
    writer >> Reader()
    shared: dict[str, Any] = {}
    Flow(start=writer).run(shared)
    assert shared["seen"] is True


def test_a_run_leaves_the_original_nodes_untouched() -> None:
    class Marks(Node):
        def exec(self, prep_res: Any) -> Any:
            self.marked = True

    node = Marks()
    flow = Flow(start=node)
    flow.set_params({"k": 1})
    flow.run({})
    assert not hasattr(node, "marked") and node.params == {}


def test_each_visit_starts_from_a_fresh_copy_of_the_original_node() -> None:
    class Visits(Node):
        visits = 0

        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            self.visits += 1
            shared.setdefault("seen", []).append(self.visits)
            return "again" if len(shared["seen"]) < 3 else "stop"

    node = Visits()
    node - "again" >> node
    node - "stop" >> Node()
    shared: dict[str, Any] = {}
    Flow(start=node).run(shared)
    assert shared["seen"] == [1, 1, 1]


def test_a_node_class_with_its_own_copy_is_copied_with_it() -> None:
    class CustomCopy(Node):
        copies = 0

        def __copy__(self) -> CustomCopy:
            CustomCopy.copies += 1
            new = CustomCopy()
            new.successors = self.successors
            return new

    first = CustomCopy()
    first >> CustomCopy()
    Flow(start=first).run({})
    assert CustomCopy.copies == 2


def test_a_node_class_with_slots_keeps_its_slot_values_in_the_copy() -> None:
    class Slotted(Node):
        __slots__ = ("label",)
        label: str

        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            shared["label"] = self.label

    node = Slotted()
    node.label = "kept"
    shared: dict[str, Any] = {}
    Flow(start=node).run(shared)
    assert shared["label"] == "kept"


def test_copies_are_shallow_like_copy_copy() -> None:
    class Holder(Node):
        def __init__(self) -> None:
            super().__init__()
            self.box: list[int] = []

        def exec(self, prep_res: Any) -> Any:
            self.box.append(1)

    node = Holder()
    Flow(start=node).run({})
    assert node.box == [1] and copy.copy(node).box is node.box


def test_a_long_chain_runs_without_recursion() -> None:
    nodes = [Node() for _ in range(5000)]
    for left, right in itertools.pairwise(nodes):
        left >> right
    nodes[-1] >> Log("end", "last")
    assert Flow(start=nodes[0]).run({}) == "last"


def test_start_sets_the_start_node_and_returns_it() -> None:
    flow, node = Flow(), Log("a", "x")
    assert flow.start(node) is node
    assert flow.start_node is node and flow.run({}) == "x"


def test_flow_without_start_node_raises_saying_how_to_set_one() -> None:
    with pytest.raises(FlowError, match=r"Flow has no start node: pass `start=`.*flow\.start"):
        Flow().run({})


def test_successor_that_is_not_a_node_raises_naming_it() -> None:
    first = Node()
    first >> "second"  # type: ignore[type-var]  # the mistake under test
    with pytest.raises(TypeError, match=r"successor of Node for action 'default' is 'second'"):
        Flow(start=first).run({})


def test_start_that_is_not_a_node_raises_a_flow_error() -> None:
    with pytest.raises(FlowError, match=r"start node of Flow is 42 \(a int\), which is not a"):
        Flow(start=42).run({})  # type: ignore[arg-type]  # the mistake under test


def test_overridden_get_next_node_returning_a_non_node_raises() -> None:
    class Odd(Flow):
        def get_next_node(self, curr: BaseNode, action: str | None) -> BaseNode | None:
            return print  # type: ignore[return-value]  # the mistake under test

    with pytest.raises(FlowError, match="not a node"):
        Odd(start=Node()).run({})


def test_overridden_get_next_node_is_used() -> None:
    class OnlyOnce(Flow):
        def get_next_node(self, curr: BaseNode, action: str | None) -> BaseNode | None:
            return None

    first = Log("a")
    first >> Log("b")
    shared: dict[str, Any] = {}
    OnlyOnce(start=first).run(shared)
    assert shared["log"] == ["a"]


def test_get_next_node_set_on_the_instance_is_used() -> None:
    first = Log("a")
    first >> Log("b")
    flow = Flow(start=first)
    flow.get_next_node = lambda curr, action: None  # type: ignore[method-assign]
    shared: dict[str, Any] = {}
    flow.run(shared)
    assert shared["log"] == ["a"]


def test_max_steps_stops_an_endless_loop_naming_the_node_and_limit() -> None:
    node = Counter(limit=10**9)
    node - "again" >> node
    with pytest.raises(MaxStepsExceeded, match=r"before Counter: it already ran max_steps=5"):
        Flow(start=node, max_steps=5).run({})


def test_max_steps_error_carries_node_name_and_limit() -> None:
    node = Counter(limit=10**9)
    node - "again" >> node
    with pytest.raises(MaxStepsExceeded) as caught:
        Flow(start=node, max_steps=3).run({})
    assert (caught.value.node_name, caught.value.max_steps) == ("Counter", 3)


def test_max_steps_allows_exactly_that_many_steps() -> None:
    node = Counter(limit=3)
    node - "again" >> node
    node - "stop" >> Log("end")
    shared: dict[str, Any] = {}
    Flow(start=node, max_steps=4).run(shared)
    assert (shared["count"], shared["log"]) == (3, ["end"])


def test_flow_run_with_successors_warns() -> None:
    flow = Flow(start=Node())
    flow >> Node()
    with pytest.warns(UserWarning, match="Node won't run successors. Use Flow."):
        flow.run({})


def test_sync_flow_with_an_async_node_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match=r"AsyncLog is async\. Use run_async"):
        Flow(start=AsyncLog("a")).run({})


# --- AsyncFlow ------------------------------------------------------------------------


def test_async_flow_runs_async_and_sync_nodes_in_order() -> None:
    first = AsyncLog("async-1")
    first >> Log("sync") >> AsyncLog("async-2")
    shared: dict[str, Any] = {}
    asyncio.run(AsyncFlow(start=first).run_async(shared))
    assert shared["log"] == ["async-1", "sync", "async-2"]


def test_async_flow_returns_the_last_action() -> None:
    first = AsyncLog("a")
    first >> AsyncLog("b", "end")
    assert asyncio.run(AsyncFlow(start=first).run_async({})) == "end"


def test_async_flow_branches_and_loops() -> None:
    counter, done = Counter(limit=3), AsyncLog("done")
    counter - "again" >> counter
    counter - "stop" >> done
    shared: dict[str, Any] = {}
    asyncio.run(AsyncFlow(start=counter).run_async(shared))
    assert (shared["count"], shared["log"]) == (3, ["done"])


def test_async_flow_runs_nested_sync_and_async_flows() -> None:
    sync_inner = Flow(start=Log("sync-inner"))
    async_inner = AsyncFlow(start=AsyncLog("async-inner"))
    sync_inner >> async_inner >> AsyncLog("after")
    shared: dict[str, Any] = {}
    asyncio.run(AsyncFlow(start=sync_inner).run_async(shared))
    assert shared["log"] == ["sync-inner", "async-inner", "after"]


def test_async_flow_run_on_sync_nodes_runs_them_as_pocketflow_did() -> None:
    shared: dict[str, Any] = {}
    AsyncFlow(start=Log("a")).run(shared)
    assert shared["log"] == ["a"]


def test_async_flow_run_raises_runtime_error_naming_the_async_node() -> None:
    with pytest.raises(RuntimeError, match=r"AsyncLog is async\. Use run_async"):
        AsyncFlow(start=AsyncLog("a")).run({})


def test_async_flow_max_steps() -> None:
    node = Counter(limit=10**9)
    node - "again" >> node
    with pytest.raises(MaxStepsExceeded, match="max_steps=4"):
        asyncio.run(AsyncFlow(start=node, max_steps=4).run_async({}))


def test_async_flow_without_start_node_raises() -> None:
    with pytest.raises(FlowError, match=r"AsyncFlow has no start node"):
        asyncio.run(AsyncFlow().run_async({}))


def test_two_concurrent_runs_of_one_async_flow_do_not_share_node_state() -> None:
    class Remember(AsyncNode):
        async def prep_async(self, shared: Any) -> Any:
            self.owner = shared["name"]
            for _ in range(3):
                await asyncio.sleep(0)  # let the other run overwrite, if it could

        async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            shared["owner_seen"] = self.owner

    first = Remember()
    first >> Remember()
    flow = AsyncFlow(start=first)
    one, two = {"name": "one"}, {"name": "two"}

    async def both() -> None:
        await asyncio.gather(flow.run_async(one), flow.run_async(two))

    asyncio.run(both())
    assert (one["owner_seen"], two["owner_seen"]) == ("one", "two")


def test_async_flow_ending_on_an_unconnected_action_warns() -> None:
    first = AsyncLog("a", "missing")
    first - "other" >> AsyncLog("b")
    with pytest.warns(UserWarning, match=r"Flow ends: 'missing' not found in \['other'\]"):
        asyncio.run(AsyncFlow(start=first).run_async({}))


class Returns(Node):
    """Returns a fixed value from post, whatever it is."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return self.value


@pytest.mark.parametrize("action", [42, ["approve"], {"a": 1}])
def test_a_non_string_action_from_a_node_with_successors_is_a_flow_error(action: Any) -> None:
    node = Returns(action)
    node - "approve" >> Log("next")
    with pytest.raises(FlowError) as caught:
        Flow(start=node).run({})
    assert str(caught.value).startswith(f"Returns.post returned {action!r} (a ")
    assert "naming a successor ('approve')" in str(caught.value)
    with pytest.raises(FlowError):
        asyncio.run(AsyncFlow(start=node).run_async({}))


def test_a_last_node_may_return_any_value_as_pocketflow_allowed() -> None:
    assert Flow(start=Returns(42)).run({}) == 42
    assert Flow(start=Returns({"score": 3})).run({}) == {"score": 3}  # 0.0.3 crashed here


def test_an_async_flow_looping_through_sync_nodes_can_be_cancelled() -> None:
    class Spin(Node):
        """Never suspends; gives up after a million steps so a failing test ends."""

        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> str:
            shared["spins"] = shared.get("spins", 0) + 1
            if shared["spins"] > 1_000_000:
                raise RuntimeError("the flow was never cancelled")
            return "again"

    spin = Spin()
    spin - "again" >> spin
    shared: dict[str, Any] = {}

    async def run_briefly() -> None:
        await asyncio.wait_for(AsyncFlow(start=spin).run_async(shared), timeout=0.05)

    with pytest.raises(TimeoutError):
        asyncio.run(run_briefly())
    assert shared["spins"] < 1_000_000
