"""Run every benchmark (benchmarks/bench_*.py) in one process and print all their figures.

    python benchmarks/run.py [--runs N] [NAME ...]

NAME selects benchmarks by the part after `bench_` (e.g. `sdjwt`, `dcql`); without any, all run,
in name order. Each benchmark's `main(argv)` runs with its own defaults, or with `--runs N` when
given (every benchmark takes it). Figures are printed, never asserted; a benchmark that fails
prints its traceback, the others still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def discover(names: list[str] | None = None) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    unknown = set(names) - {path.stem.removeprefix("bench_") for path in found}
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; "
                         f"have: {', '.join(p.stem.removeprefix('bench_') for p in found)}")
    return [path for path in found if path.stem.removeprefix("bench_") in names]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmarks_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, help="passed to every benchmark (default: each one's own)")
    parser.add_argument("names", nargs="*", help="benchmarks to run, e.g. sdjwt dcql (default: all)")
    args = parser.parse_args(argv)
    bench_argv = ["--runs", str(args.runs)] if args.runs is not None else []

    failed = []
    for path in discover(args.names):
        print(f"== {path.stem} ==", flush=True)
        start = time.perf_counter()
        try:
            status = load(path).main(list(bench_argv))
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            traceback.print_exc(file=sys.stdout)
            status = 1
        if status:
            failed.append(path.stem)
        print(f"({path.stem}: {time.perf_counter() - start:.1f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
