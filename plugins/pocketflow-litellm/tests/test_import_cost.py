"""``import litellm`` takes seconds: it stays out of ``import pocketflow`` and out of other
providers' calls, and when a litellm provider needs it, it loads without blocking the
event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from types import ModuleType

import pytest

from pocketflow.errors import ConfigError
from pocketflow_litellm.loader import LiteLLMLoader

ISOLATION = textwrap.dedent(
    """
    import asyncio, os, sys, threading
    import httpx
    import pocketflow
    from pocketflow.runtime import current_runtime
    from pocketflow.testing import mock_vendor_http

    assert "litellm" not in sys.modules, "import pocketflow imported litellm"
    assert "litellm" in current_runtime().plugins.llm_providers  # the plugin is loaded
    reply = {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "finish_reason": "stop",
                          "message": {"role": "assistant", "content": "hi"}}],
             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    async def main():
        with mock_vendor_http() as http:
            http.post("https://api.openai.com/v1/chat/completions").respond(json=reply)
            answer = await pocketflow.call_llm_async("Hi", model="openai:gpt-4o-mini")
            await pocketflow.aclose()
        return answer

    assert asyncio.run(main()) == "hi"
    assert "litellm" not in sys.modules, "an openai call imported litellm"
    names = [thread.name for thread in threading.enumerate()]
    assert "pocketflow-litellm-import" not in names, names
    print("isolated")
    """
)


def test_pocketflow_and_an_openai_call_never_import_litellm() -> None:
    env = {"OPENAI_API_KEY": "sk-test-isolation", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", ISOLATION], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "isolated"


def test_the_import_runs_beside_the_event_loop(litellm_module: ModuleType) -> None:
    def slow_import() -> ModuleType:
        time.sleep(0.5)  # as ``import litellm`` does, for seconds
        return litellm_module

    loader = LiteLLMLoader(slow_import)

    async def scenario() -> tuple[ModuleType, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        module = await loader.module()
        ticker.cancel()
        return module, ticks

    module, ticks = asyncio.run(scenario())
    assert module is litellm_module
    assert ticks >= 10  # the loop kept running while the import took half a second
    assert loader.loaded() is litellm_module


def test_the_import_happens_once_for_every_caller(litellm_module: ModuleType) -> None:
    imports: list[str] = []

    def counted() -> ModuleType:
        imports.append(threading.current_thread().name)
        return litellm_module

    loader = LiteLLMLoader(counted)
    assert loader.start() is loader.start()
    assert loader.start().result(timeout=5) is litellm_module
    assert imports == ["pocketflow-litellm-import"]


def test_a_failed_import_is_a_clear_error_on_the_first_call() -> None:
    def broken() -> ModuleType:
        raise ImportError("No module named 'litellm'")

    loader = LiteLLMLoader(broken)
    with pytest.raises(ConfigError, match=r"cannot import litellm.*pip install pocketflow-litellm"):
        asyncio.run(loader.module())
    assert loader.loaded() is None
