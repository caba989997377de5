"""Flows named by ``MODULE:ATTR``, as ``pocketflow run`` takes them and workers resume them."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from pocketflow.flows import Flow


def load_flow(target: str) -> Flow:
    """The flow ``MODULE:ATTR`` (or ``path/to/file.py:ATTR``) names: a flow, or a
    function that returns one."""
    module_name, colon, attribute = (
        target.rpartition(":") if ".py:" in target else target.partition(":")
    )
    if not colon or not module_name or not attribute:
        raise ValueError(f"{target!r}: write the flow as MODULE:ATTR, e.g. myapp.flows:build")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = _module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"{target!r} cannot be loaded: {error}") from error
    if callable(found) and not isinstance(found, Flow):
        found = found()
    if not isinstance(found, Flow):
        raise ValueError(f"{target!r} is a {type(found).__name__}, not a flow.")
    return found


def _module(name: str) -> Any:
    if not name.endswith(".py"):
        return importlib.import_module(name)
    path = Path(name).resolve()
    module_name = f"pocketflow_target_{path.stem}_{abs(hash(str(path)))}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # its own imports (``from flow import ...``)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
