"""embed_async on openai against the local vendor server in a fault storm.

The server (in this process, real time, a 2 ms latency) answers 20% of embedding
requests with 429, 5% with 500 and drops 2% of connections; the core's retry waits run
on the fake clock. 600 texts go in 60 batches of 10 at once: every vector must come
back, in order, each batch answered exactly once, and no request made beyond what the
faults explain.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import pocketflow
from pocketflow import embed_async, testing

from vendor_server import FaultConfig, VendorServer, _vector

TEXTS = [f"text number {n} about topic {n % 13}" for n in range(600)]
BATCH = 10
FAULTS = FaultConfig(rate_429=0.20, rate_500=0.05, rate_drop=0.02, retry_after=0.01, seed=3)


def test_a_storm_loses_no_vector_and_answers_each_batch_once(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    pocketflow_env.setenv("STORM_KEY", "sk-storm")

    async def scenario() -> tuple[pocketflow.Embeddings, dict[str, object]]:
        async with VendorServer(latency=0.002, faults=FAULTS, embedding_dimensions=4) as server:
            config = (
                f'[providers.storm]\nkind = "openai"\nbase_url = "{server.base_url}/v1"\n'
                'api_key_env = "STORM_KEY"\nmax_retries = 8\n'
            )
            await asyncio.to_thread(Path("pocketflow.toml").write_text, config)
            try:
                with testing.fake_clock():
                    result = await embed_async(
                        TEXTS, model="storm:text-embedding-3-small", batch_size=BATCH
                    )
            finally:
                await pocketflow.aclose()
            return result, server.stats.snapshot()

    result, stats = asyncio.run(scenario())

    assert result.vectors == [_vector(text, 4) for text in TEXTS]
    assert result.batches == len(TEXTS) // BATCH
    faults = stats["by_fault"]
    assert isinstance(faults, dict)
    failed = faults.get("429", 0) + faults.get("500", 0) + faults.get("drop", 0)
    assert failed > 10  # the storm did blow
    assert stats["replies_ok"] == result.batches  # each batch answered once
    assert stats["requests"] == result.batches + failed == result.attempts
