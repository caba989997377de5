"""The ``[runs]`` keys this plugin adds (kept apart so that registering imports nothing)."""

from __future__ import annotations

SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "schema": str,
    "connect_timeout": (int, float),
    "statement_timeout": (int, float),
    "pool_size": int,
    "synchronous_commit": str,
}
