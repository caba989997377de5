"""A research agent, cookbook style: decide, search the notes with a tool, answer.

The decisions are structured output (a dataclass the model must fill in) instead of
YAML parsed by hand, and the search is a tool the model calls. No vendor is named:
POCKETFLOW_LLM (or pocketflow.toml) chooses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pocketflow import AsyncFlow, AsyncNode, call_llm_async

NOTES = Path(__file__).parent / "notes"
STOP_WORDS = frozenset(
    re.split(
        r"\s+",
        "a about an and are do does find for how i in is it notes of on search the them "
        "then to tool use what when with",
    )
)


@dataclass
class Decision:
    """What the agent does next."""

    thinking: str
    action: Literal["search", "answer"]
    search_query: str


@dataclass
class Answer:
    """The final answer and the notes it rests on."""

    answer: str
    sources: list[str] = field(default_factory=list)


def search_notes(query: str) -> str:
    """Search the project notes for a query.

    Args:
        query: the words to look for
    """
    wanted = {_stem(w) for w in re.findall(r"[a-z_]+", query.lower()) if w not in STOP_WORDS}
    scored = []
    for path in sorted(NOTES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        score = sum(1 for word in re.findall(r"[a-z_]+", text.lower()) if _stem(word) in wanted)
        if score:
            scored.append((score, path.stem, text))
    scored.sort(key=lambda item: -item[0])
    if not scored:
        return "No notes match."
    return "\n\n".join(f"[{name}] {text.strip()}" for _, name, text in scored[:2])


def _stem(word: str) -> str:
    """A crude stem, so "retries", "retried" and "retry" match."""
    for ending, replacement in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            return word[: -len(ending)] + replacement
    return word


class DecideAction(AsyncNode):
    """Search more, or answer with what has been found."""

    async def prep_async(self, shared: dict[str, Any]) -> tuple[str, str, int]:
        context = "\n\n".join(shared.get("findings", [])) or "nothing yet"
        return shared["question"], context, len(shared.get("findings", []))

    async def exec_async(self, prep_res: tuple[str, str, int]) -> Decision:
        question, context, searches = prep_res
        return await call_llm_async(
            f"Question: {question}\n\nFound so far ({searches} searches):\n{context}\n\n"
            "Decide: search the notes for more, or answer now.",
            output=Decision,
        )

    async def post_async(
        self, shared: dict[str, Any], prep_res: tuple[str, str, int], exec_res: Decision
    ) -> str:
        searches = prep_res[2]
        action = exec_res.action
        if action == "search" and searches >= shared.get("max_searches", 2):
            action = "answer"  # enough searching: an agent's loop needs a bound
        shared.setdefault("decisions", []).append((action, exec_res.search_query))
        shared["query"] = exec_res.search_query or shared["question"]
        return action


class SearchNotes(AsyncNode):
    """Let the model search the notes with the ``search_notes`` tool."""

    async def prep_async(self, shared: dict[str, Any]) -> str:
        return f"{shared['question']} {shared['query']}"

    async def exec_async(self, query: str) -> str:
        return await call_llm_async(
            f"Use the search_notes tool to find notes about: {query}\nThen report what they say.",
            tools=[search_notes],
        )

    async def post_async(self, shared: dict[str, Any], prep_res: str, exec_res: str) -> str:
        shared.setdefault("findings", []).append(exec_res)
        return "decide"


class AnswerQuestion(AsyncNode):
    """Answer from the findings."""

    async def prep_async(self, shared: dict[str, Any]) -> tuple[str, str]:
        return shared["question"], "\n\n".join(shared.get("findings", []))

    async def exec_async(self, prep_res: tuple[str, str]) -> Answer:
        question, findings = prep_res
        return await call_llm_async(
            f"Answer the question from these findings.\n\nQuestion: {question}\n\n"
            f"Findings:\n{findings}",
            output=Answer,
        )

    async def post_async(
        self, shared: dict[str, Any], prep_res: tuple[str, str], exec_res: Answer
    ) -> None:
        shared["answer"] = exec_res


def build_flow() -> AsyncFlow:
    """decide -search-> search -decide-> decide ... -answer-> answer."""
    decide = DecideAction()
    search = SearchNotes()
    decide - "search" >> search
    decide - "answer" >> AnswerQuestion()
    search - "decide" >> decide
    return AsyncFlow(start=decide)
