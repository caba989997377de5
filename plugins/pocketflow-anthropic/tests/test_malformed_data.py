"""Malformed vendor data never crashes a call: it is ignored, or a MalformedResponseError."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from anthropic_fakes import Runner, error_json, message_json

from pocketflow import complete_async, track_usage
from pocketflow.testing import FakeClock


@pytest.mark.parametrize("bad", ["3", [1], 2.5, True, None], ids=repr)
def test_usage_that_is_not_an_integer_is_ignored_and_the_call_counted_once(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner, bad: Any
) -> None:
    usage = {"input_tokens": bad, "output_tokens": 4}
    messages_api.respond(json=message_json("Fine.", usage=usage))

    with track_usage() as tally:
        response = run(complete_async("hi"))

    assert response.text == "Fine."
    assert (response.usage.input_tokens, response.usage.output_tokens) == (0, 4)
    assert (tally.calls, tally.failed_calls, tally.output_tokens) == (1, 0, 4)


def test_a_retry_after_date_in_minus_zero_form_is_honoured(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner, fake_clock: FakeClock
) -> None:
    past = {"retry-after": "Wed, 21 Oct 2015 07:28:00 -0000"}  # RFC 5322: UTC, zone unknown
    messages_api.side_effect = [
        httpx.Response(429, json=error_json("rate_limit_error", "Slow down"), headers=past),
        httpx.Response(200, json=message_json("Done.")),
    ]

    assert run(complete_async("hi")).text == "Done."
    assert fake_clock.sleeps == [0.0]
    assert messages_api.call_count == 2
