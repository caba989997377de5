"""The executor contract as tests: every executor plugin runs them against itself.

A plugin subclasses :class:`ExecutorContract` in a test module, names its executor and
the ``[executors.<name>]`` lines for a small local cluster; pytest collects the
inherited tests::

    from pocketflow.testing import ExecutorContract

    class TestRay(ExecutorContract):
        executor_name = "ray"
        settings_toml = "local_cpus = 2"

Each test writes a ``pocketflow.toml`` in a fresh working directory (the
``pocketflow_env`` fixture) and runs batch nodes with ``executor=<name>`` through the
public API, comparing with ``executor="local"``. The executor is made once per
process and settings, so every test of a session shares one cluster. The nodes live
in this module (installed code), so workers import them by name.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from pocketflow.errors import NotShippableError
from pocketflow.flows import AsyncFlow, Flow
from pocketflow.nodes import AsyncBatchNode, AsyncNode, AsyncParallelBatchNode, BatchNode
from pocketflow.runtime import reset_runtime

FORWARDED = "POCKETFLOW_CONTRACT_FORWARDED"
NOT_FORWARDED = "POCKETFLOW_CONTRACT_NOT_FORWARDED"


class SquareEach(AsyncParallelBatchNode):
    """``shared["numbers"]`` squared, with the worker's pid."""

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        numbers: list[int] = shared["numbers"]
        return numbers

    async def exec_async(self, prep_res: int) -> int:
        await asyncio.sleep(0)
        offset: int = self.params.get("offset", 0)
        return prep_res * prep_res + offset

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["squares"] = exec_res


class WordLengths(BatchNode):
    """A sync batch node: the length of each word, and the process it ran in."""

    def prep(self, shared: dict[str, Any]) -> list[str]:
        words: list[str] = shared["words"]
        return words

    def exec(self, prep_res: str) -> int:
        return len(prep_res)

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["lengths"] = exec_res


class ItemsIn:
    """prep: ``shared["items"]``; post: ``shared["results"]`` (sync and async forms)."""

    def prep(self, shared: dict[str, Any]) -> list[Any]:
        items: list[Any] = shared["items"]
        return items

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["results"] = exec_res

    async def prep_async(self, shared: dict[str, Any]) -> list[Any]:
        return self.prep(shared)

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        self.post(shared, prep_res, exec_res)


def run_items(node: Any, items: list[Any]) -> list[Any]:
    """Run ``node`` alone on ``items`` (sync or async) through its public ``run``."""
    shared: dict[str, Any] = {"items": items}
    if isinstance(node, AsyncNode):
        asyncio.run(node.run_async(shared))
    else:
        node.run(shared)
    results: list[Any] = shared["results"]
    return results


class Pids(ItemsIn, AsyncBatchNode):
    """Where each item ran."""

    async def exec_async(self, prep_res: int) -> int:
        return os.getpid()


class FailsAtOnce(ItemsIn, AsyncParallelBatchNode):
    """Item 0 fails at once; the others take ``delay`` seconds, then leave a mark."""

    def __init__(self, marks: str, delay: float, **options: Any) -> None:
        super().__init__(**options)
        self.marks = marks
        self.delay = delay

    async def exec_async(self, prep_res: int) -> int:
        if prep_res == 0:
            raise KeyError(f"item {prep_res} is broken")
        await asyncio.sleep(self.delay)
        await asyncio.to_thread(Path(self.marks, str(prep_res)).touch)
        return prep_res


class FlakyThenFallback(ItemsIn, BatchNode):
    """Fails its first try on every item; item 3 fails every try and falls back."""

    def exec(self, prep_res: int) -> tuple[int, int]:
        if self.cur_retry == 0 or prep_res == 3:
            raise RuntimeError(f"try {self.cur_retry} of item {prep_res} failed")
        return prep_res, self.cur_retry

    def exec_fallback(self, prep_res: int, exc: Exception) -> tuple[int, int]:
        return -prep_res, self.cur_retry


class CountsUnpickling(ItemsIn, AsyncParallelBatchNode):
    """Leaves a mark each time it is unpickled (or copied: the flow copies it too)."""

    def __init__(self, marks: str, **options: Any) -> None:
        super().__init__(**options)
        self.marks = marks

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        Path(self.marks, f"{os.getpid()}-{uuid.uuid4().hex}").touch()

    async def exec_async(self, prep_res: int) -> int:
        return prep_res


class ReadsEnvironment(ItemsIn, BatchNode):
    """The value of each named variable on the worker."""

    def exec(self, prep_res: str) -> str | None:
        return os.environ.get(prep_res)


class Marks(ItemsIn, BatchNode):
    """Leaves a mark per item it runs."""

    def __init__(self, marks: str, **options: Any) -> None:
        super().__init__(**options)
        self.marks = marks

    def exec(self, prep_res: Any) -> None:
        Path(self.marks, uuid.uuid4().hex).touch()


class DiesOnce(ItemsIn, BatchNode):
    """The first item to run kills its worker process (once: it leaves ``gate`` behind)."""

    def __init__(self, gate: str, **options: Any) -> None:
        super().__init__(**options)
        self.gate = gate

    def exec(self, prep_res: int) -> int:
        try:
            descriptor = os.open(self.gate, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return prep_res
        os.close(descriptor)
        os._exit(1)  # the worker dies mid-item


class Unshippable:
    """Stands for a client or handle that cannot leave its process."""

    def __reduce__(self) -> Any:
        raise TypeError("a live connection cannot be pickled")


class ExecutorContract:
    """Tests every executor must pass; set :attr:`executor_name` and :attr:`settings_toml`."""

    executor_name: str = ""
    """The registered name, e.g. "ray"."""

    settings_toml: str = ""
    """Lines of its ``[executors.<name>]`` table for a small local cluster."""

    items: int = 1000
    """How many items the large parallel batch has."""

    @pytest.fixture(autouse=True)
    def _configured(self, pocketflow_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.env = pocketflow_env
        self.marks = tmp_path / "marks"
        self.marks.mkdir()
        self.write_config()

    def write_config(self, top: str = "") -> None:
        """Write ``pocketflow.toml``: ``top`` lines under ``[executors]``, then the settings."""
        Path("pocketflow.toml").write_text(
            f"[executors]\n{top}\n[executors.{self.executor_name}]\n{self.settings_toml}\n",
            encoding="utf-8",
        )
        reset_runtime()  # configuration is read once per runtime

    def count_marks(self) -> int:
        """How many marks the nodes left."""
        return len(list(self.marks.iterdir()))

    def test_a_large_parallel_batch_gives_the_local_results(self) -> None:
        shared: dict[str, Any] = {"numbers": list(range(self.items))}
        local: dict[str, Any] = {"numbers": list(range(self.items))}
        for node, state in (
            (SquareEach(max_concurrency=200, executor=self.executor_name), shared),
            (SquareEach(executor="local"), local),
        ):
            flow = AsyncFlow(node)
            flow.set_params({"offset": 7})  # params travel with the node
            asyncio.run(flow.run_async(state))
        assert shared["squares"] == local["squares"]
        assert shared["squares"][:3] == [7, 8, 11]

    def test_a_sync_batch_node_in_a_sync_flow_gives_the_local_results(self) -> None:
        words = [f"w{'o' * (index % 17)}rd" for index in range(200)]
        shared: dict[str, Any] = {"words": words}
        Flow(WordLengths(executor=self.executor_name)).run(shared)
        assert shared["lengths"] == [len(word) for word in words]

    def test_items_run_in_other_processes(self) -> None:
        pids = run_items(Pids(executor=self.executor_name), list(range(20)))
        assert len(pids) == 20
        assert os.getpid() not in pids

    def test_the_config_default_sends_nodes_without_executor_there(self) -> None:
        self.write_config(f'default = "{self.executor_name}"')
        assert os.getpid() not in run_items(Pids(), [1, 2, 3])
        assert run_items(Pids(executor="local"), [1]) == [os.getpid()]

    def test_a_failing_item_raises_its_own_error_and_cancels_the_rest(self) -> None:
        node = FailsAtOnce(str(self.marks), 0.5, max_concurrency=2, executor=self.executor_name)
        started = time.perf_counter()
        with pytest.raises(KeyError, match="item 0 is broken"):
            run_items(node, list(range(40)))
        assert time.perf_counter() - started < 30
        time.sleep(1.0)  # what was still running has finished (or been stopped) by now
        assert self.count_marks() <= 3  # of 39 items, at most the ones already in flight

    def test_retries_waits_and_fallback_run_on_the_worker(self) -> None:
        node = FlakyThenFallback(max_retries=3, wait=0.01, executor=self.executor_name)
        assert run_items(node, list(range(6))) == [(0, 1), (1, 1), (2, 1), (-3, 2), (4, 1), (5, 1)]

    def test_the_node_is_shipped_once_per_batch_not_once_per_item(self) -> None:
        node = CountsUnpickling(str(self.marks), max_concurrency=50, executor=self.executor_name)
        assert run_items(node, list(range(300))) == list(range(300))
        # Once per worker process (and a copy or two here), not once per item.
        assert 1 <= self.count_marks() <= 20

    def test_a_node_that_cannot_be_shipped_is_refused_before_anything_is_sent(self) -> None:
        node = Marks(str(self.marks), executor=self.executor_name)
        node.client = Unshippable()  # type: ignore[attr-defined]
        with pytest.raises(NotShippableError) as error:
            run_items(node, [1, 2])
        assert "Marks cannot run on a cluster: its attribute 'client' (a Unshippable)" in str(
            error.value
        )
        assert "a live connection cannot be pickled" in str(error.value)
        assert self.count_marks() == 0

    def test_an_item_that_cannot_be_shipped_is_named_and_nothing_is_sent(self) -> None:
        node = Marks(str(self.marks), executor=self.executor_name)
        with pytest.raises(NotShippableError, match=r"item 2 \(a Unshippable\)"):
            run_items(node, [1, 2, Unshippable(), 4])
        assert self.count_marks() == 0

    def test_only_the_listed_variables_are_forwarded(self) -> None:
        run_items(Pids(executor=self.executor_name), [0])  # the workers start before we set them
        value = uuid.uuid4().hex
        self.env.setenv(FORWARDED, value)
        self.env.setenv(NOT_FORWARDED, value)
        self.write_config(f'env = ["{FORWARDED}"]')
        node = ReadsEnvironment(executor=self.executor_name)
        assert run_items(node, [FORWARDED, NOT_FORWARDED]) == [value, None]

    def test_a_worker_dying_mid_item_is_tried_again_per_max_retries(self) -> None:
        node = DiesOnce(str(self.marks / "died"), max_retries=2, executor=self.executor_name)
        assert run_items(node, [1, 2, 3]) == [1, 2, 3]
        assert (self.marks / "died").exists()
