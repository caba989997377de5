"""Throughput of the bare vendor SDKs against the local vendor server (issue 10 baseline).

Every client kind is an async context manager factory ``(base_url, concurrency) ->
CallOne``; a ``CallOne`` makes call number ``i`` (its prompt carries the marker
``[call-i]``, see :func:`prompt_for`) and returns the reply text, which must name the
same marker. :func:`run_calls` runs N calls with C worker tasks pulling indices from one
shared counter, and :func:`measure` times a run after a warm-up (CPU with
``time.process_time``, peak memory with ``ru_maxrss``). To make peak memory mean one
measurement, :func:`measure_in_subprocess` runs each in a fresh interpreter (this file's
``measure`` sub-command, or another script's built with :func:`measure_main`).

Client kinds (:data:`CLIENTS`):

- ``openai-bare`` / ``anthropic-bare`` / ``gemini-bare``: ``AsyncOpenAI.chat.completions.create``
  / ``AsyncAnthropic.messages.create`` / google-genai's ``client.aio.models.generate_content``,
  pydantic models returned;
- ``openai-raw`` / ``anthropic-raw``: the same through ``with_raw_response``, reading
  ``http_response.json()`` and never calling ``parse()``: no response models built;
  ``gemini-raw``: google-genai's low-level ``_api_client.async_request`` of the wire JSON
  (no request converters, no response models), reading the body's JSON;
- ``openai-httpx2`` / ``anthropic-httpx2`` / ``gemini-httpx2``: a plain
  ``httpx2.AsyncClient.post`` of the same JSON, no SDK at all: the HTTP floor.

``bare - raw`` is the CPU the SDK spends building response models; ``raw - httpx2`` is
the rest of the SDK's own work (request options, transforms, headers, wrappers).

Run ``python bench/sdk_baseline.py`` for the two regimes of issue 10 (latency-bound:
1,000 calls at concurrency 50 with 500 ms latency, against the ideal of 10 s;
CPU-bound: 2,000 calls at concurrency 200 with 50 ms latency, best of 3 runs since the
CPU figures are the point); it prints one JSON line. ``--scale 0.1`` makes a quick run.
A later benchmark reuses this by adding its own factories to a copy of
:data:`CLIENTS` and calling :func:`measure_main` / :func:`run_regime` with its own path.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx2

from vendor_server import fetch_stats, reset_stats, start_server_process

CallOne = Callable[[int], Awaitable[str]]
"""Make call number ``index`` and return the reply text."""
ClientFactory = Callable[[str, int], AbstractAsyncContextManager[CallOne]]
"""``(server base_url, concurrency) ->`` an async context yielding a :data:`CallOne`."""

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"
ANTHROPIC_MAX_TOKENS = 256
GEMINI_MODEL = "gemini-2.5-flash"
THIS_SCRIPT = Path(__file__).resolve()


def prompt_for(index: int) -> str:
    """The user prompt of call ``index``; the server echoes its marker back."""
    return f"{marker_for(index)} Reply with one short sentence about throughput."


def marker_for(index: int) -> str:
    """The call marker of call ``index`` (the server's call key in brackets)."""
    return f"[call-{index}]"


def pooled_http_client(concurrency: int) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` whose pool holds ``concurrency`` kept-alive connections.

    ``trust_env=False``: the server is on 127.0.0.1, so no proxy from the environment.
    """
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx2.AsyncClient(limits=limits, trust_env=False)


def _user_messages(index: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt_for(index)}]


def openai_client(base_url: str, concurrency: int) -> Any:
    """A bare ``AsyncOpenAI`` on a pool of ``concurrency`` connections, no retries."""
    import openai

    return openai.AsyncOpenAI(
        base_url=base_url + "/v1",
        api_key="test",
        max_retries=0,
        http_client=pooled_http_client(concurrency),
    )


def anthropic_client(base_url: str, concurrency: int) -> Any:
    """A bare ``AsyncAnthropic`` on a pool of ``concurrency`` connections, no retries."""
    import anthropic

    return anthropic.AsyncAnthropic(
        base_url=base_url,
        api_key="test",
        max_retries=0,
        http_client=pooled_http_client(concurrency),
    )


@asynccontextmanager
async def openai_bare(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """``AsyncOpenAI.chat.completions.create``, reply from the pydantic model."""

    client = openai_client(base_url, concurrency)

    async def call_one(index: int) -> str:
        completion = await client.chat.completions.create(
            model=OPENAI_MODEL, messages=[{"role": "user", "content": prompt_for(index)}]
        )
        return completion.choices[0].message.content or ""

    try:
        yield call_one
    finally:
        await client.close()


@asynccontextmanager
async def openai_raw(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """``with_raw_response.create``; reply from ``http_response.json()``, no model built."""

    client = openai_client(base_url, concurrency)

    async def call_one(index: int) -> str:
        raw = await client.chat.completions.with_raw_response.create(
            model=OPENAI_MODEL, messages=[{"role": "user", "content": prompt_for(index)}]
        )
        data = raw.http_response.json()
        return str(data["choices"][0]["message"]["content"])

    try:
        yield call_one
    finally:
        await client.close()


@asynccontextmanager
async def openai_httpx2(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """The same request with ``httpx2`` alone: the floor under any OpenAI client."""
    http = pooled_http_client(concurrency)
    url = base_url + "/v1/chat/completions"
    headers = {"authorization": "Bearer test"}

    async def call_one(index: int) -> str:
        payload = {"model": OPENAI_MODEL, "messages": _user_messages(index)}
        response = await http.post(url, json=payload, headers=headers)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    try:
        yield call_one
    finally:
        await http.aclose()


@asynccontextmanager
async def anthropic_bare(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """``AsyncAnthropic.messages.create``, reply from the pydantic model."""

    client = anthropic_client(base_url, concurrency)

    async def call_one(index: int) -> str:
        message = await client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=ANTHROPIC_MAX_TOKENS,
            messages=[{"role": "user", "content": prompt_for(index)}],
        )
        block = message.content[0]
        return block.text if block.type == "text" else ""

    try:
        yield call_one
    finally:
        await client.close()


@asynccontextmanager
async def anthropic_raw(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """``with_raw_response.create``; reply from ``http_response.json()``, no model built."""

    client = anthropic_client(base_url, concurrency)

    async def call_one(index: int) -> str:
        raw = await client.messages.with_raw_response.create(
            model=ANTHROPIC_MODEL,
            max_tokens=ANTHROPIC_MAX_TOKENS,
            messages=[{"role": "user", "content": prompt_for(index)}],
        )
        data = raw.http_response.json()
        return str(data["content"][0]["text"])

    try:
        yield call_one
    finally:
        await client.close()


@asynccontextmanager
async def anthropic_httpx2(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """The same request with ``httpx2`` alone: the floor under any Anthropic client."""
    http = pooled_http_client(concurrency)
    url = base_url + "/v1/messages"
    headers = {"x-api-key": "test", "anthropic-version": "2023-06-01"}

    async def call_one(index: int) -> str:
        payload = {
            "model": ANTHROPIC_MODEL,
            "max_tokens": ANTHROPIC_MAX_TOKENS,
            "messages": _user_messages(index),
        }
        response = await http.post(url, json=payload, headers=headers)
        response.raise_for_status()
        return str(response.json()["content"][0]["text"])

    try:
        yield call_one
    finally:
        await http.aclose()


def gemini_client(base_url: str, concurrency: int) -> Any:
    """A bare google-genai ``Client`` on a pool of ``concurrency`` connections, no retries."""
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        base_url=base_url,
        httpx_async_client=pooled_http_client(concurrency),
        retry_options=None,
    )
    return genai.Client(vertexai=False, api_key="test", http_options=options)


@asynccontextmanager
async def gemini_bare(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """google-genai's ``client.aio.models.generate_content``, reply from the pydantic model."""

    client = gemini_client(base_url, concurrency)

    async def call_one(index: int) -> str:
        reply = await client.aio.models.generate_content(
            model=GEMINI_MODEL, contents=prompt_for(index)
        )
        return reply.text or ""

    try:
        yield call_one
    finally:
        await client.aio.aclose()


def _gemini_body(index: int) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": prompt_for(index)}]}]}


@asynccontextmanager
async def gemini_raw(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """google-genai's low-level ``_api_client.async_request``: the SDK's URL, headers and
    errors, the wire JSON in and out, no converters and no response models."""

    client = gemini_client(base_url, concurrency)
    path = f"models/{GEMINI_MODEL}:generateContent"

    async def call_one(index: int) -> str:
        reply = await client._api_client.async_request("post", path, _gemini_body(index))
        data = json.loads(reply.body or "")
        return str(data["candidates"][0]["content"]["parts"][0]["text"])

    try:
        yield call_one
    finally:
        await client.aio.aclose()


@asynccontextmanager
async def gemini_httpx2(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
    """The same request with ``httpx2`` alone: the floor under any Gemini client."""
    http = pooled_http_client(concurrency)
    url = f"{base_url}/v1beta/models/{GEMINI_MODEL}:generateContent"
    headers = {"x-goog-api-key": "test"}

    async def call_one(index: int) -> str:
        response = await http.post(url, json=_gemini_body(index), headers=headers)
        response.raise_for_status()
        return str(response.json()["candidates"][0]["content"]["parts"][0]["text"])

    try:
        yield call_one
    finally:
        await http.aclose()


CLIENTS: dict[str, ClientFactory] = {
    "openai-bare": openai_bare,
    "openai-raw": openai_raw,
    "openai-httpx2": openai_httpx2,
    "anthropic-bare": anthropic_bare,
    "anthropic-raw": anthropic_raw,
    "anthropic-httpx2": anthropic_httpx2,
    "gemini-bare": gemini_bare,
    "gemini-raw": gemini_raw,
    "gemini-httpx2": gemini_httpx2,
}
"""Client kinds by name; copy and extend it to measure other callers."""


@dataclass
class RunResult:
    """The outcome of one :func:`run_calls`."""

    calls: int
    concurrency: int
    errors: int
    wrong_replies: int
    """Replies that did not name their own call marker."""
    first_error: str | None
    wall_s: float
    cpu_s: float

    @property
    def calls_per_s(self) -> float:
        """Calls finished per wall-clock second."""
        return self.calls / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        """Client process CPU milliseconds per call."""
        return 1000.0 * self.cpu_s / self.calls if self.calls else 0.0


async def run_calls(
    call_one: CallOne, *, calls: int, concurrency: int, first_index: int = 0
) -> RunResult:
    """Make calls ``first_index .. first_index + calls - 1`` with ``concurrency`` workers.

    Each worker takes the next index from one shared counter, so at most
    ``concurrency`` calls are in flight. Failures are counted, not raised.
    """
    counter = itertools.count(first_index)
    end = first_index + calls
    errors = 0
    wrong = 0
    first_error: str | None = None

    async def worker() -> None:
        nonlocal errors, wrong, first_error
        while (index := next(counter)) < end:
            try:
                reply = await call_one(index)
            except Exception as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
                continue
            if marker_for(index) not in reply:
                wrong += 1

    wall_start = time.perf_counter()
    cpu_start = time.process_time()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, calls))))
    cpu_s = time.process_time() - cpu_start
    wall_s = time.perf_counter() - wall_start
    return RunResult(calls, concurrency, errors, wrong, first_error, wall_s, cpu_s)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def measure(
    factory: ClientFactory,
    base_url: str,
    *,
    calls: int,
    concurrency: int,
    warmup: int,
    repeat: int = 1,
) -> dict[str, Any]:
    """Warm up (``warmup`` calls: lazy imports, open connections), then time ``calls``
    ``repeat`` times on the same client.

    Timings are the best of the runs (least wall, least CPU: other load on the machine
    only ever adds), with every run's figure beside them. Call indices: run ``r`` makes
    ``r * calls ..``, the warm-up ``repeat * calls ..``; none repeats.
    """
    runs: list[RunResult] = []
    async with factory(base_url, concurrency) as call_one:
        if warmup:
            await run_calls(
                call_one, calls=warmup, concurrency=concurrency, first_index=repeat * calls
            )
        peak_before = peak_rss_mb()
        for run in range(repeat):
            gc.collect()
            runs.append(
                await run_calls(
                    call_one, calls=calls, concurrency=concurrency, first_index=run * calls
                )
            )
        peak_after = peak_rss_mb()
    best_wall = min(runs, key=lambda r: r.wall_s)
    best_cpu = min(runs, key=lambda r: r.cpu_s)
    return {
        "runs": repeat,
        "warmup_calls": warmup,
        "errors": sum(r.errors for r in runs),
        "wrong_replies": sum(r.wrong_replies for r in runs),
        "first_error": next((r.first_error for r in runs if r.first_error), None),
        "wall_s": round(best_wall.wall_s, 3),
        "calls_per_s": round(best_wall.calls_per_s, 1),
        "cpu_ms_per_call": round(best_cpu.cpu_ms_per_call, 3),
        "cpu_ms_per_call_runs": [round(r.cpu_ms_per_call, 3) for r in runs],
        "calls_per_s_runs": [round(r.calls_per_s, 1) for r in runs],
        "peak_rss_mb": round(peak_after, 1),
        "run_rss_growth_mb": round(peak_after - peak_before, 1),
    }


def measure_main(argv: Sequence[str], clients: Mapping[str, ClientFactory]) -> None:
    """The ``measure`` sub-command: one measurement, printed as one JSON line."""
    parser = argparse.ArgumentParser(prog="measure")
    parser.add_argument("--client", required=True, choices=sorted(clients))
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    report = asyncio.run(
        measure(
            clients[args.client],
            args.base_url,
            calls=args.calls,
            concurrency=args.concurrency,
            warmup=args.warmup,
            repeat=args.repeat,
        )
    )
    print(json.dumps({"client": args.client, **report}), flush=True)


def measure_in_subprocess(
    client: str,
    base_url: str,
    *,
    calls: int,
    concurrency: int,
    warmup: int,
    repeat: int = 1,
    script: Path = THIS_SCRIPT,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Run ``script measure ...`` in a fresh interpreter and return its JSON report."""
    argv = [
        sys.executable,
        str(script),
        "measure",
        "--client",
        client,
        "--base-url",
        base_url,
        "--calls",
        str(calls),
        "--concurrency",
        str(concurrency),
        "--warmup",
        str(warmup),
        "--repeat",
        str(repeat),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"measurement {client} failed ({done.returncode}):\n{done.stderr}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


@dataclass(frozen=True)
class Regime:
    """A load shape: ``calls`` at ``concurrency`` against a server ``latency`` seconds slow.

    ``repeat`` runs of it per measurement, best taken (see :func:`measure`).
    """

    name: str
    calls: int
    concurrency: int
    latency: float
    repeat: int = 1

    @property
    def ideal_s(self) -> float:
        """The wall time if the client cost nothing: waves of ``concurrency`` calls."""
        return -(-self.calls // self.concurrency) * self.latency


REGIMES: dict[str, Regime] = {
    "latency_bound": Regime("latency_bound", calls=1000, concurrency=50, latency=0.5),
    "cpu_bound": Regime("cpu_bound", calls=2000, concurrency=200, latency=0.05, repeat=3),
}


def run_regime(
    regime: Regime, clients: Sequence[str], *, script: Path = THIS_SCRIPT
) -> dict[str, Any]:
    """Measure each client kind under ``regime``, each in a fresh subprocess.

    One server subprocess serves the regime; its counters are reset before each
    measurement and checked after it (every call reached it exactly once).
    """
    results: dict[str, Any] = {}
    with start_server_process(latency=regime.latency) as (_process, base_url):
        for client in clients:
            reset_stats(base_url)
            warmup = regime.concurrency
            report = measure_in_subprocess(
                client,
                base_url,
                calls=regime.calls,
                concurrency=regime.concurrency,
                warmup=warmup,
                repeat=regime.repeat,
                script=script,
            )
            stats = fetch_stats(base_url)
            report.pop("client", None)
            report["server_requests"] = stats["requests"]
            report["server_max_in_flight"] = stats["max_in_flight"]
            report["server_cpu_ms_per_request"] = round(
                1000 * stats["process_cpu_s"] / max(1, stats["requests"]), 3
            )
            report["keys_seen_twice"] = sum(1 for n in stats["by_key"].values() if n > 1)
            report["all_calls_once"] = (
                stats["requests"] == regime.calls * regime.repeat + warmup
                and report["keys_seen_twice"] == 0
            )
            report["ratio_to_ideal"] = round(report["wall_s"] / regime.ideal_s, 3)
            results[client] = report
    return {
        "calls": regime.calls,
        "concurrency": regime.concurrency,
        "latency_s": regime.latency,
        "ideal_s": regime.ideal_s,
        "runs_per_measurement": regime.repeat,
        "results": results,
    }


def cpu_split(results: Mapping[str, Mapping[str, Any]], vendor: str) -> dict[str, float] | None:
    """Split the bare SDK's CPU per call into HTTP floor, SDK request work and models."""
    try:
        bare = float(results[f"{vendor}-bare"]["cpu_ms_per_call"])
        raw = float(results[f"{vendor}-raw"]["cpu_ms_per_call"])
        floor = float(results[f"{vendor}-httpx2"]["cpu_ms_per_call"])
    except KeyError:
        return None
    return {
        "bare_ms": bare,
        "raw_ms": raw,
        "httpx2_ms": floor,
        "response_models_ms": round(bare - raw, 3),
        "response_models_share": round((bare - raw) / bare, 3),
        "sdk_request_side_ms": round(raw - floor, 3),
        "sdk_request_side_share": round((raw - floor) / bare, 3),
        "http_floor_share": round(floor / bare, 3),
    }


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def run_main(argv: Sequence[str]) -> None:
    """Run the regimes and print one JSON line."""
    parser = argparse.ArgumentParser(description="Bare vendor SDK throughput (issue 10).")
    parser.add_argument(
        "--regime", action="append", choices=sorted(REGIMES), help="default: all (repeatable)"
    )
    parser.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated kinds")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the call counts (quick runs)"
    )
    args = parser.parse_args(argv)
    clients = [name for name in args.clients.split(",") if name]
    unknown = sorted(set(clients) - set(CLIENTS))
    if unknown:
        parser.error(f"unknown clients {unknown}; choose from {sorted(CLIENTS)}")
    regimes: dict[str, Any] = {}
    for name in args.regime or list(REGIMES):
        regime = REGIMES[name]
        calls = max(regime.concurrency, round(regime.calls * args.scale))
        scaled = Regime(name, calls, regime.concurrency, regime.latency, regime.repeat)
        regimes[name] = run_regime(scaled, clients)
    cpu_results = regimes.get("cpu_bound", {}).get("results", {})
    print(
        json.dumps(
            {
                "benchmark": "sdk_baseline",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "versions": {
                    d: _version(d) for d in ("openai", "anthropic", "google-genai", "httpx2")
                },
                "regimes": regimes,
                "cpu_split_cpu_bound": {
                    vendor: cpu_split(cpu_results, vendor)
                    for vendor in ("openai", "anthropic", "gemini")
                },
            }
        ),
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``sdk_baseline.py [run options]`` or ``sdk_baseline.py measure ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "measure":
        measure_main(args[1:], CLIENTS)
    else:
        run_main(args)


if __name__ == "__main__":
    main()
