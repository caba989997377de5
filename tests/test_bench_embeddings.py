"""bench/embeddings.py runs as its users run it; the vendor server's /v1/embeddings route
answers as the openai SDK expects, faults included."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest

from examples_support import run_bench
from vendor_server import FaultConfig, VendorServer

TINY = ("--calls", "20", "--texts", "40", "--batch-size", "10", "--latency", "0.01")


def test_the_bench_prints_one_json_line_of_figures() -> None:
    report = run_bench("embeddings.py", *TINY, "--repeat", "1")
    assert report["bench"] == "embeddings"
    assert report["facade_us"] > 0 and report["direct_us"] > 0
    assert report["overhead_us"] == pytest.approx(report["facade_us"] - report["direct_us"])
    assert report["llm_overhead_us"] == pytest.approx(
        report["llm_facade_us"] - report["llm_direct_us"]
    )
    assert (report["texts"], report["batches"]) == (40, 4)
    assert report["concurrent_s"] > 0 and report["serial_s"] > 0
    # four batches one after another wait the latency four times; at once, about once
    assert report["serial_s"] >= 4 * 0.01
    assert report["concurrent_speedup"] == pytest.approx(
        report["serial_s"] / report["concurrent_s"], rel=0.05
    )


def _client(server: VendorServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)


def test_the_embeddings_route_has_the_sdks_schema() -> None:
    async def scenario() -> Any:
        async with VendorServer(embedding_dimensions=4) as server, _client(server) as client:
            model = "text-embedding-3-small"
            first = await client.embeddings.create(
                model=model, input=["a cat", "a dog sat"], encoding_format="float"
            )
            again = await client.embeddings.create(
                model=model, input="a cat", dimensions=3, encoding_format="float"
            )
            return first, again, server.stats.snapshot()

    first, again, stats = asyncio.run(scenario())
    assert [item.index for item in first.data] == [0, 1]
    assert [len(item.embedding) for item in first.data] == [4, 4]
    assert again.data[0].embedding == first.data[0].embedding[:3]  # deterministic per text
    assert first.usage.prompt_tokens == 5
    assert stats["by_path"] == {"/v1/embeddings": 2}


def test_the_embeddings_route_takes_forced_faults_and_refuses_bad_input() -> None:
    async def scenario() -> list[int]:
        statuses = []
        server = VendorServer(faults=FaultConfig(retry_after=0))
        async with server, _client(server) as client:
            for fault in ("429", "500"):
                with pytest.raises(openai.APIStatusError) as caught:
                    await client.embeddings.create(
                        model="m", input="x", extra_headers={"x-fault": fault}
                    )
                statuses.append(caught.value.status_code)
            with pytest.raises(openai.BadRequestError, match="'input' must be a string"):
                await client.embeddings.create(model="m", input=[])
        return statuses

    assert asyncio.run(scenario()) == [429, 500]
