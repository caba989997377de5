"""The litellm bridge's cost per call beside the openai plugin's, and a fault storm (issue 19).

Against the local vendor server (``vendor_server.py``, in another process), in one
interpreter, through ``call_llm_async``:

- ``openai-facade``: ``openai:gpt-4o-mini``, the openai plugin (the baseline);
- ``litellm-facade``: ``litellm:mistral/mistral-large-latest``, the litellm plugin, with
  ``base_url`` pointing LiteLLM's Mistral route (the OpenAI wire) at the same server;
- ``litellm-bare``: ``litellm.acompletion`` called directly with the same arguments, so
  ``bridge_vs_bare_litellm`` is what the plugin adds over LiteLLM itself.

Each kind makes ``--calls`` calls at ``--concurrency`` with the server answering after
``--latency`` seconds, after a warm-up wave; the kinds are measured ``--rounds`` times,
interleaved, and each figure is the best run (least wall time, least CPU: other load
on a shared machine only adds). CPU is this process's ``time.process_time`` per call
(LiteLLM's background threads included). ``import litellm`` is timed on its own.

The fault storm sends ``--storm-calls`` calls through ``litellm-facade`` to a server
that answers 20% of requests with 429 (``retry-after`` 50 ms), 5% with 500 and drops
2% of connections (as ``tests/test_load_and_faults.py``), with ``max_retries`` of
``--max-retries``: every call must end in its own answer or in one of the core's
normalised errors, no call may reach the server more than ``max_retries + 1`` times,
and none may be answered twice.

    uv run python bench/litellm_bridge.py
    uv run python bench/litellm_bridge.py --calls 100 --rounds 1 --storm-calls 50   # quick

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
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from sdk_baseline import OPENAI_MODEL, CallOne, marker_for, prompt_for, run_calls
from vendor_server import FaultConfig, fetch_stats, reset_stats, start_server_process

LITELLM_MODEL = "mistral/mistral-large-latest"
KINDS = ("openai-facade", "litellm-facade", "litellm-bare")
STORM = FaultConfig(rate_429=0.2, rate_500=0.05, rate_drop=0.02, retry_after=0.05, seed=19)

Kind = Callable[[str, int], Any]


def configure(base_url: str, concurrency: int, max_retries: int, folder: Path) -> None:
    """A ``pocketflow.toml`` pointing both providers at the server, limits opened up."""
    limit = max(64, concurrency)
    config = folder / "pocketflow.toml"
    config.write_text(
        f'[providers.openai]\nbase_url = "{base_url}/v1"\nmax_concurrency = {limit}\n'
        f"max_retries = {max_retries}\n\n"
        f'[providers.litellm]\nbase_url = "{base_url}/v1"\nmax_concurrency = {limit}\n'
        f"max_retries = {max_retries}\n",
        encoding="utf-8",
    )
    os.environ["POCKETFLOW_CONFIG"] = str(config)
    os.environ["OPENAI_API_KEY"] = "test"
    os.environ["MISTRAL_API_KEY"] = "test"
    from pocketflow.runtime import reset_runtime

    reset_runtime()


@asynccontextmanager
async def facade(model: str) -> AsyncIterator[CallOne]:
    """``call_llm_async`` on ``model``, the runtime's clients closed afterwards."""
    import pocketflow

    async def call_one(index: int) -> str:
        return await pocketflow.call_llm_async(prompt_for(index), model=model)

    try:
        yield call_one
    finally:
        await pocketflow.aclose()


@asynccontextmanager
async def bare_litellm(base_url: str) -> AsyncIterator[CallOne]:
    """``litellm.acompletion`` as a LiteLLM user calls it, retries off as the bridge's."""
    import litellm

    async def call_one(index: int) -> str:
        reply = await litellm.acompletion(
            model=LITELLM_MODEL,
            messages=[{"role": "user", "content": prompt_for(index)}],
            api_base=f"{base_url}/v1",
            api_key="test",
            num_retries=0,
            max_retries=0,
        )
        return str(reply.choices[0].message.content)

    yield call_one


def client(kind: str, base_url: str) -> Any:
    """The client context of ``kind`` (one of :data:`KINDS`)."""
    if kind == "openai-facade":
        return facade(f"openai:{OPENAI_MODEL}")
    if kind == "litellm-facade":
        return facade(f"litellm:{LITELLM_MODEL}")
    return bare_litellm(base_url)


async def measure(kind: str, base_url: str, calls: int, concurrency: int) -> dict[str, Any]:
    """One run of ``calls`` calls of ``kind``, after a warm-up wave."""
    async with client(kind, base_url) as call_one:
        await run_calls(call_one, calls=concurrency, concurrency=concurrency, first_index=10**6)
        result = await run_calls(call_one, calls=calls, concurrency=concurrency)
    return {
        "calls_per_s": round(result.calls_per_s, 1),
        "cpu_ms_per_call": round(result.cpu_ms_per_call, 3),
        "wall_s": round(result.wall_s, 3),
        "errors": result.errors,
        "wrong_replies": result.wrong_replies,
        "first_error": result.first_error,
    }


def best(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The best of several runs of one kind: most calls/s, least CPU per call."""
    return {
        "runs": len(runs),
        "calls_per_s": max(r["calls_per_s"] for r in runs),
        "cpu_ms_per_call": min(r["cpu_ms_per_call"] for r in runs),
        "wall_s": min(r["wall_s"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "wrong_replies": sum(r["wrong_replies"] for r in runs),
        "first_error": next((r["first_error"] for r in runs if r["first_error"]), None),
        "calls_per_s_runs": [r["calls_per_s"] for r in runs],
        "cpu_ms_per_call_runs": [r["cpu_ms_per_call"] for r in runs],
    }


def throughput(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Every kind, ``--rounds`` times interleaved, against a server without faults."""
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with start_server_process(latency=args.latency) as (_, base_url):
        configure(base_url, args.concurrency, 0, folder)
        for _ in range(args.rounds):
            for kind in KINDS:
                runs[kind].append(
                    asyncio.run(measure(kind, base_url, args.calls, args.concurrency))
                )
        server = fetch_stats(base_url)
    results = {kind: best(found) for kind, found in runs.items()}
    openai, bridge, bare = (results[k] for k in KINDS)
    return {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "latency_s": args.latency,
        "results": results,
        "litellm_vs_openai": {
            "calls_per_s": _ratio(bridge["calls_per_s"], openai["calls_per_s"]),
            "cpu_per_call": _ratio(bridge["cpu_ms_per_call"], openai["cpu_ms_per_call"]),
        },
        "bridge_vs_bare_litellm": {
            "calls_per_s": _ratio(bridge["calls_per_s"], bare["calls_per_s"]),
            "cpu_per_call": _ratio(bridge["cpu_ms_per_call"], bare["cpu_ms_per_call"]),
        },
        "server_cpu_s": server.get("process_cpu_s"),
    }


async def storm_calls(calls: int, concurrency: int) -> dict[str, Any]:
    """``calls`` calls through the bridge; each outcome classified."""
    import pocketflow
    from pocketflow.errors import LLMError

    outcomes: dict[str, int] = {"answered": 0, "wrong_answer": 0}
    errors: dict[str, int] = {}
    unnormalised: list[str] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            try:
                reply = await pocketflow.call_llm_async(
                    prompt_for(index), model=f"litellm:{LITELLM_MODEL}"
                )
            except LLMError as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                return
            except Exception as error:
                unnormalised.append(f"{type(error).__name__}: {error}"[:200])
                return
            outcomes["answered" if marker_for(index) in reply else "wrong_answer"] += 1

    try:
        await asyncio.gather(*(one(index) for index in range(calls)))
    finally:
        await pocketflow.aclose()
    return {**outcomes, "normalised_errors": errors, "unnormalised": unnormalised}


def fault_storm(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The bridge under 429s, 500s and dropped connections."""
    with start_server_process(latency=args.latency, faults=STORM) as (_, base_url):
        configure(base_url, args.concurrency, args.max_retries, folder)
        reset_stats(base_url)
        started = time.perf_counter()
        found = asyncio.run(storm_calls(args.storm_calls, args.concurrency))
        wall = time.perf_counter() - started
        stats = fetch_stats(base_url)
    attempts = stats["by_key"]
    ended = found["answered"] + found["wrong_answer"] + sum(found["normalised_errors"].values())
    most = max(attempts.values(), default=0)
    twice = sum(1 for count in stats["ok_by_key"].values() if count > 1)
    return {
        "calls": args.storm_calls,
        "faults": {kind: rate for kind, rate in STORM.rates() if rate},
        "max_retries": args.max_retries,
        "wall_s": round(wall, 3),
        **found,
        "requests": stats["requests"],
        "by_fault": stats["by_fault"],
        "max_attempts_per_call": most,
        "answered_twice": twice,
        "every_call_ended": ended == args.storm_calls and not found["unnormalised"],
        "attempts_within_budget": most <= args.max_retries + 1,
        "ok": (
            ended == args.storm_calls
            and not found["unnormalised"]
            and found["wrong_answer"] == 0
            and most <= args.max_retries + 1
            and twice == 0
        ),
    }


def import_seconds() -> float:
    """``import litellm`` as the plugin's loader does it, timed (once per process)."""
    from pocketflow_litellm.loader import LOADER

    started = time.perf_counter()
    LOADER.start().result()
    return round(time.perf_counter() - started, 2)


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description="The litellm bridge beside the openai plugin.")
    parser.add_argument("--calls", type=int, default=1000, help="calls per measured run")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05, help="server reply delay, s")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--storm-calls", type=int, default=500)
    parser.add_argument("--max-retries", type=int, default=6)
    args = parser.parse_args(argv)
    if min(args.calls, args.concurrency, args.rounds, args.storm_calls) < 1:
        parser.error("--calls, --concurrency, --rounds and --storm-calls must be at least 1")
    import_s = import_seconds()
    with tempfile.TemporaryDirectory(prefix="pocketflow-bench-") as folder:
        measured = throughput(args, Path(folder))
        storm = fault_storm(args, Path(folder))
    versions = ("pocketflow-core", "pocketflow-litellm", "pocketflow-openai", "litellm", "openai")
    print(
        json.dumps(
            {
                "benchmark": "litellm_bridge",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "versions": {d: _version(d) for d in versions},
                "import_litellm_s": import_s,
                "throughput": measured,
                "fault_storm": storm,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
