"""A local fake LLM vendor server for benchmarks and fault tests.

A real HTTP/1.1 server on ``127.0.0.1`` (asyncio streams, no third-party server) that
speaks two vendor dialects closely enough for the official SDKs to parse every reply:

- OpenAI Chat Completions: ``POST /v1/chat/completions`` (JSON, or SSE chunks of
  ``chat.completion.chunk`` ending in ``data: [DONE]`` when ``"stream": true``; a final
  usage chunk when ``stream_options.include_usage``). Header ``x-request-id``.
- Anthropic Messages: ``POST /v1/messages`` (JSON, or the SSE event sequence
  ``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``...,
  ``content_block_stop``, ``message_delta``, ``message_stop`` when ``"stream": true``).
  Header ``request-id``.
- OpenAI Embeddings: ``POST /v1/embeddings`` (``input``: a string or a list of them;
  one vector of ``dimensions`` numbers per input, default ``embedding_dimensions``,
  deterministic from the text; ``prompt_tokens`` counts words). It waits ``latency``
  too and takes the same faults (forced by ``x-fault``, or drawn), except ``slow``
  and ``malformed``, which it answers normally.
- Gemini API: ``POST /v1beta/models/MODEL:generateContent`` (JSON ``candidates`` and
  ``usageMetadata``), ``:streamGenerateContent?alt=sse`` (SSE chunks, each a partial
  reply, the last with ``finishReason`` and ``usageMetadata``; no closing event) and
  ``:batchEmbedContents`` (one vector per request, deterministic from the text's hash,
  ``outputDimensionality`` long or 8). Header ``x-request-id``; errors are
  ``{"error": {"code", "message", "status"}}``; ``529`` is sent as 503, as Google does.
- ``GET /stats`` (the counters below, and ``process_cpu_s``: the whole server
  process's CPU seconds since the last reset, to tell whether the server is a
  bottleneck) as JSON; ``POST /reset`` (zero them); ``GET /health``.

Connections are kept alive (HTTP/1.1 rules); JSON replies carry ``Content-Length``,
streams use chunked transfer encoding.

Reply rule
    The reply text is ``"echo: " + T`` where ``T`` is the text of the LAST ``user``
    message (string content, or its ``text`` parts joined by a space) cut to
    ``echo_chars`` characters (default 200). If the request carries a call marker that
    the cut dropped, ``" [call-KEY]"`` is appended, so a reply always names its call.
    ``extra_words`` (default 0) appends that many filler words to make replies longer.
    Token counts are whitespace-separated words: ``prompt_tokens`` / ``input_tokens``
    over all message texts (and the Anthropic ``system``), ``completion_tokens`` /
    ``output_tokens`` over the reply. A stream sends the reply a word at a time.

Call key
    A marker ``[call-KEY]`` (KEY: letters, digits, ``_ . : -``) anywhere in the last user
    message names the call; its key is ``call-KEY``. Every request that reaches a
    vendor path is counted under its key (``by_key``: how many attempts that call
    made) and every completed 200 reply under ``ok_by_key`` (more than 1 means a call
    was answered twice). Requests without a marker are counted but have no key.

Faults
    Each vendor request gets at most one fault; chosen, in this order of precedence:

    1. forced by the header ``x-fault: KIND`` or a marker ``[fault:KIND]`` in the last
       user message; ``KIND*N`` (e.g. ``429*2``) forces it only for the first N
       attempts of the request's call key (then the call succeeds; a request without
       a key gets it every time);
    2. otherwise drawn with the configured fractions (:class:`FaultConfig`). The draw
       is deterministic given the seed: a request with a call key uses
       ``random.Random(f"{seed}/{key}/{attempt}")`` (independent of arrival order, so
       concurrent runs agree), one without a key takes the next number of a single
       ``random.Random(seed)``.

    KINDs: ``429`` (rate limited: ``retry-after`` seconds and ``retry-after-ms``,
    vendor error JSON), ``500`` (server error), ``529`` (overloaded: Anthropic's 529
    ``overloaded_error``; on the OpenAI path a 503 as OpenAI sends), ``drop`` (the
    connection is closed without a response after the request is read), ``slow``
    (the normal reply after ``latency + slow_delay``), ``malformed`` (200 with a body
    that is not valid JSON, or a stream cut by a broken event), ``none``.
    Error replies are sent at once; successful and malformed replies wait ``latency``
    seconds first (and a stream ``chunk_delay`` between chunks).

Running it
    In-process, for tests::

        async with VendorServer(latency=0.01, faults=FaultConfig(rate_429=0.2)) as server:
            client = openai.AsyncOpenAI(base_url=server.base_url + "/v1", api_key="x")
            ...
            assert server.stats.by_key["call-1"] == 1

    As a process, for benchmarks (prints ``READY <port>`` once listening; stops on
    SIGTERM or SIGINT)::

        python bench/vendor_server.py --port 0 --latency 0.5 --rate-429 0.2

    or from Python: ``with start_server_process(latency=0.5) as (process, base_url):``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http
import json
import random
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any

FAULT_KINDS: tuple[str, ...] = ("429", "500", "529", "drop", "slow", "malformed")
"""Fault names, in the order their fractions are stacked when drawing."""

OPENAI_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
ANTHROPIC_PATH = "/v1/messages"
GEMINI_PATH = re.compile(
    r"^/v1(?:beta)?/models/([A-Za-z0-9_.-]+)"
    r":(generateContent|streamGenerateContent|batchEmbedContents)$"
)
"""Gemini API paths: the model, then the method."""
GEMINI_EMBED_DIMENSIONS = 8

_CALL_MARKER = re.compile(r"\[(call-[A-Za-z0-9_.:-]+)\]")
_FAULT_MARKER = re.compile(r"\[fault:([a-z0-9]+(?:\*\d+)?)\]")
_MAX_HEAD_BYTES = 1 << 20
_MAX_BODY_BYTES = 64 << 20
_FILLER = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")


@dataclass(frozen=True)
class FaultConfig:
    """Fractions of vendor requests that fail, and how.

    Each ``rate_*`` is a fraction in ``[0, 1]``; together they may not exceed 1.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_529: float = 0.0
    rate_drop: float = 0.0
    rate_slow: float = 0.0
    rate_malformed: float = 0.0
    retry_after: float = 1.0
    """Seconds sent in ``retry-after`` (and, times 1000, ``retry-after-ms``) on a 429."""
    slow_delay: float = 2.0
    """Extra seconds a ``slow`` reply waits."""
    seed: int = 0

    def __post_init__(self) -> None:
        rates = self.rates()
        for kind, rate in rates:
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"rate_{kind} must be within [0, 1], got {rate}")
        total = sum(rate for _, rate in rates)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total}, more than 1")
        if self.retry_after < 0 or self.slow_delay < 0:
            raise ValueError("retry_after and slow_delay must not be negative")

    def rates(self) -> tuple[tuple[str, float], ...]:
        """Each fault kind with its fraction, in :data:`FAULT_KINDS` order."""
        return tuple((kind, float(getattr(self, f"rate_{kind}"))) for kind in FAULT_KINDS)

    def draw(self, rng: random.Random) -> str:
        """Pick a fault kind (or ``"none"``) with one number from ``rng``."""
        point = rng.random()
        edge = 0.0
        for kind, rate in self.rates():
            edge += rate
            if point < edge:
                return kind
        return "none"


@dataclass
class ServerStats:
    """What the server received. Only vendor paths count as requests."""

    requests: int = 0
    """Vendor requests (every attempt), whatever their outcome."""
    replies_ok: int = 0
    """Complete successful (200, well-formed) replies written."""
    connections: int = 0
    """TCP connections accepted."""
    open_connections: int = 0
    """TCP connections open now (accepted and not yet closed)."""
    in_flight: int = 0
    max_in_flight: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    by_fault: Counter[str] = field(default_factory=Counter)
    """Fault kind applied (``"none"`` for a normal reply, ``"bad_request"`` for a 400)."""
    by_key: Counter[str] = field(default_factory=Counter)
    """Attempts per call key."""
    ok_by_key: Counter[str] = field(default_factory=Counter)
    """Successful replies per call key."""
    cpu_start: float = field(default_factory=time.process_time)
    """The server process's CPU clock when these counters started."""

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy (the body of ``GET /stats``)."""
        return {
            "requests": self.requests,
            "replies_ok": self.replies_ok,
            "connections": self.connections,
            "open_connections": self.open_connections,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "by_path": dict(self.by_path),
            "by_fault": dict(self.by_fault),
            "by_key": dict(self.by_key),
            "ok_by_key": dict(self.ok_by_key),
            "process_cpu_s": round(time.process_time() - self.cpu_start, 4),
        }


class HttpError(Exception):
    """A request the server cannot parse; answered with ``status`` and then closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class HttpRequest:
    """One parsed HTTP/1.x request. Header names are lower-cased."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        """Whether the connection stays open after the response (RFC 9112 rules)."""
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.1":
            return "close" not in tokens
        return "keep-alive" in tokens


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """Read one request from ``reader``; None on a clean end of stream between requests.

    Raises :class:`HttpError` for a request that breaks HTTP/1.1 syntax.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise HttpError(400, "connection closed inside the request head") from exc
    except asyncio.LimitOverrunError as exc:
        raise HttpError(431, "request head too large") from exc
    lines = head.lstrip(b"\r\n").decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise HttpError(400, f"bad request line {lines[0]!r}")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(505, f"unsupported version {version!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t":
            raise HttpError(400, "obsolete header line folding")
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or " " in name:
            raise HttpError(400, f"bad header line {line!r}")
        key = name.lower()
        value = value.strip(" \t")
        if key in headers:
            if key in ("content-length", "host"):
                if headers[key] != value:
                    raise HttpError(400, f"conflicting {key} headers")
                continue
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    body = await _read_body(reader, headers)
    return HttpRequest(method.upper(), target, version, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    try:
        if "transfer-encoding" in headers:
            codings = [c.strip().lower() for c in headers["transfer-encoding"].split(",")]
            if codings[-1] != "chunked" or any(c not in ("chunked", "identity") for c in codings):
                raise HttpError(501, f"unsupported transfer-encoding {codings}")
            return await _read_chunked(reader)
        length_text = headers.get("content-length")
        if length_text is None:
            return b""
        if not length_text.isdigit():
            raise HttpError(400, f"bad content-length {length_text!r}")
        length = int(length_text)
        if length > _MAX_BODY_BYTES:
            raise HttpError(413, "request body too large")
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise HttpError(400, "connection closed inside the request body") from exc
    except asyncio.LimitOverrunError as exc:
        raise HttpError(400, "chunk line too long") from exc


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readuntil(b"\r\n"))[:-2]
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise HttpError(400, f"bad chunk size {size_text!r}") from exc
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields are ignored
            return b"".join(chunks)
        total += size
        if total > _MAX_BODY_BYTES:
            raise HttpError(413, "request body too large")
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise HttpError(400, "chunk not followed by CRLF")


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _head(status: int, headers: Sequence[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


@dataclass
class _Call:
    """What a vendor request asked for, as far as the fake needs to know."""

    vendor: str
    model: str
    stream: bool
    include_usage: bool
    user_text: str
    prompt_tokens: int
    key: str | None
    forced: str | None
    embed_texts: list[str] | None = None
    """The texts of an embedding request (None: a chat request)."""
    dimensions: int = GEMINI_EMBED_DIMENSIONS


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "input_text")
        ]
        return " ".join(texts)
    return ""


def _gemini_text(content: Any) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return ""
    return " ".join(str(p["text"]) for p in parts if isinstance(p, dict) and "text" in p)


def _parse_gemini_call(request: HttpRequest, payload: dict[str, Any]) -> _Call:
    found = GEMINI_PATH.match(request.path)
    assert found is not None
    model, method = found.groups()
    texts: list[str] | None = None
    dimensions = GEMINI_EMBED_DIMENSIONS
    if method == "batchEmbedContents":
        requests = payload.get("requests")
        if not isinstance(requests, list) or not requests:
            raise HttpError(400, "'requests' must be a non-empty list")
        texts = [_gemini_text(r.get("content")) if isinstance(r, dict) else "" for r in requests]
        first = requests[0] if isinstance(requests[0], dict) else {}
        dimensions = int(first.get("outputDimensionality") or GEMINI_EMBED_DIMENSIONS)
        contents: Any = [{"role": "user", "parts": [{"text": " ".join(texts)}]}]
    else:
        contents = payload.get("contents")
        if not isinstance(contents, list) or not contents:
            raise HttpError(400, "'contents' must be a non-empty list")
    all_texts = [_gemini_text(c) for c in contents if isinstance(c, dict)]
    all_texts.append(_gemini_text(payload.get("systemInstruction")))
    user_texts = [
        _gemini_text(c) for c in contents if isinstance(c, dict) and c.get("role") == "user"
    ]
    user_text = user_texts[-1] if user_texts else ""
    call_match = _CALL_MARKER.search(user_text)
    fault_match = _FAULT_MARKER.search(user_text)
    return _Call(
        vendor="gemini",
        model=model,
        stream=method == "streamGenerateContent",
        include_usage=True,
        user_text=user_text,
        prompt_tokens=sum(len(t.split()) for t in all_texts),
        key=call_match.group(1) if call_match else None,
        forced=request.headers.get("x-fault") or (fault_match.group(1) if fault_match else None),
        embed_texts=texts,
        dimensions=dimensions,
    )


def _parse_call(vendor: str, request: HttpRequest) -> _Call:
    try:
        payload = json.loads(request.body)
    except ValueError as exc:
        raise HttpError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise HttpError(400, "body must be a JSON object")
    if vendor == "gemini":
        return _parse_gemini_call(request, payload)
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise HttpError(400, "'messages' must be a non-empty list")
    texts = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    if vendor == "anthropic":
        texts.append(_text_of(payload.get("system")))
    user_texts = [
        _text_of(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    ]
    user_text = user_texts[-1] if user_texts else ""
    call_match = _CALL_MARKER.search(user_text)
    fault_match = _FAULT_MARKER.search(user_text)
    options = payload.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return _Call(
        vendor=vendor,
        model=str(payload.get("model") or "fake-model"),
        stream=payload.get("stream") is True,
        include_usage=include_usage,
        user_text=user_text,
        prompt_tokens=sum(len(t.split()) for t in texts),
        key=call_match.group(1) if call_match else None,
        forced=request.headers.get("x-fault") or (fault_match.group(1) if fault_match else None),
    )


class VendorServer:
    """The fake vendor server; run it with ``async with`` or :meth:`start`/:meth:`stop`.

    ``latency``, ``chunk_delay``, ``echo_chars``, ``extra_words`` and ``faults`` may be
    changed while it runs. ``stats`` is the live :class:`ServerStats`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
        faults: FaultConfig | None = None,
        echo_chars: int = 200,
        extra_words: int = 0,
        embedding_dimensions: int = 16,
        backlog: int = 2048,
    ) -> None:
        self.host = host
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.echo_chars = echo_chars
        self.extra_words = extra_words
        self.embedding_dimensions = embedding_dimensions
        self.stats = ServerStats()
        self._requested_port = port
        self._backlog = backlog
        self._faults = faults or FaultConfig()
        self._rng = random.Random(self._faults.seed)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._serial = 0

    @property
    def faults(self) -> FaultConfig:
        """The fault fractions; setting them restarts the seeded draw."""
        return self._faults

    @faults.setter
    def faults(self, faults: FaultConfig) -> None:
        self._faults = faults
        self._rng = random.Random(faults.seed)

    @property
    def port(self) -> int:
        """The bound port (the ephemeral one when started with port 0)."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` without a trailing slash (add ``/v1`` for OpenAI)."""
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Zero the counters and restart the seeded fault draw."""
        in_flight, still_open = self.stats.in_flight, self.stats.open_connections
        self.stats = ServerStats(
            in_flight=in_flight, max_in_flight=in_flight, open_connections=still_open
        )
        self._rng = random.Random(self._faults.seed)

    async def start(self) -> None:
        """Start listening."""
        if self._server is not None:
            raise RuntimeError("the server is already started")
        self._server = await asyncio.start_server(
            self._handle_connection,
            self.host,
            self._requested_port,
            backlog=self._backlog,
            limit=_MAX_HEAD_BYTES,
        )

    async def stop(self) -> None:
        """Stop listening and end every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> VendorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.stats.connections += 1
        self.stats.open_connections += 1
        try:
            while True:
                try:
                    request = await read_request(reader)
                except HttpError as exc:
                    body = json.dumps({"error": {"message": exc.message}}).encode()
                    await self._send(writer, exc.status, body, keep_alive=False)
                    return
                if request is None:
                    return
                if not await self._respond(request, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        except asyncio.CancelledError:
            # Only stop() cancels a connection task. Ending normally keeps asyncio's
            # stream callback from logging the cancellation as an error (Python 3.11).
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self.stats.open_connections -= 1

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        *,
        keep_alive: bool,
        content_type: str = "application/json",
        extra: Sequence[tuple[str, str]] = (),
    ) -> None:
        headers = [
            ("content-type", content_type),
            ("content-length", str(len(body))),
            ("connection", "keep-alive" if keep_alive else "close"),
            *extra,
        ]
        writer.write(_head(status, headers) + body)
        await writer.drain()

    async def _respond(self, request: HttpRequest, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; return whether the connection stays open."""
        keep_alive = request.keep_alive
        path = request.path
        gemini = GEMINI_PATH.match(path) is not None
        if path in (OPENAI_PATH, ANTHROPIC_PATH, EMBEDDINGS_PATH) or gemini:
            if request.method != "POST":
                await self._send(writer, 405, b'{"error": "use POST"}', keep_alive=keep_alive)
                return keep_alive
            vendor = "gemini" if gemini else "anthropic" if path == ANTHROPIC_PATH else "openai"
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            try:
                if path == EMBEDDINGS_PATH:
                    return await self._embeddings_call(request, writer, keep_alive)
                return await self._vendor_call(vendor, request, writer, keep_alive)
            finally:
                self.stats.in_flight -= 1
        if path == "/stats" and request.method == "GET":
            body = json.dumps(self.stats.snapshot()).encode()
        elif path == "/reset" and request.method == "POST":
            self.reset()
            body = b'{"ok": true}'
        elif path == "/health" and request.method == "GET":
            body = b'{"ok": true}'
        else:
            body = json.dumps({"error": f"no route {request.method} {path}"}).encode()
            await self._send(writer, 404, body, keep_alive=keep_alive)
            return keep_alive
        await self._send(writer, 200, body, keep_alive=keep_alive)
        return keep_alive

    def _choose_fault(self, call: _Call, attempt: int) -> str:
        if call.forced is not None:
            kind, _, limit = call.forced.partition("*")
            if kind != "none" and kind not in FAULT_KINDS:
                raise HttpError(400, f"unknown fault {kind!r}; use one of {FAULT_KINDS}")
            if not limit or call.key is None or attempt <= int(limit):
                return kind
            return "none"
        if not any(rate for _, rate in self._faults.rates()):
            return "none"
        if call.key is None:
            return self._faults.draw(self._rng)
        return self._faults.draw(random.Random(f"{self._faults.seed}/{call.key}/{attempt}"))

    async def _vendor_call(
        self, vendor: str, request: HttpRequest, writer: asyncio.StreamWriter, keep_alive: bool
    ) -> bool:
        stats = self.stats
        stats.requests += 1
        stats.by_path[request.path] += 1
        self._serial += 1
        serial = self._serial
        request_id = f"req_{serial:010d}"
        id_header = "request-id" if vendor == "anthropic" else "x-request-id"
        extra = [(id_header, request_id)]
        try:
            call = _parse_call(vendor, request)
            attempt = 0
            if call.key is not None:
                stats.by_key[call.key] += 1
                attempt = stats.by_key[call.key]
            fault = self._choose_fault(call, attempt)
        except HttpError as exc:
            stats.by_fault["bad_request"] += 1
            body = _error_body(vendor, 400, exc.message, request_id)
            await self._send(writer, 400, body, keep_alive=keep_alive, extra=extra)
            return keep_alive
        stats.by_fault[fault] += 1

        if fault == "drop":
            writer.transport.abort()
            return False
        if fault in ("429", "500", "529"):
            status = 503 if (fault == "529" and vendor != "anthropic") else int(fault)
            if status == 429:
                retry = self._faults.retry_after
                extra += [
                    ("retry-after", _seconds_text(retry)),
                    ("retry-after-ms", str(round(retry * 1000))),
                ]
            body = _error_body(vendor, status, _ERROR_TEXT[status], request_id)
            await self._send(writer, status, body, keep_alive=keep_alive, extra=extra)
            return keep_alive

        delay = self.latency + (self._faults.slow_delay if fault == "slow" else 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        text = self._reply_text(call)
        malformed = fault == "malformed"
        if call.stream:
            events = _EVENTS[vendor](call, text, serial)
            if malformed:
                broken = b"data: {not json\n\n"
                if vendor == "anthropic":
                    broken = b"event: content_block_delta\n" + broken
                events = [*events[: len(events) // 2], broken]
            await self._send_stream(writer, events, keep_alive, extra)
        elif malformed:
            body = b'{"id": "broken", "choices": [{"message": '
            await self._send(writer, 200, body, keep_alive=keep_alive, extra=extra)
        else:
            reply = _REPLIES[vendor](call, text, serial)
            await self._send(
                writer, 200, json.dumps(reply).encode(), keep_alive=keep_alive, extra=extra
            )
        if not malformed:
            stats.replies_ok += 1
            if call.key is not None:
                stats.ok_by_key[call.key] += 1
        return keep_alive

    async def _embeddings_call(
        self, request: HttpRequest, writer: asyncio.StreamWriter, keep_alive: bool
    ) -> bool:
        stats = self.stats
        stats.requests += 1
        stats.by_path[request.path] += 1
        self._serial += 1
        request_id = f"req_{self._serial:010d}"
        extra = [("x-request-id", request_id)]
        try:
            texts, model, dimensions = _parse_embeddings(request, self.embedding_dimensions)
            forced = request.headers.get("x-fault")
            probe = _Call("openai", model, False, False, "", 0, None, forced)
            fault = self._choose_fault(probe, 0)
        except HttpError as exc:
            stats.by_fault["bad_request"] += 1
            body = _error_body("openai", 400, exc.message, request_id)
            await self._send(writer, 400, body, keep_alive=keep_alive, extra=extra)
            return keep_alive
        stats.by_fault[fault] += 1
        if fault == "drop":
            writer.transport.abort()
            return False
        if fault in ("429", "500", "529"):
            status = 503 if fault == "529" else int(fault)
            if status == 429:
                retry = self._faults.retry_after
                extra += [("retry-after", _seconds_text(retry))]
            body = _error_body("openai", status, _ERROR_TEXT[status], request_id)
            await self._send(writer, status, body, keep_alive=keep_alive, extra=extra)
            return keep_alive
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        tokens = sum(len(text.split()) for text in texts)
        reply = {
            "object": "list",
            "data": [
                {"object": "embedding", "index": index, "embedding": _vector(text, dimensions)}
                for index, text in enumerate(texts)
            ],
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        body = json.dumps(reply).encode()
        await self._send(writer, 200, body, keep_alive=keep_alive, extra=extra)
        stats.replies_ok += 1
        return keep_alive

    async def _send_stream(
        self,
        writer: asyncio.StreamWriter,
        events: list[bytes],
        keep_alive: bool,
        extra: Sequence[tuple[str, str]],
    ) -> None:
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
            ("connection", "keep-alive" if keep_alive else "close"),
            *extra,
        ]
        if self.chunk_delay <= 0:
            writer.write(_head(200, headers) + b"".join(map(_chunk, events)) + b"0\r\n\r\n")
            await writer.drain()
            return
        writer.write(_head(200, headers))
        for index, event in enumerate(events):
            if index:
                await asyncio.sleep(self.chunk_delay)
            writer.write(_chunk(event))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    def _reply_text(self, call: _Call) -> str:
        text = "echo: " + call.user_text[: self.echo_chars]
        if call.key is not None and f"[{call.key}]" not in text:
            text += f" [{call.key}]"
        if self.extra_words > 0:
            words = (_FILLER[i % len(_FILLER)] for i in range(self.extra_words))
            text += " " + " ".join(words)
        return text


def _parse_embeddings(request: HttpRequest, default_dimensions: int) -> tuple[list[str], str, int]:
    try:
        payload = json.loads(request.body)
    except ValueError as exc:
        raise HttpError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise HttpError(400, "body must be a JSON object")
    texts = payload.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise HttpError(400, "'input' must be a string or a non-empty list of strings")
    if len(texts) > 2048:
        raise HttpError(400, "'input' may hold at most 2048 items")
    dimensions = payload.get("dimensions", default_dimensions)
    if type(dimensions) is not int or dimensions <= 0:
        raise HttpError(400, "'dimensions' must be a positive integer")
    return texts, str(payload.get("model") or "fake-embedding"), dimensions


def _vector(text: str, dimensions: int) -> list[float]:
    """Deterministic numbers in [-1, 1) from ``text`` (a small linear congruential walk)."""
    state = zlib.crc32(text.encode())
    numbers = []
    for _ in range(dimensions):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        numbers.append(round(state / 0x40000000 - 1.0, 6))
    return numbers


_ERROR_TEXT = {
    400: "Invalid request.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request.",
    503: "The engine is currently overloaded, please try again later.",
    529: "Overloaded",
}
_OPENAI_ERROR = {
    400: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}
_ANTHROPIC_ERROR = {
    400: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _error_body(vendor: str, status: int, message: str, request_id: str) -> bytes:
    if vendor == "gemini":
        error = {"code": status, "message": message, "status": _GEMINI_STATUS[status]}
        return json.dumps({"error": error}).encode()
    if vendor == "openai":
        kind, code = _OPENAI_ERROR[status]
        error = {"message": message, "type": kind, "param": None, "code": code}
        return json.dumps({"error": error}).encode()
    body = {
        "type": "error",
        "error": {"type": _ANTHROPIC_ERROR[status], "message": message},
        "request_id": request_id,
    }
    return json.dumps(body).encode()


def _openai_reply(call: _Call, text: str, serial: int) -> dict[str, Any]:
    completion_tokens = len(text.split())
    return {
        "id": f"chatcmpl-{serial:010d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": call.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": call.prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_vendor_server",
    }


def _words(text: str) -> list[str]:
    """Split ``text`` into stream pieces that join back to it exactly."""
    pieces = text.split(" ")
    return [pieces[0]] + [" " + piece for piece in pieces[1:]]


def _sse_data(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _openai_events(call: _Call, text: str, serial: int) -> list[bytes]:
    base = {
        "id": f"chatcmpl-{serial:010d}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": call.model,
        "system_fingerprint": "fp_vendor_server",
    }
    usage_field: dict[str, Any] = {"usage": None} if call.include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _sse_data({**base, "choices": [choice], **usage_field})

    events = [chunk({"role": "assistant", "content": ""})]
    events.extend(chunk({"content": piece}) for piece in _words(text))
    events.append(chunk({}, "stop"))
    if call.include_usage:
        completion_tokens = len(text.split())
        usage = {
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": call.prompt_tokens + completion_tokens,
        }
        events.append(_sse_data({**base, "choices": [], "usage": usage}))
    events.append(b"data: [DONE]\n\n")
    return events


def _anthropic_usage(call: _Call, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": call.prompt_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _anthropic_reply(call: _Call, text: str, serial: int) -> dict[str, Any]:
    return {
        "id": f"msg_{serial:010d}",
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _anthropic_usage(call, len(text.split())),
    }


def _sse_event(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\n".encode() + _sse_data(payload)


def _anthropic_events(call: _Call, text: str, serial: int) -> list[bytes]:
    message = {
        **_anthropic_reply(call, text, serial),
        "content": [],
        "stop_reason": None,
        "usage": _anthropic_usage(call, 1),
    }
    events = [
        _sse_event("message_start", {"type": "message_start", "message": message}),
        _sse_event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        _sse_event("ping", {"type": "ping"}),
    ]
    events.extend(
        _sse_event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
        )
        for piece in _words(text)
    )
    events += [
        _sse_event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _sse_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(text.split())},
            },
        ),
        _sse_event("message_stop", {"type": "message_stop"}),
    ]
    return events


def _gemini_usage(call: _Call, output_tokens: int) -> dict[str, Any]:
    return {
        "promptTokenCount": call.prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": call.prompt_tokens + output_tokens,
    }


def _gemini_chunk(
    call: _Call, text: str, serial: int, finish: str | None, usage: dict[str, Any] | None
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish is not None:
        candidate["finishReason"] = finish
    candidate["index"] = 0
    reply: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        reply["usageMetadata"] = usage
    reply["modelVersion"] = call.model
    reply["responseId"] = f"resp_{serial:010d}"
    return reply


def _gemini_vector(text: str, dimensions: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(digest[i % len(digest)] / 255.0 - 0.5, 6) for i in range(dimensions)]


def _gemini_reply(call: _Call, text: str, serial: int) -> dict[str, Any]:
    if call.embed_texts is not None:
        vectors = [_gemini_vector(t, call.dimensions) for t in call.embed_texts]
        return {"embeddings": [{"values": v} for v in vectors]}
    usage = _gemini_usage(call, len(text.split()))
    return _gemini_chunk(call, text, serial, "STOP", usage)


def _gemini_sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\r\n\r\n"


def _gemini_events(call: _Call, text: str, serial: int) -> list[bytes]:
    pieces = _words(text)
    events = [_gemini_sse(_gemini_chunk(call, p, serial, None, None)) for p in pieces[:-1]]
    usage = _gemini_usage(call, len(text.split()))
    events.append(_gemini_sse(_gemini_chunk(call, pieces[-1], serial, "STOP", usage)))
    return events


_REPLIES = {"openai": _openai_reply, "anthropic": _anthropic_reply, "gemini": _gemini_reply}
_EVENTS = {"openai": _openai_events, "anthropic": _anthropic_events, "gemini": _gemini_events}


# --- running it as a process -------------------------------------------------------------


def _local_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch_stats(base_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """``GET /stats`` from a running server (e.g. one in another process)."""
    with _local_opener().open(base_url + "/stats", timeout=timeout) as response:
        stats: dict[str, Any] = json.load(response)
    return stats


def reset_stats(base_url: str, timeout: float = 10.0) -> None:
    """``POST /reset`` on a running server."""
    request = urllib.request.Request(base_url + "/reset", data=b"", method="POST")
    with _local_opener().open(request, timeout=timeout) as response:
        response.read()


def _server_argv(
    *,
    host: str,
    latency: float,
    chunk_delay: float,
    faults: FaultConfig,
    echo_chars: int,
    extra_words: int,
) -> list[str]:
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--host",
        host,
        "--port",
        "0",
        "--latency",
        repr(latency),
        "--chunk-delay",
        repr(chunk_delay),
        "--echo-chars",
        str(echo_chars),
        "--extra-words",
        str(extra_words),
    ]
    for spec in fields(FaultConfig):
        argv += ["--" + spec.name.replace("_", "-"), repr(getattr(faults, spec.name))]
    return argv


def _wait_ready(process: subprocess.Popen[bytes], timeout: float) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"vendor server did not print READY within {timeout} s")
        readable, _, _ = select.select([process.stdout], [], [], remaining)
        if not readable:
            continue
        line = process.stdout.readline().decode(errors="replace").strip()
        if not line:
            code = process.wait(timeout=5)
            raise RuntimeError(f"vendor server exited with code {code} before READY")
        if line.startswith("READY "):
            return int(line.split()[1])


@contextlib.contextmanager
def start_server_process(
    *,
    host: str = "127.0.0.1",
    latency: float = 0.0,
    chunk_delay: float = 0.0,
    faults: FaultConfig | None = None,
    echo_chars: int = 200,
    extra_words: int = 0,
    ready_timeout: float = 30.0,
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run the server in a subprocess; yield ``(process, base_url)``; stop it afterwards.

    The options are those of :class:`VendorServer`.
    """
    argv = _server_argv(
        host=host,
        latency=latency,
        chunk_delay=chunk_delay,
        faults=faults or FaultConfig(),
        echo_chars=echo_chars,
        extra_words=extra_words,
    )
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, bufsize=0)
    try:
        port = _wait_ready(process, ready_timeout)
        yield process, f"http://{host}:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before a reply")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between chunks")
    parser.add_argument("--echo-chars", type=int, default=200)
    parser.add_argument("--extra-words", type=int, default=0)
    for spec in fields(FaultConfig):
        kind = int if spec.name == "seed" else float
        parser.add_argument("--" + spec.name.replace("_", "-"), type=kind, default=spec.default)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    faults = FaultConfig(**{spec.name: getattr(args, spec.name) for spec in fields(FaultConfig)})
    server = VendorServer(
        host=args.host,
        port=args.port,
        latency=args.latency,
        chunk_delay=args.chunk_delay,
        faults=faults,
        echo_chars=args.echo_chars,
        extra_words=args.extra_words,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        print(f"READY {server.port}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: serve until SIGTERM or SIGINT."""
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
