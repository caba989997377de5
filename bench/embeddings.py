"""What ``embed_async`` costs, and what batching concurrently buys (issue 19).

1. Facade overhead per call, on ``offline:hash`` (which only hashes a few words):
   ``direct`` awaits ``provider.embed(request)`` with the provider and the request made
   once beforehand; ``facade`` awaits ``embed_async(text, model="offline:hash")``.
   ``overhead_us`` = facade - direct: the core's cost per call (checking the texts,
   resolving the model, the limiter, deadline and retry loop, counting the call). Each
   is the client CPU (``time.process_time``) per call over ``--calls`` sequential
   calls, best of ``--repeat`` runs. ``llm_overhead_us`` is the same figure for
   ``complete_async`` on ``offline:echo`` in the same run, to compare with.
2. ``--texts`` texts (2,000) against the local vendor server's ``/v1/embeddings`` (in
   another process, ``--latency`` seconds a request), in batches of ``--batch-size``
   through the openai plugin: ``concurrent`` on a provider with the default
   concurrency limit (64), ``serial`` on the same endpoint with ``max_concurrency = 1``
   (a batch at a time, as a loop over batches would send them), ``one_request`` with
   the default batch size (2,048 inputs: the whole list in one request). Wall seconds,
   best of ``--repeat``; ``concurrent_speedup`` = serial / concurrent.

    uv run python bench/embeddings.py
    uv run python bench/embeddings.py --texts 200 --batch-size 20 --latency 0.01

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from typing import Any

import pocketflow
from pocketflow import complete_async, embed_async
from pocketflow.llm import build_request
from pocketflow.providers import EmbeddingRequest
from pocketflow.runtime import current_runtime

from call_policy import configured_toml, cpu_us_per_call
from vendor_server import start_server_process

TEXT = "how are failed calls retried"
CONFIG = """
[providers.bench]
kind = "openai"
base_url = "{url}/v1"
api_key_env = "BENCH_KEY"

[providers.serial]
kind = "openai"
base_url = "{url}/v1"
api_key_env = "BENCH_KEY"
max_concurrency = 1
"""


def overhead(calls: int, repeat: int) -> dict[str, float]:
    """CPU per call of the facade and of the provider called directly, on offline:hash."""
    with configured_toml(""):
        provider = current_runtime().provider("offline").provider
        request = EmbeddingRequest("hash", (TEXT,))

        async def direct() -> None:
            embed = provider.embed
            for _ in range(calls):
                await embed(request)

        async def facade() -> None:
            for _ in range(calls):
                await embed_async(TEXT, model="offline:hash")

        prompt = build_request(TEXT, "echo")

        async def llm_direct() -> None:
            complete = provider.complete
            for _ in range(calls):
                await complete(prompt)

        async def llm_facade() -> None:
            for _ in range(calls):
                await complete_async(TEXT, model="offline:echo")

        figures = {
            "direct_us": cpu_us_per_call(direct, calls, repeat),
            "facade_us": cpu_us_per_call(facade, calls, repeat),
            "llm_direct_us": cpu_us_per_call(llm_direct, calls, repeat),
            "llm_facade_us": cpu_us_per_call(llm_facade, calls, repeat),
        }
    figures["overhead_us"] = round(figures["facade_us"] - figures["direct_us"], 3)
    figures["llm_overhead_us"] = round(figures["llm_facade_us"] - figures["llm_direct_us"], 3)
    return figures


def batching(texts: int, batch_size: int, latency: float, repeat: int) -> dict[str, Any]:
    """Wall seconds for ``texts`` texts: concurrent batches, serial batches, one request."""
    items = [f"document {n}: {TEXT} at step {n % 97}" for n in range(texts)]
    ways: dict[str, tuple[str, int | None]] = {
        "concurrent": ("bench:text-embedding-3-small", batch_size),
        "serial": ("serial:text-embedding-3-small", batch_size),
        "one_request": ("bench:text-embedding-3-small", None),
    }
    os.environ["BENCH_KEY"] = "sk-bench"
    seconds: dict[str, float] = {}
    batches: dict[str, int] = {}
    with start_server_process(latency=latency) as (_, url), configured_toml(CONFIG.format(url=url)):

        async def measure() -> None:
            for name, (model, size) in ways.items():
                await embed_async(items[:2], model=model)  # warm-up: SDK, connection
                best = float("inf")
                for _ in range(repeat):
                    started = time.perf_counter()
                    result = await embed_async(items, model=model, batch_size=size)
                    best = min(best, time.perf_counter() - started)
                    assert len(result.vectors) == texts
                seconds[name], batches[name] = round(best, 4), result.batches
            await pocketflow.aclose()

        asyncio.run(measure())
    return {
        "texts": texts,
        "batch_size": batch_size,
        "latency_s": latency,
        "batches": batches["concurrent"],
        "concurrent_s": seconds["concurrent"],
        "serial_s": seconds["serial"],
        "one_request_s": seconds["one_request"],
        "concurrent_speedup": round(seconds["serial"] / seconds["concurrent"], 2),
        "texts_per_s_concurrent": round(texts / seconds["concurrent"]),
    }


def main() -> None:
    """Run both parts; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="sequential calls, part 1")
    parser.add_argument("--texts", type=int, default=2000, help="texts to embed, part 2")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05, help="server seconds a request")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    report: dict[str, Any] = {"bench": "embeddings", "python": platform.python_version()}
    report.update(overhead(arguments.calls, arguments.repeat))
    report.update(
        batching(arguments.texts, arguments.batch_size, arguments.latency, arguments.repeat)
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
