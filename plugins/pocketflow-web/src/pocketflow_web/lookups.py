"""Reading questions from the run store for the pages and the API.

The store contract offers ``questions(status, limit)``, newest first; filters by flow
and audience, and finding one run's question, happen here over what it returns.
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
    """The run's waiting question, else (unless ``waiting_only``) its latest one.

    The store contract has no lookup by run: this reads the waiting questions (or, for
    a run that waits on none, all of them) and picks the run's.
    """
    info = await store.get(run_id)
    if info is None or (waiting_only and info.status != "waiting"):
        return None
    status: QuestionStatus | None = "waiting" if info.status == "waiting" else None
    for question in await store.questions(status, FETCH_LIMIT * 20):
        if question.run_id == run_id and (status is None or question.status == status):
            return question
    return None


def distinct(values: Sequence[str | None]) -> list[str]:
    """The different values that are set, sorted (for the filters' choices)."""
    return sorted({value for value in values if value})
