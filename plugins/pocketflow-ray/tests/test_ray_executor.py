"""The ``ray`` executor on one local Ray cluster (2 CPUs) shared by the whole test session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pocketflow.errors import ClusterUnreachableError
from pocketflow.executor_contract import Pids, run_items
from pocketflow.testing import ExecutorContract

SETTINGS = "local_cpus = 2\nobject_store_mb = 100"


class TestRayExecutor(ExecutorContract):
    """The executor contract, on a local Ray cluster."""

    executor_name = "ray"
    settings_toml = SETTINGS


def test_an_unreachable_address_fails_fast_naming_it(pocketflow_env: pytest.MonkeyPatch) -> None:
    Path("pocketflow.toml").write_text(
        '[executors.ray]\naddress = "127.0.0.1:9"\n', encoding="utf-8"
    )
    started = time.perf_counter()
    with pytest.raises(ClusterUnreachableError) as error:
        run_items(Pids(executor="ray"), [1])
    assert time.perf_counter() - started < 10
    assert str(error.value).startswith("The ray cluster at 127.0.0.1:9 cannot be reached")
    assert "[executors.ray] address" in str(error.value)


def test_an_unknown_setting_lists_the_known_ones(pocketflow_env: pytest.MonkeyPatch) -> None:
    Path("pocketflow.toml").write_text("[executors.ray]\ncpus = 2\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"\[executors.ray\] has unknown key 'cpus'. Known: "):
        run_items(Pids(executor="ray"), [1])
