"""How to install the plugin that provides a component, for error messages.

The plugins of this repository are not published on a package index yet, so a hint
naming ``pip install pocketflow-aiofiles`` would fail: the hints say how to install
them from a checkout of the repository instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

PLUGIN_FOR: dict[str, str] = {
    "openai": "pocketflow-openai",
    "azure": "pocketflow-openai",
    "anthropic": "pocketflow-anthropic",
    "console": "pocketflow-console",
    "file": "pocketflow-aiofiles",
    "aiofiles": "pocketflow-aiofiles",
    "http": "pocketflow-httpx",
    "https": "pocketflow-httpx",
}
"""Component name (or reader scheme) -> the distribution in this repository providing it."""


def install_hint(name: str) -> str:
    """A sentence saying how to install what provides ``name``; empty if it is not ours."""
    distribution = PLUGIN_FOR.get(name)
    if distribution is None:
        return ""
    return install_command(distribution)


def install_command(distribution: str) -> str:
    """How to install ``distribution`` from a checkout of this repository."""
    return (
        f"Install {distribution} from a checkout of this repository (it is not published on "
        f"a package index yet): uv add --editable CHECKOUT/plugins/{distribution} (or pip "
        f"install -e CHECKOUT/plugins/{distribution}), CHECKOUT being the repository's folder."
    )


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ " Did you mean 'x'?" for the closest of ``known`` to ``name``, or ""."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
