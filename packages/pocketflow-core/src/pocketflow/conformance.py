"""The provider conformance suite: one set of tests every LLM plugin passes.

It checks a provider through the public facades against mocked vendor HTTP:
request mapping (system, messages, images, tools, schema), response parsing (text,
usage, finish reason, tool calls, structured output), errors (auth, rate limits
retried, bad requests not retried, malformed replies), streaming (text, usage,
tool calls, structured output) and the round trips (a two-tool loop, a structured
reply asked for again). A plugin describes its vendor's wire format once, in a
:class:`VendorWire`, and runs the suite by subclassing :class:`ProviderConformance`
in its tests::

    from pocketflow.testing import ProviderConformance, VendorWire

    class MyWire(VendorWire):
        model = "myvendor:small"
        url = "https://api.myvendor.example/v1/chat"
        ...  # the replies the API sends and what a request body holds

    class TestMyVendorConformance(ProviderConformance):
        wire = MyWire()

Needs pytest and respx (``pocketflow-core[testing]``).
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pytest

from pocketflow import call_llm_async, complete_async, stream_llm_async, track_usage
from pocketflow.errors import (
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
)
from pocketflow.parts import ImagePart, TextPart, ToolCall
from pocketflow.testing import fake_clock, mock_vendor_http, run_and_close

SECRET = "sk-conformance-0123456789abcdef"
"""The API key the suite configures; no error message may contain it."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message as a request body holds it, in neutral terms: for the suite's checks.

    ``tool_calls`` the assistant's calls in it; ``tool_results`` (call id, content)
    pairs; ``images`` how many images it holds.
    """

    role: str
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[tuple[str, str], ...] = ()
    images: int = 0


class VendorWire(ABC):
    """A vendor's HTTP API as the suite needs to know it: what it sends back, and how
    to read a request body. ``model`` is the "provider:model" the suite calls."""

    model: ClassVar[str]
    url: ClassVar[str]
    key_variable: ClassVar[str]
    """The environment variable the provider reads its key from."""
    url_pattern: ClassVar[str | None] = None
    """A regular expression every request URL matches, when calls go to more than one
    URL (Gemini streams from ``...:streamGenerateContent``); None: ``url`` only."""

    def configure(self, env: pytest.MonkeyPatch) -> None:
        """Set up the environment so ``model`` is usable (by default: the key)."""
        env.setenv(self.key_variable, SECRET)

    # --- replies ---------------------------------------------------------------------------

    @abstractmethod
    def text_reply(self, text: str, *, input_tokens: int, output_tokens: int) -> Any:
        """A whole reply (its JSON) answering ``text``, with that usage."""

    @abstractmethod
    def tool_call_reply(self, calls: Sequence[ToolCall]) -> Any:
        """A whole reply asking for ``calls``."""

    @abstractmethod
    def structured_reply(self, value: Mapping[str, Any], body: Mapping[str, Any]) -> Any:
        """A whole reply giving ``value`` as the structured output ``body`` asked for."""

    @abstractmethod
    def stream_reply(
        self, chunks: Sequence[str], *, input_tokens: int, output_tokens: int
    ) -> bytes:
        """A streamed reply (the raw event-stream bytes) of ``chunks`` of text."""

    @abstractmethod
    def stream_tool_call_reply(self, calls: Sequence[ToolCall]) -> bytes:
        """A streamed reply asking for ``calls``."""

    @abstractmethod
    def error_reply(self, status: int, message: str) -> Any:
        """The JSON error body the API sends with ``status``."""

    def stream_headers(self) -> dict[str, str]:
        """Headers of a streamed reply."""
        return {"content-type": "text/event-stream"}

    # --- reading requests ------------------------------------------------------------------

    @abstractmethod
    def sent_messages(self, body: Mapping[str, Any]) -> list[SentMessage]:
        """The conversation a request body holds, the system prompt first (role "system")."""

    @abstractmethod
    def sent_tools(self, body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        """The tools a request offers (the user's, not one the provider adds for
        structured output): name -> parameters schema."""

    @abstractmethod
    def sent_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The JSON schema a request asks the output to fit (None: none asked)."""

    @abstractmethod
    def sent_streaming(self, body: Mapping[str, Any]) -> bool:
        """Whether the request asks for a stream."""


# --- what the suite calls with ----------------------------------------------------------------


@dataclass
class Verdict:
    """Whether a claim holds."""

    claim: str
    holds: bool
    confidence: float
    kind: Literal["fact", "opinion"] = "fact"


def lookup_population(city: str) -> int:
    """How many people live in a city.

    Args:
        city: the city's name
    """
    return {"Paris": 2_100_000}.get(city, 0)


async def local_time(city: str, twenty_four_hour: bool = True) -> str:
    """The local time in a city."""
    await asyncio.sleep(0)
    return f"12:00 in {city}" if twenty_four_hour else f"noon in {city}"


PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class WireSuite:
    """What a conformance suite against one mocked vendor route needs: the request bodies
    the route received, and a coroutine run to its end with the clients closed after."""

    route: Any

    def _bodies(self) -> list[dict[str, Any]]:
        return [json.loads(call.request.content) for call in self.route.calls]

    _run = staticmethod(run_and_close)


class ProviderConformance(WireSuite):
    """The suite: subclass it as ``Test<Vendor>Conformance`` with ``wire = <VendorWire>()``."""

    wire: ClassVar[VendorWire]

    @pytest.fixture(autouse=True)
    def _vendor(self, pocketflow_env: pytest.MonkeyPatch) -> Iterator[Any]:
        self.wire.configure(pocketflow_env)
        with mock_vendor_http() as http, fake_clock():
            if self.wire.url_pattern is not None:
                self.route = http.post(url__regex=self.wire.url_pattern)
            else:
                self.route = http.post(self.wire.url)
            yield http

    def _reply(self, *bodies: Any, status: int = 200) -> None:
        import httpx

        self.route.side_effect = [
            body if isinstance(body, httpx.Response) else httpx.Response(status, json=body)
            for body in bodies
        ]

    def _stream(self, *payloads: bytes) -> None:
        import httpx

        headers = self.wire.stream_headers()
        self.route.side_effect = [httpx.Response(200, content=p, headers=headers) for p in payloads]

    # --- request mapping and response parsing ----------------------------------------------

    def test_text_request_and_reply(self) -> None:
        self._reply(self.wire.text_reply("Bonjour.", input_tokens=11, output_tokens=2))
        response = self._run(
            complete_async(
                [{"role": "user", "content": "Say hello"}, {"role": "assistant", "content": "Hi"},
                 {"role": "user", "content": "In French"}],
                model=self.wire.model, system="Be brief.",
            )
        )  # fmt: skip
        assert response.text == "Bonjour."
        assert (response.usage.input_tokens, response.usage.output_tokens) == (11, 2)
        assert response.tool_calls == []
        sent = self.wire.sent_messages(self._bodies()[0])
        assert [(m.role, m.text) for m in sent] == [
            ("system", "Be brief."), ("user", "Say hello"), ("assistant", "Hi"),
            ("user", "In French"),
        ]  # fmt: skip

    def test_usage_is_counted(self) -> None:
        self._reply(self.wire.text_reply("ok", input_tokens=7, output_tokens=3))
        with track_usage() as usage:
            self._run(call_llm_async("Hi", model=self.wire.model))
        assert (usage.calls, usage.input_tokens, usage.output_tokens) == (1, 7, 3)

    def test_images_are_sent(self) -> None:
        self._reply(self.wire.text_reply("A pixel.", input_tokens=5, output_tokens=2))
        content = [TextPart("What is this?"), ImagePart.from_bytes(PIXEL, "image/png")]
        answer = self._run(
            call_llm_async([{"role": "user", "content": content}], model=self.wire.model)
        )
        assert answer == "A pixel."
        user = self.wire.sent_messages(self._bodies()[0])[-1]
        assert (user.role, user.text, user.images) == ("user", "What is this?", 1)

    # --- errors ----------------------------------------------------------------------------

    def test_authentication_error_is_not_retried_and_hides_the_key(self) -> None:
        self._reply(self.wire.error_reply(401, "invalid x-api-key"), status=401)
        with pytest.raises(AuthenticationError) as caught:
            self._run(call_llm_async("Hi", model=self.wire.model))
        assert self.route.call_count == 1
        assert SECRET not in str(caught.value)

    def test_rate_limit_is_retried(self) -> None:
        import httpx

        limited = httpx.Response(429, json=self.wire.error_reply(429, "slow down"))
        self._reply(limited, self.wire.text_reply("ok", input_tokens=1, output_tokens=1))
        assert self._run(call_llm_async("Hi", model=self.wire.model)) == "ok"
        assert self.route.call_count == 2

    def test_bad_request_is_not_retried(self) -> None:
        self._reply(self.wire.error_reply(400, "bad field"), status=400)
        with pytest.raises(BadRequestError, match="bad field"):
            self._run(call_llm_async("Hi", model=self.wire.model, max_retries=2))
        assert self.route.call_count == 1

    def test_a_reply_that_is_not_json_is_malformed(self) -> None:
        import httpx

        self._reply(httpx.Response(200, content=b"<html>oops</html>"))
        with pytest.raises(MalformedResponseError):
            self._run(call_llm_async("Hi", model=self.wire.model, max_retries=0))

    # --- structured output -----------------------------------------------------------------

    def test_structured_output_round_trip(self) -> None:
        value = {"claim": "Water is wet", "holds": True, "confidence": 0.9, "kind": "fact"}
        self.route.side_effect = lambda request: _json(
            self.wire.structured_reply(value, json.loads(request.content))
        )
        verdict = self._run(call_llm_async("Is water wet?", model=self.wire.model, output=Verdict))
        assert verdict == Verdict("Water is wet", True, 0.9, "fact")
        schema = self.wire.sent_schema(self._bodies()[0])
        assert schema is not None
        assert set(schema["properties"]) == {"claim", "holds", "confidence", "kind"}

    def test_a_structured_reply_that_does_not_fit_is_asked_for_again(self) -> None:
        first: dict[str, Any] = {"claim": "x"}
        replies = iter([first, {"claim": "x", "holds": False, "confidence": 0.1}])
        self.route.side_effect = lambda request: _json(
            self.wire.structured_reply(next(replies), json.loads(request.content))
        )
        verdict = self._run(call_llm_async("Is it?", model=self.wire.model, output=Verdict))
        assert verdict == Verdict("x", False, 0.1)
        retry = self.wire.sent_messages(self._bodies()[1])
        assert retry[-1].role == "user" and "'holds' is missing" in retry[-1].text

    def test_streamed_structured_output(self) -> None:
        text = json.dumps({"claim": "c", "holds": True, "confidence": 1})
        self._stream(
            self.wire.stream_reply([text[:10], text[10:]], input_tokens=3, output_tokens=9)
        )

        async def scenario() -> Any:
            stream = stream_llm_async("Is it?", model=self.wire.model, output=Verdict)
            assert "".join([chunk async for chunk in stream]) == text
            assert stream.response is not None
            return stream.response.output

        assert self._run(scenario()) == Verdict("c", True, 1.0)

    # --- tools -----------------------------------------------------------------------------

    def test_tools_are_offered_with_their_schemas(self) -> None:
        self._reply(
            self.wire.tool_call_reply([ToolCall("call_1", "lookup_population", {"city": "Paris"})])
        )
        response = self._run(
            complete_async("How many live in Paris?", model=self.wire.model,
                           tools=[lookup_population, local_time])
        )  # fmt: skip
        assert response.tool_calls == [ToolCall("call_1", "lookup_population", {"city": "Paris"})]
        tools = self.wire.sent_tools(self._bodies()[0])
        assert set(tools) == {"lookup_population", "local_time"}
        assert tools["lookup_population"]["required"] == ["city"]

    def test_two_tool_loop_round_trip(self) -> None:
        calls = [
            ToolCall("call_1", "lookup_population", {"city": "Paris"}),
            ToolCall("call_2", "local_time", {"city": "Paris"}),
        ]
        self._reply(
            self.wire.tool_call_reply(calls),
            self.wire.text_reply("2.1 million; it is noon.", input_tokens=30, output_tokens=8),
        )
        answer = self._run(
            call_llm_async("Paris?", model=self.wire.model, tools=[lookup_population, local_time])
        )
        assert answer == "2.1 million; it is noon."
        second = self.wire.sent_messages(self._bodies()[1])
        assistant = next(m for m in second if m.tool_calls)
        assert assistant.role == "assistant" and list(assistant.tool_calls) == calls
        results = [r for m in second for r in m.tool_results]
        assert results == [("call_1", "2100000"), ("call_2", "12:00 in Paris")]

    def test_streamed_tool_calls(self) -> None:
        calls = [ToolCall("call_9", "local_time", {"city": "Oslo", "twenty_four_hour": False})]
        self._stream(self.wire.stream_tool_call_reply(calls))

        async def scenario() -> Any:
            stream = stream_llm_async("Time in Oslo?", model=self.wire.model, tools=[local_time])
            chunks = [chunk async for chunk in stream]
            assert stream.response is not None
            return chunks, stream.response.tool_calls

        chunks, received = self._run(scenario())
        assert "".join(chunks) == "" and received == calls
        assert self.wire.sent_streaming(self._bodies()[0])

    # --- streaming -------------------------------------------------------------------------

    def test_streamed_text_and_usage(self) -> None:
        self._stream(self.wire.stream_reply(["Hel", "lo."], input_tokens=4, output_tokens=2))

        async def scenario() -> Any:
            stream = stream_llm_async("Hi", model=self.wire.model)
            chunks = [chunk async for chunk in stream]
            return chunks, stream.response

        chunks, response = self._run(scenario())
        assert chunks == ["Hel", "lo."]
        assert response.text == "Hello."
        assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 2)


def _json(body: Any) -> Any:
    import httpx

    return httpx.Response(200, json=body)
