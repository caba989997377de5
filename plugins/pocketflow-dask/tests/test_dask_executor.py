"""The ``dask`` executor on one local Dask cluster (2 workers) shared by the test session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pocketflow.errors import ClusterUnreachableError
from pocketflow.executor_contract import Pids, run_items
from pocketflow.testing import ExecutorContract

SETTINGS = "workers = 2\nthreads_per_worker = 1"


class TestDaskExecutor(ExecutorContract):
    """The executor contract, on a local Dask cluster."""

    executor_name = "dask"
    settings_toml = SETTINGS


def test_an_unreachable_scheduler_fails_fast_naming_it(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    Path("pocketflow.toml").write_text(
        '[executors.dask]\naddress = "tcp://127.0.0.1:9"\n', encoding="utf-8"
    )
    started = time.perf_counter()
    with pytest.raises(ClusterUnreachableError) as error:
        run_items(Pids(executor="dask"), [1])
    assert time.perf_counter() - started < 10
    assert str(error.value).startswith("The dask cluster at tcp://127.0.0.1:9 cannot be reached")
