"""The provider's settings, ``[feedback_providers.console]`` in pocketflow.toml, checked once.

``console:deny`` (an argument after the colon) sets ``default`` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketflow.providers import ComponentSettings
from pocketflow_console.answers import DECISIONS

SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "default": str,
    "timeout": (int, float),
    "comment": bool,
}
TABLE = "[feedback_providers.console]"


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """Checked settings.

    ``default`` answers at end of input and on timeout (None: raise instead);
    ``timeout`` is seconds to wait for a verdict (None: wait for ever); ``comment``
    asks for an optional comment after the verdict.
    """

    default: str | None = None
    timeout: float | None = None
    comment: bool = False

    @classmethod
    def from_settings(cls, settings: ComponentSettings) -> ConsoleOptions:
        """Check ``settings``; raise ConfigError naming the key and the fix."""
        options = settings.options
        default = settings.argument or options.get("default")
        if default is not None:
            default = default.strip().lower()
            if default not in DECISIONS:
                raise settings.config_error(
                    "default",
                    f'must be "approve" or "deny", not {default!r} '
                    "(it answers when no one does: at end of input or on timeout).",
                )
        timeout = options.get("timeout")
        if timeout is not None and timeout <= 0:
            raise settings.config_error(
                "timeout", f"must be seconds greater than 0, not {timeout}."
            )
        return cls(
            default=default,
            timeout=None if timeout is None else float(timeout),
            comment=bool(options.get("comment", False)),
        )
