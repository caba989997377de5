"""Running the async facades from sync code (the sync twins ``call_llm``, ...).

Calls run on one background event loop owned by this module, so sync calls reuse
their vendor clients and connection pools like async ones do. They work both where
no loop is running and inside a sync node of an ``AsyncFlow`` (where they block that
loop's thread until the answer arrives, as any sync node does).

Where the background loop cannot serve, they still behave:

* after ``os.fork`` the child makes its own background loop (the parent's thread did
  not come along);
* once the interpreter is exiting (the loop is stopped by this module's ``atexit``
  handler), a call runs on a short-lived loop in the calling thread;
* called from code that is itself running on the background loop, a sync twin would
  wait for that loop forever: it raises :class:`~pocketflow.errors.SyncTwinError`;
* Ctrl-C (``KeyboardInterrupt``) while waiting cancels the call and waits for it to
  end before it is raised.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import contextvars
import os
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from pocketflow.errors import SyncTwinError

T = TypeVar("T")

REENTRY_HINT = (
    "A sync twin (call_llm, complete, read_file, gather_user_feedback_sync, ...) was called "
    "from code running on PocketFlow's background event loop (inside another sync twin's "
    "call, e.g. from a provider, reader or scripted reply), where waiting would block that "
    "loop for ever. Use the async form there: await call_llm_async(...), "
    "await read_file_async(...)."
)


@dataclass(frozen=True, slots=True)
class _Background:
    """The background loop, the thread running it, and the process that started them."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    pid: int


_SIGNAL_CHECK_SECONDS = 0.1
"""How often a caller waiting for a sync twin's call wakes to let a noted Ctrl-C through."""

_lock = threading.Lock()
_background: _Background | None = None
_exiting = False
_exit_handler_registered = False


def _forget_after_fork() -> None:
    # The child has no background thread (and _lock may have been held mid-fork).
    global _lock, _background
    _lock = threading.Lock()
    _background = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _background_loop() -> _Background:
    global _background, _exit_handler_registered
    with _lock:
        background = _background
        if background is None or background.pid != os.getpid() or background.loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="pocketflow-sync", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # "can't create new thread at interpreter shutdown"
                loop.close()
                raise
            background = _background = _Background(loop, thread, os.getpid())
            if not _exit_handler_registered:
                atexit.register(_stop)
                _exit_handler_registered = True
        return background


def _stop() -> None:
    """At exit: close the clients on the background loop, then stop and close it."""
    global _exiting
    from pocketflow.runtime import aclose

    with _lock:
        _exiting = True
        background = _background
    if background is None or background.pid != os.getpid():
        return
    loop, thread = background.loop, background.thread
    if loop.is_running():
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            asyncio.run_coroutine_threadsafe(aclose(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
    if not thread.is_alive():
        loop.close()


async def _in_context(context: contextvars.Context, coroutine: Coroutine[Any, Any, T]) -> T:
    for variable, value in context.items():  # e.g. the caller's open usage tallies
        variable.set(value)
    return await coroutine


class _Call:
    """One coroutine run as a task on ``loop`` for another thread, which waits for it.

    ``ended`` is set once the task has ended (or was cancelled before it started), so
    the caller can wait for the end of a call it cancelled.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]):
        self.loop = loop
        self.result: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.ended = threading.Event()
        self._task: asyncio.Task[Any] | None = None
        self._coroutine: Coroutine[Any, Any, Any] | None = coroutine

    def start(self) -> None:
        """Schedule the task on the loop."""
        self.loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        coroutine, self._coroutine = self._coroutine, None
        if coroutine is None:  # cancelled before it started
            return
        self._task = self.loop.create_task(coroutine)
        self._task.add_done_callback(self._finish)

    def _finish(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            self.result.cancel()
        elif (error := task.exception()) is not None:
            self.result.set_exception(error)
        else:
            self.result.set_result(task.result())
        self.ended.set()

    def cancel_and_wait(self) -> None:
        """Cancel the call (started or not) and wait until it has ended."""
        self.loop.call_soon_threadsafe(self._cancel)
        self.wait()

    def wait(self) -> None:
        """Block until the call has ended; a Ctrl-C (KeyboardInterrupt) gets through.

        A Ctrl-C that lands just before the wait blocks does not interrupt it (the
        signal is noted, the wait goes on), so the wait wakes every
        ``_SIGNAL_CHECK_SECONDS`` to let a noted one through.
        """
        while not self.ended.wait(_SIGNAL_CHECK_SECONDS):
            pass

    def _cancel(self) -> None:
        # Runs on the loop after _start, if start() scheduled it: callbacks keep order.
        if self._task is not None:
            self._task.cancel()
            return
        coroutine, self._coroutine = self._coroutine, None
        if coroutine is not None:
            coroutine.close()
        self.result.cancel()
        self.ended.set()


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the background loop, in the caller's context; return its result."""
    context = contextvars.copy_context()
    if _exiting and (_background is None or not _background.loop.is_running()):
        return run_and_close(_in_context(context, coroutine))
    try:
        background = _background_loop()
    except RuntimeError:  # no new thread at interpreter shutdown
        return run_and_close(_in_context(context, coroutine))
    if threading.current_thread() is background.thread:
        coroutine.close()
        raise SyncTwinError(REENTRY_HINT)
    call = _Call(background.loop, _in_context(context, coroutine))
    try:
        call.start()
        call.wait()
        result: T = call.result.result()
        return result
    except KeyboardInterrupt:
        call.cancel_and_wait()  # a second Ctrl-C stops waiting
        raise


def run_and_close(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a new event loop in this thread, then close the clients the
    runtime made on that loop (whatever the outcome); return its result.

    Also what a test uses to run one scenario: ``pocketflow.testing.run_and_close``.
    """
    from pocketflow.runtime import aclose

    async def call_then_close() -> T:
        try:
            return await coroutine
        finally:
            await aclose()

    with asyncio.Runner() as runner:  # Ctrl-C cancels the call and waits for it
        return runner.run(call_then_close())
