"""Python types as JSON schemas, and JSON values back as those types.

Understood: ``str``, ``int``, ``float``, ``bool``, ``None``, ``Any``, ``Literal[...]``,
``Enum`` subclasses, ``list``/``tuple``/``set``/``Sequence`` of a type, ``dict[str, T]``,
unions (``X | None``), ``Annotated[T, "description"]``, dataclasses, ``TypedDict``s,
and pydantic models (through their own ``model_json_schema``; pydantic itself is
never imported here: a model is recognised by its methods). Nested dataclasses,
TypedDicts and models go into ``$defs`` and are referred to by ``$ref``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from pocketflow.schema import SchemaError

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def is_pydantic_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (recognised without importing pydantic)."""
    return (
        isinstance(tp, type) and hasattr(tp, "model_json_schema") and hasattr(tp, "model_validate")
    )


def is_typed_dict(tp: Any) -> bool:
    """Whether ``tp`` is a ``TypedDict`` class."""
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def is_record_type(tp: Any) -> bool:
    """A type that becomes a JSON object with named keys: dataclass, TypedDict, model."""
    return (
        (isinstance(tp, type) and dataclasses.is_dataclass(tp))
        or is_typed_dict(tp)
        or is_pydantic_model(tp)
    )


class SchemaBuilder:
    """Builds schemas of several types that share one ``$defs``."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}

    def finish(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with the collected ``$defs`` attached (when there are any)."""
        if self.defs:
            schema = {**schema, "$defs": dict(self.defs)}
        return schema

    def of(self, tp: Any, description: str | None = None) -> dict[str, Any]:
        """The schema of ``tp`` (records go into ``$defs``)."""
        schema = self._of(tp)
        if description:
            schema = {**schema, "description": description}
        return schema

    def _of(self, tp: Any) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            notes = [a for a in args[1:] if isinstance(a, str)]
            return self.of(args[0], notes[0] if notes else None)
        if tp is Any or tp is object:
            return {}
        if tp is None or tp is type(None):
            return {"type": "null"}
        if tp in _SCALARS:
            return {"type": _SCALARS[tp]}
        if origin is typing.Literal:
            return {"enum": list(args)}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return {"enum": [member.value for member in tp]}
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self._of(arg) for arg in args]}
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = [self._of(arg) for arg in args]
            return {"type": "array", "prefixItems": items, "minItems": len(items),
                    "maxItems": len(items)}  # fmt: skip
        if tp in (list, tuple, set, frozenset) or origin in (
            list, tuple, set, frozenset, Sequence, typing.Sequence
        ):  # fmt: skip
            return {"type": "array", "items": self._of(args[0]) if args else {}}
        if tp is dict or origin in (dict, Mapping, typing.Mapping):
            if args and args[0] is not str:
                raise SchemaError(f"JSON object keys are strings: {tp!r} cannot be a schema.")
            return {"type": "object", "additionalProperties": self._of(args[1]) if args else {}}
        if is_record_type(tp):
            return self._record(tp)
        raise SchemaError(
            f"Cannot make a JSON schema for {tp!r}: use str, int, float, bool, lists, "
            "dicts, Literal, Enum, a dataclass, a TypedDict or a pydantic model."
        )

    def _record(self, tp: type) -> dict[str, Any]:
        name = tp.__name__
        ref = {"$ref": f"#/$defs/{name}"}
        if name in self.defs:
            return ref
        self.defs[name] = {}  # a placeholder: a type that refers to itself finds it
        if is_pydantic_model(tp):
            schema = dict(tp.model_json_schema(ref_template="#/$defs/{model}"))  # type: ignore[attr-defined]
            self.defs.update(schema.pop("$defs", {}))
        else:
            schema = self._fields(tp)
        self.defs[name] = schema
        return ref

    def _fields(self, tp: type) -> dict[str, Any]:
        hints = typing.get_type_hints(tp, include_extras=True)
        properties: dict[str, Any] = {}
        required: list[str] = []
        if dataclasses.is_dataclass(tp):
            for field in dataclasses.fields(tp):
                if not field.init:
                    continue
                properties[field.name] = self.of(hints[field.name])
                no_default = (
                    field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING
                )
                if no_default:
                    required.append(field.name)
        else:
            for key, hint in hints.items():
                properties[key] = self.of(_strip_required(hint))
            required = [key for key, hint in hints.items() if _typed_dict_requires(tp, key, hint)]
        schema: dict[str, Any] = {"type": "object", "title": tp.__name__, "properties": properties}
        if required:
            schema["required"] = required
        doc = _own_doc(tp)
        if doc:
            schema["description"] = doc
        return schema


def _unannotated(hint: Any) -> Any:
    while typing.get_origin(hint) in (typing.Required, typing.NotRequired, typing.Annotated):
        hint = typing.get_args(hint)[0]
    return hint


def _typed_dict_requires(tp: type, key: str, hint: Any) -> bool:
    # Read from the hint too: under ``from __future__ import annotations`` the class's
    # __required_keys__ cannot see a NotRequired[...] written as a string.
    origin = typing.get_origin(hint)
    if origin is typing.NotRequired:
        return False
    if origin is typing.Required:
        return True
    return key in getattr(tp, "__required_keys__", ()) and bool(getattr(tp, "__total__", True))


def _strip_required(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Required, typing.NotRequired):
        return typing.get_args(hint)[0]
    return hint


def _own_doc(tp: type) -> str | None:
    doc = tp.__doc__
    if not doc or (dataclasses.is_dataclass(tp) and doc.startswith(tp.__name__ + "(")):
        return None  # the signature dataclasses write when there is no docstring
    return " ".join(doc.strip().split("\n\n")[0].split())


def schema_of(tp: Any) -> dict[str, Any]:
    """The JSON schema of ``tp``; a record type is the root object itself."""
    if is_pydantic_model(tp):
        return dict(tp.model_json_schema())
    builder = SchemaBuilder()
    schema = builder.of(tp)
    if "$ref" in schema and len(schema) == 1:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = builder.defs.pop(name)
        if any(_refers_to(d, name) for d in builder.defs.values()) or _refers_to(schema, name):
            builder.defs[name] = schema  # recursive: keep it reachable
            schema = {**schema}
    return builder.finish(schema)


def _refers_to(node: Any, name: str) -> bool:
    if isinstance(node, dict):
        if node.get("$ref") == f"#/$defs/{name}":
            return True
        return any(_refers_to(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, name) for v in node)
    return False


# --- JSON values back into Python types ------------------------------------------------------


@lru_cache(maxsize=512)
def type_hints(tp: Any) -> dict[str, Any]:
    """``typing.get_type_hints(tp, include_extras=True)``, cached: it is slow, and a
    structured call builds its type once per reply."""
    return typing.get_type_hints(tp, include_extras=True)


_PLAIN = frozenset({str, bool, Any, object})


def build(tp: Any, value: Any) -> Any:
    """``value`` (already valid against ``tp``'s schema) as an instance of ``tp``."""
    if tp in _PLAIN or (tp is int and type(value) is int):
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return build(args[0], value)
    if is_pydantic_model(tp):
        return tp.model_validate(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = type_hints(tp)
        return tp(**{key: build(hints[key], item) for key, item in value.items() if key in hints})
    if is_typed_dict(tp):
        hints = type_hints(tp)
        return {
            key: build(_unannotated(hints[key]), item) if key in hints else item
            for key, item in value.items()
        }
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is float and isinstance(value, int):
        return float(value)
    if tp is int and isinstance(value, float):
        return int(value)
    if origin in (typing.Union, types.UnionType):
        return _build_union(args, value)
    if isinstance(value, list) and origin in (list, tuple, set, frozenset, Sequence):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(build(arg, item) for arg, item in zip(args, value, strict=False))
        items = [build(args[0], item) for item in value] if args else list(value)
        return items if origin in (list, Sequence) else origin(items)
    if isinstance(value, dict) and origin in (dict, Mapping) and len(args) == 2:
        return {key: build(args[1], item) for key, item in value.items()}
    return value


def _build_union(args: tuple[Any, ...], value: Any) -> Any:
    from pocketflow.schema import validate

    for arg in args:
        if arg is type(None):
            if value is None:
                return None
            continue
        try:
            if not validate(value, schema_of(arg)):
                return build(arg, value)
        except SchemaError:
            continue
    return value


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses, models, enums and tuples unwrapped."""
    if hasattr(value, "model_dump") and is_pydantic_model(type(value)):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(item) for item in value]
    return value
