"""The local vendor server (bench/vendor_server.py) answers as the real SDKs expect."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import openai
import pytest

from vendor_server import FaultConfig, VendorServer, fetch_stats, start_server_process


def _openai(server: VendorServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)


def _anthropic(server: VendorServer) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=server.base_url, api_key="test", max_retries=0)


def test_openai_reply_has_the_chat_completion_schema() -> None:
    async def scenario() -> Any:
        async with VendorServer() as server, _openai(server) as client:
            return await client.chat.completions.with_raw_response.create(
                model="gpt-test", messages=[{"role": "user", "content": "[call-1] hello there"}]
            )

    raw = asyncio.run(scenario())
    completion = raw.parse()
    assert raw.headers["x-request-id"]
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-test"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "echo: [call-1] hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (3, 4)
    assert completion.usage.total_tokens == 7


def test_anthropic_reply_has_the_message_schema() -> None:
    async def scenario() -> Any:
        async with VendorServer() as server, _anthropic(server) as client:
            raw = await client.messages.with_raw_response.create(
                model="claude-test",
                max_tokens=50,
                messages=[{"role": "user", "content": "[call-2] hi"}],
            )
            return raw, await raw.parse()

    raw, message = asyncio.run(scenario())
    assert raw.headers["request-id"]
    assert (message.type, message.role, message.model) == ("message", "assistant", "claude-test")
    assert message.content[0].type == "text"
    assert message.content[0].text == "echo: [call-2] hi"
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert (message.usage.input_tokens, message.usage.output_tokens) == (2, 3)
    assert message.usage.cache_read_input_tokens == 0


def test_openai_stream_parses_with_the_sdk_and_ends_with_usage() -> None:
    async def scenario() -> list[Any]:
        async with VendorServer(chunk_delay=0.001) as server, _openai(server) as client:
            stream = await client.chat.completions.create(
                model="gpt-test",
                messages=[{"role": "user", "content": "[call-3] stream me"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            return [chunk async for chunk in stream]

    chunks = asyncio.run(scenario())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: [call-3] stream me"
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_anthropic_stream_parses_with_the_sdk_as_the_event_sequence() -> None:
    async def scenario() -> list[Any]:
        async with VendorServer() as server, _anthropic(server) as client:
            stream = await client.messages.create(
                model="claude-test",
                max_tokens=50,
                messages=[{"role": "user", "content": "[call-4] stream me"}],
                stream=True,
            )
            return [event async for event in stream]

    events = asyncio.run(scenario())
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == "echo: [call-4] stream me"
    assert events[-2].delta.stop_reason == "end_turn"
    assert events[-2].usage.output_tokens == 4


def test_forced_429_is_the_sdks_rate_limit_error_with_retry_after() -> None:
    async def scenario() -> tuple[openai.RateLimitError, anthropic.RateLimitError]:
        faults = FaultConfig(retry_after=0.25)
        async with VendorServer(faults=faults) as server:
            async with _openai(server) as oa:
                with pytest.raises(openai.RateLimitError) as oa_error:
                    await oa.chat.completions.create(
                        model="m",
                        messages=[{"role": "user", "content": "hi"}],
                        extra_headers={"x-fault": "429"},
                    )
            async with _anthropic(server) as an:
                with pytest.raises(anthropic.RateLimitError) as an_error:
                    await an.messages.create(
                        model="m",
                        max_tokens=5,
                        messages=[{"role": "user", "content": "[fault:429]"}],
                    )
        return oa_error.value, an_error.value

    oa_error, an_error = asyncio.run(scenario())
    for error in (oa_error, an_error):
        assert error.status_code == 429
        assert error.response.headers["retry-after"] == "0.25"
        assert error.response.headers["retry-after-ms"] == "250"
    assert isinstance(oa_error.body, dict) and oa_error.body["code"] == "rate_limit_exceeded"
    assert isinstance(an_error.body, dict)
    assert an_error.body["error"]["type"] == "rate_limit_error"


def test_dropped_connection_is_the_sdks_connection_error() -> None:
    async def scenario() -> dict[str, Any]:
        async with VendorServer(faults=FaultConfig(rate_drop=1.0)) as server:
            async with _openai(server) as oa:
                with pytest.raises(openai.APIConnectionError):
                    await oa.chat.completions.create(
                        model="m", messages=[{"role": "user", "content": "[call-a] hi"}]
                    )
            async with _anthropic(server) as an:
                with pytest.raises(anthropic.APIConnectionError):
                    await an.messages.create(
                        model="m", max_tokens=5, messages=[{"role": "user", "content": "[call-b]"}]
                    )
            return server.stats.snapshot()

    stats = asyncio.run(scenario())
    assert stats["by_fault"] == {"drop": 2}
    assert stats["by_key"] == {"call-a": 1, "call-b": 1}
    assert stats["replies_ok"] == 0


def test_counts_every_attempt_per_call_key() -> None:
    async def call_until_ok(client: openai.AsyncOpenAI, index: int) -> str:
        fault = "[fault:500*2]" if index % 2 == 0 else ""
        for _ in range(5):
            try:
                completion = await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"[call-{index}] {fault}"}]
                )
            except openai.InternalServerError:
                continue
            return completion.choices[0].message.content or ""
        raise AssertionError("never succeeded")

    async def scenario() -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        async with VendorServer(latency=0.01) as server, _openai(server) as client:
            replies = await asyncio.gather(*(call_until_ok(client, i) for i in range(10)))
            # Read in-process first: after the /stats reply, when its connection's close
            # is noticed is up to the event loop, so a later read may or may not count it.
            in_process = server.stats.snapshot()
            over_http = await asyncio.to_thread(fetch_stats, server.base_url)
            return replies, in_process, over_http

    replies, stats, over_http = asyncio.run(scenario())
    del over_http["process_cpu_s"], stats["process_cpu_s"]  # a clock, read at two moments
    # The /stats request's own connection is one more, open while it is answered.
    assert over_http.pop("open_connections") == stats.pop("open_connections") + 1
    assert over_http.pop("connections") == stats.pop("connections") + 1
    assert all(f"[call-{i}]" in reply for i, reply in enumerate(replies))
    assert stats["by_key"] == {f"call-{i}": 3 if i % 2 == 0 else 1 for i in range(10)}
    assert stats["ok_by_key"] == {f"call-{i}": 1 for i in range(10)}
    assert stats["by_fault"] == {"500": 10, "none": 10}
    assert stats["requests"] == 20
    assert over_http == stats


def test_random_faults_repeat_for_the_same_seed() -> None:
    async def failed_calls(seed: int) -> set[int]:
        faults = FaultConfig(rate_500=0.5, seed=seed)
        async with VendorServer(faults=faults) as server, _anthropic(server) as client:

            async def fails(index: int) -> bool:
                try:
                    await client.messages.create(
                        model="m",
                        max_tokens=5,
                        messages=[{"role": "user", "content": f"[call-{index}]"}],
                    )
                except anthropic.InternalServerError:
                    return True
                return False

            outcomes = await asyncio.gather(*(fails(i) for i in range(24)))
        return {i for i, failed in enumerate(outcomes) if failed}

    first = asyncio.run(failed_calls(seed=7))
    assert first == asyncio.run(failed_calls(seed=7))
    assert 0 < len(first) < 24
    assert first != asyncio.run(failed_calls(seed=8))


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    return int(head[0].split()[1]), await reader.readexactly(int(fields["content-length"]))


def test_one_kept_alive_connection_serves_several_requests() -> None:
    body = b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)

    async def scenario() -> tuple[list[tuple[int, bytes]], int]:
        async with VendorServer() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            replies = [
                await _exchange(
                    reader,
                    writer,
                    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(body), body),
                ),
                await _exchange(
                    reader,
                    writer,
                    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunked,
                ),
                await _exchange(reader, writer, b"GARBAGE\r\n\r\n"),
            ]
            closed = await reader.read() == b""
            writer.close()
            await writer.wait_closed()
            assert closed
            return replies, server.stats.connections

    replies, connections = asyncio.run(scenario())
    assert [status for status, _ in replies] == [200, 200, 400]
    assert b"echo: hi" in replies[0][1] and b"echo: hi" in replies[1][1]
    assert connections == 1


def test_server_process_reports_ready_and_serves_stats() -> None:
    with start_server_process(latency=0.0) as (process, base_url):
        assert process.poll() is None
        stats = fetch_stats(base_url)
    assert stats["requests"] == 0
    assert process.returncode == 0


def test_gemini_replies_streams_and_embeddings_parse_with_the_sdk() -> None:
    from google import genai
    from google.genai import errors as genai_errors
    from google.genai import types

    async def scenario() -> Any:
        async with VendorServer() as server:
            options = types.HttpOptions(base_url=server.base_url)
            client = genai.Client(vertexai=False, api_key="test", http_options=options)
            try:
                reply = await client.aio.models.generate_content(
                    model="gemini-test", contents="[call-g1] hello there"
                )
                chunks = [
                    chunk.text
                    async for chunk in await client.aio.models.generate_content_stream(
                        model="gemini-test", contents="[call-g2] one two"
                    )
                ]
                vectors = await client.aio.models.embed_content(
                    model="embed-test",
                    contents=["a", "b"],
                    config=types.EmbedContentConfig(output_dimensionality=4),
                )
                with pytest.raises(genai_errors.ClientError) as limited:
                    await client.aio.models.generate_content(
                        model="gemini-test", contents="[fault:429] hi"
                    )
            finally:
                await client.aio.aclose()
            return reply, chunks, vectors, limited.value

    reply, chunks, vectors, limited = asyncio.run(scenario())
    assert reply.text == "echo: [call-g1] hello there"
    assert reply.candidates[0].finish_reason == "STOP"
    assert reply.usage_metadata.prompt_token_count == 3
    assert reply.usage_metadata.candidates_token_count == 4
    assert "".join(chunks) == "echo: [call-g2] one two" and len(chunks) == 4
    assert [len(e.values) for e in vectors.embeddings] == [4, 4]
    assert vectors.embeddings[0].values != vectors.embeddings[1].values
    assert (limited.code, limited.status) == (429, "RESOURCE_EXHAUSTED")
