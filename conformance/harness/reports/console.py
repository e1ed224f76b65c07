"""Console output: a progress line per scenario (stderr) and the final summary table (stdout)."""

from __future__ import annotations

import sys
from typing import TextIO

from conformance.harness.events import Event, RunFinished, RunStarted, ScenarioFinished
from conformance.harness.results import FAILED, PASSED, SKIPPED, RunResult

LABELS = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP"}


class ProgressReporter:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def handle_event(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            info = event.info
            self._print(f"conformance: {info.scenario_count} scenario(s) against "
                        f"{info.target.get('name', '?')} (seed {info.seed})")
        elif isinstance(event, ScenarioFinished):
            result, width = event.result, len(str(event.total))
            line = (f"[{event.position:>{width}}/{event.total}] {LABELS.get(result.status, result.status)} "
                    f"{result.id} ({result.duration_ms / 1000:.2f} s)")
            if result.status != PASSED and result.reason:
                line += f"\n      {result.reason}"
            line += "".join(f"\n      warning: {w.name}: {w.message}" for w in result.warnings)
            self._print(line)
        elif isinstance(event, RunFinished) and event.result.interrupted:
            self._print("conformance: interrupted; reports hold the scenarios finished so far")


def summary_table(run: RunResult) -> str:
    rows = [(s.id, LABELS.get(s.status, s.status), f"{s.duration_ms / 1000:.2f}s",
             (s.reason or "")[:100]) for s in run.scenarios]
    header = ("scenario", "result", "time", "detail")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = lambda r: "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3]  # noqa: E731
    out = [line(header), line(tuple("-" * w for w in widths) + ("------",))]
    out += [line(r) for r in rows]
    total = run.info.scenario_count
    out.append("")
    out.append(f"{run.count(PASSED)} passed, {run.count(FAILED)} failed, {run.count(SKIPPED)} skipped"
               f" of {total} in {run.duration_ms / 1000:.2f} s (seed {run.info.seed})"
               + (" - INTERRUPTED" if run.interrupted else ""))
    if run.error:
        out.append(f"configuration error: {run.error}")
    return "\n".join(out)
