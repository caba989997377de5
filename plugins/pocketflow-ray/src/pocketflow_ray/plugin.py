"""The ``ray`` executor's registration (imports no Ray until a batch uses it)."""

from __future__ import annotations

from pocketflow import hookimpl
from pocketflow.executors.contract import Executor, ExecutorSettings
from pocketflow.hookspecs import RegisterExecutor

SETTINGS: dict[str, type | tuple[type, ...]] = {
    "address": str,
    "num_cpus": (int, float),
    "resources": dict,
    "force_cancel": bool,
    "local_cpus": int,
    "object_store_mb": int,
}


@hookimpl
def register_executors(register: RegisterExecutor) -> None:
    """Register the ``ray`` executor."""
    register(
        "ray",
        _make,
        settings=SETTINGS,
        description='batch items on a Ray cluster (address = "auto", "host:6379", or a local one)',
    )


def _make(settings: ExecutorSettings) -> Executor:
    from pocketflow_ray.executor import RayExecutor

    return RayExecutor(settings)
