"""Events the runner emits; every report format is a handler of these.

Order of one run: RunStarted, then per scenario ScenarioStarted, StepFinished..., ScenarioFinished,
and finally RunFinished - always, also after Ctrl-C or a crash (then `interrupted` is True), so a
reporter can flush what it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from conformance.harness.results import RunInfo, RunResult, ScenarioResult, StepResult
from conformance.harness.scenario import Scenario


@dataclass(frozen=True)
class RunStarted:
    info: RunInfo


@dataclass(frozen=True)
class ScenarioStarted:
    scenario: Scenario
    position: int          # 1-based
    total: int


@dataclass(frozen=True)
class StepFinished:
    scenario: Scenario
    result: StepResult


@dataclass(frozen=True)
class ScenarioFinished:
    scenario: Scenario
    result: ScenarioResult
    position: int
    total: int


@dataclass(frozen=True)
class RunFinished:
    result: RunResult


Event = RunStarted | ScenarioStarted | StepFinished | ScenarioFinished | RunFinished


class Handler(Protocol):
    def handle_event(self, event: Event) -> None: ...
