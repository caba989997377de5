"""Serializing a batch for the cluster: the node once, each item once, checked up front.

Nodes and items are pickled with cloudpickle (which executors' workers already have),
so nodes defined in a script or a test module travel by value. Anything that cannot
be pickled is refused before a single item is sent, with an error naming the node and
the attribute (or the item) that failed.
"""

from __future__ import annotations

import copy
import pickle
import sys
import sysconfig
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from pocketflow.errors import NotShippableError
from pocketflow.executors.contract import Shipment

_LIBRARY_FOLDERS = tuple(
    str(Path(folder).resolve())
    for folder in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
)
_STDLIB = str(Path(sysconfig.get_paths()["stdlib"]).resolve())


def _cloudpickle() -> Any:
    try:
        import cloudpickle  # type: ignore[import-untyped]  # ships no type hints
    except ImportError as error:  # the executor plugins depend on it
        raise NotShippableError(
            "the batch", "anything", "cloudpickle is not installed: pip install cloudpickle"
        ) from error
    return cloudpickle


def ship_node(node: Any, env: Mapping[str, str]) -> Shipment:
    """``node`` pickled once for a batch, without its successors (they stay here)."""
    cloudpickle = _cloudpickle()
    _pickle_user_code_by_value(cloudpickle, type(node))
    clone = copy.copy(node)
    clone.successors = {}
    try:
        data: bytes = cloudpickle.dumps(clone, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        raise NotShippableError(
            type(node).__name__, _culprit(cloudpickle, clone), _reason(error)
        ) from error
    return Shipment(uuid.uuid4().hex, data, env)


def ship_items(node_name: str, items: Iterable[tuple[int, Any]]) -> list[tuple[int, bytes]]:
    """Each ``(index, item)`` with the item pickled; the first that fails is named."""
    dumps = _cloudpickle().dumps
    shipped = []
    for index, item in items:
        try:
            shipped.append((index, dumps(item, protocol=pickle.HIGHEST_PROTOCOL)))
        except Exception as error:
            what = f"item {index} (a {type(item).__name__})"
            raise NotShippableError(node_name, what, _reason(error)) from error
    return shipped


def loads(data: bytes) -> Any:
    """Unpickle what a worker sent back (a result or an item's exception)."""
    return pickle.loads(data)


def _culprit(cloudpickle: Any, node: Any) -> str:
    """Which of ``node``'s attributes cannot be pickled (the node itself if none alone)."""
    for name, value in vars(node).items():
        try:
            cloudpickle.dumps(value)
        except Exception:
            return f"its attribute {name!r} (a {type(value).__name__})"
    return "the node object"


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _pickle_user_code_by_value(cloudpickle: Any, cls: type) -> None:
    """Ship the node's own module by value when it is not an installed library.

    Workers have the installed packages but not the user's script or test module, which
    cloudpickle would otherwise reference by name.
    """
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        if module is None or module.__name__ in ("__main__", "builtins"):
            continue
        if _is_user_code(module):
            try:
                cloudpickle.register_pickle_by_value(module)
            except ValueError:  # a module registered by value already, or not registrable
                continue


def _is_user_code(module: ModuleType) -> bool:
    file = getattr(module, "__file__", None)
    if not file or module.__name__.split(".")[0] == "pocketflow":
        return False
    path = str(Path(file).resolve())
    return not path.startswith(_LIBRARY_FOLDERS) and not path.startswith(_STDLIB)
