"""examples/ask_docs: on a folder of one's own, and on each vendor by configuration alone
(its one-command offline run is in test_examples_offline.py).

Offline it runs as a user runs it (a subprocess). On a vendor the example's own flow
runs in-process against mocked HTTP (``vendor_http``), and the request bodies are
asserted. ``VENDORS`` is a table: a vendor plugin adds its row (URLs, how its bodies
carry the texts and the prompt, how its replies look).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pocketflow import track_usage

from examples_support import EXAMPLES, load_example_flow, run_example

QUESTION = "How are failed calls retried?"
TOPICS = ("retr", "plugin", "embed", "journal", "key")


def topic_vector(text: str) -> list[float]:
    """A vector a mocked vendor answers with: how often each topic's stem occurs."""
    lowered = text.lower()
    return [float(lowered.count(stem)) + 0.01 for stem in TOPICS]


# --- the vendors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Vendor:
    """One vendor's row: its models, keys, endpoints and wire format."""

    name: str
    llm: str
    embedding: str
    env: dict[str, str]
    embed_url: str
    chat_url: str
    embed_reply: Callable[[list[str]], dict[str, Any]]
    """The embeddings reply for the texts of one request."""
    chat_reply: Callable[[str], dict[str, Any]]
    """The chat reply carrying ``text``."""
    texts_sent: Callable[[dict[str, Any]], list[str]]
    """The texts an embeddings request body asks for."""
    prompt_sent: Callable[[dict[str, Any]], tuple[str, str]]
    """(system, user prompt) of a chat request body."""
    check_embed_body: Callable[[dict[str, Any]], None] = field(default=lambda body: None)


def _openai_embed_reply(texts: list[str]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": topic_vector(text)}
            for i, text in enumerate(texts)
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 3 * len(texts), "total_tokens": 3 * len(texts)},
    }


def _openai_chat_reply(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62},
    }


def _openai_prompt(body: dict[str, Any]) -> tuple[str, str]:
    system, user = body["messages"]
    assert (system["role"], user["role"]) == ("system", "user")
    return system["content"], user["content"]


def _openai_embed_body(body: dict[str, Any]) -> None:
    assert body["model"] == "text-embedding-3-small"
    assert body["encoding_format"] == "float"


GEMINI = "https://generativelanguage.googleapis.com/v1beta/models/"


def _gemini_embed_reply(texts: list[str]) -> dict[str, Any]:
    return {"embeddings": [{"values": topic_vector(text)} for text in texts]}


def _gemini_chat_reply(text: str) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 12},
        "modelVersion": "gemini-2.5-flash",
    }


def _gemini_texts(body: dict[str, Any]) -> list[str]:
    return [one["content"]["parts"][0]["text"] for one in body["requests"]]


def _gemini_prompt(body: dict[str, Any]) -> tuple[str, str]:
    (user,) = body["contents"]
    assert user["role"] == "user"
    return body["systemInstruction"]["parts"][0]["text"], user["parts"][0]["text"]


def _gemini_embed_body(body: dict[str, Any]) -> None:
    assert {one["model"] for one in body["requests"]} == {"models/gemini-embedding-001"}


VENDORS = [
    Vendor(
        name="openai",
        llm="openai:gpt-4o-mini",
        embedding="openai:text-embedding-3-small",
        env={"OPENAI_API_KEY": "sk-test-openai"},
        embed_url="https://api.openai.com/v1/embeddings",
        chat_url="https://api.openai.com/v1/chat/completions",
        embed_reply=_openai_embed_reply,
        chat_reply=_openai_chat_reply,
        texts_sent=lambda body: list(body["input"]),
        prompt_sent=_openai_prompt,
        check_embed_body=_openai_embed_body,
    ),
    Vendor(
        name="gemini",
        llm="gemini:gemini-2.5-flash",
        embedding="gemini:gemini-embedding-001",
        env={"GEMINI_API_KEY": "AIza-test-gemini"},
        embed_url=GEMINI + "gemini-embedding-001:batchEmbedContents",
        chat_url=GEMINI + "gemini-2.5-flash:generateContent",
        embed_reply=_gemini_embed_reply,
        chat_reply=_gemini_chat_reply,
        texts_sent=_gemini_texts,
        prompt_sent=_gemini_prompt,
        check_embed_body=_gemini_embed_body,
    ),
]


# --- offline, as a user runs it ---------------------------------------------------------------


def test_ask_docs_asks_the_given_folder(tmp_path: Path) -> None:
    docs = tmp_path / "notes"
    docs.mkdir()
    (docs / "otters.txt").write_text("Otters hold hands while sleeping.\n\nOtters eat fish.")
    (docs / "bees.md").write_text("# Bees\n\nBees dance to show where flowers are.")
    result = run_example("ask_docs", "Why do bees dance?", "--docs", str(docs), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  [1] bees.md (similarity " in result.stdout
    assert "3 paragraphs of 2 files" in result.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "absent", "absent is not a folder: pass --docs DIR"),
        (lambda root: root, "holds no .md or .txt documents to ask"),
    ],
    ids=["missing", "empty"],
)
def test_a_folder_without_documents_is_a_clear_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    result = run_example("ask_docs", "--docs", str(make(tmp_path)), cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --- on each vendor, by configuration alone ---------------------------------------------------


@pytest.mark.parametrize("vendor", VENDORS, ids=[vendor.name for vendor in VENDORS])
def test_ask_docs_on_a_vendor(
    vendor: Vendor,
    pocketflow_env: pytest.MonkeyPatch,
    vendor_http: respx.MockRouter,
    tmp_path: Path,
) -> None:
    for variable, value in vendor.env.items():
        pocketflow_env.setenv(variable, value)
    Path("pocketflow.toml").write_text(
        f'llm = "{vendor.llm}"\nembedding = "{vendor.embedding}"\n', encoding="utf-8"
    )

    def embed(request: httpx.Request) -> httpx.Response:
        texts = vendor.texts_sent(json.loads(request.content))
        return httpx.Response(200, json=vendor.embed_reply(texts))

    embed_route = vendor_http.post(vendor.embed_url).mock(side_effect=embed)
    answer = "Failed calls are retried with growing, jittered waits [1]; 400s never are [2]."
    chat_route = vendor_http.post(vendor.chat_url).respond(200, json=vendor.chat_reply(answer))

    flow = load_example_flow("ask_docs").build_flow()
    shared: dict[str, Any] = {"docs": str(EXAMPLES / "ask_docs" / "docs"), "question": QUESTION}
    with track_usage() as usage:
        asyncio.run(flow.run_async(shared))

    bodies = [json.loads(call.request.content) for call in embed_route.calls]
    for body in bodies:
        vendor.check_embed_body(body)
    documents, question = (vendor.texts_sent(body) for body in bodies)
    assert documents == [chunk.text for chunk in shared["chunks"]]
    assert len(documents) == 10
    assert question == [QUESTION]
    assert [hit.chunk.path for hit in shared["hits"][:2]] == ["retries.md", "retries.md"]
    assert chat_route.call_count == 1
    system, prompt = vendor.prompt_sent(json.loads(chat_route.calls[0].request.content))
    assert "cite the sources it rests on as [1], [2]" in system
    assert prompt.startswith("Sources:\n\n[1] retries.md\n")
    assert prompt.endswith(f"Question: {QUESTION}")
    assert shared["answer"] == answer
    assert (usage.embedding_calls, usage.calls) == (2, 1)
