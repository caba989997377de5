"""A fleet of workers drains a queue of durable runs; two die midway, two replace them.

Eight ``pocketflow runs worker`` processes share one store; N runs of a 5-step flow
(an LLM call per step, against the local vendor server) are queued. Midway two
workers are killed with SIGKILL and two more start. Every run must finish exactly once
(each step's effect once in its final state), none may be lost, and the vendor may
receive at most 5 x N requests plus the calls in flight at the kills.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from run_fleet import STEPS, Fleet, final_states, statuses, wait_until

from vendor_server import fetch_stats, start_server_process

RUNS = 100
WORKERS = 8


@pytest.fixture(scope="module")
def vendor() -> Iterator[str]:
    with start_server_process(latency=0.01) as (_, base_url):
        yield base_url


def test_eight_workers_finish_every_queued_run_exactly_once_through_two_kills(
    vendor: str, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    fleet = Fleet.prepare(tmp_path, store, vendor, concurrency=8)
    run_ids = asyncio.run(fleet.enqueue(RUNS))
    try:
        for _ in range(WORKERS):
            fleet.start_worker()
        counts = asyncio.run(wait_until(store, tmp_path, RUNS // 4, timeout=120))
        assert counts.get("done", 0) >= RUNS // 4, f"the fleet stalled: {counts}"
        fleet.kill(fleet.workers[0])
        fleet.kill(fleet.workers[1])
        fleet.start_worker()
        fleet.start_worker()
        counts = asyncio.run(wait_until(store, tmp_path, RUNS, timeout=240))
    finally:
        errors = fleet.stop()
    assert counts == {"done": RUNS}, (counts, [e.decode()[-2000:] for e in errors if e])
    states = asyncio.run(final_states(store, tmp_path, run_ids))
    assert all(state["effects"] == list(range(STEPS)) for state in states.values())
    requests = sum(fetch_stats(vendor)["by_key"].values())
    in_flight_at_kills = 2 * fleet.concurrency
    assert STEPS * RUNS <= requests <= STEPS * RUNS + in_flight_at_kills
    assert asyncio.run(statuses(store, tmp_path)) == {"done": RUNS}
