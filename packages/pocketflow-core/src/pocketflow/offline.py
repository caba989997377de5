"""The offline LLM provider: deterministic answers for tests and demos, no network.

It says what it is: its provider name is ``offline`` and every answer it makes up
is labelled. Token counts are word counts. Models:

* ``offline:summarize`` - an extractive summary: the first sentences of the text
  (after a "Summarize ...:" instruction, if any), labelled "[offline summary]".
* ``offline:echo`` - the prompt back, labelled "[offline echo]".
* ``offline:scripted`` - replies from a script: the
  ``reply``/``replies``/``rules`` keys of ``[providers.offline]`` in pocketflow.toml,
  or one set in code with :func:`pocketflow.testing.script_llm`. A scripted reply
  may also be a :class:`~pocketflow.parts.ToolCall` (or a list of them): the model
  asks for those tools.

And one embedding model:

* ``offline:hash`` - deterministic 512-dimensional vectors (``dimensions=`` gives
  other lengths) from a hashed bag of words (lower-cased, common English words left
  out, crudely stemmed: "retries", "retried" and "retry" are one word), normalised to
  length 1: texts sharing words get similar vectors, the same text always the same
  one, in every process. It is no language model: synonyms are not similar. Token
  counts are word counts.

Structured output and tools work offline too. Asked for ``output=``, the
``summarize`` and ``echo`` models answer with JSON made from the schema (every key,
the first choice of each enum, strings from the prompt), so it always validates.
Given ``tools=``, they call every tool once (or the one ``tool_choice`` names), with
arguments made the same way (required ones only), and after the results come back
they answer with them: a tool loop that runs the same every time.

Any other model name is a ConfigError naming these.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pocketflow.capabilities import ALL_PARTS, Capabilities
from pocketflow.errors import ConfigError
from pocketflow.parts import ToolCall, ToolResult
from pocketflow.providers import (
    EmbeddingRequest,
    EmbeddingResponse,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    ProviderSettings,
    Usage,
)

Answer = str | ToolCall | Sequence[ToolCall]
"""What a scripted turn gives: text, or the tool calls the model asks for."""

Reply = (
    str
    | ToolCall
    | Sequence[ToolCall]
    | BaseException
    | Callable[[LLMRequest], Answer | Awaitable[Answer]]
)
"""A scripted reply: text, tool calls, an error to raise, or a function (sync or async)
of the request returning text or tool calls."""

MODELS = ("summarize", "echo", "scripted")
EMBEDDING_MODEL = "hash"
HASH_DIMENSIONS = 512
HASH_BATCH = 256
"""Texts per request of ``offline:hash``: small, so tests see the core split long lists."""
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i if in is it its of on or so "  # noqa: SIM905 - words read better as a line
    "that the their then there these they this to was we were what when where which who why "
    "will with you your".split()
)
_SUFFIXES = ("ing", "ies", "ied", "es", "ed", "s", "y")
SUMMARY_WORDS = 60
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_INSTRUCTION = re.compile(r"^\s*summari[sz]e[^:\n]*:\s*", re.IGNORECASE)


@dataclass
class Script:
    """Scripted replies: ``rules`` (regex -> reply) first, then ``replies`` in turn.

    The last reply repeats once the sequence is used up. ``requests`` records every
    request the script answered, for tests to inspect.
    """

    replies: Sequence[Reply] = ()
    rules: Sequence[tuple[str, Reply]] = ()
    requests: list[LLMRequest] = field(default_factory=list)
    _turn: int = 0

    def answer(self, request: LLMRequest) -> Answer | Awaitable[Answer]:
        """The reply to ``request`` (raising it when it is an error)."""
        self.requests.append(request)
        for pattern, reply in self.rules:
            if re.search(pattern, request.prompt):
                return _resolve(reply, request)
        if not self.replies:
            raise ConfigError(
                "offline:scripted has no script: set reply, replies or rules under "
                "[providers.offline] in pocketflow.toml, or call pocketflow.testing.script_llm()."
            )
        reply = self.replies[min(self._turn, len(self.replies) - 1)]
        self._turn += 1
        return _resolve(reply, request)


def _resolve(reply: Reply, request: LLMRequest) -> Answer | Awaitable[Answer]:
    if isinstance(reply, BaseException):
        raise reply
    if callable(reply) and not isinstance(reply, ToolCall):
        return reply(request)
    return reply


active_script: Script | None = None
"""A script set in code (by ``pocketflow.testing``); it wins over the config file's."""


def summarize(text: str, max_words: int = SUMMARY_WORDS) -> str:
    """The first sentences of ``text`` (after a "Summarize ...:" instruction), about
    ``max_words`` words in all."""
    body = _INSTRUCTION.sub("", text, count=1)
    picked: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(" ".join(body.split())):
        words = len(sentence.split())
        if picked and count + words > max_words:
            break
        picked.append(sentence)
        count += words
    return " ".join(picked)


def _words(text: str) -> int:
    return len(text.split())


def example(schema: Mapping[str, Any], text: str, root: Mapping[str, Any] | None = None) -> Any:
    """A value that fits ``schema``: every property, first enum choices, ``text`` for strings."""
    root = schema if root is None else root
    while "$ref" in schema:
        target: Any = root
        for key in str(schema["$ref"])[2:].split("/"):
            target = target[key]
        schema = target
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for keyword in ("anyOf", "oneOf"):
        if schema.get(keyword):
            branches = [b for b in schema[keyword] if b.get("type") != "null"] or schema[keyword]
            return example(branches[0], text, root)
    if schema.get("allOf"):
        return example(schema["allOf"][0], text, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        return {key: example(sub, text, root) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        prefix = schema.get("prefixItems", [])
        items: Mapping[str, Any] = (
            schema["items"] if isinstance(schema.get("items"), Mapping) else {}
        )
        return [example(prefix[i] if i < len(prefix) else items, text, root) for i in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    value = text
    if len(value) > schema.get("maxLength", len(value)):
        value = value[: schema["maxLength"]]
    return value.ljust(schema.get("minLength", 0), ".")


def hash_vector(text: str, dimensions: int = HASH_DIMENSIONS) -> list[float]:
    """``text`` as a bag of words hashed into ``dimensions`` buckets, normalised.

    Each lower-cased word adds 1 to its bucket: the same words give the same vector in
    every process (blake2b, not Python's salted ``hash``), and texts that share words
    have a cosine similarity above 0.
    """
    counts: dict[int, float] = {}
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        digest = hashlib.blake2b(_stem(word).encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest, "big") % dimensions
        counts[bucket] = counts.get(bucket, 0.0) + 1.0
    vector = [0.0] * dimensions
    norm = math.sqrt(sum(count * count for count in counts.values()))
    for bucket, count in counts.items():  # only the words' buckets: the rest stay 0
        vector[bucket] = count / norm
    return vector


def _stem(word: str) -> str:
    """``word`` without one common suffix ("retries", "retried", "retry" -> "retr")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _pending_results(request: LLMRequest) -> list[ToolResult]:
    """The tool results of the last turn, if it is one."""
    if not request.messages or isinstance(request.messages[-1].content, str):
        return []
    return [p for p in request.messages[-1].content if isinstance(p, ToolResult)]


_HASH_CAPABILITIES = Capabilities(
    embeddings=True, max_embedding_inputs=HASH_BATCH, embedding_dimensions=HASH_DIMENSIONS
)


class OfflineLLM(LLMProvider):
    """Deterministic, local answers; see the module docstring for its models."""

    capabilities = Capabilities(structured_output="json_schema", tools=True, parts=ALL_PARTS)
    settings_types: dict[str, type | tuple[type, ...]] = {
        "reply": str,
        "replies": list,
        "rules": dict,
    }

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        extra = settings.extra
        replies: list[Reply] = list(extra.get("replies", []))
        if "reply" in extra:
            replies.append(extra["reply"])
        self.config_script = Script(replies=replies, rules=list(extra.get("rules", {}).items()))

    def capabilities_for(self, model: str) -> Capabilities:
        """The chat models' capabilities; ``hash`` makes embeddings (and only that)."""
        if model == EMBEDDING_MODEL:
            return _HASH_CAPABILITIES
        return self.capabilities

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """Hashed bag-of-words vectors for ``offline:hash`` (see the module docstring)."""
        if request.model != EMBEDDING_MODEL:
            raise ConfigError(
                f"{self.name}:{request.model} is not an offline embedding model: the offline "
                f"provider embeds with {self.name}:{EMBEDDING_MODEL} only."
            )
        dimensions = request.dimensions or HASH_DIMENSIONS
        return EmbeddingResponse(
            vectors=[hash_vector(text, dimensions) for text in request.texts],
            model=request.model,
            provider=self.name,
            usage=Usage(input_tokens=sum(_words(text) for text in request.texts)),
        )

    def _answer(self, request: LLMRequest) -> Answer | Awaitable[Answer]:
        if request.model in ("summarize", "summary", "echo"):
            return self._made_up(request)
        if request.model != "scripted":
            raise ConfigError(
                f"{self.name}:{request.model} is not an offline model. The offline models are "
                f"{', '.join(MODELS)}: {self.name}:summarize (the first sentences), "
                f"{self.name}:echo (the prompt back), {self.name}:scripted (replies set with "
                f"reply, replies or rules under [providers.{self.name}]); "
                f"{self.name}:{EMBEDDING_MODEL} makes embeddings (embed_async), not answers."
            )
        script = active_script or self.config_script
        return script.answer(request)

    def _made_up(self, request: LLMRequest) -> Answer:
        prompt = request.prompt
        results = _pending_results(request)
        if request.tools and request.tool_choice != "none" and not results:
            return self._tool_calls(request, prompt)
        if results:
            prompt = " ".join(result.content for result in results)
        if request.output is not None:
            label = " ".join(f"[offline] {prompt}".split()[:24])
            return json.dumps(example(request.output.schema, label))
        if request.model == "echo":
            return f"[offline echo] {prompt}"
        return f"[offline summary] {summarize(prompt)}"

    def _tool_calls(self, request: LLMRequest, prompt: str) -> list[ToolCall]:
        chosen = [t for t in request.tools if t.name == request.tool_choice] or list(request.tools)
        turn = sum(1 for m in request.messages if m.role == "assistant")
        words = " ".join(prompt.split()[:12])
        calls = []
        for index, spec in enumerate(chosen):
            required = spec.parameters.get("required", ())
            arguments = example(spec.parameters, words)  # optional ones keep their defaults
            arguments = {key: value for key, value in arguments.items() if key in required}
            calls.append(ToolCall(f"offline_call_{turn}_{index}", spec.name, arguments))
        return calls

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer ``request`` locally."""
        answer = self._answer(request)
        if inspect.isawaitable(answer):
            answer = await answer
        calls: list[ToolCall] = []
        if isinstance(answer, ToolCall):
            calls = [answer]
        elif not isinstance(answer, str):
            calls = list(answer)
        text = answer if isinstance(answer, str) else ""
        prompt_words = sum(_words(m.text) for m in request.messages)
        prompt_words += _words(request.system or "")
        return LLMResponse(
            text=text,
            model=request.model,
            provider=self.name,
            usage=Usage(input_tokens=prompt_words, output_tokens=_words(text) + len(calls)),
            finish_reason="tool_calls" if calls else "stop",
            request_id=None,
            tool_calls=calls,
        )

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMResponse]:
        """Yield the answer word by word, then the response."""
        response = await self.complete(request)
        if response.text:
            for index, word in enumerate(response.text.split(" ")):
                yield word if index == 0 else f" {word}"
        yield response
