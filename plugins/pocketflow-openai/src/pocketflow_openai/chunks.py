"""The SDK's SSE stream of ``chat.completion.chunk`` dicts, noting how it ended.

The SDK stops quietly both at the closing ``data: [DONE]`` and when the connection
ends early (with or without half an event), so a cut stream would look complete;
:attr:`ChunkStream.finished` tells the two apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
from openai._streaming import ServerSentEvent

DONE = "[DONE]"


class ChunkStream(openai.AsyncStream[object]):
    """Yields each chunk's JSON as a plain dict; ``finished`` once ``[DONE]`` arrived."""

    finished: bool = False

    async def _iter_events(self) -> AsyncIterator[ServerSentEvent]:
        async for event in super()._iter_events():
            if event.data.startswith(DONE):
                self.finished = True
            yield event
