"""Answering a durable run's question, from any process: ``pocketflow runs answer``,
:func:`answer`, or the review page all end here, in one store write.

The answer is journaled at the key of the feedback call that asked, so when the run
resumes, that call replays it: the step goes on with the exact content the person saw.
"""

from __future__ import annotations

import time

from pocketflow.errors import DurableRunError, RunNotFoundError
from pocketflow.providers import Feedback
from pocketflow.runs.serialize import SERIALIZERS
from pocketflow.runs.settings import run_settings
from pocketflow.runs.store import Question, RunStore
from pocketflow.sync import run_sync

DECISIONS = ("approve", "deny")


class InvalidAnswer(DurableRunError, ValueError):
    """An answer that is not a verdict the question takes."""


async def answer(
    run_id: str, decision: str, *, comment: str | None = None, store: str | None = None
) -> Question:
    """Answer run ``run_id``'s waiting question with "approve" or "deny".

    The run becomes queued: resume it with ``pocketflow runs resume``, a worker, or by
    running its flow again with the same ``run_id``. Returns the answered question.
    Raises RunNotFoundError, InvalidAnswer, or QuestionNotWaiting (nothing changed).
    """
    return await answer_in(run_settings(store).store, run_id, decision, comment=comment)


async def answer_in(
    store: RunStore,
    run_id: str,
    decision: str,
    *,
    comment: str | None = None,
    expired: bool = False,
    now: float | None = None,
) -> Question:
    """:func:`answer` against an open ``store`` (workers and the review page use this)."""
    if decision not in DECISIONS:
        raise InvalidAnswer(
            f"{decision!r} is not a verdict: answer approve or deny "
            f"(pocketflow runs answer {run_id} approve --comment 'why')."
        )
    info = await store.get(run_id)
    if info is None:
        raise RunNotFoundError(
            f"No run {run_id!r} in {store.url}: `pocketflow runs list --status waiting` "
            f"shows the runs that wait for an answer."
        )
    serializer = SERIALIZERS[info.serializer]
    value = serializer.dumps(Feedback(decision, "inbox", comment), "the answer")
    when = time.time() if now is None else now
    return await store.answer(run_id, decision, comment, value, when, expired=expired)


def answer_sync(
    run_id: str, decision: str, *, comment: str | None = None, store: str | None = None
) -> Question:
    """Sync twin of :func:`answer`."""
    return run_sync(answer(run_id, decision, comment=comment, store=store))


async def apply_expired_defaults(store: RunStore, now: float | None = None) -> list[Question]:
    """Answer every question past its deadline with its default; return those answered."""
    when = time.time() if now is None else now
    applied = []
    for question in await store.questions("waiting", limit=1000):
        if question.expires is None or question.expires > when or question.default is None:
            continue
        comment = "no answer before the deadline: the default applied"
        try:
            answered = await answer_in(
                store, question.run_id, question.default, comment=comment, expired=True, now=when
            )
        except DurableRunError:
            continue  # answered meanwhile by someone else
        applied.append(answered)
    return applied
