"""The flow's picture: ``pocketflow graph MODULE:ATTR`` as a Mermaid flowchart or Graphviz dot.

Nodes keep the stable ids durable runs use (:class:`~pocketflow.runs.graph.FlowIds`):
``"2:Verify"`` becomes ``n2``, and node 0 of the flow nested as ``n1`` becomes
``n1_0``. A nested flow is a subgraph, an action other than "default" labels its
edge, and async and batch nodes say so under their class name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from pocketflow.flows import AsyncParallelBatchFlow, BatchFlow, Flow
from pocketflow.nodes import AsyncNode, AsyncParallelBatchNode, BaseNode, BatchNode
from pocketflow.runs.graph import FlowIds

COMMAND = "graph"
FORMATS = ("mermaid", "dot")


def kind_of(node: BaseNode) -> str:
    """What sort of node it is, in words: "async parallel batch", "flow", "" for plain."""
    words = []
    if isinstance(node, AsyncNode):
        words.append("async")
    if isinstance(node, AsyncParallelBatchNode | AsyncParallelBatchFlow):
        words.append("parallel batch")
    elif isinstance(node, BatchNode | BatchFlow):
        words.append("batch")
    if isinstance(node, Flow):
        words.append("flow")
    return " ".join(words)


def _local(prefix: str, node_id: str) -> str:
    return f"{prefix}{node_id.partition(':')[0]}"


def _walk(
    flow: Flow,
    prefix: str,
    on_node: Callable[[str, BaseNode, int], None],
    on_flow: Callable[[str, Flow, int, bool], None],
    on_edge: Callable[[str, str, str], None],
    depth: int,
    seen: frozenset[int],
) -> None:
    """Visit ``flow``'s nodes (nested flows as open/close pairs), then its edges."""
    ids = FlowIds(flow)
    for node_id, node in ids.node_by_id.items():
        name = _local(prefix, node_id)
        if isinstance(node, Flow) and node.start_node is not None and id(node) not in seen:
            on_flow(name, node, depth, True)
            _walk(node, f"{name}_", on_node, on_flow, on_edge, depth + 1, seen | {id(node)})
            on_flow(name, node, depth, False)
        else:
            on_node(name, node, depth)
    for source, action, target in ids.edges:
        on_edge(_local(prefix, source), action, _local(prefix, target))


def mermaid(flow: Flow) -> str:
    """``flow`` as a Mermaid ``flowchart``."""
    lines = ["flowchart TD"]
    styled: dict[str, list[str]] = {"asyncNode": [], "batchNode": []}

    def label(node: BaseNode) -> str:
        kind = kind_of(node)
        text = _escape_mermaid(type(node).__name__)
        return f"{text}<br/><i>{kind}</i>" if kind else text

    def on_node(name: str, node: BaseNode, depth: int) -> None:
        lines.append(f'{"    " * (depth + 1)}{name}["{label(node)}"]')
        if isinstance(node, AsyncNode):
            styled["asyncNode"].append(name)
        if isinstance(node, BatchNode | BatchFlow):
            styled["batchNode"].append(name)

    def on_flow(name: str, node: Flow, depth: int, opening: bool) -> None:
        indent = "    " * (depth + 1)
        lines.append(f'{indent}subgraph {name}["{label(node)}"]' if opening else f"{indent}end")

    def on_edge(source: str, action: str, target: str) -> None:
        shown = "" if action == "default" else f'|"{_escape_mermaid(action)}"|'
        lines.append(f"    {source} -->{shown} {target}")

    lines.append("    flow_start((start))")
    _walk(flow, "n", on_node, on_flow, on_edge, 0, frozenset({id(flow)}))
    lines.append("    flow_start --> n0")
    lines.append("    classDef asyncNode stroke-dasharray: 5 3")
    lines.append("    classDef batchNode stroke-width: 3px")
    for name, members in styled.items():
        if members:
            lines.append(f"    class {','.join(members)} {name}")
    return "\n".join(lines) + "\n"


def dot(flow: Flow) -> str:
    """``flow`` as a Graphviz ``digraph``."""
    lines = [
        "digraph flow {",
        "    compound=true;",
        "    node [shape=box];",
        "    start [shape=point];",
    ]

    def label(node: BaseNode) -> str:
        kind = kind_of(node)
        text = _escape_dot(type(node).__name__)
        return f"{text}\\n({kind})" if kind else text

    def on_node(name: str, node: BaseNode, depth: int) -> None:
        style = ', style="dashed"' if isinstance(node, AsyncNode) else ""
        peripheries = ", peripheries=2" if isinstance(node, BatchNode | BatchFlow) else ""
        lines.append(f'{"    " * (depth + 1)}{name} [label="{label(node)}"{style}{peripheries}];')

    def on_flow(name: str, node: Flow, depth: int, opening: bool) -> None:
        indent = "    " * (depth + 1)
        if opening:
            lines.append(f"{indent}subgraph cluster_{name} {{")
            lines.append(f'{indent}    label="{label(node)}";')
        else:
            lines.append(f"{indent}}}")

    edges: list[str] = []

    def on_edge(source: str, action: str, target: str) -> None:
        options = [] if action == "default" else [f'label="{_escape_dot(action)}"']
        if source in flows:  # a nested flow's edge leaves its cluster
            options.append(f"ltail=cluster_{source}")
        if target in flows:
            options.append(f"lhead=cluster_{target}")
        shown = f" [{', '.join(options)}]" if options else ""
        edges.append(f"    {_dot_end(source, flows)} -> {_dot_end(target, flows)}{shown};")

    flows: dict[str, str] = {}

    def note_flow(name: str, node: Flow, depth: int, opening: bool) -> None:
        if opening:
            flows[name] = f"{name}_0"  # an edge to a nested flow meets its start node
        on_flow(name, node, depth, opening)

    _walk(flow, "n", on_node, note_flow, on_edge, 0, frozenset({id(flow)}))
    lines.append(f"    start -> {_dot_end('n0', flows)};")
    return "\n".join([*lines, *edges, "}"]) + "\n"


def _dot_end(name: str, flows: dict[str, str]) -> str:
    while name in flows:
        name = flows[name]
    return name


def _escape_mermaid(text: str) -> str:
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _escape_dot(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render(flow: Flow, format: str = "mermaid") -> str:
    """``flow``'s picture in ``format`` ("mermaid" or "dot")."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}.")
    return mermaid(flow) if format == "mermaid" else dot(flow)


def add_command(commands: Any) -> None:
    """Add ``pocketflow graph`` to the CLI's subcommands."""
    parser = commands.add_parser(
        COMMAND, help="print a flow as a Mermaid flowchart (or Graphviz dot)"
    )
    parser.add_argument(
        "target", metavar="MODULE:ATTR", help="the flow, or a function returning it"
    )
    parser.add_argument("--format", choices=FORMATS, default="mermaid")


def main(arguments: argparse.Namespace) -> int:
    """Run ``pocketflow graph``; returns the exit status."""
    from pocketflow.errors import PocketFlowError
    from pocketflow.runs.targets import load_flow

    try:
        flow = load_flow(arguments.target)
        picture = render(flow, arguments.format)
    except (ValueError, PocketFlowError) as error:
        print(f"pocketflow graph: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(picture)
    return 0
