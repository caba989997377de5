"""pocketflow-web: the review page, where people approve or deny what durable runs ask.

Installing the package adds ``pocketflow serve`` (entry point ``web`` in the
``pocketflow`` group, through the ``register_commands`` hook). :func:`create_app`
builds the Starlette app for an open run store and a token, for tests and embedding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pocketflow_web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":  # Starlette loads only when the app is built
        from pocketflow_web.app import create_app

        return create_app
    raise AttributeError(name)
