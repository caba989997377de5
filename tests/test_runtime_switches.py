"""Changing the configuration during a process closes the runtime it replaces.

A new ``POCKETFLOW_LLM`` (or config file, or working directory) makes a new runtime;
the old one's clients and connection pools are closed on the loop they live on, and
``pocketflow.aclose()`` closes whatever is left. Real connections to the in-process
vendor server (``bench/vendor_server.py``) are counted.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import pocketflow
from pocketflow import call_llm, call_llm_async
from pocketflow.runtime import current_runtime

from vendor_server import VendorServer

SECRET = "sk-switch-test-0123456789"
SWITCHES = 10


async def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Whether ``condition()`` holds within ``timeout`` seconds (polled every 5 ms)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


def point_openai_at(base_url: str) -> None:
    """A pocketflow.toml in the (temporary) working directory sending openai calls there."""
    Path("pocketflow.toml").write_text(
        f'[providers.openai]\nbase_url = "{base_url}/v1"\n', encoding="utf-8"
    )


@pytest.fixture
def openai_configured(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    pocketflow_env.setenv("OPENAI_API_KEY", SECRET)
    return pocketflow_env


def test_switching_models_closes_the_replaced_runtimes_connections(
    openai_configured: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> tuple[list[int], bool]:
        open_after_each: list[int] = []
        async with VendorServer(latency=0.001) as server:
            point_openai_at(server.base_url)
            try:
                for switch in range(SWITCHES):
                    openai_configured.setenv("POCKETFLOW_LLM", f"openai:model-{switch}")
                    await asyncio.gather(*(call_llm_async(f"[s{switch}-{i}] hi") for i in range(5)))
                    # Only the current runtime's pool may keep connections open.
                    await eventually(lambda: server.stats.open_connections <= 5)
                    open_after_each.append(server.stats.open_connections)
            finally:
                await pocketflow.aclose()
            return open_after_each, await eventually(lambda: server.stats.open_connections == 0)

    open_after_each, all_closed = asyncio.run(scenario())

    assert all(0 < count <= 5 for count in open_after_each), open_after_each
    assert all_closed


def test_aclose_closes_a_runtime_replaced_just_before(
    openai_configured: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> bool:
        async with VendorServer(latency=0.001) as server:
            point_openai_at(server.base_url)
            openai_configured.setenv("POCKETFLOW_LLM", "openai:first")
            await asyncio.gather(*(call_llm_async(f"[a-{i}] hi") for i in range(3)))
            openai_configured.setenv("POCKETFLOW_LLM", "openai:second")
            current_runtime()  # the first runtime is replaced...
            await pocketflow.aclose()  # ...and closed by the time aclose returns
            return await eventually(lambda: server.stats.open_connections == 0)

    assert asyncio.run(scenario())


def test_switching_models_between_sync_calls_closes_the_replaced_runtimes_connections(
    openai_configured: pytest.MonkeyPatch,
) -> None:
    """The sync twins' clients live on their background loop: they are closed there."""
    started = threading.Event()
    stop = threading.Event()
    servers: list[VendorServer] = []

    async def serve() -> None:
        async with VendorServer(latency=0.001) as server:
            servers.append(server)
            started.set()
            while not stop.is_set():  # noqa: ASYNC110 - stop is set from the test's thread
                await asyncio.sleep(0.01)

    serving = threading.Thread(target=asyncio.run, args=(serve(),))
    serving.start()
    try:
        assert started.wait(10)
        server = servers[0]
        point_openai_at(server.base_url)
        for switch in range(SWITCHES):
            openai_configured.setenv("POCKETFLOW_LLM", f"openai:model-{switch}")
            assert call_llm(f"[sync-{switch}] hi") == f"echo: [sync-{switch}] hi"
        deadline = time.monotonic() + 2
        while server.stats.open_connections > 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        open_at_end = server.stats.open_connections
    finally:
        stop.set()
        serving.join(10)

    assert open_at_end == 1  # the current runtime's one connection
