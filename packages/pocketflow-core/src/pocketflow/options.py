"""Checks on what a call passes before anything is sent: keyword arguments that look
misspelled, and request contents the chosen provider cannot take.

Keyword arguments the facades do not know are passed to the vendor (for
compatibility: ``top_k=40``, ``metadata={...}`` worked before ``options=``), unless
one is a near miss of a facade parameter, such as ``temprature=0.5``: that raises
:class:`~pocketflow.errors.UnknownOptionError` with "did you mean". ``options={...}``
is the checked-by-nobody way to pass vendor extras, whatever their names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from pocketflow.capabilities import ToolSpec
from pocketflow.errors import UnknownOptionError, UnsupportedRequestError
from pocketflow.providers import LLMProvider, LLMRequest

FACADE_PARAMETERS = frozenset(
    {
        "model", "system", "temperature", "max_tokens", "stop", "seed", "timeout",
        "max_retries", "fallbacks", "output", "output_retries", "tools", "tool_choice",
        "options", "max_turns", "tool_errors",
    }
)  # fmt: skip
"""Every keyword parameter of the LLM facades."""

LOOP_PARAMETERS = frozenset({"max_turns", "tool_errors"})
"""Parameters only ``call_llm_async`` takes (it runs the tool loop)."""

VENDOR_PARAMETERS = frozenset({"speed", "store", "stream", "top_k", "top_p", "user", "n"})
"""Vendor parameters that are close in spelling to a facade parameter (``speed`` and
``seed``) but are no misspelling: passed on as before."""


def check_extra_options(extra: Mapping[str, Any]) -> None:
    """Raise :class:`UnknownOptionError` for a keyword that looks like a misspelled parameter."""
    import difflib

    for key in extra:
        if key in VENDOR_PARAMETERS:
            continue
        if key in LOOP_PARAMETERS:
            raise UnknownOptionError(
                f"{key}= belongs to the tool loop of call_llm_async (with tools=); "
                "complete_async and stream_llm_async make one call."
            )
        close = difflib.get_close_matches(key, FACADE_PARAMETERS, n=1, cutoff=0.75)
        if close:
            raise UnknownOptionError(
                f"Unknown keyword argument {key}=: did you mean {close[0]}=? (A vendor "
                f"parameter of that name goes in options={{{key!r}: ...}}.)"
            )


def check_tool_choice(choice: str | None, tools: Sequence[ToolSpec]) -> None:
    """Raise ValueError for a ``tool_choice`` that is no choice word and names no tool."""
    if choice is None or choice in ("auto", "required", "none"):
        return
    names = [spec.name for spec in tools]
    if choice not in names:
        offered = ", ".join(names) or "no tools were given"
        raise ValueError(
            f"tool_choice={choice!r} is not 'auto', 'required', 'none' or the name of a "
            f"tool given in tools= ({offered})."
        )


def check_request(provider: LLMProvider, request: LLMRequest) -> LLMRequest:
    """``request`` as ``provider`` will take it; raises :class:`UnsupportedRequestError`
    for a part or tools it cannot take. For a provider whose structured output is
    "prompt", the schema is put in the system prompt here."""
    if not request.tools and request.output is None and _text_only(request):
        return request  # the common case: plain text, nothing to check
    capabilities = provider.capabilities_for(request.model)
    where = f"{provider.name}:{request.model}"
    for message in request.messages:
        if isinstance(message.content, str):
            continue
        for part in message.content:
            if part.kind not in capabilities.parts and part.kind != "vendor":
                raise UnsupportedRequestError(
                    f"{where} cannot take {part.kind.replace('_', ' ')} parts in messages "
                    f"(it takes: {', '.join(sorted(capabilities.parts))}); nothing was sent. "
                    "Choose a model whose provider takes them, or leave them out."
                )
    if request.tools and not capabilities.tools:
        raise UnsupportedRequestError(
            f"{where} does not support tools; nothing was sent. Choose a provider that "
            "does (openai, anthropic, offline), or call without tools=."
        )
    if request.output is not None and capabilities.structured_output == "prompt":
        from pocketflow.structured import prompt_instruction

        instruction = prompt_instruction(request.output)
        system = f"{request.system}\n\n{instruction}" if request.system else instruction
        request = replace(request, system=system)
    return request


def _text_only(request: LLMRequest) -> bool:
    return all(isinstance(message.content, str) for message in request.messages)
