"""Importing ``litellm`` off the event loop, once, with offline-safe defaults.

``import litellm`` takes several seconds of CPU, so nothing imports it until a
``litellm`` provider is made: :meth:`LiteLLMLoader.start` then imports it on a
background thread, and a call awaits :meth:`LiteLLMLoader.module` (at once when it is
done). Before the import, LiteLLM's network fetches at start-up are turned off unless
the user set the variables themselves (:data:`OFFLINE_DEFAULTS`); after it, LiteLLM's
own retries are turned off and its HTTP goes through httpx (see :func:`configure`).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from types import ModuleType
from typing import Any

from pocketflow.errors import ConfigError

OFFLINE_DEFAULTS = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "True",
    "DEFAULT_MAX_RETRIES": "0",
}
"""Set before the import unless already set: LiteLLM uses the model table and catalogs
it ships with instead of fetching them from the network at import (which blocks for
seconds, and for retries, on a machine without access); and the OpenAI SDK clients it
makes default to no retries (``DEFAULT_MAX_RETRIES``, read once at import)."""

AIOHTTP_VARIABLE = "DISABLE_AIOHTTP_TRANSPORT"
"""LiteLLM's switch between its aiohttp and httpx transports; unset, we pick httpx."""


def configure(litellm: Any, environ: Mapping[str, str]) -> None:
    """Module defaults for a bridge whose caller owns the call policy.

    * ``num_retries = 0`` and ``DEFAULT_MAX_RETRIES = 0``: LiteLLM retries nothing on
      its own (calls pass ``num_retries=0, max_retries=0`` too), so retries never
      multiply. The second matters: some of its routes (Mistral's and OpenAI's
      embeddings, Azure) read ``max_retries or DEFAULT_MAX_RETRIES``, which makes a
      ``max_retries=0`` two retries of the OpenAI SDK under it;
    * ``suppress_debug_info``: no "Give Feedback" banner printed with each error;
    * httpx rather than aiohttp as the transport, unless ``DISABLE_AIOHTTP_TRANSPORT``
      is set: one HTTP stack with the other plugins, which respx can mock in tests.
    """
    litellm.num_retries = 0
    litellm.DEFAULT_MAX_RETRIES = 0
    litellm.suppress_debug_info = True
    if AIOHTTP_VARIABLE not in environ:
        litellm.disable_aiohttp_transport = True


def import_litellm() -> ModuleType:
    """Import and configure ``litellm`` (slow: seconds); the defaults are set first."""
    for variable, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(variable, value)
    import litellm

    configure(litellm, os.environ)
    return litellm


class LiteLLMLoader:
    """Imports ``litellm`` once, on a background thread, for every provider and loop.

    ``importer`` does the import (default :func:`import_litellm`).
    """

    def __init__(self, importer: Callable[[], ModuleType] = import_litellm) -> None:
        self._importer = importer
        self._lock = threading.Lock()
        self._future: Future[ModuleType] | None = None

    def start(self) -> Future[ModuleType]:
        """Start the import (once); the future holds the module or the import's error."""
        with self._lock:
            if self._future is None:
                self._future = Future()
                threading.Thread(
                    target=self._load, args=(self._future,), name="pocketflow-litellm-import",
                    daemon=True,
                ).start()  # fmt: skip
            return self._future

    def _load(self, future: Future[ModuleType]) -> None:
        try:
            future.set_result(self._importer())
        except BaseException as error:  # handed to the first call, which raises it
            future.set_exception(error)

    def loaded(self) -> ModuleType | None:
        """The module if the import has finished well, else None (never waits)."""
        future = self._future
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    async def module(self) -> ModuleType:
        """The module, awaiting the import without blocking the event loop."""
        future = self.start()
        try:
            if future.done():
                return future.result()
            return await asyncio.wrap_future(future)
        except ImportError as error:
            raise ConfigError(
                f"The litellm provider cannot import litellm ({error}). Install it with "
                "the plugin: pip install pocketflow-litellm (it depends on litellm)."
            ) from error


LOADER = LiteLLMLoader()
"""The process's one loader: ``litellm`` is a module, imported once for all providers."""
