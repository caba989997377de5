"""Where durable runs live and how they are stored: the ``[runs]`` table.

``store`` is a URL: ``sqlite:///.pocketflow/runs.db`` (the default; a relative path
starts at the config file's folder, else the working directory), ``memory://``, or
any scheme a store plugin registers (``postgresql://...``). ``POCKETFLOW_RUNS``
overrides it, and ``store=`` in the call overrides both. ``history = true`` keeps a
snapshot of ``shared`` per step (off: only the latest). ``serializer`` is ``"json"``
(default) or ``"pickle"``. ``lease_seconds`` (default 60) is how long a run's lease
lasts without renewal before another process may take the run over. A store plugin
declares its own keys (``schema``, ``statement_timeout``, ...) through the ``settings=``
of its registration; they are checked here like the core's.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketflow.config import Config, check_type
from pocketflow.errors import ConfigError
from pocketflow.runs.serialize import SERIALIZERS, Serializer
from pocketflow.runs.store import RunStore, StoreLocation
from pocketflow.runtime import current_runtime

ENV_RUNS = "POCKETFLOW_RUNS"
DEFAULT_STORE = "sqlite:///.pocketflow/runs.db"
_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "store": (str, 'a store URL such as "sqlite:///.pocketflow/runs.db"'),
    "history": (bool, "true to keep a snapshot of shared per step"),
    "serializer": (str, '"json" or "pickle"'),
    "lease_seconds": ((int, float), "seconds a run's lease lasts without renewal"),
}


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The effective ``[runs]`` settings of one durable run."""

    store: RunStore
    serializer: Serializer
    history: bool
    lease_seconds: float


def run_settings(store_url: str | None = None) -> RunSettings:
    """The settings for a run: ``store_url`` (from the call) over the environment and config."""
    config = current_runtime().config
    table = _checked(config)
    url = store_url or os.environ.get(ENV_RUNS) or table.get("store") or DEFAULT_STORE
    serializer_name = table.get("serializer", "json")
    serializer = SERIALIZERS.get(serializer_name)
    if serializer is None:
        raise ConfigError(f'{config.where}: [runs] serializer must be "json" or "pickle".')
    lease = float(table.get("lease_seconds", 60))
    if not math.isfinite(lease) or lease <= 0:
        raise ConfigError(f"{config.where}: [runs] lease_seconds must be a number above 0.")
    return RunSettings(open_store(url, config), serializer, bool(table.get("history")), lease)


def _checked(config: Config) -> dict[str, Any]:
    table = dict(config.runs)
    keys = _known_keys()
    for key, value in table.items():
        if key not in keys:
            known = ", ".join(sorted(keys))
            raise ConfigError(f"{config.where}: [runs] has unknown key '{key}'. Known: {known}.")
        expected, form = keys[key]
        check_type(value, expected, f"{config.where}: [runs] '{key}'", form)
    return table


def _known_keys() -> dict[str, tuple[type | tuple[type, ...], str]]:
    """The core's ``[runs]`` keys, and those the installed store plugins declare."""
    keys = dict(_KEYS)
    for registration in current_runtime().plugins.run_stores.values():
        for key, expected in registration.settings.items():
            names = " or ".join(t.__name__ for t in _as_tuple(expected))
            keys.setdefault(key, (expected, f"a {names} (for the {registration.name} store)"))
    return keys


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


_stores: dict[tuple[str, Path], RunStore] = {}
_stores_lock = threading.Lock()


def open_store(url: str, config: Config | None = None) -> RunStore:
    """The store for ``url`` (opened once per process and folder, then reused)."""
    config = config or current_runtime().config
    base = config.path.parent if config.path else Path.cwd()
    key = (url, base)
    store = _stores.get(key)
    if store is not None:
        return store
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = _make_store(url, base, config)
    return store


def _make_store(url: str, base: Path, config: Config) -> RunStore:
    location = StoreLocation(url, base, dict(config.runs))
    if "://" not in url:
        raise ConfigError(
            f"Run store {url!r} is not a URL: write e.g. {DEFAULT_STORE!r} or 'memory://'."
        )
    plugins = current_runtime().plugins
    name = plugins.store_for_scheme.get(location.scheme)
    if name is None:
        installed = ", ".join(f"{s}://" for s in sorted(plugins.store_for_scheme)) or "none"
        raise ConfigError(
            f"No run store handles {location.scheme}:// URLs ({url!r}). Stores installed for: "
            f"{installed}. A PostgreSQL store comes with the pocketflow-postgres plugin."
        )
    store: RunStore = plugins.run_stores[name].factory(location)
    return store


async def close_stores() -> None:
    """Close every store this process opened (tests, and the end of a CLI command)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        await store.aclose()
