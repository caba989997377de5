"""The ``postgres`` run store: durable runs in PostgreSQL, for many workers on many machines.

Every write is one transaction, and most are one statement (data-modifying CTEs): a
step's commit updates the run, its scope and step rows and drops its journal in one
round trip, guarded by the lease (``lease_owner = owner``), so a process that lost the
lease writes nothing. A connection that drops mid-write rolls the transaction back on
the server; the write is then retried once on a fresh connection (a commit first
checks whether the dropped attempt did land), or fails with PostgresStoreError.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import sql as pgsql

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
from pocketflow_postgres.connections import Connections
from pocketflow_postgres.errors import PostgresStoreError
from pocketflow_postgres.options import PostgresOptions
from pocketflow_postgres.schema import migrate

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]

_RUN_COLUMNS = (
    "run_id, status, flow, shape, serializer, created, updated, steps, input_tokens, "
    "output_tokens, target, error, state, outcome, lease_owner, lease_until"
)
_LIGHT_COLUMNS = _RUN_COLUMNS.replace("state, outcome", "NULL, NULL")
_QUESTION_COLUMNS = (
    "run_id, key, content, asked, audience, expires, default_decision, status, decision, "
    "comment, answered, node"
)
_HIGH = "\U0010ffff"  # sorts after every character a key holds: a prefix's upper bound


class PostgresRunStore(RunStore):
    """Runs in a PostgreSQL schema; safe for any number of processes and machines."""

    def __init__(self, options: PostgresOptions) -> None:
        self.url = options.shown_url
        self.options = options
        self.schema = options.schema
        self.connections = Connections(options)
        self._migrated = False
        self._sql = _statements(options.schema)
        self._listeners: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, psycopg.AsyncConnection[Any]
        ] = weakref.WeakKeyDictionary()

    async def migrate(self) -> tuple[int, int]:
        """Create or upgrade the schema now; return its version before and after."""
        async with self.connections.connection() as conn:
            versions = await migrate(conn, self.schema, self.url)
        self._migrated = True
        return versions

    async def _run(
        self,
        work: Callable[[Conn], Awaitable[T]],
        *,
        landed: Callable[[Conn], Awaitable[T | None]] | None = None,
        retry: bool = True,
    ) -> T:
        """Run ``work`` on a connection; once more on a fresh one if the connection drops.

        ``landed`` tells, before the retry, whether the dropped attempt was applied
        (then its answer is returned); ``retry=False`` fails at once instead.
        """
        if not self._migrated:
            await self.migrate()
        for attempt in (1, 2):
            try:
                async with self.connections.connection() as conn:
                    if attempt == 2 and landed is not None:
                        found = await landed(conn)
                        if found is not None:
                            return found
                    return await work(conn)
            except psycopg.errors.QueryCanceled as error:
                raise PostgresStoreError(
                    f"Run store {self.url}: a statement ran past [runs] statement_timeout "
                    f"({self.options.statement_timeout:g} s) and was cancelled; nothing "
                    f"of it was stored. ({error})"
                ) from error
            except psycopg.OperationalError as error:
                if attempt == 2 or not retry:
                    outcome = (
                        "nothing of the write is half stored (a run resumes from its last commit)"
                        if retry
                        else "it may or may not have been stored: look before repeating it"
                    )
                    raise PostgresStoreError(
                        f"Run store {self.url}: the connection to PostgreSQL was lost "
                        f"({str(error).strip()}); {outcome}."
                    ) from error
                # A restarted server ended every pooled connection: drop them all.
                await self.connections.drop_broken()
        raise AssertionError("unreachable")

    # --- a run's own writes -------------------------------------------------------------

    async def start(
        self, info: RunInfo, owner: str, lease_until: float, now: float
    ) -> LoadedRun | None:
        """Take the lease and load the run, or create it (see RunStore.start)."""
        sql = self._sql

        async def work(conn: Conn) -> LoadedRun | None:
            async with conn.transaction():
                created = await conn.execute(
                    sql["create"],
                    (
                        info.run_id, info.flow, json.dumps(info.shape), info.serializer, now,
                        now, info.target, info.state, owner, lease_until,
                    ),
                )  # fmt: skip
                if created.rowcount == 1:
                    return None
                row = await (await conn.execute(sql["lock_run"], (info.run_id,))).fetchone()
                stored = _info(row)
                if stored.status in ("done", "cancelled"):
                    return LoadedRun(stored)
                if not may_start(stored, owner, now):
                    raise RunLeasedError(_leased_message(stored))
                await conn.execute(sql["take"], (owner, lease_until, now, info.run_id))
                stored.status, stored.error, stored.updated = "running", None, now
                stored.lease_owner, stored.lease_until = owner, lease_until
                scopes = {
                    scope: Scope(step, next_node, action, done)
                    for scope, step, next_node, action, done in await (
                        await conn.execute(sql["scopes"], (info.run_id,))
                    ).fetchall()
                }
                journal = {
                    key: (kind, bytes(value))
                    for key, kind, value in await (
                        await conn.execute(sql["journal"], (info.run_id,))
                    ).fetchall()
                }
                return LoadedRun(stored, scopes, journal)

        return await self._run(work)

    async def record(self, run_id: str, owner: str, key: str, kind: str, value: bytes) -> None:
        """Journal one answer: one statement."""

        async def work(conn: Conn) -> None:
            written = await conn.execute(self._sql["record"], (key, kind, value, run_id, owner))
            if written.rowcount != 1:
                await _check_owner(conn, self._sql, run_id, owner)

        await self._run(work)

    async def commit(self, run_id: str, owner: str, commit: Commit) -> None:
        """Commit a step in one statement (one transaction, one round trip)."""
        step, progress = commit.step, commit.progress
        low = step.key + "|"
        nested_low = step.key + "/"
        arguments = {
            "run_id": run_id, "owner": owner, "state": commit.state,
            "input": step.input_tokens, "output": step.output_tokens,
            "updated": step.started + step.duration, "lease_until": commit.lease_until,
            "scope": commit.scope, "step": progress.step, "next_node": progress.next_node,
            "action": progress.action, "done": progress.done, "seq": commit.seq,
            "key": step.key, "node": step.node, "step_action": step.action,
            "started": step.started, "duration": step.duration, "error": step.error,
            "step_state": step.state, "low": low, "high": low + _HIGH,
            "nested": commit.nested, "nested_low": nested_low,
            "nested_high": nested_low + _HIGH,
        }  # fmt: skip

        async def work(conn: Conn) -> bool:
            row = await (await conn.execute(self._sql["commit"], arguments)).fetchone()
            if row is None or row[0] != 1:
                await _check_owner(conn, self._sql, run_id, owner)
            return True

        async def landed(conn: Conn) -> bool | None:
            found = await conn.execute(self._sql["step_exists"], (run_id, commit.seq, step.key))
            return True if await found.fetchone() else None

        await self._run(work, landed=landed)

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
        """End the owner's turn and release the lease (one statement)."""
        arguments = (status, state, outcome, error, now, run_id, owner, status == "done")

        async def work(conn: Conn) -> bool:
            row = await (await conn.execute(self._sql["finish"], arguments)).fetchone()
            if row is None or row[0] != 1:
                await _check_owner(conn, self._sql, run_id, owner)
            if status == "queued":
                await self._wake_workers(conn)
            return True

        async def landed(conn: Conn) -> bool | None:
            found = await conn.execute(self._sql["finished"], (run_id, status, now))
            return True if await found.fetchone() else None

        await self._run(work, landed=landed)

    async def suspend(self, run_id: str, owner: str, question: Question) -> None:
        """Store the question, mark the run waiting, release the lease (one statement)."""
        q = question
        arguments = (
            q.asked, run_id, owner, q.key, q.content, q.asked, q.audience, q.expires, q.default,
            q.node,
        )  # fmt: skip

        async def work(conn: Conn) -> bool:
            row = await (await conn.execute(self._sql["suspend"], arguments)).fetchone()
            if row is None or row[0] != 1:
                await _check_owner(conn, self._sql, run_id, owner)
            return True

        async def landed(conn: Conn) -> bool | None:
            found = await conn.execute(self._sql["suspended"], (run_id, q.key, q.asked))
            return True if await found.fetchone() else None

        await self._run(work, landed=landed)

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
        sql = self._sql

        async def work(conn: Conn) -> Question:
            async with conn.transaction():
                run = await (await conn.execute(sql["lock_status"], (run_id,))).fetchone()
                if run is None:
                    raise RunNotFoundError(f"No run {run_id!r} in {self.url}.")
                rows = await (await conn.execute(sql["run_questions"], (run_id,))).fetchall()
                questions = [_question(row) for row in rows]
                waiting = [q for q in questions if q.status == "waiting"]
                if run[0] != "waiting" or not waiting:
                    raise QuestionNotWaiting(not_waiting_message(run_id, run[0], questions))
                question = waiting[0]
                question.status = "expired" if expired else "answered"
                question.decision, question.comment, question.answered = decision, comment, now
                await conn.execute(
                    sql["answer"],
                    (question.status, decision, comment, now, run_id, question.key, value, now),
                )
                await self._wake_workers(conn)  # sent when the transaction commits
                return question

        # A repeated answer would find the question answered: fail rather than guess.
        return await self._run(work, retry=False)

    async def questions(
        self, status: QuestionStatus | None = "waiting", limit: int = 100
    ) -> list[Question]:
        """Questions, newest first, with their run's flow, steps and tokens."""
        if status:
            return await self._questions("questions_of", (status, limit))
        return await self._questions("questions", (limit,))

    async def questions_of_run(self, run_id: str) -> list[Question]:
        """The run's questions, newest first, with its flow, steps and tokens (by its key)."""
        return await self._questions("questions_of_run", (run_id, None))

    async def _questions(self, query: str, arguments: tuple[Any, ...]) -> list[Question]:
        async def work(conn: Conn) -> list[Question]:
            cursor = await conn.execute(self._sql[query], arguments)
            found = []
            for row in await cursor.fetchall():
                question = _question(row[:-4])
                (question.flow, question.steps, question.input_tokens,
                 question.output_tokens) = row[-4:]  # fmt: skip
                found.append(question)
            return found

        return await self._run(work)

    async def claim(self, owner: str, lease_until: float, now: float, limit: int) -> list[RunInfo]:
        """Take up to ``limit`` queued runs, oldest first (FOR UPDATE SKIP LOCKED)."""

        async def work(conn: Conn) -> list[RunInfo]:
            cursor = await conn.execute(self._sql["claim"], (limit, owner, lease_until, now))
            rows = sorted(await cursor.fetchall(), key=lambda row: (row[-1], row[0]))
            return [_info(row[:-1]) for row in rows]

        async def landed(conn: Conn) -> list[RunInfo] | None:
            cursor = await conn.execute(self._sql["claimed"], (owner, now))
            return [_info(row) for row in await cursor.fetchall()] or None

        return await self._run(work, landed=landed)

    async def requeue(self, run_id: str, stale_owner: str, now: float) -> bool:
        """Queue again a run whose owner died."""

        async def work(conn: Conn) -> bool:
            updated = await conn.execute(self._sql["requeue"], (now, run_id, stale_owner))
            if updated.rowcount == 1:
                await self._wake_workers(conn)
            return updated.rowcount == 1

        return await self._run(work)

    async def renew(self, run_id: str, owner: str, lease_until: float) -> bool:
        """Extend the lease."""

        async def work(conn: Conn) -> bool:
            updated = await conn.execute(self._sql["renew"], (lease_until, run_id, owner))
            return updated.rowcount == 1

        return await self._run(work)

    # --- reading and managing runs ------------------------------------------------------

    async def get(self, run_id: str) -> RunInfo | None:
        """The run's row, or None."""

        async def work(conn: Conn) -> RunInfo | None:
            row = await (await conn.execute(self._sql["get"], (run_id,))).fetchone()
            return None if row is None else _info(row)

        return await self._run(work)

    async def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunInfo]:
        """Runs, most recently updated first."""

        async def work(conn: Conn) -> list[RunInfo]:
            if status:
                cursor = await conn.execute(self._sql["list_of"], (status, limit))
            else:
                cursor = await conn.execute(self._sql["list"], (limit,))
            return [_info(row) for row in await cursor.fetchall()]

        return await self._run(work)

    async def steps(self, run_id: str) -> list[StepRecord]:
        """The run's committed steps in order."""

        async def work(conn: Conn) -> list[StepRecord]:
            cursor = await conn.execute(self._sql["steps"], (run_id,))
            return [_step(row) for row in await cursor.fetchall()]

        return await self._run(work)

    async def cancel(self, run_id: str, now: float) -> bool:
        """Mark an unfinished run cancelled (and drop its journal)."""

        async def work(conn: Conn) -> bool:
            row = await (await conn.execute(self._sql["cancel"], (now, run_id))).fetchone()
            return row is not None and row[0] == 1

        async def landed(conn: Conn) -> bool | None:
            found = await conn.execute(self._sql["cancelled"], (run_id, now))
            return True if await found.fetchone() else None

        return await self._run(work, landed=landed)

    async def prune(self, updated_before: float) -> int:
        """Delete ended runs last updated before ``updated_before``."""

        async def work(conn: Conn) -> int:
            row = await (await conn.execute(self._sql["prune"], (updated_before,))).fetchone()
            return 0 if row is None else int(row[0])

        return await self._run(work)

    # --- waking workers -----------------------------------------------------------------

    @property
    def channel(self) -> str:
        """The LISTEN/NOTIFY channel of this schema's queue."""
        return f"pocketflow_runs_{self.schema}"

    async def _wake_workers(self, conn: Conn) -> None:
        await conn.execute(pgsql.SQL("NOTIFY {}").format(pgsql.Identifier(self.channel)))

    async def wait_for_work(self, timeout: float) -> None:
        """Return when a run is queued or a question answered (NOTIFY), or after ``timeout``.

        One listening connection per event loop; if it cannot be had, this just waits.
        """
        loop = asyncio.get_running_loop()
        listener = self._listeners.get(loop)
        try:
            if listener is None or listener.closed:
                listener = await psycopg.AsyncConnection.connect(
                    self.connections.conninfo, autocommit=True
                )
                listen = pgsql.SQL("LISTEN {}").format(pgsql.Identifier(self.channel))
                await listener.execute(listen)
                self._listeners[loop] = listener
            async for _ in listener.notifies(timeout=timeout, stop_after=1):
                return
        except psycopg.OperationalError:
            self._listeners.pop(loop, None)
            await asyncio.sleep(timeout)  # polling is the fallback

    async def aclose(self) -> None:
        """Close the connection pool and this loop's listening connection."""
        listener = self._listeners.pop(asyncio.get_running_loop(), None)
        if listener is not None:
            await listener.close()
        await self.connections.aclose()


def _statements(schema: str) -> dict[str, str]:
    """The store's SQL, with the schema filled in once."""
    s = schema
    return {
        "create": f"INSERT INTO {s}.runs ({_RUN_COLUMNS}) VALUES "
        "(%s, 'running', %s, %s, %s, %s, %s, 0, 0, 0, %s, NULL, %s, NULL, %s, %s) "
        "ON CONFLICT (run_id) DO NOTHING",
        "lock_run": f"SELECT {_RUN_COLUMNS} FROM {s}.runs WHERE run_id = %s FOR UPDATE",
        "lock_status": f"SELECT status FROM {s}.runs WHERE run_id = %s FOR UPDATE",
        "take": f"UPDATE {s}.runs SET status = 'running', error = NULL, lease_owner = %s, "
        "lease_until = %s, updated = %s WHERE run_id = %s",
        "scopes": f"SELECT scope, step, next_node, action, done FROM {s}.run_scopes "
        "WHERE run_id = %s",
        "journal": f"SELECT key, kind, value FROM {s}.run_journal WHERE run_id = %s",
        "owner": f"SELECT status, lease_owner FROM {s}.runs WHERE run_id = %s",
        "record": f"INSERT INTO {s}.run_journal SELECT run_id, %s::text, %s::text, %s::bytea "
        f"FROM {s}.runs "
        "WHERE run_id = %s AND lease_owner = %s "
        "ON CONFLICT (run_id, key) DO UPDATE SET kind = EXCLUDED.kind, value = EXCLUDED.value",
        "commit": f"""
            WITH run AS (
                UPDATE {s}.runs SET state = %(state)s, steps = steps + 1,
                    input_tokens = input_tokens + %(input)s,
                    output_tokens = output_tokens + %(output)s,
                    updated = %(updated)s, lease_until = %(lease_until)s
                WHERE run_id = %(run_id)s AND lease_owner = %(owner)s RETURNING run_id),
            scope AS (
                INSERT INTO {s}.run_scopes
                SELECT run_id, %(scope)s::text, %(step)s::integer, %(next_node)s::text,
                    %(action)s::text, %(done)s::boolean FROM run
                ON CONFLICT (run_id, scope) DO UPDATE SET step = EXCLUDED.step,
                    next_node = EXCLUDED.next_node, action = EXCLUDED.action,
                    done = EXCLUDED.done),
            step AS (
                INSERT INTO {s}.run_steps
                SELECT run_id, %(seq)s::integer, %(key)s::text, %(node)s::text,
                    %(step_action)s::text, %(started)s::float8, %(duration)s::float8,
                    %(input)s::bigint, %(output)s::bigint, %(error)s::text,
                    %(step_state)s::bytea FROM run
                ON CONFLICT (run_id, seq) DO UPDATE SET key = EXCLUDED.key,
                    node = EXCLUDED.node, action = EXCLUDED.action,
                    started = EXCLUDED.started, duration = EXCLUDED.duration,
                    input_tokens = EXCLUDED.input_tokens,
                    output_tokens = EXCLUDED.output_tokens, error = EXCLUDED.error,
                    state = EXCLUDED.state),
            journal AS (
                DELETE FROM {s}.run_journal WHERE run_id IN (SELECT run_id FROM run)
                AND ((key >= %(low)s AND key < %(high)s)
                     OR (%(nested)s AND key >= %(nested_low)s AND key < %(nested_high)s))),
            inner_scopes AS (
                DELETE FROM {s}.run_scopes WHERE %(nested)s
                AND run_id IN (SELECT run_id FROM run)
                AND scope >= %(nested_low)s AND scope < %(nested_high)s)
            SELECT count(*) FROM run""",
        "step_exists": f"SELECT 1 FROM {s}.run_steps WHERE run_id = %s AND seq = %s AND key = %s",
        "finish": f"""
            WITH run AS (
                UPDATE {s}.runs SET status = %s, state = COALESCE(%s::bytea, state),
                    outcome = %s::bytea,
                    error = %s, updated = %s, lease_owner = NULL, lease_until = 0
                WHERE run_id = %s AND lease_owner = %s RETURNING run_id, status),
            done AS (SELECT run_id FROM run WHERE %s::boolean),
            scopes AS (DELETE FROM {s}.run_scopes WHERE run_id IN (SELECT run_id FROM done)),
            journal AS (DELETE FROM {s}.run_journal WHERE run_id IN (SELECT run_id FROM done))
            SELECT count(*) FROM run""",
        "finished": f"SELECT 1 FROM {s}.runs WHERE run_id = %s AND status = %s AND updated = %s "
        "AND lease_owner IS NULL",
        "suspend": f"""
            WITH run AS (
                UPDATE {s}.runs SET status = 'waiting', lease_owner = NULL, lease_until = 0,
                    updated = %s
                WHERE run_id = %s AND lease_owner = %s RETURNING run_id),
            question AS (
                INSERT INTO {s}.run_questions
                SELECT run_id, %s::text, %s::text, %s::float8, %s::text, %s::float8,
                    %s::text, 'waiting', NULL, NULL, NULL, %s::text FROM run
                ON CONFLICT (run_id, key) DO UPDATE SET content = EXCLUDED.content,
                    asked = EXCLUDED.asked, audience = EXCLUDED.audience,
                    expires = EXCLUDED.expires, default_decision = EXCLUDED.default_decision,
                    status = 'waiting', decision = NULL, comment = NULL, answered = NULL,
                    node = EXCLUDED.node)
            SELECT count(*) FROM run""",
        "suspended": f"SELECT 1 FROM {s}.run_questions WHERE run_id = %s AND key = %s "
        "AND asked = %s AND status = 'waiting'",
        "run_questions": f"SELECT {_QUESTION_COLUMNS} FROM {s}.run_questions WHERE run_id = %s "
        "ORDER BY asked DESC",
        "answer": f"""
            WITH question AS (
                UPDATE {s}.run_questions SET status = %s, decision = %s, comment = %s,
                    answered = %s WHERE run_id = %s AND key = %s RETURNING run_id, key),
            journal AS (
                INSERT INTO {s}.run_journal SELECT run_id, key, 'feedback', %s::bytea
                FROM question
                ON CONFLICT (run_id, key) DO UPDATE SET kind = EXCLUDED.kind,
                    value = EXCLUDED.value)
            UPDATE {s}.runs SET status = 'queued', updated = %s
            WHERE run_id IN (SELECT run_id FROM question)""",
        "questions": _questions_sql(s, ""),
        "questions_of": _questions_sql(s, "WHERE q.status = %s"),
        "questions_of_run": _questions_sql(s, "WHERE q.run_id = %s"),
        "claim": f"""
            WITH picked AS (
                SELECT run_id, updated FROM {s}.runs WHERE status = 'queued'
                ORDER BY updated LIMIT %s FOR UPDATE SKIP LOCKED)
            UPDATE {s}.runs r SET status = 'running', lease_owner = %s, lease_until = %s,
                updated = %s
            FROM picked WHERE r.run_id = picked.run_id
            RETURNING {", ".join(f"r.{c.strip()}" for c in _RUN_COLUMNS.split(","))},
                picked.updated""",
        "claimed": f"SELECT {_RUN_COLUMNS} FROM {s}.runs WHERE status = 'running' "
        "AND lease_owner = %s AND updated = %s ORDER BY run_id",
        "requeue": f"UPDATE {s}.runs SET status = 'queued', lease_owner = NULL, lease_until = 0, "
        "updated = %s WHERE run_id = %s AND status = 'running' AND lease_owner = %s",
        "renew": f"UPDATE {s}.runs SET lease_until = %s WHERE run_id = %s AND lease_owner = %s",
        "get": f"SELECT {_RUN_COLUMNS} FROM {s}.runs WHERE run_id = %s",
        "list": f"SELECT {_LIGHT_COLUMNS} FROM {s}.runs ORDER BY updated DESC LIMIT %s",
        "list_of": f"SELECT {_LIGHT_COLUMNS} FROM {s}.runs WHERE status = %s "
        "ORDER BY updated DESC LIMIT %s",
        "steps": "SELECT key, node, action, started, duration, input_tokens, output_tokens, "
        f"error, state FROM {s}.run_steps WHERE run_id = %s ORDER BY seq",
        "cancel": f"""
            WITH run AS (
                UPDATE {s}.runs SET status = 'cancelled', lease_owner = NULL, lease_until = 0,
                    updated = %s
                WHERE run_id = %s AND status NOT IN ('done', 'cancelled') RETURNING run_id),
            journal AS (DELETE FROM {s}.run_journal WHERE run_id IN (SELECT run_id FROM run))
            SELECT count(*) FROM run""",
        "cancelled": f"SELECT 1 FROM {s}.runs WHERE run_id = %s AND status = 'cancelled' "
        "AND updated = %s",
        "prune": f"""
            WITH gone AS (
                DELETE FROM {s}.runs WHERE updated < %s
                AND status IN ('done', 'failed', 'cancelled') RETURNING run_id),
            scopes AS (DELETE FROM {s}.run_scopes WHERE run_id IN (SELECT run_id FROM gone)),
            journal AS (DELETE FROM {s}.run_journal WHERE run_id IN (SELECT run_id FROM gone)),
            steps AS (DELETE FROM {s}.run_steps WHERE run_id IN (SELECT run_id FROM gone)),
            questions AS (
                DELETE FROM {s}.run_questions WHERE run_id IN (SELECT run_id FROM gone))
            SELECT count(*) FROM gone""",
    }


def _questions_sql(s: str, where: str) -> str:
    columns = ", ".join(f"q.{c.strip()}" for c in _QUESTION_COLUMNS.split(","))
    return (
        f"SELECT {columns}, r.flow, r.steps, r.input_tokens, r.output_tokens "
        f"FROM {s}.run_questions q JOIN {s}.runs r ON r.run_id = q.run_id {where} "
        "ORDER BY q.asked DESC LIMIT %s"
    )


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


def _step(row: Any) -> StepRecord:
    key, node, action, started, duration, input_tokens, output_tokens, error, state = row
    return StepRecord(
        key, node, action, started, duration, input_tokens, output_tokens, error,
        None if state is None else bytes(state),
    )  # fmt: skip


def _question(row: Any) -> Question:
    (run_id, key, content, asked, audience, expires, default, status, decision, comment,
     answered, node) = row  # fmt: skip
    return Question(
        run_id=run_id, key=key, content=content, asked=asked, audience=audience,
        expires=expires, default=default, status=status, decision=decision, comment=comment,
        answered=answered, node=node,
    )  # fmt: skip


async def _check_owner(conn: Conn, sql: dict[str, str], run_id: str, owner: str) -> None:
    row = await (await conn.execute(sql["owner"], (run_id,))).fetchone()
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
