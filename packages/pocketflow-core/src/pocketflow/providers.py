"""What a plugin implements: the LLM provider, file reader and feedback provider bases.

A provider object is cheap to create and imports no vendor SDK; it builds its vendor
client on first use (one per event loop, see :class:`PerLoop`) and releases it in
:meth:`aclose`. Every method that talks to the outside world is ``async``: pluggy
hooks only *register* these objects, the core's facades await them.
"""

from __future__ import annotations

import asyncio
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pocketflow.capabilities import TEXT_ONLY, Capabilities, OutputFormat, ToolChoice, ToolSpec
from pocketflow.parts import Part, TextPart, ToolCall, VendorPart

if TYPE_CHECKING:
    from pocketflow.errors import ConfigError

# --- LLM requests and responses ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message: ``role`` is "system", "user" or "assistant".

    ``content`` is a string, or a sequence of parts (:mod:`pocketflow.parts`: text,
    images, tool calls, tool results), kept as a tuple.
    """

    role: str
    content: str | tuple[Part, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.content, (str, tuple)):
            object.__setattr__(self, "content", tuple(self.content))

    @property
    def text(self) -> str:
        """The message's text: the string, or its text parts joined."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, TextPart))

    @property
    def parts(self) -> tuple[Part, ...]:
        """The content as parts (a string is one text part)."""
        if isinstance(self.content, str):
            return (TextPart(self.content),)
        return self.content


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """A provider-neutral LLM request; each plugin maps it onto its vendor's API.

    ``model`` is the model name without the provider prefix. ``options`` holds extra
    vendor parameters that are passed through unchanged. ``output`` asks for
    structured output (how: the provider's ``capabilities_for(model)``); ``tools``
    are the tools the model may call, ``tool_choice`` whether it must.
    """

    model: str
    messages: tuple[Message, ...]
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    output: OutputFormat | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = None

    @property
    def prompt(self) -> str:
        """The text of the last user message (what offline providers answer)."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""


@dataclass(slots=True)
class Usage:
    """Tokens a call consumed, as the vendor reported them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class LLMResponse:
    """A finished LLM call: the text and everything known about how it went.

    ``provider`` and ``model`` name who actually answered (a fallback may differ from
    the model asked for). ``latency`` is seconds from the first attempt to the answer;
    ``attempts`` counts tries including retries. ``tool_calls`` are the tools the
    model asked to call; ``output`` the validated structured output, when a type or
    schema was asked for. ``request_id`` is the vendor's id of the HTTP request (for
    support tickets), ``response_id`` its id of the answer. ``cost`` is the estimated
    price in US dollars (:mod:`pocketflow.cost`), None when unknown; a provider may
    set it from its vendor's own figure, which the user's ``[prices]`` overrule.
    """

    text: str
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    request_id: str | None = None
    latency: float = 0.0
    attempts: int = 1
    tool_calls: list[ToolCall] = field(default_factory=list)
    output: Any = None
    vendor_parts: list[VendorPart] = field(default_factory=list)
    """Blocks of the reply only its vendor understands (thinking), sent back in a tool loop."""
    response_id: str | None = None
    cost: float | None = None


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """Texts to turn into vectors, at most the provider's ``max_embedding_inputs``.

    ``model`` is the embedding model without the provider prefix; ``dimensions`` asks
    for shorter vectors where the model allows it; ``options`` holds extra vendor
    parameters passed through unchanged.
    """

    model: str
    texts: tuple[str, ...]
    dimensions: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EmbeddingResponse:
    """Vectors in the order of the request's texts, and what they cost.

    ``provider`` and ``model`` name who answered; ``usage.input_tokens`` counts the
    tokens embedded (0 when the vendor does not say); ``latency`` and ``attempts`` as
    for :class:`LLMResponse`.
    """

    vectors: list[list[float]]
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    latency: float = 0.0
    attempts: int = 1


# --- settings handed to providers -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """The configuration of one named provider, as the config layer resolved it.

    ``name`` is what users write before the colon (``deepseek``); ``kind`` is the
    registered implementation (``openai``). ``extra`` holds the settings the
    implementation declared at registration, already type-checked.
    """

    name: str
    kind: str
    base_url: str | None = None
    api_key_env: str | None = None
    timeout: float = 120.0
    max_concurrency: int = 64
    requests_per_minute: float | None = None
    max_retries: int = 4
    headers: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    config_path: Path | None = None

    def config_error(self, key: str, problem: str) -> ConfigError:
        """A ConfigError naming the config file, ``[providers.<name>]`` and ``key``."""
        return _config_error(self.config_path, f"providers.{self.name}", key, problem)

    def api_key(self, default_env: str, environ: Mapping[str, str] | None = None) -> str:
        """The API key from ``api_key_env`` (or ``default_env``); raises MissingKeyError."""
        import os

        from pocketflow.errors import MissingKeyError

        variable = self.api_key_env or default_env
        key = (environ if environ is not None else os.environ).get(variable, "")
        if not key:
            raise MissingKeyError(self.name, variable)
        return key


@dataclass(frozen=True, slots=True)
class ComponentSettings:
    """Settings of a file reader or feedback provider: its name, argument and options.

    ``argument`` is what follows the colon in ``auto:deny``; ``options`` holds the
    keys of its ``[<section>.<name>]`` table, type-checked against what it declared at
    registration; ``config_path`` is the config file they came from (None: no file),
    for resolving relative paths and, through :meth:`config_error`, naming it in errors.
    """

    name: str
    argument: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    config_path: Path | None = None
    section: str = "readers"

    def config_error(self, key: str, problem: str) -> ConfigError:
        """A ConfigError naming the config file, ``[<section>.<name>]`` and ``key``."""
        return _config_error(self.config_path, f"{self.section}.{self.name}", key, problem)


def _config_error(path: Path | None, table: str, key: str, problem: str) -> ConfigError:
    from pocketflow.errors import ConfigError

    return ConfigError(f"{path or 'no config file'}: [{table}] '{key}' {problem}")


# --- the three provider bases ---------------------------------------------------------------


class LLMProvider(ABC):
    """An LLM vendor. Subclasses implement :meth:`complete` and usually :meth:`stream`.

    They raise the normalised errors of :mod:`pocketflow.errors` and leave retries,
    deadlines, limits and fallbacks to the core's call policy (so an SDK's own retries
    must be turned off). ``capabilities`` declares what they take beyond text (tools,
    images, structured output); the default is text only, with structured output
    asked for in the prompt by the core.
    """

    capabilities: Capabilities = TEXT_ONLY

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings

    def capabilities_for(self, model: str) -> Capabilities:
        """What this provider can do with ``model`` (default: :attr:`capabilities`)."""
        return self.capabilities

    @property
    def name(self) -> str:
        """The provider name users write before the colon."""
        return self.settings.name

    @abstractmethod
    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` and return the whole answer."""

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMResponse]:
        """Yield the answer's text as it arrives, then one final :class:`LLMResponse`.

        The default completes the request and yields it as a single chunk.
        """
        response = await self.complete(request)
        yield response.text
        yield response

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """Return one vector per text of ``request`` (providers whose capabilities say
        ``embeddings=True`` implement this; the default refuses)."""
        from pocketflow.errors import UnsupportedRequestError

        raise UnsupportedRequestError(
            f"provider '{self.name}' does not make embeddings; "
            "choose an embedding model of a provider that does (see `pocketflow models`)"
        )

    def abilities(self) -> tuple[str, ...]:
        """What this provider can do, for ``pocketflow models``: some of "chat", "stream"
        (it streams as the answer arrives), "structured" (vendor-native structured
        output), "tools", "embed". Derived from :attr:`capabilities` and the methods a
        subclass overrides; a provider whose models differ may override it."""
        kind = type(self)
        found = ["chat"]
        if kind.stream is not LLMProvider.stream:
            found.append("stream")
        if self.capabilities.structured_output != "prompt":
            found.append("structured")
        if self.capabilities.tools:
            found.append("tools")
        if kind.embed is not LLMProvider.embed or self.capabilities.embeddings:
            found.append("embed")
        return tuple(found)

    async def aclose(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release vendor clients and their connection pools."""


class FileReader(ABC):
    """Reads the text behind a path or URL for the schemes it was registered for."""

    def __init__(self, settings: ComponentSettings) -> None:
        self.settings = settings

    @abstractmethod
    async def read(self, location: str, *, encoding: str | None = None) -> str:
        """Return the text at ``location``; raise FileReadError naming it and the reason."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release clients or handles."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """A feedback provider's verdict: ``decision`` ("approve"/"deny") and why."""

    decision: str
    provider: str
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    """What :func:`~pocketflow.request_feedback` asks: the content and how to ask it.

    ``audience`` says who may answer (free text, shown to reviewers); ``expires_in``
    (seconds) and ``default`` say what happens when nobody answers in time. Providers
    that answer at once (console, auto) may ignore them.
    """

    content: str
    audience: str | None = None
    expires_in: float | None = None
    default: str | None = None


class FeedbackProvider(ABC):
    """Judges content: a person at a terminal, a scripted answer, an LLM judge."""

    def __init__(self, settings: ComponentSettings) -> None:
        self.settings = settings

    @abstractmethod
    async def review(self, content: str) -> Feedback:
        """Return the verdict on ``content``."""

    async def ask(self, request: FeedbackRequest) -> Feedback:
        """Return the verdict on ``request``; by default :meth:`review` of its content."""
        return await self.review(request.content)

    async def aclose(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release anything held."""


# --- registration callbacks handed to hooks -----------------------------------------------

SettingTypes = Mapping[str, type | tuple[type, ...]]
"""Extra settings a component accepts: key -> expected type(s), checked on load."""

LLMProviderFactory = Callable[[ProviderSettings], LLMProvider]
FileReaderFactory = Callable[[ComponentSettings], FileReader]
FeedbackProviderFactory = Callable[[ComponentSettings], FeedbackProvider]

T = TypeVar("T")


class PerLoop(Generic[T]):
    """One value per running event loop, made on first use: a vendor client, say.

    A client and its connection pool belong to the loop they were made on, so each
    loop gets its own, and every call on that loop reuses it.
    """

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        """The value for the running loop, made now if this loop has none."""
        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is None:
            value = self._values[loop] = self._make()
        return value

    def pop_current(self) -> T | None:
        """Forget and return the running loop's value, if it has one."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._values.pop(loop, None)

    def loops(self) -> list[asyncio.AbstractEventLoop]:
        """The loops that have a value now."""
        return list(self._values.keys())

    async def aclose(self, close: Callable[[T], Awaitable[Any]]) -> None:
        """Close the running loop's value with ``close``.

        Values of other loops are left to be closed on their own loop (the core's
        runtime calls ``aclose`` on each loop it served); a loop that is garbage
        collected takes its value with it.
        """
        value = self.pop_current()
        if value is not None:
            await close(value)


def first_set_variable(
    variables: Sequence[str], environ: Mapping[str, str] | None = None
) -> str | None:
    """The first of ``variables`` set (to something) in ``environ`` (default: the
    process's); None when none is. A key read from the first of several variables, as
    GEMINI_API_KEY then GOOGLE_API_KEY, and ``pocketflow models`` reporting it, agree."""
    import os

    env = os.environ if environ is None else environ
    return next((variable for variable in variables if env.get(variable)), None)


def first_line(text: str, limit: int = 200) -> str:
    """The first line of ``text``, cut to ``limit`` characters: for error messages."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


__all__: Sequence[str] = (
    "Capabilities",
    "ComponentSettings",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "Feedback",
    "FeedbackProvider",
    "FeedbackProviderFactory",
    "FileReader",
    "FileReaderFactory",
    "LLMProvider",
    "LLMProviderFactory",
    "LLMRequest",
    "LLMResponse",
    "Message",
    "PerLoop",
    "ProviderSettings",
    "SettingTypes",
    "Usage",
)
