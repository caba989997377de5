"""embed_async on Vertex AI, against mocked HTTP: ``predict`` for the text embedding
models, ``batchEmbedContents`` for Gemini's; bodies asserted as google-genai sends them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import google.auth
import httpx
import pytest
import respx
from gemini_fakes import FakeCredentials, Runner, error_json

from pocketflow import embed_async
from pocketflow.errors import BadRequestError, MalformedResponseError

VERTEX = (
    r"https://europe-west4-aiplatform\.googleapis\.com/v1[a-z0-9]*/projects/my-project/"
    r"locations/europe-west4/publishers/google/models/"
)


@pytest.fixture
def vertex(pocketflow_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A ``vertex`` provider on a project, with credentials that need no network."""
    Path("pocketflow.toml").write_text(
        '[providers.vertex]\nproject = "my-project"\nlocation = "europe-west4"\n'
    )
    pocketflow_env.setattr(google.auth, "default", lambda **_: (FakeCredentials(), None))
    return pocketflow_env


def predictions(request: httpx.Request) -> httpx.Response:
    """Answers each instance with [its length, its position], counting 3 tokens each."""
    instances = json.loads(request.content)["instances"]
    return httpx.Response(
        200,
        json={
            "predictions": [
                {
                    "embeddings": {
                        "values": [float(len(instance["content"])), float(i)],
                        "statistics": {"token_count": 3, "truncated": False},
                    }
                }
                for i, instance in enumerate(instances)
            ]
        },
    )


def sent(route: respx.Route, call: int = 0) -> Any:
    return json.loads(route.calls[call].request.content)


def test_a_text_embedding_model_is_asked_through_predict(
    vertex: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(url__regex=VERTEX + r"text-embedding-005:predict$")
    route.mock(side_effect=predictions)

    embeddings = run(
        embed_async(
            ["owls", "bats"],
            model="vertex:text-embedding-005",
            dimensions=2,
            options={"taskType": "RETRIEVAL_DOCUMENT", "autoTruncate": False},
        )
    )

    assert embeddings.vectors == [[4.0, 0.0], [4.0, 1.0]]
    assert (embeddings.provider, embeddings.model) == ("vertex", "text-embedding-005")
    assert embeddings.usage.input_tokens == 6
    assert sent(route) == {
        "instances": [
            {"content": "owls", "task_type": "RETRIEVAL_DOCUMENT"},
            {"content": "bats", "task_type": "RETRIEVAL_DOCUMENT"},
        ],
        "parameters": {"autoTruncate": False, "outputDimensionality": 2},
    }
    assert route.calls.last.request.headers["authorization"] == "Bearer ya29.test-token"


def test_a_long_list_is_sent_250_texts_at_a_time_and_comes_back_in_order(
    vertex: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(url__regex=VERTEX + r"text-embedding-005:predict$")
    route.mock(side_effect=predictions)
    texts = ["x" * (1 + i % 7) for i in range(300)]

    embeddings = run(embed_async(texts, model="vertex:text-embedding-005"))

    assert sorted(len(sent(route, call)["instances"]) for call in range(2)) == [50, 250]
    assert [vector[0] for vector in embeddings.vectors] == [float(len(t)) for t in texts]
    assert (embeddings.batches, embeddings.usage.input_tokens) == (2, 900)


def test_a_gemini_embedding_model_is_asked_through_batch_embed_contents(
    vertex: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(url__regex=VERTEX + r"gemini-embedding-001:batchEmbedContents$")
    route.respond(json={"embeddings": [{"values": [0.5, 1]}, {"values": [0, -1.5]}]})

    embeddings = run(
        embed_async(
            ["owls", "bats"],
            model="vertex:gemini-embedding-001",
            dimensions=2,
            options={"taskType": "SEMANTIC_SIMILARITY"},
        )
    )

    assert embeddings.vectors == [[0.5, 1.0], [0.0, -1.5]]
    config = {"taskType": "SEMANTIC_SIMILARITY", "outputDimensionality": 2}
    assert sent(route) == {
        "requests": [
            {"content": {"parts": [{"text": "owls"}]}, "embedContentConfig": config},
            {"content": {"parts": [{"text": "bats"}]}, "embedContentConfig": config},
        ]
    }


def test_a_reply_with_too_few_predictions_is_malformed(
    vertex: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(url__regex=VERTEX + r"text-embedding-005:predict$")
    route.respond(json={"predictions": [{"embeddings": {"values": [0.5]}}]})
    with pytest.raises(MalformedResponseError, match="1 predictions for 2 texts"):
        run(embed_async(["a", "b"], model="vertex:text-embedding-005"))


def test_a_request_over_the_token_limit_is_the_vendors_message_not_retried(
    vertex: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    route = vendor_http.post(url__regex=VERTEX + r"text-embedding-005:predict$")
    message = (
        "Unable to submit request because the input token count is 31000 but the limit is 20000."
    )
    route.respond(400, json=error_json(400, message))
    with pytest.raises(BadRequestError, match="the limit is 20000") as error:
        run(embed_async(["long text"] * 3, model="vertex:text-embedding-005"))
    assert route.call_count == 1
    assert "ya29" not in str(error.value)


def test_the_abilities_declared_at_registration_are_what_the_providers_do(
    vertex: pytest.MonkeyPatch,
) -> None:
    from pocketflow.runtime import current_runtime

    runtime = current_runtime()
    for name in ("gemini", "vertex"):
        declared = runtime.plugins.llm_providers[name].abilities
        assert declared == runtime.provider(name).provider.abilities(), name
