"""Run-time fault knobs: notarization latency and failure rate, and the outage switch.

Changed over HTTP (`PUT /v1/admin/faults`) or in Python (`app.state.ledger.faults.update(...)`);
the background notarization steps read them afresh at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference.common.body import bad
from reference.common.errors import ApiError

MAX_LATENCY = 60.0


@dataclass
class Faults:
    latency: float
    failure_rate: float
    available: bool = True

    def update(self, *, latency: float | None = None, failure_rate: float | None = None,
               available: bool | None = None) -> None:
        """Validate every given knob first, then apply them together (all or nothing)."""
        if latency is not None and not 0.0 <= latency <= MAX_LATENCY:
            raise bad("latency", f"must be between 0 and {MAX_LATENCY:g} seconds")
        if failure_rate is not None and not 0.0 <= failure_rate <= 1.0:
            raise bad("failure_rate", "must be between 0 and 1")
        if latency is not None:
            self.latency = float(latency)
        if failure_rate is not None:
            self.failure_rate = float(failure_rate)
        if available is not None:
            self.available = available

    def require_available(self) -> None:
        if not self.available:
            raise ApiError(503, "ledger_unavailable",
                           "the ledger is switched off (fault injection); retry later",
                           headers={"Retry-After": "1"})

    def as_dict(self) -> dict[str, float | bool]:
        return {"latency": self.latency, "failure_rate": self.failure_rate,
                "available": self.available}
