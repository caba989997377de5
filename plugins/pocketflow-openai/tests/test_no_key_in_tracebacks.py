"""No API key in a printed traceback: neither in the chained SDK exception nor in the
reprs of the locals a debugger (or ``capture_locals``) shows."""

from __future__ import annotations

import traceback

import pytest
import respx
from openai_fakes import CHAT_URL, SECRET, Runner, error_body

from pocketflow import call_llm_async, stream_llm_async
from pocketflow.errors import AuthenticationError

AZURE_KEY = "azure-test-key-0123"
AZURE_URL = "https://example-resource.openai.azure.com/openai/deployments/my-mini/chat/completions"


def printed(error: BaseException) -> str:
    """The traceback as Python prints it, and once more with every frame's locals."""
    plain = "".join(traceback.format_exception(error))
    with_locals = traceback.TracebackException.from_exception(error, capture_locals=True)
    return plain + "".join(with_locals.format())


async def streamed(model: str) -> None:
    async for _ in stream_llm_async("hi", model=model):
        pass


@pytest.mark.parametrize("stream", [False, True], ids=["call", "stream"])
def test_an_echoed_openai_key_is_in_no_part_of_the_traceback(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner, stream: bool
) -> None:
    echoed = error_body(f"Incorrect API key provided: {SECRET}.", code="invalid_api_key")
    vendor_http.post(CHAT_URL).respond(401, json=echoed)
    del echoed  # only the error's own frames may be shown
    call = streamed("openai:gpt-4o-mini") if stream else call_llm_async("hi")

    with pytest.raises(AuthenticationError) as caught:
        run(call)

    assert "Incorrect API key provided: [redacted]" in printed(caught.value)
    assert SECRET not in printed(caught.value)


def test_an_echoed_azure_key_is_in_no_part_of_the_traceback(
    openai_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    openai_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    openai_env.setenv("AZURE_OPENAI_ENDPOINT", "https://example-resource.openai.azure.com/")
    echoed = error_body(f"Access denied: key {AZURE_KEY} is not valid.", code="401")
    vendor_http.post(AZURE_URL).respond(401, json=echoed)
    del echoed  # only the error's own frames may be shown

    with pytest.raises(AuthenticationError) as caught:
        run(call_llm_async("hi", model="azure:my-mini"))

    assert "openai.AuthenticationError" in printed(caught.value)
    assert AZURE_KEY not in printed(caught.value)
