"""report.html: one self-contained page (inline CSS, no JavaScript) a person reads to see what
failed, why, against which spec clause, with the offending request and response, plus coverage
tables of the seed endpoints and public conformance-suite modules the scenarios exercise."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from conformance.harness.coverage import coverage_rows
from conformance.harness.reports.base import FileReporter

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1f24;padding:0 1rem}
h1{margin-bottom:.2rem}.meta{color:#57606a}
.cards{display:flex;gap:1rem;margin:1rem 0}.card{padding:.6rem 1rem;border-radius:6px;background:#f6f8fa}
.card b{font-size:1.4rem;display:block}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.passed{color:#1a7f37}.failed,.error{color:#cf222e}.skipped,.not_run{color:#9a6700}
.badge{font-weight:600;text-transform:uppercase;font-size:.8rem}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;max-height:28rem}
section.failure{border-left:4px solid #cf222e;padding-left:1rem;margin-bottom:2rem}
details{margin:.3rem 0}summary{cursor:pointer}
code{background:#f6f8fa;padding:0 .2rem}
"""


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status.replace("_", " "))}</span>'


def _anchor(scenario_id: str) -> str:
    return "s-" + scenario_id.replace(".", "-")


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def _exchange(exchange: dict[str, Any]) -> str:
    request = f"{exchange.get('method')} {exchange.get('url')}\n"
    request += "".join(f"{k}: {v}\n" for k, v in (exchange.get("request_headers") or {}).items())
    if exchange.get("request_body") is not None:
        request += "\n" + _json(exchange["request_body"])
    status = exchange.get("status")
    response = f"HTTP {status if status is not None else '(no response)'}"
    response += f"  ({exchange.get('elapsed_ms', 0):.0f} ms)\n" if exchange.get("elapsed_ms") is not None else "\n"
    if exchange.get("error"):
        response += f"error: {exchange['error']}\n"
    response += "".join(f"{k}: {v}\n" for k, v in (exchange.get("response_headers") or {}).items())
    if exchange.get("response_body") is not None:
        response += "\n" + _json(exchange["response_body"])
    return (f"<p><b>Request</b></p><pre>{escape(request)}</pre>"
            f"<p><b>Response</b></p><pre>{escape(response)}</pre>")


def _checks_table(checks: list[dict[str, Any]]) -> str:
    if not checks:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(c['name'])}</code></td><td>{_badge(c['status'])}</td>"
        f"<td>{escape(c['severity'])}</td><td>{escape(c['spec'])}</td><td>{escape(c['message'])}</td></tr>"
        for c in checks)
    return ("<table><tr><th>Check</th><th>Result</th><th>Severity</th><th>Spec</th><th>Message</th></tr>"
            f"{rows}</table>")


def _step(step: dict[str, Any], open_: bool) -> str:
    failed = [e for e in step["expectations"] if not e["passed"]]
    body = ""
    if step["error"]:
        body += f"<p class='error'>Error: {escape(step['error'])}</p>"
    if step["reason"]:
        body += f"<p>{escape(step['reason'])}</p>"
    if failed:
        body += "<ul>" + "".join(f"<li class='failed'>{escape(e['message'])}</li>" for e in failed) + "</ul>"
    body += _checks_table(step["checks"])
    exchanges = step["exchanges"]
    if exchanges:
        last = exchanges[-1]
        body += "<p><b>Offending exchange</b> (the step's last HTTP call)</p>" if step["status"] == "failed" else ""
        body += _exchange(last) if step["status"] == "failed" else ""
        body += (f"<details><summary>All {len(exchanges)} HTTP exchange(s)</summary>"
                 + "".join(_exchange(e) for e in exchanges) + "</details>")
    title = f"Step {step['index'] + 1}: {escape(step['name'])} <code>{escape(step['label'])}</code> {_badge(step['status'])}"
    return f"<details{' open' if open_ else ''}><summary>{title}</summary>{body}</details>"


def _scenario_section(s: dict[str, Any]) -> str:
    failed = s["status"] == "failed"
    head = (f"<h3 id='{_anchor(s['id'])}'>{escape(s['id'])} {_badge(s['status'])}</h3>"
            f"<p>{escape(s['title'])}<br><span class='meta'>{escape(s['file'])}:{s['line']} · spec: "
            f"{escape(', '.join(s['spec']))}</span></p>")
    if s["reason"]:
        head += f"<p class='{escape(s['status'])}'>{escape(s['reason'])}</p>"
    if failed and s["failed_checks"]:
        head += "<p><b>Failed required checks</b></p>" + _checks_table(s["failed_checks"])
    steps = "".join(_step(step, failed and step["status"] == "failed") for step in s["steps"])
    return f"<section class='{'failure' if failed else 'scenario'}'>{head}{steps}</section>"


def _coverage(data: dict[str, Any], key: str, title: str, what: str) -> str:
    rows = coverage_rows(key, data["scenarios"])
    if not rows:
        return f"<h2>{escape(title)}</h2><p class='meta'>No scenario declares <code>{key}</code>.</p>"
    missing = sum(1 for row in rows if not row.covered)
    body = "".join(
        f"<tr><td>{escape(row.group)}</td><td><code>{escape(row.item)}</code></td><td>"
        + (", ".join(f"<a href='#{_anchor(s['id'])}'>{escape(s['id'])}</a> {_badge(s['status'])}"
                     for s in row.scenarios) or "<span class='failed'>not covered</span>")
        + "</td></tr>" for row in rows)
    return (f"<h2>{escape(title)}</h2><p class='meta'>{len(rows) - missing} of {len(rows)} covered.</p>"
            f"<table><tr><th>Group</th><th>{escape(what)}</th><th>Scenarios</th></tr>{body}</table>")


class HtmlReporter(FileReporter):
    filename = "report.html"

    def render(self, data: dict[str, Any]) -> str:
        summary, target = data["summary"], data["target"]
        state = "complete" if data["complete"] else "interrupted" if data["interrupted"] else "in progress"
        cards = "".join(f"<div class='card {k}'><b>{summary[k]}</b>{k.replace('_', ' ')}</div>"
                        for k in ("passed", "failed", "skipped", "not_run"))
        rows = "".join(
            f"<tr><td><a href='#{_anchor(s['id'])}'>{escape(s['id'])}</a></td><td>{escape(s['title'])}</td>"
            f"<td>{_badge(s['status'])}</td><td>{s['duration_ms'] / 1000:.2f} s</td>"
            f"<td>{escape(s['reason'] or '')}</td></tr>" for s in data["scenarios"])
        failures = [s for s in data["scenarios"] if s["status"] == "failed"]
        others = [s for s in data["scenarios"] if s["status"] != "failed"]
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Conformance report: {escape(str(target.get('name', '')))}</title>
<style>{CSS}</style></head><body>
<h1>Conformance report</h1>
<p class="meta">Target <b>{escape(str(target.get('name', '?')))}</b> (dialect {escape(str(target.get('dialect', '?')))})
· seed <code>{data['seed']}</code> · vc-conformance {escape(data['tool']['version'])} · started {escape(data['started_at'])}
· {state}</p>
{f"<h2 class='error'>Configuration error</h2><pre>{escape(data['error'])}</pre>" if data['error'] else ''}
<div class="cards">{cards}</div>
<h2>Scenarios</h2>
<table><tr><th>Scenario</th><th>Title</th><th>Result</th><th>Time</th><th>Reason</th></tr>{rows}</table>
<h2>Failures</h2>
{''.join(_scenario_section(s) for s in failures) or '<p>None.</p>'}
{_coverage(data, 'seed_endpoints', 'Coverage: seed endpoints', 'Endpoint')}
{_coverage(data, 'conformance_suite', 'Coverage: conformance suite modules', 'Test module')}
<h2>All other scenarios</h2>
{''.join(_scenario_section(s) for s in others) or '<p>None.</p>'}
<h2>Target</h2><pre>{escape(_json(target))}</pre>
</body></html>
"""
