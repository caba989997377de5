"""The ``sqlite`` run store: one file on local disk, stdlib ``sqlite3`` in WAL mode.

A commit is one write transaction (a few small statements and one snapshot) that
takes tens of microseconds, so it runs inline on the event loop rather than paying a
thread hop; ``synchronous=NORMAL`` keeps commits safe from a crashed or killed
process (a power cut may lose the last commits, never corrupt the file; set
``[runs] synchronous = "FULL"`` to pay an fsync per commit instead).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pocketflow.errors import (
    ConfigError,
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
    StoreLocation,
    may_start,
    not_waiting_message,
)

SCHEMA_VERSION = 1
INLINE_LIMIT = 256 * 1024
"""Snapshots larger than this (bytes) are written from a thread."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pocketflow_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, status TEXT NOT NULL, flow TEXT NOT NULL, shape TEXT NOT NULL,
    serializer TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    steps INTEGER NOT NULL DEFAULT 0, input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0, target TEXT, error TEXT, state BLOB,
    outcome BLOB, lease_owner TEXT, lease_until REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS run_scopes (
    run_id TEXT NOT NULL, scope TEXT NOT NULL, step INTEGER NOT NULL, next_node TEXT,
    action TEXT, done INTEGER NOT NULL, PRIMARY KEY (run_id, scope)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_journal (
    run_id TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_questions (
    run_id TEXT NOT NULL, key TEXT NOT NULL, content TEXT NOT NULL, asked REAL NOT NULL,
    audience TEXT, expires REAL, default_decision TEXT, status TEXT NOT NULL, decision TEXT,
    comment TEXT, answered REAL, node TEXT NOT NULL, PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_steps (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL, node TEXT NOT NULL,
    action TEXT, started REAL NOT NULL, duration REAL NOT NULL,
    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, error TEXT, state BLOB,
    PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
"""
_RUN_COLUMNS = (
    "run_id, status, flow, shape, serializer, created, updated, steps, input_tokens, "
    "output_tokens, target, error, state, outcome, lease_owner, lease_until"
)
_LIGHT_COLUMNS = _RUN_COLUMNS.replace("state, outcome", "NULL, NULL")
_HIGH = "\U0010ffff"  # sorts after every character a key holds: a prefix's upper bound


class SqliteRunStore(RunStore):
    """Runs in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        self.url = f"sqlite:///{path}"
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as error:
            raise ConfigError(f"Run store {path}: cannot be used: {error}.") from error

    def _check_version(self) -> None:
        row = self._db.execute(
            "SELECT value FROM pocketflow_meta WHERE key = 'schema_version'"
        ).fetchone()
        if row is None:
            self._db.execute(
                "INSERT OR IGNORE INTO pocketflow_meta VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise ConfigError(
                f"Run store {self.path} has schema version {row[0]}, newer than this "
                f"pocketflow understands ({SCHEMA_VERSION}): upgrade pocketflow-core."
            )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --- a run's own writes -------------------------------------------------------------

    async def start(
        self, info: RunInfo, owner: str, lease_until: float, now: float
    ) -> LoadedRun | None:
        """Take the lease and load the run, or create it (see RunStore.start)."""
        with self._write() as db:
            row = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (info.run_id,))
            found = row.fetchone()
            if found is None:
                db.execute(
                    f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES "
                    f"(?, 'running', ?, ?, ?, ?, ?, 0, 0, 0, ?, NULL, ?, NULL, ?, ?)",
                    (
                        info.run_id, info.flow, json.dumps(info.shape), info.serializer, now,
                        now, info.target, info.state, owner, lease_until,
                    ),
                )  # fmt: skip
                return None
            stored = _info(found)
            if stored.status in ("done", "cancelled"):
                return LoadedRun(stored)
            if not may_start(stored, owner, now):
                raise RunLeasedError(_leased_message(stored))
            db.execute(
                "UPDATE runs SET status = 'running', error = NULL, lease_owner = ?, "
                "lease_until = ?, updated = ? WHERE run_id = ?",
                (owner, lease_until, now, info.run_id),
            )
            stored.status, stored.error, stored.updated = "running", None, now
            stored.lease_owner, stored.lease_until = owner, lease_until
            scopes = {
                scope: Scope(step, next_node, action, bool(done))
                for scope, step, next_node, action, done in db.execute(
                    "SELECT scope, step, next_node, action, done FROM run_scopes WHERE run_id = ?",
                    (info.run_id,),
                )
            }
            journal = {
                key: (kind, bytes(value))
                for key, kind, value in db.execute(
                    "SELECT key, kind, value FROM run_journal WHERE run_id = ?", (info.run_id,)
                )
            }
            return LoadedRun(stored, scopes, journal)

    async def enqueue(self, info: RunInfo, now: float) -> bool:
        """Create the run queued, in one statement; False when its id is taken."""
        with self._write() as db:
            created = db.execute(
                f"INSERT OR IGNORE INTO runs ({_RUN_COLUMNS}) VALUES "
                f"(?, 'queued', ?, ?, ?, ?, ?, 0, 0, 0, ?, NULL, ?, NULL, NULL, 0)",
                (
                    info.run_id, info.flow, json.dumps(info.shape), info.serializer, now, now,
                    info.target, info.state,
                ),
            )  # fmt: skip
            return created.rowcount == 1

    async def record(self, run_id: str, owner: str, key: str, kind: str, value: bytes) -> None:
        """Journal one answer: one statement, its own transaction."""
        with self._lock:
            written = self._db.execute(
                "INSERT OR REPLACE INTO run_journal SELECT ?, ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM runs WHERE run_id = ? AND lease_owner = ?)",
                (run_id, key, kind, value, run_id, owner),
            )
            if written.rowcount != 1:
                _check_owner(self._db, run_id, owner)

    async def commit(self, run_id: str, owner: str, commit: Commit) -> None:
        """Commit a step in one transaction (four statements for a node's step).

        A small commit runs inline (a thread hop would cost more than the write); one
        whose snapshot is large runs on a thread, so the event loop goes on meanwhile.
        """
        if len(commit.state) > INLINE_LIMIT:
            await asyncio.to_thread(self._commit, run_id, owner, commit)
        else:
            self._commit(run_id, owner, commit)

    def _commit(self, run_id: str, owner: str, commit: Commit) -> None:
        step, progress = commit.step, commit.progress
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                updated = db.execute(
                    "UPDATE runs SET state = ?, steps = steps + 1, "
                    "input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
                    "updated = ?, lease_until = ? WHERE run_id = ? AND lease_owner = ?",
                    (
                        commit.state, step.input_tokens, step.output_tokens,
                        step.started + step.duration, commit.lease_until, run_id, owner,
                    ),
                )  # fmt: skip
                if updated.rowcount != 1:
                    _check_owner(db, run_id, owner)
                db.execute(
                    "INSERT OR REPLACE INTO run_scopes VALUES (?, ?, ?, ?, ?, ?)",
                    (run_id, commit.scope, progress.step, progress.next_node, progress.action,
                     int(progress.done)),
                )  # fmt: skip
                db.execute(
                    "INSERT OR REPLACE INTO run_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id, commit.seq, step.key, step.node, step.action, step.started,
                        step.duration, step.input_tokens, step.output_tokens, step.error,
                        step.state,
                    ),
                )  # fmt: skip
                low = step.key + "|"
                db.execute(
                    "DELETE FROM run_journal WHERE run_id = ? AND key >= ? AND key < ?",
                    (run_id, low, low + _HIGH),
                )
                if commit.nested:
                    low = step.key + "/"
                    for table, column in (("run_journal", "key"), ("run_scopes", "scope")):
                        db.execute(
                            f"DELETE FROM {table} WHERE run_id = ? AND {column} >= ? "
                            f"AND {column} < ?",
                            (run_id, low, low + _HIGH),
                        )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

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
        with self._write() as db:
            _check_owner(db, run_id, owner)
            db.execute(
                "UPDATE runs SET status = ?, state = COALESCE(?, state), outcome = ?, "
                "error = ?, updated = ?, lease_owner = NULL, lease_until = 0 WHERE run_id = ?",
                (status, state, outcome, error, now, run_id),
            )
            if status == "done":
                db.execute("DELETE FROM run_scopes WHERE run_id = ?", (run_id,))
                db.execute("DELETE FROM run_journal WHERE run_id = ?", (run_id,))

    async def suspend(self, run_id: str, owner: str, question: Question) -> None:
        """Store the question, mark the run waiting, release the lease."""
        q = question
        with self._write() as db:
            _check_owner(db, run_id, owner)
            db.execute(
                "INSERT OR REPLACE INTO run_questions VALUES "
                "(?, ?, ?, ?, ?, ?, ?, 'waiting', NULL, NULL, NULL, ?)",
                (run_id, q.key, q.content, q.asked, q.audience, q.expires, q.default, q.node),
            )
            db.execute(
                "UPDATE runs SET status = 'waiting', lease_owner = NULL, lease_until = 0, "
                "updated = ? WHERE run_id = ?",
                (q.asked, run_id),
            )

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
        with self._write() as db:
            run = db.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if run is None:
                raise RunNotFoundError(f"No run {run_id!r} in {self.url}.")
            rows = db.execute(
                f"SELECT {_QUESTION_COLUMNS} FROM run_questions WHERE run_id = ? "
                "ORDER BY asked DESC",
                (run_id,),
            ).fetchall()
            questions = [_question(row) for row in rows]
            waiting = [q for q in questions if q.status == "waiting"]
            if run[0] != "waiting" or not waiting:
                raise QuestionNotWaiting(not_waiting_message(run_id, run[0], questions))
            question = waiting[0]
            question.status = "expired" if expired else "answered"
            question.decision, question.comment, question.answered = decision, comment, now
            db.execute(
                "UPDATE run_questions SET status = ?, decision = ?, comment = ?, answered = ? "
                "WHERE run_id = ? AND key = ?",
                (question.status, decision, comment, now, run_id, question.key),
            )
            db.execute(
                "INSERT OR REPLACE INTO run_journal VALUES (?, ?, 'feedback', ?)",
                (run_id, question.key, value),
            )
            db.execute(
                "UPDATE runs SET status = 'queued', updated = ? WHERE run_id = ?", (now, run_id)
            )
            return question

    async def questions(
        self, status: QuestionStatus | None = "waiting", limit: int = 100
    ) -> list[Question]:
        """Questions, newest first, with their run's flow, steps and tokens."""
        if status:
            return self._questions("WHERE q.status = ?", (status, limit))
        return self._questions("", (limit,))

    async def questions_of_run(self, run_id: str) -> list[Question]:
        """The run's questions, newest first, with its flow, steps and tokens (by its key)."""
        return self._questions("WHERE q.run_id = ?", (run_id, -1))

    def _questions(self, where: str, arguments: tuple[Any, ...]) -> list[Question]:
        columns = ", ".join(f"q.{c.strip()}" for c in _QUESTION_COLUMNS.split(","))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {columns}, r.flow, r.steps, r.input_tokens, r.output_tokens "
                f"FROM run_questions q JOIN runs r ON r.run_id = q.run_id {where} "
                "ORDER BY q.asked DESC LIMIT ?",
                arguments,
            ).fetchall()
        found = []
        for row in rows:
            question = _question(row[:-4])
            question.flow, question.steps, question.input_tokens, question.output_tokens = row[-4:]
            found.append(question)
        return found

    async def claim(self, owner: str, lease_until: float, now: float, limit: int) -> list[RunInfo]:
        """Take up to ``limit`` queued runs, oldest first."""
        with self._write() as db:
            rows = db.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE status = 'queued' ORDER BY updated LIMIT ?",
                (limit,),
            ).fetchall()
            claimed = [_info(row) for row in rows]
            for info in claimed:
                db.execute(
                    "UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, "
                    "updated = ? WHERE run_id = ?",
                    (owner, lease_until, now, info.run_id),
                )
                info.status, info.lease_owner, info.lease_until = "running", owner, lease_until
        return claimed

    async def requeue(self, run_id: str, stale_owner: str, now: float) -> bool:
        """Queue again a run whose owner died."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = 0, "
                "updated = ? WHERE run_id = ? AND status = 'running' AND lease_owner = ?",
                (now, run_id, stale_owner),
            )
            return updated.rowcount == 1

    async def renew(self, run_id: str, owner: str, lease_until: float) -> bool:
        """Extend the lease."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE runs SET lease_until = ? WHERE run_id = ? AND lease_owner = ?",
                (lease_until, run_id, owner),
            )
            return updated.rowcount == 1

    # --- reading and managing runs ------------------------------------------------------

    async def get(self, run_id: str) -> RunInfo | None:
        """The run's row, or None."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return None if row is None else _info(row)

    async def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunInfo]:
        """Runs, most recently updated first."""
        where, arguments = ("WHERE status = ?", (status,)) if status else ("", ())
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_LIGHT_COLUMNS} FROM runs {where} ORDER BY updated DESC LIMIT ?",
                (*arguments, limit),
            ).fetchall()
        return [_info(row) for row in rows]

    async def steps(self, run_id: str) -> list[StepRecord]:
        """The run's committed steps in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, node, action, started, duration, input_tokens, output_tokens, "
                "error, state FROM run_steps WHERE run_id = ? ORDER BY seq",
                (run_id,),
            ).fetchall()
        return [StepRecord(*row) for row in rows]

    async def cancel(self, run_id: str, now: float) -> bool:
        """Mark an unfinished run cancelled."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE runs SET status = 'cancelled', lease_owner = NULL, lease_until = 0, "
                "updated = ? WHERE run_id = ? AND status NOT IN ('done', 'cancelled')",
                (now, run_id),
            )
            db.execute("DELETE FROM run_journal WHERE run_id = ?", (run_id,))
            return updated.rowcount == 1

    async def prune(self, updated_before: float) -> int:
        """Delete ended runs last updated before ``updated_before``."""
        with self._write() as db:
            ids = [
                run_id
                for (run_id,) in db.execute(
                    "SELECT run_id FROM runs WHERE updated < ? AND "
                    "status IN ('done', 'failed', 'cancelled')",
                    (updated_before,),
                )
            ]
            for table in ("run_scopes", "run_journal", "run_steps", "run_questions", "runs"):
                db.executemany(f"DELETE FROM {table} WHERE run_id = ?", [(i,) for i in ids])
        return len(ids)

    async def aclose(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


def _info(row: Any) -> RunInfo:
    (run_id, status, flow, shape, serializer, created, updated, steps, input_tokens,
     output_tokens, target, error, state, outcome, lease_owner, lease_until) = row  # fmt: skip
    return RunInfo(
        run_id=run_id, status=status, flow=flow, shape=json.loads(shape),
        serializer=serializer, created=created, updated=updated, steps=steps,
        input_tokens=input_tokens, output_tokens=output_tokens, target=target, error=error,
        state=None if state is None else bytes(state),
        outcome=None if outcome is None else bytes(outcome),
        lease_owner=lease_owner, lease_until=lease_until,
    )  # fmt: skip


_QUESTION_COLUMNS = (
    "run_id, key, content, asked, audience, expires, default_decision, status, decision, "
    "comment, answered, node"
)


def _question(row: Any) -> Question:
    (run_id, key, content, asked, audience, expires, default, status, decision, comment,
     answered, node) = row  # fmt: skip
    return Question(
        run_id=run_id, key=key, content=content, asked=asked, audience=audience,
        expires=expires, default=default, status=status, decision=decision, comment=comment,
        answered=answered, node=node,
    )  # fmt: skip


def _check_owner(db: sqlite3.Connection, run_id: str, owner: str) -> None:
    row = db.execute("SELECT status, lease_owner FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is not None and row[1] == owner:
        return
    if row is not None and row[0] == "cancelled":
        raise RunCancelledError(f"Run {run_id!r} was cancelled while it ran; it stops here.")
    raise RunLeasedError(
        f"Run {run_id!r} is no longer leased to this process (its lease ran out and another "
        f"process took it over): this process stops running it."
    )


def _leased_message(info: RunInfo) -> str:
    return (
        f"Run {info.run_id!r} is being run by {info.lease_owner} right now (lease held for "
        f"another few seconds). Only one process runs a run at a time: wait for it to end, "
        f"or cancel it with `pocketflow runs cancel {info.run_id}`."
    )


def open_sqlite_store(location: StoreLocation) -> SqliteRunStore:
    """The store for ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``."""
    rest = location.url.partition("://")[2]
    if not rest.startswith("/") or rest == "/":
        raise ConfigError(
            f"Run store URL {location.url!r}: write sqlite:///relative/path.db (relative to "
            f"{location.base}) or sqlite:////absolute/path.db."
        )
    path = Path(rest[1:])
    if not path.is_absolute():
        path = location.base / path
    synchronous = str(location.settings.get("synchronous", "NORMAL")).upper()
    if synchronous not in ("NORMAL", "FULL"):
        raise ConfigError(f'[runs] synchronous must be "NORMAL" or "FULL", not {synchronous!r}.')
    return SqliteRunStore(path, synchronous=synchronous)
