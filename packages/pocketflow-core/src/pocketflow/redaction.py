"""Telling secrets apart in configuration tables, so they are never shown.

A config file never needs a key (it names the environment variable that holds one),
but people put them there anyway: ``api_key = "sk-..."`` or an ``Authorization``
header. What shows configuration (``pocketflow config``) hides those values and says why.
"""

from __future__ import annotations

from typing import Any

_SECRET_WORDS = ("key", "token", "secret", "password", "passwd", "authorization", "cookie")
_SAFE_KEYS = frozenset({"api_key_env", "key_env"})
_SECRET_PREFIXES = ("bearer ", "basic ", "sk-", "sk_")

HIDDEN = (
    "(hidden: a secret in a config file is never shown, and does not belong there: keep "
    "it in an environment variable and name that variable with api_key_env)"
)
HIDDEN_ITEMS = "(secrets in a config file are never shown: keep them in the environment)"


def is_secret_name(name: str) -> bool:
    """True for a key or header name that holds a secret (``api_key``, ``X-Api-Key``, ...)."""
    lowered = name.lower()
    return lowered not in _SAFE_KEYS and any(word in lowered for word in _SECRET_WORDS)


def looks_secret(value: Any) -> bool:
    """True for a string that looks like a credential (``Bearer ...``, ``sk-...``)."""
    return isinstance(value, str) and value.lower().startswith(_SECRET_PREFIXES)


def shown(name: str, value: Any) -> str:
    """``value`` as configuration views print it, secrets replaced by :data:`HIDDEN`."""
    if is_secret_name(name) or looks_secret(value):
        return HIDDEN
    if isinstance(value, dict):
        parts = [
            f"{inner!r}: {'(hidden: secret)' if _hides(inner, item) else repr(item)}"
            for inner, item in value.items()
        ]
        hidden = any(_hides(inner, item) for inner, item in value.items())
        return "{" + ", ".join(parts) + "}" + (f"    {HIDDEN_ITEMS}" if hidden else "")
    return repr(value)


def _hides(name: Any, value: Any) -> bool:
    return is_secret_name(str(name)) or looks_secret(value) or isinstance(value, dict)
