"""Fixtures for the gemini provider's tests: a configured environment, the mocked
Gemini API, and a runner that closes the clients it made."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import respx

from pocketflow.testing import run_and_close

sys.path.insert(0, str(Path(__file__).parent))
from gemini_fakes import API_KEY, MODEL, URL_PATTERN, Runner


@pytest.fixture
def gemini_env(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean configuration choosing ``gemini:gemini-2.5-flash``, with a key set."""
    pocketflow_env.setenv("GEMINI_API_KEY", API_KEY)
    pocketflow_env.setenv("POCKETFLOW_LLM", f"gemini:{MODEL}")
    return pocketflow_env


@pytest.fixture
def gemini_api(vendor_http: respx.MockRouter) -> respx.Route:
    """The mocked generate and stream endpoints (give them a response in the test)."""
    return vendor_http.post(url__regex=URL_PATTERN)


@pytest.fixture
def run() -> Runner:
    """Run a coroutine on a new event loop, then close the runtime's clients on it."""
    return run_and_close
