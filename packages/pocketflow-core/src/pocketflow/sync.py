"""Running the async facades from sync code (the sync twins ``call_llm``, ...).

Calls run on one background event loop owned by this module, so sync calls reuse
their vendor clients and connection pools like async ones do. They work both where
no loop is running and inside a sync node of an ``AsyncFlow`` (where they block that
loop's thread until the answer arrives, as any sync node does).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="pocketflow-sync", daemon=True)
            thread.start()
            atexit.register(_stop, loop, thread)
            _loop = loop
        return _loop


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    from pocketflow.runtime import aclose

    if loop.is_running():
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            asyncio.run_coroutine_threadsafe(aclose(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


async def _in_context(context: contextvars.Context, coroutine: Coroutine[Any, Any, T]) -> T:
    for variable, value in context.items():  # e.g. the caller's open usage tallies
        variable.set(value)
    return await coroutine


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the background loop, in the caller's context; return its result."""
    context = contextvars.copy_context()
    future = asyncio.run_coroutine_threadsafe(_in_context(context, coroutine), _background_loop())
    return future.result()
