"""Issue 22's benchmarks keep working: llm_throughput's concurrency regimes and verdicts,
and profile_concurrency's profile arithmetic (pyinstrument itself is bench-group only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from profile_concurrency import profile_shares

from examples_support import run_bench


def test_the_concurrency_regimes_run_and_report_their_ratios() -> None:
    report = run_bench(
        "llm_throughput.py",
        *("--regime", "cpu_bound_64", "--regime", "cpu_bound_200"),
        *("--scale", "0.05", "--rounds", "1", "--clients", "openai-facade"),
        timeout=180,
    )

    for name, in_flight in (("cpu_bound_64", 64), ("cpu_bound_200", 200)):
        regime = report["regimes"][name]
        assert regime["concurrency"] == in_flight
        result = regime["results"]["openai-facade"]
        assert result["errors"] == 0, result["first_error"]
        assert result["all_calls_once"]
        assert result["server_max_in_flight"] == in_flight
    scaling = report["targets"]["openai"]["concurrency"]
    assert set(scaling["facade_cpu_ms_per_call"]) == {"64", "200"}
    assert scaling["facade_cpu_200_vs_64"] > 0
    assert scaling["facade_calls_per_s_200_vs_64"] > 0
    # 1,000 in flight was not run: the CPU verdict cannot be met without it.
    assert scaling["cpu_met"] is False
    assert isinstance(scaling["calls_per_s_met"], bool)


@dataclass
class Frame:
    """The parts of a pyinstrument frame that profile_shares reads."""

    function: str
    time: float
    total_self_time: float = 0.0
    children: list[Frame] = field(default_factory=list)
    file_path: str = "module.py"
    file_path_short: str = "module.py"
    line_no: int = 1


def test_profile_shares_count_a_recursing_function_once_per_sample() -> None:
    pool = Frame("_assign_requests_to_connections", 3.0, 3.0)
    inner = Frame("send", 2.0, 2.0)
    outer = Frame("send", 6.0, 1.0, [inner, pool])
    root = Frame("_run_once", 10.0, 4.0, [outer])

    shares = profile_shares(root, "_assign_requests_to_connections")

    assert shares.inclusive["send (module.py:1)"] == 6.0
    assert shares.own["send (module.py:1)"] == 3.0
    assert shares.watched == 3.0
