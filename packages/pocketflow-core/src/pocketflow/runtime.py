"""The live objects behind the facades: configuration plus plugins, resolved.

A :class:`Runtime` turns a model string into a provider instance (made once and
reused, so its vendor client and connection pool are too), finds the reader for a
path or URL and the feedback provider by name. :func:`current_runtime` keeps one per
configuration: changing ``POCKETFLOW_LLM`` or the working directory gives a fresh one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketflow import observers
from pocketflow.config import ENV_CONFIG, ENV_FEEDBACK, ENV_LLM, Config, check_options
from pocketflow.config import load_config as _load_config
from pocketflow.config import provider_settings as _provider_settings
from pocketflow.errors import ConfigError, ProviderNotFoundError
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
            configured = f" (named by [providers.{name}] kind)" if "kind" in table else ""
            raise ProviderNotFoundError(
                f"No LLM provider '{kind}'{configured} is installed. Installed providers: "
                f"{self._installed()}. Install its plugin (e.g. pip install pocketflow-{kind}) "
                f'or define it in pocketflow.toml as [providers.{kind}] with kind = "openai" '
                f"and a base_url for an OpenAI-compatible endpoint."
            )
        settings = _provider_settings(name, kind, self.config, registration.settings)
        policy = RetryPolicy(max_retries=settings.max_retries, timeout=settings.timeout)
        provider = registration.factory(settings)
        return LiveProvider(provider, settings, policy, ProviderGate(settings))

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
        name = self.plugins.reader_for_scheme.get(scheme)
        if name is None:
            schemes = ", ".join(sorted(self.plugins.reader_for_scheme)) or "none"
            raise ProviderNotFoundError(
                f"No file reader handles '{scheme}' locations. Readers are installed for: "
                f"{schemes}. Install one (pip install pocketflow-aiofiles for paths, "
                f"pocketflow-httpx for http and https)."
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
        requested = choice or self.config.feedback or DEFAULT_FEEDBACK
        provider = self._feedback.get(requested)
        if provider is None:
            name, _, argument = requested.partition(":")
            registration = self.plugins.feedback_providers.get(name)
            if registration is None:
                installed = ", ".join(sorted(self.plugins.feedback_providers)) or "none"
                raise ProviderNotFoundError(
                    f"No feedback provider '{name}' is installed. Installed: {installed}. "
                    f"Choose one with {ENV_FEEDBACK}=auto (or auto:deny), or feedback = "
                    f'"console" in pocketflow.toml.'
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

    async def aclose(self) -> None:
        """Close every provider, reader and feedback provider made so far."""
        closables: list[Any] = [live.provider for live in self._providers.values()]
        closables += [*self._readers.values(), *self._feedback.values()]
        self._providers.clear()
        self._readers.clear()
        self._feedback.clear()
        for closable in closables:
            await closable.aclose()


_runtime_lock = threading.Lock()
_runtime: Runtime | None = None
_runtime_key: tuple[Any, ...] | None = None


def _config_key() -> tuple[Any, ...]:
    env = os.environ
    return (os.getcwd(), env.get(ENV_LLM), env.get(ENV_FEEDBACK), env.get(ENV_CONFIG))


def current_runtime() -> Runtime:
    """The runtime for the current configuration (re-read when the environment changes)."""
    global _runtime, _runtime_key
    key = _config_key()
    runtime = _runtime
    if runtime is None or key != _runtime_key:
        with _runtime_lock:
            if _runtime is None or key != _runtime_key:
                _runtime = Runtime(_load_config(Path(key[0])), get_plugin_manager())
                _runtime_key = key
            runtime = _runtime
    return runtime


def reset_runtime() -> None:
    """Drop the current runtime, so configuration and plugins are read again."""
    global _runtime, _runtime_key
    with _runtime_lock:
        _runtime, _runtime_key = None, None


async def aclose() -> None:
    """Close the current runtime's clients and connection pools."""
    runtime = _runtime
    if runtime is not None:
        await runtime.aclose()


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
