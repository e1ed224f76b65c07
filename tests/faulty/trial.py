"""Trying a faulty variant: build the embedded reference, break it, run the scenarios that must
catch it through the harness's own Runner, and judge the result.

    python -m tests.faulty.trial            # every variant; prints the table and "N caught of M tried"
    python -m tests.faulty.trial issuer.    # those whose name starts with issuer.

One deployment per variant, so a variant never leaks into another's run. Scenario files are
loaded one by one and the library is cached: a file another engineer is halfway through writing
does not stop the variants whose scenarios live elsewhere (it is listed in `broken_files()`).
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance import paths
from conformance.harness.environment import default_environment
from conformance.harness.loader import ScenarioError, discover, load_scenarios
from conformance.harness.results import FAILED, PASSED, RunResult, ScenarioResult
from conformance.harness.runner import Runner
from conformance.harness.scenario import Scenario
from conformance.harness.target import open_target

from tests.faulty.variants import VARIANTS, Apply, Catch, Variant

SEED = 20260401
STEP_TIMEOUT = 20.0
# A variant that stops notarization must fail within seconds, not the reference target's 10 s.
POLL_TIMEOUT = 1.5


# --- the scenario library -----------------------------------------------------------------------------

@functools.cache
def _library() -> tuple[dict[str, Scenario], tuple[str, ...]]:
    scenarios: dict[str, Scenario] = {}
    broken: list[str] = []
    for path in discover([paths.SCENARIOS]):
        try:
            for scenario in load_scenarios([path]):
                scenarios.setdefault(scenario.id, scenario)
        except ScenarioError as exc:
            broken.append(f"{Path(path).name}: {exc.problems[0] if exc.problems else exc}")
    return scenarios, tuple(broken)


def library() -> dict[str, Scenario]:
    return _library()[0]


def broken_files() -> tuple[str, ...]:
    return _library()[1]


def select(names: Iterable[str], *, prefixes: bool = False) -> list[Scenario]:
    """The scenarios with these ids (or, with `prefixes`, whose id starts with one of them)."""
    known = library()
    if prefixes:
        wanted = tuple(names)
        return [s for i, s in known.items() if i.startswith(wanted)]
    missing = [name for name in names if name not in known]
    if missing:
        raise LookupError(f"no scenario {', '.join(missing)} in {paths.SCENARIOS}"
                          + (f" (unloadable files: {'; '.join(broken_files())})" if broken_files() else ""))
    return [known[name] for name in dict.fromkeys(names)]


def scenarios_for(variant: Variant) -> list[Scenario]:
    return select(variant.scenarios, prefixes=not variant.catch)


# --- running ------------------------------------------------------------------------------------------

async def run(scenarios: Sequence[Scenario], apply: Apply | None = None) -> RunResult:
    """Run `scenarios` against a fresh embedded reference, broken by `apply` first (if given)."""
    target = await open_target("reference", seed=SEED)
    try:
        if apply is not None:
            apply(target.deployment)
        target.poll_timeout = POLL_TIMEOUT
        runner = Runner(target, env=default_environment(), seed=SEED, step_timeout=STEP_TIMEOUT)
        return await runner.run(scenarios)
    finally:
        await target.aclose()


# --- judging ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    variant: Variant
    caught: bool
    held: tuple[str, ...]            # declared catches that happened
    missed: tuple[str, ...]          # declared catches that did not, with what happened instead
    failures: dict[str, str]         # scenario id -> its first failure, for every failed scenario
    ran: tuple[str, ...]             # scenario ids run
    seconds: float

    def explain(self) -> str:
        lines = [f"{self.variant.name}: {'caught' if self.caught else 'NOT caught'} "
                 f"({len(self.ran)} scenarios, {self.seconds:.1f} s)"]
        lines += [f"  held:   {item}" for item in self.held]
        lines += [f"  missed: {item}" for item in self.missed]
        lines += [f"  failed: {sid}: {why}" for sid, why in self.failures.items()]
        return "\n".join(lines)


def failing_checks(result: ScenarioResult) -> set[str]:
    return {check.name for check in result.blocking_checks}


def failing_expectations(result: ScenarioResult) -> set[str]:
    return {e.kind for step in result.steps for e in step.failed_expectations}


def holds(catch: Catch, results: dict[str, ScenarioResult]) -> tuple[bool, str]:
    """Did the run show this catch? (True, what) or (False, what happened instead)."""
    result = results.get(catch.scenario)
    if result is None:
        return False, f"{catch}: the scenario did not run"
    if result.status != FAILED:
        return False, f"{catch}: the scenario {result.status}" + (f" ({result.reason})" if result.reason else "")
    found = failing_checks(result) if catch.check else failing_expectations(result)
    wanted = catch.check or catch.expectation
    if wanted in found:
        return True, str(catch)
    return False, (f"{catch}: it failed otherwise: {result.reason} (failing checks {sorted(failing_checks(result))}, "
                   f"expectations {sorted(failing_expectations(result))})")


def judge(variant: Variant, run_result: RunResult, seconds: float = 0.0) -> Verdict:
    results = {s.id: s for s in run_result.scenarios}
    failures = {s.id: s.reason or "failed" for s in run_result.scenarios if s.status == FAILED}
    outcomes = [holds(c, results) for c in variant.catch]
    held = tuple(text for ok, text in outcomes if ok)
    missed = tuple(text for ok, text in outcomes if not ok)
    # Declared catches must all hold; a variant not caught yet counts as caught once anything fails.
    caught = not missed if variant.catch else bool(failures)
    return Verdict(variant, caught, held, missed, failures, tuple(results), seconds)


async def try_variant(variant: Variant) -> Verdict:
    started = time.perf_counter()
    result = await run(scenarios_for(variant), variant.apply)
    return judge(variant, result, time.perf_counter() - started)


def summary(verdicts: Sequence[Verdict]) -> str:
    caught = sum(v.caught for v in verdicts)
    return f"{caught} variants caught of {len(verdicts)} tried"


def control_scenarios() -> list[str]:
    """Every scenario a declared catch names: the unmodified reference must pass them all."""
    return list(dict.fromkeys(c.scenario for v in VARIANTS.values() for c in v.catch))


def passed_all(run_result: RunResult) -> dict[str, str]:
    """{scenario id: why} for each scenario that did not pass."""
    return {s.id: f"{s.status}: {s.reason}" for s in run_result.scenarios if s.status != PASSED}


def table_rows() -> list[str]:
    """The README's table, one markdown row per declared catch (or per variant not caught yet)."""
    rows = []
    for v in VARIANTS.values():
        for c in v.catch:
            how = f"check `{c.check}`" if c.check else f"expectation `{c.expectation}`"
            rows.append(f"| `{v.name}` | {v.breaks} | `{c.scenario}` | {how} |")
        if v.missing:
            rows.append(f"| `{v.name}` | {v.breaks} | **not caught yet** | {v.missing} |")
    return rows


# --- command line -------------------------------------------------------------------------------------

async def _main(prefixes: Sequence[str]) -> int:
    chosen = [v for name, v in VARIANTS.items() if not prefixes or name.startswith(tuple(prefixes))]
    verdicts = [await try_variant(v) for v in chosen]
    for verdict in verdicts:
        print(verdict.explain())
    for problem in broken_files():
        print(f"unloadable scenario file (skipped): {problem}")
    print(summary(verdicts))
    return 0 if all(v.caught == bool(v.variant.catch) for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1:])))
