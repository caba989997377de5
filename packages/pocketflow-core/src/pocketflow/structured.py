"""Structured output: the type a caller asks for, as a schema, and a reply parsed back.

``call_llm_async(prompt, output=T)`` takes ``T`` as a pydantic model, a dataclass,
a ``TypedDict`` or a JSON schema dict. :func:`output_spec` turns it into an
:class:`OutputSpec` (cached per type): the JSON schema sent to the vendor, and
:meth:`OutputSpec.parse` which validates a reply and builds a ``T``. pydantic is only
used when ``T`` is a pydantic model (which the user imported); a dataclass,
TypedDict or dict schema is checked by :mod:`pocketflow.schema`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pocketflow import schema as json_schema
from pocketflow.capabilities import OutputFormat
from pocketflow.typeschema import build, is_pydantic_model, is_record_type, schema_of

OutputType = Any
"""What ``output=`` takes: a pydantic model class, a dataclass, a TypedDict, a schema dict."""

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_NAME = re.compile(r"[^a-zA-Z0-9_-]")


class ParseFailure(Exception):
    """A reply did not fit: ``errors`` says how (internal; the facade raises
    :class:`~pocketflow.errors.OutputValidationError`)."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """The output a call asks for: its ``format`` (name and schema) and how to build it."""

    format: OutputFormat
    target: Any
    """The type to build (None: a schema dict; the validated JSON is returned)."""
    has_optional_keys: bool = True
    """Whether some object in the schema has keys that are not required (strict modes
    send those as nullable, so a reply's nulls for them are dropped)."""

    @property
    def schema(self) -> Mapping[str, Any]:
        """The JSON schema of the output."""
        return self.format.schema

    def parse(self, text: str) -> Any:
        """The reply ``text`` as the output type; raises :class:`ParseFailure`."""
        value = parse_json(text)
        target = self.target
        if target is not None and is_pydantic_model(target):
            return _pydantic(target, value)
        if self.has_optional_keys:
            value = json_schema.drop_added_nulls(value, self.schema)
        errors = json_schema.validate(value, self.schema)
        if errors:
            raise ParseFailure(errors)
        return value if target is None else build(target, value)


def parse_json(text: str) -> Any:
    """The JSON in ``text``: the whole of it, else a fenced ```json block, else the
    outermost ``{...}``; raises :class:`ParseFailure` when there is none."""
    stripped = text.strip()
    candidates = [stripped] if stripped[:1] in ("{", "[") else []
    fenced = _FENCE.search(stripped)
    if fenced:
        candidates.append(fenced.group(1).strip())
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    first_error: ValueError | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError as error:
            first_error = first_error or error
    raise ParseFailure([f"$: the reply is not JSON ({first_error})"])


def _pydantic(target: Any, value: Any) -> Any:
    try:
        return target.model_validate(value)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        found = getattr(error, "errors", None)
        if callable(found):
            raise ParseFailure(
                [f"$.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in found()]
            ) from error
        raise ParseFailure([str(error)]) from error


def output_spec(output: OutputType) -> OutputSpec:
    """The :class:`OutputSpec` for what was passed as ``output=``."""
    if isinstance(output, Mapping):
        return _schema_spec(output)
    try:
        return _type_spec(output)
    except TypeError:  # unhashable: not a type
        pass
    raise TypeError(
        f"output= takes a pydantic model, a dataclass, a TypedDict or a JSON schema dict, "
        f"not {output!r}."
    )


def _schema_spec(schema: Mapping[str, Any]) -> OutputSpec:
    if schema.get("type") != "object" and "properties" not in schema:
        raise TypeError(
            "An output schema must describe a JSON object (type: object), as the vendors' "
            f"structured output needs; got type {schema.get('type')!r}."
        )
    json_schema.validate({}, schema)  # raises SchemaError on a schema it cannot use
    name = _NAME.sub("_", str(schema.get("title") or "output"))[:64]
    return OutputSpec(
        OutputFormat(name, schema, schema.get("description")), None, _has_optional(schema)
    )


@lru_cache(maxsize=256)
def _type_spec(output: Any) -> OutputSpec:
    if not is_record_type(output):
        raise TypeError(
            f"output= takes a pydantic model, a dataclass, a TypedDict or a JSON schema "
            f"dict, not {output!r}."
        )
    schema = schema_of(output)
    name = _NAME.sub("_", output.__name__)[:64]
    return OutputSpec(
        OutputFormat(name, schema, schema.get("description")), output, _has_optional(schema)
    )


def _has_optional(schema: Mapping[str, Any]) -> bool:
    return json_schema.strict(schema) != json_schema.closed(schema)


def prompt_instruction(spec: OutputFormat) -> str:
    """The system-prompt instruction for a provider with no structured output of its own."""
    return (
        "Reply with only a JSON value (no prose, no code fence) that matches this JSON "
        f"schema:\n{json.dumps(spec.schema, separators=(',', ':'))}"
    )


def retry_instruction(errors: list[str]) -> str:
    """What the model is told when its reply did not fit."""
    listed = "\n".join(f"- {error}" for error in errors[:10])
    return (
        "Your reply does not match the required JSON schema:\n"
        f"{listed}\nReply again with only the corrected JSON."
    )
