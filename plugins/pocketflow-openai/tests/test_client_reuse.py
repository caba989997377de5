"""One client set per provider and event loop: SDK clients with small pools, reused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
import respx
from openai_fakes import CHAT_URL, Runner, chat_completion

import pocketflow
from pocketflow import call_llm_async


def count_clients(monkeypatch: pytest.MonkeyPatch) -> list[openai.AsyncOpenAI]:
    """Record every AsyncOpenAI made from now on."""
    made: list[openai.AsyncOpenAI] = []
    original = openai.AsyncOpenAI.__init__

    def recording_init(self: openai.AsyncOpenAI, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(openai.AsyncOpenAI, "__init__", recording_init)
    return made


def test_two_hundred_calls_reuse_a_few_clients(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    made = count_clients(openai_env)
    route = vendor_http.post(CHAT_URL).respond(json=chat_completion())
    after_first_hundred: list[int] = []

    async def two_hundred_calls() -> list[str]:
        first = await asyncio.gather(*(call_llm_async(f"call {i}") for i in range(100)))
        after_first_hundred.append(len(made))
        second = await asyncio.gather(*(call_llm_async(f"again {i}") for i in range(100)))
        return first + second

    assert len(run(two_hundred_calls())) == 200
    assert route.call_count == 200
    # 64 calls in flight at most (max_concurrency), 32 connections a client: at most 2.
    assert 1 <= len(made) <= 2
    assert after_first_hundred == [len(made)]


def test_the_pool_is_sized_by_max_connections(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    limits: list[httpx2.Limits] = []
    original = httpx2.AsyncClient.__init__

    def recording_init(self: httpx2.AsyncClient, *args: Any, **kwargs: Any) -> None:
        limits.append(kwargs["limits"])
        original(self, *args, **kwargs)

    openai_env.setattr(httpx2.AsyncClient, "__init__", recording_init)
    Path("pocketflow.toml").write_text("[providers.openai]\nmax_connections = 8\n")
    vendor_http.post(CHAT_URL).respond(json=chat_completion())

    run(call_llm_async("hi"))

    assert limits == [httpx2.Limits(max_connections=8, max_keepalive_connections=8)]


def test_aclose_closes_every_client(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter
) -> None:
    made = count_clients(openai_env)
    vendor_http.post(CHAT_URL).respond(json=chat_completion())

    async def calls_then_close() -> None:
        await asyncio.gather(*(call_llm_async(f"call {i}") for i in range(100)))
        await pocketflow.aclose()

    asyncio.run(calls_then_close())

    assert made
    assert all(client._client.is_closed for client in made)
