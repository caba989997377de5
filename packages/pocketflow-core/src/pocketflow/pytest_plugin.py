"""pytest fixtures for testing PocketFlow programs (loaded through ``pytest11``).

* ``pocketflow_env`` - a clean configuration: no POCKETFLOW_*, OPENAI_*,
  AZURE_OPENAI_* or ANTHROPIC_* variables, the working directory an empty temporary
  folder (so relative paths, and a pocketflow.toml written there, resolve in it; it is
  changed back after the test), a fresh runtime. ``llm_script`` and ``feedback_script``
  use it, so they change the working directory too.
* ``llm_script`` - ``llm_script(["first reply", "second"])`` makes
  ``offline:scripted`` the model and returns the :class:`~pocketflow.offline.Script`.
* ``feedback_script`` - ``feedback_script("deny", "approve")`` sets the verdicts.
* ``llm_calls`` - the list of every LLM call record made during the test.
* ``fake_clock`` - virtual time for retries and limits: nothing really sleeps.
* ``vendor_http`` - a respx router that also intercepts the vendor SDKs (httpx2);
  needs respx: install ``pocketflow-core[testing]``.

The fixtures are plain (sync) fixtures, so ``async def`` tests use them under any
runner: ``@pytest.mark.anyio`` (anyio's plugin, in the testing extra) or
pytest-asyncio's ``@pytest.mark.asyncio``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

from pocketflow import testing
from pocketflow.calls import LLMCallRecord, track_usage
from pocketflow.offline import Reply, Script
from pocketflow.runtime import reset_runtime

if TYPE_CHECKING:
    import respx

pytest.register_assert_rewrite("pocketflow.conformance")  # readable failures in the suite

_CLEARED_PREFIXES = ("POCKETFLOW_", "OPENAI_", "AZURE_OPENAI_", "ANTHROPIC_", "GEMINI_", "GOOGLE_")
"""Settings, keys, base URLs and ids that PocketFlow or the vendor SDKs read."""


@pytest.fixture
def pocketflow_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[pytest.MonkeyPatch]:
    """A clean PocketFlow configuration; returns the monkeypatch to set more."""
    for variable in [name for name in os.environ if name.startswith(_CLEARED_PREFIXES)]:
        monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path_factory.mktemp("pocketflow_cwd"))
    reset_runtime()
    yield monkeypatch
    reset_runtime()


@pytest.fixture
def llm_script(pocketflow_env: pytest.MonkeyPatch) -> Iterator[Callable[..., Script]]:
    """Script the LLM: ``llm_script(replies, rules=...)`` returns the Script."""
    with ExitStack() as scripts:

        def start(
            replies: Sequence[Reply] | Reply = (), *, rules: dict[str, Reply] | None = None
        ) -> Script:
            pocketflow_env.setenv("POCKETFLOW_LLM", "offline:scripted")
            return scripts.enter_context(testing.script_llm(replies, rules=rules))

        yield start


@pytest.fixture
def feedback_script(pocketflow_env: pytest.MonkeyPatch) -> Callable[..., None]:
    """Script the verdicts: ``feedback_script("deny", "approve")``."""

    def start(*decisions: str) -> None:
        pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "auto:" + ",".join(decisions or ("approve",)))

    return start


@pytest.fixture
def llm_calls() -> Iterator[list[LLMCallRecord]]:
    """Every LLM call made during the test, in order."""
    with track_usage(keep_records=True) as tally:
        assert tally.records is not None
        yield tally.records


@pytest.fixture
def fake_clock() -> Iterator[testing.FakeClock]:
    """Virtual time for the call policy."""
    with testing.fake_clock() as clock:
        yield clock


@pytest.fixture
def vendor_http() -> Iterator[respx.MockRouter]:
    """A respx router that intercepts the vendor SDKs (httpx2) and httpx."""
    with testing.mock_vendor_http() as router:
        yield router
