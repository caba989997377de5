"""Observer seam between the engine and the plugin layer.

The engine calls :func:`node_started` and :func:`node_finished` around each node step
only while ``active`` is true. It starts true so that the first step loads the
plugins (once); from then on it stays true only if some plugin implements a node
observer hook, so an unobserved flow pays one attribute check per step.
"""

from __future__ import annotations

from typing import Any

active: bool = True
_relay: Any = None


def attach(relay: Any) -> None:
    """Forward node events to ``relay`` (pluggy's hook relay), or stop when it is None."""
    global active, _relay
    _relay = relay
    active = relay is not None


def attach_lazily() -> None:
    """Load the plugins at the next node step and decide then (after a plugin reset)."""
    global active, _relay
    _relay = None
    active = True


def _relay_or_load() -> Any:
    if _relay is None:
        from pocketflow.plugins import get_plugin_manager

        get_plugin_manager()  # calls attach()
    return _relay


def node_started(node: Any, shared: Any) -> None:
    """Report that ``node`` is about to run with ``shared``."""
    relay = _relay_or_load()
    if relay is not None:
        relay.node_started(node=node, shared=shared)


def node_finished(node: Any, shared: Any, action: Any, error: BaseException | None) -> None:
    """Report that ``node`` finished with ``action``, or failed with ``error``."""
    relay = _relay_or_load()
    if relay is not None:
        relay.node_finished(node=node, shared=shared, action=action, error=error)
