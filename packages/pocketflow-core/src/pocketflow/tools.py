"""Tools a model may call: Python functions with a JSON schema, and the loop that runs them.

A tool is a function, sync or async. Its schema comes from its signature (type
hints, defaults), and its descriptions from its docstring: the first paragraph
describes the tool, an ``Args:`` section (``name: text`` lines) its parameters;
``Annotated[str, "text"]`` describes one too. Or give the schema yourself with
:func:`tool` (``tool(fn, name=..., description=..., parameters={...})``).

:func:`run_tool_loop` is what ``call_llm_async(prompt, tools=[...])`` runs: call
the model; run every tool it asks for (concurrently) through :func:`run_tool_call`,
the one place a tool runs (durable runs journal it there); send the results back;
until the model answers in text.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pocketflow import schema as json_schema
from pocketflow.capabilities import ToolSpec
from pocketflow.durability import journaled
from pocketflow.errors import ToolLoopError
from pocketflow.parts import TextPart, ToolCall, ToolResult
from pocketflow.providers import LLMResponse, Message
from pocketflow.typeschema import SchemaBuilder, build, to_jsonable

ToolErrors = Literal["send", "raise"]
"""What a tool that raises does in the loop: its error text is sent to the model
("send", the default) or the loop stops with it ("raise")."""

_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^\s*\*{0,2}(\w+)\*{0,2}\s*(?:\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Tool:
    """A callable tool: its :class:`ToolSpec` (what the vendor sees) and ``function``."""

    spec: ToolSpec
    function: Callable[..., Any]
    hints: Mapping[str, Any]

    @property
    def name(self) -> str:
        """The name the model calls it by."""
        return self.spec.name

    async def call(self, arguments: Mapping[str, Any]) -> Any:
        """Run the function with ``arguments`` (checked against the schema, then typed)."""
        errors = json_schema.validate(dict(arguments), self.spec.parameters)
        if errors:
            raise ValueError("the arguments do not fit the tool's schema: " + "; ".join(errors))
        kwargs = {
            key: build(self.hints[key], value) if key in self.hints else value
            for key, value in arguments.items()
        }
        result = self.function(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def tool(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Tool:
    """``function`` as a :class:`Tool`; ``parameters`` (a JSON object schema) replaces
    the one made from its signature."""
    doc = inspect.getdoc(function) or ""
    summary, arg_docs = _parse_docstring(doc)
    hints: dict[str, Any] = {}
    if parameters is None:
        parameters, hints = _parameters(function, arg_docs)
    tool_name = str(name or getattr(function, "__name__", ""))
    if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", tool_name):
        raise ValueError(
            f"A tool's name must be 1-64 letters, digits, _ or -, not {tool_name!r}: "
            "pass name= to tool()."
        )
    spec = ToolSpec(tool_name, description or summary or tool_name, parameters)
    return Tool(spec, function, hints)


def as_tools(tools: Iterable[Tool | Callable[..., Any]]) -> dict[str, Tool]:
    """The tools by name (functions made into tools); raises on two with one name."""
    found: dict[str, Tool] = {}
    for item in tools:
        made = item if isinstance(item, Tool) else tool(item)
        if made.name in found:
            raise ValueError(f"Two tools are named {made.name!r}: pass name= to tool() for one.")
        found[made.name] = made
    return found


def _parameters(
    function: Callable[..., Any], arg_docs: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    signature = inspect.signature(function)
    hints = typing.get_type_hints(function, include_extras=True)
    builder = SchemaBuilder()
    properties: dict[str, Any] = {}
    required: list[str] = []
    used: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        hint = hints.get(parameter.name, Any)
        used[parameter.name] = hint
        properties[parameter.name] = builder.of(hint, arg_docs.get(parameter.name))
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return builder.finish(schema), used


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    paragraphs = doc.split("\n\n")
    summary = " ".join(paragraphs[0].split()) if paragraphs and not _ARGS_HEADER.match(
        paragraphs[0].splitlines()[0] if paragraphs[0] else ""
    ) else ""  # fmt: skip
    args: dict[str, str] = {}
    current: str | None = None
    in_args = False
    for line in doc.splitlines():
        if _ARGS_HEADER.match(line):
            in_args = True
            continue
        if not in_args:
            continue
        if not line.strip():
            current = None
            continue
        match = _ARG_LINE.match(line)
        if match and (current is None or len(line) - len(line.lstrip()) <= 4):
            current = match.group(1)
            args[current] = match.group(2).strip()
        elif current is not None:
            args[current] = f"{args[current]} {line.strip()}".strip()
        elif not line.startswith(" "):
            in_args = False
    return summary, args


# --- running tools -------------------------------------------------------------------------


def result_text(value: Any) -> str:
    """A tool's return value as the text sent back to the model."""
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), ensure_ascii=False, default=str)


@journaled("tool")
async def run_tool_call(
    tools: Mapping[str, Tool], call: ToolCall, *, tool_errors: ToolErrors = "send"
) -> ToolResult:
    """Run the tool ``call`` names and return its result (an error result if it raised).

    The one place a tool runs: durable runs journal each tool execution here.
    """
    chosen = tools.get(call.name)
    if chosen is None:
        available = ", ".join(tools) or "none"
        return ToolResult(
            call.id, call.name, f"There is no tool named {call.name!r} (tools: {available}).", True
        )
    try:
        value = await chosen.call(call.arguments)
    except Exception as error:
        if tool_errors == "raise":
            raise ToolLoopError(
                f"The tool {call.describe()} raised {type(error).__name__}: {error}", (call,)
            ) from error
        return ToolResult(call.id, call.name, f"{type(error).__name__}: {error}", True)
    return ToolResult(call.id, call.name, result_text(value))


async def run_tool_calls(
    tools: Mapping[str, Tool], calls: Sequence[ToolCall], *, tool_errors: ToolErrors = "send"
) -> list[ToolResult]:
    """Run ``calls`` concurrently; the results in the order of the calls."""
    if len(calls) == 1:
        return [await run_tool_call(tools, calls[0], tool_errors=tool_errors)]
    return list(
        await asyncio.gather(*(run_tool_call(tools, c, tool_errors=tool_errors) for c in calls))
    )


Complete = Callable[[list[Message], Any], Awaitable[LLMResponse]]
"""One model turn: the messages so far and the tool choice, to the response."""


async def run_tool_loop(
    complete: Complete,
    messages: list[Message],
    tools: Mapping[str, Tool],
    *,
    tool_choice: str | None,
    max_turns: int,
    tool_errors: ToolErrors,
) -> LLMResponse:
    """Call the model and run the tools it asks for until it answers without a tool call.

    ``tool_choice`` applies to the first turn only (a "required" on every turn would
    never end). Raises :class:`ToolLoopError` after ``max_turns`` model calls that all
    asked for tools, naming the last calls.
    """
    if max_turns < 1:
        raise ValueError(f"max_turns must be 1 or more, not {max_turns!r}.")
    last: list[ToolCall] = []
    for turn in range(max_turns):
        response = await complete(messages, tool_choice if turn == 0 else None)
        if not response.tool_calls:
            return response
        last = list(response.tool_calls)
        text_parts = [TextPart(response.text)] if response.text else []
        messages.append(Message("assistant", (*response.vendor_parts, *text_parts, *last)))
        results = await run_tool_calls(tools, last, tool_errors=tool_errors)
        messages.append(Message("user", tuple(results)))
    described = ", ".join(call.describe() for call in last)
    raise ToolLoopError(
        f"The model still asked for tools after max_turns={max_turns} turns; its last "
        f"tool calls: {described}. Raise max_turns= or tell the model when to stop.",
        tuple(last),
    )
