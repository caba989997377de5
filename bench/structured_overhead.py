"""CPU a structured call adds over a plain one, through the facade (issue 18).

Against the local vendor server (a separate process, see ``vendor_server.py``,
answering at once), one interpreter makes blocks of calls on ``openai:`` and on
``anthropic:``, alternating plain blocks (``call_llm_async(prompt)``) with
structured blocks (``call_llm_async(prompt, output=EchoedReply)``: the schema is
sent, the reply validated and built into a dataclass). The prompt of a structured
call is JSON the server echoes back, so every reply fits. CPU per call is the
process's CPU time over a block divided by its calls; each figure is the least over
the blocks (other load on a shared machine only adds), and ``ratio`` is structured
over plain, same run. Target: at most 1.10.

    uv run python bench/structured_overhead.py                  # ~1 minute
    uv run python bench/structured_overhead.py --calls 200 --rounds 3   # a quick look

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from llm_throughput import EchoedReply, facade_config, structured_prompt_for

from sdk_baseline import ANTHROPIC_MAX_TOKENS, ANTHROPIC_MODEL, OPENAI_MODEL, prompt_for
from vendor_server import start_server_process

TARGET = 1.10
MODELS = {"openai": f"openai:{OPENAI_MODEL}", "anthropic": f"anthropic:{ANTHROPIC_MODEL}"}


async def block(call: Callable[[int], Awaitable[str]], calls: int, concurrency: int) -> float:
    """CPU milliseconds per call over ``calls`` calls made by ``concurrency`` workers."""
    indices = iter(range(calls))

    async def worker() -> None:
        for index in indices:
            reply = await call(index)
            if f"[call-{index}]" not in reply:
                raise AssertionError(f"call {index} got a reply for another call: {reply!r}")

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return 1000 * (time.process_time() - started) / calls


async def measure(vendor: str, calls: int, concurrency: int, rounds: int) -> dict[str, Any]:
    """Plain and structured blocks on ``vendor``, alternating; the least CPU per call of each."""
    import pocketflow

    model = MODELS[vendor]

    async def plain(index: int) -> str:
        return await pocketflow.call_llm_async(
            prompt_for(index), model=model, max_tokens=ANTHROPIC_MAX_TOKENS
        )

    async def structured(index: int) -> str:
        reply = await pocketflow.call_llm_async(
            structured_prompt_for(index),
            model=model,
            output=EchoedReply,
            max_tokens=ANTHROPIC_MAX_TOKENS,
        )
        return reply.call

    runs: dict[str, list[float]] = {"plain": [], "structured": []}
    try:
        await block(plain, concurrency, concurrency)  # warm-up: connections, imports
        await block(structured, concurrency, concurrency)
        for _ in range(rounds):
            runs["plain"].append(round(await block(plain, calls, concurrency), 4))
            runs["structured"].append(round(await block(structured, calls, concurrency), 4))
    finally:
        await pocketflow.aclose()
    best = {kind: min(values) for kind, values in runs.items()}
    ratio = round(best["structured"] / best["plain"], 3)
    return {
        "plain_cpu_ms_per_call": best["plain"],
        "structured_cpu_ms_per_call": best["structured"],
        "ratio": ratio,
        "target": f"<= {TARGET}",
        "met": ratio <= TARGET,
        "runs": runs,
    }


def main() -> None:
    """Run both vendors and print one JSON line."""
    parser = argparse.ArgumentParser(description="Structured vs plain call CPU, same run.")
    parser.add_argument("--calls", type=int, default=400, help="calls per block")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=6, help="blocks of each kind")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with (
        start_server_process(latency=0.0) as (_process, base_url),
        tempfile.TemporaryDirectory(prefix="pocketflow-bench-") as folder,
    ):
        config = Path(folder) / "pocketflow.toml"
        config.write_text(facade_config(base_url, args.concurrency), encoding="utf-8")
        os.environ["POCKETFLOW_CONFIG"] = str(config)
        os.environ["OPENAI_API_KEY"] = "test"
        os.environ["ANTHROPIC_API_KEY"] = "test"
        for vendor in MODELS:
            results[vendor] = asyncio.run(
                measure(vendor, args.calls, args.concurrency, args.rounds)
            )
    print(
        json.dumps(
            {
                "benchmark": "structured_overhead",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "calls_per_block": args.calls,
                "concurrency": args.concurrency,
                "rounds": args.rounds,
                "vendors": results,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
