"""A stream holds one of its provider's concurrency slots only while it is read: leaving
the loop early, closing it or dropping it gives the slot back at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from pocketflow import LLMStream, call_llm_async, stream_llm_async
from pocketflow.offline import Script
from pocketflow.runtime import current_runtime

ScriptFactory = Callable[..., Script]


@pytest.fixture
def one_slot(llm_script: ScriptFactory, pocketflow_env: pytest.MonkeyPatch) -> Script:
    """``offline:scripted`` answering "one two three", one call at a time."""
    Path("pocketflow.toml").write_text("[providers.offline]\nmax_concurrency = 1\n")
    return llm_script(["one two three"])


def slots_in_use() -> int:
    return current_runtime().provider("offline").gate.limiter.in_flight


async def next_call_answers() -> str:
    """A later call: it needs the one slot (and would wait for ever without it)."""
    return await asyncio.wait_for(call_llm_async("next"), 5)


def test_break_gives_the_slot_back_at_once(one_slot: Script) -> None:
    async def scenario() -> tuple[int, str, LLMStream]:
        stream = stream_llm_async("first")
        async for _ in stream:
            break
        in_use = slots_in_use()
        return in_use, await next_call_answers(), stream  # the stream is still alive

    in_use, answer, _ = asyncio.run(scenario())
    assert (in_use, answer) == (0, "one two three")


def test_aclose_gives_the_slot_back_at_once(one_slot: Script) -> None:
    async def scenario() -> tuple[int, int, str]:
        stream = stream_llm_async("first")
        await anext(stream)
        reading = slots_in_use()
        await stream.aclose()
        return reading, slots_in_use(), await next_call_answers()

    assert asyncio.run(scenario()) == (1, 0, "one two three")


def test_dropping_a_stream_gives_the_slot_back_at_once(one_slot: Script) -> None:
    async def scenario() -> tuple[int, str]:
        stream = stream_llm_async("first")
        await anext(stream)
        del stream  # no collection needed: the slot is back as the last reference goes
        return slots_in_use(), await next_call_answers()

    assert asyncio.run(scenario()) == (0, "one two three")


def test_a_stream_read_to_the_end_keeps_its_response(one_slot: Script) -> None:
    async def scenario() -> tuple[list[str], str | None, int]:
        stream = stream_llm_async("first")
        chunks = [chunk async for chunk in stream]
        return chunks, stream.response.text if stream.response else None, slots_in_use()

    assert asyncio.run(scenario()) == (["one", " two", " three"], "one two three", 0)
