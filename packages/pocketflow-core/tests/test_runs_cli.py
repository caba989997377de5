"""``pocketflow run`` and ``pocketflow runs ...`` as a user types them."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pocketflow import hookimpl
from pocketflow.cli import main
from pocketflow.errors import StoreUnavailableError
from pocketflow.providers import LLMProvider, ProviderSettings
from pocketflow.runs.memory_store import MemoryRunStore
from pocketflow.runs.store import Commit, RunInfo
from pocketflow.runtime import current_runtime

FLOW_MODULE = """
from pathlib import Path
from pocketflow import AsyncFlow, AsyncNode, call_llm_async

class Ask(AsyncNode):
    async def prep_async(self, shared):
        return shared["topic"]
    async def exec_async(self, topic):
        return await call_llm_async(f"about {topic}")
    async def post_async(self, shared, topic, answer):
        shared.setdefault("answers", []).append(answer)
        if len(shared["answers"]) == 2 and not Path("crashed").exists():
            Path("crashed").write_text("once")
            raise RuntimeError("the power went out")
        return "again" if len(shared["answers"]) < 3 else "stop"

def build():
    ask = Ask()
    ask - "again" >> ask
    ask - "stop" >> AsyncNode()
    return AsyncFlow(start=ask)
"""


@pytest.fixture
def project(pocketflow_env: pytest.MonkeyPatch) -> Path:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:echo")
    Path("topics.py").write_text(FLOW_MODULE)
    return Path.cwd()


def test_run_fails_midway_and_runs_resume_finishes_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "topics:build", "--shared", '{"topic": "owls"}', "--run-id", "t1"]) == 1
    failed = capsys.readouterr()
    assert "run t1 failed: RuntimeError: the power went out" in failed.err
    assert "pocketflow runs resume t1" in failed.err
    assert main(["runs", "list", "--status", "failed"]) == 0
    assert "t1" in capsys.readouterr().out
    assert main(["runs", "resume", "t1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["shared"]["answers"] == ["[offline echo] about owls"] * 3
    assert main(["runs", "show", "t1", "--json", "--state"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "done"
    assert [step["node"] for step in shown["steps"]] == ["0:Ask"] * 3 + ["1:AsyncNode"]
    assert [step["action"] for step in shown["steps"]][:3] == ["again", "again", "stop"]
    assert shown["state"]["topic"] == "owls"


def test_runs_show_prints_a_table_a_person_can_read(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("crashed").write_text("no crash this time")
    main(["run", "topics:build", "--shared", '{"topic": "cats"}', "--run-id", "t2"])
    capsys.readouterr()
    assert main(["runs", "show", "t2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "run t2: done"
    assert lines[1] == "  flow     AsyncFlow(start=Ask)  (pocketflow run topics:build)"
    assert lines[3] == "  steps    4, tokens 6 in / 12 out"
    assert lines[5].split()[:3] == ["0", "0:Ask", "again"]


def test_cancel_and_prune(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", "topics:build", "--shared", '{"topic": "x"}', "--run-id", "t3"])
    assert main(["runs", "cancel", "t3"]) == 0
    assert main(["runs", "resume", "t3"]) == 2
    assert "was cancelled" in capsys.readouterr().err
    assert main(["runs", "prune", "--older-than", "0s", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"pruned": 1}
    assert main(["runs", "show", "t3"]) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["runs", "show", "nope"], "No run 'nope' in sqlite:///"),
        (["run", "topics"], "write the flow as MODULE:ATTR"),
        (["run", "topics:missing"], "'topics:missing' cannot be loaded"),
        (["run", "topics:build", "--shared", "[1]"], "--shared must be a JSON object"),
        (["run", "topics:build", "--shared", "{oops"], "--shared is not valid JSON"),
        (["runs", "prune", "--older-than", "soon"], "write a number and a unit"),
    ],
)
def test_mistakes_get_a_clear_message(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_pocketflow_run_without_an_id_makes_one_and_says_how_to_resume(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("crashed").write_text("no crash this time")
    assert main(["run", "topics:build", "--shared", '{"topic": "y"}']) == 0
    first: Any = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("run run-") and "pocketflow runs resume run-" in first


def test_a_queued_run_is_run_by_a_worker(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("crashed").write_text("no crash this time")
    shared = '{"topic": "moths"}'
    assert main(["run", "topics:build", "--shared", shared, "--run-id", "q1", "--queue"]) == 0
    assert "run q1 queued" in capsys.readouterr().out
    assert main(["run", "topics:build", "--run-id", "q1", "--queue"]) == 2
    assert "Run 'q1' exists already" in capsys.readouterr().err
    assert main(["runs", "list", "--status", "queued", "--json"]) == 0
    assert [row["run_id"] for row in json.loads(capsys.readouterr().out)] == ["q1"]
    assert main(["runs", "worker", "--once", "--poll", "0.01"]) == 0
    assert "q1: done" in capsys.readouterr().out
    assert main(["runs", "show", "q1", "--state", "--json"]) == 0
    state = json.loads(capsys.readouterr().out)["state"]
    assert state["answers"] == ["[offline echo] about moths"] * 3


def test_runs_migrate_on_sqlite_says_the_store_does_it_itself(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "migrate"]) == 0
    assert "makes and upgrades its tables itself on first use" in capsys.readouterr().out


class FlakyStore(MemoryRunStore):
    """A memory store whose database is out of reach for its first ``failures`` commits."""

    def __init__(self, failures: int) -> None:
        super().__init__("flaky")
        self.url = "flaky://"
        self.failures = failures

    async def commit(self, run_id: str, owner: str, commit: Commit) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailableError("Run store flaky://: no connection came free in 10 s")
        await super().commit(run_id, owner, commit)


def test_a_worker_puts_a_run_back_in_the_queue_when_the_store_fails(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("crashed").write_text("no crash this time")
    store = FlakyStore(failures=1)

    class FlakyStorePlugin:
        @hookimpl
        def register_run_stores(self, register: Any) -> None:
            register("flaky", ("flaky",), lambda location: store)

    plugins = current_runtime().plugins
    plugins.add_plugin(FlakyStorePlugin(), "flaky-store", "test")
    try:
        queue = ["run", "topics:build", "--shared", '{"topic": "bats"}', "--run-id", "f1"]
        assert main([*queue, "--queue", "--store", "flaky://"]) == 0
        worker = ["runs", "worker", "--once", "--poll", "0.01", "--store", "flaky://"]
        assert main(worker) == 0
        out = capsys.readouterr().out.splitlines()
        failed = "f1: the run store failed; queued again: Run store flaky://: no connection"
        assert [line[: len(failed)] for line in out[2:6]] == [
            "f1: resuming topics:build", failed, "f1: resuming topics:build", "f1: done"
        ]  # fmt: skip
        assert main(["runs", "show", "f1", "--store", "flaky://", "--state", "--json"]) == 0
        state = json.loads(capsys.readouterr().out)["state"]
        assert state["answers"] == ["[offline echo] about bats"] * 3
    finally:
        plugins.hooks.unregister(name="flaky-store")


class RecordingStore(MemoryRunStore):
    """A memory store that notes, at each claim, whether the slow provider was made."""

    def __init__(self, made: threading.Event) -> None:
        super().__init__("recording")
        self.url = "recording://"
        self.made = made
        self.made_at_claims: list[bool] = []

    async def claim(self, owner: str, lease_until: float, now: float, limit: int) -> list[RunInfo]:
        self.made_at_claims.append(self.made.is_set())
        return await super().claim(owner, lease_until, now, limit)


def test_a_worker_makes_the_default_provider_before_it_claims_a_run(
    project: Path, pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("crashed").write_text("no crash this time")
    made = threading.Event()
    store = RecordingStore(made)
    offline = current_runtime().plugins.llm_providers["offline"].factory

    def make_slowly(settings: ProviderSettings) -> LLMProvider:
        time.sleep(0.3)  # a vendor SDK's import, which a loaded machine makes long
        made.set()
        provider: LLMProvider = offline(settings)
        return provider

    class SlowPlugin:
        @hookimpl
        def register_llm_providers(self, register: Any) -> None:
            register("slow", make_slowly)

        @hookimpl
        def register_run_stores(self, register: Any) -> None:
            register("recording", ("recording",), lambda location: store)

    plugins = current_runtime().plugins
    plugins.add_plugin(SlowPlugin(), "slow-plugin", "test")
    try:
        queue = ["run", "topics:build", "--shared", '{"topic": "moths"}', "--run-id", "s1"]
        assert main([*queue, "--queue", "--store", "recording://"]) == 0
        pocketflow_env.setenv("POCKETFLOW_LLM", "slow:echo")  # a new runtime, not warmed yet
        worker = ["runs", "worker", "--once", "--poll", "0.01", "--store", "recording://"]
        assert main(worker) == 0
        assert "s1: done" in capsys.readouterr().out
        assert store.made_at_claims and all(store.made_at_claims)
    finally:
        plugins.hooks.unregister(name="slow-plugin")
