"""What a fuzz run found: typed, serialisable, already redacted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SentRequest:
    """A request as the report shows it: injected credentials and secret-named members redacted;
    `curl` names the credentials as shell variables ($ISSUER_API_KEY, $HOLDER_TOKEN)."""
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    curl: str


@dataclass(frozen=True)
class FuzzFailure:
    role: str
    operation: str
    mode: str                     # "positive" (schema-valid data) or "negative" (schema-violating)
    check: str                    # a name of checks.CHECKS, or "no_response"
    title: str
    message: str
    request: SentRequest          # the minimal reproducing request (after shrinking)
    status: int | None
    response_body: Any


@dataclass(frozen=True)
class OperationResult:
    operation: str
    requests: int
    status: str                   # "passed" | "failed"
    duration_ms: float = 0.0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleResult:
    role: str
    base_url: str
    requests: int
    duration_ms: float
    operations: tuple[OperationResult, ...] = ()
    failures: tuple[FuzzFailure, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None      # the role could not be fuzzed at all (no document, ...)

    @property
    def ok(self) -> bool:
        return not self.failures and self.error is None


@dataclass(frozen=True)
class FuzzRun:
    seed: int
    target: dict[str, Any]
    max_examples: int
    checks: tuple[str, ...]
    roles: tuple[RoleResult, ...]
    duration_ms: float
    tool_version: str
    started_at: str
    error: str | None = None      # a configuration error that stopped the run
    complete: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None and all(role.ok for role in self.roles)

    @property
    def requests(self) -> int:
        return sum(role.requests for role in self.roles)

    @property
    def failures(self) -> list[FuzzFailure]:
        return [failure for role in self.roles for failure in role.failures]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["summary"] = {"requests": self.requests, "failures": len(self.failures),
                           "requests_per_role": {r.role: r.requests for r in self.roles}}
        return data


@dataclass
class Counter:
    """Requests sent for one operation (mutable while it runs)."""
    requests: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
