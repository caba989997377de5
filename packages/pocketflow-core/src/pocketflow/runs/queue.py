"""Starting runs for workers: :func:`enqueue` and ``pocketflow run ... --queue``.

A queued run is created with its flow's target, shape and first shared store, and no
process running it; the first ``pocketflow runs worker`` to claim it runs it. With
workers on several machines sharing one store, this makes a job queue for flows.
"""

from __future__ import annotations

import os
import time
from typing import Any

from pocketflow.errors import DurableRunError
from pocketflow.runs.graph import shape
from pocketflow.runs.runner import flow_name
from pocketflow.runs.settings import run_settings
from pocketflow.runs.store import RunInfo
from pocketflow.runs.targets import load_flow


def new_run_id() -> str:
    """A fresh run id: ``run-YYYYmmdd-HHMMSS-xxxxxx``."""
    return f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}"


async def enqueue(
    target: str,
    shared: dict[str, Any] | None = None,
    *,
    run_id: str | None = None,
    store: str | None = None,
) -> str:
    """Queue a durable run of the flow ``target`` (``MODULE:ATTR``) for a worker; its id.

    Raises DurableRunError when ``run_id`` is taken.
    """
    settings = run_settings(store)
    flow = load_flow(target)
    run_id = run_id or new_run_id()
    now = time.time()
    info = RunInfo(
        run_id=run_id,
        status="queued",
        flow=flow_name(flow),
        shape=shape(flow),
        serializer=settings.serializer.name,
        created=now,
        updated=now,
        target=target,
        state=settings.serializer.dumps(shared or {}, "shared"),
    )
    if not await settings.store.enqueue(info, now):
        raise DurableRunError(f"Run {run_id!r} exists already: choose another run id.")
    return run_id
