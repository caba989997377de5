"""The journal of a durable step: each facade call's answer, keyed by its place.

A call's key is ``STEP|PHASE|N``: the step's key, the phase it ran in (``prep``,
``exec``, ``post``, ``i7`` for batch item 7, ``flow-prep``/``flow-post`` for a flow's
own hooks) and its position among that phase's calls. Answers are written to the
store before the caller sees them, so a step that runs again after a crash replays
them instead of calling the vendor; a step's journal is dropped when it commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pocketflow.providers import LLMResponse

if TYPE_CHECKING:
    from pocketflow.runs.runner import DurableRun


class StepTokens:
    """Tokens the LLM answers of one step used (replayed answers included)."""

    __slots__ = ("input", "output")

    def __init__(self) -> None:
        self.input = 0
        self.output = 0

    def count(self, value: Any) -> None:
        """Add ``value``'s usage when it is an LLM response."""
        if isinstance(value, LLMResponse):
            self.input += value.usage.input_tokens
            self.output += value.usage.output_tokens


class StepCalls:
    """The calls of one phase of one durable step (the ``CallJournal`` of the seam)."""

    __slots__ = ("base", "position", "run", "tokens")

    def __init__(self, run: DurableRun, base: str, tokens: StepTokens) -> None:
        self.run = run
        self.base = base
        self.position = 0
        self.tokens = tokens

    def move_to(self, base: str) -> None:
        """Count the calls of the step's next phase (``STEP|exec``, ``STEP|post``)."""
        self.base = base
        self.position = 0

    def slot(self, kind: str) -> JournalSlot:
        """The next call's slot, holding its answer when the journal has it."""
        key = f"{self.base}|{self.position}"
        self.position += 1
        entry = self.run.journal.get(key)
        if entry is not None and entry[0] == kind:
            value = self.run.serializer.loads(entry[1])
            self.tokens.count(value)
            return JournalSlot(self, key, kind, True, value)
        return JournalSlot(self, key, kind, False, None)


class JournalSlot:
    """One call's place in the journal."""

    __slots__ = ("calls", "found", "key", "kind", "value")

    def __init__(self, calls: StepCalls, key: str, kind: str, found: bool, value: Any) -> None:
        self.calls = calls
        self.key = key
        self.kind = kind
        self.found = found
        self.value = value

    async def record(self, value: Any) -> None:
        """Write ``value`` to the store as this call's answer."""
        self.calls.tokens.count(value)
        await self.calls.run.record(self.key, self.kind, value)
