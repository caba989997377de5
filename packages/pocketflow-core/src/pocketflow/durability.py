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


class Suspend(BaseException):
    """Stops a durable run until a person answers (raised by the ``inbox`` provider).

    A ``BaseException``, so node retries, ``exec_fallback`` and a user's
    ``except Exception`` let it through; the durable runner turns it into a stored
    question and raises :class:`~pocketflow.errors.FlowSuspended` to the caller.
    """

    def __init__(
        self,
        content: str,
        *,
        audience: str | None = None,
        expires_in: float | None = None,
        default: str | None = None,
    ) -> None:
        super().__init__(content)
        self.content = content
        self.audience = audience
        self.expires_in = expires_in
        self.default = default
        self.key: str | None = None
        """The journal key of the feedback call that asked (set by :func:`journaled`)."""


class JournalSlot(Protocol):
    """One facade call's place in a durable step's journal."""

    key: str
    """Where in the journal the answer is kept."""

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
            try:
                answer = await facade(*args, **kwargs)
            except Suspend as suspend:
                suspend.key = suspend.key or slot.key
                raise
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
