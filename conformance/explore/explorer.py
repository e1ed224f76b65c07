"""Run properties against a target with hypothesis' programmatic API and keep the shrunk failures.

Each property's test runs seeded (`hypothesis.seed(seed)`) with no example database, so the same
seed replays the same examples against an unchanged target. When an example fails, hypothesis
shrinks it and replays the minimal one last; its reproduction (the falsifying arguments, or a
state machine's steps) is captured from hypothesis' reporter, and the evidence and exchanges the
property left behind belong to that minimal example.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import FailedHealthCheck, InvalidArgument, Unsatisfiable
from hypothesis.reporting import with_reporter

from conformance import __version__
from conformance.explore.defaults import EXPLORE_MAX_EXAMPLES
from conformance.explore.properties import ExploreContext, Property, Skip
from conformance.explore.results import ERROR, FAILED, PASSED, SKIPPED, ExploreRun, Falsified, PropertyOutcome
from conformance.explore.seed_api import DIALECT
from conformance.explore.session import Session
from conformance.explore.tuning import DEFAULT_SHRINK_SECONDS, reporter_lines, tuned

DEFAULT_MAX_EXAMPLES = EXPLORE_MAX_EXAMPLES
STATEFUL_STEPS = 12
Progress = Callable[[str], None]
# Hypothesis refusing to run (not the target's doing): reported as errors, not failures.
HARNESS_ERRORS = (Unsatisfiable, FailedHealthCheck, InvalidArgument)


def explore_settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                    stateful_step_count=STATEFUL_STEPS, phases=(Phase.generate, Phase.shrink),
                    print_blob=False)


def explore(session: Session, properties: Sequence[Property], *, max_examples: int = DEFAULT_MAX_EXAMPLES,
            run_seed: int = 0, target_spec: str = "reference", shrink_seconds: float = DEFAULT_SHRINK_SECONDS,
            progress: Progress = lambda line: None) -> ExploreRun:
    started, clock = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    outcomes = []
    for position, prop in enumerate(properties, 1):
        progress(f"[{position}/{len(properties)}] {prop.name} ...")
        with tuned(shrink_seconds):
            outcome = run_property(session, prop, max_examples=max_examples, run_seed=run_seed,
                                   target_spec=target_spec)
        outcomes.append(outcome)
        progress(_progress_line(position, len(properties), outcome))
    session.drain()
    return ExploreRun(seed=run_seed, target=session.target.describe(), max_examples=max_examples,
                      properties=tuple(outcomes), duration_ms=_ms(clock), tool_version=__version__,
                      started_at=started, selection=tuple(p.name for p in properties))


def run_property(session: Session, prop: Property, *, max_examples: int, run_seed: int,
                 target_spec: str = "reference") -> PropertyOutcome:
    clock = time.perf_counter()
    missing = [role for role in prop.roles if role not in session.target.roles]
    if missing:
        return _outcome(prop, SKIPPED, 0, clock, f"the target has no {', '.join(missing)} role")
    if session.target.dialect != DIALECT:
        return _outcome(prop, SKIPPED, 0, clock, f"properties speak the {DIALECT} dialect (the seed APIs); "
                        f"the target's is {session.target.dialect}")
    ctx = ExploreContext(session, explore_settings(max_examples), run_seed, random.Random(run_seed))
    lines: list[str] = []
    try:
        with with_reporter(lines.append):
            test = prop.build(ctx)
            seed(run_seed)(test)()
    except Skip as exc:
        return _outcome(prop, SKIPPED, ctx.examples, clock, str(exc))
    except HARNESS_ERRORS as exc:
        return _outcome(prop, ERROR, ctx.examples, clock, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        falsified = _falsified(ctx, prop, exc, lines, max_examples, run_seed, target_spec)
        return _outcome(prop, FAILED, ctx.examples, clock, falsified.error.splitlines()[0], falsified)
    return _outcome(prop, PASSED, ctx.examples, clock)


def _falsified(ctx: ExploreContext, prop: Property, exc: Exception, lines: list[str], max_examples: int,
               run_seed: int, target_spec: str) -> Falsified:
    notes = [note for note in getattr(exc, "__notes__", []) if note not in lines]
    target = "" if target_spec == "reference" else f" --target {target_spec}"
    return Falsified(
        error=f"{type(exc).__name__}: {exc}",
        example="\n".join([*reporter_lines(lines), *notes]).strip(),
        evidence=dict(ctx.notes),
        exchanges=[asdict(exchange) for exchange in ctx.exchanges],
        replay=f"conformance explore{target} --seed {run_seed} --property {prop.name} --max-examples {max_examples}")


def _outcome(prop: Property, status: str, examples: int, clock: float, reason: str | None = None,
             falsified: Falsified | None = None) -> PropertyOutcome:
    return PropertyOutcome(prop.name, prop.title, prop.spec, status, examples, _ms(clock), reason, falsified)


def _progress_line(position: int, total: int, outcome: PropertyOutcome) -> str:
    line = (f"[{position}/{total}] {outcome.status.upper():7} {outcome.name} ({outcome.examples} examples, "
            f"{outcome.duration_ms / 1000:.1f} s)")
    if outcome.reason:
        line += f"\n      {outcome.reason}"
    if outcome.falsified:
        line += f"\n      replay: {outcome.falsified.replay}"
    return line


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
