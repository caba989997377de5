"""Many calls in flight: spread over several small connection pools, all closed by aclose.

Through the installed openai, anthropic and gemini plugins and ``call_llm_async``, against the
local vendor server (in this process): 150 calls at once, the server holding each for
0.3 s so that all are in flight together. Every ``httpx2.AsyncClient`` the providers make
is recorded, to look into its connection pool (issue 22: a pool's bookkeeping costs
O(pool size) per request, so no pool may grow past :data:`pocketflow.client_set.POOL_SIZE`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx2
import pytest

import pocketflow
from pocketflow import call_llm_async
from pocketflow.client_set import POOL_SIZE

from vendor_server import VendorServer

CALLS = 150
MODELS = {
    "openai": "openai:gpt-4o-mini",
    "anthropic": "anthropic:claude-haiku-4-5",
    "gemini": "gemini:gemini-2.5-flash",
}


def record_http_clients(monkeypatch: pytest.MonkeyPatch) -> list[httpx2.AsyncClient]:
    """Every httpx2.AsyncClient made from now on (the SDK clients' HTTP clients)."""
    made: list[httpx2.AsyncClient] = []
    original = httpx2.AsyncClient.__init__

    def recording_init(self: httpx2.AsyncClient, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx2.AsyncClient, "__init__", recording_init)
    return made


def pool_connections(client: httpx2.AsyncClient) -> int:
    """Connections now in ``client``'s pool (the transport's httpcore pool)."""
    transport: Any = client._transport
    return len(transport._pool.connections)


def tls_context_of(client: httpx2.AsyncClient) -> object:
    """The TLS context ``client``'s pool opens connections with."""
    transport: Any = client._transport
    context: object = transport._pool._ssl_context
    return context


def write_config(vendor: str, server_url: str) -> None:
    """A pocketflow.toml pointing ``vendor`` at the server, :data:`CALLS` calls at once."""
    base = server_url + ("/v1" if vendor == "openai" else "")
    Path("pocketflow.toml").write_text(
        f'[providers.{vendor}]\nbase_url = "{base}"\nmax_concurrency = {CALLS}\n'
    )


async def eventually(condition: Any, timeout: float = 2.0) -> bool:
    """Whether ``condition()`` holds within ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.mark.parametrize("vendor", sorted(MODELS))
def test_calls_in_flight_spread_over_small_pools_and_aclose_closes_them_all(
    pocketflow_env: pytest.MonkeyPatch, vendor: str
) -> None:
    pocketflow_env.setenv("OPENAI_API_KEY", "sk-test")
    pocketflow_env.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    pocketflow_env.setenv("GEMINI_API_KEY", "AIza-test")
    made = record_http_clients(pocketflow_env)

    async def scenario() -> dict[str, Any]:
        async with VendorServer(latency=0.3) as server:
            write_config(vendor, server.base_url)
            replies = await asyncio.gather(
                *(call_llm_async(f"[call-{i}] Hi", model=MODELS[vendor]) for i in range(CALLS))
            )
            seen: dict[str, Any] = {
                "replies": replies,
                "max_in_flight": server.stats.max_in_flight,
                "pooled": [pool_connections(client) for client in made],
                "open_before": server.stats.open_connections,
            }
            await pocketflow.aclose()
            seen["all_closed"] = await eventually(lambda: server.stats.open_connections == 0)
            seen["pooled_after"] = [pool_connections(client) for client in made]
            seen["clients_closed"] = [client.is_closed for client in made]
            return seen

    seen = asyncio.run(scenario())

    assert seen["replies"] == [f"echo: [call-{i}] Hi" for i in range(CALLS)]
    assert seen["max_in_flight"] == CALLS
    # 150 connections in pools of at most 32: five clients, every connection kept alive.
    assert len(made) == -(-CALLS // POOL_SIZE)
    assert max(seen["pooled"]) <= POOL_SIZE
    assert sum(seen["pooled"]) == CALLS == seen["open_before"]
    # One TLS context for the set (each would cost a CA bundle load), not one per client.
    assert len({id(tls_context_of(client)) for client in made}) == 1
    # aclose closed every client and every connection: none left open on either side.
    assert seen["clients_closed"] == [True] * len(made)
    assert seen["pooled_after"] == [0] * len(made)
    assert seen["all_closed"]
