"""The reader's settings, ``[readers.http]`` in pocketflow.toml, checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pocketflow.providers import ComponentSettings
from pocketflow_httpx.addresses import Network, parse_networks

SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "timeout": (int, float),
    "max_bytes": int,
    "max_redirects": int,
    "headers": dict,
    "allowed_networks": list,
}
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
TABLE = "[readers.http]"


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """Checked settings: seconds per read, the body size limit, redirects, extra headers,
    and the internal networks that may be fetched from (none by default)."""

    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    headers: Mapping[str, str] = field(default_factory=dict)
    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: ComponentSettings) -> ReaderOptions:
        """Check ``settings.options``; raise ConfigError naming the key and the fix."""
        options = settings.options
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
        if not timeout > 0:  # also refuses nan, which compares false with everything
            raise settings.config_error(
                "timeout", f"must be seconds greater than 0, not {timeout:g}."
            )
        max_bytes = options.get("max_bytes", DEFAULT_MAX_BYTES)
        if max_bytes <= 0:
            raise settings.config_error(
                "max_bytes", f"must be a number of bytes greater than 0, not {max_bytes}."
            )
        max_redirects = options.get("max_redirects", DEFAULT_MAX_REDIRECTS)
        if max_redirects < 0:
            raise settings.config_error(
                "max_redirects", f"must be 0 (never follow) or more, not {max_redirects}."
            )
        headers = options.get("headers", {})
        for name, value in headers.items():
            if not isinstance(value, str):
                raise settings.config_error(
                    f"headers.{name}",
                    f"must be a string, not {type(value).__name__} {value!r}; "
                    'e.g. headers = { "User-Agent" = "my-app/1.0" }.',
                )
        allowed = options.get("allowed_networks", [])
        try:
            networks = parse_networks([str(value) for value in allowed])
        except ValueError as error:
            raise settings.config_error(
                "allowed_networks",
                f"holds {str(error)!r}, which is not a network: write addresses or "
                'networks, e.g. allowed_networks = ["127.0.0.1", "10.0.0.0/8"].',
            ) from None
        return cls(timeout, max_bytes, max_redirects, dict(headers), networks)
