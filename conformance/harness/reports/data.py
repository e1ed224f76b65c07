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


class ScenarioViews:
    """Each scenario result serialised once (redacted, JSON-safe) and shared by every format:
    reports are rewritten during the run, and re-serialising every earlier result on each write
    would cost far more than running the scenarios."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self.secrets = list(secrets)
        self._views: dict[int, tuple[ScenarioResult, dict[str, Any]]] = {}

    def view(self, result: ScenarioResult) -> dict[str, Any]:
        hit = self._views.get(id(result))
        if hit is None or hit[0] is not result:
            hit = (result, jsonable(redact(_scenario(result)), self.secrets))
            self._views[id(result)] = hit
        return hit[1]


def report_data(info: RunInfo, scenarios: Sequence[ScenarioResult], *, complete: bool, interrupted: bool,
                duration_ms: float | None, secrets: Sequence[str] = (), error: str | None = None,
                views: ScenarioViews | None = None) -> dict[str, Any]:
    views = views or ScenarioViews(secrets)
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
    }
    data = jsonable(redact(data), secrets)
    data["scenarios"] = [views.view(s) for s in scenarios]
    data["coverage"] = coverage_summary(data["scenarios"])
    return data


def _scenario(result: ScenarioResult) -> dict[str, Any]:
    data = asdict(result)
    data["failed_checks"] = [asdict(c) for c in result.blocking_checks]
    data["warnings"] = [asdict(c) for c in result.warnings]
    return data
