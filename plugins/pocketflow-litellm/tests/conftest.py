"""Fixtures for the litellm plugin's tests: litellm loaded once, a clean environment.

``import litellm`` takes seconds, so the session imports it once (through the plugin's
own loader, as a user's first call would) and every test reuses it. Vendor HTTP is
mocked with respx (LiteLLM sends through httpx); nothing reaches the network.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest

from pocketflow.testing import run_and_close
from pocketflow_litellm.loader import LOADER

sys.path.insert(0, str(Path(__file__).parent))

T = TypeVar("T")

VENDOR_VARIABLES = (
    "MISTRAL_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION_NAME",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "COHERE_API_KEY",
    "GROQ_API_KEY",
)
"""Vendor variables LiteLLM reads that ``pocketflow_env`` does not clear."""


@pytest.fixture(scope="session")
def litellm_module() -> ModuleType:
    """``litellm``, imported once per session by the plugin's loader."""
    return LOADER.start().result(timeout=120)


@pytest.fixture
def litellm_env(
    pocketflow_env: pytest.MonkeyPatch, litellm_module: ModuleType
) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment with litellm loaded and no vendor key set."""
    for variable in VENDOR_VARIABLES:
        pocketflow_env.delenv(variable, raising=False)
    yield pocketflow_env


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, T]], T]:
    """Run a coroutine on a fresh event loop, then close the runtime's clients."""
    return run_and_close
