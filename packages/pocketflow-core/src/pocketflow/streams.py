"""The stream :func:`~pocketflow.llm.stream_llm_async` returns, and how it ends.

A stream holds one of its provider's concurrency slots while it is read. Leaving an
``async for`` loop over it early (``break``, an exception), calling ``aclose()`` or
dropping it gives the slot back at once (the calls waiting for it go on) and closes
the stream's connection on the event loop soon after.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable

from pocketflow import policy
from pocketflow.providers import LLMResponse


class LLMStream:
    """An async iterator of text chunks; ``response`` holds usage once it is exhausted
    (and its ``tool_calls``, and its validated ``output`` when ``output=`` was given).

    Leaving an ``async for`` loop over it early (``break``, an exception), calling
    :meth:`aclose` or dropping it ends the stream: its concurrency slot is given back at
    once and its connection is closed.
    """

    def __init__(
        self, chunks: AsyncIterator[str | LLMResponse], attempts: policy.Attempts | None = None
    ) -> None:
        self._chunks = chunks
        self._attempts = attempts
        self._ended = False
        self.response: LLMResponse | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return _Reading(self)

    async def __anext__(self) -> str:
        try:
            async for item in self._chunks:
                if isinstance(item, LLMResponse):
                    self.response = item
                    continue
                return item
        except BaseException:
            self._ended = True
            raise
        self._ended = True
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the stream early and release its slot and connection."""
        self._ended = True
        self._give_back_slot()
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()

    def _give_back_slot(self) -> None:
        slot = self._attempts.slot if self._attempts is not None else None
        if slot is not None:
            slot.release()

    def _abandon(self) -> None:
        """The reader left its loop early: give the slot back now, close the connection soon."""
        if self._ended:
            return
        self._ended = True
        self._give_back_slot()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop here: the generator's finalizer closes it
            return
        closing = loop.create_task(self.aclose())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)

    def __del__(self) -> None:
        # The chunks generator is finalized (and its connection closed) by the event
        # loop; the slot goes back here, at once, for the calls waiting for it.
        if getattr(self, "_ended", True) is False:
            self._give_back_slot()


_closing: set[asyncio.Task[None]] = set()
"""Streams being closed after their reader left (kept so the tasks are not collected)."""


class _Reading:
    """One ``async for`` over an :class:`LLMStream`: leaving it early ends the stream."""

    __slots__ = ("_stream",)

    def __init__(self, stream: LLMStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _Reading:
        return self

    def __anext__(self) -> Awaitable[str]:
        return self._stream.__anext__()

    def __del__(self) -> None:
        self._stream._abandon()
