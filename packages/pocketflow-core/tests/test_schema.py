"""The JSON-schema validator and the vendor forms of a schema (pocketflow.schema),
and schemas made from Python types (pocketflow.typeschema)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import pytest

from pocketflow.schema import SchemaError, closed, drop_added_nulls, strict, validate
from pocketflow.typeschema import build, schema_of

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "role": {"enum": ["admin", "user"]},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_a_fitting_value_has_no_errors() -> None:
    assert validate({"name": "Ada", "age": 36, "tags": ["x"], "role": "user"}, PERSON) == []


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"age": 3}, "$: the required key 'name' is missing"),
        ({"name": "A", "age": "3"}, "$.age: must be integer, not a string ('3')"),
        ({"name": "A", "age": True}, "$.age: must be integer, not a boolean"),
        ({"name": "A", "age": -1}, "$.age: must be at least 0, not -1"),
        ({"name": "", "age": 1}, "$.name: must be at least 1 characters long"),
        ({"name": "A", "age": 1, "tags": [1]}, "$.tags[0]: must be string, not an integer"),
        ({"name": "A", "age": 1, "tags": ["a", "b", "c"]}, "$.tags: must have at most 2 items"),
        ({"name": "A", "age": 1, "role": "root"}, "$.role: must be one of 'admin', 'user'"),
        ({"name": "A", "age": 1, "extra": 1}, "$: unexpected key 'extra'"),
        ([], "$: must be object, not an array"),
    ],
)
def test_each_violation_is_named_with_its_path(value: Any, error: str) -> None:
    errors = validate(value, PERSON)
    assert any(e.startswith(error) for e in errors), errors


def test_integers_may_be_written_as_whole_floats_but_booleans_are_not_numbers() -> None:
    assert validate(3.0, {"type": "integer"}) == []
    assert validate(3.5, {"type": "integer"}) != []
    assert validate(False, {"type": "number"}) != []
    assert validate(1, {"const": True}) != []


def test_refs_combinators_and_nullable_types() -> None:
    schema = {
        "$defs": {
            "Leaf": {"type": "object", "properties": {"v": {"type": "number"}}, "required": ["v"]}
        },
        "anyOf": [{"$ref": "#/$defs/Leaf"}, {"type": "null"}],
    }
    assert validate({"v": 1.5}, schema) == []
    assert validate(None, schema) == []
    assert "matches none of the anyOf choices" in validate({"v": "x"}, schema)[0]
    assert validate("a", {"type": ["string", "null"]}) == []
    assert validate(2, {"oneOf": [{"type": "integer"}, {"type": "number"}]}) != []


def test_a_schema_the_validator_cannot_use_is_an_error() -> None:
    with pytest.raises(SchemaError, match="Unknown JSON schema type 'str'"):
        validate("x", {"type": "str"})
    with pytest.raises(SchemaError, match="points at nothing"):
        validate("x", {"$ref": "#/$defs/Missing"})


def test_strict_form_requires_every_key_and_makes_optional_ones_nullable() -> None:
    made = strict(PERSON)
    assert made["required"] == ["name", "age", "tags", "role"]
    assert made["properties"]["tags"] == {"anyOf": [PERSON["properties"]["tags"], {"type": "null"}]}
    assert made["additionalProperties"] is False
    assert PERSON["required"] == ["name", "age"]  # the original is left alone
    reply = {"name": "A", "age": 1, "tags": None, "role": None}
    assert validate(reply, made) == []
    assert drop_added_nulls(reply, PERSON) == {"name": "A", "age": 1}


def test_closed_form_closes_nested_objects() -> None:
    schema = {"type": "object", "properties": {"inner": {"type": "object", "properties": {}}}}
    made = closed(schema)
    assert made["additionalProperties"] is False
    assert made["properties"]["inner"]["additionalProperties"] is False


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Point:
    """A point on the plane."""

    x: float
    y: float = 0.0


@dataclass
class Shape:
    name: Annotated[str, "what it is called"]
    colour: Colour
    points: list[Point]
    kind: Literal["open", "closed"] = "closed"
    notes: dict[str, int] = field(default_factory=dict)
    parent: Shape | None = None


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


def test_dataclass_schema_has_fields_defaults_and_nested_types() -> None:
    schema = schema_of(Shape)
    assert schema["required"] == ["name", "colour", "points"]
    assert schema["properties"]["name"] == {"type": "string", "description": "what it is called"}
    assert schema["properties"]["colour"] == {"enum": ["red", "blue"]}
    assert schema["properties"]["points"] == {"type": "array", "items": {"$ref": "#/$defs/Point"}}
    assert schema["$defs"]["Point"]["description"] == "A point on the plane."
    assert schema["properties"]["parent"] == {
        "anyOf": [{"$ref": "#/$defs/Shape"}, {"type": "null"}]
    }
    assert "Shape" in schema["$defs"]  # recursive: kept reachable


def test_typed_dict_schema_knows_required_keys() -> None:
    schema = schema_of(Movie)
    assert schema["required"] == ["title"]
    assert schema["properties"]["year"] == {"type": "integer"}


def test_build_turns_valid_json_back_into_the_types() -> None:
    value = {"name": "tri", "colour": "red", "points": [{"x": 1, "y": 2}], "parent": None}
    assert validate(value, schema_of(Shape)) == []
    shape = build(Shape, value)
    assert shape == Shape("tri", Colour.RED, [Point(1.0, 2.0)])
    assert isinstance(shape.points[0].x, float)


def test_unsupported_types_say_what_is_supported() -> None:
    with pytest.raises(SchemaError, match="use str, int, float, bool"):
        schema_of(complex)
    with pytest.raises(SchemaError, match="keys are strings"):
        schema_of(dict[int, str])
