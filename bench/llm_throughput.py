"""Throughput of ``call_llm_async`` beside the bare vendor SDKs (issue 10).

The two regimes of issue 10, run against the local vendor server (a separate process,
see ``vendor_server.py``) through the facade on ``openai:``, ``anthropic:`` and ``gemini:``, and
through the bare SDKs (the client kinds of ``sdk_baseline.py``) in the same run:

- latency-bound: 1,000 calls at concurrency 50, the server answering after 500 ms.
  The ideal (a client that costs nothing) is 20 waves of 0.5 s = 10 s.
  ``ratio_to_ideal`` is actual / ideal wall time (as in ``sdk_baseline.py``: 1.0 is
  ideal, more is slower); ``ideal_over_actual`` is its inverse, the issue's
  "fraction of ideal" (target: >= 0.9, i.e. at most 1.11x the ideal time).
- CPU-bound: 2,000 calls at concurrency 200, the server answering after 50 ms; the
  client's CPU is the limit. Targets: the facade makes >= 0.9x the bare SDK's calls/s
  and spends <= 1.15x its client CPU per call.

Each measurement runs in a fresh interpreter (so ``peak_rss_mb``, the process's
``ru_maxrss``, means one client kind), after a warm-up of one wave of calls; the
CPU-bound regime times 3 runs per measurement. The whole list of client kinds is
measured ``--rounds`` times, interleaved, and each figure is the best over all runs
and rounds (least wall time, least CPU: other load on a shared machine only adds).

The facade kinds (``openai-facade``, ``anthropic-facade``, ``gemini-facade``) configure the
providers through a ``pocketflow.toml`` in a temporary directory named by ``POCKETFLOW_CONFIG``,
with ``max_concurrency`` at least the regime's concurrency so the core's per-provider
limit (default 64) never queues a call. The anthropic facade passes ``max_tokens=256``
as the bare anthropic client does.

    uv run python bench/llm_throughput.py                 # every regime (issues 10, 22), ~30 min
    uv run python bench/llm_throughput.py --scale 0.1 --rounds 1    # a quick look
    uv run python bench/llm_throughput.py --regime cpu_bound --clients openai-bare,openai-facade
    uv run python bench/llm_throughput.py --regime cpu_bound --rounds 3 --scale 0.5 \
        --clients openai-facade,openai-structured,anthropic-facade,anthropic-structured

The concurrency regimes of issue 22 (the same ``max_concurrency`` for the facade kinds
and pool size for the bare kinds as the regime's concurrency):

- ``cpu_bound_64``, ``cpu_bound_200``, ``cpu_bound_1000``: the CPU-bound regime (2,000
  calls, 50 ms latency, best of 3 runs) at 64, 200 and 1,000 calls in flight.
  ``targets.<vendor>.concurrency`` gives the facade's CPU per call at 200 and at 1,000
  over that at 64 (target: at most 1.15) and its calls/s at 200 over that at 64 (target:
  at least 1.0), with the bare SDK's same ratios beside them.
- ``high_concurrency``: 5,000 calls at 1,000 in flight, the server answering after 2 s
  (ideal: 5 waves = 10 s); ``targets.<vendor>.high_concurrency`` gives the facade's
  fraction of ideal (target: at least 0.9) and peak RSS beside the bare SDK's.

    uv run python bench/llm_throughput.py --rounds 1 --regime cpu_bound_64 \
        --regime cpu_bound_200 --regime cpu_bound_1000 --regime high_concurrency

The ``*-structured`` kinds ask for ``output=EchoedReply`` (a dataclass; the prompt is
JSON the server echoes back), so the schema is sent and every reply validated and
built; ``targets.<vendor>.structured_vs_plain`` compares their CPU per call with the
plain facade kind's of the same run (issue 18: at most 1.10).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from sdk_baseline import (
    ANTHROPIC_MAX_TOKENS,
    ANTHROPIC_MODEL,
    CLIENTS,
    GEMINI_MODEL,
    OPENAI_MODEL,
    REGIMES,
    CallOne,
    ClientFactory,
    Regime,
    marker_for,
    measure_main,
    prompt_for,
    run_regime,
)

THIS_SCRIPT = Path(__file__).resolve()
VENDORS = ("openai", "anthropic", "gemini")
DEFAULT_CLIENTS = (
    "openai-bare",
    "openai-facade",
    "anthropic-bare",
    "anthropic-facade",
    "gemini-bare",
    "gemini-facade",
)
MODELS = {
    "openai": f"openai:{OPENAI_MODEL}",
    "anthropic": f"anthropic:{ANTHROPIC_MODEL}",
    "gemini": f"gemini:{GEMINI_MODEL}",
}
LATENCY_TARGET = 0.9
"""Latency-bound: ideal / actual wall time must be at least this."""
CALLS_PER_S_TARGET = 0.9
"""CPU-bound: facade calls/s over bare SDK calls/s must be at least this."""
CPU_TARGET = 1.15
"""CPU-bound: facade CPU per call over bare SDK CPU per call must be at most this."""
STRUCTURED_CPU_TARGET = 1.10
"""CPU-bound: a structured call's CPU over a plain facade call's must be at most this (issue 18)."""
CONCURRENCY_CPU_TARGET = 1.15
"""CPU per call at 200 or 1,000 in flight over that at 64 must be at most this (issue 22)."""
CONCURRENCY_SPEED_TARGET = 1.0
"""Calls/s at 200 in flight over calls/s at 64 must be at least this (issue 22)."""
CPU_BOUND_IN_FLIGHT = (64, 200, 1000)
"""In-flight counts of the ``cpu_bound_<N>`` regimes; the first is the baseline."""

THROUGHPUT_REGIMES: dict[str, Regime] = {
    **REGIMES,
    **{
        f"cpu_bound_{n}": Regime(
            f"cpu_bound_{n}", calls=2000, concurrency=n, latency=0.05, repeat=3
        )
        for n in CPU_BOUND_IN_FLIGHT
    },
    "high_concurrency": Regime("high_concurrency", calls=5000, concurrency=1000, latency=2.0),
}
"""sdk_baseline's regimes plus issue 22's: the CPU-bound regime at each in-flight count,
and 5,000 calls at 1,000 in flight with 2 s latency."""


def facade_config(base_url: str, concurrency: int) -> str:
    """A ``pocketflow.toml`` pointing every provider at the server, limits opened up."""
    limit = max(64, concurrency)
    return (
        f'[providers.openai]\nbase_url = "{base_url}/v1"\nmax_concurrency = {limit}\n\n'
        f'[providers.anthropic]\nbase_url = "{base_url}"\nmax_concurrency = {limit}\n\n'
        f'[providers.gemini]\nbase_url = "{base_url}"\nmax_concurrency = {limit}\n'
    )


@dataclass
class EchoedReply:
    """The structured output of the ``*-structured`` kinds: the server echoes the JSON."""

    call: str
    summary: str


def structured_prompt_for(index: int) -> str:
    """A prompt whose echo (``echo: {...}``) is a valid :class:`EchoedReply` naming the call."""
    return json.dumps({"call": marker_for(index), "summary": "one short sentence on throughput"})


def facade_client(vendor: str, *, structured: bool = False) -> ClientFactory:
    """The client kind calling ``pocketflow.call_llm_async`` on ``vendor``; with
    ``structured``, asking for ``output=EchoedReply`` (schema sent, reply validated)."""

    @asynccontextmanager
    async def factory(base_url: str, concurrency: int) -> AsyncIterator[CallOne]:
        import pocketflow
        from pocketflow.runtime import reset_runtime

        with tempfile.TemporaryDirectory(prefix="pocketflow-bench-") as folder:
            config = Path(folder) / "pocketflow.toml"
            config.write_text(facade_config(base_url, concurrency), encoding="utf-8")
            os.environ["POCKETFLOW_CONFIG"] = str(config)
            os.environ["OPENAI_API_KEY"] = "test"
            os.environ["ANTHROPIC_API_KEY"] = "test"
            os.environ["GEMINI_API_KEY"] = "test"
            reset_runtime()
            call_llm_async = pocketflow.call_llm_async
            model = MODELS[vendor]

            if structured:

                async def call_one(index: int) -> str:
                    reply = await call_llm_async(
                        structured_prompt_for(index), model=model, output=EchoedReply,
                        max_tokens=ANTHROPIC_MAX_TOKENS,
                    )  # fmt: skip
                    return reply.call

            elif vendor != "anthropic":

                async def call_one(index: int) -> str:
                    return await call_llm_async(prompt_for(index), model=model)

            else:

                async def call_one(index: int) -> str:
                    return await call_llm_async(
                        prompt_for(index), model=model, max_tokens=ANTHROPIC_MAX_TOKENS
                    )

            try:
                yield call_one
            finally:
                await pocketflow.aclose()

    return factory


ALL_CLIENTS: dict[str, ClientFactory] = {
    **CLIENTS,
    "openai-facade": facade_client("openai"),
    "anthropic-facade": facade_client("anthropic"),
    "openai-structured": facade_client("openai", structured=True),
    "anthropic-structured": facade_client("anthropic", structured=True),
    "gemini-facade": facade_client("gemini"),
    "gemini-structured": facade_client("gemini", structured=True),
}
"""sdk_baseline's client kinds plus the facade kinds (plain and structured output)."""


def merge_rounds(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One client's reports from several rounds as one: best timings, worst memory."""
    best_wall = min(rounds, key=lambda r: r["wall_s"])
    return {
        "rounds": len(rounds),
        "runs": sum(r["runs"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "wrong_replies": sum(r["wrong_replies"] for r in rounds),
        "first_error": next((r["first_error"] for r in rounds if r["first_error"]), None),
        "all_calls_once": all(r["all_calls_once"] for r in rounds),
        "wall_s": best_wall["wall_s"],
        "ratio_to_ideal": best_wall["ratio_to_ideal"],
        "ideal_over_actual": round(1.0 / best_wall["ratio_to_ideal"], 3),
        "calls_per_s": max(r["calls_per_s"] for r in rounds),
        "cpu_ms_per_call": min(r["cpu_ms_per_call"] for r in rounds),
        "calls_per_s_runs": [x for r in rounds for x in r["calls_per_s_runs"]],
        "cpu_ms_per_call_runs": [x for r in rounds for x in r["cpu_ms_per_call_runs"]],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in rounds),
        "server_cpu_ms_per_request": min(r["server_cpu_ms_per_request"] for r in rounds),
        "server_max_in_flight": max(r["server_max_in_flight"] for r in rounds),
    }


def run_rounds(regime: Regime, clients: Sequence[str], rounds: int) -> dict[str, Any]:
    """Measure every client under ``regime`` ``rounds`` times, interleaved; merge."""
    reports: dict[str, list[dict[str, Any]]] = {client: [] for client in clients}
    summary: dict[str, Any] = {}
    for _ in range(rounds):
        summary = run_regime(regime, clients, script=THIS_SCRIPT)
        for client, report in summary["results"].items():
            reports[client].append(report)
    summary["rounds"] = rounds
    summary["results"] = {client: merge_rounds(runs) for client, runs in reports.items()}
    return summary


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def verdicts(regimes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The issue's targets, checked against the figures measured (facade vs bare SDK)."""
    found: dict[str, Any] = {}
    latency = regimes.get("latency_bound", {}).get("results", {})
    cpu = regimes.get("cpu_bound", {}).get("results", {})
    for vendor in VENDORS:
        facade, bare = f"{vendor}-facade", f"{vendor}-bare"
        checks: dict[str, Any] = {}
        if facade in latency:
            fraction = latency[facade]["ideal_over_actual"]
            checks["latency_bound"] = {
                "ideal_over_actual": fraction,
                "ratio_to_ideal": latency[facade]["ratio_to_ideal"],
                "bare_ideal_over_actual": latency.get(bare, {}).get("ideal_over_actual"),
                "target": f">= {LATENCY_TARGET}",
                "met": fraction >= LATENCY_TARGET,
            }
        if facade in cpu and bare in cpu:
            speed = _ratio(cpu[facade]["calls_per_s"], cpu[bare]["calls_per_s"])
            cost = _ratio(cpu[facade]["cpu_ms_per_call"], cpu[bare]["cpu_ms_per_call"])
            checks["cpu_bound"] = {
                "calls_per_s_vs_bare": speed,
                "calls_per_s_target": f">= {CALLS_PER_S_TARGET}",
                "calls_per_s_met": speed is not None and speed >= CALLS_PER_S_TARGET,
                "cpu_per_call_vs_bare": cost,
                "cpu_per_call_target": f"<= {CPU_TARGET}",
                "cpu_per_call_met": cost is not None and cost <= CPU_TARGET,
                "peak_rss_vs_bare": _ratio(cpu[facade]["peak_rss_mb"], cpu[bare]["peak_rss_mb"]),
            }
        structured = f"{vendor}-structured"
        if facade in cpu and structured in cpu:
            overhead = _ratio(cpu[structured]["cpu_ms_per_call"], cpu[facade]["cpu_ms_per_call"])
            checks["structured_vs_plain"] = {
                "cpu_per_call_ratio": overhead,
                "target": f"<= {STRUCTURED_CPU_TARGET}",
                "met": overhead is not None and overhead <= STRUCTURED_CPU_TARGET,
            }
        checks.update(concurrency_verdicts(regimes, vendor))
        if checks:
            found[vendor] = checks
    return found


def concurrency_verdicts(regimes: Mapping[str, Mapping[str, Any]], vendor: str) -> dict[str, Any]:
    """Issue 22's targets for ``vendor``: CPU per call and calls/s as in-flight calls grow
    (facade, bare SDK beside it), and the high-concurrency regime's fraction of ideal."""
    checks: dict[str, Any] = {}
    base, *higher = CPU_BOUND_IN_FLIGHT
    runs = {n: regimes.get(f"cpu_bound_{n}", {}).get("results", {}) for n in CPU_BOUND_IN_FLIGHT}
    facade, bare = f"{vendor}-facade", f"{vendor}-bare"
    if facade in runs[base]:
        scaling: dict[str, Any] = {"cpu_target": f"<= {CONCURRENCY_CPU_TARGET}"}
        for kind in (facade, bare):
            if kind not in runs[base]:
                continue
            label = "facade" if kind == facade else "bare"
            at_base = runs[base][kind]
            scaling[f"{label}_cpu_ms_per_call"] = {
                str(n): runs[n][kind]["cpu_ms_per_call"]
                for n in CPU_BOUND_IN_FLIGHT
                if kind in runs[n]
            }
            scaling[f"{label}_calls_per_s"] = {
                str(n): runs[n][kind]["calls_per_s"] for n in CPU_BOUND_IN_FLIGHT if kind in runs[n]
            }
            for n in higher:
                if kind in runs[n]:
                    scaling[f"{label}_cpu_{n}_vs_{base}"] = _ratio(
                        runs[n][kind]["cpu_ms_per_call"], at_base["cpu_ms_per_call"]
                    )
            if kind in runs[200]:
                scaling[f"{label}_calls_per_s_200_vs_{base}"] = _ratio(
                    runs[200][kind]["calls_per_s"], at_base["calls_per_s"]
                )
        cpu_ratios = [scaling.get(f"facade_cpu_{n}_vs_{base}") for n in higher]
        scaling["cpu_met"] = all(r is not None and r <= CONCURRENCY_CPU_TARGET for r in cpu_ratios)
        speed = scaling.get(f"facade_calls_per_s_200_vs_{base}")
        scaling["calls_per_s_target"] = f">= {CONCURRENCY_SPEED_TARGET}"
        scaling["calls_per_s_met"] = speed is not None and speed >= CONCURRENCY_SPEED_TARGET
        checks["concurrency"] = scaling
    high = regimes.get("high_concurrency", {}).get("results", {})
    if facade in high:
        fraction = high[facade]["ideal_over_actual"]
        checks["high_concurrency"] = {
            "ideal_over_actual": fraction,
            "bare_ideal_over_actual": high.get(bare, {}).get("ideal_over_actual"),
            "target": f">= {LATENCY_TARGET}",
            "met": fraction >= LATENCY_TARGET,
            "peak_rss_mb": high[facade]["peak_rss_mb"],
            "bare_peak_rss_mb": high.get(bare, {}).get("peak_rss_mb"),
            "server_cpu_ms_per_request": high[facade]["server_cpu_ms_per_request"],
        }
    return checks


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def run_main(argv: Sequence[str]) -> None:
    """Run the regimes and print one JSON line."""
    parser = argparse.ArgumentParser(description="call_llm_async throughput vs bare SDKs.")
    parser.add_argument(
        "--regime",
        action="append",
        choices=sorted(THROUGHPUT_REGIMES),
        help="default: all (repeatable)",
    )
    parser.add_argument(
        "--clients",
        default=",".join(DEFAULT_CLIENTS),
        help=f"comma-separated kinds, from {', '.join(ALL_CLIENTS)}",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the call counts (quick runs)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="measure every client this many times, interleaved"
    )
    args = parser.parse_args(argv)
    clients = [name for name in args.clients.split(",") if name]
    unknown = sorted(set(clients) - set(ALL_CLIENTS))
    if unknown:
        parser.error(f"unknown clients {unknown}; choose from {sorted(ALL_CLIENTS)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    regimes: dict[str, Any] = {}
    for name in args.regime or list(THROUGHPUT_REGIMES):
        regime = THROUGHPUT_REGIMES[name]
        calls = max(regime.concurrency, round(regime.calls * args.scale))
        scaled = Regime(name, calls, regime.concurrency, regime.latency, regime.repeat)
        regimes[name] = run_rounds(scaled, clients, args.rounds)
    distributions = (
        "pocketflow-core",
        "pocketflow-openai",
        "pocketflow-anthropic",
        "pocketflow-gemini",
        "openai",
        "anthropic",
        "google-genai",
        "httpx2",
    )
    print(
        json.dumps(
            {
                "benchmark": "llm_throughput",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "scale": args.scale,
                "versions": {d: _version(d) for d in distributions},
                "regimes": regimes,
                "targets": verdicts(regimes),
            }
        ),
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``llm_throughput.py [run options]`` or ``llm_throughput.py measure ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "measure":
        measure_main(args[1:], ALL_CLIENTS)
    else:
        run_main(args)


if __name__ == "__main__":
    main()
