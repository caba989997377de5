"""The run store contract as tests: every store, built in or a plugin, must pass them.

A store plugin checks itself by subclassing :class:`RunStoreContract` in a test module
and saying how to open a fresh, empty store; pytest collects the inherited tests::

    from pocketflow.testing import RunStoreContract

    class TestMyStore(RunStoreContract):
        async def open_store(self) -> RunStore:
            return MyStore(...)  # empty: a new file, database schema or name

The tests are plain sync functions (each runs its check in ``asyncio.run``), so no
async pytest plugin is needed. They pass times explicitly (``now``, ``lease_until``),
so no test sleeps: a lease "expires" by starting with a later ``now``. Override
:meth:`RunStoreContract.open_again` when a second handle on the same store (another
process's) differs from the first: the concurrent claim test uses it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from pocketflow.errors import (
    QuestionNotWaiting,
    RunCancelledError,
    RunLeasedError,
    RunNotFoundError,
)
from pocketflow.runs.store import (
    Commit,
    LoadedRun,
    Question,
    RunInfo,
    RunStatus,
    RunStore,
    Scope,
    StepRecord,
)

NOW = 1_700_000_000.0
"""The tests' clock: every time they pass is NOW plus some seconds."""
LEASE = 60.0
A, B, WORKER = "owner-a", "owner-b", "worker-1"

StoreCheck = Callable[[Any, RunStore], Coroutine[Any, Any, None]]


def store_test(check: StoreCheck) -> Callable[[Any], None]:
    """Turn ``async def test_x(self, store)`` into a sync test run on a fresh store."""

    def test(self: RunStoreContract) -> None:
        asyncio.run(self._with_store(check))

    test.__name__ = check.__name__
    test.__qualname__ = check.__qualname__
    test.__doc__ = check.__doc__
    return test


def new_info(run_id: str, **fields: Any) -> RunInfo:
    """A run as the runner starts it."""
    values: dict[str, Any] = {
        "run_id": run_id,
        "status": "running",
        "flow": "tests.Flow",
        "shape": ["0:A", "1:B"],
        "serializer": "json",
        "created": NOW,
        "updated": NOW,
        "target": "tests.flow:make",
        "state": b'{"n": 0}',
    }
    values.update(fields)
    return RunInfo(**values)


def new_commit(
    key: str,
    seq: int,
    *,
    scope: str = "",
    state: bytes = b'{"n": 1}',
    nested: bool = False,
    started: float | None = None,
    tokens: tuple[int, int] = (0, 0),
    done: bool = False,
) -> Commit:
    """The commit of step ``key`` (the ``seq``-th of its run)."""
    started = NOW + seq if started is None else started
    step = StepRecord(key, "0:A", "default", started, 0.5, tokens[0], tokens[1])
    progress = Scope(seq, None if done else "1:B", "default", done)
    return Commit(scope, progress, step, state, started + 0.5 + LEASE, seq, nested)


def new_question(key: str = "0|post|0", asked: float = NOW + 5, **fields: Any) -> Question:
    """A question the step ``0`` asks."""
    return Question(run_id="", key=key, content="Approve?", asked=asked, node="0 (0:A)", **fields)


@contextmanager
def raises(error: type[BaseException], match: str = "") -> Iterator[None]:
    """Assert the block raises ``error`` (with ``match`` in its message)."""
    try:
        yield
    except error as raised:
        assert match in str(raised), f"{error.__name__} without {match!r}: {raised}"
    else:
        raise AssertionError(f"{error.__name__} was not raised")


async def start_new(
    store: RunStore, run_id: str, owner: str = A, now: float = NOW, lease: float = LEASE
) -> None:
    """Create run ``run_id`` under ``owner``'s lease."""
    created = await store.start(new_info(run_id), owner, now + lease, now)
    assert created is None, f"start of a new run {run_id!r} returned {created!r}, not None"


async def queue_new(store: RunStore, run_id: str, at: float) -> None:
    """Create run ``run_id`` and leave it queued since ``at`` (as a dead worker's run)."""
    await start_new(store, run_id, owner=f"dead-{run_id}")
    assert await store.requeue(run_id, f"dead-{run_id}", at)


async def load(store: RunStore, run_id: str, owner: str, now: float) -> LoadedRun:
    """Take the lease of an existing run as ``owner`` and return what it loads."""
    loaded = await store.start(new_info(run_id), owner, now + LEASE, now)
    assert loaded is not None, f"start of the existing run {run_id!r} returned None"
    return loaded


class RunStoreContract:
    """The tests every :class:`~pocketflow.runs.store.RunStore` must pass.

    Subclass it as ``Test<YourStore>`` and implement :meth:`open_store`.
    """

    async def open_store(self) -> RunStore:
        """A new, empty store (called once per test, in that test's event loop)."""
        raise NotImplementedError("implement open_store() to return a fresh, empty store")

    async def open_again(self, store: RunStore) -> RunStore:
        """Another handle on ``store``'s runs, as a second process opens it (default: itself)."""
        return store

    async def _with_store(self, check: StoreCheck) -> None:
        store = await self.open_store()
        try:
            await check(self, store)
        finally:
            await store.aclose()

    # --- start and leases ---------------------------------------------------------------

    @store_test
    async def test_start_creates_a_run(self, store: RunStore) -> None:
        """A new run is created running, under the caller's lease."""
        assert await store.get("r1") is None
        await start_new(store, "r1")
        info = await store.get("r1")
        assert info is not None
        assert (info.run_id, info.status, info.flow, info.shape, info.serializer) == (
            "r1", "running", "tests.Flow", ["0:A", "1:B"], "json",
        )  # fmt: skip
        assert (info.created, info.updated, info.steps, info.target) == (
            NOW, NOW, 0, "tests.flow:make",
        )  # fmt: skip
        assert (info.lease_owner, info.lease_until) == (A, NOW + LEASE)
        assert (info.state, info.outcome, info.error) == (b'{"n": 0}', None, None)

    @store_test
    async def test_a_held_lease_refuses_another_owner(self, store: RunStore) -> None:
        """A second owner cannot start a run whose lease is live; nothing changes."""
        await start_new(store, "r1")
        before = await store.get("r1")
        with raises(RunLeasedError, "r1"):
            await store.start(new_info("r1"), B, NOW + 10 + LEASE, NOW + 10)
        assert await store.get("r1") == before

    @store_test
    async def test_the_lease_holder_may_start_again(self, store: RunStore) -> None:
        """The owner restarting its own run (a retried start) loads it."""
        await start_new(store, "r1")
        loaded = await load(store, "r1", A, NOW + 1)
        assert (loaded.info.status, loaded.info.lease_owner) == ("running", A)

    @store_test
    async def test_an_expired_lease_is_taken_over(self, store: RunStore) -> None:
        """After the lease runs out, another owner loads the run; the old one is shut out."""
        await start_new(store, "r1", lease=10)
        await store.record("r1", A, "0|exec", "exec", b'"a"')
        await store.commit("r1", A, new_commit("0", 1, started=NOW + 1))
        await store.record("r1", A, "1|exec", "exec", b'"b"')
        loaded = await load(store, "r1", B, NOW + 100)
        assert loaded.info.steps == 1 and loaded.info.state == b'{"n": 1}'
        assert (loaded.info.status, loaded.info.lease_owner) == ("running", B)
        assert loaded.info.lease_until == NOW + 100 + LEASE
        assert loaded.journal == {"1|exec": ("exec", b'"b"')}
        assert loaded.scopes == {"": Scope(1, "1:B", "default", False)}
        with raises(RunLeasedError, "r1"):
            await store.record("r1", A, "1|exec", "exec", b'"stale"')
        with raises(RunLeasedError, "r1"):
            await store.commit("r1", A, new_commit("1", 2))
        with raises(RunLeasedError, "r1"):
            await store.finish("r1", A, "failed", state=None, outcome=None, error="x", now=NOW)
        assert not await store.renew("r1", A, NOW + 1000)
        info = await store.get("r1")
        assert info is not None and (info.steps, info.lease_owner) == (1, B)
        assert info.updated == NOW + 100
        assert (await load(store, "r1", B, NOW + 101)).journal == {"1|exec": ("exec", b'"b"')}

    @store_test
    async def test_renew_extends_only_the_holders_lease(self, store: RunStore) -> None:
        """renew moves lease_until for the holder and answers False for anyone else."""
        await start_new(store, "r1")
        assert await store.renew("r1", A, NOW + 500)
        assert not await store.renew("r1", B, NOW + 900)
        assert not await store.renew("missing", A, NOW + 900)
        info = await store.get("r1")
        assert info is not None and (info.lease_owner, info.lease_until) == (A, NOW + 500)

    # --- the journal and commits --------------------------------------------------------

    @store_test
    async def test_commit_records_the_step_and_clears_its_journal(self, store: RunStore) -> None:
        """A commit stores the snapshot and step, and drops only that step's answers."""
        await start_new(store, "r1")
        for key in ("0|prep|0", "0|exec", "0|i3", "1|exec", "10|exec", "0/0|exec"):
            await store.record("r1", A, key, "exec", key.encode())
        await store.record("r1", A, "1|exec", "exec", b"replaced")
        await store.commit("r1", A, new_commit("0", 1, state=b'{"n": 7}', tokens=(3, 4)))
        info = await store.get("r1")
        assert info is not None
        assert (info.steps, info.input_tokens, info.output_tokens) == (1, 3, 4)
        assert (info.state, info.updated, info.lease_until) == (
            b'{"n": 7}', NOW + 1.5, NOW + 1.5 + LEASE,
        )  # fmt: skip
        assert info.status == "running"
        await store.finish("r1", A, "failed", state=None, outcome=None, error="boom", now=NOW + 2)
        loaded = await load(store, "r1", A, NOW + 3)
        assert loaded.journal == {
            "1|exec": ("exec", b"replaced"),
            "10|exec": ("exec", b"10|exec"),
            "0/0|exec": ("exec", b"0/0|exec"),
        }
        assert loaded.scopes == {"": Scope(1, "1:B", "default", False)}
        assert loaded.info.state == b'{"n": 7}'

    @store_test
    async def test_a_nested_commit_clears_inner_scopes(self, store: RunStore) -> None:
        """Committing a step that ran a flow drops its inner levels' scopes and journal."""
        await start_new(store, "r1")
        await store.commit("r1", A, new_commit("1/0", 1, scope="1/"))
        await store.commit("r1", A, new_commit("1/[0]/0", 2, scope="1/[0]/"))
        await store.commit("r1", A, new_commit("10/0", 3, scope="10/"))
        for key in ("1/1|exec", "1/[0]/1|exec", "10/1|exec", "1|post|0"):
            await store.record("r1", A, key, "llm", b"x")
        await store.commit("r1", A, new_commit("1", 4, nested=True))
        loaded = await load(store, "r1", B, NOW + 1000)
        assert sorted(loaded.scopes) == ["", "10/"]
        assert loaded.scopes["10/"] == Scope(3, "1:B", "default", False)
        assert loaded.journal == {"10/1|exec": ("llm", b"x")}
        assert loaded.info.steps == 4

    @store_test
    async def test_finish_ends_the_turn(self, store: RunStore) -> None:
        """finish sets status, outcome and error, keeps the snapshot unless given one."""
        await start_new(store, "r1")
        await store.commit("r1", A, new_commit("0", 1))
        await store.finish("r1", A, "failed", state=None, outcome=None, error="E: x", now=NOW + 9)
        info = await store.get("r1")
        assert info is not None
        assert (info.status, info.error, info.state, info.updated) == (
            "failed", "E: x", b'{"n": 1}', NOW + 9,
        )  # fmt: skip
        assert (info.lease_owner, info.lease_until) == (None, 0.0)
        loaded = await load(store, "r1", B, NOW + 10)
        assert (loaded.info.status, loaded.info.error) == ("running", None)
        await store.finish("r1", B, "done", state=b'{"n": 2}', outcome=b'"end"', error=None,
                           now=NOW + 11)  # fmt: skip
        info = await store.get("r1")
        assert info is not None
        assert (info.status, info.state, info.outcome, info.error, info.lease_owner) == (
            "done", b'{"n": 2}', b'"end"', None, None,
        )  # fmt: skip

    @store_test
    async def test_a_finished_run_loads_without_its_lease(self, store: RunStore) -> None:
        """start on a done run returns it (with its outcome) and takes no lease."""
        await start_new(store, "r1")
        await store.finish("r1", A, "done", state=b"{}", outcome=b"1", error=None, now=NOW + 1)
        loaded = await load(store, "r1", B, NOW + 2)
        assert (loaded.info.status, loaded.info.outcome) == ("done", b"1")
        info = await store.get("r1")
        assert info is not None and info.lease_owner is None and info.status == "done"

    # --- questions ----------------------------------------------------------------------

    @store_test
    async def test_suspend_then_answer_queues_the_run(self, store: RunStore) -> None:
        """A suspended run waits without a lease; its answer is journaled and it is queued."""
        await start_new(store, "r1")
        await store.commit("r1", A, new_commit("0", 1, tokens=(5, 6)))
        await store.suspend("r1", A, replace(new_question(), run_id="r1", audience="ops"))
        info = await store.get("r1")
        assert info is not None
        assert (info.status, info.lease_owner, info.updated) == ("waiting", None, NOW + 5)
        [waiting] = await store.questions()
        assert (waiting.run_id, waiting.key, waiting.content, waiting.status) == (
            "r1", "0|post|0", "Approve?", "waiting",
        )  # fmt: skip
        assert (waiting.audience, waiting.node, waiting.asked) == ("ops", "0 (0:A)", NOW + 5)
        assert (waiting.flow, waiting.steps, waiting.input_tokens, waiting.output_tokens) == (
            "tests.Flow", 1, 5, 6,
        )  # fmt: skip
        answered = await store.answer("r1", "approve", "fine", b'"approve"', NOW + 20)
        assert (answered.key, answered.status, answered.decision, answered.comment) == (
            "0|post|0", "answered", "approve", "fine",
        )  # fmt: skip
        assert answered.answered == NOW + 20
        info = await store.get("r1")
        assert info is not None and (info.status, info.updated) == ("queued", NOW + 20)
        assert await store.questions() == []
        [done] = await store.questions("answered")
        assert (done.decision, done.comment, done.flow) == ("approve", "fine", "tests.Flow")
        loaded = await load(store, "r1", B, NOW + 21)
        assert loaded.journal == {"0|post|0": ("feedback", b'"approve"')}

    @store_test
    async def test_an_expired_question_records_its_default(self, store: RunStore) -> None:
        """answer(expired=True) marks the question expired."""
        await start_new(store, "r1")
        await store.suspend("r1", A, replace(new_question(default="deny"), run_id="r1"))
        answered = await store.answer("r1", "deny", None, b'"deny"', NOW + 9, expired=True)
        assert (answered.status, answered.decision, answered.default) == ("expired", "deny", "deny")
        assert [q.status for q in await store.questions(None)] == ["expired"]

    @store_test
    async def test_answer_without_a_waiting_question_changes_nothing(self, store: RunStore) -> None:
        """QuestionNotWaiting for a running or answered run, and the store stays as it was."""
        with raises(RunNotFoundError, "nope"):
            await store.answer("nope", "approve", None, b"1", NOW)
        await start_new(store, "r1")
        before = await store.get("r1")
        with raises(QuestionNotWaiting, "r1"):
            await store.answer("r1", "approve", None, b"1", NOW + 1)
        assert await store.get("r1") == before
        assert await store.questions(None) == []
        await store.suspend("r1", A, replace(new_question(), run_id="r1"))
        await store.answer("r1", "deny", "no", b'"deny"', NOW + 6)
        before = await store.get("r1")
        questions = await store.questions(None)
        with raises(QuestionNotWaiting, "answered"):
            await store.answer("r1", "approve", None, b'"approve"', NOW + 7)
        assert await store.get("r1") == before
        assert await store.questions(None) == questions
        loaded = await load(store, "r1", A, NOW + 8)
        assert loaded.journal == {"0|post|0": ("feedback", b'"deny"')}

    @store_test
    async def test_a_stale_owner_cannot_suspend(self, store: RunStore) -> None:
        """suspend checks the lease like every write of the run's owner."""
        await start_new(store, "r1", lease=1)
        await load(store, "r1", B, NOW + 5)
        with raises(RunLeasedError, "r1"):
            await store.suspend("r1", A, replace(new_question(), run_id="r1"))
        assert await store.questions(None) == []

    @store_test
    async def test_questions_newest_first(self, store: RunStore) -> None:
        """questions() lists newest first, filters by status, and honours limit."""
        for number in range(3):
            run_id = f"r{number}"
            await start_new(store, run_id)
            question = new_question(asked=NOW + 10 - number)
            await store.suspend(run_id, A, replace(question, run_id=run_id))
        await store.answer("r1", "approve", None, b"1", NOW + 30)
        assert [q.run_id for q in await store.questions()] == ["r0", "r2"]
        assert [q.run_id for q in await store.questions(None)] == ["r0", "r1", "r2"]
        assert [q.run_id for q in await store.questions(None, limit=2)] == ["r0", "r1"]
        assert [q.run_id for q in await store.questions("answered")] == ["r1"]

    @store_test
    async def test_questions_of_one_run_newest_first(self, store: RunStore) -> None:
        """questions_of_run() gives that run's questions only, newest first, filled in."""
        for run_id in ("r1", "r2"):
            await start_new(store, run_id)
            await store.suspend(run_id, A, replace(new_question(), run_id=run_id))
        await store.answer("r1", "deny", "again", b'"deny"', NOW + 6)
        await load(store, "r1", A, NOW + 7)
        await store.commit("r1", A, new_commit("1", 1, tokens=(3, 4)))
        later = new_question(key="1|post|0", asked=NOW + 8)
        await store.suspend("r1", A, replace(later, run_id="r1"))
        found = await store.questions_of_run("r1")
        assert [(q.key, q.status) for q in found] == [
            ("1|post|0", "waiting"), ("0|post|0", "answered"),
        ]  # fmt: skip
        assert {(q.run_id, q.flow, q.steps, q.input_tokens) for q in found} == {
            ("r1", "tests.Flow", 1, 3),
        }
        assert [q.run_id for q in await store.questions_of_run("r2")] == ["r2"]
        assert await store.questions_of_run("nope") == []

    # --- workers: claim and requeue -----------------------------------------------------

    @store_test
    async def test_claim_takes_queued_runs_oldest_first(self, store: RunStore) -> None:
        """claim marks up to ``limit`` queued runs running under the worker's lease."""
        await queue_new(store, "q1", NOW + 1)
        await queue_new(store, "q3", NOW + 3)
        await queue_new(store, "q2", NOW + 2)
        await start_new(store, "busy")
        await start_new(store, "asking")
        await store.suspend("asking", A, replace(new_question(), run_id="asking"))
        claimed = await store.claim(WORKER, NOW + 100, NOW + 40, 2)
        assert [info.run_id for info in claimed] == ["q1", "q2"]
        for info in claimed:
            assert (info.status, info.lease_owner, info.lease_until) == (
                "running", WORKER, NOW + 100,
            )  # fmt: skip
            stored = await store.get(info.run_id)
            assert stored is not None
            assert (stored.status, stored.lease_owner, stored.updated) == (
                "running", WORKER, NOW + 40,
            )  # fmt: skip
        assert [info.run_id for info in await store.claim(WORKER, NOW + 100, NOW + 41, 5)] == ["q3"]
        assert await store.claim(WORKER, NOW + 100, NOW + 42, 5) == []
        await store.commit("q1", WORKER, new_commit("0", 1))
        with raises(RunLeasedError, "q2"):
            await store.commit("q2", A, new_commit("0", 1))

    @store_test
    async def test_concurrent_claimers_never_share_a_run(self, store: RunStore) -> None:
        """Workers claiming at once, on their own loops and threads, split the queue."""
        run_ids = [f"q{number:02d}" for number in range(24)]
        for number, run_id in enumerate(run_ids):
            await queue_new(store, run_id, NOW + number)
        handles = [await self.open_again(store) for _ in range(3)]
        claims: dict[str, list[str]] = {}
        errors: list[BaseException] = []

        async def drain(handle: RunStore, worker: str) -> None:
            claims[worker] = []
            while True:
                got = await handle.claim(worker, NOW + 500, NOW + 50, 2)
                if not got:
                    return
                claims[worker] += [info.run_id for info in got]

        def in_thread(handle: RunStore, worker: str) -> None:
            try:
                asyncio.run(drain(handle, worker))
            except BaseException as error:
                errors.append(error)

        threads = [
            threading.Thread(target=in_thread, args=(handle, f"thread-{number}"))
            for number, handle in enumerate(handles)
        ]
        for thread in threads:
            thread.start()
        await asyncio.gather(drain(store, "loop-0"), drain(store, "loop-1"))
        for thread in threads:
            thread.join()
        for handle in handles:
            if handle is not store:
                await handle.aclose()
        assert errors == []
        everything = [run_id for got in claims.values() for run_id in got]
        assert sorted(everything) == run_ids, f"claimed twice or lost: {claims}"
        for worker, got in claims.items():
            for run_id in got:
                info = await store.get(run_id)
                assert info is not None and info.lease_owner == worker

    @store_test
    async def test_requeue_only_a_run_its_stale_owner_holds(self, store: RunStore) -> None:
        """requeue frees a dead owner's run once; any other case answers False."""
        await start_new(store, "r1")
        assert not await store.requeue("r1", B, NOW + 1)
        assert not await store.requeue("missing", A, NOW + 1)
        assert await store.requeue("r1", A, NOW + 2)
        info = await store.get("r1")
        assert info is not None
        assert (info.status, info.lease_owner, info.lease_until, info.updated) == (
            "queued", None, 0.0, NOW + 2,
        )  # fmt: skip
        assert not await store.requeue("r1", A, NOW + 3)
        with raises(RunLeasedError, "r1"):
            await store.commit("r1", A, new_commit("0", 1))

    # --- managing runs ------------------------------------------------------------------

    @store_test
    async def test_cancel_stops_the_running_owner(self, store: RunStore) -> None:
        """A run cancelled while it runs: its owner's next write raises RunCancelledError."""
        await start_new(store, "r1")
        assert await store.cancel("r1", NOW + 3)
        info = await store.get("r1")
        assert info is not None
        assert (info.status, info.lease_owner, info.updated) == ("cancelled", None, NOW + 3)
        with raises(RunCancelledError, "r1"):
            await store.record("r1", A, "0|exec", "exec", b"1")
        with raises(RunCancelledError, "r1"):
            await store.commit("r1", A, new_commit("0", 1))
        with raises(RunCancelledError, "r1"):
            await store.suspend("r1", A, replace(new_question(), run_id="r1"))
        with raises(RunCancelledError, "r1"):
            await store.finish("r1", A, "done", state=None, outcome=None, error=None, now=NOW)
        assert not await store.renew("r1", A, NOW + 100)
        assert not await store.cancel("r1", NOW + 4)
        loaded = await load(store, "r1", B, NOW + 5)
        assert loaded.info.status == "cancelled"
        info = await store.get("r1")
        assert info is not None and (info.status, info.lease_owner, info.steps) == (
            "cancelled", None, 0,
        )  # fmt: skip

    @store_test
    async def test_cancel_only_unfinished_runs(self, store: RunStore) -> None:
        """cancel answers False for a missing or done run; a waiting run can be cancelled."""
        assert not await store.cancel("missing", NOW)
        await start_new(store, "done")
        await store.finish("done", A, "done", state=None, outcome=b"1", error=None, now=NOW)
        assert not await store.cancel("done", NOW + 1)
        await start_new(store, "asking")
        await store.suspend("asking", A, replace(new_question(), run_id="asking"))
        assert await store.cancel("asking", NOW + 2)
        with raises(QuestionNotWaiting, "asking"):
            await store.answer("asking", "approve", None, b"1", NOW + 3)
        info = await store.get("done")
        assert info is not None and info.status == "done"

    @store_test
    async def test_prune_deletes_ended_runs_before_the_cutoff(self, store: RunStore) -> None:
        """prune removes done, failed and cancelled runs older than the cutoff, and their rows."""
        ended: tuple[tuple[str, RunStatus, int], ...] = (
            ("old-done", "done", 1), ("old-failed", "failed", 2), ("new-done", "done", 100),
        )  # fmt: skip
        for run_id, status, at in ended:
            await start_new(store, run_id)
            await store.commit(run_id, A, new_commit("0", 1, started=NOW))
            await store.finish(run_id, A, status, state=None, outcome=None, error=None,
                               now=NOW + at)  # fmt: skip
        await start_new(store, "old-cancelled")
        await store.cancel("old-cancelled", NOW + 3)
        await start_new(store, "old-waiting")
        await store.suspend("old-waiting", A, replace(new_question(asked=NOW + 1),
                                                      run_id="old-waiting"))  # fmt: skip
        await start_new(store, "old-running")
        assert await store.prune(NOW + 50) == 3
        for run_id in ("old-done", "old-failed", "old-cancelled"):
            assert await store.get(run_id) is None
            assert await store.steps(run_id) == []
        left = sorted(info.run_id for info in await store.list_runs())
        assert left == ["new-done", "old-running", "old-waiting"]
        assert len(await store.steps("new-done")) == 1
        assert [q.run_id for q in await store.questions()] == ["old-waiting"]
        assert await store.prune(NOW + 50) == 0

    @store_test
    async def test_list_runs_newest_first(self, store: RunStore) -> None:
        """list_runs orders by last update, filters by status, limits, and drops snapshots."""
        await queue_new(store, "b", NOW + 2)
        await queue_new(store, "a", NOW + 3)
        await queue_new(store, "c", NOW + 1)
        await start_new(store, "d", now=NOW + 4)
        runs = await store.list_runs()
        assert [info.run_id for info in runs] == ["d", "a", "b", "c"]
        assert all(info.state is None and info.outcome is None for info in runs)
        assert [info.run_id for info in await store.list_runs("queued", limit=2)] == ["a", "b"]
        assert [info.run_id for info in await store.list_runs("running")] == ["d"]
        assert await store.list_runs("done") == []

    @store_test
    async def test_steps_come_back_in_sequence_order(self, store: RunStore) -> None:
        """steps() orders by seq, even when parallel items committed out of order."""
        await start_new(store, "r1")
        history = replace(new_commit("0/[1]/0", 2, scope="0/[1]/").step, state=b"snap",
                          error=None)  # fmt: skip
        second = replace(new_commit("0/[1]/0", 2, scope="0/[1]/"), step=history)
        first = new_commit("0/[0]/0", 1, scope="0/[0]/", tokens=(1, 2))
        third = new_commit("0", 3, nested=True, done=True)
        for commit in (second, first, third):
            await store.commit("r1", A, commit)
        steps = await store.steps("r1")
        assert steps == [first.step, second.step, third.step]
        assert steps[1].state == b"snap" and steps[0].state is None
        assert await store.steps("missing") == []
