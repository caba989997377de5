"""Structured output through the facades: output=T on the offline provider, asking
again when a reply does not fit, and providers with no structured output of their own."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

import pydantic
import pytest

from pocketflow import call_llm_async, complete_async, stream_llm_async
from pocketflow.errors import OutputValidationError, UnsupportedRequestError
from pocketflow.offline import Script
from pocketflow.parts import ImagePart, TextPart
from pocketflow.plugins import reset_plugins
from pocketflow.runtime import reset_runtime

ScriptFactory = Callable[..., Script]


@dataclass
class Verdict:
    """Whether a claim holds."""

    claim: str
    holds: bool
    confidence: float
    kind: Literal["fact", "opinion"] = "fact"


class Movie(TypedDict):
    title: str
    year: int


class City(pydantic.BaseModel):
    name: str
    population: int = pydantic.Field(ge=0)


PERSON_SCHEMA = {
    "type": "object",
    "title": "person",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def test_offline_models_answer_schema_valid_output_for_every_kind_of_type(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> list[object]:
        return [
            await call_llm_async("Is water wet?", model="offline:summarize", output=kind)
            for kind in (Verdict, Movie, City, PERSON_SCHEMA)
        ]

    verdict, movie, city, person = asyncio.run(scenario())
    assert isinstance(verdict, Verdict) and verdict.kind == "fact"
    assert verdict.claim.startswith("[offline] Is water wet?")
    assert isinstance(movie, dict) and set(movie) == {"title", "year"}
    assert isinstance(city, City) and city.population == 0
    assert person == {"name": "[offline] Is water wet?", "age": 0}


def test_scripted_json_is_validated_and_built(llm_script: ScriptFactory) -> None:
    llm_script(['{"claim": "sky is blue", "holds": true, "confidence": 1}'])
    verdict = asyncio.run(call_llm_async("Check", output=Verdict))
    assert verdict == Verdict("sky is blue", True, 1.0)
    assert isinstance(verdict.confidence, float)


def test_a_reply_in_a_code_fence_is_still_read(llm_script: ScriptFactory) -> None:
    llm_script(['Here:\n```json\n{"title": "Up", "year": 2009}\n```'])
    assert asyncio.run(call_llm_async("Movie?", output=Movie)) == {"title": "Up", "year": 2009}


def test_a_reply_that_does_not_fit_is_asked_for_again_with_the_error(
    llm_script: ScriptFactory,
) -> None:
    script = llm_script(['{"title": "Up"}', '{"title": "Up", "year": 2009}'])
    response = asyncio.run(complete_async("Movie?", output=Movie))
    assert response.output == {"title": "Up", "year": 2009}
    retry = script.requests[1].messages
    assert [m.role for m in retry] == ["user", "assistant", "user"]
    assert retry[1].text == '{"title": "Up"}'
    assert "$: the required key 'year' is missing" in retry[2].text


def test_a_reply_that_never_fits_raises_with_the_raw_reply_and_the_errors(
    llm_script: ScriptFactory,
) -> None:
    script = llm_script(['{"name": "x", "population": -5}'])
    with pytest.raises(OutputValidationError) as caught:
        asyncio.run(call_llm_async("City?", output=City, output_retries=2))
    assert len(script.requests) == 3
    assert caught.value.raw == '{"name": "x", "population": -5}'
    assert any("population" in error for error in caught.value.errors)
    assert "offline:scripted's reply does not fit the output type after 3 attempt(s)" in str(
        caught.value
    )


def test_not_json_at_all_is_a_validation_error(llm_script: ScriptFactory) -> None:
    llm_script(["I cannot answer that."])
    with pytest.raises(OutputValidationError, match="the reply is not JSON"):
        asyncio.run(call_llm_async("Movie?", output=Movie, output_retries=0))


def test_an_output_that_is_not_a_type_or_schema_is_refused(llm_script: ScriptFactory) -> None:
    llm_script(["{}"])
    with pytest.raises(TypeError, match="output= takes a pydantic model, a dataclass"):
        asyncio.run(call_llm_async("x", output=int))
    with pytest.raises(TypeError, match="must describe a JSON object"):
        asyncio.run(call_llm_async("x", output={"type": "string"}))


def test_streamed_output_is_parsed_when_the_stream_ends(pocketflow_env: pytest.MonkeyPatch) -> None:
    async def scenario() -> tuple[str, object]:
        stream = stream_llm_async("Is it?", model="offline:summarize", output=Verdict)
        text = "".join([chunk async for chunk in stream])
        assert stream.response is not None
        return text, stream.response.output

    text, output = asyncio.run(scenario())
    assert text.startswith('{"claim": "[offline] Is it?"')
    assert output == Verdict("[offline] Is it?", False, 0.0)


# --- a provider that declares no capabilities -------------------------------------------------

PLAIN_PLUGIN = """
    import json
    from pocketflow import hookimpl
    from pocketflow.providers import LLMProvider, LLMResponse

    SEEN = []

    class Plain(LLMProvider):
        async def complete(self, request):
            SEEN.append(request)
            return LLMResponse('{"title": "Up", "year": 2009}', request.model, self.name)

    @hookimpl
    def register_llm_providers(register):
        register("plain", Plain, description="text only")
"""


@pytest.fixture
def plain_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pocketflow_env: pytest.MonkeyPatch
) -> Iterator[object]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "plainplug.py").write_text(textwrap.dedent(PLAIN_PLUGIN), encoding="utf-8")
    info = site / "plainplug-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plainplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pocketflow]\nplainplug = plainplug\n")
    monkeypatch.syspath_prepend(str(site))
    reset_plugins()
    reset_runtime()
    import plainplug  # type: ignore[import-not-found]

    plainplug.SEEN.clear()
    yield plainplug
    reset_plugins()
    reset_runtime()


def test_a_provider_without_structured_output_gets_the_schema_in_the_prompt(
    plain_provider: object,
) -> None:
    movie = asyncio.run(call_llm_async("Movie?", model="plain:m", output=Movie, system="Be brief."))
    assert movie == {"title": "Up", "year": 2009}
    sent = plain_provider.SEEN[0]  # type: ignore[attr-defined]
    assert sent.system.startswith("Be brief.\n\nReply with only a JSON value")
    assert '"required":["title","year"]' in sent.system


def test_a_part_the_provider_cannot_take_is_refused_before_sending(plain_provider: object) -> None:
    image = ImagePart.from_bytes(b"\x89PNG", "image/png")
    message = {"role": "user", "content": [TextPart("What is this?"), image]}
    with pytest.raises(UnsupportedRequestError, match="plain:m cannot take image parts"):
        asyncio.run(call_llm_async([message], model="plain:m"))
    with pytest.raises(UnsupportedRequestError, match="plain:m does not support tools"):
        asyncio.run(call_llm_async("x", model="plain:m", tools=[len]))
    assert plain_provider.SEEN == []  # type: ignore[attr-defined]


def test_import_pocketflow_does_not_import_pydantic() -> None:
    probe = (
        "import sys, pocketflow\n"
        "lazy = [m for m in ('pocketflow.structured', 'pocketflow.tools') if m in sys.modules]\n"
        "import pocketflow.structured, pocketflow.tools\n"
        "print('pydantic' in sys.modules, lazy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False []"  # and the schema machinery loads on first use
