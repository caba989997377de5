"""Fixtures for the openai plugin's tests: a configured environment and a runner.

Every test goes through the public facades with the provider chosen by configuration;
vendor HTTP is mocked with respx routes (the core's ``vendor_http`` fixture), never the
network. Replies as the API sends them are built by ``openai_fakes``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pocketflow.testing import run_and_close

sys.path.insert(0, str(Path(__file__).parent))
from openai_fakes import SECRET

T = TypeVar("T")

_VENDOR_VARIABLES = (
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_ADMIN_KEY",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "DEEPSEEK_API_KEY",
)


@pytest.fixture
def openai_env(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """``openai:gpt-4o-mini`` configured with the test key; no other vendor variables."""
    for variable in _VENDOR_VARIABLES:
        pocketflow_env.delenv(variable, raising=False)
    pocketflow_env.setenv("OPENAI_API_KEY", SECRET)
    pocketflow_env.setenv("POCKETFLOW_LLM", "openai:gpt-4o-mini")
    return pocketflow_env


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, T]], T]:
    """Run a coroutine on a fresh event loop, then close the runtime's clients."""
    return run_and_close
