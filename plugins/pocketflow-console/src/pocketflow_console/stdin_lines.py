"""Lines from standard input, read without blocking the event loop.

Where the loop can watch standard input (POSIX: a terminal or a pipe), it does:
``loop.add_reader`` wakes us when input is ready, and exactly one ``os.read`` then
takes what is there, so nothing blocks and a wait can be cancelled cleanly (on a
timeout, say). Where it cannot (Windows' proactor loop; stdin redirected from a
regular file), one daemon thread at a time does a blocking read; such a read cannot
be cancelled, so a wait that gives up leaves it in flight and the next wait collects
its data rather than losing it. Bytes read past the end of a line are kept for the
next line; each chunk is searched once for the line end, so a long line costs time in
proportion to its length, and a line over :data:`MAX_LINE` bytes is refused with a
FeedbackError (the rest of it is skipped by the next read).

When ``sys.stdin`` has no file descriptor (replaced by ``io.StringIO`` in a test,
say), its ``readline`` is called directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import threading

from pocketflow.errors import FeedbackError

CHUNK = 64 * 1024
MAX_LINE = 1 << 20
"""The longest line read (1 MiB): an answer or a comment is far shorter."""

TOO_LONG = (
    "An input line is longer than 1 MiB: the console feedback provider reads short "
    "answers (approve or deny, and an optional comment), one a line. Check what is sent "
    "to standard input."
)


class StdinLines:
    """Reads standard input line by line; one instance serves the whole process."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # the buffer's first bytes known to hold no line end
        self._skipping = False  # dropping the rest of a line that was too long
        self._in_flight: concurrent.futures.Future[bytes] | None = None

    async def readline(self) -> str | None:
        """The next line, without its line ending; None at end of input or with no stdin.

        Raises FeedbackError for a line longer than :data:`MAX_LINE` bytes.
        """
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                self._scanned = 0
                if self._skipping:
                    self._skipping = False
                    continue
                return _decode(line)
            if self._skipping:
                self._buffer.clear()
            elif len(self._buffer) > MAX_LINE:
                self._buffer.clear()
                self._skipping = True
                raise FeedbackError(TOO_LONG)
            self._scanned = len(self._buffer)
            chunk = await self._read_chunk()
            if not chunk:  # end of input: a last line without "\n" still counts
                line = bytes(self._buffer)
                self._buffer.clear()
                self._scanned = 0
                if not line or self._skipping:
                    self._skipping = False
                    return None
                return _decode(line)
            self._buffer += chunk

    async def _read_chunk(self) -> bytes:
        """Some bytes from stdin; b"" at end of input, when there is none, or on error."""
        stream = sys.stdin
        if stream is None:
            return b""
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            return _read_stream_line(stream)
        try:
            if self._in_flight is None:
                data = await _read_when_ready(fd)
                if data is not None:
                    return data
            return await self._read_in_thread(fd)  # this loop cannot watch stdin
        except OSError:
            return b""

    async def _read_in_thread(self, fd: int) -> bytes:
        if self._in_flight is None:
            in_flight: concurrent.futures.Future[bytes] = concurrent.futures.Future()
            in_flight.set_running_or_notify_cancel()  # so a cancelled wait cannot cancel it
            thread = threading.Thread(
                target=_blocking_read,
                args=(fd, in_flight),
                name="pocketflow-console-stdin",
                daemon=True,  # never keeps the program alive at exit
            )
            thread.start()
            self._in_flight = in_flight
        data = await asyncio.wrap_future(self._in_flight)
        self._in_flight = None
        return data


async def _read_when_ready(fd: int) -> bytes | None:
    """One ``os.read`` of ``fd`` once the loop sees it readable; None if it cannot watch ``fd``."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[bytes] = loop.create_future()

    def on_ready() -> None:
        if result.done():  # the wait was cancelled: leave the input for the next read
            return
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return
        except OSError as error:
            result.set_exception(error)
            return
        result.set_result(data)

    try:
        loop.add_reader(fd, on_ready)
    except (NotImplementedError, OSError, ValueError):
        return None  # a proactor loop, or a regular file the selector refuses
    try:
        return await result
    finally:
        loop.remove_reader(fd)


def _blocking_read(fd: int, result: concurrent.futures.Future[bytes]) -> None:
    try:
        result.set_result(os.read(fd, CHUNK))
    except BaseException as error:
        result.set_exception(error)


def _read_stream_line(stream: object) -> bytes:
    readline = getattr(stream, "readline", None)
    if readline is None:
        return b""
    try:
        line = readline()
    except (OSError, ValueError):  # e.g. pytest's captured stdin, or a closed stream
        return b""
    if isinstance(line, bytes):
        return line
    return str(line).encode(_encoding(), errors="replace")


def _encoding() -> str:
    return getattr(sys.stdin, "encoding", None) or "utf-8"


def _decode(line: bytes) -> str:
    return line.decode(_encoding(), errors="replace").rstrip("\r")


stdin_lines = StdinLines()
"""The process's standard input, shared by every console review."""
