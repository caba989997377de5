"""Reading questions from the run store for the pages and the API.

The store contract offers ``questions(status, limit)``, newest first, and one run's
``questions_of_run(run_id)``; filters by flow and audience happen here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pocketflow.runs.store import Question, QuestionStatus, RunStore

FETCH_LIMIT = 5000
"""The most questions of one status a page reads; the list says when there are more."""
HISTORY_DAYS = 7


async def waiting(store: RunStore) -> list[Question]:
    """The questions that wait, newest first (at most ``FETCH_LIMIT``)."""
    return await store.questions("waiting", FETCH_LIMIT)


async def recent_answers(
    store: RunStore, days: int = HISTORY_DAYS, now: float | None = None
) -> list[Question]:
    """Questions answered or expired in the last ``days``, most recently answered first."""
    since = (time.time() if now is None else now) - days * 86400
    found: list[Question] = []
    statuses: Sequence[QuestionStatus] = ("answered", "expired")
    for status in statuses:
        found += [
            q for q in await store.questions(status, FETCH_LIMIT) if (q.answered or 0) >= since
        ]
    found.sort(key=lambda q: q.answered or 0, reverse=True)
    return found


async def question_of(
    store: RunStore, run_id: str, *, waiting_only: bool = False
) -> Question | None:
    """The run's waiting question, else (unless ``waiting_only``) its latest one."""
    info = await store.get(run_id)
    if info is None or (waiting_only and info.status != "waiting"):
        return None
    questions = await store.questions_of_run(run_id)
    if info.status == "waiting":
        return next((q for q in questions if q.status == "waiting"), None)
    return questions[0] if questions else None


def distinct(values: Sequence[str | None]) -> list[str]:
    """The different values that are set, sorted (for the filters' choices)."""
    return sorted({value for value in values if value})
