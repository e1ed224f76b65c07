"""junit.xml: one testcase per scenario; a failure lists the failed checks with their spec clause."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from conformance.harness.reports.base import FileReporter


def failure_text(scenario: dict[str, Any]) -> str:
    """The failed step, its failed expectations and checks (with spec references), one per line."""
    lines = []
    for step in scenario["steps"]:
        if step["status"] != "failed":
            continue
        lines.append(f"step {step['index'] + 1} {step['name']!r} ({step['label']}) failed")
        if step["error"]:
            lines.append(f"  error: {step['error']}")
        lines += [f"  expectation {e['kind']}: {e['message']}" for e in step["expectations"] if not e["passed"]]
        lines += [f"  check {c['name']} [{c['severity']}, {c['spec']}]: {c['message']}"
                  for c in step["checks"] if c["status"] in ("failed", "error")]
    return "\n".join(lines) or (scenario["reason"] or "failed")


class JunitReporter(FileReporter):
    filename = "junit.xml"

    def render(self, data: dict[str, Any]) -> str:
        scenarios = data["scenarios"]
        suite = ET.Element("testsuite", {
            "name": "conformance", "tests": str(len(scenarios)),
            "failures": str(data["summary"]["failed"]), "errors": "0",
            "skipped": str(data["summary"]["skipped"]),
            "time": f"{sum(s['duration_ms'] for s in scenarios) / 1000:.3f}",
            "timestamp": data["started_at"],
        })
        properties = ET.SubElement(suite, "properties")
        for name, value in (("seed", data["seed"]), ("target", data["target"].get("name", "")),
                            ("tool_version", data["tool"]["version"]), ("complete", data["complete"])):
            ET.SubElement(properties, "property", {"name": name, "value": str(value)})
        for scenario in scenarios:
            suite.append(_testcase(scenario))
        if data["error"]:
            case = ET.SubElement(suite, "testcase", {"classname": "conformance", "name": "configuration"})
            ET.SubElement(case, "error", {"message": data["error"].splitlines()[0], "type": "configuration error"}
                          ).text = data["error"]
            suite.set("errors", "1")
            suite.set("tests", str(len(scenarios) + 1))
        root = ET.Element("testsuites")
        root.append(suite)
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(scenario: dict[str, Any]) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": scenario["id"].rsplit(".", 1)[0], "name": scenario["id"],
        "file": scenario["file"], "line": str(scenario["line"]),
        "time": f"{scenario['duration_ms'] / 1000:.3f}",
    })
    if scenario["status"] == "failed":
        checks = scenario["failed_checks"]
        kind = "required check failed" if checks else "expectation failed"
        failure = ET.SubElement(case, "failure", {"message": scenario["reason"] or kind, "type": kind})
        failure.text = failure_text(scenario)
    elif scenario["status"] == "skipped":
        ET.SubElement(case, "skipped", {"message": scenario["reason"] or "skipped"})
    notes = [f"{scenario['title']} ({', '.join(scenario['spec'])})"]
    notes += [f"warning: {w['name']} [{w['severity']}, {w['spec']}]: {w['message']}" for w in scenario["warnings"]]
    ET.SubElement(case, "system-out").text = "\n".join(notes)
    return case
