"""JSON schemas: a validator for the subset the vendors' strict modes use, and the
forms the vendors want a schema in.

Validation covers ``type`` (one or a list), ``enum``, ``const``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``prefixItems``, ``anyOf``,
``oneOf``, ``allOf``, ``$ref`` into ``#/$defs`` (or ``#/definitions``), and the bounds
``minimum``/``maximum`` (and their exclusive forms), ``minLength``/``maxLength``,
``pattern``, ``minItems``/``maxItems``. ``format``, ``title``, ``description`` and
``default`` are annotations and are not checked.

:func:`closed` makes every object refuse unknown keys (what Anthropic's structured
output wants); :func:`strict` also lists every property as required, making the
optional ones nullable (what OpenAI's ``strict: true`` wants), and
:func:`drop_added_nulls` removes those nulls from a reply again.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pocketflow.errors import PocketFlowError

Schema = Mapping[str, Any]
"""A JSON schema, as a dict."""
T = TypeVar("T")

_TYPE_CHECKS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}
_COMBINATORS = ("anyOf", "oneOf", "allOf")


class SchemaError(PocketFlowError, ValueError):
    """A schema the validator cannot use (an unknown type, a ``$ref`` that goes nowhere)."""


def validate(value: Any, schema: Schema) -> list[str]:
    """The ways ``value`` fails ``schema``, each as "path: problem" ([] when it fits)."""
    errors: list[str] = []
    _check(value, schema, schema, "$", errors)
    return errors


def _resolve(schema: Schema, root: Schema) -> Schema:
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise SchemaError(f"Only local $refs (#/$defs/...) are supported, not {ref!r}.")
        target: Any = root
        for key in ref[2:].split("/"):
            if not isinstance(target, Mapping) or key not in target:
                raise SchemaError(f"The $ref {ref!r} points at nothing in the schema.")
            target = target[key]
        schema = target
        seen += 1
        if seen > 64:
            raise SchemaError(f"The $ref {ref!r} loops.")
    return schema


def _check(value: Any, schema: Schema, root: Schema, path: str, errors: list[str]) -> None:
    schema = _resolve(schema, root)
    if "const" in schema and not _equal(value, schema["const"]):
        errors.append(f"{path}: must be {schema['const']!r}, not {value!r}")
        return
    if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
        options = ", ".join(repr(option) for option in schema["enum"])
        errors.append(f"{path}: must be one of {options}, not {value!r}")
        return
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        for name in kinds:
            if name not in _TYPE_CHECKS:
                raise SchemaError(f"Unknown JSON schema type {name!r} at {path}.")
        if not any(_TYPE_CHECKS[name](value) for name in kinds):
            errors.append(f"{path}: must be {' or '.join(kinds)}, not {_describe(value)}")
            return
    if not _combinators(value, schema, root, path, errors):
        return
    if isinstance(value, dict):
        _check_object(value, schema, root, path, errors)
    elif isinstance(value, list):
        _check_array(value, schema, root, path, errors)
    elif isinstance(value, str):
        _check_string(value, schema, path, errors)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(value, schema, path, errors)


def _combinators(value: Any, schema: Schema, root: Schema, path: str, errors: list[str]) -> bool:
    for keyword in _COMBINATORS:
        branches = schema.get(keyword)
        if not branches:
            continue
        results = []
        for branch in branches:
            found: list[str] = []
            _check(value, branch, root, path, found)
            results.append(found)
        passing = sum(1 for found in results if not found)
        if keyword == "allOf" and passing < len(results):
            errors.extend(e for found in results for e in found)
            return False
        if (keyword == "anyOf" and not passing) or (keyword == "oneOf" and passing != 1):
            if keyword == "oneOf" and passing > 1:
                errors.append(f"{path}: matches {passing} of the oneOf choices, not exactly one")
            else:
                closest = min(results, key=len)
                errors.append(f"{path}: matches none of the {keyword} choices ({closest[0]})")
            return False
    return True


def _check_object(
    value: dict[str, Any], schema: Schema, root: Schema, path: str, errors: list[str]
) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            errors.append(f"{path}: the required key {name!r} is missing")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        where = f"{path}.{key}"
        if key in properties:
            _check(item, properties[key], root, where, errors)
        elif extra is False:
            errors.append(f"{path}: unexpected key {key!r} (allowed: {', '.join(properties)})")
        elif isinstance(extra, Mapping):
            _check(item, extra, root, where, errors)


def _check_array(
    value: list[Any], schema: Schema, root: Schema, path: str, errors: list[str]
) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(f"{path}: must have at least {schema['minItems']} items, not {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path}: must have at most {schema['maxItems']} items, not {len(value)}")
    prefix = schema.get("prefixItems", ())
    for index, item in enumerate(value):
        if index < len(prefix):
            _check(item, prefix[index], root, f"{path}[{index}]", errors)
        elif isinstance(schema.get("items"), Mapping):
            _check(item, schema["items"], root, f"{path}[{index}]", errors)


def _check_string(value: str, schema: Schema, path: str, errors: list[str]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{path}: must be at least {schema['minLength']} characters long")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: must be at most {schema['maxLength']} characters long")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: must match the pattern {schema['pattern']!r}")


def _check_number(value: float, schema: Schema, path: str, errors: list[str]) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: must be at least {schema['minimum']}, not {value}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{path}: must be at most {schema['maximum']}, not {value}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        errors.append(f"{path}: must be more than {schema['exclusiveMinimum']}, not {value}")
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        errors.append(f"{path}: must be less than {schema['exclusiveMaximum']}, not {value}")


def _equal(value: Any, expected: Any) -> bool:
    # JSON equality: True is not 1, but 1 is 1.0
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return bool(value == expected)


def _describe(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
    return f"{names.get(type(value), type(value).__name__)} ({shown})"


# --- the forms the vendors want --------------------------------------------------------------


def closed(schema: Schema) -> dict[str, Any]:
    """A copy of ``schema`` in which every object says ``additionalProperties: false``."""
    result = copy.deepcopy(dict(schema))
    _walk(result, _close)
    return result


def strict(schema: Schema) -> dict[str, Any]:
    """A copy of ``schema`` for strict modes: objects closed, every property required,
    the optional ones nullable (``anyOf: [<it>, {"type": "null"}]``), ``default`` dropped."""
    result = copy.deepcopy(dict(schema))

    def make_strict(node: dict[str, Any]) -> None:
        node.pop("default", None)
        if _is_object(node):
            _close(node)
            properties: dict[str, Any] = node.setdefault("properties", {})
            required = set(node.get("required", ()))
            for name, sub in properties.items():
                if name not in required and not _nullable(sub):
                    properties[name] = {"anyOf": [sub, {"type": "null"}]}
            node["required"] = list(properties)

    _walk(result, make_strict)
    return result


def drop_added_nulls(value: Any, schema: Schema, root: Schema | None = None) -> Any:
    """``value`` without the nulls :func:`strict` allowed for optional keys of ``schema``."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if isinstance(value, dict) and "properties" in schema:
        required = set(schema.get("required", ()))
        properties = schema["properties"]
        return {
            key: drop_added_nulls(item, properties[key], root) if key in properties else item
            for key, item in value.items()
            if not (item is None and key in properties and key not in required
                    and not _nullable(_resolve(properties[key], root)))
        }  # fmt: skip
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [drop_added_nulls(item, schema["items"], root) for item in value]
    return value


_FORMS: dict[tuple[int, Any], tuple[Schema, Any]] = {}
_FORMS_LIMIT = 512


def vendor_form(schema: Schema, make: Callable[[Schema], T]) -> T:
    """``make(schema)``, remembered per schema object: a type's schema is made once,
    so the form a vendor wants of it is too. The result is shared: do not change it."""
    key = (id(schema), make)
    found = _FORMS.get(key)
    if found is not None and found[0] is schema:
        result: T = found[1]
        return result
    made = make(schema)
    if len(_FORMS) >= _FORMS_LIMIT:
        _FORMS.clear()
    _FORMS[key] = (schema, made)  # holding the schema keeps its id from being reused
    return made


def _is_object(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return (
        kind == "object"
        or (isinstance(kind, list) and "object" in kind)
        or (kind is None and "properties" in node)
    )


def _close(node: dict[str, Any]) -> None:
    if _is_object(node) and not isinstance(node.get("additionalProperties"), Mapping):
        node["additionalProperties"] = False


def _nullable(node: Any) -> bool:
    if not isinstance(node, Mapping):
        return False
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_nullable(branch) for branch in node.get("anyOf", ()))


def _walk(node: Any, visit: Any) -> None:
    """Call ``visit`` on every schema inside ``node``, innermost first."""
    if not isinstance(node, dict):
        return
    for key in ("properties", "$defs", "definitions"):
        for sub in (node.get(key) or {}).values():
            _walk(sub, visit)
    for key in ("items", "additionalProperties"):
        _walk(node.get(key), visit)
    for key in ("prefixItems", *_COMBINATORS):
        for sub in node.get(key) or ():
            _walk(sub, visit)
    visit(node)
