"""``pocketflow graph``: a flow's picture as a Mermaid flowchart or Graphviz dot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from pocketflow.cli import main

FLOWS = """
from pocketflow import (
    AsyncFlow, AsyncNode, AsyncParallelBatchFlow, AsyncParallelBatchNode, BatchNode, Node,
)

class SummarizeThenVerify(AsyncNode): pass
class Finalize(AsyncNode): pass
class GiveUp(AsyncNode): pass
class Load(Node): pass
class Split(AsyncParallelBatchNode): pass
class Each(BatchNode): pass
class Check(AsyncNode): pass
class Docs(AsyncParallelBatchFlow): pass
class Inner(AsyncFlow): pass
class Done(Node): pass

def seed():
    summarize = SummarizeThenVerify()
    summarize - "approve" >> Finalize()
    summarize - "deny" >> summarize
    summarize - "give_up" >> GiveUp()
    return AsyncFlow(start=summarize)

def nested():
    load = Load()
    inner = Inner(start=Split())
    inner.start_node >> Each()
    docs = Docs(start=Check())
    load >> inner
    inner - 'say "hi"|now' >> docs
    docs - "again" >> load
    docs - "end" >> Done()
    return AsyncFlow(start=load)

not_a_flow = 42
"""

SEED_MERMAID = """\
flowchart TD
    flow_start((start))
    n0["SummarizeThenVerify<br/><i>async</i>"]
    n1["Finalize<br/><i>async</i>"]
    n2["GiveUp<br/><i>async</i>"]
    n0 -->|"approve"| n1
    n0 -->|"deny"| n0
    n0 -->|"give_up"| n2
    flow_start --> n0
    classDef asyncNode stroke-dasharray: 5 3
    classDef batchNode stroke-width: 3px
    class n0,n1,n2 asyncNode
"""


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    path = tmp_path / "flows.py"
    path.write_text(textwrap.dedent(FLOWS), encoding="utf-8")
    return path


def graph(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["graph", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- a check of Mermaid's flowchart grammar, for the statements the picture uses ----------

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_LABEL = r'"[^"]*"'  # Mermaid's quoted text: no raw double quote inside (#quot; instead)
_STATEMENTS = {
    "node": re.compile(rf"(?P<id>{_ID})\[{_LABEL}\]"),
    "circle": re.compile(rf"(?P<id>{_ID})\(\([^()]+\)\)"),
    "subgraph": re.compile(rf"subgraph (?P<id>{_ID})\[{_LABEL}\]"),
    "end": re.compile(r"end"),
    "edge": re.compile(rf"(?P<source>{_ID}) -->(\|{_LABEL}\|)? (?P<target>{_ID})"),
    "classDef": re.compile(rf"classDef {_ID} [a-z-]+: [^;]+"),
    "class": re.compile(rf"class (?P<ids>{_ID}(,{_ID})*) {_ID}"),
}
_RESERVED = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click"}


def check_mermaid_flowchart(text: str) -> None:
    """Fail unless ``text`` is a well-formed Mermaid flowchart in the subset we write."""
    lines = text.splitlines()
    assert re.fullmatch(r"flowchart (TD|TB|LR|RL|BT)", lines[0]), lines[0]
    defined: set[str] = set()
    depth = 0
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        kind, found = next(
            ((k, m) for k, m in ((k, p.fullmatch(line)) for k, p in _STATEMENTS.items()) if m),
            (None, None),
        )
        assert found is not None, f"line {number} is not flowchart grammar: {raw!r}"
        if kind in ("node", "circle", "subgraph"):
            name = found["id"]
            assert name not in _RESERVED, f"line {number}: {name!r} is a keyword"
            assert name not in defined, f"line {number}: {name!r} defined twice"
            defined.add(name)
        depth += kind == "subgraph"
        depth -= kind == "end"
        assert depth >= 0, f"line {number}: 'end' without a subgraph"
        if kind == "edge":
            for end in (found["source"], found["target"]):
                assert end in defined, f"line {number}: {end!r} is not defined before its edge"
        if kind == "class":
            assert set(found["ids"].split(",")) <= defined
    assert depth == 0, "a subgraph is not closed"


# --- the picture -------------------------------------------------------------------------------


def test_the_seed_flow_is_a_mermaid_flowchart_with_actions_on_its_edges(
    flows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = graph(capsys, f"{flows}:seed")
    assert code == 0
    assert out == SEED_MERMAID
    check_mermaid_flowchart(out)


def test_nested_flows_are_subgraphs_and_batch_and_async_nodes_are_marked(
    flows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = graph(capsys, f"{flows}:nested")
    assert code == 0
    check_mermaid_flowchart(out)
    assert '    subgraph n1["Inner<br/><i>async flow</i>"]' in out
    assert '        n1_0["Split<br/><i>async parallel batch</i>"]' in out
    assert '        n1_1["Each<br/><i>batch</i>"]' in out
    assert '    subgraph n2["Docs<br/><i>async parallel batch flow</i>"]' in out
    assert "    n1_0 --> n1_1" in out  # the nested flow's own edge
    assert '    n1 -->|"say #quot;hi#quot;|now"| n2' in out  # a flow's action, escaped
    assert '    n2 -->|"again"| n0' in out
    assert "    class n1_0,n1_1 batchNode" in out


def test_dot_format_draws_clusters_for_nested_flows(
    flows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = graph(capsys, f"{flows}:nested", "--format", "dot")
    assert code == 0
    assert out.startswith("digraph flow {\n") and out.endswith("}\n")
    assert "    subgraph cluster_n1 {" in out
    assert (
        '        n1_0 [label="Split\\n(async parallel batch)", style="dashed", peripheries=2];'
        in out
    )
    assert '    n1_0 -> n2_0 [label="say \\"hi\\"|now", ltail=cluster_n1, lhead=cluster_n2];' in out
    assert out.count("{") == out.count("}")


def test_a_target_that_is_not_a_flow_is_a_clear_error(
    flows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = graph(capsys, f"{flows}:not_a_flow")
    assert code == 2
    assert out == ""
    assert "is a int, not a flow" in err


@pytest.mark.skipif(
    not (shutil.which("node") and os.environ.get("MERMAID_NODE_MODULES")),
    reason="real Mermaid check: set MERMAID_NODE_MODULES to a folder with mermaid and jsdom",
)
def test_a_real_mermaid_build_parses_the_picture(
    flows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checker = Path(__file__).parent / "mermaid_parse.mjs"
    for target in ("seed", "nested"):
        _, out, _ = graph(capsys, f"{flows}:{target}")
        result = subprocess.run(
            ["node", str(checker)],
            input=out,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
