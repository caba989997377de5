"""Fixtures for the anthropic provider's tests: a configured environment, the mocked
Messages API endpoint, and a runner that closes the clients it made."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anthropic
import pytest
import respx

from pocketflow.testing import run_and_close

sys.path.insert(0, str(Path(__file__).parent))
from anthropic_fakes import API_KEY, MESSAGES_URL, MODEL, Runner


@pytest.fixture
def anthropic_env(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean configuration choosing ``anthropic:claude-haiku-4-5``, with a key set."""
    pocketflow_env.setenv("ANTHROPIC_API_KEY", API_KEY)
    pocketflow_env.setenv("POCKETFLOW_LLM", f"anthropic:{MODEL}")
    return pocketflow_env


@pytest.fixture
def messages_api(vendor_http: respx.MockRouter) -> respx.Route:
    """The mocked ``POST /v1/messages`` route (give it a response in the test)."""
    return vendor_http.post(MESSAGES_URL)


@pytest.fixture
def run() -> Runner:
    """Run a coroutine on a new event loop, then close the runtime's clients on it."""
    return run_and_close


@pytest.fixture
def made_clients(monkeypatch: pytest.MonkeyPatch) -> list[anthropic.AsyncAnthropic]:
    """Every ``anthropic.AsyncAnthropic`` the provider makes during the test, in order."""
    made: list[anthropic.AsyncAnthropic] = []

    class RecordedClient(anthropic.AsyncAnthropic):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            made.append(self)

    monkeypatch.setattr(anthropic, "AsyncAnthropic", RecordedClient)
    return made
