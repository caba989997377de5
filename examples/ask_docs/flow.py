"""Ask a folder of documents: embed it, retrieve by cosine similarity, answer with citations.

    ListDocuments >> EmbedDocuments >> Retrieve >> Answer

The shared store holds ``docs`` (the folder), ``question`` and ``top_k`` on the way in;
``chunks`` (one per paragraph, with its file), ``vectors``, ``hits`` (the chunks
retrieved, best first, with their similarity) and ``answer`` on the way out. Which
models embed and answer is configuration (``embedding`` and ``llm``): the code never
names a vendor.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketflow import AsyncFlow, AsyncNode, call_llm_async, embed_async, read_file_async

SUFFIXES = (".md", ".txt")
SYSTEM = (
    "Answer the question from the numbered sources only. After each sentence, cite the "
    "sources it rests on as [1], [2]. If the sources do not answer it, say so."
)


@dataclass(frozen=True)
class Chunk:
    """One paragraph of a document: the file it came from and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and its cosine similarity to the question."""

    chunk: Chunk
    score: float


def list_documents(folder: Path) -> list[Path]:
    """The ``*.md`` and ``*.txt`` files of ``folder``, sorted by name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: pass --docs DIR with the documents.")
    found = sorted(path for path in folder.iterdir() if path.suffix in SUFFIXES)
    if not found:
        raise FileNotFoundError(f"{folder} holds no .md or .txt documents to ask.")
    return found


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text`` (blank-line separated), headings left out."""
    found = []
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#")]
        if lines:
            found.append(" ".join(line.strip() for line in lines))
    return found


def cosine(a: list[float], b: list[float]) -> float:
    """The cosine similarity of two vectors (0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


class ListDocuments(AsyncNode):
    """Read every document of the folder and split it into paragraph chunks."""

    async def prep_async(self, shared: dict[str, Any]) -> list[Path]:
        return await asyncio.to_thread(list_documents, Path(shared["docs"]))

    async def exec_async(self, paths: list[Path]) -> list[Chunk]:
        texts = await asyncio.gather(*(read_file_async(str(path)) for path in paths))
        return [
            Chunk(path.name, paragraph)
            for path, text in zip(paths, texts, strict=True)
            for paragraph in paragraphs(text)
        ]

    async def post_async(self, shared: dict[str, Any], prep_res: Any, chunks: list[Chunk]) -> None:
        shared["chunks"] = chunks


class EmbedDocuments(AsyncNode):
    """One vector per chunk, in one ``embed_async`` call (batched by the core)."""

    async def prep_async(self, shared: dict[str, Any]) -> list[str]:
        return [chunk.text for chunk in shared["chunks"]]

    async def exec_async(self, texts: list[str]) -> list[list[float]]:
        return (await embed_async(texts)).vectors

    async def post_async(
        self, shared: dict[str, Any], prep_res: Any, vectors: list[list[float]]
    ) -> None:
        shared["vectors"] = vectors


class Retrieve(AsyncNode):
    """The ``top_k`` chunks most similar to the question."""

    async def prep_async(self, shared: dict[str, Any]) -> tuple[str, int]:
        return shared["question"], int(shared.get("top_k", 3))

    async def exec_async(self, prep_res: tuple[str, int]) -> list[float]:
        question, _ = prep_res
        return (await embed_async(question)).vector

    async def post_async(
        self, shared: dict[str, Any], prep_res: tuple[str, int], question_vector: list[float]
    ) -> None:
        _, top_k = prep_res
        scored = [
            Hit(chunk, cosine(question_vector, vector))
            for chunk, vector in zip(shared["chunks"], shared["vectors"], strict=True)
        ]
        scored.sort(key=lambda hit: hit.score, reverse=True)
        shared["hits"] = scored[:top_k]


def answer_prompt(question: str, hits: list[Hit]) -> str:
    """The numbered sources, each with its file, then the question."""
    sources = "\n\n".join(
        f"[{number}] {hit.chunk.path}\n{hit.chunk.text}" for number, hit in enumerate(hits, 1)
    )
    return f"Sources:\n\n{sources}\n\nQuestion: {question}"


class Answer(AsyncNode):
    """Answer from the retrieved chunks, citing them by number."""

    async def prep_async(self, shared: dict[str, Any]) -> str:
        return answer_prompt(shared["question"], shared["hits"])

    async def exec_async(self, prompt: str) -> str:
        return str(await call_llm_async(prompt, system=SYSTEM))

    async def post_async(self, shared: dict[str, Any], prep_res: str, answer: str) -> None:
        shared["answer"] = answer


def build_flow() -> AsyncFlow:
    """ListDocuments >> EmbedDocuments >> Retrieve >> Answer."""
    listing = ListDocuments()
    listing >> EmbedDocuments() >> Retrieve() >> Answer()
    return AsyncFlow(start=listing)
