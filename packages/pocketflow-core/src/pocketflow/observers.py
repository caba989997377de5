"""Observer seam between the engine and the plugin layer.

The engine reports node events here. ``active`` stays False until the plugin layer
finds a plugin that observes nodes, so an unobserved flow pays one attribute check
per step and nothing more.
"""

from __future__ import annotations

from typing import Any

active: bool = False


def node_started(node: Any, shared: Any) -> None:
    """Report that ``node`` is about to run (replaced by the plugin layer)."""


def node_finished(node: Any, shared: Any, action: Any, error: BaseException | None) -> None:
    """Report that ``node`` finished with ``action``, or failed with ``error``."""
