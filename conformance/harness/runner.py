"""The engine: runs scenarios one after another in one event loop and emits events.

Per scenario: skip it (with the reason) when it is written for other dialects (`dialects:`), the
target lacks a role it needs or its dialect lacks an operation it calls; otherwise derive its rng
from the run seed and its id (so `--seed` replays it, whatever else is selected), open a
StepContext, render its `vars:` and run the steps; the first failing step stops it and the rest
are `not_run`. A role that gave no answer at all (transport error, timeout) in UNREACHABLE_AFTER
scenarios in a row is not called again: later scenarios needing it fail at once, so a dead target
costs seconds, not N x timeout.

The runner never exits and never prints; the CLI and the pytest plugin are adapters over it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from conformance import __version__
from conformance.harness.environment import Environment
from conformance.harness.events import (
    Event,
    Handler,
    RunFinished,
    RunStarted,
    ScenarioFinished,
    ScenarioStarted,
    StepFinished,
)
from conformance.harness.results import (
    FAILED,
    NOT_RUN,
    PASSED,
    SKIPPED,
    RunInfo,
    RunResult,
    ScenarioResult,
    StepResult,
)
from conformance.harness.scenario import Scenario, Step
from conformance.harness.steps import StepRun, run_step
from conformance.harness.template import TemplateError, render
from conformance.redact import SECRET_NAMES, redact, redact_text

DEFAULT_STEP_TIMEOUT = 60.0
UNREACHABLE_AFTER = 2   # consecutive scenarios in which a role did not answer before it is given up


class ConfigurationError(Exception):
    """The scenarios and the environment disagree before anything runs (e.g. an unknown operation)."""


def scenario_rng(seed: int, scenario_id: str) -> random.Random:
    return random.Random(f"{seed}:{scenario_id}")


def target_secrets(target: Any) -> list[str]:
    """Secret strings of the target (API keys, secret-named extras), to scrub from free text."""
    if hasattr(target, "secrets"):
        return list(target.secrets())
    found = []
    for endpoint in (getattr(target, "roles", None) or {}).values():
        if endpoint.api_key:
            found.append(endpoint.api_key)
        found += [str(v) for k, v in (endpoint.extra or {}).items() if str(k).lower() in SECRET_NAMES and v]
    return found


def step_roles(step: Step, env: Environment) -> tuple[str, ...]:
    if step.op:
        return env.operation_roles(step.op)
    return (step.http.role,) if step.http else ()


def roles_needed(scenario: Scenario, env: Environment) -> tuple[str, ...]:
    needed = dict.fromkeys(scenario.roles)
    for step in scenario.steps:
        needed.update(dict.fromkeys(step_roles(step, env)))
    return tuple(needed)


def preflight(scenarios: Iterable[Scenario], env: Environment) -> None:
    """Every operation must be known to the dialect layer: a typo fails here, with file:line."""
    problems = []
    for scenario in scenarios:
        for step in scenario.steps:
            if step.op is None:
                continue
            try:
                env.operation_roles(step.op)
            except KeyError as exc:
                problems.append(f"{step.source}: step {step.name!r}: unknown operation {step.op!r} ({exc.args[0]})")
    if problems:
        raise ConfigurationError("\n".join(problems))


class Runner:
    def __init__(self, target: Any, *, env: Environment, handlers: Sequence[Handler] = (), seed: int = 0,
                 step_timeout: float = DEFAULT_STEP_TIMEOUT, clock: Callable[[], float] = time.time,
                 selection: Mapping[str, Any] | None = None) -> None:
        self.target, self.env, self.handlers = target, env, list(handlers)
        self.seed, self.step_timeout, self.clock = seed, step_timeout, clock
        self.selection = dict(selection or {})
        self.secrets = target_secrets(target)
        self.silent: dict[str, tuple[int, str]] = {}   # role -> (consecutive no-answer scenarios, last error)

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler.handle_event(event)

    def info(self, count: int) -> RunInfo:
        describe = getattr(self.target, "describe", None)
        return RunInfo(seed=self.seed, target=redact(describe() if describe else {}), tool_version=__version__,
                       started_at=datetime.now(UTC).isoformat(timespec="seconds"), scenario_count=count,
                       selection=self.selection)

    async def run(self, scenarios: Sequence[Scenario]) -> RunResult:
        preflight(scenarios, self.env)
        info = self.info(len(scenarios))
        self.emit(RunStarted(info))
        started, results, interrupted = time.perf_counter(), [], True
        try:
            for position, scenario in enumerate(scenarios, 1):
                self.emit(ScenarioStarted(scenario, position, len(scenarios)))
                result = await self.run_scenario(scenario)
                results.append(result)
                self.emit(ScenarioFinished(scenario, result, position, len(scenarios)))
            interrupted = False
        finally:
            # Also on Ctrl-C (CancelledError / KeyboardInterrupt): the reporters flush what exists.
            run = RunResult(info, tuple(results), (time.perf_counter() - started) * 1000, interrupted)
            self.emit(RunFinished(run))
        return run

    async def run_scenario(self, scenario: Scenario) -> ScenarioResult:
        started = time.perf_counter()
        reason = self.skip_reason(scenario)
        if reason:
            return _scenario_result(scenario, SKIPPED, (), started, reason)
        gone = self.unreachable_reason(scenario)
        if gone:
            return _scenario_result(scenario, FAILED, (), started, gone)
        rng = scenario_rng(self.seed, scenario.id)
        vars: dict[str, Any] = {}
        try:
            context = await self.env.open_context(self.target, scenario, rng, vars)
        except Exception as exc:  # noqa: BLE001 - reported, never a traceback
            why = redact_text(f"could not set up the scenario: {type(exc).__name__}: {exc}", self.secrets)
            return _scenario_result(scenario, FAILED, (), started, why)
        run = StepRun(self.env, self.target, scenario, context, vars, rng, self.secrets, self.step_timeout,
                      self.clock)
        try:
            vars.update(render(dict(scenario.vars), run.scope_named("vars")))
            steps = await self._steps(scenario, run)
        except TemplateError as exc:
            return _scenario_result(scenario, FAILED, (), started, str(exc))
        finally:
            await self.env.close_context(context)
        failed = next((s for s in steps if s.status == FAILED), None)
        self._track_reachability(scenario, failed)
        return _scenario_result(scenario, FAILED if failed else PASSED, steps, started,
                                _first_failure(failed) if failed else None)

    async def _steps(self, scenario: Scenario, run: StepRun) -> tuple[StepResult, ...]:
        results: list[StepResult] = []
        for step in scenario.steps:
            if results and results[-1].status in (FAILED, NOT_RUN):
                result = StepResult(step.index, step.name, step.label, NOT_RUN,
                                    reason="an earlier step failed")
            else:
                result = await run_step(run, step)
            results.append(result)
            self.emit(StepFinished(scenario, result))
        return tuple(results)

    def _track_reachability(self, scenario: Scenario, failed: StepResult | None) -> None:
        """A dead or hanging role would cost every later scenario a full timeout: count the
        scenarios in a row in which a role gave no answer at all, and stop calling it after a few."""
        silence = _no_answer(failed) if failed else None
        silent_roles = step_roles(scenario.steps[failed.index], self.env) if failed and silence else ()
        for role in roles_needed(scenario, self.env):
            if role in silent_roles:
                self.silent[role] = (self.silent.get(role, (0, ""))[0] + 1, silence or "")
            else:
                self.silent.pop(role, None)

    def unreachable_reason(self, scenario: Scenario) -> str | None:
        for role in roles_needed(scenario, self.env):
            count, last = self.silent.get(role, (0, ""))
            if count >= UNREACHABLE_AFTER:
                return (f"not run: the {role} role gave no answer in {count} scenarios in a row "
                        f"(last: {last})")
        return None

    def skip_reason(self, scenario: Scenario) -> str | None:
        dialect = getattr(self.target, "dialect", None)
        if scenario.dialects and dialect not in scenario.dialects:
            return (f"written for the {', '.join(scenario.dialects)} dialect{'s' * (len(scenario.dialects) > 1)} "
                    f"only (dialects: [{', '.join(scenario.dialects)}]); target "
                    f"{getattr(self.target, 'name', '?')!r} speaks {dialect!r}")
        missing = [role for role in roles_needed(scenario, self.env) if not self.target.has(role)]
        if missing:
            return (f"target {getattr(self.target, 'name', '?')!r} has no {', '.join(missing)} "
                    f"role{'s' * (len(missing) > 1)} (the scenario needs {', '.join(roles_needed(scenario, self.env))})")
        for step in scenario.steps:
            if step.op is None:
                continue
            try:
                self.env.get_operation(self.target.dialect, step.op)
            except KeyError:
                return f"dialect {self.target.dialect!r} does not implement {step.op}"
        return None


def _no_answer(step: StepResult) -> str | None:
    """The step's failure when the target never answered (transport error or timeout), else None."""
    if step.error and "did not finish within" in step.error:
        return step.error
    transport = [e for e in step.expectations if e.kind == "operation" and not e.passed]
    answered = any(ex.get("status") is not None for ex in step.exchanges)
    return transport[0].message if transport and not answered else None


def _first_failure(step: StepResult) -> str:
    if step.error:
        return f"step {step.name!r}: {step.error}"
    problems = [e.message for e in step.failed_expectations]
    problems += [f"{c.name}: {c.message}" for c in step.checks if c.blocks]
    return f"step {step.name!r}: {problems[0] if problems else 'failed'}"


def _scenario_result(scenario: Scenario, status: str, steps: tuple[StepResult, ...], started: float,
                     reason: str | None) -> ScenarioResult:
    return ScenarioResult(
        id=scenario.id, title=scenario.title, status=status, file=scenario.source.file,
        line=scenario.source.line, duration_ms=(time.perf_counter() - started) * 1000, steps=steps,
        reason=reason, spec=scenario.spec, tags=scenario.tags, roles=scenario.roles,
        seed_endpoints=scenario.seed_endpoints, conformance_suite=scenario.conformance_suite,
    )
