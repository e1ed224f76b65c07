"""The one serialisable view of a run that every report format renders.

Built from results already redacted at the edges; redacted again here (secret-named members,
bearer tokens, the run's known secret strings) so that no format can leak what another hides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from conformance.harness.coverage import coverage_summary
from conformance.harness.results import NOT_RUN, RunInfo, ScenarioResult
from conformance.harness.steps import jsonable
from conformance.redact import redact

STATUSES = ("passed", "failed", "skipped")


def report_data(info: RunInfo, scenarios: Sequence[ScenarioResult], *, complete: bool, interrupted: bool,
                duration_ms: float | None, secrets: Sequence[str] = (), error: str | None = None) -> dict[str, Any]:
    counts = {status: sum(1 for s in scenarios if s.status == status) for status in STATUSES}
    data = {
        "tool": {"name": "vc-conformance", "version": info.tool_version},
        "seed": info.seed,
        "started_at": info.started_at,
        "target": info.target,
        "selection": info.selection,
        "complete": complete,
        "interrupted": interrupted,
        "error": error,
        "duration_ms": duration_ms,
        "summary": {"total": info.scenario_count, **counts, NOT_RUN: info.scenario_count - len(scenarios)},
        "scenarios": [_scenario(s) for s in scenarios],
    }
    data["coverage"] = coverage_summary(data["scenarios"])
    return jsonable(redact(data), secrets)


def _scenario(result: ScenarioResult) -> dict[str, Any]:
    data = asdict(result)
    data["failed_checks"] = [asdict(c) for c in result.blocking_checks]
    data["warnings"] = [asdict(c) for c in result.warnings]
    return data
