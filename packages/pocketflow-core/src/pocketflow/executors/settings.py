"""The ``[executors]`` table: which executor batch nodes use, and each one's settings.

Example ``pocketflow.toml``::

    [executors]
    default = "ray"                 # batch nodes with executor=None; "local" when unset
    env = ["OPENAI_API_KEY"]        # variables forwarded to workers (never logged)

    [executors.ray]
    address = "auto"                # or "10.0.0.5:6379"; none: a local cluster
    num_cpus = 1                    # per item

    [executors.dask]
    address = "tcp://10.0.0.5:8786"

Workers get the listed ``env`` variables plus PocketFlow's own selectors
(``POCKETFLOW_LLM``, ``POCKETFLOW_FEEDBACK``, and ``POCKETFLOW_CONFIG`` pointing at the
caller's config file), so facades inside a remote ``exec`` are configured as they are
here. Nothing else of the caller's environment leaves the machine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from pocketflow.config import ENV_CONFIG, ENV_FEEDBACK, ENV_LLM, Config, check_type
from pocketflow.errors import ConfigError, ExecutorNotFoundError
from pocketflow.executors.contract import Executor, ExecutorSettings
from pocketflow.runtime import Runtime, current_runtime, latest_runtime

LOCAL = "local"
_TOP_KEYS: dict[str, tuple[type, str]] = {
    "default": (str, 'an executor name such as "local", "ray" or "dask"'),
    "env": (list, 'a list of variable names, e.g. ["OPENAI_API_KEY"]'),
}
_ALWAYS_FORWARDED = (ENV_LLM, ENV_FEEDBACK)

_cached_runtime: Runtime | None = None
_cached_default = LOCAL
_executors: dict[tuple[str, str], Executor] = {}
_lock = threading.Lock()


def default_executor() -> str:
    """``[executors] default`` ("local" when unset), read once per runtime.

    Costs one identity check per batch: the runtime in use is the one made last (see
    :func:`~pocketflow.runtime.latest_runtime`); the configuration is read again when a
    new runtime is made (a facade call after the environment changed, or
    ``reset_runtime()``).
    """
    global _cached_runtime, _cached_default
    runtime = latest_runtime()
    if runtime is None or runtime is not _cached_runtime:
        runtime = current_runtime()
        _cached_default = _checked(runtime.config).get("default", LOCAL)
        _cached_runtime = runtime
    return _cached_default


def forwarded_env(config: Config | None = None) -> dict[str, str]:
    """The variables workers get: PocketFlow's selectors and the listed ``env`` names."""
    config = config or current_runtime().config
    table = _checked(config)
    env = {name: os.environ[name] for name in _ALWAYS_FORWARDED if name in os.environ}
    if config.path is not None:
        env[ENV_CONFIG] = str(config.path)
    for name in table.get("env", []):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def get_executor(name: str) -> Executor:
    """The executor ``name`` (made once per process and settings, then reused).

    An executor made for other settings is kept too (a configuration that changes back
    finds its cluster again); :func:`close_executors` closes them all.
    """
    runtime = current_runtime()
    settings = executor_settings(name, runtime.config)
    key = (name, repr(sorted(settings.table.items())))
    executor = _executors.get(key)
    if executor is not None:
        return executor
    with _lock:
        executor = _executors.get(key)
        if executor is None:
            executor = _executors[key] = runtime.plugins.executors[name].factory(settings)
    return executor


def executor_settings(name: str, config: Config) -> ExecutorSettings:
    """The checked ``[executors.<name>]`` table of an installed executor."""
    registrations = current_runtime().plugins.executors
    registration = registrations.get(name)
    if registration is None:
        raise ExecutorNotFoundError(name, sorted(registrations))
    table = dict(_checked(config).get(name, {}))
    where = f"{config.where}: [executors.{name}]"
    for key, value in table.items():
        expected = registration.settings.get(key)
        if expected is None:
            known = ", ".join(sorted(registration.settings)) or "none"
            raise ConfigError(f"{where} has unknown key '{key}'. Known: {known}.")
        names = " or ".join(t.__name__ for t in _as_tuple(expected))
        check_type(value, expected, f"{where} '{key}'", f"a {names}")
    return ExecutorSettings(name, table, config.where)


async def close_executors() -> None:
    """Close every executor this process made (stopping clusters they started)."""
    with _lock:
        executors = list(_executors.values())
        _executors.clear()
    for executor in executors:
        await executor.aclose()


def _checked(config: Config) -> Mapping[str, Any]:
    table = config.executors
    for key, value in table.items():
        if key in _TOP_KEYS:
            expected, form = _TOP_KEYS[key]
            check_type(value, expected, f"{config.where}: [executors] '{key}'", form)
        elif not isinstance(value, dict):
            raise ConfigError(
                f"{config.where}: [executors] has unknown key '{key}'. Known: default, env, "
                f"and a [executors.<name>] table per executor."
            )
    for index, name in enumerate(table.get("env", [])):
        check_type(name, str, f"{config.where}: [executors] 'env[{index}]'", "a variable name")
    return table


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)
