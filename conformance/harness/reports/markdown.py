"""summary.md: a compact table fit for a CI job summary (e.g. $GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

from typing import Any

from conformance.harness.reports.base import FileReporter

ICONS = {"passed": "✅ passed", "failed": "❌ failed", "skipped": "⏭️ skipped"}


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _coverage_line(coverage: dict[str, Any]) -> str:
    parts = []
    for kind, label in (("seed_endpoints", "seed endpoints"), ("conformance_suite", "conformance-suite modules")):
        covered, missing = len(coverage[kind]["covered"]), len(coverage[kind]["not_covered"])
        parts.append(f"{label} {covered} of {covered + missing}")
    return "Coverage: " + ", ".join(parts) + " (details in report.html)."


class MarkdownReporter(FileReporter):
    filename = "summary.md"

    def render(self, data: dict[str, Any]) -> str:
        summary = data["summary"]
        state = "complete" if data["complete"] else "interrupted" if data["interrupted"] else "in progress"
        lines = [
            "# Conformance run",
            "",
            f"Target **{cell(data['target'].get('name', '?'))}** · seed `{data['seed']}` · "
            f"vc-conformance {data['tool']['version']} · {state}",
            "",
            f"**{summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped**"
            f" of {summary['total']}" + (f" ({summary['not_run']} not run)" if summary["not_run"] else ""),
            "",
            *([f"**Configuration error:** {cell(data['error'])}", ""] if data["error"] else []),
            "| Scenario | Result | Time | Details |",
            "|---|---|---:|---|",
        ]
        for s in data["scenarios"]:
            detail = s["reason"] or ("; ".join(f"warning: {w['name']}" for w in s["warnings"]) or "")
            lines.append(f"| `{cell(s['id'])}` | {ICONS.get(s['status'], s['status'])} | "
                         f"{s['duration_ms'] / 1000:.2f} s | {cell(detail)} |")
        lines += ["", _coverage_line(data["coverage"])]
        failed = [s for s in data["scenarios"] if s["status"] == "failed"]
        if failed:
            lines += ["", "## Failures", ""]
            for s in failed:
                lines.append(f"- **`{cell(s['id'])}`** ({cell(', '.join(s['spec']))}): {cell(s['reason'])}")
                lines += [f"  - `{c['name']}` ({cell(c['spec'])}): {cell(c['message'])}" for c in s["failed_checks"]]
        return "\n".join(lines) + "\n"
