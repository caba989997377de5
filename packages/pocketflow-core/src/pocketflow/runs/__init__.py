"""Durable runs: flows that survive a crash, a deploy or a night, and resume where they stopped.

``await flow.run_async(shared, run_id="doc-42")`` (or ``flow.run(...)``) commits every
step to a run store and journals every facade call's answer; calling it again with the
same ``run_id`` resumes. See the README's "Durable runs" for the guarantees. This
package is loaded on the first durable run; the engine reaches it only through
:mod:`pocketflow.durability`.
"""

from __future__ import annotations

from pocketflow import durability
from pocketflow.runs.answers import DECISIONS, InvalidAnswer, answer, answer_sync
from pocketflow.runs.queue import enqueue
from pocketflow.runs.runner import Runner
from pocketflow.runs.serialize import JsonSerializer, PickleSerializer, Serializer
from pocketflow.runs.settings import ENV_RUNS, RunSettings, close_stores, open_store, run_settings
from pocketflow.runs.store import (
    Commit,
    LoadedRun,
    Question,
    RunInfo,
    RunStatus,
    RunStore,
    Scope,
    StepRecord,
    StoreLocation,
)

durability.runner = Runner()

__all__ = [
    "DECISIONS",
    "ENV_RUNS",
    "Commit",
    "InvalidAnswer",
    "JsonSerializer",
    "LoadedRun",
    "PickleSerializer",
    "Question",
    "RunInfo",
    "RunSettings",
    "RunStatus",
    "RunStore",
    "Runner",
    "Scope",
    "Serializer",
    "StepRecord",
    "StoreLocation",
    "answer",
    "answer_sync",
    "close_stores",
    "enqueue",
    "open_store",
    "run_settings",
]
