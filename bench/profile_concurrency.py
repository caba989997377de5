"""Where a call's CPU goes at a given number of calls in flight (issue 22), by pyinstrument.

Runs ``llm_throughput.py``'s CPU-bound regime (the local vendor server in a subprocess
answering after 50 ms, ``--calls`` calls) with one client kind at ``--in-flight`` calls
at once, under pyinstrument, and reports the functions with the largest share of the
profile, counted inclusively (a function's share is the fraction of samples with it
anywhere on the stack, each sample counted once even when it recurses), beside the
CPU per call measured under the profiler. The first inclusive entries are the event
loop and the call's own chain (facade, policy, SDK, HTTP client); what follows them
shows where that chain spends its time; ``top_self`` lists time spent in a function's
own code:

    uv sync --all-packages --group bench      # pyinstrument is in the bench group only
    uv run python bench/profile_concurrency.py --in-flight 64
    uv run python bench/profile_concurrency.py --in-flight 1000 --client anthropic-facade
    uv run python bench/profile_concurrency.py --in-flight 200 --watch httpcore2 --text

``--watch`` reports the inclusive share of the named function (default: the HTTP
connection pool's bookkeeping, httpcore's ``_assign_requests_to_connections``, which
scans every connection and queued request of the pool each time a request starts or a
response is closed) as ``watched_share``. ``gc_collections`` counts the garbage
collector's runs per generation during the profiled calls; ``--gc freeze`` calls
``gc.freeze()`` after the warm-up (everything made so far leaves the collector's scans),
``--gc off`` disables the collector for the profiled calls. ``--text`` also prints
pyinstrument's own tree to stderr. The profile runs in this process after a warm-up
of one wave; figures under the profiler are higher than without it (several times, on
a busy machine), so compare shares and same-run ratios, not absolute CPU.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llm_throughput import ALL_CLIENTS

from sdk_baseline import run_calls
from vendor_server import start_server_process

INSTALL_HINT = (
    "pyinstrument is not installed: it is in the root's bench dependency group, "
    "run `uv sync --all-packages --group bench` first"
)


@dataclass
class Shares:
    """Seconds of the profile per function, inclusive and self, and in watched files."""

    inclusive: Counter[str] = field(default_factory=Counter)
    own: Counter[str] = field(default_factory=Counter)
    watched: float = 0.0


def profile_shares(root: Any, watch: str) -> Shares:
    """Time per function (``name (file:line)``) in the tree under ``root``.

    Inclusive time counts a function once per sample even where it appears more than
    once on a stack; watched time counts the outermost frame of the function ``watch``.
    """
    shares = Shares()

    def walk(frame: Any, on_stack: frozenset[str], in_watched: bool) -> None:
        key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        if key not in on_stack:
            shares.inclusive[key] += frame.time
        shares.own[key] += frame.total_self_time
        is_watched = frame.function == watch
        if is_watched and not in_watched:
            shares.watched += frame.time
        for child in frame.children:
            walk(child, on_stack | {key}, in_watched or is_watched)

    walk(root, frozenset(), False)
    return shares


def top_entries(counter: Counter[str], total: float, count: int) -> list[dict[str, Any]]:
    """The ``count`` largest entries of ``counter`` as shares of ``total``."""
    return [
        {"function": name, "share": round(seconds / total, 3)}
        for name, seconds in counter.most_common(count)
    ]


async def profiled_run(
    client: str, base_url: str, *, calls: int, in_flight: int, profiler: Any, gc_mode: str
) -> dict[str, Any]:
    """Warm up one wave, then make ``calls`` calls at ``in_flight`` under ``profiler``."""
    async with ALL_CLIENTS[client](base_url, in_flight) as call_one:
        await run_calls(call_one, calls=in_flight, concurrency=in_flight, first_index=calls)
        gc.collect()
        if gc_mode == "freeze":
            gc.freeze()
        elif gc_mode == "off":
            gc.disable()
        collections_before = [generation["collections"] for generation in gc.get_stats()]
        profiler.start()
        cpu_start = time.process_time()
        result = await run_calls(call_one, calls=calls, concurrency=in_flight)
        cpu_s = time.process_time() - cpu_start
        profiler.stop()
        collections = [
            generation["collections"] - before
            for generation, before in zip(gc.get_stats(), collections_before, strict=True)
        ]
        gc.enable()
    return {
        "gc": gc_mode,
        "gc_collections": collections,
        "errors": result.errors,
        "wrong_replies": result.wrong_replies,
        "first_error": result.first_error,
        "wall_s": round(result.wall_s, 3),
        "calls_per_s": round(result.calls_per_s, 1),
        "cpu_ms_per_call_profiled": round(1000 * cpu_s / calls, 3),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Profile one client kind at one in-flight count; print one JSON line."""
    parser = argparse.ArgumentParser(description="Profile call_llm_async at N calls in flight.")
    parser.add_argument("--in-flight", type=int, default=200, help="calls at once (default 200)")
    parser.add_argument("--calls", type=int, default=2000, help="calls profiled (default 2000)")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency, seconds")
    parser.add_argument(
        "--client", default="openai-facade", choices=sorted(ALL_CLIENTS), help="client kind"
    )
    parser.add_argument("--top", type=int, default=30, help="entries reported (default 30)")
    parser.add_argument(
        "--interval", type=float, default=0.001, help="sampling interval, seconds (default 1 ms)"
    )
    parser.add_argument(
        "--watch",
        default="_assign_requests_to_connections",
        help="function whose share is reported as watched_share",
    )
    parser.add_argument(
        "--gc",
        default="on",
        choices=("on", "freeze", "off"),
        help="the garbage collector during the profiled calls (default: on, as it is)",
    )
    parser.add_argument("--text", action="store_true", help="also print the tree to stderr")
    args = parser.parse_args(argv)
    if args.in_flight < 1 or args.calls < 1:
        parser.error("--in-flight and --calls must be at least 1")
    try:
        from pyinstrument import Profiler  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        sys.exit(INSTALL_HINT)

    profiler = Profiler(interval=args.interval, async_mode="disabled")
    with start_server_process(latency=args.latency) as (_process, base_url):
        report = asyncio.run(
            profiled_run(
                args.client,
                base_url,
                calls=args.calls,
                in_flight=args.in_flight,
                profiler=profiler,
                gc_mode=args.gc,
            )
        )
    session = profiler.last_session
    if session is None:
        sys.exit("the profiler recorded no session")
    root = session.root_frame()
    if root is None:
        sys.exit("the profiler recorded no samples")
    shares = profile_shares(root, args.watch)
    total = float(root.time)
    if args.text:
        print(profiler.output_text(unicode=True, show_all=False), file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "profile_concurrency",
                "client": args.client,
                "in_flight": args.in_flight,
                "calls": args.calls,
                "latency_s": args.latency,
                **report,
                "watch": args.watch,
                "watched_share": round(shares.watched / total, 3) if total else None,
                "top_inclusive": top_entries(shares.inclusive, total, args.top),
                "top_self": top_entries(shares.own, total, args.top),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
