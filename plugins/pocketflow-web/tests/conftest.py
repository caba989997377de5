"""Fixtures for the review page's tests: a sqlite run store holding questions that real
durable runs asked (``inbox`` feedback), and HTTP clients for the app."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pocketflow import AsyncFlow
from pocketflow.errors import FlowSuspended
from pocketflow.runs.settings import close_stores, open_store
from pocketflow.runs.store import RunStore
from pocketflow_web import create_app

sys.path.insert(0, str(Path(__file__).parent))
from review_helpers import TOKEN, Runner, drafting_flow


@pytest.fixture
def store_url(
    pocketflow_env: pytest.MonkeyPatch, tmp_path: Path, llm_script: Callable[..., Any]
) -> Iterator[str]:
    """A sqlite store in tmp_path, the default for durable runs; inbox feedback."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    pocketflow_env.setenv("POCKETFLOW_RUNS", url)
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "inbox")
    llm_script(rules={"Write the draft": "Owls hunt at night.\nThey sleep by day."})
    yield url
    asyncio.run(close_stores())


@pytest.fixture
def store(store_url: str) -> RunStore:
    """The open store."""
    return open_store(store_url)


@pytest.fixture
def run_flow(store_url: str) -> Runner:
    """``run_flow(run_id, flow=drafting_flow, **shared)``: run durably; returns shared.

    A run that stops on its question returns normally: the question waits in the store.
    """

    def run(run_id: str, flow: Callable[[], AsyncFlow] = drafting_flow, **shared: Any) -> Any:
        state: dict[str, Any] = dict(shared)
        with contextlib.suppress(FlowSuspended):
            asyncio.run(flow().run_async(state, run_id=run_id))
        return state

    return run


@pytest.fixture
def anonymous(store: RunStore) -> Iterator[TestClient]:
    """A client of the app that has no token."""
    with TestClient(create_app(store, TOKEN), base_url="http://127.0.0.1:8421") as client:
        yield client


@pytest.fixture
def browser(anonymous: TestClient) -> TestClient:
    """A client that opened the printed address: it holds the session cookie."""
    response = anonymous.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    return anonymous


@pytest.fixture
def script(store: RunStore) -> Iterator[TestClient]:
    """A client that sends the token as a bearer header (chat bots, scripts)."""
    app = create_app(store, TOKEN)
    headers = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(app, base_url="http://127.0.0.1:8421", headers=headers) as client:
        yield client
