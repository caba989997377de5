"""Durable runs survive SIGKILL: a 30-step flow and a 200-item parallel batch flow.

Each flow calls an LLM (the openai plugin, against the local vendor server in another
process) at every step or item. A worker process (tests/durable_kill_worker.py) forks
one child per attempt; the test kills each child with SIGKILL at a random moment,
20 times, then lets the last attempt finish. Then:

- the final shared store equals that of an uninterrupted run of the same flow;
- no step or item committed before an attempt ran its ``exec`` in that attempt;
- the vendor received at most one request per step, plus one per kill (30 steps), or
  plus the calls in flight at each kill (the batch: at most ``max_concurrency`` each),
  since an answered, journaled call is never sent again.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from vendor_server import fetch_stats, reset_stats, start_server_process

HERE = Path(__file__).parent
KILLS = 20
BATCH_CONCURRENCY = 20


@dataclass
class Worker:
    process: subprocess.Popen[str]
    folder: Path
    base_url: str

    def attempt(self, kind: str, run_id: str, attempt: int) -> int:
        """Start an attempt; return the child's pid."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{kind} {run_id} {run_id}#{attempt}\n")
        self.process.stdin.flush()
        return int(self._line("PID "))

    def exit_code(self) -> int:
        return int(self._line("EXIT "))

    def wait_for_first_exec(self, token: str) -> None:
        """Wait until the attempt ``token`` runs its first exec (or its child ends)."""
        log = self.folder / "execs.log"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if log.exists() and f"{token} " in log.read_text():
                return
            if self._readable(0.002):  # the child ended first (the run was done)
                return
        pytest.fail(f"attempt {token} ran no exec within 30 s")

    def wait_for_commits(self, run_id: str, goal: int) -> None:
        """Wait until run ``run_id`` has ``goal`` committed steps (or its child ends)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(committed_keys(self.folder, run_id)) >= goal or self._readable(0.005):
                return
        pytest.fail(f"{run_id} made no progress for 60 s")

    def _readable(self, timeout: float) -> bool:
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        return bool(readable)

    def _line(self, prefix: str) -> str:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        readable, _, _ = select.select([stdout], [], [], 60)
        assert readable, f"the worker said nothing for 60 s (waiting for {prefix!r})"
        line = stdout.readline()
        assert line.startswith(prefix), f"worker said {line!r}, expected {prefix!r}"
        return line[len(prefix) :].strip()


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    folder = tmp_path_factory.mktemp("durable_kill")
    with start_server_process(latency=0.05) as (_, base_url):
        (folder / "pocketflow.toml").write_text(
            'llm = "local:gpt-4o-mini"\n'
            f'[providers.local]\nkind = "openai"\nbase_url = "{base_url}/v1"\n'
            'api_key_env = "LOCAL_KEY"\n'
            '[runs]\nstore = "sqlite:///runs.db"\n'
        )
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("POCKETFLOW_", "OPENAI_", "ANTHROPIC_"))
        }
        environment["LOCAL_KEY"] = "sk-kill-test"
        environment["PYTHONPATH"] = str(HERE)
        process = subprocess.Popen(
            [sys.executable, str(HERE / "durable_kill_worker.py")],
            cwd=folder,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            handle = Worker(process, folder, base_url)
            assert handle._line("READY") == ""
            yield handle
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)


def committed_keys(folder: Path, run_id: str) -> set[str]:
    with sqlite3.connect(folder / "runs.db") as db:
        rows = db.execute("SELECT key FROM run_steps WHERE run_id = ?", (run_id,))
        return {key for (key,) in rows}


def execs_by_attempt(folder: Path, run_id: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    log = folder / "execs.log"
    for line in log.read_text().splitlines() if log.exists() else []:
        attempt, key = line.split()
        if attempt.startswith(run_id + "#"):
            found.setdefault(int(attempt.partition("#")[2]), []).append(key)
    return found


def run_with_kills(
    worker: Worker, kind: str, run_id: str, most_commits: int, seed: int
) -> tuple[int, dict[int, set[str]]]:
    """Kill KILLS attempts at random moments, then finish; return kills and commits."""
    chooser = random.Random(seed)
    kills = 0
    committed_at_start: dict[int, set[str]] = {}
    attempt = 0
    while True:
        attempt += 1
        committed_at_start[attempt] = (
            committed_keys(worker.folder, run_id) if (worker.folder / "runs.db").exists() else set()
        )
        pid = worker.attempt(kind, run_id, attempt)
        if attempt <= KILLS:
            # A random moment measured in progress, not in seconds, so a loaded machine
            # moves it no nearer the start or the end: after 0..most_commits new commits,
            # then a little into the next step.
            worker.wait_for_first_exec(f"{run_id}#{attempt}")
            goal = len(committed_at_start[attempt]) + chooser.randint(0, most_commits)
            worker.wait_for_commits(run_id, goal)
            time.sleep(chooser.uniform(0.0, 0.05))
            if not worker._readable(0):  # not ended by itself (then its pid may be reused)
                os.kill(pid, signal.SIGKILL)
        code = worker.exit_code()
        if code == -signal.SIGKILL:
            kills += 1
        elif code != 0:
            pytest.fail(f"attempt {attempt} of {run_id} failed with exit code {code}")
        elif attempt > KILLS:
            return kills, committed_at_start


def progressed(committed_at_start: dict[int, set[str]]) -> int:
    """How many killed attempts committed something before their kill."""
    counts = [len(committed_at_start[attempt]) for attempt in sorted(committed_at_start)]
    return sum(1 for before, after in itertools.pairwise(counts) if after > before)


def final_shared(worker: Worker, run_id: str) -> Any:
    return json.loads((worker.folder / f"{run_id}.json").read_text())


def requests_of(worker: Worker, run_id: str) -> int:
    stats = fetch_stats(worker.base_url)
    return sum(count for key, count in stats["by_key"].items() if key.startswith(f"call-{run_id}-"))


def check_no_committed_exec_ran_again(
    worker: Worker, run_id: str, committed_at_start: dict[int, set[str]], key_of: Any
) -> None:
    for attempt, execs in execs_by_attempt(worker.folder, run_id).items():
        again = [key for key in execs if key_of(key) in committed_at_start[attempt]]
        assert not again, f"attempt {attempt} ran committed steps again: {again}"


def test_a_30_step_flow_killed_20_times_ends_as_an_uninterrupted_run(worker: Worker) -> None:
    reset_stats(worker.base_url)
    assert worker.attempt("steps", "clean", 0) and worker.exit_code() == 0
    kills, committed = run_with_kills(worker, "steps", "killed", most_commits=2, seed=13)
    clean, killed = final_shared(worker, "clean"), final_shared(worker, "killed")
    assert [a.replace("killed", "clean") for a in killed["answers"]] == clean["answers"]
    assert len(clean["answers"]) == 30
    assert kills >= KILLS // 2, f"only {kills} of {KILLS} kills landed before the run ended"
    # Step n of the top flow has the key "n"; its exec logs "step{n}".
    check_no_committed_exec_ran_again(
        worker, "killed", committed, lambda key: key.removeprefix("step")
    )
    assert progressed(committed) >= KILLS // 4, "kills landed before any step committed"
    assert requests_of(worker, "killed") <= 30 + kills


def test_a_200_item_parallel_batch_killed_20_times_ends_as_an_uninterrupted_run(
    worker: Worker,
) -> None:
    assert worker.attempt("docs", "docs-clean", 0) and worker.exit_code() == 0
    kills, committed = run_with_kills(worker, "docs", "docs-killed", most_commits=20, seed=200)
    clean, killed = final_shared(worker, "docs-clean"), final_shared(worker, "docs-killed")
    renamed = {k: v.replace("docs-killed", "docs-clean") for k, v in killed["answers"].items()}
    assert renamed == clean["answers"]
    assert len(clean["answers"]) == 200
    assert kills >= KILLS // 2, f"only {kills} of {KILLS} kills landed before the run ended"
    # Item i's one step has the key "[i]/0"; its exec logs "item{i}".
    check_no_committed_exec_ran_again(
        worker, "docs-killed", committed, lambda key: f"[{key.removeprefix('item')}]/0"
    )
    assert progressed(committed) >= KILLS // 4, "kills landed before any item committed"
    assert requests_of(worker, "docs-killed") <= 200 + kills * BATCH_CONCURRENCY
