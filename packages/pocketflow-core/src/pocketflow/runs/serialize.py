"""How durable runs store values: JSON with a small set of tagged encoders, or pickle.

JSON (the default) stores ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and
``None`` as themselves, and these as one-key objects ``{"__pf__": tag, "v": ...}`` so
they come back as the same type:

============================  ======================================================
``tuple``                     ``{"__pf__": "tuple", "v": [...]}``
``set`` / ``frozenset``       ``"set"`` / ``"frozenset"``, items in a list
``bytes``                     ``"bytes"``, base64
``datetime``/``date``/``time``  ``"datetime"``/``"date"``/``"time"``, ISO 8601
``timedelta``                 ``"timedelta"``, seconds
``Decimal`` / ``UUID`` / path  ``"decimal"`` / ``"uuid"`` / ``"path"``, as text
a dict with non-str keys      ``"dict"``, a list of ``[key, value]`` pairs
a dataclass                   ``"dataclass"``, its class (``module:qualname``) and fields
a pydantic model              ``"pydantic"``, its class and ``model_dump(mode="json")``
============================  ======================================================

A dataclass or pydantic model is rebuilt from its class, imported by name on load: a
store holds only data, and no code runs but that class's own constructor. Anything else
fails with :class:`~pocketflow.errors.StateNotSerializable` naming where it sits.

Pickle stores any picklable value, but loading a pickle runs code chosen by whoever
wrote it: use it only for a store no one else can write (``[runs] serializer =
"pickle"``).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import importlib
import json
import pathlib
import pickle
import sys
import uuid
from typing import Any, Protocol

from pocketflow.errors import StateNotSerializable

TAG = "__pf__"
_PLAIN = (str, int, float, bool, type(None))


class Serializer(Protocol):
    """Turns values into bytes for a store, and back."""

    name: str

    def dumps(self, value: Any, where: str) -> bytes:
        """``value`` as bytes; ``where`` names it in errors (e.g. ``shared``)."""

    def loads(self, data: bytes) -> Any:
        """The value ``data`` holds."""


class JsonSerializer:
    """JSON with tagged encoders for the types in this module's table."""

    name = "json"

    def dumps(self, value: Any, where: str) -> bytes:
        """``value`` as UTF-8 JSON; raises StateNotSerializable naming the culprit's path."""
        return _ENCODER.encode(to_json(value, where)).encode()

    def loads(self, data: bytes) -> Any:
        """The value stored by :meth:`dumps`."""
        return _DECODER.decode(data.decode())


class PickleSerializer:
    """Pickle: any picklable value; loading runs code, so trust the store's writers."""

    name = "pickle"

    def dumps(self, value: Any, where: str) -> bytes:
        """``value`` pickled; raises StateNotSerializable when it cannot be."""
        try:
            return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            raise StateNotSerializable(f"{where}: cannot be pickled: {error}") from error

    def loads(self, data: bytes) -> Any:
        """The value pickled by :meth:`dumps`."""
        return pickle.loads(data)


SERIALIZERS: dict[str, Serializer] = {"json": JsonSerializer(), "pickle": PickleSerializer()}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Made once: ``json.dumps`` with options builds an encoder on every call."""


def to_json(value: Any, where: str) -> Any:
    """``value`` as plain JSON data, with tags for the types JSON lacks."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict:
        if all(type(key) is str for key in value) and TAG not in value:
            return {key: to_json(item, f'{where}["{key}"]') for key, item in value.items()}
        pairs = [
            [to_json(key, f"{where} key {key!r}"), to_json(item, f"{where}[{key!r}]")]
            for key, item in value.items()
        ]
        return {TAG: "dict", "v": pairs}
    if kind is list:
        return [to_json(item, f"{where}[{index}]") for index, item in enumerate(value)]
    return _tagged(value, where)


def _tagged(value: Any, where: str) -> Any:
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {TAG: "tuple", "v": [to_json(x, f"{where}[{i}]") for i, x in enumerate(value)]}
    if isinstance(value, (set, frozenset)):
        tag = "frozenset" if isinstance(value, frozenset) else "set"
        return {TAG: tag, "v": [to_json(item, f"{where} item") for item in value]}
    if isinstance(value, (bytes, bytearray)):
        return {TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime.datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, datetime.date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, datetime.time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {TAG: "timedelta", "v": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {TAG: "decimal", "v": str(value)}
    if isinstance(value, uuid.UUID):
        return {TAG: "uuid", "v": str(value)}
    if isinstance(value, pathlib.PurePath):
        return {TAG: "path", "v": str(value)}
    if isinstance(value, (str, int, float)):  # subclasses, e.g. an enum.StrEnum member
        return to_json(
            type(value).__mro__[1](value) if not isinstance(value, bool) else value, where
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            field.name: to_json(getattr(value, field.name), f"{where}.{field.name}")
            for field in dataclasses.fields(value)
            if field.init
        }
        return {TAG: "dataclass", "cls": _class_name(value), "v": fields}
    if _is_pydantic(value):
        try:
            dumped = value.model_dump(mode="json")
        except Exception as error:
            raise StateNotSerializable(f"{where}: {error}") from error
        return {TAG: "pydantic", "cls": _class_name(value), "v": dumped}
    kind = type(value)
    raise StateNotSerializable(
        f"{where}: a {kind.__module__}.{kind.__qualname__} cannot be stored. Durable runs "
        f"store JSON data, tuples, sets, bytes, dates, dataclasses and pydantic models; keep "
        f"other objects (clients, files, locks) out of the shared store and exec results, "
        f'or opt in to pickle with [runs] serializer = "pickle".'
    )


def _is_pydantic(value: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def _class_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}:{kind.__qualname__}"


def _load_class(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _decode_tagged(obj: dict[str, Any]) -> Any:
    tag = obj.get(TAG)
    if tag is None:
        return obj
    value = obj["v"]
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ValueError(f"unknown stored type {tag!r}: written by a newer pocketflow?")
    if tag in ("dataclass", "pydantic"):
        kind = _load_class(obj["cls"])
        return decoder(kind, value)
    return decoder(value)


def _dataclass(kind: Any, fields: dict[str, Any]) -> Any:
    if not dataclasses.is_dataclass(kind) or not isinstance(kind, type):
        raise ValueError(f"{kind!r} is stored as a dataclass but is not one any more")
    constructor: Any = kind
    return constructor(**fields)


def _pydantic(kind: Any, data: Any) -> Any:
    return kind.model_validate(data)


_DECODERS: dict[str, Any] = {
    "dict": lambda pairs: {_hashable(key): item for key, item in pairs},
    "tuple": tuple,
    "set": lambda items: {_hashable(item) for item in items},
    "frozenset": lambda items: frozenset(_hashable(item) for item in items),
    "bytes": base64.b64decode,
    "datetime": datetime.datetime.fromisoformat,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
    "timedelta": lambda seconds: datetime.timedelta(seconds=seconds),
    "decimal": decimal.Decimal,
    "uuid": uuid.UUID,
    "path": pathlib.Path,
    "dataclass": _dataclass,
    "pydantic": _pydantic,
}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_DECODER = json.JSONDecoder(object_hook=_decode_tagged)
