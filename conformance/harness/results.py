"""Results of a run: frozen dataclasses, from one check up to the whole run.

Statuses: a step or scenario `passed`, `failed`, was `skipped` (with a reason) or - for steps
after a failure - `not_run`. A check `passed`, `failed`, was `skipped` or hit an `error` (which
counts like a failure). Only required checks, expectations and operation errors fail a step;
recommended and informational check failures are kept as warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PASSED, FAILED, SKIPPED, NOT_RUN, ERROR = "passed", "failed", "skipped", "not_run", "error"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    message: str
    severity: str
    spec: str
    description: str = ""

    @property
    def is_failure(self) -> bool:
        return self.status in (FAILED, ERROR)

    @property
    def blocks(self) -> bool:
        """True when this result fails its step: a required check that failed or errored."""
        return self.is_failure and self.severity == "required"


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation (`status`, `schema`, `body.<path>`, `capture.<name>`, `operation`)."""

    kind: str
    passed: bool
    message: str


@dataclass(frozen=True)
class StepResult:
    index: int
    name: str
    label: str                                  # operation name or `http METHOD role /path`
    status: str
    duration_ms: float = 0.0
    expectations: tuple[ExpectationResult, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    exchanges: tuple[Mapping[str, Any], ...] = ()   # redacted request/response summaries
    error: str | None = None                    # operation error / exception, one line
    reason: str | None = None                   # why the step did not run

    @property
    def failed_expectations(self) -> tuple[ExpectationResult, ...]:
        return tuple(e for e in self.expectations if not e.passed)

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.is_failure)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.is_failure and not c.blocks)


@dataclass(frozen=True)
class ScenarioResult:
    id: str
    title: str
    status: str
    file: str
    line: int
    duration_ms: float = 0.0
    steps: tuple[StepResult, ...] = ()
    reason: str | None = None                   # skip reason, or the first failure in one line
    spec: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    seed_endpoints: tuple[str, ...] = ()
    conformance_suite: tuple[str, ...] = ()

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for s in self.steps for c in s.failed_checks)

    @property
    def blocking_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for s in self.steps for c in s.checks if c.blocks)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return tuple(c for s in self.steps for c in s.warnings)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == FAILED), None)


@dataclass(frozen=True)
class RunInfo:
    """What identifies a run: enough to replay it and to say what was tested."""

    seed: int
    target: Mapping[str, Any]
    tool_version: str
    started_at: str
    scenario_count: int
    selection: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    info: RunInfo
    scenarios: tuple[ScenarioResult, ...]
    duration_ms: float
    interrupted: bool = False
    error: str | None = None            # a configuration error that stopped the run before it began

    def count(self, status: str) -> int:
        return sum(1 for s in self.scenarios if s.status == status)

    @property
    def ok(self) -> bool:
        """No required check failed: the CI gate (an interrupted run is never ok)."""
        return not self.interrupted and self.error is None and self.count(FAILED) == 0
