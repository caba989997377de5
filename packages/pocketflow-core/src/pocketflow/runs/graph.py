"""Stable ids for a flow's nodes, and the flow's shape, so a resumed run finds its place.

A fixed walk (breadth first from the start node, successors in the order they were
added) numbers each flow's nodes: ``"2:Verify"`` is the third node the walk reaches,
of class ``Verify``. A nested flow's nodes are numbered inside it, and the shape lists
every edge (``"0:Load -default-> 1:Summarize"``) with nested flows' edges under their
id, so two versions of a flow can be compared line by line.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from pocketflow.errors import FlowChangedError, FlowError, MissingStartNode
from pocketflow.flows import Flow
from pocketflow.nodes import BaseNode


class FlowIds:
    """The ids of one flow's nodes (nested flows have their own :class:`FlowIds`)."""

    def __init__(self, flow: Flow) -> None:
        start = flow.start_node
        if start is None:
            raise MissingStartNode(flow)
        self.id_by_node: dict[int, str] = {}
        self.node_by_id: dict[str, BaseNode] = {}
        self.edges: list[tuple[str, str, str]] = []
        queue: deque[BaseNode] = deque([start])
        self._name(start)
        while queue:
            node = queue.popleft()
            for action, successor in node.successors.items():
                if id(successor) not in self.id_by_node:
                    self._name(successor)
                    queue.append(successor)
                self.edges.append((self.id_by_node[id(node)], action, self.id_of(successor)))

    def _name(self, node: BaseNode) -> None:
        node_id = f"{len(self.node_by_id)}:{type(node).__name__}"
        self.id_by_node[id(node)] = node_id
        self.node_by_id[node_id] = node

    def id_of(self, node: BaseNode) -> str:
        """The id of ``node`` (an original node of this flow, not a step's copy)."""
        try:
            return self.id_by_node[id(node)]
        except KeyError:
            raise FlowError(
                f"{type(node).__name__} is not reachable from the flow's start node through "
                f"successors: a durable run can only resume at nodes its flow connects "
                f"(a get_next_node override must return one of them)."
            ) from None


class FlowGraph:
    """The ids of every flow reached from a top flow, made once per run."""

    def __init__(self) -> None:
        self._ids: dict[int, FlowIds] = {}

    def ids(self, flow: Flow) -> FlowIds:
        """The ids of ``flow``'s nodes; a step's copy of a flow shares its original's."""
        key = id(flow.start_node)
        ids = self._ids.get(key)
        if ids is None:
            ids = self._ids[key] = FlowIds(flow)
        return ids


def shape(flow: Flow) -> list[str]:
    """The edges of ``flow`` and of every flow nested in it, one line each."""
    lines: list[str] = []
    _add_shape(flow, "", lines, set())
    return lines


def _add_shape(flow: Flow, prefix: str, lines: list[str], seen: set[int]) -> None:
    if id(flow) in seen:  # a flow nested in itself: its shape is listed once
        return
    seen.add(id(flow))
    ids = FlowIds(flow)
    if not ids.edges:
        lines.append(f"{prefix}{ids.id_of(_start(flow))}")
    lines += [f"{prefix}{source} -{action}-> {target}" for source, action, target in ids.edges]
    for node_id, node in ids.node_by_id.items():
        if isinstance(node, Flow):
            _add_shape(node, f"{prefix}{node_id}/", lines, seen)


def _start(flow: Flow) -> Any:
    return flow.start_node


def check_unchanged(stored: list[str], current: list[str], run_id: str) -> None:
    """Raise FlowChangedError saying what changed when ``current`` differs from ``stored``."""
    if stored == current:
        return
    removed = [line for line in stored if line not in current]
    added = [line for line in current if line not in stored]
    detail = "".join(f"\n  - {line}" for line in removed[:10])
    detail += "".join(f"\n  + {line}" for line in added[:10])
    more = len(removed) + len(added) - min(10, len(removed)) - min(10, len(added))
    if more > 0:
        detail += f"\n  ... and {more} more"
    raise FlowChangedError(
        f"Run {run_id!r} was started with a flow of another shape, so it cannot resume "
        f"safely. What changed (- then, + now):{detail}\nResume anyway with "
        f'on_change="continue" (pocketflow runs resume --on-change continue), or start a '
        f"new run id."
    )
