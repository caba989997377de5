"""Load and faults: many calls through ``call_llm_async`` against the local vendor server.

The server (``bench/vendor_server.py``, in this process, real time, a short latency)
answers 20% of requests with 429 (a 10 ms Retry-After), 5% with 500 and drops 2% of
connections. Which attempt of which call gets which fault is fixed by the seed (the
server draws from ``random.Random(f"{seed}/{key}/{attempt}")``, as its docstring
documents), so each call's fate is known beforehand: :func:`expected_fates` replays
the draw. The core's retry waits run on the fake clock (nothing really sleeps; the
waits asked for are recorded), the server's latency is real.

Each vendor test makes :data:`CALLS` calls (500; ``POCKETFLOW_LOAD_CALLS`` sets another
number) as one ``AsyncParallelBatchNode``.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pocketflow
from pocketflow import AsyncParallelBatchNode, call_llm_async, testing
from pocketflow.errors import LLMConnectionError, LLMError, RateLimitError, ServerError
from pocketflow.runtime import current_runtime, reset_runtime

from vendor_server import FaultConfig, VendorServer

CALLS = int(os.environ.get("POCKETFLOW_LOAD_CALLS", "500"))
MAX_RETRIES = 2
"""Retries allowed per call: a call makes at most 3 attempts."""
LATENCY = 0.002
RETRY_AFTER = 0.01
FAULTS = FaultConfig(rate_429=0.20, rate_500=0.05, rate_drop=0.02, retry_after=RETRY_AFTER, seed=0)
SECRET = "sk-load-test-0123456789abcdef"
MODELS = {
    "openai": "openai:gpt-4o-mini",
    "anthropic": "anthropic:claude-haiku-4-5",
    "gemini": "gemini:gemini-2.5-flash",
}
ERROR_FOR_FAULT: dict[str, type[LLMError]] = {
    "429": RateLimitError,
    "500": ServerError,
    "drop": LLMConnectionError,
}
MESSAGE_FOR_FAULT = {
    "429": r"^Rate limited on {model} \(HTTP 429, request id req_\d+, retry after 0\.01s\): "
    r"Rate limit reached",
    "500": r"^Server error on {model} \(HTTP 500, request id req_\d+\): "
    r"The server had an error",
    "drop": r"^Connection failed on {model}: .*disconnected",
}
CLEARED_VARIABLES = (
    "POCKETFLOW_LLM",
    "POCKETFLOW_FEEDBACK",
    "POCKETFLOW_CONFIG",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
)
SERVER_HANDLER = "VendorServer._handle_connection"
"""The qualified name of the server's per-connection coroutine: one task per open connection."""


@dataclass(frozen=True)
class Fate:
    """What the server will do to one call: its faults in order; None when it succeeds."""

    faults: tuple[str, ...]
    succeeds: bool

    @property
    def attempts(self) -> int:
        """Requests the call makes."""
        return len(self.faults) + (1 if self.succeeds else 0)


def expected_fates(calls: int, faults: FaultConfig, max_retries: int) -> list[Fate]:
    """Replay the server's seeded draw: each call's faults until success or retries run out."""
    fates = []
    for index in range(calls):
        drawn: list[str] = []
        while len(drawn) <= max_retries:
            rng = random.Random(f"{faults.seed}/call-{index}/{len(drawn) + 1}")
            fault = faults.draw(rng)
            if fault == "none":
                break
            drawn.append(fault)
        fates.append(Fate(tuple(drawn), succeeds=len(drawn) <= max_retries))
    return fates


def write_config(base_url: str, *, max_concurrency: int, max_retries: int) -> None:
    """A pocketflow.toml in the (temporary) working directory pointing at the server."""
    Path("pocketflow.toml").write_text(
        f'[providers.openai]\nbase_url = "{base_url}/v1"\n'
        f"max_concurrency = {max_concurrency}\nmax_retries = {max_retries}\n\n"
        f'[providers.anthropic]\nbase_url = "{base_url}"\n'
        f"max_concurrency = {max_concurrency}\nmax_retries = {max_retries}\n\n"
        f'[providers.gemini]\nbase_url = "{base_url}"\n'
        f"max_concurrency = {max_concurrency}\nmax_retries = {max_retries}\n",
        encoding="utf-8",
    )


class AskEach(AsyncParallelBatchNode):
    """Calls the LLM once per item; a call that fails for good yields its error."""

    def __init__(self, model: str, max_concurrency: int | None) -> None:
        super().__init__(max_concurrency=max_concurrency)
        self.model = model

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        indices: list[int] = shared["indices"]
        return indices

    async def exec_async(self, prep_res: int) -> str:
        return await call_llm_async(f"[call-{prep_res}] Say something.", model=self.model)

    async def exec_fallback_async(self, prep_res: int, exc: Exception) -> Exception:
        return exc

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["results"] = exec_res


def is_server_handler(task: asyncio.Task[Any]) -> bool:
    """Whether ``task`` is one of the in-process server's per-connection handlers."""
    return getattr(task.get_coro(), "__qualname__", None) == SERVER_HANDLER


def other_tasks() -> set[asyncio.Task[Any]]:
    """Unfinished tasks besides this one and the server's connection handlers."""
    current = asyncio.current_task()
    return {
        task for task in asyncio.all_tasks() if task is not current and not is_server_handler(task)
    }


async def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Whether ``condition()`` holds within ``timeout`` seconds (polled every 5 ms)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


@dataclass
class LoadRun:
    """What a faulty run produced: results in input order, the server's counters, the waits."""

    vendor: str
    results: list[Any]
    by_key: dict[str, int]
    ok_by_key: dict[str, int]
    requests: int
    waits: list[float]


@pytest.fixture
def configured(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Keys for both vendors (one recognisable secret), nothing else configured."""
    pocketflow_env.setenv("OPENAI_API_KEY", SECRET)
    pocketflow_env.setenv("ANTHROPIC_API_KEY", SECRET)
    pocketflow_env.setenv("GEMINI_API_KEY", SECRET)
    return pocketflow_env


async def ask_all(vendor: str, calls: int) -> LoadRun:
    """Make ``calls`` calls on ``vendor`` as one parallel batch against a faulty server."""
    async with VendorServer(latency=LATENCY, faults=FAULTS) as server:
        write_config(server.base_url, max_concurrency=100, max_retries=MAX_RETRIES)
        shared: dict[str, Any] = {"indices": list(range(calls))}
        try:
            await AskEach(MODELS[vendor], max_concurrency=200).run_async(shared)
        finally:
            await pocketflow.aclose()
        stats = server.stats
        return LoadRun(
            vendor, shared["results"], dict(stats.by_key), dict(stats.ok_by_key), stats.requests, []
        )


@pytest.fixture(scope="module", params=["openai", "anthropic", "gemini"])
def load_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LoadRun]:
    """One faulty run of :data:`CALLS` calls per vendor, shared by the tests that check it.

    Set up as the ``pocketflow_env`` and ``fake_clock`` fixtures do, for the module.
    """
    vendor: str = request.param
    with pytest.MonkeyPatch.context() as patch, testing.fake_clock() as clock:
        for variable in CLEARED_VARIABLES:
            patch.delenv(variable, raising=False)
        patch.setenv("OPENAI_API_KEY", SECRET)
        patch.setenv("ANTHROPIC_API_KEY", SECRET)
        patch.setenv("GEMINI_API_KEY", SECRET)
        patch.chdir(tmp_path_factory.mktemp(f"load_{vendor}"))
        reset_runtime()
        try:
            run = asyncio.run(ask_all(vendor, CALLS))
        finally:
            reset_runtime()
        run.waits = list(clock.sleeps)
        yield run


@pytest.fixture(scope="module")
def fates() -> list[Fate]:
    """The seeded fate of every call (the same for both vendors)."""
    found = expected_fates(CALLS, FAULTS, MAX_RETRIES)
    failing = {fate.faults[-1] for fate in found if not fate.succeeds}
    # The seed is chosen so that every way of failing for good happens at least once.
    assert failing == {"429", "500", "drop"}
    return found


def test_every_call_ends_with_its_own_answer_or_its_normalised_error(
    load_run: LoadRun, fates: list[Fate]
) -> None:
    assert len(load_run.results) == CALLS
    model = MODELS[load_run.vendor]
    for index, (result, fate) in enumerate(zip(load_run.results, fates, strict=True)):
        if fate.succeeds:
            assert result == f"echo: [call-{index}] Say something.", (index, result)
        else:
            last = fate.faults[-1]
            assert type(result) is ERROR_FOR_FAULT[last], (index, fate, result)
            assert re.match(MESSAGE_FOR_FAULT[last].format(model=re.escape(model)), str(result))
            assert SECRET not in str(result)


def test_the_server_sees_each_call_as_often_as_its_faults_allow(
    load_run: LoadRun, fates: list[Fate]
) -> None:
    attempts = {f"call-{index}": fate.attempts for index, fate in enumerate(fates)}
    assert load_run.by_key == attempts
    assert max(load_run.by_key.values()) == MAX_RETRIES + 1
    assert load_run.requests == sum(attempts.values())


def test_no_call_is_answered_twice(load_run: LoadRun, fates: list[Fate]) -> None:
    answered = {f"call-{index}": 1 for index, fate in enumerate(fates) if fate.succeeds}
    assert load_run.ok_by_key == answered


def test_each_retried_429_waits_its_retry_after(load_run: LoadRun, fates: list[Fate]) -> None:
    retried_429s = sum(fate.faults[:MAX_RETRIES].count("429") for fate in fates)
    assert retried_429s > 0
    assert load_run.waits.count(RETRY_AFTER) == retried_429s


def test_a_cancelled_parallel_batch_leaves_no_task_no_slot_and_no_connection(
    configured: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> dict[str, Any]:
        async with VendorServer(latency=0.05) as server:
            write_config(server.base_url, max_concurrency=20, max_retries=MAX_RETRIES)
            node = AskEach(MODELS["openai"], max_concurrency=None)
            batch = asyncio.create_task(node.run_async({"indices": list(range(200))}))
            halfway = await eventually(lambda: server.stats.replies_ok >= 100, timeout=10)
            batch.cancel()
            with pytest.raises(asyncio.CancelledError):
                await batch
            found: dict[str, Any] = {"halfway": halfway, "left_over": other_tasks()}
            found["slots_held"] = current_runtime().provider("openai").gate.limiter.in_flight
            found["server_idle"] = await eventually(lambda: server.stats.in_flight == 0)
            # The pool still serves more calls than it has connections: none was lost.
            async with asyncio.timeout(10):
                again = await asyncio.gather(
                    *(
                        call_llm_async(f"[call-again-{i}] hi", model=MODELS["openai"])
                        for i in range(40)
                    )
                )
            found["again"] = again
            found["open_before_aclose"] = server.stats.open_connections
            await pocketflow.aclose()
            found["closed"] = await eventually(lambda: server.stats.open_connections == 0)
            found["left_at_end"] = other_tasks()
            return found

    found = asyncio.run(scenario())

    assert found["halfway"]
    assert found["left_over"] == set()
    assert found["slots_held"] == 0
    assert found["server_idle"]
    assert found["again"] == [f"echo: [call-again-{i}] hi" for i in range(40)]
    assert 0 < found["open_before_aclose"] <= 20
    assert found["closed"]
    assert found["left_at_end"] == set()
