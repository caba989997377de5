"""Where settings come from, and checking them.

Precedence, highest first: an argument in code (handled by the facades); the
environment (``POCKETFLOW_LLM``, ``POCKETFLOW_EMBEDDING``, ``POCKETFLOW_FEEDBACK``,
``POCKETFLOW_CONFIG``); a
``pocketflow.toml`` (or ``[tool.pocketflow]`` in ``pyproject.toml``) found from the
working directory up; built-in defaults. A config file never needs to hold a key:
it names the environment variable that does (``api_key_env``).

Example ``pocketflow.toml``::

    llm = "fast"                                  # the default model, or an alias
    fallbacks = ["anthropic:claude-haiku-4-5"]
    feedback = "console"
    embedding = "small"                           # the default embedding model, or an alias
    embedding_fallbacks = ["litellm:openai/text-embedding-3-small"]   # same dimensions

    [aliases]
    fast = "openai:gpt-4o-mini"
    small = "openai:text-embedding-3-small"

    [providers.deepseek]                          # an OpenAI-compatible endpoint
    kind = "openai"
    base_url = "https://api.deepseek.com/v1"
    api_key_env = "DEEPSEEK_API_KEY"

    [readers.aiofiles]
    root = "docs"

    [feedback_providers.console]
    timeout = 120
    default = "deny"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pocketflow.cost import check_prices
from pocketflow.errors import ConfigError
from pocketflow.providers import ProviderSettings, SettingTypes

ENV_LLM = "POCKETFLOW_LLM"
ENV_FEEDBACK = "POCKETFLOW_FEEDBACK"
ENV_EMBEDDING = "POCKETFLOW_EMBEDDING"
ENV_CONFIG = "POCKETFLOW_CONFIG"
CONFIG_FILE = "pocketflow.toml"
DEFAULT = "default"

# key -> (expected type(s), how to write it): for the top level of the file.
_TOP_LEVEL: dict[str, tuple[type | tuple[type, ...], str]] = {
    "llm": (str, 'a model string such as "openai:gpt-4o-mini" or an alias'),
    "feedback": (str, 'a feedback provider such as "console" or "auto:deny"'),
    "fallbacks": (list, 'a list of model strings, e.g. ["anthropic:claude-haiku-4-5"]'),
    "embedding": (str, 'an embedding model such as "openai:text-embedding-3-small" or an alias'),
    "embedding_fallbacks": (list, "a list of embedding model strings of the same dimensions"),
    "aliases": (dict, 'a table of name = "provider:model"'),
    "providers": (dict, "a table of [providers.<name>] tables"),
    "readers": (dict, "a table of [readers.<name>] tables"),
    "feedback_providers": (dict, "a table of [feedback_providers.<name>] tables"),
    "runs": (dict, 'a [runs] table, e.g. store = "sqlite:///.pocketflow/runs.db"'),
    "executors": (dict, 'an [executors] table, e.g. default = "ray", env = ["OPENAI_API_KEY"]'),
    "otel": (dict, "an [otel] table for pocketflow-otel, e.g. capture_content = true"),
    "prices": (dict, 'a table of "provider:model" = { input = 0.15, output = 0.6 } ($/M tokens)'),
}

# Settings every LLM provider accepts: key -> (type(s), how to write it).
PROVIDER_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "kind": (str, 'the registered provider it is an instance of, e.g. "openai"'),
    "base_url": (str, 'a URL such as "http://localhost:11434/v1"'),
    "api_key_env": (str, 'the name of the environment variable holding the key, e.g. "MY_KEY"'),
    "timeout": ((int, float), "seconds covering a whole call, retries and streaming included"),
    "max_concurrency": (int, "the most calls in flight to this provider at once"),
    "requests_per_minute": ((int, float), "the most calls started per minute"),
    "max_retries": (int, "how many times a failed call is tried again (0 = never)"),
    "headers": (dict, "a table of extra HTTP headers (strings)"),
}


@dataclass(frozen=True, slots=True)
class Config:
    """The effective configuration; ``sources`` says where each setting came from."""

    llm: str | None = None
    feedback: str | None = None
    fallbacks: tuple[str, ...] = ()
    embedding: str | None = None
    embedding_fallbacks: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    readers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    feedback_providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    runs: Mapping[str, Any] = field(default_factory=dict)
    executors: Mapping[str, Any] = field(default_factory=dict)
    otel: Mapping[str, Any] = field(default_factory=dict)
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    path: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def source_of(self, key: str) -> str:
        """Where ``key`` came from: an environment variable, a file, or "default"."""
        return self.sources.get(key, DEFAULT)

    @property
    def where(self) -> str:
        """The config file's path, or a phrase for "no file", for error messages."""
        return str(self.path) if self.path else "no config file"


def find_config_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``pocketflow.toml`` or ``pyproject.toml`` with ``[tool.pocketflow]``."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate, _read_toml(candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("pocketflow")
            if table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"{pyproject}: [tool.pocketflow] must be a table.")
                return pyproject, table
    return None


def load_config(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the configuration by the precedence rules, checking every key and type."""
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_CONFIG)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"{ENV_CONFIG} points to {path}, which is not a file. "
                f"Unset it or point it at a pocketflow.toml."
            )
        raw = _read_toml(path)
        if path.name == "pyproject.toml":
            raw = raw.get("tool", {}).get("pocketflow", {})
        found: tuple[Path, dict[str, Any]] | None = (path, raw)
    else:
        found = find_config_file((cwd or Path.cwd()).resolve())
    if found is None:
        return _apply_environment(Config(), env)
    path, table = found
    config = _parse(table, path)
    return _apply_environment(config, env)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when a config file is found

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {error.start} is 0x{error.object[error.start]:02x}). "
            "TOML files are UTF-8: save it as UTF-8."
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}.") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}.") from error


def _parse(table: Mapping[str, Any], path: Path | None) -> Config:
    where = str(path) if path else "configuration"
    for key, value in table.items():
        if key not in _TOP_LEVEL:
            raise ConfigError(
                f"{where}: unknown key '{key}'. Known keys: {', '.join(sorted(_TOP_LEVEL))}."
            )
        expected, form = _TOP_LEVEL[key]
        check_type(value, expected, f"{where}: '{key}'", form)
    fallbacks = table.get("fallbacks", [])
    for index, model in enumerate(fallbacks):
        check_type(model, str, f"{where}: 'fallbacks[{index}]'", "a model string")
    embedding_fallbacks = table.get("embedding_fallbacks", [])
    for index, model in enumerate(embedding_fallbacks):
        what = f"{where}: 'embedding_fallbacks[{index}]'"
        check_type(model, str, what, "an embedding model string")
    aliases = table.get("aliases", {})
    for alias, target in aliases.items():
        check_type(target, str, f"{where}: 'aliases.{alias}'", 'a string "provider:model"')
    sections = {}
    for section in ("providers", "readers", "feedback_providers"):
        entries = table.get(section, {})
        for name, entry in entries.items():
            check_type(entry, dict, f"{where}: '{section}.{name}'", f"a [{section}.{name}] table")
        sections[section] = entries
    source = f"file {path}" if path else DEFAULT
    return Config(
        llm=table.get("llm"),
        feedback=table.get("feedback"),
        fallbacks=tuple(fallbacks),
        embedding=table.get("embedding"),
        embedding_fallbacks=tuple(embedding_fallbacks),
        aliases=dict(aliases),
        providers=sections["providers"],
        readers=sections["readers"],
        feedback_providers=sections["feedback_providers"],
        runs=table.get("runs", {}),
        executors=table.get("executors", {}),
        otel=table.get("otel", {}),
        prices=check_prices(table.get("prices", {}), where),
        path=path,
        sources={key: source for key in table},
    )


def _apply_environment(config: Config, env: Mapping[str, str]) -> Config:
    sources = dict(config.sources)
    llm, feedback, embedding = config.llm, config.feedback, config.embedding
    if env.get(ENV_LLM):
        llm = env[ENV_LLM]
        sources["llm"] = f"environment {ENV_LLM}"
    if env.get(ENV_EMBEDDING):
        embedding = env[ENV_EMBEDDING]
        sources["embedding"] = f"environment {ENV_EMBEDDING}"
    if env.get(ENV_FEEDBACK):
        feedback = env[ENV_FEEDBACK]
        sources["feedback"] = f"environment {ENV_FEEDBACK}"
    if env.get(ENV_CONFIG) and config.path:
        sources = {k: v.replace("file ", f"file ({ENV_CONFIG}) ", 1) for k, v in sources.items()}
    return replace(config, llm=llm, feedback=feedback, embedding=embedding, sources=sources)


def check_type(value: Any, expected: type | tuple[type, ...], what: str, form: str) -> None:
    """Raise ConfigError naming ``what`` and the expected ``form`` if ``value`` is wrong."""
    wrong_bool = isinstance(value, bool) and bool not in _as_tuple(expected)
    if wrong_bool or not isinstance(value, expected):
        raise ConfigError(f"{what} must be {form}, not {type(value).__name__} {value!r}.")


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def check_options(
    table: Mapping[str, Any], declared: SettingTypes, what: str, common: Mapping[str, Any]
) -> dict[str, Any]:
    """Check a component's table against its common keys and its declared extras.

    Returns the declared extras found. ``what`` names the table for messages.
    """
    extras: dict[str, Any] = {}
    for key, value in table.items():
        if key in common:
            continue
        if key not in declared:
            known = sorted({*common, *declared})
            raise ConfigError(
                f"{what}: unknown key '{key}'. Known keys: {', '.join(known) or 'none'}."
            )
        expected = declared[key]
        names = " or ".join(t.__name__ for t in _as_tuple(expected))
        check_type(value, expected, f"{what}: '{key}'", f"a {names}")
        extras[key] = value
    return extras


def provider_settings(
    name: str, kind: str, config: Config, declared: SettingTypes
) -> ProviderSettings:
    """The checked :class:`ProviderSettings` for provider ``name`` of implementation ``kind``."""
    table = config.providers.get(name, {})
    what = f"{config.where}: [providers.{name}]"
    for key, (expected, form) in PROVIDER_KEYS.items():
        if key in table:
            check_type(table[key], expected, f"{what} '{key}'", form)
    extras = check_options(table, declared, what, PROVIDER_KEYS)
    headers = table.get("headers", {})
    for header, value in headers.items():
        check_type(value, str, f"{what} 'headers.{header}'", "a string")
    for key in ("timeout", "requests_per_minute"):
        if key in table and table[key] != table[key]:  # nan compares unequal to itself
            raise ConfigError(f"{what} '{key}' must be a number greater than 0, not nan.")
    for key in ("timeout", "max_concurrency", "requests_per_minute"):
        if key in table and table[key] <= 0:
            raise ConfigError(f"{what} '{key}' must be greater than 0, not {table[key]!r}.")
    if table.get("max_retries", 0) < 0:
        raise ConfigError(f"{what} 'max_retries' must be 0 or more, not {table['max_retries']}.")
    defaults = ProviderSettings(name=name, kind=kind)
    return ProviderSettings(
        name=name,
        kind=kind,
        base_url=table.get("base_url"),
        api_key_env=table.get("api_key_env"),
        timeout=float(table.get("timeout", defaults.timeout)),
        max_concurrency=table.get("max_concurrency", defaults.max_concurrency),
        requests_per_minute=table.get("requests_per_minute"),
        max_retries=table.get("max_retries", defaults.max_retries),
        headers=dict(headers),
        extra=extras,
        config_path=config.path,
    )
