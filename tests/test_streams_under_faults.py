"""Streams through the facade against the local vendor server's faults, on every vendor.

A stream is retried only until its first chunk; after that a failure is final. The
deadline covers every chunk. Faults are forced per call with ``[fault:KIND*N]``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import pocketflow
from pocketflow import LLMResponse, stream_llm_async
from pocketflow.errors import DeadlineExceededError, MalformedResponseError
from pocketflow.testing import FakeClock

from vendor_server import FaultConfig, VendorServer

MODELS = {
    "openai": "openai:gpt-4o-mini",
    "anthropic": "anthropic:claude-haiku-4-5",
    "gemini": "gemini:gemini-2.5-flash",
}
SECRET = "sk-stream-test-secret"


@pytest.fixture(params=sorted(MODELS))
def vendor(request: pytest.FixtureRequest, pocketflow_env: pytest.MonkeyPatch) -> str:
    pocketflow_env.setenv("OPENAI_API_KEY", SECRET)
    pocketflow_env.setenv("ANTHROPIC_API_KEY", SECRET)
    pocketflow_env.setenv("GEMINI_API_KEY", SECRET)
    name: str = request.param
    return name


def configure(base_url: str, max_retries: int = 2) -> None:
    Path("pocketflow.toml").write_text(
        f'[providers.openai]\nbase_url = "{base_url}/v1"\nmax_retries = {max_retries}\n'
        f'[providers.anthropic]\nbase_url = "{base_url}"\nmax_retries = {max_retries}\n'
        f'[providers.gemini]\nbase_url = "{base_url}"\nmax_retries = {max_retries}\n',
        encoding="utf-8",
    )


async def collect(prompt: str, model: str, **options: Any) -> tuple[list[str], LLMResponse | None]:
    stream = stream_llm_async(prompt, model=model, **options)
    chunks = [chunk async for chunk in stream]
    return chunks, stream.response


def test_a_rate_limited_stream_is_retried_before_its_first_chunk(
    vendor: str, fake_clock: FakeClock
) -> None:
    async def scenario() -> tuple[list[str], LLMResponse | None, int]:
        async with VendorServer(faults=FaultConfig(retry_after=0.5)) as server:
            configure(server.base_url)
            try:
                chunks, response = await collect("[call-s1] [fault:429*1] Tell me.", MODELS[vendor])
            finally:
                await pocketflow.aclose()
            return chunks, response, server.stats.by_key["call-s1"]

    chunks, response, attempts_seen = asyncio.run(scenario())
    assert "".join(chunks) == "echo: [call-s1] [fault:429*1] Tell me."
    assert len(chunks) > 1
    assert response is not None and response.attempts == 2
    assert response.usage.output_tokens > 0
    assert attempts_seen == 2
    assert fake_clock.sleeps == [0.5]


def test_an_overloaded_stream_is_retried(vendor: str, fake_clock: FakeClock) -> None:
    async def scenario() -> tuple[list[str], int]:
        async with VendorServer() as server:
            configure(server.base_url)
            try:
                chunks, _ = await collect("[call-s2] [fault:529*2] Hello.", MODELS[vendor])
            finally:
                await pocketflow.aclose()
            return chunks, server.stats.by_key["call-s2"]

    chunks, attempts_seen = asyncio.run(scenario())
    assert "".join(chunks) == "echo: [call-s2] [fault:529*2] Hello."
    assert attempts_seen == 3


def test_a_broken_stream_is_a_malformed_reply_without_the_key(
    vendor: str, fake_clock: FakeClock
) -> None:
    async def scenario() -> tuple[BaseException, int]:
        async with VendorServer() as server:
            configure(server.base_url, max_retries=1)
            try:
                with pytest.raises(MalformedResponseError) as error:
                    await collect("[call-s3] [fault:malformed] Hello.", MODELS[vendor])
            finally:
                await pocketflow.aclose()
            return error.value, server.stats.by_key["call-s3"]

    error, attempts_seen = asyncio.run(scenario())
    assert MODELS[vendor] in str(error)
    assert SECRET not in str(error)
    assert 1 <= attempts_seen <= 2


def test_the_deadline_ends_a_slow_stream(vendor: str) -> None:
    async def scenario() -> int:
        faults = FaultConfig(slow_delay=5.0)
        async with VendorServer(faults=faults) as server:
            configure(server.base_url)
            try:
                with pytest.raises(DeadlineExceededError, match=r"0\.3s timeout"):
                    await collect("[call-s4] [fault:slow] Hello.", MODELS[vendor], timeout=0.3)
            finally:
                await pocketflow.aclose()
            return server.stats.by_key["call-s4"]

    assert asyncio.run(scenario()) == 1
