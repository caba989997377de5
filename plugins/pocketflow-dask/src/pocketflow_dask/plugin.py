"""The ``dask`` executor's registration (imports no Dask until a batch uses it)."""

from __future__ import annotations

from pocketflow import hookimpl
from pocketflow.executors.contract import Executor, ExecutorSettings
from pocketflow.hookspecs import RegisterExecutor

SETTINGS: dict[str, type | tuple[type, ...]] = {
    "address": str,
    "workers": int,
    "threads_per_worker": int,
    "connect_timeout": (int, float),
}


@hookimpl
def register_executors(register: RegisterExecutor) -> None:
    """Register the ``dask`` executor."""
    register(
        "dask",
        _make,
        settings=SETTINGS,
        description='batch items on a Dask cluster (address = "tcp://host:8786", or a local one)',
    )


def _make(settings: ExecutorSettings) -> Executor:
    from pocketflow_dask.executor import DaskExecutor

    return DaskExecutor(settings)
