"""The embedding conformance suite: the tests every provider that makes embeddings passes.

It checks ``embed_async`` on a provider's embedding model through the public facade
against mocked vendor HTTP: the texts sent in order and the vectors read back in order,
usage, ``dimensions`` passed on, a long list split at the provider's maximum per
request, and errors (auth not retried and the key never shown, rate limits retried, a
reply that is not JSON malformed). A plugin describes its Embeddings API once, in an
:class:`EmbeddingWire`, and runs the suite by subclassing it::

    from pocketflow.testing import EmbeddingConformance, EmbeddingWire

    class MyEmbeddingWire(EmbeddingWire):
        model = "myvendor:embed-small"
        url = "https://api.myvendor.example/v1/embed"
        key_variable = "MYVENDOR_API_KEY"
        max_inputs = 100
        ...  # the replies the API sends and what a request body holds

    class TestMyVendorEmbeddings(EmbeddingConformance):
        wire = MyEmbeddingWire()

Needs pytest and respx (``pocketflow-core[testing]``).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from pocketflow import embed_async, track_usage
from pocketflow.conformance import SECRET, WireSuite
from pocketflow.errors import AuthenticationError, MalformedResponseError
from pocketflow.testing import fake_clock, mock_vendor_http


class EmbeddingWire(ABC):
    """A vendor's Embeddings API as the suite needs to know it. ``model`` is the
    "provider:model" the suite embeds with; ``max_inputs`` the texts one request takes
    (the provider's ``max_embedding_inputs``)."""

    model: ClassVar[str]
    url: ClassVar[str]
    key_variable: ClassVar[str]
    max_inputs: ClassVar[int]

    def configure(self, env: pytest.MonkeyPatch) -> None:
        """Set up the environment so ``model`` is usable (by default: the key)."""
        env.setenv(self.key_variable, SECRET)

    @abstractmethod
    def embedding_reply(self, vectors: Sequence[Sequence[float]], *, input_tokens: int) -> Any:
        """A whole reply (its JSON) holding ``vectors`` in order, with that usage."""

    @abstractmethod
    def error_reply(self, status: int, message: str) -> Any:
        """The JSON error body the API sends with ``status``."""

    @abstractmethod
    def sent_texts(self, body: Mapping[str, Any]) -> list[str]:
        """The texts a request body asks to embed, in order."""

    @abstractmethod
    def sent_dimensions(self, body: Mapping[str, Any]) -> int | None:
        """The vector length a request body asks for (None: the model's own)."""


def _vector(text: str) -> list[float]:
    """What the mocked vendor answers for ``text``: its length and its first letter."""
    return [float(len(text)), float(ord(text[0])) if text else 0.0, 0.5]


class EmbeddingConformance(WireSuite):
    """The suite: subclass it with ``wire = <EmbeddingWire>()``."""

    wire: ClassVar[EmbeddingWire]

    @pytest.fixture(autouse=True)
    def _vendor(self, pocketflow_env: pytest.MonkeyPatch) -> Iterator[Any]:
        self.wire.configure(pocketflow_env)
        with mock_vendor_http() as http, fake_clock():
            self.route = http.post(self.wire.url)
            yield http

    def _answer_each_text(self, input_tokens_per_text: int = 2) -> None:
        """Answer every request with a vector per text it sent (see :func:`_vector`)."""
        import httpx

        def answer(request: Any) -> httpx.Response:
            texts = self.wire.sent_texts(json.loads(request.content))
            reply = self.wire.embedding_reply(
                [_vector(text) for text in texts], input_tokens=input_tokens_per_text * len(texts)
            )
            return httpx.Response(200, json=reply)

        self.route.side_effect = answer

    # --- request mapping and response parsing ----------------------------------------------

    def test_texts_are_sent_in_order_and_vectors_read_in_order(self) -> None:
        self._answer_each_text()
        texts = ["alpha", "bravo two", "c"]
        with track_usage() as usage:
            result = self._run(embed_async(texts, model=self.wire.model))
        assert self.wire.sent_texts(self._bodies()[0]) == texts
        assert result.vectors == [_vector(text) for text in texts]
        assert result.provider == self.wire.model.partition(":")[0]
        assert (result.usage.input_tokens, usage.embedding_tokens) == (6, 6)

    def test_one_text_gives_one_vector(self) -> None:
        self._answer_each_text()
        result = self._run(embed_async("solo", model=self.wire.model))
        assert result.vector == _vector("solo")

    def test_dimensions_are_sent(self) -> None:
        self._answer_each_text()
        self._run(embed_async(["x"], model=self.wire.model, dimensions=3))
        assert self.wire.sent_dimensions(self._bodies()[0]) == 3

    def test_a_list_longer_than_a_request_takes_is_split_and_kept_in_order(self) -> None:
        self._answer_each_text()
        texts = [f"text {n}" for n in range(self.wire.max_inputs + 1)]
        result = self._run(embed_async(texts, model=self.wire.model))
        sizes = sorted(len(self.wire.sent_texts(body)) for body in self._bodies())
        assert sizes == [1, self.wire.max_inputs]
        assert result.batches == 2
        assert result.vectors == [_vector(text) for text in texts]

    # --- errors ----------------------------------------------------------------------------

    def test_authentication_error_is_not_retried_and_hides_the_key(self) -> None:
        self.route.respond(401, json=self.wire.error_reply(401, "invalid key"))
        with pytest.raises(AuthenticationError) as caught:
            self._run(embed_async("x", model=self.wire.model))
        assert self.route.call_count == 1
        assert SECRET not in str(caught.value)

    def test_rate_limit_is_retried(self) -> None:
        import httpx

        self.route.side_effect = [
            httpx.Response(429, json=self.wire.error_reply(429, "slow down")),
            httpx.Response(200, json=self.wire.embedding_reply([[1.0, 2.0]], input_tokens=1)),
        ]
        result = self._run(embed_async("x", model=self.wire.model))
        assert (result.vector, result.attempts, self.route.call_count) == ([1.0, 2.0], 2, 2)

    def test_a_reply_that_is_not_json_is_malformed(self) -> None:
        self.route.respond(200, content=b"<html>oops</html>")
        with pytest.raises(MalformedResponseError):
            self._run(embed_async("x", model=self.wire.model, max_retries=0))
