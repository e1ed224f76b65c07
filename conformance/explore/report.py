"""Writing the explorer's reports: JSON for tools, Markdown for people, both scrubbed of the
target's secrets and written atomically (the harness reports' writer)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.harness.reports.base import atomic_write
from conformance.harness.steps import jsonable
from conformance.redact import redact, redact_text


def write_reports(directory: str | Path, stem: str, data: dict[str, Any], markdown: str,
                  secrets: Sequence[str] = ()) -> list[Path]:
    """{stem}.json and {stem}.md in `directory`; returns their paths."""
    directory = Path(directory)
    safe = jsonable(redact(data), list(secrets))
    paths = [directory / f"{stem}.json", directory / f"{stem}.md"]
    atomic_write(paths[0], redact_text(json.dumps(safe, indent=2, ensure_ascii=False) + "\n", list(secrets)))
    atomic_write(paths[1], redact_text(markdown, list(secrets)))
    return paths


def cell(text: Any) -> str:
    """A value made safe for one Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def fenced(text: str, language: str = "") -> list[str]:
    fence = "````" if "```" in text else "```"
    return [f"{fence}{language}", text, fence]
