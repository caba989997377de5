"""The store's settings: the URL and the ``[runs]`` keys this plugin adds."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pocketflow.errors import ConfigError
from pocketflow.runs.store import StoreLocation

DEFAULT_SCHEMA = "pocketflow"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_STATEMENT_TIMEOUT = 30.0
DEFAULT_POOL_SIZE = 10
SYNCHRONOUS_COMMIT = ("on", "off", "local", "remote_write", "remote_apply")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """Where and how the store connects."""

    url: str
    schema: str = DEFAULT_SCHEMA
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT
    pool_size: int = DEFAULT_POOL_SIZE
    synchronous_commit: str | None = None
    """None: the server's setting (``on`` unless changed: each write waits for its fsync)."""

    @classmethod
    def from_location(cls, location: StoreLocation) -> PostgresOptions:
        """Read and check the ``[runs]`` settings for ``location``."""
        settings: Mapping[str, Any] = location.settings
        schema = str(settings.get("schema", DEFAULT_SCHEMA))
        if not _IDENTIFIER.fullmatch(schema):
            raise ConfigError(
                f"[runs] schema {schema!r} is not a plain PostgreSQL name: use letters, digits "
                f'and underscores, starting with a letter, e.g. "{DEFAULT_SCHEMA}".'
            )
        return cls(
            url=location.url,
            schema=schema,
            connect_timeout=_seconds(settings, "connect_timeout", DEFAULT_CONNECT_TIMEOUT),
            statement_timeout=_seconds(settings, "statement_timeout", DEFAULT_STATEMENT_TIMEOUT),
            pool_size=_pool_size(settings),
            synchronous_commit=_synchronous_commit(settings),
        )

    @property
    def shown_url(self) -> str:
        """The URL without its password, for messages."""
        shown = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", self.url)
        return re.sub(r"(password=)[^&\s]*", r"\1***", shown)


def _seconds(settings: Mapping[str, Any], key: str, default: float) -> float:
    value = float(settings.get(key, default))
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"[runs] {key} must be a number of seconds above 0, not {value!r}.")
    return value


def _synchronous_commit(settings: Mapping[str, Any]) -> str | None:
    value = settings.get("synchronous_commit")
    if value is not None and value not in SYNCHRONOUS_COMMIT:
        raise ConfigError(
            f"[runs] synchronous_commit must be one of {', '.join(SYNCHRONOUS_COMMIT)}, "
            f"not {value!r}."
        )
    return None if value is None else str(value)


def _pool_size(settings: Mapping[str, Any]) -> int:
    value = settings.get("pool_size", DEFAULT_POOL_SIZE)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"[runs] pool_size must be a whole number of 1 or more, not {value!r}.")
    return value
