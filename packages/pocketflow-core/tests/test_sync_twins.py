"""The sync twins (``call_llm``, ``complete``, ``read_file``, ...) where blocking is hard:
after ``fork``, in an ``atexit`` handler, re-entered from the background loop, and
interrupted by Ctrl-C.

Cases that hung before run in a child process with a time limit, so that a hang fails
the test instead of stopping the suite.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

import pytest

from pocketflow import call_llm
from pocketflow.offline import Script
from pocketflow.providers import LLMRequest

LIMIT = 20.0
"""Seconds a child process may take (it needs well under one)."""


def run_program(source: str) -> subprocess.CompletedProcess[str]:
    """Run ``source`` in a fresh interpreter (answering from ``offline:echo``)."""
    env = {**os.environ, "POCKETFLOW_LLM": "offline:echo"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        env=env,
        check=False,
    )


def test_a_sync_twin_works_in_an_atexit_handler(pocketflow_env: pytest.MonkeyPatch) -> None:
    done = run_program(
        """
        import atexit
        from pocketflow import call_llm

        # Registered first, so it runs after PocketFlow's own exit handler.
        atexit.register(lambda: print(call_llm("at exit")))
        print(call_llm("in main"))
        """
    )

    assert done.stdout.splitlines() == ["[offline echo] in main", "[offline echo] at exit"]
    assert done.returncode == 0, done.stderr


def test_a_sync_twin_called_on_the_background_loop_raises_a_clear_error(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    done = run_program(
        """
        from pocketflow import call_llm
        from pocketflow.testing import script_llm

        def nested(request):
            return call_llm("inner")  # runs on the background loop: cannot block it

        with script_llm([nested]):
            try:
                call_llm("outer", model="offline:scripted")
            except RuntimeError as error:
                print(type(error).__name__, error)
        """
    )

    assert done.returncode == 0, done.stderr
    assert "SyncTwinError" in done.stdout
    assert "await call_llm_async" in done.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forked_child_can_call_a_sync_twin(pocketflow_env: pytest.MonkeyPatch) -> None:
    assert call_llm("parent", model="offline:echo") == "[offline echo] parent"
    child = os.fork()
    if child == 0:  # the child: never return into pytest
        code = 1
        try:
            code = 0 if call_llm("child", model="offline:echo") == "[offline echo] child" else 3
        finally:
            os._exit(code)
    deadline = time.monotonic() + LIMIT
    while (waited := os.waitpid(child, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    if waited == (0, 0):
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        pytest.fail("the forked child hung in call_llm")
    assert os.waitstatus_to_exitcode(waited[1]) == 0


def test_ctrl_c_cancels_the_call_and_waits_for_it_to_end(
    llm_script: Callable[..., Script],
) -> None:
    main = threading.main_thread().ident
    assert main is not None and threading.get_ident() == main
    ended: list[str] = []

    async def interrupted(request: LLMRequest) -> str:
        signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C while the caller waits
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # cleaning up takes a moment; the caller waits for it
            ended.append("cancelled")
            raise
        ended.append("went on")
        return "too late"

    llm_script([interrupted])

    with pytest.raises(KeyboardInterrupt):
        call_llm("hi")

    assert ended == ["cancelled"]


def test_a_ctrl_c_noted_just_before_the_caller_blocks_still_cancels_the_call(
    llm_script: Callable[..., Script],
) -> None:
    # A signal landing between the caller's last check and its block is noted but does
    # not wake it (CPython's lock wait is not interrupted): interrupt_main() is that case
    # made certain. The caller must still see the Ctrl-C well before the call ends.
    import _thread

    ended: list[str] = []

    async def interrupted(request: LLMRequest) -> str:
        _thread.interrupt_main()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise
        ended.append("went on")
        return "too late"

    llm_script([interrupted])

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        call_llm("hi")

    assert ended == ["cancelled"]
    assert time.perf_counter() - started < 2


def test_a_second_ctrl_c_stops_waiting_for_a_slow_clean_up(
    llm_script: Callable[..., Script],
) -> None:
    # The wait for a cancelled call's clean-up has the same race as the first wait: a
    # second Ctrl-C, noted while it blocks, must still end it.
    import _thread

    released = threading.Event()  # lets the clean-up finish once the test has seen enough
    cleaned_up = threading.Event()

    async def slow_to_clean_up(request: LLMRequest) -> str:
        _thread.interrupt_main()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            asyncio.get_running_loop().call_later(0.2, _thread.interrupt_main)
            for _ in range(500):  # the clean-up the caller stops waiting for (5 s at most)
                if released.is_set():
                    break
                await asyncio.sleep(0.01)
            cleaned_up.set()
            raise
        return "too late"

    llm_script([slow_to_clean_up])

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        call_llm("hi")
    waited = time.perf_counter() - started
    released.set()
    assert cleaned_up.wait(10)  # nothing of this call is left running for later tests
    assert waited < 2
