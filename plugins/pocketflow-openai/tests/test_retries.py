"""The core's call policy retries what the provider reports as retryable, once each time.

The SDK's own retries are off, so every attempt here is one HTTP request, and the
waits are the core's (on virtual time: nothing really sleeps).
"""

from __future__ import annotations

import httpx
import pytest
import respx
from openai_fakes import CHAT_URL, Runner, chat_completion, error_body

from pocketflow import call_llm_async
from pocketflow.errors import RateLimitError
from pocketflow.testing import FakeClock

RATE_LIMITED = error_body("Rate limit reached for gpt-4o-mini.", kind="requests")


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"retry-after": "2"}, 2.0), ({"retry-after-ms": "1500"}, 1.5)],
    ids=["retry-after", "retry-after-ms"],
)
def test_a_rate_limit_waits_as_the_vendor_says(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    fake_clock: FakeClock,
    headers: dict[str, str],
    wait: float,
) -> None:
    route = vendor_http.post(CHAT_URL).mock(
        side_effect=[
            httpx.Response(429, json=RATE_LIMITED, headers=headers),
            httpx.Response(200, json=chat_completion("Done.")),
        ]
    )

    assert run(call_llm_async("hi")) == "Done."
    assert fake_clock.sleeps == [wait]
    assert route.call_count == 2


def test_a_server_error_is_retried(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    fake_clock: FakeClock,
) -> None:
    route = vendor_http.post(CHAT_URL).mock(
        side_effect=[
            httpx.Response(500, json=error_body("The server had an error.", kind="server_error")),
            httpx.Response(200, json=chat_completion("Recovered.")),
        ]
    )

    assert run(call_llm_async("hi")) == "Recovered."
    assert route.call_count == 2
    assert len(fake_clock.sleeps) == 1


def test_a_rate_limit_that_persists_reports_the_wait_asked_for(
    openai_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    run: Runner,
    fake_clock: FakeClock,
) -> None:
    vendor_http.post(CHAT_URL).respond(429, json=RATE_LIMITED, headers={"retry-after": "3"})

    with pytest.raises(RateLimitError, match=r"retry after 3s\): Rate limit reached"):
        run(call_llm_async("hi", max_retries=1))
