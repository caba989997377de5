"""Helpers for tests, ours and users': scripted replies and verdicts, a fake clock,
and HTTP mocking that reaches the vendor SDKs.

The openai and anthropic SDKs run on httpx2, whose transport is httpcore2; plain
``respx.mock()`` patches httpcore and so misses them. :func:`mock_vendor_http`
points respx at httpcore2, so a test mocks vendor HTTP with ordinary respx routes::

    with mock_vendor_http() as http:
        http.post("https://api.openai.com/v1/chat/completions").respond(json={...})

The pytest fixtures built on these live in :mod:`pocketflow.pytest_plugin` and are
available in every test once pocketflow-core is installed (``pytest11`` entry point).
respx is needed only for :func:`mock_vendor_http`: install ``pocketflow-core[testing]``.

The provider conformance suite, :class:`ProviderConformance` with the
:class:`VendorWire` a plugin describes its API in, lives in
:mod:`pocketflow.conformance` and is importable from here; so is the embedding suite,
:class:`EmbeddingConformance` with its :class:`EmbeddingWire`
(:mod:`pocketflow.embedding_conformance`).
:class:`RunStoreContract` is the test kit a run store plugin runs against itself, and
:class:`ExecutorContract` the one an executor plugin runs (each loaded on first use,
so importing this module loads no durable-run or executor machinery).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pocketflow import offline, policy
from pocketflow.offline import Reply, Script
from pocketflow.parts import ToolCall
from pocketflow.sync import run_and_close as run_and_close

if TYPE_CHECKING:
    import respx

    from pocketflow.conformance import ProviderConformance as ProviderConformance
    from pocketflow.conformance import SentMessage as SentMessage
    from pocketflow.conformance import VendorWire as VendorWire
    from pocketflow.embedding_conformance import EmbeddingConformance as EmbeddingConformance
    from pocketflow.embedding_conformance import EmbeddingWire as EmbeddingWire
    from pocketflow.executor_contract import ExecutorContract as ExecutorContract
    from pocketflow.runs.store_contract import RunStoreContract as RunStoreContract

_CONFORMANCE_NAMES = ("ProviderConformance", "SentMessage", "VendorWire")
_EMBEDDING_NAMES = ("EmbeddingConformance", "EmbeddingWire")


def __getattr__(name: str) -> Any:
    # The conformance suite imports pytest, the store kit the durable-run layer: each
    # is loaded only when asked for.
    if name in _CONFORMANCE_NAMES:
        from pocketflow import conformance

        return getattr(conformance, name)
    if name in _EMBEDDING_NAMES:
        from pocketflow import embedding_conformance

        return getattr(embedding_conformance, name)
    if name == "ExecutorContract":
        from pocketflow.executor_contract import ExecutorContract

        return ExecutorContract
    if name == "RunStoreContract":
        from pocketflow.runs.store_contract import RunStoreContract

        return RunStoreContract
    raise AttributeError(f"module 'pocketflow.testing' has no attribute {name!r}")


HTTPCORE2_TARGETS = [
    "httpcore2._sync.connection.HTTPConnection",
    "httpcore2._sync.connection_pool.ConnectionPool",
    "httpcore2._sync.http_proxy.HTTPProxy",
    "httpcore2._async.connection.AsyncHTTPConnection",
    "httpcore2._async.connection_pool.AsyncConnectionPool",
    "httpcore2._async.http_proxy.AsyncHTTPProxy",
]
MOCKER_NAME = "httpcore2"


def _register_httpcore2_mocker() -> None:
    """Teach respx the "httpcore2" mocker (once per process)."""
    from respx.mocks import HTTPCoreMocker, Mocker

    if MOCKER_NAME in Mocker.registry:
        return

    class HTTPCore2Mocker(HTTPCoreMocker):  # registered by respx on definition
        name = MOCKER_NAME
        targets = HTTPCORE2_TARGETS

        @classmethod
        def from_sync_httpx_response(cls, httpx_response: Any, target: Any, **kwargs: Any) -> Any:
            import httpcore2

            return httpcore2.Response(
                status=httpx_response.status_code,
                headers=httpx_response.headers.raw,
                content=httpx_response.stream,
                extensions=httpx_response.extensions,
            )


@contextmanager
def mock_vendor_http(
    *, assert_all_called: bool = False, assert_all_mocked: bool = True
) -> Iterator[respx.MockRouter]:
    """A respx router that intercepts httpx2 (the vendor SDKs) as well as httpx.

    Needs respx: install the ``testing`` extra, ``pocketflow-core[testing]``.
    """
    try:
        import respx
        from respx.mocks import HTTPCoreMocker
    except ImportError as error:
        raise ImportError(
            "the vendor_http fixture (pocketflow.testing.mock_vendor_http) needs respx, which "
            "is not installed. Install pocketflow-core with its testing extra: "
            "pocketflow-core[testing] (from a checkout: uv add --dev --editable "
            "'CHECKOUT/packages/pocketflow-core[testing]', or pip install -e "
            "'CHECKOUT/packages/pocketflow-core[testing]'), or pip install respx."
        ) from error

    _register_httpcore2_mocker()
    with respx.mock(
        using=MOCKER_NAME,
        assert_all_called=assert_all_called,
        assert_all_mocked=assert_all_mocked,
    ) as router:
        HTTPCoreMocker.register(router)  # the same routes answer plain httpx
        HTTPCoreMocker.start()
        try:
            yield router
        finally:
            HTTPCoreMocker.unregister(router)
            HTTPCoreMocker.stop()


@contextmanager
def script_llm(
    replies: Sequence[Reply] | Reply = (), *, rules: dict[str, Reply] | None = None
) -> Iterator[Script]:
    """Make ``offline:scripted`` answer from ``replies`` (in turn) and ``rules``.

    A reply is text, a :class:`~pocketflow.parts.ToolCall` (or a list of them: the
    tools the model asks for), an exception to raise (e.g. ``RateLimitError(...)``) or
    a function of the request. ``script.requests`` records every request answered.
    """
    turns: list[Reply]
    if isinstance(replies, (str, BaseException, ToolCall)) or callable(replies):
        turns = [replies]
    else:
        turns = list(replies)
    script = Script(replies=turns, rules=list((rules or {}).items()))
    previous = offline.active_script
    offline.active_script = script
    try:
        yield script
    finally:
        offline.active_script = previous


class FakeClock(policy.Clock):
    """Virtual time for the call policy: sleeping returns at once and moves time on.

    ``sleeps`` records every wait the policy asked for.
    """

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        """Virtual seconds."""
        return self.time

    async def sleep(self, seconds: float) -> None:
        """Record ``seconds`` and advance virtual time by it (not past later wake-ups)."""
        self.sleeps.append(seconds)
        wake = self.time + seconds
        await asyncio.sleep(0)
        self.time = max(self.time, wake)


@contextmanager
def fake_clock() -> Iterator[FakeClock]:
    """Run the call policy on a :class:`FakeClock` inside the block."""
    clock = FakeClock()
    previous = policy.clock
    policy.clock = clock
    try:
        yield clock
    finally:
        policy.clock = previous
