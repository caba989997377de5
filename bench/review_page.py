"""The review page's first page on a big store: 10,000 answered and 1,000 waiting questions.

Fills a sqlite run store in a temporary folder through the store API, starts a real
``pocketflow serve`` (uvicorn, 127.0.0.1), and times ``GET /`` (the waiting list,
first page of 50) over keep-alive HTTP: the first request, then the median and best of
``--requests``. Beside it, the median of the store's ``questions("waiting", 5000)``
alone, in this process, to tell how much of a page is the store; and one question's
page (a waiting one, and an answered one, each found by the store's
``questions_of_run``). Prints one JSON line; the target is a median under 100 ms for
the first page.

    uv run python bench/review_page.py [--answered 10000] [--waiting 1000] [--requests 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from pocketflow.runs.settings import close_stores, open_store
from pocketflow.runs.store import Question, RunInfo, RunStore
from pocketflow_web.lookups import FETCH_LIMIT
from pocketflow_web.testing import serve_process

TOKEN = "bench-review-page-token-0123456789"
OWNER = "bench:0:0"
TARGET_MS = 100.0
DRAFT = "Owls hunt at night and sleep by day.\nTheir soft feathers make their flight silent."


async def fill(store: RunStore, answered: int, waiting: int) -> None:
    """``answered + waiting`` runs, each stopped on a question; answer the first ones."""
    now = time.time()
    week = 7 * 86400
    total = answered + waiting
    for number in range(total):
        run_id = f"run-{number:06d}"
        asked = now - week + week * number / total  # the waiting ones are the newest
        info = RunInfo(
            run_id, "running", f"Flow{number % 5}", ["0:Summarize"], "json", asked, asked
        )
        await store.start(info, OWNER, now + 3600, asked)
        question = Question(
            run_id, "0/feedback", f"{DRAFT} (draft {number})", asked,
            audience=("editors", "support", None)[number % 3], node="0 (0:Summarize)",
        )  # fmt: skip
        await store.suspend(run_id, OWNER, question)
        if number < answered:
            await store.answer(run_id, "approve", "fine", b'"approve"', asked + 60)


async def store_figure(store: RunStore, repeats: int) -> float:
    """Median milliseconds of the store's read of the waiting questions."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await store.questions("waiting", FETCH_LIMIT)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def timed(client: httpx.Client, url: str) -> float:
    """Milliseconds for one GET of ``url`` (which must answer 200)."""
    started = time.perf_counter()
    client.get(url).raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answered", type=int, default=10_000)
    parser.add_argument("--waiting", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=30)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'runs.db'}"
        store = open_store(url)
        started = time.perf_counter()
        asyncio.run(fill(store, arguments.answered, arguments.waiting))
        fill_seconds = time.perf_counter() - started
        store_ms = asyncio.run(store_figure(store, arguments.requests))
        asyncio.run(close_stores())
        environment = {k: v for k, v in os.environ.items() if not k.startswith("POCKETFLOW_")}
        environment["POCKETFLOW_WEB_TOKEN"] = TOKEN
        with serve_process(["--store", url], cwd=Path(folder), env=environment) as (_, address):
            base = address.partition("?")[0]
            headers = {"authorization": f"Bearer {TOKEN}"}
            with httpx.Client(headers=headers, timeout=30) as client:
                times = []
                size = 0
                for _ in range(arguments.requests + 1):
                    started = time.perf_counter()
                    response = client.get(base)
                    times.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                    size = len(response.content)
                    assert f'class="count">{arguments.waiting}<' in response.text
                newest = f"{base}questions/run-{arguments.answered + arguments.waiting - 1:06d}"
                oldest = f"{base}questions/run-000000"  # answered: found after every waiting one
                question_ms = [timed(client, newest) for _ in range(5)]
                answered_ms = [timed(client, oldest) for _ in range(5)]
    first, rest = times[0], times[1:]
    median = statistics.median(rest)
    print(
        json.dumps(
            {
                "bench": "review_page",
                "answered": arguments.answered,
                "waiting": arguments.waiting,
                "requests": len(rest),
                "first_ms": round(first, 2),
                "median_ms": round(median, 2),
                "best_ms": round(min(rest), 2),
                "question_page_median_ms": round(statistics.median(question_ms), 2),
                "answered_question_page_median_ms": round(statistics.median(answered_ms), 2),
                "store_questions_median_ms": round(store_ms, 2),
                "store_share": round(store_ms / median, 2),
                "page_bytes": size,
                "fill_s": round(fill_seconds, 2),
                "target_ms": TARGET_MS,
                "under_target": median < TARGET_MS,
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
