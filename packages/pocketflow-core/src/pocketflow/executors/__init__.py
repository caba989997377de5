"""Executors: a batch node's items run on a cluster (Ray, Dask, ...) with the same code.

``BatchNode(executor="ray")`` (or ``[executors] default = "ray"``) sends each item
through the node's own per-item path (``exec``, retries, waits, fallback) on the
cluster's workers; ``prep`` and ``post`` stay with the flow. Executors are plugins
(the ``register_executors`` hook); the core has ``local``. Importing this package
installs its dispatch in :mod:`pocketflow.executor_seam`.
"""

from pocketflow.executors.contract import (
    Executor,
    ExecutorFactory,
    ExecutorSettings,
    ItemOutcome,
    Job,
    ResultCallback,
    Shipment,
)
from pocketflow.executors.dispatch import ExecutorDispatch, install
from pocketflow.executors.local import LocalExecutor
from pocketflow.executors.settings import close_executors, default_executor, get_executor
from pocketflow.executors.window import run_in_window

install()

__all__ = [
    "Executor",
    "ExecutorDispatch",
    "ExecutorFactory",
    "ExecutorSettings",
    "ItemOutcome",
    "Job",
    "LocalExecutor",
    "ResultCallback",
    "Shipment",
    "close_executors",
    "default_executor",
    "get_executor",
    "run_in_window",
]
