"""The run store contract: what a durable run keeps, and the methods a store implements.

A store keeps, per run: one row (status, the latest snapshot of ``shared``, the
outcome, the lease), a small row per committed step, the progress of each flow
level still running (a *scope*: which step it reached and which node comes next),
and the journal of answers not yet folded into a committed step. Storage grows with
the state, not with the number of steps: each commit replaces the snapshot and
drops the journal entries of the step it commits. A store plugin registers a
factory through the ``register_run_stores`` hook, and checks itself with the tests
every store must pass: :class:`pocketflow.testing.RunStoreContract`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RunStatus = Literal["queued", "running", "waiting", "failed", "done", "cancelled"]
"""``queued``: ready for a worker to run (an answered question, or enqueued);
``waiting``: stopped on a question nobody answered yet."""
STATUSES: tuple[RunStatus, ...] = ("queued", "running", "waiting", "failed", "done", "cancelled")
QuestionStatus = Literal["waiting", "answered", "expired"]
_EVERY_QUESTION = 2**62  # a limit no store reaches


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """Where a store factory opens its store: the URL, and how to read a relative path."""

    url: str
    base: Path
    """The folder a relative path in ``url`` starts from: the config file's, or the cwd."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The ``[runs]`` table of the configuration."""

    @property
    def scheme(self) -> str:
        """The URL's scheme (``sqlite``, ``memory``, ``postgresql``)."""
        return self.url.partition("://")[0].lower()


@dataclass(slots=True)
class RunInfo:
    """One run as the store holds it (the snapshot and outcome still encoded)."""

    run_id: str
    status: RunStatus
    flow: str
    shape: list[str]
    serializer: str
    created: float
    updated: float
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    target: str | None = None
    error: str | None = None
    state: bytes | None = None
    outcome: bytes | None = None
    lease_owner: str | None = None
    lease_until: float = 0.0


@dataclass(slots=True)
class Question:
    """A question a durable run stopped on, waiting for a person (``inbox`` feedback)."""

    run_id: str
    key: str
    """The journal key its answer is written to, so the resumed step replays it."""
    content: str
    asked: float
    audience: str | None = None
    expires: float | None = None
    default: str | None = None
    status: QuestionStatus = "waiting"
    decision: str | None = None
    comment: str | None = None
    answered: float | None = None
    node: str = ""
    """The step that asked: its key and node id, e.g. ``"0 (0:SummarizeThenVerify)"``."""
    flow: str = ""
    """Filled by :meth:`RunStore.questions` from the run: its flow, steps and tokens."""
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(slots=True)
class Scope:
    """How far one flow level of a run got: steps done, the next node, the last action."""

    step: int
    next_node: str | None
    action: str | None
    done: bool


@dataclass(slots=True)
class StepRecord:
    """A committed step, for ``pocketflow runs show``: small, one per step."""

    key: str
    node: str
    action: str | None
    started: float
    duration: float
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    state: bytes | None = None
    """The snapshot after this step, only when the run keeps history."""


@dataclass(slots=True)
class Commit:
    """Everything one step commits, in one transaction."""

    scope: str
    progress: Scope
    step: StepRecord
    state: bytes
    lease_until: float
    seq: int
    """The step's number in the run, from 1: the order ``steps`` returns them in."""
    nested: bool = False
    """True when the step ran a flow: its inner scopes and journal go too."""


@dataclass(slots=True)
class LoadedRun:
    """A run read back for resuming: its row, its scopes and its journal."""

    info: RunInfo
    scopes: dict[str, Scope] = field(default_factory=dict)
    journal: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class RunStore(ABC):
    """Where durable runs live. Every method may be awaited from any event loop.

    ``owner`` is the lease holder's id: a write by an owner that no longer holds the
    lease (the run was cancelled, or taken over after the lease ran out) raises
    :class:`~pocketflow.errors.RunLeasedError` or
    :class:`~pocketflow.errors.RunCancelledError`.
    """

    url: str

    @abstractmethod
    async def start(
        self, info: RunInfo, owner: str, lease_until: float, now: float
    ) -> LoadedRun | None:
        """Take the lease of run ``info.run_id`` and load it; create it when it is new.

        Returns None when the run was created, the loaded run otherwise (a finished or
        cancelled run is loaded without taking the lease). Raises RunLeasedError when
        a live owner holds the lease.
        """

    @abstractmethod
    async def record(self, run_id: str, owner: str, key: str, kind: str, value: bytes) -> None:
        """Journal one answer (a facade call's, an exec result, a batch item's)."""

    @abstractmethod
    async def commit(self, run_id: str, owner: str, commit: Commit) -> None:
        """Commit a step: progress, step row, snapshot; drop the step's journal and scopes."""

    @abstractmethod
    async def finish(
        self,
        run_id: str,
        owner: str,
        status: RunStatus,
        *,
        state: bytes | None,
        outcome: bytes | None,
        error: str | None,
        now: float,
    ) -> None:
        """End the owner's turn: ``status`` with what it left; release the lease.

        A finished run ("done") drops its scopes and journal.
        """

    @abstractmethod
    async def suspend(self, run_id: str, owner: str, question: Question) -> None:
        """Store ``question``, mark the run waiting and release the lease (one transaction)."""

    @abstractmethod
    async def answer(
        self,
        run_id: str,
        decision: str,
        comment: str | None,
        value: bytes,
        now: float,
        *,
        expired: bool = False,
    ) -> Question:
        """Answer the run's waiting question: journal ``value`` at its key, queue the run.

        ``expired`` records that the question's default was applied. Raises
        RunNotFoundError, or QuestionNotWaiting (changing nothing) when the run has no
        waiting question. Returns the question as answered.
        """

    @abstractmethod
    async def questions(
        self, status: QuestionStatus | None = "waiting", limit: int = 100
    ) -> list[Question]:
        """Questions, newest first, with their run's flow, steps and tokens filled in."""

    async def questions_of_run(self, run_id: str) -> list[Question]:
        """The run's questions, newest first, with its flow, steps and tokens filled in.

        This default reads every question and keeps the run's; the built-in stores and
        pocketflow-postgres look them up by run instead (a page showing one question
        must not read them all).
        """
        return [q for q in await self.questions(None, _EVERY_QUESTION) if q.run_id == run_id]

    @abstractmethod
    async def claim(self, owner: str, lease_until: float, now: float, limit: int) -> list[RunInfo]:
        """Take up to ``limit`` queued runs for a worker: mark them running under its lease.

        Two workers never claim the same run.
        """

    @abstractmethod
    async def requeue(self, run_id: str, stale_owner: str, now: float) -> bool:
        """Queue a running run again whose owner ``stale_owner`` died; False if it moved on."""

    @abstractmethod
    async def renew(self, run_id: str, owner: str, lease_until: float) -> bool:
        """Extend the lease; False when the owner no longer holds it."""

    @abstractmethod
    async def get(self, run_id: str) -> RunInfo | None:
        """The run's row, or None."""

    @abstractmethod
    async def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunInfo]:
        """Runs, most recently updated first (without their snapshots)."""

    @abstractmethod
    async def steps(self, run_id: str) -> list[StepRecord]:
        """The run's committed steps in order."""

    @abstractmethod
    async def cancel(self, run_id: str, now: float) -> bool:
        """Mark an unfinished run cancelled and drop its lease; False if none was."""

    @abstractmethod
    async def prune(self, updated_before: float) -> int:
        """Delete ended runs (done, failed, cancelled) last updated before then."""

    async def enqueue(self, info: RunInfo, now: float) -> bool:
        """Create run ``info`` queued for a worker; False when the run id exists already.

        The default takes the lease as a new run and hands it to the queue (a run
        created by someone else in between is taken over); a store should do it in one
        statement.
        """
        if await self.get(info.run_id) is not None:
            return False
        owner = new_owner()
        if await self.start(info, owner, now + 60, now) is not None:
            return False  # created meanwhile by someone else
        await self.finish(
            info.run_id, owner, "queued", state=None, outcome=None, error=None, now=now
        )
        return True

    async def wait_for_work(self, timeout: float) -> None:
        """Return when a run may have become ready, or after ``timeout`` seconds.

        The default just waits; a store that can be notified (PostgreSQL's LISTEN)
        returns as soon as a run is queued or a question answered.
        """
        await asyncio.sleep(timeout)

    async def aclose(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release connections."""


RunStoreFactory = Callable[[StoreLocation], RunStore]
"""What a store plugin registers: makes the store for a location."""


def new_owner() -> str:
    """A lease owner id for this process: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` was a process on this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rpartition(")")[2].split()[:1] == ["Z"]


def lease_is_free(info: RunInfo, now: float) -> bool:
    """True when nobody holds the run's lease (none, expired, or a dead local process)."""
    owner = info.lease_owner
    return not owner or info.lease_until <= now or owner_is_dead(owner)


def may_start(info: RunInfo, owner: str, now: float) -> bool:
    """True when ``owner`` may run ``info`` now: it holds the lease, or nobody does."""
    return info.lease_owner == owner or lease_is_free(info, now)


def not_waiting_message(run_id: str, status: str, questions: list[Question]) -> str:
    """Why run ``run_id`` (in ``status``) takes no answer, for QuestionNotWaiting."""
    last = questions[0] if questions else None
    if last is not None and last.status != "waiting":
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.answered or 0))
        how = "its default applied" if last.status == "expired" else "answered"
        return (
            f"Run {run_id!r} has no question waiting: the last one was {how} "
            f"({last.decision!r}) at {when}. Nothing was changed."
        )
    return (
        f"Run {run_id!r} is {status} and has no question waiting for an answer. "
        f"Nothing was changed; `pocketflow runs list --status waiting` shows the questions "
        f"that wait."
    )
