"""The live objects behind the facades: configuration plus plugins, resolved.

A :class:`Runtime` turns a model string into a provider instance (made once and
reused, so its vendor client and connection pool are too), finds the reader for a
path or URL and the feedback provider by name. :func:`current_runtime` keeps one per
configuration: changing ``POCKETFLOW_LLM`` or the working directory gives a fresh one,
and the one it replaces is closed (its clients and connection pools, each on the
event loop it was made on). A new runtime makes the default model's provider
(importing its vendor SDK) on a background thread, so the first call does not wait
for the import.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketflow import observers
from pocketflow.config import (
    ENV_CONFIG,
    ENV_EMBEDDING,
    ENV_FEEDBACK,
    ENV_LLM,
    Config,
    check_options,
)
from pocketflow.config import load_config as _load_config
from pocketflow.config import provider_settings as _provider_settings
from pocketflow.errors import ConfigError, PocketFlowError, ProviderNotFoundError
from pocketflow.install_hints import did_you_mean, install_hint
from pocketflow.plugins import PluginManager, Registration, get_plugin_manager
from pocketflow.policy import ProviderGate, RetryPolicy
from pocketflow.providers import (
    ComponentSettings,
    FeedbackProvider,
    FileReader,
    LLMProvider,
    ProviderSettings,
)

DEFAULT_FEEDBACK = "console"
OFFLINE_HINT = "POCKETFLOW_LLM=offline:summarize"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model string resolved: the provider name, the model name, and what was asked."""

    provider: str
    model: str
    requested: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


@dataclass(slots=True)
class LiveProvider:
    """A provider instance with its settings, its retry policy and its limits."""

    provider: LLMProvider
    settings: ProviderSettings
    policy: RetryPolicy
    gate: ProviderGate


class Runtime:
    """Configuration and plugins, with the provider instances made from them."""

    def __init__(self, config: Config, plugins: PluginManager) -> None:
        self.config = config
        self.plugins = plugins
        self.observes_calls = plugins.observes_calls()
        self._providers: dict[str, LiveProvider] = {}
        self._readers: dict[str, FileReader] = {}
        self._feedback: dict[str, FeedbackProvider] = {}
        self._lock = threading.Lock()
        self._loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self.warming: threading.Thread | None = None
        """The thread making the default model's provider (see :meth:`warm_up`), if any."""
        self.warmed: set[str] = set()
        """Providers made by :meth:`warm_up`."""

    def warm_up(self) -> None:
        """Make the configured default model's provider on a background thread.

        Making a vendor provider imports its SDK (seconds for some), so doing it now,
        while the program reads files or builds its flow, spares the first call the wait.
        A call that comes first waits for it (the same lock), and any error is left
        for that call to raise.
        """
        try:
            name = self.resolve(None).provider if self.config.llm else None
        except PocketFlowError:
            return
        if name is None or name in self._providers:
            return

        def make() -> None:
            try:
                self.provider(name)
            except Exception:  # the first real call reports it, with its context
                return
            self.warmed.add(name)

        self.warming = threading.Thread(target=make, name="pocketflow-warm-up", daemon=True)
        self.warming.start()

    # --- models -------------------------------------------------------------------------

    def resolve(self, model: str | None) -> ModelRef:
        """The provider and model for ``model``, the configured default when None."""
        requested = model if model is not None else self.config.llm
        if not requested:
            raise ConfigError(self._nothing_configured())
        target, seen = requested, {requested}
        while target in self.config.aliases:
            target = self.config.aliases[target]
            if target in seen:
                raise ConfigError(f"{self.config.where}: alias '{requested}' loops back to itself.")
            seen.add(target)
        provider, colon, name = target.partition(":")
        if not colon or not provider or not name:
            raise ConfigError(
                f"'{target}' is not a model string: write it as provider:model, e.g. "
                f"'openai:gpt-4o-mini' or 'anthropic:claude-haiku-4-5'. Installed providers: "
                f"{self._installed()}.{self._alias_hint()}"
            )
        return ModelRef(provider, name, requested)

    def provider(self, name: str) -> LiveProvider:
        """The live provider ``name`` (made on first use)."""
        live = self._providers.get(name)
        if live is None:
            with self._lock:
                live = self._providers.get(name)
                if live is None:
                    live = self._providers[name] = self._make_provider(name)
        return live

    def _make_provider(self, name: str) -> LiveProvider:
        table = self.config.providers.get(name, {})
        kind = table.get("kind", name)
        registration = self.plugins.llm_providers.get(kind)
        if registration is None:
            raise ProviderNotFoundError(self._not_installed(name, table, kind))
        settings = _provider_settings(name, kind, self.config, registration.settings)
        policy = RetryPolicy(max_retries=settings.max_retries, timeout=settings.timeout)
        provider = registration.factory(settings)
        return LiveProvider(provider, settings, policy, ProviderGate(settings))

    def _not_installed(self, name: str, table: Any, kind: str) -> str:
        """Why provider ``name`` (of ``kind``) cannot be made, and the fix."""
        kinds = sorted(self.plugins.llm_providers)
        where = f"{self.config.where}: [providers.{name}]"
        if table and "kind" not in table:
            return (
                f"{where} has no kind, and no installed plugin registers a provider named "
                f"'{name}'. Say what it is an instance of: kind = \"openai\" for an "
                f"OpenAI-compatible endpoint (with base_url), or one of the installed kinds: "
                f"{', '.join(kinds) or 'none'}."
            )
        guess = did_you_mean(kind, kinds)
        hint = install_hint(kind)
        if "kind" in table:
            return (
                f'{where} kind = "{kind}" names no installed provider.{guess} Installed '
                f"kinds: {', '.join(kinds) or 'none'}.{' ' + hint if hint else ''}"
            )
        return (
            f"No LLM provider '{kind}' is installed.{guess} Installed providers: "
            f"{self._installed()}. {hint or 'Install the plugin that provides it,'} or define "
            f'it in pocketflow.toml as [providers.{kind}] with kind = "openai" and a base_url '
            f"for an OpenAI-compatible endpoint."
        )

    def _installed(self) -> str:
        names = sorted({*self.plugins.llm_providers, *self.config.providers})
        return ", ".join(names) or "none"

    def _alias_hint(self) -> str:
        if not self.config.aliases:
            return ""
        return f" Aliases: {', '.join(sorted(self.config.aliases))}."

    def _nothing_configured(self) -> str:
        return (
            f"No LLM is configured. Installed providers: {self._installed()}. Choose one with "
            f"an environment variable (export {ENV_LLM}=openai:gpt-4o-mini), a pocketflow.toml "
            f'line (llm = "anthropic:claude-haiku-4-5"), or model= in the call. '
            f"To try without a vendor: {OFFLINE_HINT}."
        )

    # --- files --------------------------------------------------------------------------

    def reader(self, scheme: str) -> FileReader:
        """The reader registered for ``scheme`` ("file" for plain paths)."""
        self._note_loop()
        name = self.plugins.reader_for_scheme.get(scheme)
        if name is None:
            schemes = ", ".join(sorted(self.plugins.reader_for_scheme)) or "none"
            raise ProviderNotFoundError(
                f"No file reader handles '{scheme}' locations. Readers are installed for: "
                f"{schemes}. {install_hint(scheme) or 'Install a plugin that reads them.'}"
            )
        reader = self._readers.get(name)
        if reader is None:
            registration = self.plugins.readers[name]
            table = self.config.readers.get(name, {})
            settings = self._component_settings(registration, None, table, "readers")
            reader = self._readers.setdefault(name, registration.factory(settings))
        return reader

    # --- feedback -----------------------------------------------------------------------

    def feedback(self, choice: str | None) -> FeedbackProvider:
        """The feedback provider for ``choice`` ("name" or "name:argument")."""
        self._note_loop()
        requested = choice or self.config.feedback or DEFAULT_FEEDBACK
        provider = self._feedback.get(requested)
        if provider is None:
            name, _, argument = requested.partition(":")
            registration = self.plugins.feedback_providers.get(name)
            if registration is None:
                installed = ", ".join(sorted(self.plugins.feedback_providers)) or "none"
                hint = install_hint(name)
                raise ProviderNotFoundError(
                    f"No feedback provider '{name}' is installed. Installed: {installed}. "
                    f"{hint + ' Or choose' if hint else 'Choose'} one with {ENV_FEEDBACK}=auto "
                    f'(or auto:deny), or feedback = "console" in pocketflow.toml.'
                )
            table = self.config.feedback_providers.get(name, {})
            settings = self._component_settings(
                registration, argument or None, table, "feedback_providers"
            )
            provider = self._feedback.setdefault(requested, registration.factory(settings))
        return provider

    def _component_settings(
        self, registration: Registration, argument: str | None, table: Any, section: str
    ) -> ComponentSettings:
        what = f"{self.config.where}: [{section}.{registration.name}]"
        options = check_options(table, registration.settings, what, {})
        return ComponentSettings(registration.name, argument, options, self.config.path, section)

    # --- lifecycle ----------------------------------------------------------------------

    def _note_loop(self) -> None:
        # Providers' loops are known from their limiters; readers and feedback
        # providers are noted here, so that closing reaches every loop they served.
        with contextlib.suppress(RuntimeError):  # no running loop
            self._loops.add(asyncio.get_running_loop())

    def loops(self) -> set[asyncio.AbstractEventLoop]:
        """The event loops this runtime's providers, readers and feedback served."""
        found = set(self._loops)
        for live in list(self._providers.values()):
            found.update(live.gate.loops())
        return found

    def _take_closables(self) -> list[Any]:
        with self._lock:
            closables: list[Any] = [live.provider for live in self._providers.values()]
            closables += [*self._readers.values(), *self._feedback.values()]
            self._providers.clear()
            self._readers.clear()
            self._feedback.clear()
        return closables

    async def aclose(self) -> None:
        """Close every provider, reader and feedback provider made so far.

        Their clients on the running loop are closed before this returns; those on
        other running loops (the sync twins' background loop, say) are closed there.
        """
        loops = self.loops()
        closables = self._take_closables()
        loops.discard(asyncio.get_running_loop())
        _close_on(loops, closables)
        await _close_all(closables)

    def retire(self) -> None:
        """Close what this runtime made, each on its own loop, without waiting.

        Called when another runtime replaces it; :func:`aclose` waits for the closing.
        """
        _close_on(self.loops(), self._take_closables())


_closing: set[asyncio.Task[None]] = set()
"""Closings scheduled on a loop (by :meth:`Runtime.retire`, or :meth:`Runtime.aclose` on
another loop) and not finished yet."""


def _close_on(loops: Iterable[asyncio.AbstractEventLoop], closables: list[Any]) -> None:
    if not closables:
        return
    for loop in loops:
        if loop.is_closed():  # its connections went with it
            continue
        with contextlib.suppress(RuntimeError):  # closed just now
            loop.call_soon_threadsafe(_start_closing, closables)


def _start_closing(closables: list[Any]) -> None:
    task = asyncio.get_running_loop().create_task(_close_all(closables))
    _closing.add(task)
    task.add_done_callback(_closed)


def _closed(task: asyncio.Task[None]) -> None:
    _closing.discard(task)
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        warnings.warn(
            f"Closing PocketFlow clients on an event loop failed: {type(error).__name__}: {error}",
            RuntimeWarning,
            stacklevel=1,
        )


async def _close_all(closables: list[Any]) -> None:
    """``aclose()`` each of ``closables``; the first failure is raised once all are tried."""
    first: Exception | None = None
    for closable in closables:
        try:
            await closable.aclose()
        except Exception as error:
            first = first or error
    if first is not None:
        raise first


_runtime_lock = threading.Lock()
_runtime: Runtime | None = None
_runtime_key: tuple[Any, ...] | None = None


def _config_key() -> tuple[Any, ...]:
    env = os.environ
    return (
        os.getcwd(),
        env.get(ENV_LLM),
        env.get(ENV_FEEDBACK),
        env.get(ENV_CONFIG),
        env.get(ENV_EMBEDDING),
    )


def current_runtime() -> Runtime:
    """The runtime for the current configuration (re-read when the environment changes)."""
    global _runtime, _runtime_key
    key = _config_key()
    runtime = _runtime
    if runtime is None or key != _runtime_key:
        replaced = None
        with _runtime_lock:
            if _runtime is None or key != _runtime_key:
                replaced = _runtime
                _runtime = Runtime(_load_config(Path(key[0])), get_plugin_manager())
                _runtime_key = key
                _runtime.warm_up()
            runtime = _runtime
        if replaced is not None:
            replaced.retire()
    return runtime


def latest_runtime() -> Runtime | None:
    """The runtime made last, without checking the environment again (cheap); or None.

    For per-batch lookups that must cost next to nothing; :func:`current_runtime`
    re-reads configuration when the environment or working directory changed.
    """
    return _runtime


def reset_runtime() -> None:
    """Drop the current runtime (closing it), so configuration and plugins are read again."""
    global _runtime, _runtime_key
    with _runtime_lock:
        replaced, _runtime, _runtime_key = _runtime, None, None
    if replaced is not None:
        replaced.retire()


async def aclose() -> None:
    """Close the current runtime's clients and connection pools, and finish closing
    those of the runtimes it replaced on this loop."""
    runtime = _runtime
    if runtime is not None:
        await runtime.aclose()
    await asyncio.sleep(0)  # closings scheduled from this thread start now
    here = asyncio.get_running_loop()
    closing = [task for task in list(_closing) if task.get_loop() is here]
    if closing:
        await asyncio.gather(*closing, return_exceptions=True)


def add_observer(observer: object, name: str) -> Callable[[], None]:
    """Register ``observer``, an object whose methods are observer hooks (marked with
    ``@hookimpl``), for this process; returns the function that removes it again.

    For a program's own progress display (``pocketflow run`` uses it); plugins that
    observe register through entry points instead.
    """
    manager = get_plugin_manager()
    manager.hooks.register(observer, name=name)
    _observe(manager)

    def remove() -> None:
        manager.hooks.unregister(name=name)
        _observe(manager)

    return remove


def _observe(manager: PluginManager) -> None:
    observers.attach(manager.hooks.hook if manager.observes_nodes() else None)
    runtime = _runtime
    if runtime is not None and runtime.plugins is manager:
        runtime.observes_calls = manager.observes_calls()
