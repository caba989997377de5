"""bench/litellm_bridge.py runs as its users run it and prints one JSON line of figures."""

from __future__ import annotations

import json
import subprocess
import sys

from examples_support import ROOT, clean_environment

BENCH = ROOT / "bench" / "litellm_bridge.py"
TINY = ("--calls", "10", "--concurrency", "5", "--rounds", "1", "--storm-calls", "20")


def test_the_bench_prints_its_figures_and_the_storm_holds() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), *TINY],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean_environment(),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    results = figures["throughput"]["results"]
    assert set(results) == {"openai-facade", "litellm-facade", "litellm-bare"}
    for found in results.values():
        assert (found["errors"], found["wrong_replies"]) == (0, 0)
        assert found["calls_per_s"] > 0 and found["cpu_ms_per_call"] > 0
    assert figures["throughput"]["litellm_vs_openai"]["cpu_per_call"] > 0
    storm = figures["fault_storm"]
    assert storm["ok"] and storm["every_call_ended"] and storm["attempts_within_budget"]
    assert storm["requests"] > storm["calls"]  # faults happened and were retried
