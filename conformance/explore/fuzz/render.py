"""fuzz.json (everything) and fuzz.md (requests per role, then each failure with its reproduction)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from conformance.explore.fuzz.checks import DESCRIPTIONS
from conformance.explore.fuzz.results import FuzzFailure, FuzzRun
from conformance.explore.report import cell, fenced, write_reports


def write(run: FuzzRun, directory: str | Path, secrets: Sequence[str] = ()) -> list[Path]:
    return write_reports(directory, "fuzz", run.as_dict(), markdown(run), secrets)


def markdown(run: FuzzRun) -> str:
    verdict = "configuration error" if run.error else "passed" if run.ok else "failed"
    lines = [
        "# API fuzzing",
        "",
        f"Target **{cell(run.target.get('name', '?'))}** · seed `{run.seed}` · {run.max_examples} examples "
        f"per operation and mode · vc-conformance {run.tool_version} · **{verdict}**",
        "",
        f"**{run.requests} generated requests, {len(run.failures)} failures** in {run.duration_ms / 1000:.1f} s. "
        f"Replay: `conformance fuzz --seed {run.seed} --max-examples {run.max_examples}`",
        "",
        *([f"**Configuration error:** {cell(run.error)}", ""] if run.error else []),
        "Checks: " + "; ".join(f"`{name}` ({DESCRIPTIONS.get(name, '')})" for name in run.checks),
        "",
        "| Role | Base URL | Operations | Requests | Failures | Time |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for role in run.roles:
        failures = "error: " + cell(role.error) if role.error else str(len(role.failures))
        lines.append(f"| {role.role} | {cell(role.base_url)} | {len(role.operations)} | {role.requests} | "
                     f"{failures} | {role.duration_ms / 1000:.1f} s |")
    notes = [(role.role, note) for role in run.roles for note in role.notes]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {role}: {cell(note)}" for role, note in notes]
    if run.failures:
        lines += ["", "## Failures"]
        for failure in run.failures:
            lines += ["", *_failure(failure)]
    return "\n".join(lines) + "\n"


def _failure(failure: FuzzFailure) -> list[str]:
    request = failure.request
    out = [f"### {failure.role}: `{failure.operation}` — {failure.check} ({failure.mode} data)", "",
           f"**{cell(failure.title)}**", "", *fenced(failure.message), "",
           f"Minimal request: `{request.method} {request.url}`", ""]
    out += fenced(request.curl, "sh")
    if failure.status is not None:
        body = json.dumps(failure.response_body, indent=2, ensure_ascii=False)[:2000]
        out += ["", f"Response: HTTP {failure.status}", "", *fenced(body, "json")]
    return out
