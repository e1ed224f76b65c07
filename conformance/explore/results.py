"""What an exploration found: one outcome per property, a failure with its shrunk example."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"


@dataclass(frozen=True)
class Falsified:
    """The minimal failing example, as hypothesis shrank it, and the evidence of its last run."""
    error: str                    # the exception: what was expected, what happened
    example: str                  # hypothesis' reproduction: the falsifying arguments or the
                                  # state machine's steps
    evidence: dict[str, Any]      # what the property noted (claims, selection, expected, revealed)
    exchanges: list[dict[str, Any]]   # the example's HTTP exchanges, redacted
    replay: str                   # the command that replays it


@dataclass(frozen=True)
class PropertyOutcome:
    name: str
    title: str
    spec: tuple[str, ...]
    status: str                   # passed | failed | skipped | error
    examples: int
    duration_ms: float
    reason: str | None = None     # why skipped / errored, or the failure's first line
    falsified: Falsified | None = None


@dataclass(frozen=True)
class ExploreRun:
    seed: int
    target: dict[str, Any]
    max_examples: int
    properties: tuple[PropertyOutcome, ...]
    duration_ms: float
    tool_version: str
    started_at: str
    error: str | None = None
    selection: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.error is None and all(p.status in (PASSED, SKIPPED) for p in self.properties)

    def count(self, status: str) -> int:
        return sum(1 for p in self.properties if p.status == status)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["summary"] = {status: self.count(status) for status in (PASSED, FAILED, SKIPPED, ERROR)}
        return data
