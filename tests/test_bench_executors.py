"""bench/executors.py runs as its users run it and prints one JSON line of figures.

Tiny sizes, local only (the cluster parts start Ray and Dask, which the executor tests
already cover); the full run is documented in BENCHMARKS.md.
"""

from __future__ import annotations

from examples_support import run_bench

TINY = ("--trivial", "50", "--cpu-items", "4", "--cpu-ms", "1", "--seam-batches", "200")


def test_executors_bench_prints_its_figures() -> None:
    report = run_bench("executors.py", *TINY, "--executors", "local")
    assert report["bench"] == "executors"
    assert report["default_us_per_batch"] > 0
    assert report["local_us_per_batch"] > 0
    assert isinstance(report["seam_us_per_batch"], float)
    assert report["trivial"] == {
        "items": 50,
        "local_us_per_item": report["trivial"]["local_us_per_item"],
    }
    assert report["trivial"]["local_us_per_item"] > 0
    assert report["cpu"]["local_s"] >= 4 * 0.001
    assert report["start_s"] == {}
    assert set(report["load_average"]) == {"before", "after"}
