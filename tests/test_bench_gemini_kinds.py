"""The Gemini client kinds of bench/llm_throughput.py (bare SDK, raw SDK, plain httpx2,
the facade, structured output) make a few calls against the local vendor server: so the
benchmark keeps working. Only the figures' plumbing is checked, not the figures."""

from __future__ import annotations

import asyncio

import pytest
from llm_throughput import ALL_CLIENTS

from sdk_baseline import RunResult, run_calls
from vendor_server import VendorServer

KINDS = ["gemini-bare", "gemini-raw", "gemini-httpx2", "gemini-facade", "gemini-structured"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_gemini_kind_makes_its_calls(kind: str, pocketflow_env: pytest.MonkeyPatch) -> None:
    for variable in ("POCKETFLOW_CONFIG", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        pocketflow_env.setenv(variable, "restored after the test")  # the facade kinds set them

    async def scenario() -> tuple[RunResult, int]:
        async with VendorServer() as server:
            async with ALL_CLIENTS[kind](server.base_url, 4) as call_one:
                result = await run_calls(call_one, calls=8, concurrency=4)
            return result, sum(server.stats.by_path.values())  # v1 (the SDK) or v1beta

    result, requests = asyncio.run(scenario())
    assert (result.errors, result.wrong_replies, result.first_error) == (0, 0, None)
    assert requests == 8
