"""explore.json (everything, exchanges included) and explore.md (outcomes, then each shrunk failure
with the command that replays it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from conformance.explore.report import cell, fenced, write_reports
from conformance.explore.results import FAILED, ExploreRun, PropertyOutcome

ICONS = {"passed": "✅ passed", "failed": "❌ failed", "skipped": "⏭️ skipped", "error": "⚠️ error"}


def write(run: ExploreRun, directory: str | Path, secrets: Sequence[str] = ()) -> list[Path]:
    return write_reports(directory, "explore", run.as_dict(), markdown(run), secrets)


def markdown(run: ExploreRun) -> str:
    verdict = "configuration error" if run.error else "passed" if run.ok else "failed"
    counts = ", ".join(f"{run.count(status)} {label}" for status, label in
                       (("passed", "passed"), ("failed", "failed"), ("skipped", "skipped"), ("error", "errors")))
    lines = [
        "# Property exploration",
        "",
        f"Target **{cell(run.target.get('name', '?'))}** · seed `{run.seed}` · {run.max_examples} examples per "
        f"property · vc-conformance {run.tool_version} · **{verdict}**",
        "",
        f"**{counts}** in {run.duration_ms / 1000:.1f} s",
        "",
        *([f"**Configuration error:** {cell(run.error)}", ""] if run.error else []),
        "| Property | Result | Examples | Time | Details |",
        "|---|---|---:|---:|---|",
    ]
    for outcome in run.properties:
        lines.append(f"| `{outcome.name}` | {ICONS.get(outcome.status, outcome.status)} | {outcome.examples} | "
                     f"{outcome.duration_ms / 1000:.1f} s | {cell(outcome.reason or outcome.title)} |")
    failed = [o for o in run.properties if o.status == FAILED and o.falsified]
    if failed:
        lines += ["", "## Failures"]
        for outcome in failed:
            lines += ["", *_failure(outcome)]
    return "\n".join(lines) + "\n"


def _failure(outcome: PropertyOutcome) -> list[str]:
    falsified = outcome.falsified
    assert falsified is not None
    out = [f"### `{outcome.name}`", "", f"{outcome.title} ({', '.join(outcome.spec)})", "",
           *fenced(falsified.error), "", f"Replay: `{falsified.replay}`", "", "Minimal example:", "",
           *fenced(falsified.example or "(hypothesis reported no example)")]
    if falsified.evidence:
        evidence = json.dumps(falsified.evidence, indent=2, ensure_ascii=False)[:6000]
        out += ["", "Evidence:", "", *fenced(evidence, "json")]
    if falsified.exchanges:
        out += ["", "Exchanges of the minimal example (bodies in explore.json):", ""]
        out += [f"{i}. `{e['method']} {e['url']}` → {e['status'] if e['status'] is not None else e['error']}"
                for i, e in enumerate(falsified.exchanges, 1)]
    return out
