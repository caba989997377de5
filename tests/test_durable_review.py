"""The seed's program, durable, reviewed from other processes: the round trip as people do it.

The example (SummarizeThenVerify unchanged) runs with ``--run-id`` and ``inbox``
feedback against the local vendor server: it ends waiting; another process denies; a
worker resumes it and it waits again with a new draft; a third process approves; a
worker finishes it. The vendor server must have received exactly two LLM requests.
Then a worker is killed with SIGKILL while it resumes a run: the next worker finishes
the run with no request beyond the one that was in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vendor_server import fetch_stats, start_server_process

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "summarize_then_verify"


class People:
    """Runs the commands people type, each in its own process, in one project folder."""

    def __init__(self, folder: Path, base_url: str) -> None:
        self.folder = folder
        self.base_url = base_url
        self.environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("POCKETFLOW_", "OPENAI_", "ANTHROPIC_"))
        }
        self.environment["LOCAL_KEY"] = "sk-review-test"

    def start(self, *argv: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, *argv],
            cwd=self.folder,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, *argv: str, expect: int = 0) -> str:
        process = self.start(*argv)
        output, _ = process.communicate(timeout=120)
        assert process.returncode == expect, output
        return output

    def pocketflow(self, *argv: str, expect: int = 0) -> str:
        return self.run("-m", "pocketflow", *argv, expect=expect)

    def requests(self, key: str) -> int:
        return int(fetch_stats(self.base_url)["by_key"].get(key, 0))


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[People]:
    folder = tmp_path_factory.mktemp("review")
    with start_server_process(latency=0.25) as (_, base_url):
        (folder / "pocketflow.toml").write_text(
            'llm = "local:gpt-4o-mini"\nfeedback = "inbox"\n'
            f'[providers.local]\nkind = "openai"\nbase_url = "{base_url}/v1"\n'
            'api_key_env = "LOCAL_KEY"\nmax_retries = 0\n'
        )
        yield People(folder, base_url)


def write_document(people: People, name: str) -> Path:
    document = people.folder / f"{name}.txt"
    document.write_text(f"Owls hunt at night and sleep by day. [call-{name}]")
    return document


def test_deny_then_approve_from_other_processes_pays_for_two_drafts(people: People) -> None:
    document = write_document(people, "owls")
    first = people.run(str(EXAMPLE), str(document), "--run-id", "owls", expect=4)
    assert "Run 'owls' is waiting for a person's verdict" in first
    assert "pocketflow runs answer owls approve" in first
    waiting = people.pocketflow("runs", "list", "--status", "waiting")
    assert "owls" in waiting and "echo: Summarize: Owls hunt" in waiting
    people.pocketflow("runs", "answer", "owls", "deny", "--comment", "say more")
    resumed = people.pocketflow("runs", "worker", "--once", "--poll", "0.05")
    assert "owls: waiting again" in resumed
    people.pocketflow("runs", "answer", "owls", "approve")
    finished = people.pocketflow("runs", "worker", "--once", "--poll", "0.05")
    assert "owls: done" in finished
    shown = json.loads(people.pocketflow("runs", "show", "owls", "--state", "--json"))
    assert shown["status"] == "done"
    assert shown["state"]["summary"].startswith("echo: Summarize: Owls hunt at night")
    assert shown["state"]["outcome"] == "approved"
    assert people.requests("call-owls") == 2


def test_a_worker_killed_while_resuming_leaves_the_run_to_the_next_worker(
    people: People,
) -> None:
    document = write_document(people, "bats")
    people.run(str(EXAMPLE), str(document), "--run-id", "bats", expect=4)
    people.pocketflow("runs", "answer", "bats", "deny")
    worker = people.start("-m", "pocketflow", "runs", "worker", "--poll", "0.05")
    deadline = time.monotonic() + 60
    while people.requests("call-bats") < 2:  # the resumed draft's call is in flight
        assert time.monotonic() < deadline, "the worker never sent the second draft's call"
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    status = json.loads(people.pocketflow("runs", "show", "bats", "--json"))["status"]
    assert status == "running"  # its lease names a process that is gone
    resumed = people.pocketflow("runs", "worker", "--once", "--poll", "0.05")
    assert "bats: its process is gone; queued again" in resumed
    assert "bats: waiting again" in resumed
    people.pocketflow("runs", "answer", "bats", "approve")
    assert "bats: done" in people.pocketflow("runs", "worker", "--once", "--poll", "0.05")
    assert people.requests("call-bats") == 3  # two drafts, plus the one in flight at the kill
