"""The DCQL benchmark stays runnable and deterministic (its timings are printed, never asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dcql.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_dcql", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_on_a_small_wallet(capsys):
    bench = _load()
    assert bench.build_credentials(50, 7) == bench.build_credentials(50, 7)
    assert bench.build_credentials(50, 7) != bench.build_credentials(50, 8)
    assert bench.main(["--credentials", "300", "--runs", "2"]) == 0
    out = capsys.readouterr().out
    assert "credentials: 300" in out and "match (prebuilt index)" in out and "ratio match / baseline" in out
