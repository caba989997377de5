"""embed_async / embed through the public API: batching, order, config, policy, fallbacks.

The offline ``offline:hash`` model answers most tests; a small plugin installed through
an entry point (``embedder``) stands in for a vendor that fails, is slow, or answers
with vectors of another length, and observes the embedding call hooks.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pocketflow import AsyncFlow, AsyncNode, Embeddings, embed, embed_async, track_usage
from pocketflow.cli import main
from pocketflow.errors import (
    ConfigError,
    EmbeddingDimensionError,
    MalformedResponseError,
    ProviderNotFoundError,
    RateLimitError,
    ServerError,
    UnsupportedRequestError,
)
from pocketflow.offline import hash_vector
from pocketflow.plugins import reset_plugins
from pocketflow.runtime import reset_runtime
from pocketflow.testing import FakeClock

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")

EMBEDDER = """
    import asyncio

    from pocketflow import hookimpl
    from pocketflow.capabilities import Capabilities
    from pocketflow.errors import BadRequestError, RateLimitError, ServerError
    from pocketflow.providers import EmbeddingResponse, LLMProvider, Usage

    failures = {}     # model -> errors to raise, one per request, in turn
    requests = []     # (model, number of texts) of every request
    in_flight = [0, 0]  # now, most at once
    short_reply = set()  # models that answer with one vector too few
    events = []


    class Embedder(LLMProvider):
        # models "dimN" make N-long vectors whose first value is the text's length
        def capabilities_for(self, model):
            return Capabilities(
                embeddings=True, max_embedding_inputs=10,
                embedding_dimensions=int(model[3:]) if model.startswith("dim") else None,
            )

        async def complete(self, request):
            raise NotImplementedError

        async def embed(self, request):
            requests.append((request.model, len(request.texts)))
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
            try:
                await asyncio.sleep(0.01)
                errors = failures.get(request.model)
                if errors:
                    raise errors.pop(0)
                size = int(request.model.lstrip("dimfree")) if request.model != "free" else 3
                texts = request.texts[:-1] if request.model in short_reply else request.texts
                return EmbeddingResponse(
                    [[float(len(t))] + [0.0] * (size - 1) for t in texts],
                    request.model, self.name, Usage(input_tokens=len(request.texts)),
                )
            finally:
                in_flight[0] -= 1


    @hookimpl
    def register_llm_providers(register):
        register("embedder", Embedder, description="test embedder")


    @hookimpl
    def embedding_call_started(call):
        events.append(("start", call.model, call.provider, len(call.request.texts)))


    @hookimpl
    def embedding_call_finished(record):
        answered = record.embeddings
        events.append(("finish", record.model, answered.batches if answered else None,
                       type(record.error).__name__ if record.error else None,
                       record.call is not None))
"""


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.fixture
def offline(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    pocketflow_env.setenv("POCKETFLOW_EMBEDDING", "offline:hash")
    return pocketflow_env


@pytest.fixture
def embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pocketflow_env: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The test embedder plugin, installed as a distribution with a ``pocketflow`` entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "embedder.py").write_text(textwrap.dedent(EMBEDDER), encoding="utf-8")
    info = site / "embedder-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: embedder\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pocketflow]\nembedder = embedder\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(__import__("sys").modules, "embedder", raising=False)
    reset_plugins()
    reset_runtime()
    import embedder  # type: ignore[import-not-found]

    yield embedder
    reset_plugins()
    reset_runtime()


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# --- the offline model and the result ------------------------------------------------------


def test_offline_hash_gives_one_normalised_512_vector_per_text_the_same_every_time(
    offline: pytest.MonkeyPatch,
) -> None:
    texts = ["the cat sat on the mat", "a cat sat on a mat", "bond yields rose in March"]
    result = run(embed_async(texts))
    assert (result.provider, result.model, result.dimensions) == ("offline", "hash", 512)
    assert result.vectors == [hash_vector(text) for text in texts]
    assert all(math.isclose(cosine(v, v), 1.0) for v in result.vectors)
    assert cosine(result.vectors[0], result.vectors[1]) > 0.5
    assert cosine(result.vectors[0], result.vectors[2]) < 0.2
    assert result.usage.input_tokens == 6 + 6 + 5
    assert result.cost is None  # offline answers have no price


def test_one_string_gives_one_vector_and_the_sync_twin_works(offline: Any) -> None:
    single = embed("hello world")
    assert single.vector == hash_vector("hello world")
    with pytest.raises(ValueError, match=r"holds 2 vectors, not one: read \.vectors"):
        _ = embed(["a", "b"]).vector


def test_dimensions_is_passed_to_the_model(offline: Any) -> None:
    assert embed("short vectors", dimensions=64).dimensions == 64


def test_a_long_list_is_split_into_batches_and_comes_back_in_order(offline: Any) -> None:
    texts = [f"document number {n} about topic {n % 7}" for n in range(600)]
    result = embed(texts)
    assert result.batches == 3  # offline:hash takes 256 texts a request
    assert result.attempts == 3
    assert result.vectors == [hash_vector(text) for text in texts]


def test_batch_size_caps_the_texts_per_request(offline: Any) -> None:
    result = embed([f"t{n}" for n in range(25)], batch_size=10)
    assert result.batches == 3


def test_the_result_is_a_plain_dataclass(offline: Any) -> None:
    result = embed("x")
    assert isinstance(result, Embeddings)
    assert result.latency >= 0


# --- configuration ---------------------------------------------------------------------------


def test_the_embedding_key_and_its_alias_come_from_pocketflow_toml(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    Path("pocketflow.toml").write_text('embedding = "docs"\n[aliases]\ndocs = "offline:hash"\n')
    result = embed("from the file")
    assert (result.provider, result.model) == ("offline", "hash")


def test_the_environment_wins_over_the_file_and_model_wins_over_both(
    pocketflow_env: pytest.MonkeyPatch,
) -> None:
    Path("pocketflow.toml").write_text('embedding = "nowhere:model"\n')
    pocketflow_env.setenv("POCKETFLOW_EMBEDDING", "offline:hash")
    assert embed("x").provider == "offline"
    with pytest.raises(ProviderNotFoundError, match="No LLM provider 'nowhere' is installed"):
        embed("x", model="nowhere:model")


def test_nothing_configured_says_how_to_choose_one(pocketflow_env: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        embed("x")
    message = str(caught.value)
    assert "No embedding model is configured" in message
    assert "POCKETFLOW_EMBEDDING=openai:text-embedding-3-small" in message
    assert 'embedding = "openai:text-embedding-3-small"' in message
    assert "POCKETFLOW_EMBEDDING=offline:hash" in message


def test_a_chat_model_is_refused_before_anything_is_sent(offline: Any) -> None:
    with pytest.raises(UnsupportedRequestError, match=r"'offline:echo' is not an embedding model"):
        embed("x", model="offline:echo")


def test_the_embedding_model_asked_for_an_answer_says_what_it_is_for(offline: Any) -> None:
    from pocketflow import call_llm

    with pytest.raises(ConfigError, match=r"offline:hash makes embeddings \(embed_async\)"):
        call_llm("hi", model="offline:hash")


def test_pocketflow_config_shows_the_embedding_model_and_its_source(
    offline: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "embedding = 'offline:hash'    [environment POCKETFLOW_EMBEDDING]" in out


def test_a_wrong_type_in_the_config_names_the_key(pocketflow_env: Any) -> None:
    Path("pocketflow.toml").write_text('embedding_fallbacks = ["offline:hash", 3]\n')
    with pytest.raises(ConfigError, match=r"'embedding_fallbacks\[1\]' must be an embedding model"):
        embed("x")


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        ([], ValueError, "got an empty list: pass at least one text"),
        (["fine", 42], TypeError, "text 1 is int 42, not a string"),
        (None, TypeError, "takes a string or a list of strings, not NoneType"),
    ],
)
def test_bad_texts_are_clear_errors(
    offline: Any, texts: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        embed(texts)


def test_bad_dimensions_or_batch_size_are_clear_errors(offline: Any) -> None:
    with pytest.raises(ValueError, match="dimensions must be a whole number greater than 0"):
        embed("x", dimensions=0)
    with pytest.raises(ValueError, match="batch_size must be a whole number greater than 0"):
        embed("x", batch_size=2.5)


# --- usage, the CLI ----------------------------------------------------------------------------


def test_track_usage_counts_embedding_calls_and_tokens(offline: Any) -> None:
    with track_usage() as usage:
        embed(["one two", "three"])
        embed("four five six")
    assert (usage.embedding_calls, usage.embedding_tokens) == (2, 6)
    assert (usage.calls, usage.input_tokens) == (0, 0)  # chat calls are counted apart


def test_pocketflow_models_says_what_each_provider_can_do(
    offline: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "Embedding model: offline:hash    [environment POCKETFLOW_EMBEDDING]" in out
    assert "can: chat, stream, structured, tools, embed" in out


# --- the call policy, with a vendor that misbehaves ----------------------------------------


def test_batches_run_concurrently_within_the_providers_limit(
    embedder: Any, pocketflow_env: Any
) -> None:
    Path("pocketflow.toml").write_text("[providers.embedder]\nmax_concurrency = 3\n")
    texts = [f"text {n}" for n in range(95)]
    result = embed(texts, model="embedder:dim4")
    assert result.batches == 10
    assert embedder.in_flight[1] == 3
    assert [vector[0] for vector in result.vectors] == [float(len(t)) for t in texts]


def test_a_rate_limited_batch_is_retried_alone(
    embedder: Any, pocketflow_env: Any, fake_clock: FakeClock
) -> None:
    embedder.failures["dim4"] = [RateLimitError("slow down", retry_after=2)]
    result = embed([f"t{n}" for n in range(15)], model="embedder:dim4")
    assert (result.batches, result.attempts) == (2, 3)
    assert fake_clock.sleeps == [2]
    assert len(result.vectors) == 15


def test_a_reply_with_too_few_vectors_is_retried_then_reported(
    embedder: Any, pocketflow_env: Any, fake_clock: FakeClock
) -> None:
    embedder.short_reply.add("dim4")
    with pytest.raises(MalformedResponseError, match="the reply holds 1 vectors for 2 texts"):
        embed(["a", "b"], model="embedder:dim4", max_retries=1)
    assert len(embedder.requests) == 2


def test_a_fallback_of_the_same_dimensions_embeds_the_whole_list_again(
    embedder: Any, pocketflow_env: Any, fake_clock: FakeClock
) -> None:
    Path("pocketflow.toml").write_text(
        'embedding = "embedder:dim4"\nembedding_fallbacks = ["embedder:free4"]\n'
        "[providers.embedder]\nmax_retries = 1\n"
    )
    embedder.failures["dim4"] = [ServerError("down")] * 4  # two batches, two tries each
    result = embed([f"t{n}" for n in range(12)])
    assert (result.provider, result.model, result.dimensions) == ("embedder", "free4", 4)
    assert ("free4", 10) in embedder.requests and ("free4", 2) in embedder.requests


def test_every_failed_batch_is_retrieved_not_left_for_asyncio_to_log(
    embedder: Any, pocketflow_env: Any, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    embedder.failures["dim4"] = [ServerError("down")] * 4  # both batches fail for good
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        with pytest.raises(ServerError, match="down"):
            embed([f"t{n}" for n in range(12)], model="embedder:dim4", max_retries=1)
        gc.collect()
    assert [record.getMessage() for record in caplog.records] == []


def test_a_fallback_of_other_dimensions_is_refused_naming_both(
    embedder: Any, pocketflow_env: Any, fake_clock: FakeClock
) -> None:
    Path("pocketflow.toml").write_text(
        'embedding = "embedder:dim4"\nembedding_fallbacks = ["embedder:dim8"]\n'
    )
    embedder.failures["dim4"] = [ServerError("down")] * 5
    with pytest.raises(EmbeddingDimensionError) as caught:
        embed("x")
    assert str(caught.value).startswith(
        "The embedding fallback embedder:dim8 makes 8-dimensional vectors, but "
        "embedder:dim4 makes 4-dimensional ones"
    )
    assert isinstance(caught.value, ConfigError)
    assert not any(model == "dim8" for model, _ in embedder.requests)  # refused before a call


def test_a_fallback_found_to_differ_only_by_its_answer_is_refused_too(
    embedder: Any, pocketflow_env: Any, fake_clock: FakeClock
) -> None:
    # "free" declares no vector length, so only its answer shows that it differs
    embedder.failures["dim4"] = [ServerError("down")] * 5
    with pytest.raises(EmbeddingDimensionError, match="fallback embedder:free makes 3-dim"):
        embed("x", model="embedder:dim4", fallbacks=["embedder:free"])  # free answers 3 long
    assert ("free", 1) in embedder.requests


def test_an_error_that_retrying_cannot_fix_does_not_fall_back(
    embedder: Any, pocketflow_env: Any
) -> None:
    from pocketflow.errors import BadRequestError

    embedder.failures["dim4"] = [BadRequestError("input too long")]
    with pytest.raises(BadRequestError, match=r"on embedder:dim4.*input too long"):
        embed("x", model="embedder:dim4", fallbacks=["embedder:free4"])
    assert embedder.requests == [("dim4", 1)]


def test_the_observer_hooks_see_each_call_start_and_finish(
    embedder: Any, pocketflow_env: Any
) -> None:
    embed([f"t{n}" for n in range(12)], model="embedder:dim4")
    with pytest.raises(UnsupportedRequestError):
        embed("x", model="offline:echo")
    assert embedder.events == [
        ("start", "embedder:dim4", "embedder", 12),
        ("finish", "embedder:dim4", 2, None, True),
        ("finish", "offline:echo", None, "UnsupportedRequestError", False),
    ]


# --- durable runs ------------------------------------------------------------------------------


class Crash(Exception):
    """Stands for the process dying after the embedding was paid for."""


class EmbedThenCrash(AsyncNode):
    def __init__(self) -> None:
        super().__init__()
        self.crashes = [Crash()]  # shared by the copies a run makes of its nodes

    async def exec_async(self, prep_res: Any) -> list[float]:
        result = await embed_async("the step's text")
        if self.crashes:
            raise self.crashes.pop()
        return result.vector

    async def post_async(self, shared: Any, prep_res: Any, exec_res: list[float]) -> None:
        shared["vector"] = exec_res


def test_a_resumed_durable_run_does_not_pay_for_an_embedding_twice(offline: Any) -> None:
    flow = AsyncFlow(start=EmbedThenCrash())
    with track_usage() as usage:
        with pytest.raises(Crash):
            run(flow.run_async({}, run_id="embed-run"))
        shared: dict[str, Any] = {}
        run(flow.run_async(shared, run_id="embed-run"))
    assert shared["vector"] == hash_vector("the step's text")
    assert usage.embedding_calls == 1  # the second time the journal answered
