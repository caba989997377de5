"""What LLM calls cost: one record per call, and tallies a run can read afterwards.

    with track_usage() as usage:
        await flow.run_async(shared)
    print(usage.calls, usage.input_tokens, usage.output_tokens, usage.retries)
    print(usage.cost_text)   # "$0.0042", or "cost unknown" when no price is known
    print(usage.embedding_calls, usage.embedding_tokens)   # embed_async calls, tokens embedded

Tallies nest: every open ``track_usage`` block (in this task and the tasks it starts)
counts the call, and so does the process-wide :data:`process_usage`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pocketflow.providers import EmbeddingRequest, LLMRequest, LLMResponse

if TYPE_CHECKING:
    from pocketflow.embeddings import Embeddings


@dataclass(frozen=True, slots=True)
class LLMCallStart:
    """One call as it starts: the model asked for, who will answer it, and the request.

    ``provider`` and ``request.model`` are the first candidate's (fallbacks may answer
    instead: the record's response says who did). Made only while a plugin observes calls.
    """

    model: str
    provider: str
    request: LLMRequest
    stream: bool = False


@dataclass(frozen=True, slots=True)
class LLMCallRecord:
    """One finished call: the model asked for, and the response or the error.

    ``call`` is the :class:`LLMCallStart` reported when it started (None when no plugin
    observes calls, or the call failed before it could start).
    """

    model: str
    response: LLMResponse | None
    error: BaseException | None
    duration: float
    attempts: int
    limit_wait: float
    call: LLMCallStart | None = None


@dataclass(frozen=True, slots=True)
class EmbeddingCallStart:
    """An embedding call as it starts: the model asked for, its provider, and the whole
    request (every text; the core sends it in batches). Made only while a plugin observes."""

    model: str
    provider: str
    request: EmbeddingRequest


@dataclass(frozen=True, slots=True)
class EmbeddingCallRecord:
    """One finished embedding call: the model asked for, and the result or the error.

    ``attempts`` counts vendor requests tried over every batch, retries included.
    """

    model: str
    embeddings: Embeddings | None
    error: BaseException | None
    duration: float
    attempts: int
    limit_wait: float
    call: EmbeddingCallStart | None = None


@dataclass(slots=True)
class UsageTally:
    """Running totals over many calls."""

    calls: int = 0
    failed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    retries: int = 0
    limit_wait: float = 0.0
    by_model: dict[str, int] = field(default_factory=dict)
    records: list[LLMCallRecord] | None = None
    cost: float | None = None
    """Estimated US dollars of the answered calls with a known price; None if none had one."""
    unpriced_calls: int = 0
    """Answered calls whose price is unknown (not counted in ``cost``)."""
    embedding_calls: int = 0
    """``embed_async`` calls (each may have sent several batches); failed ones included."""
    failed_embedding_calls: int = 0
    embedding_tokens: int = 0
    """Tokens embedded, as the vendors reported them (not in ``input_tokens``)."""

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @property
    def cost_text(self) -> str:
        """The cost for people: ``$0.0042``, ``at least $0.0042 (1 call unpriced)``, or
        ``cost unknown``."""
        if self.cost is None:
            return "cost unknown" if self.unpriced_calls else "$0"
        shown = f"${self.cost:.4f}" if self.cost < 1 else f"${self.cost:,.2f}"
        if not self.unpriced_calls:
            return shown
        plural = "s" if self.unpriced_calls != 1 else ""
        return f"at least {shown} ({self.unpriced_calls} call{plural} unpriced)"

    def add(self, record: LLMCallRecord) -> None:
        """Count one finished call (and keep it, when ``records`` is a list)."""
        if self.records is not None:
            self.records.append(record)
        self.calls += 1
        self.retries += max(0, record.attempts - 1)
        self.limit_wait += record.limit_wait
        response = record.response
        if response is None:
            self.failed_calls += 1
            return
        usage = response.usage
        self.input_tokens += _tokens(usage.input_tokens)
        self.output_tokens += _tokens(usage.output_tokens)
        self.cache_read_tokens += _tokens(usage.cache_read_tokens)
        self.cache_write_tokens += _tokens(usage.cache_write_tokens)
        if response.cost is None:
            self.unpriced_calls += 1
        else:
            self.cost = (self.cost or 0.0) + response.cost
        answered_by = f"{response.provider}:{response.model}"
        self.by_model[answered_by] = self.by_model.get(answered_by, 0) + 1

    def add_embedding(self, record: EmbeddingCallRecord) -> None:
        """Count one finished embedding call: its tokens, retries and cost."""
        self.embedding_calls += 1
        embeddings = record.embeddings
        self.retries += max(0, record.attempts - (embeddings.batches if embeddings else 1))
        self.limit_wait += record.limit_wait
        if embeddings is None:
            self.failed_embedding_calls += 1
            return
        self.embedding_tokens += _tokens(embeddings.usage.input_tokens)
        if embeddings.cost is None:
            self.unpriced_calls += 1
        else:
            self.cost = (self.cost or 0.0) + embeddings.cost


def _tokens(count: object) -> int:
    # A provider may hand on what its vendor sent ("3", [1]): counting it must not turn
    # a good answer into a TypeError (and the call into a second, failed, record).
    return count if type(count) is int else 0


process_usage = UsageTally()
"""Every call made in this process."""

_open_tallies: contextvars.ContextVar[tuple[UsageTally, ...]] = contextvars.ContextVar(
    "pocketflow_usage_tallies", default=()
)


@contextmanager
def track_usage(*, keep_records: bool = False) -> Iterator[UsageTally]:
    """Count the calls made inside the ``with`` block (tasks started in it included).

    With ``keep_records=True`` the tally's ``records`` lists every call's record.
    """
    tally = UsageTally(records=[] if keep_records else None)
    token = _open_tallies.set((*_open_tallies.get(), tally))
    try:
        yield tally
    finally:
        _open_tallies.reset(token)


def record_call(record: LLMCallRecord) -> None:
    """Add ``record`` to the process tally and every open ``track_usage`` tally."""
    process_usage.add(record)
    for tally in _open_tallies.get():
        tally.add(record)


def record_embedding_call(record: EmbeddingCallRecord) -> None:
    """Add the embedding call ``record`` to the process tally and every open tally."""
    process_usage.add_embedding(record)
    for tally in _open_tallies.get():
        tally.add_embedding(record)
