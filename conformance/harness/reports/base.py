"""A report file kept current during the run: rewritten (atomically) after a scenario when the
last write is more than `REFRESH_SECONDS` old, and always at the end - also after Ctrl-C or a
crash - so an interrupted run still leaves its reports. (Rewriting after every scenario would
re-serialise all earlier results each time: quadratic in the number of scenarios.)"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.harness.events import Event, RunFinished, RunStarted, ScenarioFinished
from conformance.harness.reports.data import ScenarioViews, report_data
from conformance.harness.results import RunInfo, ScenarioResult
from conformance.redact import redact_text


REFRESH_SECONDS = 1.0


class FileReporter:
    filename = ""

    def __init__(self, directory: str | Path, secrets: Sequence[str] = (),
                 views: ScenarioViews | None = None) -> None:
        self.path = Path(directory) / self.filename
        self.secrets = list(secrets)
        self.views = views or ScenarioViews(secrets)
        self.info: RunInfo | None = None
        self.results: list[ScenarioResult] = []
        self.error: str | None = None
        self._written_at = float("-inf")

    def handle_event(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.info, self.results = event.info, []
            self.write(complete=False, interrupted=False, duration_ms=None)
        elif isinstance(event, ScenarioFinished):
            self.results.append(event.result)
            if time.monotonic() - self._written_at >= REFRESH_SECONDS:
                self.write(complete=False, interrupted=False, duration_ms=None)
        elif isinstance(event, RunFinished):
            self.results, self.error = list(event.result.scenarios), event.result.error
            self.write(complete=not event.result.interrupted, interrupted=event.result.interrupted,
                       duration_ms=event.result.duration_ms)

    def write(self, *, complete: bool, interrupted: bool, duration_ms: float | None) -> None:
        assert self.info is not None
        data = report_data(self.info, self.results, complete=complete, interrupted=interrupted,
                           duration_ms=duration_ms, secrets=self.secrets, error=self.error,
                           views=self.views)
        atomic_write(self.path, redact_text(self.render(data), self.secrets))
        self._written_at = time.monotonic()

    def render(self, data: dict[str, Any]) -> str:
        raise NotImplementedError


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
