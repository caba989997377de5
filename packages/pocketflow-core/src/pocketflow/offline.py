"""The offline LLM provider: deterministic answers for tests and demos, no network.

It says what it is: its provider name is ``offline`` and every answer it makes up
is labelled. Token counts are word counts. Models:

* ``offline:summarize`` - an extractive summary: the first sentences of the text
  (after a "Summarize ...:" instruction, if any), labelled "[offline summary]".
* ``offline:echo`` - the prompt back, labelled "[offline echo]".
* ``offline:scripted`` - replies from a script: the
  ``reply``/``replies``/``rules`` keys of ``[providers.offline]`` in pocketflow.toml,
  or one set in code with :func:`pocketflow.testing.script_llm`.

Any other model name is a ConfigError naming these three.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from pocketflow.errors import ConfigError
from pocketflow.providers import LLMProvider, LLMRequest, LLMResponse, ProviderSettings, Usage

Reply = str | BaseException | Callable[[LLMRequest], str | Awaitable[str]]
"""A scripted reply: text, an error to raise, or a function (sync or async) of the request."""

MODELS = ("summarize", "echo", "scripted")
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

    def answer(self, request: LLMRequest) -> str | Awaitable[str]:
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


def _resolve(reply: Reply, request: LLMRequest) -> str | Awaitable[str]:
    if isinstance(reply, BaseException):
        raise reply
    if callable(reply):
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


class OfflineLLM(LLMProvider):
    """Deterministic, local answers; see the module docstring for its models."""

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

    def _text(self, request: LLMRequest) -> str | Awaitable[str]:
        if request.model in ("summarize", "summary"):
            return f"[offline summary] {summarize(request.prompt)}"
        if request.model == "echo":
            return f"[offline echo] {request.prompt}"
        if request.model != "scripted":
            raise ConfigError(
                f"{self.name}:{request.model} is not an offline model. The offline models are "
                f"{', '.join(MODELS)}: {self.name}:summarize (the first sentences), "
                f"{self.name}:echo (the prompt back), {self.name}:scripted (replies set with "
                f"reply, replies or rules under [providers.{self.name}])."
            )
        script = active_script or self.config_script
        return script.answer(request)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer ``request`` locally."""
        text = self._text(request)
        if inspect.isawaitable(text):
            text = await text
        prompt_words = sum(_words(m.content) for m in request.messages)
        prompt_words += _words(request.system or "")
        return LLMResponse(
            text=text,
            model=request.model,
            provider=self.name,
            usage=Usage(input_tokens=prompt_words, output_tokens=_words(text)),
            finish_reason="stop",
            request_id=None,
        )

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMResponse]:
        """Yield the answer word by word, then the response."""
        response = await self.complete(request)
        for index, word in enumerate(response.text.split(" ")):
            yield word if index == 0 else f" {word}"
        yield response
