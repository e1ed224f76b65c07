"""Report formats: each a thin handler of runner events, writing one file in the report directory.

    handlers = file_reporters("reports/", secrets=target_secrets(target))

A new format is one FileReporter subclass (a `render(data) -> str` over `reports.data`) added to
FORMATS.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conformance.harness.reports.base import FileReporter
from conformance.harness.reports.data import ScenarioViews
from conformance.harness.reports.console import ProgressReporter, summary_table
from conformance.harness.reports.html import HtmlReporter
from conformance.harness.reports.json_report import JsonReporter
from conformance.harness.reports.junit import JunitReporter
from conformance.harness.reports.markdown import MarkdownReporter

FORMATS: dict[str, type[FileReporter]] = {
    "junit": JunitReporter,
    "json": JsonReporter,
    "markdown": MarkdownReporter,
    "html": HtmlReporter,
}


def file_reporters(directory: str | Path, secrets: Sequence[str] = ()) -> list[FileReporter]:
    views = ScenarioViews(secrets)   # each result serialised once for all formats
    return [cls(directory, secrets, views) for cls in FORMATS.values()]


__all__ = ["FORMATS", "FileReporter", "ProgressReporter", "file_reporters", "summary_table"]
