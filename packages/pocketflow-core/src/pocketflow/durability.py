"""The seam between the engine and durable runs (:mod:`pocketflow.runs`).

A flow given a ``run_id`` hands itself to the runner installed here; the facades ask
:data:`current_calls` whether they run inside a durable step and, when they do, replay
an answer the journal holds or record the new one. The engine and the facades import
nothing of the runs layer: it is loaded on the first durable run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

OnChange = Literal["refuse", "continue"]
P = ParamSpec("P")
R = TypeVar("R")


class JournalSlot(Protocol):
    """One facade call's place in a durable step's journal."""

    found: bool
    """True when the journal already holds this call's answer (then read ``value``)."""

    value: Any
    """The journaled answer, when ``found``."""

    async def record(self, value: Any) -> None:
        """Store ``value`` as this call's answer before the caller sees it."""


class CallJournal(Protocol):
    """The journal of the durable step (or batch item) the current task is running."""

    def slot(self, kind: str) -> JournalSlot:
        """The next facade call's slot: ``kind`` is "llm", "file", "feedback", ..."""


current_calls: ContextVar[CallJournal | None] = ContextVar("pocketflow_current_calls", default=None)
"""The journal of the durable step running in this context; None outside durable runs."""


Facade = Callable[P, Coroutine[Any, Any, R]]


def journaled(kind: str) -> Callable[[Facade[P, R]], Facade[P, R]]:
    """Make an async facade replay its journaled answer inside a durable step.

    Outside durable runs the wrapper costs one context-variable read per call.
    """

    def decorate(facade: Facade[P, R]) -> Facade[P, R]:
        @functools.wraps(facade)
        async def journaled_facade(*args: P.args, **kwargs: P.kwargs) -> R:
            journal = current_calls.get()
            if journal is None:
                return await facade(*args, **kwargs)
            slot = journal.slot(kind)
            if slot.found:
                replayed: R = slot.value
                return replayed
            answer = await facade(*args, **kwargs)
            await slot.record(answer)
            return answer

        return journaled_facade

    return decorate


class DurableRunner(Protocol):
    """What :mod:`pocketflow.runs` installs: runs a flow durably."""

    def run(self, flow: Any, shared: Any, run_id: str, options: dict[str, Any]) -> Any:
        """Run (or resume) ``flow`` as run ``run_id``, blocking until it ends."""

    async def run_async(self, flow: Any, shared: Any, run_id: str, options: dict[str, Any]) -> Any:
        """Run (or resume) ``flow`` as run ``run_id``."""


runner: DurableRunner | None = None
"""Installed by :mod:`pocketflow.runs` when it is imported."""


def get_runner() -> DurableRunner:
    """The durable runner, loading :mod:`pocketflow.runs` on first use."""
    if runner is None:
        import pocketflow.runs  # noqa: F401 - installs the runner here

    assert runner is not None, "pocketflow.runs did not install its runner"
    return runner
