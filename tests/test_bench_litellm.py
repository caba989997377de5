"""bench/litellm_bridge.py runs with tiny sizes and prints one JSON line of figures.

It runs in this process (its vendor servers in their own), so ``litellm``, imported
once per process by the plugin's loader, is shared with the plugin's tests.
"""

from __future__ import annotations

import json

import litellm_bridge
import pytest

TINY = ["--calls", "10", "--concurrency", "5", "--rounds", "1", "--storm-calls", "20"]
SET_BY_THE_BENCH = ("POCKETFLOW_CONFIG", "OPENAI_API_KEY", "MISTRAL_API_KEY")


def test_the_bench_prints_its_figures_and_the_storm_holds(
    pocketflow_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in SET_BY_THE_BENCH:  # so that they are restored afterwards
        pocketflow_env.setenv(variable, "unset")
    litellm_bridge.main(TINY)
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    results = figures["throughput"]["results"]
    assert set(results) == {"openai-facade", "litellm-facade", "litellm-bare"}
    for found in results.values():
        assert (found["errors"], found["wrong_replies"]) == (0, 0)
        assert found["calls_per_s"] > 0 and found["cpu_ms_per_call"] > 0
    assert figures["throughput"]["litellm_vs_openai"]["cpu_per_call"] > 0
    storm = figures["fault_storm"]
    assert storm["ok"] and storm["every_call_ended"] and storm["attempts_within_budget"]
    assert storm["requests"] > storm["calls"]  # faults happened and were retried
