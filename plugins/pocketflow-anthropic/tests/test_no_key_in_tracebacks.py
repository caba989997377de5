"""No API key in a printed traceback: neither in the chained SDK exception nor in the
reprs of the locals a debugger (or ``capture_locals``) shows."""

from __future__ import annotations

import traceback

import pytest
import respx
from anthropic_fakes import API_KEY, MODEL, Runner, error_json

from pocketflow import call_llm_async, stream_llm_async
from pocketflow.errors import AuthenticationError


def printed(error: BaseException) -> str:
    """The traceback as Python prints it, and once more with every frame's locals."""
    plain = "".join(traceback.format_exception(error))
    with_locals = traceback.TracebackException.from_exception(error, capture_locals=True)
    return plain + "".join(with_locals.format())


async def streamed() -> None:
    async for _ in stream_llm_async("hi"):
        pass


@pytest.mark.parametrize("stream", [False, True], ids=["call", "stream"])
def test_an_echoed_key_is_in_no_part_of_the_traceback(
    anthropic_env: pytest.MonkeyPatch, messages_api: respx.Route, run: Runner, stream: bool
) -> None:
    echoed = error_json("authentication_error", f"invalid x-api-key: {API_KEY}")
    messages_api.respond(401, json=echoed)
    del echoed  # only the error's own frames may be shown

    with pytest.raises(AuthenticationError) as caught:
        run(streamed() if stream else call_llm_async("hi"))

    assert "anthropic.AuthenticationError" in printed(caught.value)
    assert f"anthropic:{MODEL}" in printed(caught.value)
    assert API_KEY not in printed(caught.value)
