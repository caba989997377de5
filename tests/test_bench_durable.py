"""bench/durable.py runs as its users run it and prints one JSON line of figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from examples_support import run_bench

TINY = ("--steps", "20", "--rounds", "1", "--langgraph-steps", "5", "--size-steps", "5,10")
OURS = ("nondurable", "memory", "sqlite")
LANGGRAPH = (
    "langgraph_us",
    "langgraph_cpu_us",
    "langgraph_sqlite_saver_us",
    "langgraph_async_sqlite_saver_us",
    "langgraph_no_checkpointer_us",
    "langgraph_defaults_us",
    "langgraph_vs_sqlite",
    "langgraph_fsync_us",
)


def run_durable_bench(*args: str, python_path: Path | None = None) -> dict[str, Any]:
    extra = {} if python_path is None else {"PYTHONPATH": str(python_path)}
    return run_bench("durable.py", *TINY, *args, env=extra)


def check_ours(report: dict[str, Any]) -> None:
    assert report["bench"] == "durable"
    assert report["steps"] == 20
    for name in OURS:
        assert report[f"{name}_us"] > 0
        assert report[f"{name}_cpu_us"] > 0
    assert report["sqlite_vs_nondurable"] > 0
    assert isinstance(report["sqlite_meets_goal"], bool)
    size = report["size"]
    assert set(size["sqlite_bytes"]) == {"5", "10"}
    assert size["sqlite_bytes"]["10"] >= size["sqlite_bytes"]["5"] > 0
    assert size["state_bytes"]["10"] > size["state_bytes"]["5"] > 5 * 1024
    assert size["sqlite_growth_10_over_5"] > 0


def check_no_langgraph(report: dict[str, Any], reason: str) -> None:
    assert report["langgraph"] is False
    assert reason in report["langgraph_reason"]
    for key in LANGGRAPH:
        assert report[key] is None, key
    assert report["size"]["langgraph_bytes"] is None
    assert report["size"]["langgraph_growth_10_over_5"] is None


def test_durable_bench_without_langgraph_prints_our_figures() -> None:
    report = run_durable_bench("--no-langgraph", "--fsync", "--fsync-steps", "3")
    check_ours(report)
    check_no_langgraph(report, "--no-langgraph")
    assert report["fsync_steps"] == 3
    assert report["sqlite_fsync_us"] > 0
    assert report["langgraph_fsync_us"] is None


def test_durable_bench_says_why_when_langgraph_is_not_installed(tmp_path: Path) -> None:
    # A langgraph package that fails to import stands for one that is not installed.
    (tmp_path / "langgraph").mkdir()
    (tmp_path / "langgraph" / "__init__.py").write_text(
        "raise ImportError('No module named langgraph')\n"
    )
    report = run_durable_bench(python_path=tmp_path)
    check_ours(report)
    check_no_langgraph(report, "uv sync --all-packages --group bench")
    assert report["fsync_steps"] is None
    assert report["sqlite_fsync_us"] is None


def test_durable_bench_measures_langgraph_when_installed() -> None:
    # Only with the bench dependency group (`uv sync --all-packages --group bench`).
    pytest.importorskip("langgraph.checkpoint.sqlite", reason="LangGraph is not installed")
    report = run_durable_bench("--fsync", "--fsync-steps", "3")
    check_ours(report)
    assert report["langgraph_fsync_us"] > 0
    assert report["langgraph"] is True
    assert report["langgraph_reason"] is None
    for key in LANGGRAPH:
        assert report[key] > 0, key
    assert report["langgraph_saver"] in ("SqliteSaver (invoke)", "AsyncSqliteSaver (ainvoke)")
    assert report["size"]["langgraph_bytes"]["10"] > report["size"]["langgraph_bytes"]["5"]
