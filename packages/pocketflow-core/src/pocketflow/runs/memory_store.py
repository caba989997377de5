"""The ``memory`` run store: runs kept in this process only, for tests and demos.

``memory://`` (or ``memory://NAME``) names one store per process and name, so a run
started and resumed in the same process finds itself; nothing survives the process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

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
    QuestionStatus,
    RunInfo,
    RunStatus,
    RunStore,
    Scope,
    StepRecord,
    may_start,
    not_waiting_message,
)


@dataclass(slots=True)
class _Run:
    info: RunInfo
    scopes: dict[str, Scope] = field(default_factory=dict)
    journal: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    steps: dict[int, StepRecord] = field(default_factory=dict)
    """By ``seq``: parallel items may commit out of order."""
    questions: list[Question] = field(default_factory=list)


class MemoryRunStore(RunStore):
    """Runs in a dict, guarded by a lock (sync twins write from another thread)."""

    def __init__(self, name: str = "") -> None:
        self.url = f"memory://{name}"
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()

    async def start(
        self, info: RunInfo, owner: str, lease_until: float, now: float
    ) -> LoadedRun | None:
        """Take the lease and load the run, or create it."""
        with self._lock:
            run = self._runs.get(info.run_id)
            if run is None:
                created = replace(info, status="running", created=now, updated=now)
                created.lease_owner, created.lease_until = owner, lease_until
                self._runs[info.run_id] = _Run(created)
                return None
            if run.info.status in ("done", "cancelled"):
                return LoadedRun(replace(run.info))
            if not may_start(run.info, owner, now):
                raise RunLeasedError(
                    f"Run {info.run_id!r} is being run by {run.info.lease_owner} right now: "
                    f"only one runs it at a time."
                )
            run.info.status, run.info.error, run.info.updated = "running", None, now
            run.info.lease_owner, run.info.lease_until = owner, lease_until
            return LoadedRun(replace(run.info), dict(run.scopes), dict(run.journal))

    def _owned(self, run_id: str, owner: str) -> _Run:
        run = self._runs[run_id]
        if run.info.lease_owner != owner:
            if run.info.status == "cancelled":
                raise RunCancelledError(f"Run {run_id!r} was cancelled while it ran.")
            raise RunLeasedError(f"Run {run_id!r} is no longer leased to this owner.")
        return run

    async def record(self, run_id: str, owner: str, key: str, kind: str, value: bytes) -> None:
        """Journal one answer."""
        with self._lock:
            self._owned(run_id, owner).journal[key] = (kind, value)

    async def commit(self, run_id: str, owner: str, commit: Commit) -> None:
        """Commit a step."""
        with self._lock:
            run = self._owned(run_id, owner)
            step, info = commit.step, run.info
            info.state = commit.state
            info.steps += 1
            info.input_tokens += step.input_tokens
            info.output_tokens += step.output_tokens
            info.updated = step.started + step.duration
            info.lease_until = commit.lease_until
            run.scopes[commit.scope] = commit.progress
            run.steps[commit.seq] = step
            prefixes: tuple[str, ...] = (
                (step.key + "|", step.key + "/") if commit.nested else (step.key + "|",)
            )
            for key in [key for key in run.journal if key.startswith(prefixes)]:
                del run.journal[key]
            if commit.nested:
                for scope in [scope for scope in run.scopes if scope.startswith(prefixes[1])]:
                    del run.scopes[scope]

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
        """End the owner's turn and release the lease."""
        with self._lock:
            run = self._owned(run_id, owner)
            info = run.info
            info.status, info.outcome, info.error, info.updated = status, outcome, error, now
            if state is not None:
                info.state = state
            info.lease_owner, info.lease_until = None, 0.0
            if status == "done":
                run.scopes.clear()
                run.journal.clear()

    async def suspend(self, run_id: str, owner: str, question: Question) -> None:
        """Store the question, mark the run waiting, release the lease."""
        with self._lock:
            run = self._owned(run_id, owner)
            run.questions = [q for q in run.questions if q.key != question.key]
            run.questions.insert(0, replace(question, status="waiting"))
            run.info.status, run.info.updated = "waiting", question.asked
            run.info.lease_owner, run.info.lease_until = None, 0.0

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
        """Answer the waiting question, journal the answer, queue the run."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise RunNotFoundError(f"No run {run_id!r} in {self.url}.")
            waiting = [q for q in run.questions if q.status == "waiting"]
            if run.info.status != "waiting" or not waiting:
                raise QuestionNotWaiting(
                    not_waiting_message(run_id, run.info.status, run.questions)
                )
            question = waiting[0]
            question.status = "expired" if expired else "answered"
            question.decision, question.comment, question.answered = decision, comment, now
            run.journal[question.key] = ("feedback", value)
            run.info.status, run.info.updated = "queued", now
            return replace(question)

    async def questions(
        self, status: QuestionStatus | None = "waiting", limit: int = 100
    ) -> list[Question]:
        """Questions, newest first, with their run's flow, steps and tokens."""
        with self._lock:
            found = [
                _with_run(q, run.info)
                for run in self._runs.values()
                for q in run.questions
                if status is None or q.status == status
            ]
        found.sort(key=lambda question: question.asked, reverse=True)
        return found[:limit]

    async def questions_of_run(self, run_id: str) -> list[Question]:
        """The run's questions, newest first, with its flow, steps and tokens."""
        with self._lock:
            run = self._runs.get(run_id)
            found = [] if run is None else [_with_run(q, run.info) for q in run.questions]
        found.sort(key=lambda question: question.asked, reverse=True)
        return found

    async def claim(self, owner: str, lease_until: float, now: float, limit: int) -> list[RunInfo]:
        """Take up to ``limit`` queued runs, oldest first."""
        with self._lock:
            queued = sorted(
                (run for run in self._runs.values() if run.info.status == "queued"),
                key=lambda run: run.info.updated,
            )[:limit]
            for run in queued:
                run.info.status, run.info.updated = "running", now
                run.info.lease_owner, run.info.lease_until = owner, lease_until
            return [replace(run.info) for run in queued]

    async def requeue(self, run_id: str, stale_owner: str, now: float) -> bool:
        """Queue again a run whose owner died."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.info.status != "running" or run.info.lease_owner != stale_owner:
                return False
            run.info.status, run.info.updated = "queued", now
            run.info.lease_owner, run.info.lease_until = None, 0.0
            return True

    async def renew(self, run_id: str, owner: str, lease_until: float) -> bool:
        """Extend the lease."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.info.lease_owner != owner:
                return False
            run.info.lease_until = lease_until
            return True

    async def get(self, run_id: str) -> RunInfo | None:
        """The run's row, or None."""
        with self._lock:
            run = self._runs.get(run_id)
            return None if run is None else replace(run.info)

    async def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunInfo]:
        """Runs, most recently updated first."""
        with self._lock:
            infos = [run.info for run in self._runs.values()]
        chosen = [i for i in infos if status is None or i.status == status]
        chosen.sort(key=lambda info: info.updated, reverse=True)
        return [replace(info, state=None, outcome=None) for info in chosen[:limit]]

    async def steps(self, run_id: str) -> list[StepRecord]:
        """The run's committed steps in order."""
        with self._lock:
            run = self._runs.get(run_id)
            return [] if run is None else [run.steps[seq] for seq in sorted(run.steps)]

    async def cancel(self, run_id: str, now: float) -> bool:
        """Mark an unfinished run cancelled."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.info.status in ("done", "cancelled"):
                return False
            run.info.status, run.info.updated = "cancelled", now
            run.info.lease_owner, run.info.lease_until = None, 0.0
            run.journal.clear()
            return True

    async def prune(self, updated_before: float) -> int:
        """Delete ended runs last updated before ``updated_before``."""
        with self._lock:
            ids = [
                run_id
                for run_id, run in self._runs.items()
                if run.info.updated < updated_before
                and run.info.status in ("done", "failed", "cancelled")
            ]
            for run_id in ids:
                del self._runs[run_id]
            return len(ids)


def _with_run(question: Question, info: RunInfo) -> Question:
    """A copy of ``question`` with its run's flow, steps and tokens filled in."""
    return replace(
        question,
        flow=info.flow,
        steps=info.steps,
        input_tokens=info.input_tokens,
        output_tokens=info.output_tokens,
    )
