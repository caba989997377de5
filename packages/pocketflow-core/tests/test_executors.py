"""The executor seam in the core: config, errors, and the contract on the in-process executor."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from pocketflow import AsyncParallelBatchNode, BatchNode, hookimpl
from pocketflow.errors import ConfigError, ExecutorNotFoundError
from pocketflow.executor_contract import Pids, run_items
from pocketflow.executors import ExecutorSettings, LocalExecutor
from pocketflow.plugins import get_plugin_manager
from pocketflow.testing import ExecutorContract


class ThreadsPlugin:
    """A test plugin registering the in-process executor under another name."""

    @hookimpl
    def register_executors(self, register: Any) -> None:
        register("threads", LocalExecutor, settings={"unused": int}, description="test")


@pytest.fixture(autouse=True)
def threads_executor() -> Any:
    manager = get_plugin_manager()
    if "threads" not in manager.executors:
        manager.add_plugin(ThreadsPlugin(), "threads-test", "tests")
    return manager


class TestInProcessExecutor(ExecutorContract):
    """The contract kit, run on the shipped-but-in-process executor (no cluster)."""

    executor_name = "threads"
    settings_toml = "unused = 1"

    def test_items_run_in_other_processes(self) -> None:
        pytest.skip("the in-process executor runs items on threads of this process")

    def test_a_worker_dying_mid_item_is_tried_again_per_max_retries(self) -> None:
        pytest.skip("the in-process executor's worker is this process")

    def test_only_the_listed_variables_are_forwarded(self) -> None:
        pytest.skip("the in-process executor's threads share this process's environment")

    def test_the_config_default_sends_nodes_without_executor_there(self) -> None:
        self.write_config('default = "threads"')
        assert run_items(Pids(), [1, 2, 3]) == [os.getpid()] * 3


def test_batch_nodes_default_to_local(pocketflow_env: pytest.MonkeyPatch) -> None:
    assert BatchNode().executor is None
    assert AsyncParallelBatchNode(executor="local").executor == "local"
    assert run_items(Pids(), [1]) == [os.getpid()]


def test_an_unknown_executor_lists_the_installed_ones(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ExecutorNotFoundError) as error:
        run_items(Pids(executor="spark"), [1])
    message = str(error.value)
    assert message.startswith("No executor named 'spark' is installed. Installed executors: ")
    assert "local" in message and "threads" in message


def test_a_missing_plugin_is_named(pocketflow_env: pytest.MonkeyPatch) -> None:
    Path("pocketflow.toml").write_text('[executors]\ndefault = "nothere"\n', encoding="utf-8")
    with pytest.raises(ExecutorNotFoundError, match="'nothere' is installed"):
        run_items(Pids(), [1])


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("default = 3", r"\[executors\] 'default' must be an executor name"),
        ('env = "OPENAI_API_KEY"', r"\[executors\] 'env' must be a list of variable names"),
        ("env = [1]", r"\[executors\] 'env\[0\]' must be a variable name"),
        ("workers = 2", r"\[executors\] has unknown key 'workers'"),
        ("[executors.threads]\nnope = 1", r"\[executors.threads\] has unknown key 'nope'"),
        ("[executors.threads]\nunused = 'x'", r"\[executors.threads\] 'unused' must be a int"),
    ],
)
def test_bad_executor_settings_name_the_file_and_key(
    pocketflow_env: pytest.MonkeyPatch, toml: str, message: str
) -> None:
    Path("pocketflow.toml").write_text(f"[executors]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as error:
        run_items(Pids(executor="threads"), [1])
    assert "pocketflow.toml" in str(error.value)


def test_the_shipment_never_shows_the_forwarded_environment() -> None:
    from pocketflow.executors.shipping import ship_node

    shipment = ship_node(Pids(), {"OPENAI_API_KEY": "sk-secret-value"})
    assert "sk-secret-value" not in repr(shipment)
    assert ExecutorSettings("x") == ExecutorSettings("x", where="elsewhere")


def test_a_sync_batch_inside_a_running_loop_runs_on_a_helper_thread(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    class Lengths(BatchNode):
        def exec(self, prep_res: str) -> int:
            return len(prep_res)

    async def inside_loop() -> list[Any]:
        lengths: list[Any] = Lengths(executor="threads")._exec(["a", "bb"])  # as AsyncFlow does
        return lengths

    assert asyncio.run(inside_loop()) == [1, 2]


def test_pocketflow_plugins_lists_the_executors(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pocketflow.cli import main

    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "Executors (for batch items):" in out
    assert "  local        batch items run in this process (default)" in out
    assert "executor local" in out


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1:9", "127.0.0.1:9: "),
        ("tcp://127.0.0.1:port", "bad port"),
        ("tcp://:8786", "no host name in the address"),
    ],
)
def test_an_address_that_does_not_answer_is_named(address: str, reason: str) -> None:
    from pocketflow.errors import ClusterUnreachableError
    from pocketflow.executors.network import check_reachable

    with pytest.raises(ClusterUnreachableError) as error:
        check_reachable("dask", address, 8786, timeout=2)
    assert str(error.value).startswith(f"The dask cluster at {address} cannot be reached (")
    assert reason in str(error.value)
