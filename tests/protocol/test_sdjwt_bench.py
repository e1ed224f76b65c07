"""The SD-JWT benchmark and the benchmark runner stay runnable (timings are printed, never asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conformance.protocol.sdjwt import parse_sd_jwt

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"test_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_presentation_is_realistic_and_verifies() -> None:
    bench = _load("bench_sdjwt")
    for alg in bench.ALGS:
        shown, issuer, _ = bench.build_presentation(alg, 7)
        parsed = parse_sd_jwt(shown)
        assert len(parsed.disclosures) == 6 and parsed.kb_jwt is not None
        assert parsed.issuer_jws.header["alg"] == alg
        verified = bench.full_check(shown, issuer)()
        assert verified.kb_payload["nonce"] == bench.NONCE
        assert verified.claims["address"] == {"locality": "Köln", "postal_code": "51147"}


def test_benchmark_prints_its_figures(capsys) -> None:
    bench = _load("bench_sdjwt")
    assert bench.main(["--runs", "3", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "6 Disclosures + KB-JWT" in out
    for alg in ("ES256", "EdDSA"):
        assert f"{alg:<6} verify (parse + all checks):" in out
        assert f"{alg:<6} ratio verify / raw:" in out and f"{alg:<6} ratio verify / raw, keys preloaded:" in out


def test_runner_runs_the_selected_benchmarks_in_one_process(capsys) -> None:
    runner = _load("run")
    assert {p.stem for p in runner.discover()} >= {"bench_sdjwt", "bench_dcql"}
    assert runner.main(["--runs", "2", "sdjwt"]) == 0
    out = capsys.readouterr().out
    assert "== bench_sdjwt ==" in out and "ratio verify / raw" in out and "bench_dcql" not in out
