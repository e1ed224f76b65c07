"""report.json: everything - scenarios, steps, expectations, checks, redacted exchanges, timing,
seed, target description and tool version."""

from __future__ import annotations

import json
from typing import Any

from conformance.harness.reports.base import FileReporter


class JsonReporter(FileReporter):
    filename = "report.json"

    def render(self, data: dict[str, Any]) -> str:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
